"""Client construction: environment fallbacks, option checks, copies, closing and injection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import modelsclient
from modelsclient import AsyncClient, AsyncOpenAI, Client, ModelsClientError, OpenAI

from .conftest import Twin, resolve

MODEL = {"id": "x", "object": "model", "created": 1686935002, "owned_by": "openai"}


class Recorder:
    """A mock API that answers every retrieve and keeps the requests it received."""

    def __init__(self, code: int = 200) -> None:
        self.code = code
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.code, json=MODEL)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def api() -> Recorder:
    return Recorder()


async def retrieve(api_client: Any, model: str = "x", **kwargs: Any) -> Any:
    return await resolve(api_client.models.retrieve(model, **kwargs))


async def close(api_client: Any) -> None:
    await resolve(api_client.close())


# --- environment ---------------------------------------------------------------------------


async def test_environment_supplies_key_base_url_organization_and_project(
    twin: Twin, api: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example.test/openai/v1")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_env")
    api_client = twin.client(api, api_key=None, base_url=None)

    await retrieve(api_client)

    assert str(api.last.url) == "https://proxy.example.test/openai/v1/models/x"
    assert api.last.headers.get_list("authorization") == ["Bearer sk-from-env"]
    assert api.last.headers["openai-organization"] == "org-env"
    assert api.last.headers["openai-project"] == "proj_env"
    assert api_client.api_key == "sk-from-env"
    assert api_client.organization == "org-env"
    assert api_client.project == "proj_env"


async def test_arguments_win_over_the_environment(
    twin: Twin, api: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://env.example.test/v1")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_env")
    api_client = twin.client(
        api,
        api_key="sk-arg",
        base_url="https://arg.example.test/v2",
        organization="org-arg",
        project="proj_arg",
    )

    await retrieve(api_client)

    assert str(api.last.url) == "https://arg.example.test/v2/models/x"
    assert api.last.headers["authorization"] == "Bearer sk-arg"
    assert api.last.headers["openai-organization"] == "org-arg"
    assert api.last.headers["openai-project"] == "proj_arg"


async def test_empty_base_url_variable_counts_as_unset(
    twin: Twin, api: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    api_client = twin.client(api, base_url=None)

    await retrieve(api_client)

    assert str(api.last.url) == "https://api.openai.com/v1/models/x"


async def test_empty_organization_and_project_variables_send_no_headers(
    twin: Twin, api: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "")
    api_client = twin.client(api)

    await retrieve(api_client)

    assert "openai-organization" not in api.last.headers
    assert "openai-project" not in api.last.headers


async def test_default_base_url_is_the_openai_api(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, base_url=None)

    await retrieve(api_client)

    assert str(api.last.url) == "https://api.openai.com/v1/models/x"
    assert str(api_client.base_url) == "https://api.openai.com/v1/"


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
@pytest.mark.parametrize("empty_key", [None, ""])
def test_missing_api_key_is_a_clear_error_naming_argument_and_variable(
    client_class: type[Any], empty_key: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")

    with pytest.raises(ModelsClientError) as info:
        client_class(api_key=empty_key)

    assert "api_key" in str(info.value)
    assert "OPENAI_API_KEY" in str(info.value)


# --- option checks -------------------------------------------------------------------------


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
@pytest.mark.parametrize("max_retries", [-1, "2", 1.5, None, True])
def test_max_retries_must_be_a_non_negative_int(client_class: type[Any], max_retries: Any) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        client_class(api_key="sk-test", max_retries=max_retries)


@pytest.mark.parametrize("max_retries", [0, 1, 5])
def test_valid_max_retries_is_kept(max_retries: int) -> None:
    assert Client(api_key="sk-test", max_retries=max_retries).max_retries == max_retries


def test_default_max_retries_is_two() -> None:
    assert Client(api_key="sk-test").max_retries == 2


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.example.test/v1",
        "https://api.example.test/v1/",
        httpx.URL("https://api.example.test/v1"),
    ],
)
async def test_base_url_with_or_without_trailing_slash_gives_the_same_path(
    twin: Twin, api: Recorder, base_url: str | httpx.URL
) -> None:
    api_client = twin.client(api, base_url=base_url)

    await retrieve(api_client)

    assert api.last.url.raw_path == b"/v1/models/x"
    assert api.last.url.host == "api.example.test"


async def test_base_url_without_a_path_puts_models_at_the_root(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, base_url="http://localhost:8080")

    await retrieve(api_client)

    assert str(api.last.url) == "http://localhost:8080/models/x"


async def test_changing_base_url_after_construction_takes_effect(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, base_url="https://one.example.test/v1")
    await retrieve(api_client)

    api_client.base_url = "https://two.example.test/api"
    await retrieve(api_client)

    assert str(api.last.url) == "https://two.example.test/api/models/x"
    assert str(api_client.base_url) == "https://two.example.test/api/"


# --- copies --------------------------------------------------------------------------------


async def test_with_options_changes_only_what_was_asked(twin: Twin, api: Recorder) -> None:
    original = twin.client(
        api,
        organization="org-1",
        timeout=30.0,
        max_retries=3,
        default_headers={"X-Team": "blue"},
        default_query={"api-version": "1"},
    )

    changed = original.with_options(max_retries=0, default_headers={"X-Trace": "on"})
    await retrieve(changed)
    (copied,) = api.requests
    await retrieve(original)

    assert changed is not original
    assert type(changed) is type(original)
    assert changed.max_retries == 0
    assert original.max_retries == 3
    assert changed.api_key == original.api_key == "sk-test"
    assert changed.base_url == original.base_url
    assert changed.timeout == original.timeout == httpx.Timeout(30.0)
    assert changed.organization == "org-1"
    assert copied.headers["x-team"] == "blue"
    assert copied.headers["x-trace"] == "on"
    assert copied.headers["openai-organization"] == "org-1"
    assert copied.url.params["api-version"] == "1"
    assert copied.extensions["timeout"]["read"] == 30.0
    assert "x-trace" not in api.last.headers


async def test_with_options_copy_uses_the_new_retry_budget(twin: Twin) -> None:
    failing = Recorder(code=503)
    original = twin.client(failing, max_retries=2)

    with pytest.raises(modelsclient.InternalServerError):
        await retrieve(original.with_options(max_retries=0))

    assert len(failing.requests) == 1


@pytest.mark.parametrize("method", ["with_options", "copy"])
async def test_copy_shares_the_http_client_and_closing_it_keeps_the_pool_open(
    twin: Twin, api: Recorder, method: str
) -> None:
    original = twin.client(api)
    http_client = original._http

    duplicate = getattr(original, method)(max_retries=0)
    await close(duplicate)

    assert duplicate._http is http_client
    assert not http_client.is_closed
    await retrieve(original)
    assert len(api.requests) == 1

    await close(original)

    assert http_client.is_closed


@pytest.mark.parametrize("method", ["with_options", "copy"])
async def test_copy_of_a_copy_does_not_close_the_shared_pool(
    twin: Twin, api: Recorder, method: str
) -> None:
    original = twin.client(api)

    grandchild = getattr(getattr(original, method)(), method)(default_headers={"X-A": "1"})
    await close(grandchild)

    assert not original._http.is_closed
    await retrieve(original)
    assert len(api.requests) == 1


async def test_copy_with_its_own_http_client_closes_only_that_client(
    twin: Twin, api: Recorder
) -> None:
    original = twin.client(api)
    transport = httpx.MockTransport(api)
    own = (
        httpx.AsyncClient(transport=transport)
        if twin.is_async
        else httpx.Client(transport=transport)
    )

    duplicate = original.with_options(http_client=own)
    await retrieve(duplicate)
    await close(duplicate)

    assert own.is_closed
    assert not original._http.is_closed


def test_with_options_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="max_retry"):
        Client(api_key="sk-test").with_options(max_retry=1)


# --- closing and injection -----------------------------------------------------------------


def test_sync_context_manager_closes_the_pool(api: Recorder) -> None:
    http_client = httpx.Client(transport=httpx.MockTransport(api))

    with Client(api_key="sk-test", http_client=http_client) as api_client:
        model = api_client.models.retrieve("x")
        assert not http_client.is_closed

    assert model.id == "x"
    assert http_client.is_closed


async def test_async_context_manager_closes_the_pool(api: Recorder) -> None:
    http_client = httpx.AsyncClient(transport=httpx.MockTransport(api))

    async with AsyncClient(api_key="sk-test", http_client=http_client) as api_client:
        model = await api_client.models.retrieve("x")
        assert not http_client.is_closed

    assert model.id == "x"
    assert http_client.is_closed


def test_context_manager_closes_its_own_pool() -> None:
    with Client(api_key="sk-test") as api_client:
        pool = api_client._http

    assert isinstance(pool, httpx.Client)
    assert pool.is_closed


async def test_async_context_manager_closes_its_own_pool() -> None:
    async with AsyncClient(api_key="sk-test") as api_client:
        pool = api_client._http

    assert isinstance(pool, httpx.AsyncClient)
    assert pool.is_closed


def test_injected_sync_http_client_is_the_transport(api: Recorder) -> None:
    http_client = httpx.Client(
        transport=httpx.MockTransport(api), headers={"X-From-Http-Client": "yes"}
    )
    api_client = Client(api_key="sk-test", base_url="https://a.test/v1", http_client=http_client)

    model = api_client.models.retrieve("x")

    assert model.id == "x"
    assert str(api.last.url) == "https://a.test/v1/models/x"
    assert api.last.headers["x-from-http-client"] == "yes"


async def test_injected_async_http_client_is_the_transport(api: Recorder) -> None:
    http_client = httpx.AsyncClient(
        transport=httpx.MockTransport(api), headers={"X-From-Http-Client": "yes"}
    )
    api_client = AsyncClient(
        api_key="sk-test", base_url="https://a.test/v1", http_client=http_client
    )

    model = await api_client.models.retrieve("x")

    assert model.id == "x"
    assert str(api.last.url) == "https://a.test/v1/models/x"
    assert api.last.headers["x-from-http-client"] == "yes"


async def test_injected_http_client_headers_never_duplicate_authorization(
    twin: Twin, api: Recorder
) -> None:
    transport = httpx.MockTransport(api)
    headers = {"authorization": "Bearer stale", "User-Agent": "someone-else/1.0"}
    if twin.is_async:
        api_client: Any = AsyncClient(
            api_key="sk-test", http_client=httpx.AsyncClient(transport=transport, headers=headers)
        )
    else:
        api_client = Client(
            api_key="sk-test", http_client=httpx.Client(transport=transport, headers=headers)
        )

    await retrieve(api_client)

    assert api.last.headers.get_list("authorization") == ["Bearer sk-test"]
    assert api.last.headers.get_list("user-agent") == [
        f"modelsclient/Python {modelsclient.__version__}"
    ]


async def test_injected_http_client_timeout_is_used_when_none_is_given(
    twin: Twin, api: Recorder
) -> None:
    transport = httpx.MockTransport(api)
    timeout = httpx.Timeout(42.0, connect=3.0)
    if twin.is_async:
        api_client: Any = AsyncClient(
            api_key="sk-test", http_client=httpx.AsyncClient(transport=transport, timeout=timeout)
        )
    else:
        api_client = Client(
            api_key="sk-test", http_client=httpx.Client(transport=transport, timeout=timeout)
        )

    await retrieve(api_client)

    assert api.last.extensions["timeout"] == timeout.as_dict()


async def test_passing_an_async_http_client_to_the_sync_client_is_a_type_error() -> None:
    async with httpx.AsyncClient() as http_client:
        with pytest.raises(TypeError, match="httpx.Client"):
            Client(api_key="sk-test", http_client=http_client)  # type: ignore[arg-type]


def test_passing_a_sync_http_client_to_the_async_client_is_a_type_error() -> None:
    with httpx.Client() as http_client, pytest.raises(TypeError, match="httpx.AsyncClient"):
        AsyncClient(api_key="sk-test", http_client=http_client)  # type: ignore[arg-type]


def test_openai_names_are_aliases_of_the_clients() -> None:
    assert OpenAI is Client
    assert AsyncOpenAI is AsyncClient
