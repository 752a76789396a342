"""The upstream list cached per upstream (the catalogue replaces it; kept for the pages that
still read it). Keys name the upstream: alias, base URL, organisation and project."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

import modelsclient

from .budget import MAX_LIST_PAGES, MIN_ATTEMPT_SECONDS, Budget, call_within_budget
from .config import Upstream
from .errors import UpstreamProblem, describe_error, scrub

_STALE_KEEP_SECONDS = 7 * 86400  # how long a last-known list is kept to show during outages


def _key(upstream: Upstream) -> str:
    return f"{upstream.cache_key}:models-list"


@dataclass
class ModelList:
    """The upstream list as last fetched, and how fresh it is."""

    models: list[dict[str, Any]]
    fetched_at: float
    request_id: str | None = None
    error: UpstreamProblem | None = None  # set when a refresh failed and this copy is stale
    from_cache: bool = False

    @property
    def age_seconds(self) -> int:
        return max(0, int(time.time() - self.fetched_at))


def fetch_models(
    upstream: Upstream, *, refresh: bool = False, budget: Budget | None = None
) -> ModelList:
    """The model list, from the cache while fresh; a failed refresh falls back to the last copy.

    Raises `modelsclient.APIError` only when upstream fails and no copy was ever cached.
    The upstream call fits in `budget` (a page's budget by default).
    """
    cached: dict[str, Any] | None = cache.get(_key(upstream))
    if cached and not refresh and time.time() - cached["fetched_at"] < upstream.refresh_seconds:
        return ModelList(
            cached["models"], cached["fetched_at"], cached["request_id"], from_cache=True
        )
    budget = budget if budget is not None else Budget.for_upstream(upstream)
    try:
        models, request_id = call_within_budget(
            lambda c: _read_list(c, budget), upstream=upstream, budget=budget
        )
    except modelsclient.APIError as exc:
        if not cached:
            raise
        return ModelList(
            cached["models"],
            cached["fetched_at"],
            cached["request_id"],
            error=describe_error(exc),
            from_cache=True,
        )
    entry: dict[str, Any] = {"models": models, "fetched_at": time.time(), "request_id": request_id}
    cache.set(_key(upstream), entry, _STALE_KEEP_SECONDS)
    return ModelList(models, entry["fetched_at"], request_id)


def _read_list(
    client: modelsclient.Client, budget: Budget
) -> tuple[list[dict[str, Any]], str | None]:
    """Every page of the list (most servers send one), each page within the budget."""
    raw = client.models.with_raw_response.list()
    page = raw.parse()
    models = [model.to_dict() for model in page.data]
    for _ in range(MAX_LIST_PAGES):
        if not page.has_next_page():
            break
        if budget.left() < MIN_ATTEMPT_SECONDS:
            raise modelsclient.APITimeoutError(raw.http_response.request)
        page = page.get_next_page()
        models += [model.to_dict() for model in page.data]
    return models, scrub(raw.request_id) if raw.request_id else None


def forget_model(upstream: Upstream, model_id: str) -> None:
    """Drop one model from the cached list after it was deleted (no refetch needed)."""
    key = _key(upstream)
    cached = cache.get(key)
    if cached:
        cached["models"] = [m for m in cached["models"] if m.get("id") != model_id]
        cache.set(key, cached, _STALE_KEEP_SECONDS)


def cached_model(upstream: Upstream, model_id: str) -> dict[str, Any] | None:
    """The model as the cached list knows it, without an upstream call."""
    cached = cache.get(_key(upstream))
    if not cached:
        return None
    return next((m for m in cached["models"] if m.get("id") == model_id), None)
