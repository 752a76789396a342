"""`manage.py seed_sandbox` (deterministic, realistic data) and `manage.py setup_demo`."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.sandbox.models import SandboxModel

BASE_OWNERS = {"system", "openai", "openai-internal"}
FINE_TUNE_ID = re.compile(r"^ft:[^:]+:acme:[^:]*:[A-Za-z0-9]{8}(:ckpt-step-\d+)?$")
UNUSUAL_IDS = {"acme/llama-3.1-8b-support", "acme:100%-recall", "acme/модель-ru"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """setup_demo hashes three passwords; the default hasher is slow by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> list[tuple[str, str, Any]]:
    return list(SandboxModel.objects.order_by("id").values_list("id", "owned_by", "shutdown_date"))


# --- seed_sandbox ---------------------------------------------------------------------------


def test_seed_sandbox_seeds_64_models_by_default(db: None) -> None:
    output = run("seed_sandbox")

    assert SandboxModel.objects.count() == 64
    assert "Sandbox seeded with 64 models." in output


def test_seed_sandbox_twice_gives_the_same_ids_owners_and_shutdown_dates(db: None) -> None:
    run("seed_sandbox")
    first = snapshot()
    SandboxModel.objects.filter(owned_by="acme").update(owned_by="someone-else")

    run("seed_sandbox", "--reset")

    assert snapshot() == first
    assert len(first) == 64


def test_seeded_base_models_belong_to_the_provider(db: None) -> None:
    run("seed_sandbox")

    base = SandboxModel.objects.exclude(owned_by="acme")

    assert set(base.values_list("owned_by", flat=True)) == BASE_OWNERS
    assert {"gpt-4o", "gpt-4o-mini", "o3", "whisper-1", "text-embedding-3-small"} <= set(
        base.values_list("id", flat=True)
    )
    assert not base.filter(id__startswith="ft:").exists()


def test_seeded_fine_tunes_follow_the_ft_id_format_and_belong_to_the_organisation(
    db: None,
) -> None:
    run("seed_sandbox")

    acme = dict(SandboxModel.objects.filter(owned_by="acme").values_list("id", "owned_by"))
    fine_tunes = [model_id for model_id in acme if model_id.startswith("ft:")]

    assert len(fine_tunes) >= 30
    assert [m for m in fine_tunes if not FINE_TUNE_ID.match(m)] == []
    assert set(acme) - set(fine_tunes) == UNUSUAL_IDS
    assert not SandboxModel.objects.filter(id__startswith="ft:").exclude(owned_by="acme").exists()
    assert any(re.search(r":ckpt-step-\d+$", m) for m in fine_tunes)


def test_seeded_models_span_two_years_and_some_have_a_shutdown_date(db: None) -> None:
    run("seed_sandbox")

    created = list(SandboxModel.objects.values_list("created", flat=True))
    span_days = (max(created) - min(created)) / 86400

    assert SandboxModel.objects.count() >= 60
    assert 600 < span_days <= 731
    assert SandboxModel.objects.filter(shutdown_date__isnull=False).count() >= 5
    assert SandboxModel.objects.filter(shutdown_date__isnull=True).count() >= 40


def test_seed_sandbox_at_scale_gives_exactly_10000_unique_models(db: None) -> None:
    output = run("seed_sandbox", "--size", "10000")

    ids = list(SandboxModel.objects.values_list("id", flat=True))
    assert len(ids) == 10000
    assert len(set(ids)) == 10000
    assert "Sandbox seeded with 10000 models." in output


def test_seed_sandbox_if_empty_keeps_existing_rows_and_their_deletes(db: None) -> None:
    run("seed_sandbox")
    SandboxModel.objects.filter(pk="acme:100%-recall").delete()

    output = run("seed_sandbox", "--if-empty")

    assert "Sandbox already has 63 models; left as is." in output
    assert SandboxModel.objects.count() == 63
    assert not SandboxModel.objects.filter(pk="acme:100%-recall").exists()


def test_seed_sandbox_if_empty_seeds_an_empty_sandbox(db: None) -> None:
    output = run("seed_sandbox", "--if-empty")

    assert SandboxModel.objects.count() == 64
    assert "Sandbox seeded with 64 models." in output


def test_seed_sandbox_reset_restores_deleted_models_and_says_it_replaced_them(db: None) -> None:
    run("seed_sandbox")
    SandboxModel.objects.filter(pk="acme:100%-recall").delete()
    SandboxModel.objects.create(id="ft:stray:acme::ABCDEFGH", created=0, owned_by="acme")

    output = run("seed_sandbox", "--reset")

    assert "Sandbox reset: 64 models replaced by 64." in output
    assert SandboxModel.objects.count() == 64
    assert SandboxModel.objects.filter(pk="acme:100%-recall").exists()
    assert not SandboxModel.objects.filter(pk="ft:stray:acme::ABCDEFGH").exists()


def test_seed_sandbox_with_a_size_on_a_sandbox_with_models_refuses_and_names_reset(
    db: None,
) -> None:
    run("seed_sandbox")
    SandboxModel.objects.filter(pk="acme:100%-recall").delete()

    with pytest.raises(CommandError) as refused:
        run("seed_sandbox", "--size", "10000")

    assert "already has 63 models" in str(refused.value)
    assert "--reset" in str(refused.value)
    assert SandboxModel.objects.count() == 63  # nothing replaced


def test_seed_sandbox_with_a_real_api_key_says_the_sandbox_is_off_and_seeds_nothing(
    db: None, settings: Any
) -> None:
    settings.OPENAI_API_KEY = "sk-live-0123456789"
    settings.SANDBOX_ENABLED = False

    output = run("seed_sandbox", "--if-empty")

    assert "OPENAI_API_KEY is set" in output
    assert "sandbox is off and was not seeded" in output
    assert "seeded with" not in output
    assert SandboxModel.objects.count() == 0


@pytest.mark.parametrize("size", ["0", "-5"])
def test_seed_sandbox_refuses_a_size_below_one_and_leaves_the_sandbox_alone(
    db: None, size: str
) -> None:
    run("seed_sandbox")

    with pytest.raises(CommandError, match="--size must be at least 1"):
        call_command("seed_sandbox", "--size", size, stdout=StringIO(), stderr=StringIO())

    assert SandboxModel.objects.count() == 64


# --- setup_demo -----------------------------------------------------------------------------


def test_setup_demo_creates_the_three_demo_logins_in_their_groups(db: None) -> None:
    run("setup_demo")

    users = {u.username: u for u in User.objects.prefetch_related("groups")}
    assert set(users) == {"owner", "admin", "support"}
    assert all(u.check_password("demo") for u in users.values())
    assert {name: [g.name for g in u.groups.all()] for name, u in users.items()} == {
        "owner": ["Owner"],
        "admin": ["Admin"],
        "support": ["Support"],
    }
    assert {name: u.is_staff for name, u in users.items()} == {
        "owner": True,
        "admin": True,
        "support": False,
    }
    assert not any(u.is_superuser for u in users.values())


def test_setup_demo_prints_the_logins(db: None) -> None:
    output = run("setup_demo")

    assert "Demo logins (sandbox mode):" in output
    assert re.search(r"owner\s+/ demo\s+Owner", output)
    assert re.search(r"admin\s+/ demo\s+Admin", output)
    assert re.search(r"support\s+/ demo\s+Support", output)


def test_setup_demo_run_twice_keeps_three_users(db: None) -> None:
    run("setup_demo")
    run("setup_demo")

    assert User.objects.count() == 3
    assert User.objects.get(username="owner").groups.get().name == "Owner"


def test_setup_demo_with_a_real_api_key_creates_no_users(db: None, settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-live-real-key-0123456789"

    output = run("setup_demo")

    assert User.objects.count() == 0
    assert "createsuperuser" in output
    assert "OPENAI_API_KEY is set" in output


@pytest.mark.parametrize(
    ("username", "may_delete", "may_view_audit"),
    [("owner", True, True), ("admin", False, True), ("support", False, False)],
)
def test_demo_roles_carry_the_right_permissions(
    db: None, username: str, may_delete: bool, may_view_audit: bool
) -> None:
    run("setup_demo")

    user = User.objects.get(username=username)

    assert user.has_perm("dashboard.delete_upstream_model") is may_delete
    assert user.has_perm("dashboard.view_audit_log") is may_view_audit
