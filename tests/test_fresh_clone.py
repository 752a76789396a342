"""A clone with nothing beside it is the whole project: every file a test reads is in it.

A green run in the working tree can hide a missing file (a document read from beside the
repository, a file never committed); a fresh clone in an empty folder cannot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    empty = tmp_path_factory.mktemp("empty")  # the clone's only neighbour is nothing
    clone = empty / "models-dashboard"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)],
        check=True,
        timeout=120,
    )
    assert sorted(p.name for p in empty.iterdir()) == ["models-dashboard"]
    return clone


def _run(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, *args],
        cwd=clone,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_clone_imports_its_own_code_not_this_checkout(fresh_clone: Path) -> None:
    result = _run(fresh_clone, "-c", "import dashboard, modelsclient; print(dashboard.__file__)")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(fresh_clone)


def test_a_clone_in_an_empty_folder_collects_every_test(fresh_clone: Path) -> None:
    result = _run(fresh_clone, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stdout.lower().splitlines()[-1]


def test_a_clone_in_an_empty_folder_checks_the_api_documents_examples(fresh_clone: Path) -> None:
    result = _run(
        fresh_clone,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/modelsclient/test_examples.py",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout.splitlines()[-1]
    assert "failed" not in result.stdout.splitlines()[-1]
