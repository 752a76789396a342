"""sync_models: one list in, the catalogue rewritten where it changed, drift recorded."""

from __future__ import annotations

import datetime
from typing import Any

import openai.types
import pytest
from django.db import connection
from django.utils import timezone

import modelsclient
from dashboard.catalogue import bulk
from dashboard.catalogue.models import CatalogueModel, Change, SyncRun, UpstreamState
from dashboard.catalogue.sync import record_deletion, sync_models
from dashboard.models import AuditEntry

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(hours=1)
T2 = T0 + datetime.timedelta(hours=2)
FT = "ft:gpt-4o-mini-2024-07-18:acme:tone:abc123"


def _model(model_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "acme"} | (
        fields
    )


def _row(model_id: str, upstream: str = "default") -> CatalogueModel:
    return CatalogueModel.objects.get(upstream=upstream, model_id=model_id)


def _changes(**filters: Any) -> list[tuple[str, str, str, Any, Any]]:
    return [
        (c.model_id, c.kind, c.field, c.old, c.new)
        for c in Change.objects.filter(**filters).order_by("model_id", "kind", "field")
    ]


def _rows_written() -> int:
    """SQLite's count of rows inserted, updated or deleted on this connection."""
    connection.ensure_connection()
    return int(connection.connection.total_changes)


def test_a_first_sync_stores_every_model_with_every_field_as_sent() -> None:
    sent = _model(FT, shutdown_date="2026-10-23", region="eu", limits={"rpm": 500})

    run = sync_models("default", [sent, _model("gpt-4o", owned_by="system")], now=T0)

    row = _row(FT)
    assert row.data == sent
    assert (row.object, row.created, row.owned_by) == ("model", 1_700_000_000, "acme")
    assert row.shutdown_date == datetime.date(2026, 10, 23)
    assert (row.kind, row.base_model, row.is_deletable) == (
        "fine-tuned",
        "gpt-4o-mini-2024-07-18",
        True,
    )
    assert (row.first_seen, row.last_seen, row.gone_at) == (T0, T0, None)
    base = _row("gpt-4o")
    assert (base.kind, base.base_model, base.is_deletable) == ("base", "", False)
    assert (run.status, run.seen, run.appeared, run.skipped) == ("succeeded", 2, 2, 0)


def test_the_first_sync_of_an_upstream_records_no_appeared_changes() -> None:
    sync_models("default", [_model("a"), _model("b")], now=T0)

    assert Change.objects.count() == 0  # filling the catalogue is not drift


def test_a_later_sync_records_the_models_that_appeared() -> None:
    sync_models("default", [_model("a")], now=T0)

    run = sync_models("default", [_model("a"), _model("b")], now=T1)

    assert _changes() == [("b", "appeared", "", None, None)]
    assert Change.objects.get().sync == run
    assert _row("b").first_seen == T1
    assert (run.appeared, run.unchanged) == (1, 1)


def test_a_vanished_model_is_kept_as_gone_and_recorded_as_deleted_elsewhere() -> None:
    sync_models("default", [_model("a"), _model(FT)], now=T0)
    sync_models("default", [_model("a"), _model(FT)], now=T1)

    run = sync_models("default", [_model("a")], now=T2)

    row = _row(FT)
    assert row.gone_at == T2
    assert row.last_seen == T1  # the last sync that still listed it
    change = Change.objects.get()
    assert (change.model_id, change.kind, change.cause, change.audit_entry) == (
        FT,
        "disappeared",
        "deleted elsewhere",
        None,
    )
    assert run.disappeared == 1


def test_a_model_deleted_through_the_dashboard_is_linked_to_its_audit_entry() -> None:
    sync_models("default", [_model(FT), _model("other-ft")], now=T0)
    entry = AuditEntry.objects.create(
        username="olivia", model_id=FT, upstream_alias="default", outcome=AuditEntry.Outcome.DELETED
    )
    AuditEntry.objects.create(  # the same id deleted on another upstream: not this one
        username="olivia", model_id="other-ft", upstream_alias="elsewhere",
        outcome=AuditEntry.Outcome.DELETED,
    )  # fmt: skip

    sync_models("default", [], now=T1)

    causes = {c.model_id: (c.cause, c.audit_entry_id) for c in Change.objects.all()}
    assert causes == {FT: ("deleted here", entry.pk), "other-ft": ("deleted elsewhere", None)}


def test_an_audit_entry_that_was_refused_is_not_a_cause() -> None:
    sync_models("default", [_model(FT)], now=T0)
    AuditEntry.objects.create(
        username="olivia", model_id=FT, upstream_alias="default",
        outcome=AuditEntry.Outcome.REFUSED,
    )  # fmt: skip

    sync_models("default", [], now=T1)

    assert Change.objects.get().cause == "deleted elsewhere"


def test_a_new_shutdown_date_is_recorded_as_a_change_of_that_field() -> None:
    sync_models("default", [_model("gpt-4", shutdown_date=None)], now=T0)

    run = sync_models("default", [_model("gpt-4", shutdown_date="2027-06-06")], now=T1)

    assert _changes() == [("gpt-4", "changed", "shutdown_date", None, "2027-06-06")]
    assert _row("gpt-4").shutdown_date == datetime.date(2027, 6, 6)
    assert _row("gpt-4").last_seen == T1
    assert run.changed == 1


def test_owner_and_created_changes_are_recorded_each_and_other_fields_together() -> None:
    sync_models("default", [_model("m", region="eu", tier=1)], now=T0)

    sync_models(
        "default",
        [_model("m", owned_by="org-new", created=1_800_000_000, region="us", extra=True)],
        now=T1,
    )

    assert _changes() == [
        ("m", "changed", "created", 1_700_000_000, 1_800_000_000),
        ("m", "changed", "other", {"region": "eu", "tier": 1}, {"region": "us", "extra": True}),
        ("m", "changed", "owned_by", "acme", "org-new"),
    ]


def test_a_model_that_comes_back_is_present_again_and_recorded_as_reappeared() -> None:
    sync_models("default", [_model("a"), _model("b")], now=T0)
    sync_models("default", [_model("a")], now=T1)

    run = sync_models("default", [_model("a"), _model("b")], now=T2)

    row = _row("b")
    assert (row.gone_at, row.first_seen, row.last_seen) == (None, T0, T2)
    assert _changes(at=T2) == [("b", "reappeared", "", None, None)]
    assert (run.reappeared, run.appeared, run.unchanged) == (1, 0, 1)


def test_unchanged_models_are_not_written_and_their_last_sighting_is_the_last_sync() -> None:
    models = [_model(f"m{i}") for i in range(50)]
    sync_models("default", models, now=T0)
    before = _rows_written()

    run = sync_models("default", models, now=T1)

    assert (run.unchanged, run.rows_written) == (50, 0)
    assert _rows_written() - before <= 4  # the run (insert, update) and the upstream's state
    row = _row("m7")
    assert row.last_seen == T0  # not rewritten...
    state = UpstreamState.objects.get(upstream="default")
    assert row.effective_last_seen(state.last_success_at) == T1  # ...yet seen at T1


def test_a_second_sync_with_100_changes_writes_100_catalogue_rows() -> None:
    models = [_model(f"ft:gpt-4o:acme:s:{i:05d}", created=1_700_000_000 + i) for i in range(3000)]
    sync_models("default", models, now=T0)
    changed = [
        m | {"shutdown_date": "2027-01-01"} if i % 30 == 0 else m for i, m in enumerate(models)
    ]
    before = _rows_written()

    run = sync_models("default", changed, now=T1)

    written = _rows_written() - before
    assert (run.changed, run.unchanged, run.rows_written) == (100, 2900, 100)
    assert Change.objects.count() == 100
    assert 200 <= written <= 204  # 100 catalogue rows + 100 change records + run and state


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"id": "m", "created": None, "object": "model", "owned_by": "x"}, {"created": None}),
        ({"id": "m", "created": 1, "object": "model"}, {"owned_by": ""}),
        ({"id": "m", "created": 1, "owned_by": "x"}, {"object": ""}),
        ({"id": 1234, "created": 1, "owned_by": "x"}, {"model_id": "1234"}),
        ({"id": "m", "created": "1700000000"}, {"created": 1_700_000_000}),
        ({"id": "m", "created": 1.7e9}, {"created": 1_700_000_000}),
        ({"id": "m", "created": "yesterday"}, {"created": None}),
        ({"id": "m", "shutdown_date": "soon"}, {"shutdown_date": None}),
        ({"id": "m", "shutdown_date": "2026-07-14T00:00:00Z"}, {"shutdown_date": "2026-07-14"}),
        ({"id": "m", "owned_by": None}, {"owned_by": ""}),
        ({"id": "m", "owned_by": {"org": "acme"}}, {"owned_by": ""}),
        ({"id": "m", "meta": {"a": [1, {"b": None}]}}, {"kind": "base"}),
    ],
)
def test_odd_items_are_stored_with_what_they_have(
    sent: dict[str, Any], stored: dict[str, Any]
) -> None:
    run = sync_models("default", [sent], now=T0)

    row = CatalogueModel.objects.get()
    values = {name: getattr(row, name) for name in stored}
    if isinstance(values.get("shutdown_date"), datetime.date):
        values["shutdown_date"] = values["shutdown_date"].isoformat()
    assert values == stored
    assert row.data == sent
    assert (run.seen, run.skipped) == (1, 0)


def test_values_no_database_stores_are_made_storable_and_the_rest_kept() -> None:
    sync_models(
        "default", [{"id": "m", "score": float("nan"), "note": "a\x00b", "tags": ("x", 1)}], now=T0
    )

    assert CatalogueModel.objects.get().data == {
        "id": "m",
        "score": "nan",
        "note": "a\ufffdb",
        "tags": ["x", 1],
    }


def test_items_without_a_usable_id_are_skipped_and_counted() -> None:
    unusable: list[object] = [
        {},
        {"id": None},
        {"id": ""},
        {"id": True},
        {"id": "x" * 513},
        "gpt-4o",
        None,
        ["id", "m"],
    ]

    run = sync_models("default", [*unusable, _model("good")], now=T0)

    assert list(CatalogueModel.objects.values_list("model_id", flat=True)) == ["good"]
    assert (run.status, run.seen, run.skipped) == ("succeeded", 1, len(unusable))


def test_an_item_that_cannot_even_be_read_does_not_break_the_sync() -> None:
    class Broken:
        def to_dict(self) -> dict[str, Any]:
            raise RuntimeError("unreadable")

    run = sync_models("default", [Broken(), _model("good")], now=T0)

    assert (run.seen, run.skipped) == (1, 1)


def test_a_repeated_id_keeps_the_first_item_and_counts_the_others() -> None:
    run = sync_models(
        "default", [_model("m", owned_by="first"), _model("m", owned_by="second")], now=T0
    )

    assert _row("m").owned_by == "first"
    assert (run.seen, run.skipped) == (1, 1)


def test_models_from_modelsclient_and_the_openai_package_are_accepted() -> None:
    ours = modelsclient.Model(id="a", object="model", created=1, owned_by="x", region="eu")
    theirs = openai.types.Model.construct(id="b", object="model", created=None, owned_by="y")

    sync_models("default", [ours, theirs], now=T0)

    assert _row("a").data == {"id": "a", "object": "model", "created": 1, "owned_by": "x",
                              "region": "eu"}  # fmt: skip
    assert (_row("b").created, _row("b").owned_by) == (None, "y")


def test_two_upstreams_keep_their_own_lists() -> None:
    sync_models("default", [_model("shared"), _model("only-default")], now=T0)
    sync_models("compatible", [_model("shared", owned_by="local")], now=T0)

    sync_models("compatible", [], now=T1)

    assert _row("shared").gone_at is None
    assert _row("shared", "compatible").gone_at == T1
    assert _changes(upstream="default") == []
    assert _changes(upstream="compatible") == [("shared", "disappeared", "", None, None)]


def test_record_deletion_marks_the_model_gone_and_links_the_audit_entry() -> None:
    sync_models("default", [_model(FT)], now=T0)
    sync_models("default", [_model(FT)], now=T1)
    entry = AuditEntry.objects.create(username="olivia", model_id=FT)

    assert record_deletion("default", FT, entry, now=T2) is True
    assert record_deletion("default", FT, entry, now=T2) is False  # already gone

    row = _row(FT)
    assert (row.gone_at, row.last_seen) == (T2, T1)
    change = Change.objects.get()
    assert (change.kind, change.cause, change.audit_entry) == ("disappeared", "deleted here", entry)
    sync_models("default", [], now=T2 + datetime.timedelta(minutes=5))
    assert Change.objects.count() == 1  # the next sync does not record it again


def test_a_sync_that_fails_changes_nothing_and_is_recorded_as_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync_models("default", [_model("a")], now=T0)

    def fail(*args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "update", fail)
    with pytest.raises(RuntimeError):
        sync_models("default", [_model("a", owned_by="changed"), _model("b")], now=T1)

    assert list(CatalogueModel.objects.values_list("model_id", "owned_by")) == [("a", "acme")]
    failed = SyncRun.objects.get(started_at=T1)
    assert (failed.status, failed.error) == ("failed", "RuntimeError: disk full")
    assert UpstreamState.objects.get().last_success_at == T0


def test_sync_defaults_to_the_current_time() -> None:
    before = timezone.now()

    run = sync_models("default", [_model("a")])

    assert before <= _row("a").first_seen == run.started_at <= timezone.now()
