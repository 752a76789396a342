"""The public surface: one complete, sorted `__all__`, and a cheap `import modelsclient`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import modelsclient

REPO = Path(__file__).resolve().parents[2]
# Imported into the package namespace for its own use, not exported.
NOT_EXPORTS = {"annotations", "TYPE_CHECKING", "Any"}


def isort_style_key(name: str) -> tuple[int, list[int | str]]:
    """Ruff RUF022's "isort-style" order: CONSTANTS, then Classes, then the rest; natural sort."""
    if len(name) > 1 and name.isupper():
        category = 0
    elif name[:1].isupper():
        category = 1
    else:
        category = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return category, natural


def test_all_is_in_isort_style_order() -> None:
    assert modelsclient.__all__ == sorted(modelsclient.__all__, key=isort_style_key)


def test_the_isort_style_key_puts_constants_then_classes_then_the_rest() -> None:
    names = ["omit", "Client", "__version__", "NOT_GIVEN", "APIError", "DEFAULT_TIMEOUT", "Model2"]

    assert sorted(names, key=isort_style_key) == [
        "DEFAULT_TIMEOUT",
        "NOT_GIVEN",
        "APIError",
        "Client",
        "Model2",
        "__version__",
        "omit",
    ]


def test_all_has_no_duplicates() -> None:
    assert len(modelsclient.__all__) == len(set(modelsclient.__all__))


@pytest.mark.parametrize("name", modelsclient.__all__)
def test_every_name_in_all_is_importable_from_the_package(name: str) -> None:
    namespace: dict[str, Any] = {}

    exec(f"from modelsclient import {name}", namespace)

    assert namespace[name] is getattr(modelsclient, name)


def test_every_public_name_of_the_package_is_in_all() -> None:
    for name in modelsclient.__all__:
        getattr(modelsclient, name)  # load the lazy names too
    public = {
        name
        for name, value in vars(modelsclient).items()
        if not name.startswith("_")
        and name not in NOT_EXPORTS
        and not (isinstance(value, types.ModuleType) and name != "types")
    }

    assert public - set(modelsclient.__all__) == set()


def test_the_documented_names_are_exported() -> None:
    documented = {
        "Model",
        "ModelDeleted",
        "Models",
        "AsyncModels",
        "ModelsWithRawResponse",
        "ModelsWithStreamingResponse",
        "AsyncModelsWithRawResponse",
        "AsyncModelsWithStreamingResponse",
        "SyncPage",
        "AsyncPage",
        "AsyncPaginator",
        "NotGiven",
        "OpenAI",
        "AsyncOpenAI",
        "OpenAIError",
    }

    assert documented - set(modelsclient.__all__) == set()


def test_the_openai_aliases_are_the_clients() -> None:
    assert modelsclient.OpenAI is modelsclient.Client
    assert modelsclient.AsyncOpenAI is modelsclient.AsyncClient
    assert modelsclient.OpenAIError is modelsclient.ModelsClientError


def test_lazy_names_resolve_to_their_defining_modules() -> None:
    from modelsclient import _resources
    from modelsclient import types as model_types

    assert modelsclient.Model is model_types.Model
    assert modelsclient.ModelDeleted is model_types.ModelDeleted
    assert modelsclient.types is model_types
    assert modelsclient.Models is _resources.Models
    assert modelsclient.AsyncModelsWithStreamingResponse is (
        _resources.AsyncModelsWithStreamingResponse
    )


def test_an_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        modelsclient.Nope  # noqa: B018


IMPORT_PROBE = """
import gc, json, sys
import httpx

built = []
for cls in (httpx.Client, httpx.AsyncClient):
    def init(self, *args, _original=cls.__init__, **kwargs):
        built.append(type(self).__name__)
        _original(self, *args, **kwargs)
    cls.__init__ = init

import modelsclient

print(json.dumps({
    "pydantic": "pydantic" in sys.modules,
    "asyncio": "asyncio" in sys.modules,
    "loaded": sorted(name for name in sys.modules if name.startswith("modelsclient")),
    "http_clients": built,
    "clients": [
        type(obj).__name__ for obj in gc.get_objects()
        if isinstance(obj, (modelsclient.Client, modelsclient.AsyncClient))
    ],
}))
"""


@pytest.fixture(scope="module")
def fresh_import() -> dict[str, Any]:
    """What `import modelsclient` does in a new interpreter without any OPENAI_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_importing_the_package_does_not_import_pydantic(fresh_import: dict[str, Any]) -> None:
    assert fresh_import["pydantic"] is False
    assert "modelsclient.types" not in fresh_import["loaded"]
    assert "modelsclient._resources" not in fresh_import["loaded"]


def test_importing_the_package_does_not_import_asyncio(fresh_import: dict[str, Any]) -> None:
    assert fresh_import["asyncio"] is False


def test_importing_the_package_builds_no_client(fresh_import: dict[str, Any]) -> None:
    assert fresh_import["http_clients"] == []
    assert fresh_import["clients"] == []


def test_the_fine_tuning_and_usage_resources_and_pages_are_exported() -> None:
    from modelsclient import _admin, _checkpoints, _fine_tuning

    assert modelsclient.Jobs is _fine_tuning.Jobs
    assert modelsclient.AsyncCheckpointsWithStreamingResponse is (
        _checkpoints.AsyncCheckpointsWithStreamingResponse
    )
    assert modelsclient.Usage is _admin.Usage
    assert {"SyncCursorPage", "AsyncCursorPage", "SyncUsagePage", "AsyncUsagePage"} <= set(
        modelsclient.__all__
    )


def test_the_new_types_live_under_the_official_module_paths() -> None:
    from modelsclient.types.admin.organization import UsageCompletionsResponse
    from modelsclient.types.fine_tuning import FineTuningJob
    from modelsclient.types.fine_tuning.jobs import FineTuningJobCheckpoint

    assert FineTuningJob.__module__ == "modelsclient.types.fine_tuning.fine_tuning_job"
    assert FineTuningJobCheckpoint.__module__.startswith("modelsclient.types.fine_tuning.jobs")
    assert UsageCompletionsResponse.__module__ == (
        "modelsclient.types.admin.organization.usage_completions_response"
    )
    assert "FineTuningJob" not in modelsclient.__all__  # as in openai: under `types` only
