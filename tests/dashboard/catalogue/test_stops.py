"""stops_on: a base model's own shutdown date, a fine-tune's base model's, kept up to date."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.catalogue.models import CatalogueModel, FineTuningJobRecord
from dashboard.catalogue.stops import deprecation, resolve_base, update_stops
from dashboard.catalogue.sync import sync_models

pytestmark = pytest.mark.django_db

FT_MINI = "ft:gpt-4o-mini-2024-07-18:acme:tone:abc123"
FT_35 = "ft:gpt-3.5-turbo-0125:acme::def456"


def _catalogue(**bases: str | None) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = [
        {"id": model_id, "owned_by": "system", "shutdown_date": day}
        for model_id, day in bases.items()
    ]
    return [*models, {"id": FT_MINI, "owned_by": "acme"}, {"id": FT_35, "owned_by": "acme"}]


def _stops(model_id: str) -> tuple[datetime.date | None, str]:
    row = CatalogueModel.objects.get(upstream="default", model_id=model_id)
    return row.stops_on, row.stops_because


def test_a_base_model_stops_on_its_own_shutdown_date() -> None:
    sync_models("default", [{"id": "babbage-002", "shutdown_date": "2026-10-23"}, {"id": "o3"}])

    assert _stops("babbage-002") == (datetime.date(2026, 10, 23), "babbage-002")
    assert _stops("o3") == (None, "")


def test_a_fine_tune_stops_with_its_base_model_of_the_same_id() -> None:
    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"}))

    assert _stops(FT_35) == (datetime.date(2026, 9, 28), "gpt-3.5-turbo-0125")


def test_a_fine_tune_of_a_dated_snapshot_the_list_lacks_stops_with_the_undated_alias() -> None:
    sync_models("default", _catalogue(**{"gpt-4o-mini": "2027-03-01"}))

    assert _stops(FT_MINI) == (datetime.date(2027, 3, 1), "gpt-4o-mini")


def test_the_dated_snapshot_row_wins_over_its_alias_when_both_are_listed() -> None:
    sync_models(
        "default",
        _catalogue(**{"gpt-4o-mini": "2027-03-01", "gpt-4o-mini-2024-07-18": "2027-01-15"}),
    )

    assert _stops(FT_MINI) == (datetime.date(2027, 1, 15), "gpt-4o-mini-2024-07-18")


def test_a_fine_tune_whose_base_has_no_date_or_is_unknown_has_none() -> None:
    sync_models("default", _catalogue(**{"gpt-4o-mini-2024-07-18": None}))

    assert _stops(FT_MINI) == (None, "")
    assert _stops(FT_35) == (None, "")


def test_a_fine_tunes_own_earlier_date_wins_over_its_bases() -> None:
    items = _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"})
    items[-1]["shutdown_date"] = "2026-08-01"
    sync_models("default", items)

    assert _stops(FT_35) == (datetime.date(2026, 8, 1), FT_35)


def test_when_a_base_models_date_changes_its_fine_tunes_follow_in_the_same_sync() -> None:
    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"}))
    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": "2027-02-01"}))

    assert _stops(FT_35) == (datetime.date(2027, 2, 1), "gpt-3.5-turbo-0125")

    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": None}))

    assert _stops(FT_35) == (None, "")
    assert _stops("gpt-3.5-turbo-0125") == (None, "")


def test_a_base_model_gone_from_the_list_still_dates_its_fine_tunes() -> None:
    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"}))
    sync_models("default", [{"id": FT_35, "owned_by": "acme"}])

    assert _stops(FT_35) == (datetime.date(2026, 9, 28), "gpt-3.5-turbo-0125")


def test_the_jobs_model_decides_the_base_when_the_job_is_known() -> None:
    sync_models("default", _catalogue(**{"gpt-4o-mini": "2027-03-01", "davinci-002": "2026-10-23"}))
    FineTuningJobRecord.objects.create(
        upstream="default",
        job_id="ftjob-1",
        fine_tuned_model=FT_MINI,
        base_model="davinci-002",
        fetched_at=timezone.now(),
    )

    assert update_stops("default") == 1
    assert _stops(FT_MINI) == (datetime.date(2026, 10, 23), "davinci-002")


def test_recomputing_without_a_change_writes_no_row() -> None:
    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"}))

    assert update_stops("default") == 0


def test_the_update_is_one_statement_whatever_the_number_of_fine_tunes() -> None:
    items = _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"})
    items += [{"id": f"ft:gpt-3.5-turbo-0125:acme::n{n}", "owned_by": "acme"} for n in range(300)]
    sync_models("default", items)
    sync_models(
        "default",
        [
            {**i, "shutdown_date": "2027-01-01"} if i["id"] == "gpt-3.5-turbo-0125" else i
            for i in items
        ],
    )

    with CaptureQueriesContext(connection) as captured:
        update_stops("default")
    assert [q["sql"].split()[0] for q in captured] == ["SELECT", "SELECT", "SELECT", "UPDATE"]
    assert CatalogueModel.objects.filter(stops_on=datetime.date(2027, 1, 1)).count() == 302


def test_other_upstreams_are_left_alone() -> None:
    sync_models("default", _catalogue(**{"gpt-3.5-turbo-0125": "2026-09-28"}))
    sync_models("other", [{"id": FT_35}])

    assert CatalogueModel.objects.get(upstream="other").stops_on is None


def test_resolving_a_base_prefers_the_exact_id_then_the_undated_alias() -> None:
    known = {"gpt-4o-mini", "gpt-4o-mini-2024-07-18", "o3"}

    assert resolve_base("gpt-4o-mini-2024-07-18", known) == "gpt-4o-mini-2024-07-18"
    assert resolve_base("gpt-4o-mini-2024-07-18", known - {"gpt-4o-mini-2024-07-18"}) == (
        "gpt-4o-mini"
    )
    assert resolve_base("ft:o3:acme::x", known) == "o3"
    assert resolve_base("gpt-5", known) is None


def test_deprecation_headers_are_read_as_rfc_9745_and_8594_say() -> None:
    found = deprecation(
        {
            "Deprecation": "@1777161600",
            "Sunset": "Fri, 23 Oct 2026 00:00:00 GMT",
            "Link": '<https://example.test/deprecations>; rel="deprecation"; type="text/html"',
        }
    )

    assert found is not None
    assert (found.deprecated, found.since, found.sunset, found.link) == (
        True,
        datetime.date(2026, 4, 26),
        datetime.date(2026, 10, 23),
        "https://example.test/deprecations",
    )


def test_a_deprecation_link_that_is_not_http_is_not_offered() -> None:
    found = deprecation({"Deprecation": "true", "Link": '<javascript:alert(1)>; rel="deprecation"'})

    assert found is not None
    assert (found.deprecated, found.since, found.link) == (True, None, "")


def test_a_response_without_the_headers_has_no_deprecation() -> None:
    assert deprecation({"Link": '<https://example.test/>; rel="deprecation"'}) is None
