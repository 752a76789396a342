"""The catalogue: how fast a sync is, and its list query against Django admin's changelist.

Run with `make bench` (or `.venv/bin/python bench/bench_catalogue.py`). It uses its own SQLite
file in a temporary directory (removed at the end) and measures, in this process:

(a) a full sync of 100,000 models into an empty catalogue;
(b) a re-sync with 1% of the models changed (seconds, and rows written), and one with none
    (wall-clock and this process's CPU seconds: the CPU figure is steadier on a shared machine);
(c) one list page (search + a filter + facets, 50 per page) from `catalogue.queries` against
    Django admin's changelist of the same rows (search_fields, list_filter, facets always,
    50 per page) requested through Django's test Client as a superuser, at 10,000 and 100,000
    models. Ratio = catalogue / admin (lower is better; the goal is <= 1.0).
(d) the dashboard's real list page, GET /u/default/models/?q=…&kind=… (50 per page) through the
    test Client as a signed-in superuser, with the catalogue filled and fresh, against the
    admin's changelist with the same search and filter, at 10,000 and 100,000 models; every
    upstream call is counted (the goal is 0: the default upstream is an address where nothing
    listens). Whatever /u/default/models/ does is what is measured; a page that does not
    answer 200 from the catalogue is reported as such, without a ratio.
(e) the same list page with usage: 10,000 models, 120 days of usage rows (per model and day, per
    key and day) read for an upstream with an admin key, "Last used" filled; the page sorted by
    Last used, and with the idle filter (its counts in the page's grouped query), against the
    admin's changelist with the same search and kind filter; upstream calls counted (goal 0).

Prints the figures; always exits 0 (it informs, it does not gate).
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = Path(tempfile.mkdtemp(prefix="catalogue-bench-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{WORKDIR / 'bench.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_DEBUG": "0",
        "CACHE_URL": "locmemcache://bench",
        # (d): an upstream where nothing listens; a page that calls it is counted, not waited on.
        "OPENAI_API_KEY": "sk-bench-not-a-key",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "UPSTREAM_MAX_RETRIES": "0",
        "UPSTREAM_PAGE_BUDGET": "1",
        "SANDBOX_ENABLED": "0",
    }
)
os.environ.pop("DJANGO_PRODUCTION", None)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
import httpx  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard.catalogue import queries  # noqa: E402
from dashboard.catalogue.models import CatalogueModel  # noqa: E402
from dashboard.catalogue.sync import sync_models  # noqa: E402
from dashboard.listing import ListQuery  # noqa: E402
from dashboard.usage.models import KeyDay, ModelDay, UsageState  # noqa: E402
from dashboard.usage.reading import fill_last_used  # noqa: E402

UPSTREAM = "default"
SIZES = (10_000, 100_000)
REPEATS = 7
OWNERS = [f"org-team-{n:02d}" for n in range(24)]
BASES = ["gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "gpt-4o-2024-08-06", "o4-mini"]
# The page compared: search a word, filter one owner, facets on, 50 per page.
QUERY = ListQuery(q="tone", owner="org-team-03", per_page=50)
ADMIN_URL = "/admin/catalogue/cataloguemodel/?q=tone&owned_by__exact=org-team-03"
# (d) the dashboard's own page: search a word, one kind, 50 per page (facets as the page has them).
PAGE_QUERY = ListQuery(q="tone", kind="fine-tuned", per_page=50)
PAGE_ADMIN_URL = "/admin/catalogue/cataloguemodel/?q=tone&kind__exact=fine-tuned"
UPSTREAM_CALLS: list[str] = []
_send = httpx.HTTPTransport.handle_request


def _counted(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
    UPSTREAM_CALLS.append(f"{request.method} {request.url}")
    return _send(self, request)


httpx.HTTPTransport.handle_request = _counted  # type: ignore[method-assign]


def models(n: int, *, changed_every: int = 0) -> list[dict[str, Any]]:
    """`n` realistic items: mostly fine-tunes of a few bases, some base models, odd fields."""
    items = []
    for i in range(n):
        owner = OWNERS[i % len(OWNERS)]
        if i % 10 == 0:
            model_id, owner = f"base-model-{i:06d}", "system"
        else:
            suffix = ("tone-polish", "support-bot", "summarise", "router")[i // 7 % 4]
            model_id = f"ft:{BASES[i % len(BASES)]}:{owner}:{suffix}-{i % 97}:J{i:07d}"
        item: dict[str, Any] = {
            "id": model_id,
            "object": "model",
            "created": 1_700_000_000 + i * 37,
            "owned_by": owner,
            "shutdown_date": None if i % 6 else f"2027-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "region": "eu" if i % 2 else "us",
        }
        if changed_every and i % changed_every == 0:
            item["shutdown_date"] = "2026-12-31"
        items.append(item)
    return items


def timed[T](call: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def median_seconds(call: Callable[[], object]) -> float:
    call()  # warm-up
    return statistics.median(timed(call)[0] for _ in range(REPEATS))


def sqlite_changes() -> int:
    """Rows inserted, updated or deleted on this connection so far (SQLite's own counter)."""
    connection.ensure_connection()
    return int(connection.connection.total_changes)


def sync_figures() -> None:
    print(f"(a) full sync of {SIZES[-1]:,} models into an empty catalogue")
    items = models(SIZES[-1])
    cpu = time.process_time()
    seconds, run = timed(lambda: sync_models(UPSTREAM, items))
    cpu = time.process_time() - cpu
    print(f"    {seconds:6.2f} s ({cpu:.2f} s CPU)   {run.appeared:,} rows inserted")

    print("(b) re-sync with 1% changed, then the same list again (nothing changed)")
    items = models(SIZES[-1], changed_every=100)
    for label in ("1% changed", "unchanged"):
        before, cpu = sqlite_changes(), time.process_time()
        seconds, run = timed(lambda: sync_models(UPSTREAM, items))
        written, cpu = sqlite_changes() - before, time.process_time() - cpu
        print(
            f"    {label:<11} {seconds:6.2f} s ({cpu:.2f} s CPU)   "
            f"catalogue rows written {run.rows_written:,} "
            f"(all statements: {written:,} rows incl. {run.changed:,} change records)"
        )


def list_figures(browser: Client) -> None:
    print("(c) one list page: search + owner filter + facets, 50 per page (median of 7)")
    for size in SIZES:
        CatalogueModel.objects.all().delete()
        sync_models(UPSTREAM, models(size))
        now = time.time()
        result = queries.list_page(UPSTREAM, QUERY, now)
        response = browser.get(ADMIN_URL)
        assert response.status_code == 200, response.status_code
        same_rows = CatalogueModel.objects.filter(
            Q(model_id__icontains=QUERY.q) | Q(owned_by__icontains=QUERY.q), owned_by=QUERY.owner
        )
        assert result.page.total == same_rows.count(), "the two pages must show the same rows"

        ours = median_seconds(lambda: queries.list_page(UPSTREAM, QUERY, time.time()))
        admin = median_seconds(lambda: browser.get(ADMIN_URL))
        print(
            f"    {size:>7,} models: catalogue {ours * 1000:7.1f} ms   admin {admin * 1000:7.1f} ms"
            f"   ratio {ours / admin:4.2f}x (goal <= 1.0)   [{result.page.total:,} matches]"
        )


def page_figures(browser: Client) -> None:
    print("(d) the dashboard's list page /u/default/models/?q=tone&kind=fine-tuned, 50 per page")
    page_url = reverse("model-list", args=[UPSTREAM]) + PAGE_QUERY.url()
    for size in SIZES:
        CatalogueModel.objects.all().delete()
        sync_models(UPSTREAM, models(size))  # the copy is fresh: just synced
        UPSTREAM_CALLS.clear()
        response = browser.get(page_url)
        if response.status_code != 200 or UPSTREAM_CALLS:
            print(
                f"    {size:>7,} models: the page answered {response.status_code} after "
                f"{len(UPSTREAM_CALLS)} upstream call(s): it does not read the catalogue (yet); "
                "no ratio"
            )
            continue
        assert browser.get(PAGE_ADMIN_URL).status_code == 200
        ours = median_seconds(lambda: browser.get(page_url))
        admin = median_seconds(lambda: browser.get(PAGE_ADMIN_URL))
        print(
            f"    {size:>7,} models: page {ours * 1000:7.1f} ms   admin {admin * 1000:7.1f} ms"
            f"   ratio {ours / admin:4.2f}x (goal <= 1.0)   upstream calls {len(UPSTREAM_CALLS)}"
        )


def usage_rows(size: int, days: int = 120) -> int:
    """Usage for 4 in 10 models: each on a third of the days up to its own last day."""
    today = datetime.datetime.now(datetime.UTC).date()
    ids = list(CatalogueModel.objects.order_by("pk").values_list("model_id", flat=True))[:size]
    model_days, key_days = [], []
    for i, model_id in enumerate(ids):
        if i % 5 > 1:
            continue
        last = i % days  # days ago it was last used
        for ago in range(last, days, 3):
            day = today - datetime.timedelta(days=ago)
            model_days.append(ModelDay(upstream=UPSTREAM, model_id=model_id, day=day, requests=7))
            key_days.append(
                KeyDay(
                    upstream=UPSTREAM, model_id=model_id, api_key_id="key_b", day=day, requests=7
                )
            )
    ModelDay.objects.bulk_create(model_days, batch_size=2000)
    KeyDay.objects.bulk_create(key_days, batch_size=2000)
    fill_last_used(UPSTREAM)
    UsageState.objects.update_or_create(
        upstream=UPSTREAM,
        defaults={
            "first_day": today - datetime.timedelta(days=days - 1),
            "complete_through": today - datetime.timedelta(days=1),
            "last_attempt_at": timezone.now(),
            "last_success_at": timezone.now(),
        },
    )
    return len(model_days) + len(key_days)


def usage_figures(browser: Client) -> None:
    size = SIZES[0]
    print(f"(e) the list page with usage: {size:,} models, 120 days of usage, an admin key")
    settings.OPENAI_ADMIN_KEY = "sk-bench-admin-not-a-key"
    CatalogueModel.objects.all().delete()
    sync_models(UPSTREAM, models(size))
    rows = usage_rows(size)
    list_path = reverse("model-list", args=[UPSTREAM])
    for label, query in (
        ("sorted by Last used", ListQuery(q="tone", kind="fine-tuned", sort="-last_used")),
        ("idle > 90 days", ListQuery(q="tone", kind="fine-tuned", idle="90")),
    ):
        url = list_path + query.url()
        UPSTREAM_CALLS.clear()
        response = browser.get(url)
        assert response.status_code == 200, response.status_code
        assert (
            b"Last used" in response.content and b"Idle for more than 90 days" in response.content
        )
        ours = median_seconds(lambda url=url: browser.get(url))  # type: ignore[misc]
        admin = median_seconds(lambda: browser.get(PAGE_ADMIN_URL))
        print(
            f"    {label:<19} page {ours * 1000:7.1f} ms   admin {admin * 1000:7.1f} ms"
            f"   ratio {ours / admin:4.2f}x (goal <= 1.0)   upstream calls {len(UPSTREAM_CALLS)}"
            f"   [{rows:,} usage rows]"
        )
    settings.OPENAI_ADMIN_KEY = None


def main() -> None:
    logging.disable(logging.WARNING)  # sign-in events, missing collected static files
    warnings.filterwarnings("ignore", message="No directory at")
    try:
        call_command("migrate", verbosity=0)
        settings.STORAGES = {  # admin pages without collected static files
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        user = User.objects.create_superuser("bench", password="bench-password")
        browser = Client()
        browser.force_login(user)
        print(f"Catalogue benchmark (SQLite {connection.Database.sqlite_version}, this process)")
        if "--usage-only" not in sys.argv:  # (e) alone: `bench_catalogue.py --usage-only`
            sync_figures()
            list_figures(browser)
            page_figures(browser)
        usage_figures(browser)
    finally:
        connection.close()
        shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
