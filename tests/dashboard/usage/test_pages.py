"""Usage on the pages: the Last used column, its sort, the idle filter and its counts, the
detail page's chart and keys, and the plain sentence without an admin key."""

from __future__ import annotations

import datetime
import random
from typing import Any

import httpx
import pytest
import respx
from django.db import connection
from django.db.models import Max, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import listing
from dashboard.catalogue import queries
from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.sync import refresh, sync_models
from dashboard.catalogue.tasks import fetch_for
from dashboard.listing import ListQuery
from dashboard.sandbox.usage import API_KEY_DETAILS
from dashboard.upstreams import get_upstream
from dashboard.usage.models import KeyDay, ModelDay, UsageState
from dashboard.usage.reading import read_usage
from tests.markup import find, find_all

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def usage_read(sandbox: int) -> datetime.date:
    """The sandbox's catalogue and 120 days of its usage read; returns today (UTC)."""
    refresh("default", fetch_for("default"))
    state = read_usage(get_upstream())
    assert not isinstance(state, str) and not state.last_error, state
    return timezone.now().astimezone(datetime.UTC).date()


def _ids(response: Any) -> list[str]:
    return [e.text for e in find_all(response.content, "a") if e.has_class("model-id")]


def _last_used_texts(response: Any) -> list[str]:
    return [e.text for e in find_all(response.content, "td") if e.has_class("col-last_used")]


def _expected(model: CatalogueModel, today: datetime.date) -> str:
    if model.last_used is None:
        return "not in the last 120 days"
    return "today" if model.last_used == today else f"{model.last_used:%Y-%m-%d}"


def test_the_column_shows_today_a_date_or_not_in_the_last_n_days(
    owner: Client, usage_read: datetime.date
) -> None:
    response = owner.get("/u/default/models/", {"per_page": 200, "sort": "id"})

    shown = dict(zip(_ids(response), _last_used_texts(response), strict=True))
    models = CatalogueModel.objects.filter(model_id__in=shown)
    assert shown == {m.model_id: _expected(m, usage_read) for m in models}
    assert {"today", "not in the last 120 days"} <= set(shown.values())
    assert any(text[:2] == "20" for text in shown.values())  # some dates too


def test_sorting_by_last_used_puts_the_most_recent_first_and_the_unused_last(
    owner: Client, usage_read: datetime.date
) -> None:
    response = owner.get("/u/default/models/", {"per_page": 200, "sort": "-last_used"})

    models = {m.model_id: m.last_used for m in CatalogueModel.objects.all()}
    ids = _ids(response)
    keys = [(models[i] or datetime.date.min, i) for i in ids]
    assert keys == sorted(keys, reverse=True)
    assert models[ids[0]] == usage_read and models[ids[-1]] is None


def test_the_idle_filter_counts_and_lists_what_has_no_requests_since(
    owner: Client, usage_read: datetime.date
) -> None:
    response = owner.get("/u/default/models/", {"idle": "90"})

    select = find(response.content, "select", id="facet-idle")
    idle_facet = _inside(response.content.decode(), 'id="facet-idle"', "</select>")
    options = [e.text for e in find_all(idle_facet, "option")]
    now = timezone.now()
    expected = {}
    for days in (30, 90):  # 180 > the 120 days read: not offered
        since = usage_read - days * DAY
        older = int(now.timestamp()) - days * 86400
        expected[days] = sum(
            1
            for m in CatalogueModel.objects.filter(gone_at=None)
            if (m.last_used is None or m.last_used < since) and (m.created or 0) < older
        )
    assert options[1:] == [
        f"Idle for more than 30 days ({expected[30]})",
        f"Idle for more than 90 days ({expected[90]})",
    ]
    assert select.attrs["name"] == "idle"
    summary = find(response.content, "p", id="summary-count").text
    assert summary.endswith(f"of {expected[90]}")


def _inside(html: str, marker: str, closing: str) -> str:
    """The markup from the element holding `marker` to its `closing` tag (a slice to parse)."""
    start = html.rindex("<", 0, html.index(marker))
    return html[start : html.index(closing, start) + len(closing)]


def test_the_list_page_stays_at_three_queries_with_usage_and_the_idle_filter(
    usage_read: datetime.date,
) -> None:
    query = ListQuery(idle="30", sort="-last_used", q="ft")

    with CaptureQueriesContext(connection) as captured:
        result = queries.list_page("default", query, timezone.now().timestamp(), usage_days=120)

    assert len(captured) <= 3
    assert result.page.total == sum(
        option[2] for facet in result.facets if facet.name == "idle" for option in facet.options[:1]
    )


@pytest.mark.parametrize("sort", ["last_used", "-last_used"])
@pytest.mark.parametrize("idle", ["", "30", "90", "180"])
def test_the_database_idle_filter_and_sort_equal_the_listing_functions(
    idle: str, sort: str
) -> None:
    now = 1_780_000_000.5
    today = datetime.datetime.fromtimestamp(now, tz=datetime.UTC).date()
    rng = random.Random(11)
    items = [
        {
            "id": f"m-{n:03d}",
            "created": int(now) - rng.randrange(0, 400) * 86400,
            "owned_by": "acme",
        }
        for n in range(90)
    ]
    sync_models("default", items)
    for n, model in enumerate(CatalogueModel.objects.order_by("model_id")):
        ago = [None, 0, 1, 29, 30, 31, 89, 90, 91, 179, 180, 181, 200][n % 13]
        model.last_used = None if ago is None else today - ago * DAY
        model.save(update_fields=["last_used"])
    rows = [queries.as_row(m) for m in CatalogueModel.objects.all()]
    query = ListQuery(idle=idle, sort=sort, per_page=25, page=2)

    result = queries.list_page("default", query, now, usage_days=200)

    expected = listing.apply(rows, query, now)
    assert [r.id for r in result.page.rows] == [r.id for r in expected.rows]
    assert result.page.total == expected.total
    assert result.facets == listing.facets(rows, query, now, usage_days=200)


def test_without_an_admin_key_the_column_says_so_once_and_offers_no_idle_filter(
    owner: Client, real_api: respx.MockRouter
) -> None:
    usage = real_api.get("/organization/usage/completions")
    models = [
        {"id": f"ft:gpt-4o:acme:x:{n}", "object": "model", "owned_by": "acme"} for n in range(5)
    ]
    real_api.get("/models").mock(
        return_value=httpx.Response(200, json={"object": "list", "data": models})
    )

    response = owner.get("/u/default/models/", {"idle": "30"})

    cells = [e for e in find_all(response.content, "td") if e.has_class("col-last_used")]
    assert [(c.text, c.attrs.get("rowspan")) for c in cells] == [("usage needs an admin key", "5")]
    assert find(response.content, "th", **{"class": "col-last_used"}).text == "Last used"
    assert not [
        e for e in find_all(response.content, "select") if e.attrs.get("id") == "facet-idle"
    ]
    assert len(_ids(response)) == 5  # the idle parameter is ignored, not guessed
    assert usage.call_count == 0
    assert not UsageState.objects.exists()


def test_without_an_admin_key_the_detail_page_says_so_plainly(
    owner: Client, real_api: respx.MockRouter
) -> None:
    model = {"id": "ft:gpt-4o:acme:x:1", "object": "model", "owned_by": "acme", "created": 1}
    real_api.get("/models/ft:gpt-4o:acme:x:1").mock(return_value=httpx.Response(200, json=model))

    response = owner.get("/u/default/models/ft:gpt-4o:acme:x:1/")

    section = find(response.content, "section", id="usage")
    assert section.text.startswith("Usage Usage needs an admin key")
    assert not find_all(response.content, "svg", role="img")


def test_a_failed_reading_is_shown_on_the_list(owner: Client, sandbox: int, settings: Any) -> None:
    refresh("default", fetch_for("default"))
    settings.SANDBOX_FAILURE = "error-500"
    read_usage(get_upstream())
    settings.SANDBOX_FAILURE = ""

    response = owner.get("/u/default/models/")

    alert = find(response.content, "div", id="usage-failure")
    assert alert.text.startswith("Reading usage failed:")
    cells = [e for e in find_all(response.content, "td") if e.has_class("col-last_used")]
    assert [c.text for c in cells] == ["usage not read yet: the reading failed"]


def test_the_detail_page_draws_90_days_of_requests_and_lists_the_keys(
    owner: Client, usage_read: datetime.date
) -> None:
    model_id = (
        ModelDay.objects.filter(day=usage_read, model_id__startswith="ft:")
        .values_list("model_id", flat=True)
        .first()
    )
    assert model_id

    response = owner.get(f"/u/default/models/{model_id}/")

    first = usage_read - 89 * DAY
    days = dict(
        ModelDay.objects.filter(model_id=model_id, day__gte=first).values_list("day", "requests")
    )
    bars = find_all(response.content, "rect")
    assert {b.attrs["data-day"]: int(b.attrs["data-requests"]) for b in bars} == {
        f"{d:%Y-%m-%d}": n for d, n in days.items() if n
    }
    total = sum(days.values())
    summary = f"{total:,} requests in 90 days; last used today"
    assert find(response.content, "p", id="usage-summary").text == summary
    assert find(response.content, "title", id="usage-chart-title").text == (
        f"Requests per UTC day, {first:%Y-%m-%d} to {usage_read:%Y-%m-%d}"
    )
    assert find(response.content, "desc", id="usage-chart-desc").text.startswith(summary)
    keys = (
        KeyDay.objects.filter(model_id=model_id)
        .values("api_key_id")
        .annotate(n=Sum("requests"), last=Max("day"))
        .order_by("-n", "api_key_id")
    )
    table = _inside(response.content.decode(), 'class="table usage-keys"', "</table>")
    cells = [td.text for td in find_all(table, "td")]
    shown = [cells[n : n + 5] for n in range(0, len(cells), 5)]
    named = {  # the sandbox's Admin API: key id -> name, owner (type)
        key_id: [name, f"{owner} ({kind.replace('_', ' ')})"]
        for key_id, (name, kind, _, owner, _) in API_KEY_DETAILS.items()
    }
    assert shown == [
        [k["api_key_id"], *named[k["api_key_id"]], f"{k['n']:,}", f"{k['last']:%Y-%m-%d}"]
        for k in keys
    ]
