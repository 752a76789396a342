"""The sandbox became its own app: a database made before keeps its sandbox rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dashboard.sandbox.models import SandboxModel

BEFORE = [("dashboard", "0003_audit_unknown_outcome_and_reconciliation")]


@pytest.mark.django_db(transaction=True)
def test_sandbox_rows_written_before_the_move_are_there_after_it() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_state = executor.loader.project_state(BEFORE)
    OldSandboxModel = old_state.apps.get_model("dashboard", "SandboxModel")  # noqa: N806
    OldSandboxModel.objects.all().delete()
    OldSandboxModel.objects.create(id="ft:kept:acme::1", created=1, owned_by="acme")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(SandboxModel.objects.values_list("id", flat=True)) == ["ft:kept:acme::1"]
    assert SandboxModel._meta.db_table == "dashboard_sandboxmodel"
