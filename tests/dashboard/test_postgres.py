"""PostgreSQL is supported: migrate, seed, demo users and the in-process sandbox on a real server.

A throwaway cluster (tests/dashboard/postgres.py) is started when PostgreSQL's binaries are
installed; otherwise the module is skipped. The dashboard runs in subprocesses with
`DATABASE_URL` pointing at it, exactly as a deployment would configure it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .login_race import clean_env, race
from .postgres import Cluster, cluster, prepared  # noqa: F401


def test_migrate_seed_and_setup_demo_succeed_on_postgresql(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
) -> None:
    assert {name: done.returncode for name, done in prepared.items()} == dict.fromkeys(
        prepared, 0
    ), {name: done.stderr for name, done in prepared.items()}
    assert "Applying dashboard." in prepared["migrate"].stdout
    assert "Sandbox seeded with 64 models." in prepared["seed_sandbox"].stdout
    assert "Demo logins (sandbox mode):" in prepared["setup_demo"].stdout

    lines = cluster.shell(
        """
        from django.contrib.auth.models import User
        from django.db import connection
        print(connection.vendor)
        print(",".join(User.objects.order_by("username").values_list("username", flat=True)))
        print(User.objects.get(username="owner").has_perm("dashboard.delete_upstream_model"))
        """
    )

    assert lines == ["postgresql", "admin,owner,support", "True"]


def test_a_nested_sandbox_delete_keeps_the_outer_postgresql_transaction(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
) -> None:
    lines = cluster.shell(
        """
        import io
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.db import connection, transaction
        from dashboard.models import AuditEntry
        from dashboard.sandbox.models import SandboxModel
        from dashboard.upstreams import get_client

        call_command("seed_sandbox", "--reset", stdout=io.StringIO())
        victim = SandboxModel.objects.filter(id__startswith="ft:").order_by("id")[0].id
        with transaction.atomic():
            User.objects.create_user("nested-writer")
            deleted = get_client().models.delete(victim)
            listed = [m.id for m in get_client().models.list()]
            print("open", connection.in_atomic_block, not connection.connection.closed)
            print("outer row visible", User.objects.filter(username="nested-writer").exists())
        print("deleted", deleted.deleted, victim in listed, len(listed))
        print("remaining", SandboxModel.objects.count())
        print("committed", User.objects.filter(username="nested-writer").exists())
        print("audit", AuditEntry.objects.count())
        """
    )

    assert lines == [
        "open True True",
        "outer row visible True",
        "deleted True False 63",
        "remaining 63",
        "committed True",
        "audit 0",
    ]


def test_the_dashboard_delete_flow_is_audited_on_postgresql(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
) -> None:
    lines = cluster.shell(
        """
        import io
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse
        from dashboard.models import AuditEntry
        from dashboard.sandbox.models import SandboxModel

        call_command("seed_sandbox", "--reset", stdout=io.StringIO())
        victim = "acme/модель-ru"
        browser = Client(HTTP_HOST="localhost")
        browser.force_login(User.objects.get(username="owner"))
        url = reverse("model-delete", args=["default", victim])
        response = browser.post(url, {"confirm_id": victim, "next": "/u/default/models/"})
        entry = AuditEntry.objects.filter(model_id=victim).latest("id")
        print("status", response.status_code, response.headers.get("Location"))
        still_there = SandboxModel.objects.filter(pk=victim).exists()
        print("remaining", SandboxModel.objects.count(), still_there)
        print("audit", AuditEntry.objects.filter(model_id=victim).count(), entry.username)
        print("outcome", entry.outcome, entry.upstream_status, entry.upstream_request_id[:4])
        """
    )

    assert lines == [
        "status 302 /u/default/models/",
        "remaining 63 False",
        "audit 1 owner",
        "outcome deleted 200 req_",
    ]


def test_forty_concurrent_wrong_guesses_on_postgresql_check_at_most_the_limit(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    env = clean_env(
        DATABASE_URL=cluster.database_url,
        LOGIN_FAILURE_LIMIT="5",
        LOGIN_FAILURE_LIMIT_PER_ADDRESS="1000",
    )

    tally = race(env, tmp_path / "sync", username="owner", address="203.0.113.9")

    assert tally == {"invalid_login": 5, "throttled": 35, "checked": 5}
    lines = cluster.shell(
        """
        from dashboard.models import LoginFailure
        print(sorted(LoginFailure.objects.values_list("address", "count")))
        """
    )
    assert lines == [str([("203.0.113.9", 5), ("203.0.113.9", 5)])]
