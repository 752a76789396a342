"""Exports: the model list (every matching row, from the catalogue) and the audit log, as CSV
and JSON: content, formula escaping, streaming, file names, who may download, list context."""

from __future__ import annotations

import csv
import datetime
import io
import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from django.contrib.auth.models import Group, User
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import exports
from dashboard.catalogue import queries
from dashboard.catalogue.sync import sync_models
from dashboard.listing import ListQuery
from dashboard.models import AuditEntry, UpstreamAccess
from dashboard.roles import OWNER, ensure_roles
from tests.markup import find_all

from .conftest import REAL_API_BASE, REAL_API_KEY

UTC = datetime.UTC
DAY = 86400
T0 = datetime.datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC)
T1 = datetime.datetime(2026, 11, 21, 8, 0, 0, tzinfo=UTC)
BASES = ("gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14")
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]
MODEL_COLUMNS = [
    *("id", "kind", "owned_by", "created", "created_unix", "base_model", "shutdown_date"),
    *("first_seen_utc", "last_seen_utc"),
]
AUDIT_COLUMNS = [
    *("time_utc", "user", "action", "model_id", "outcome", "upstream_status"),
    *("upstream_request_id", "message", "upstream", "finished_utc", "confirmed_by"),
    *("reconciled_utc", "job_id", "deletion_request_id"),
]


def _items(n: int) -> list[dict[str, Any]]:
    """n models: a third base models, the rest fine-tunes of two bases by two owners, with two
    suffixes; one a day older each, half a day off any age cut-off."""
    now = int(time.time())
    items: list[dict[str, Any]] = []
    for i in range(n):
        created = now - i * DAY - DAY // 2
        if i % 3 == 0:
            items.append({"id": f"base-{i:05d}", "created": created, "owned_by": "system"})
            continue
        suffix = "tone" if i % 4 else "other"
        items.append(
            {
                "id": f"ft:{BASES[i % 2]}:acme:{suffix}:J{i:05d}",
                "object": "model",
                "created": created,
                "owned_by": "acme" if i % 5 else "globex",
                "shutdown_date": None if i % 7 else "2027-06-01",
            }
        )
    return items


@pytest.fixture
def catalogue(db: None) -> list[dict[str, Any]]:
    """400 models in the default upstream's catalogue (8 pages of the list), and 3 elsewhere."""
    items = _items(400)
    sync_models("default", items, now=T0)
    sync_models("other", [{"id": "elsewhere-1"}, {"id": "ft:gpt-4o:acme:tone:ELSE"}], now=T0)
    return items


def _export(browser: Client, fmt: str, params: dict[str, str] | None = None) -> Any:
    return browser.get(reverse(f"model-export-{fmt}", args=["default"]), params or {})


def _body(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_body(response), newline="")))


def _json(response: Any) -> list[dict[str, Any]]:
    found = json.loads(_body(response))
    assert isinstance(found, list)
    return found


# --- The helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_neutralise_puts_a_quote_before_each_formula_start(start: str) -> None:
    assert exports.neutralise(start + "SUM(A1)") == "'" + start + "SUM(A1)"


@pytest.mark.parametrize("value", ["", "gpt-4o", "ft:gpt-4o:acme::J1", "a=b", " =1", "'quoted"])
def test_neutralise_leaves_other_text_alone(value: str) -> None:
    assert exports.neutralise(value) == value


def test_export_filename_names_the_non_empty_filters_in_their_order() -> None:
    filters = {"kind": "fine-tuned", "owner": "", "q": "tone", "sort": "created"}

    assert (
        exports.export_filename("models-default", filters, "csv")
        == "models-default-kind-fine-tuned-q-tone-sort-created.csv"
    )
    assert exports.export_filename("audit-log", {}, "json") == "audit-log.json"


def test_export_filename_replaces_odd_characters_and_collapses_their_runs() -> None:
    filters = {"q": 'a/b  "c"\\d;\r\nüé=e%2F..f', "model": "ft:x:y"}

    name = exports.export_filename("models-default", filters, "csv")

    assert name == "models-default-q-a-b-c-d-e-2F..f-model-ft-x-y.csv"


def test_export_filename_is_bounded_and_keeps_its_extension() -> None:
    name = exports.export_filename("audit-log", {"model": "x" * 1000 + "!"}, "json")

    assert len(name) <= exports.MAX_FILENAME
    assert name.startswith("audit-log-model-xxx")
    assert name.endswith("x.json")


def test_export_filename_of_only_odd_characters_is_still_a_name() -> None:
    assert exports.export_filename("", {"": "///"}, "csv") == "export.csv"


def test_export_filename_keeps_only_letters_and_digits_of_the_extension() -> None:
    assert exports.export_filename("job-1-ledger", {}, "../cs v") == "job-1-ledger.csv"


def test_a_json_export_of_nothing_is_an_empty_array() -> None:
    response = exports.json_response("empty.json", iter([]))

    assert json.loads(_body(response)) == []


def test_csv_and_json_responses_are_attachments_that_no_one_stores() -> None:
    for response, content_type in (
        (exports.csv_response("a.csv", ["x"], [[1]]), "text/csv; charset=utf-8"),
        (exports.json_response("a.json", [{"x": 1}]), "application/json"),
    ):
        assert response["Content-Type"] == content_type
        name = "a.csv" if content_type.startswith("text/csv") else "a.json"
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= cache_control


# --- The model list: content -------------------------------------------------------------------


def test_the_csv_export_has_every_matching_row_and_no_other_across_pages(
    owner: Client, catalogue: list[dict[str, Any]]
) -> None:
    params = {"kind": "fine-tuned", "owner": "acme", "q": "TONE", "sort": "id"}
    expected = sorted(
        (
            m["id"]
            for m in catalogue
            if m["id"].startswith("ft:") and m["owned_by"] == "acme" and ":tone:" in m["id"]
        ),
        key=str.casefold,
    )

    response = _export(owner, "csv", {**params, "page": "2", "per_page": "25"})

    assert response.status_code == 200
    rows = _csv(response)
    assert rows[0] == MODEL_COLUMNS
    assert [row[0] for row in rows[1:]] == expected
    assert len(expected) > 100  # more than any page of the list


@pytest.mark.parametrize("sort", ["-created", "id", "-id", "owned_by", "shutdown_date", "-kind"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_has_the_rows_of_all_the_lists_pages_in_its_order(
    sort: str, fmt: str, support: Client, catalogue: list[dict[str, Any]]
) -> None:
    query = ListQuery(base=BASES[0], age="90", sort=sort, per_page=25)
    first = queries.list_page("default", query, time.time()).page
    listed = [
        row.id
        for number in range(1, first.num_pages + 1)
        for row in queries.list_page("default", replace(query, page=number), time.time()).page.rows
    ]
    assert first.num_pages > 2
    assert len(listed) == first.total

    response = _export(support, fmt, {"base": BASES[0], "age": "90", "sort": sort})

    exported = [row[0] for row in _csv(response)[1:]] if fmt == "csv" else _ids(response)
    assert exported == listed


def _ids(response: Any) -> list[str]:
    return [item["id"] for item in _json(response)]


def test_the_csv_export_writes_each_column_from_the_catalogue(owner: Client, db: None) -> None:
    sent = {
        "id": "ft:gpt-4o-mini-2024-07-18:acme:tone:J1",
        "object": "model",
        "created": 1_720_000_000,
        "owned_by": "acme",
        "shutdown_date": "2027-01-31",
    }
    sync_models("default", [sent, {"id": "gpt-4o", "owned_by": "system"}], now=T0)
    sync_models("default", [sent, {"id": "gpt-4o", "owned_by": "system"}], now=T1)

    rows = _csv(_export(owner, "csv", {"sort": "id"}))

    assert rows[1:] == [
        [
            "ft:gpt-4o-mini-2024-07-18:acme:tone:J1",
            "fine-tuned",
            "acme",
            "2024-07-03T09:46:40Z",
            "1720000000",
            "gpt-4o-mini-2024-07-18",
            "2027-01-31",
            "2026-11-20T09:30:15Z",
            "2026-11-21T08:00:00Z",  # in the latest sync's list, though its row is unchanged
        ],
        [
            "gpt-4o",
            "base",
            "system",
            "",
            "",
            "",
            "",
            "2026-11-20T09:30:15Z",
            "2026-11-21T08:00:00Z",
        ],
    ]


def test_the_json_export_has_each_model_as_sent_and_what_the_catalogue_knows(
    owner: Client, db: None
) -> None:
    sent = {
        "id": "ft:gpt-4o-mini-2024-07-18:acme:tone:J1",
        "object": "model",
        "created": 1_720_000_000,
        "owned_by": "acme",
        "shutdown_date": None,
        "extra": {"nested": [1, "two"]},
    }
    sync_models("default", [sent, {"id": 42}], now=T0)

    response = _export(owner, "json", {"sort": "id"})

    assert response["Content-Type"] == "application/json"
    assert _json(response) == [
        {"id": 42, "catalogue": _known("base", "")},
        {**sent, "catalogue": _known("fine-tuned", "gpt-4o-mini-2024-07-18")},
    ]


def _known(kind: str, base_model: str) -> dict[str, str]:
    seen = "2026-11-20T09:30:15Z"
    return {"kind": kind, "base_model": base_model, "first_seen": seen, "last_seen": seen}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_leaves_out_gone_models_and_other_upstreams(
    fmt: str, owner: Client, db: None
) -> None:
    sync_models("default", [{"id": "kept"}, {"id": "deleted"}], now=T0)
    sync_models("default", [{"id": "kept"}], now=T1)
    sync_models("other", [{"id": "elsewhere"}], now=T0)

    response = _export(owner, fmt)

    exported = [row[0] for row in _csv(response)[1:]] if fmt == "csv" else _ids(response)
    assert exported == ["kept"]


def test_an_export_before_the_first_refresh_is_empty_without_asking_upstream(
    owner: Client, real_api: respx.MockRouter
) -> None:
    assert _csv(_export(owner, "csv")) == [MODEL_COLUMNS]
    assert _json(_export(owner, "json")) == []
    assert real_api.calls.call_count == 0


# --- The model list: escaping ------------------------------------------------------------------


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_the_csv_export_neutralises_formulas_from_upstream_and_json_keeps_them(
    start: str, owner: Client, db: None
) -> None:
    odd = {"id": start + "cmd|' /C calc'!A0", "owned_by": start + "owner"}
    odd_base = {
        "id": f"ft:{start}base:acme::J1",
        "owned_by": "acme",
        "shutdown_date": start + "2027",
    }
    sync_models("default", [odd, odd_base], now=T0)

    rows = _csv(_export(owner, "csv", {"sort": "id"}))
    items = _json(_export(owner, "json", {"sort": "id"}))

    assert [row[0] for row in rows[1:]] == ["'" + odd["id"], odd_base["id"]]
    assert rows[1][2] == "'" + odd["owned_by"]
    assert rows[2][5] == "'" + start + "base"
    assert rows[2][6] == "'" + odd_base["shutdown_date"]
    assert [{k: v for k, v in item.items() if k != "catalogue"} for item in items] == [
        odd,
        odd_base,
    ]
    assert items[1]["catalogue"]["base_model"] == start + "base"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_never_holds_an_api_key_an_upstream_sent_back(
    fmt: str, owner: Client, real_api: respx.MockRouter
) -> None:
    other_key = "sk-proj-" + "A1b2" * 8
    echoed = f"keys {REAL_API_KEY} and {other_key}"
    sent = {"id": "echo", "owned_by": echoed, "note": echoed}
    sync_models("default", [sent], now=T0)

    body = _body(_export(owner, fmt))

    assert REAL_API_KEY not in body
    assert other_key not in body
    assert "keys [redacted] and [redacted]" in body
    if fmt == "json":
        assert json.loads(body)[0]["note"] == "keys [redacted] and [redacted]"
    else:
        assert _csv(_export(owner, fmt))[1][2] == "keys [redacted] and [redacted]"


# --- The model list: streaming -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_of_10000_rows_streams_in_many_chunks_with_as_many_queries_as_10(
    fmt: str, owner: Client, db: None
) -> None:
    items = _items(10_000)
    sync_models("default", items[:10], now=T0)
    url = reverse(f"model-export-{fmt}", args=["default"])

    def download() -> tuple[list[bytes], int]:
        with CaptureQueriesContext(connection) as queries_made:
            response = owner.get(url)
            assert response.streaming
            chunks = list(response.streaming_content)
        return chunks, len(queries_made)

    few_chunks, few_queries = download()
    sync_models("default", items, now=T1)
    chunks, many_queries = download()

    assert len(few_chunks) == 11  # the header (or the closing bracket) and one per row
    assert len(chunks) == 10_001
    assert many_queries == few_queries
    body = b"".join(chunks).decode()
    found = len(list(csv.reader(io.StringIO(body)))) - 1 if fmt == "csv" else len(json.loads(body))
    assert found == 10_000


def test_an_export_reads_the_catalogue_in_chunks_not_all_at_once(
    owner: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_models("default", _items(50), now=T0)
    asked: list[int | None] = []
    real_iterator = type(queries.present("default")).iterator

    def iterator(self: Any, chunk_size: int | None = None) -> Any:
        asked.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(type(queries.present("default")), "iterator", iterator)

    assert len(_csv(_export(owner, "csv"))) == 51

    assert asked == [exports.CHUNK_SIZE]


# --- The model list: file names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({}, "models-default"),
        ({"page": "3", "per_page": "100"}, "models-default"),  # not filters: left out
        (
            {"q": "tone", "kind": "fine-tuned", "sort": "created"},
            "models-default-kind-fine-tuned-q-tone-sort-created",
        ),
        ({"sort": "-created"}, "models-default"),  # the default sort
        ({"sort": "-id", "age": "90"}, "models-default-age-90-sort-id-desc"),
        ({"base": "gpt-4o-mini-2024-07-18"}, "models-default-base-gpt-4o-mini-2024-07-18"),
        ({"q": 'ft:x "y"/z', "owner": "Groß Firma"}, "models-default-owner-Gro-Firma-q-ft-x-y-z"),
        ({"kind": "not-a-kind"}, "models-default"),  # ignored by the list too
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_model_export_is_named_after_the_upstream_and_the_lists_filters(
    params: dict[str, str], name: str, fmt: str, support: Client, db: None
) -> None:
    response = _export(support, fmt, params)

    assert response["Content-Disposition"] == f'attachment; filename="{name}.{fmt}"'


def test_a_model_export_name_stays_bounded_for_a_long_search(support: Client, db: None) -> None:
    response = _export(support, "csv", {"q": "word " * 40})

    filename = response["Content-Disposition"].removeprefix('attachment; filename="')[:-1]
    assert len(filename) <= exports.MAX_FILENAME
    assert filename.startswith("models-default-q-word-word")
    assert filename.endswith(".csv")


# --- The model list: who may download ----------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "team_admin", "owner"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_every_role_may_export_the_list_without_an_upstream_call(
    role: str, fmt: str, request: pytest.FixtureRequest, real_api: respx.MockRouter, db: None
) -> None:
    sync_models("default", [{"id": "gpt-4o", "owned_by": "system"}], now=T0)
    browser: Client = request.getfixturevalue(role)

    response = _export(browser, fmt, {"q": "gpt"})

    assert response.status_code == 200
    exported = [row[0] for row in _csv(response)[1:]] if fmt == "csv" else _ids(response)
    assert exported == ["gpt-4o"]
    assert real_api.calls.call_count == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_anonymous_export_goes_to_sign_in_and_back(
    fmt: str, real_api: respx.MockRouter, db: None
) -> None:
    url = reverse(f"model-export-{fmt}", args=["default"])

    response = Client().get(url, {"q": "tone"})

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("login")
    assert parse_qs(location.query)["next"] == [f"{url}?q=tone"]
    assert real_api.calls.call_count == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_of_an_unknown_upstream_is_not_found(
    fmt: str, owner: Client, real_api: respx.MockRouter
) -> None:
    response = owner.get(reverse(f"model-export-{fmt}", args=["nowhere"]))

    assert response.status_code == 404
    assert real_api.calls.call_count == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_of_an_upstream_the_user_may_not_see_is_refused(
    fmt: str, real_api: respx.MockRouter, settings: Any, db: None
) -> None:
    settings.UPSTREAMS = {"second": {"BASE_URL": REAL_API_BASE, "API_KEY": "sk-second-0123"}}
    sync_models("second", [{"id": "secret-model", "owned_by": "second-org"}], now=T0)
    ensure_roles()
    user = User.objects.create_user(username="olga", password="pw-olga")
    user.groups.set([Group.objects.get(name=OWNER)])  # Owner of the default upstream only
    browser = Client()
    browser.force_login(user)

    response = browser.get(reverse(f"model-export-{fmt}", args=["second"]))

    assert response.status_code == 403
    assert not response.streaming
    assert b"secret-model" not in response.content
    assert real_api.calls.call_count == 0
    UpstreamAccess.objects.create(user=user, upstream="second", role="Support")
    allowed = browser.get(reverse(f"model-export-{fmt}", args=["second"]))
    assert "secret-model" in _body(allowed)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_an_export_answers_only_get_and_head(method: str, owner: Client, db: None) -> None:
    response = getattr(owner, method)(reverse("model-export-csv", args=["default"]))

    assert response.status_code == 405


# --- The model list: the links carry the list's state ------------------------------------------


def _export_links(html: bytes | str) -> dict[str, str]:
    """The list page's export links by their text."""
    return {
        link.text: link.attrs["href"]
        for link in find_all(html, "a")
        if link.text in ("Export CSV", "Export JSON")
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "tone"},
        {"kind": "fine-tuned", "sort": "id"},
        {"owner": "acme", "base": BASES[1], "age": "30", "sort": "-shutdown_date"},
        {"q": "ft acme", "kind": "fine-tuned", "sort": "owned_by", "page": "2", "per_page": "25"},
        {"sort": "-created", "per_page": "100", "page": "3"},  # default sort: nothing to carry
    ],
    ids=lambda p: "&".join(map("=".join, p.items())) or "unfiltered",
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_export_links_carry_the_lists_search_filters_and_sort(
    params: dict[str, str], htmx: bool, support: Client, catalogue: list[dict[str, Any]]
) -> None:
    list_url = reverse("model-list", args=["default"])
    headers = {"HX-Request": "true"} if htmx else {}

    response = support.get(list_url, params, headers=headers)

    links = _export_links(response.content)
    assert sorted(links) == ["Export CSV", "Export JSON"]
    page_query = ListQuery.from_querydict(
        QueryDict(urlsplit(response.wsgi_request.get_full_path()).query)
    )
    for text, fmt in (("Export CSV", "csv"), ("Export JSON", "json")):
        link = urlsplit(links[text])
        assert link.path == reverse(f"model-export-{fmt}", args=["default"])
        carried = ListQuery.from_querydict(QueryDict(link.query))
        assert carried == replace(page_query, page=1, per_page=ListQuery.per_page)
        assert parse_qs(link.query) == {
            name: [value]
            for name, value in params.items()
            if name not in ("page", "per_page") and not (name == "sort" and value == ListQuery.sort)
        }


def test_following_an_export_link_exports_what_the_list_shows_on_all_its_pages(
    support: Client, catalogue: list[dict[str, Any]]
) -> None:
    list_url = reverse("model-list", args=["default"])
    params = {"kind": "fine-tuned", "q": "tone", "sort": "id", "per_page": "25"}
    shown: list[str] = []
    for number in range(1, 20):
        html = support.get(list_url, {**params, "page": str(number)}).content
        ids = [a.text for a in find_all(html, "a", class_="model-id")]
        if not ids or ids[0] in shown:
            break
        shown += ids
    link = _export_links(support.get(list_url, params).content)["Export CSV"]

    rows = _csv(support.get(link))

    assert [row[0] for row in rows[1:]] == shown
    assert len(shown) > 25


# --- The audit log -----------------------------------------------------------------------------


def _entry(**fields: Any) -> AuditEntry:
    defaults: dict[str, Any] = {
        "username": "olivia",
        "model_id": "ft:gpt-4o-mini-2024-07-18:acme:alpha:AAAA1111",
        "upstream": "https://api.example.test/v1",
    }
    return AuditEntry.objects.create(**{**defaults, **fields})


@pytest.fixture
def entries(db: None) -> list[AuditEntry]:
    return [
        _entry(
            created_at=datetime.datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC),
            finished_at=datetime.datetime(2026, 11, 20, 9, 30, 16, tzinfo=UTC),
            model_id="ft:a",
            outcome=AuditEntry.Outcome.DELETED,
            upstream_status=200,
            upstream_request_id="req_a",
            confirmed_by="answer",
        ),
        _entry(
            created_at=datetime.datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC),
            username="adam",
            model_id="ft:b",
            outcome=AuditEntry.Outcome.DENIED,
            message="Only owners may delete models.",
        ),
        _entry(
            created_at=datetime.datetime(2026, 11, 22, 11, 45, 5, tzinfo=UTC),
            model_id="ft:c",
            outcome=AuditEntry.Outcome.DELETED,
            upstream_status=200,
        ),
    ]


def test_the_audit_json_export_has_every_entry_newest_first_with_values_as_stored(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    response = team_admin.get(reverse("audit-log"), {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    items = _json(response)
    assert [item["model_id"] for item in items] == ["ft:c", "ft:b", "ft:a"]
    assert all(list(item) == AUDIT_COLUMNS for item in items)
    assert items[2] == {
        "time_utc": "2026-11-20T09:30:15Z",
        "user": "olivia",
        "action": "delete",
        "model_id": "ft:a",
        "outcome": "deleted",
        "upstream_status": 200,
        "upstream_request_id": "req_a",
        "message": "",
        "upstream": "https://api.example.test/v1",
        "finished_utc": "2026-11-20T09:30:16Z",
        "confirmed_by": "answer",
        "reconciled_utc": None,
        "job_id": None,
        "deletion_request_id": None,
    }
    assert items[1]["upstream_status"] is None
    assert items[1]["message"] == "Only owners may delete models."


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_audit_export_of_one_job_has_its_entries_with_the_job_in_name_and_rows(
    fmt: str, team_admin: Client, entries: list[AuditEntry]
) -> None:
    _entry(model_id="ft:job-1", job_id=12, deletion_request_id=3)
    _entry(model_id="ft:job-2", job_id=12)
    _entry(model_id="ft:other-job", job_id=13)

    response = team_admin.get(reverse("audit-log"), {"job": "12", "format": fmt})

    assert response["Content-Disposition"] == f'attachment; filename="audit-log-job-12.{fmt}"'
    if fmt == "csv":
        rows = _csv(response)
        assert [(row[3], row[-2], row[-1]) for row in rows[1:]] == [
            ("ft:job-2", "12", ""),
            ("ft:job-1", "12", "3"),
        ]
    else:
        assert [
            (i["model_id"], i["job_id"], i["deletion_request_id"]) for i in _json(response)
        ] == [
            ("ft:job-2", 12, None),
            ("ft:job-1", 12, 3),
        ]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_audit_export_has_exactly_the_filtered_entries_named_after_the_filters(
    fmt: str, team_admin: Client, entries: list[AuditEntry]
) -> None:
    params = {"upstream": "default", "outcome": "deleted", "format": fmt}

    response = team_admin.get(reverse("audit-log"), params)

    assert response["Content-Disposition"] == (
        f'attachment; filename="audit-log-upstream-default-outcome-deleted.{fmt}"'
    )
    if fmt == "csv":
        exported = [row[3] for row in _csv(response)[1:]]
    else:
        exported = [item["model_id"] for item in _json(response)]
    assert exported == ["ft:c", "ft:a"]


def test_an_audit_export_of_many_entries_streams_them_one_a_chunk(
    team_admin: Client, db: None
) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(username="olivia", model_id=f"ft:bulk:{n:04d}") for n in range(300)
    )

    for fmt in ("csv", "json"):
        response = team_admin.get(reverse("audit-log"), {"format": fmt, "model": "bulk"})
        assert response.streaming
        assert len(list(response.streaming_content)) == 301


def test_an_audit_export_name_replaces_odd_characters_in_the_filters(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    response = team_admin.get(reverse("audit-log"), {"model": 'ft:"a/b"', "format": "csv"})

    assert response["Content-Disposition"] == 'attachment; filename="audit-log-model-ft-a-b.csv"'


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_the_audit_csv_neutralises_formulas_and_the_json_keeps_them(
    start: str, team_admin: Client, db: None
) -> None:
    entry = _entry(
        username=start + "user",
        model_id=start + "model",
        upstream_request_id=start + "req",
        message=start + 'HYPERLINK("https://evil.example/")',
        outcome=AuditEntry.Outcome.FAILED,
        upstream_status=500,
    )

    row = _csv(team_admin.get(reverse("audit-log"), {"format": "csv"}))[1]
    (item,) = _json(team_admin.get(reverse("audit-log"), {"format": "json"}))

    assert (row[1], row[3], row[6], row[7]) == (
        "'" + entry.username,
        "'" + entry.model_id,
        "'" + entry.upstream_request_id,
        "'" + entry.message,
    )
    assert row[5] == "500"
    assert (item["user"], item["model_id"], item["upstream_request_id"], item["message"]) == (
        entry.username,
        entry.model_id,
        entry.upstream_request_id,
        entry.message,
    )


def test_the_audit_export_is_refused_to_support_in_either_format(
    support: Client, entries: list[AuditEntry]
) -> None:
    for fmt in ("csv", "json"):
        response = support.get(reverse("audit-log"), {"format": fmt})
        assert response.status_code == 403
        assert not response.streaming
        assert b"ft:a" not in response.content


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_audit_export_links_carry_the_filters_in_both_formats(
    htmx: bool, team_admin: Client, entries: list[AuditEntry]
) -> None:
    params = {"upstream": "default", "user": "olivia", "model": "ft:", "outcome": "deleted"}
    headers = {"HX-Request": "true"} if htmx else {}

    html = team_admin.get(reverse("audit-log"), {**params, "page": "1"}, headers=headers).content

    links = _export_links(html)
    assert sorted(links) == ["Export CSV", "Export JSON"]
    for text, fmt in (("Export CSV", "csv"), ("Export JSON", "json")):
        assert parse_qs(urlsplit(links[text]).query) == {
            **{name: [value] for name, value in params.items()},
            "format": [fmt],
        }
