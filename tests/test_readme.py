"""The README's settings table names exactly the environment variables the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# env.int("NAME", …), _env("NAME"), os.environ.get("NAME"), os.environ["NAME"], os.getenv("NAME")
READS = re.compile(
    r"""(?:\benv\.[a-z]+|\b_env|\bos\.environ\.get|\bos\.getenv)\(\s*"([A-Z][A-Z0-9_]+)"|"""
    r"""\bos\.environ\[\s*"([A-Z][A-Z0-9_]+)"\s*\]"""
)
MAKE_VARIABLES = re.compile(r"^([A-Z][A-Z0-9_]*) \?=", re.MULTILINE)


def names_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for package in ("dashboard", "modelsclient"):
        for source in (ROOT / package).rglob("*.py"):
            for match in READS.finditer(source.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    names |= set(MAKE_VARIABLES.findall((ROOT / "Makefile").read_text(encoding="utf-8")))
    return names


def names_in_the_settings_table() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Settings (environment)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_code_reads_the_variables_this_test_expects_to_find() -> None:
    # Guards the pattern itself: these reads are known to exist.
    assert {"OPENAI_API_KEY", "DJANGO_ALLOWED_HOSTS", "SANDBOX_LATENCY", "PORT"} <= (
        names_read_by_the_code()
    )


def test_every_variable_the_code_reads_is_in_the_readme_settings_table() -> None:
    assert names_read_by_the_code() - names_in_the_settings_table() == set()


def test_the_readme_settings_table_names_no_variable_the_code_does_not_read() -> None:
    assert names_in_the_settings_table() - names_read_by_the_code() == set()


def test_the_readme_shows_how_to_choose_the_port() -> None:
    assert "PORT=9000 make run" in (ROOT / "README.md").read_text(encoding="utf-8")
