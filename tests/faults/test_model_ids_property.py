"""Any model id, generated: through the client and through the dashboard's detail and delete
pages, an id stays one path segment upstream, comes back unchanged, and is shown as text.

The client sees over 10,000 distinct generated ids (1,600 examples of 10 ids; each id
retrieved and deleted), the dashboard 600 (each
page opened, then its delete link followed): unicode, "/", "..", "%2F", "?", "#", markup,
whitespace and very long ids among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modelsclient
from dashboard.converters import is_valid_model_id

from .pages import read, text_of

CLIENT_IDS = 10_000  # distinct ids at least (1,600 examples of 10 give about 11,000)
CLIENT_EXAMPLES = 1_600
BATCH = 10  # distinct ids per example through the client: hypothesis's overhead, once a batch
DASHBOARD_EXAMPLES = 600
API_BASE = "https://api.example.test/v1"
MODELS_PREFIX = b"/v1/models/"
# Markup an id may carry; the pages never use these elements themselves.
MARKUP = ["<b>", "</b>", "<i>x</i>", "<img src=x onerror=alert(1)>", "<iframe>", "<u>"]
MARKUP_TAGS = {"b", "i", "img", "iframe", "u"}
PIECES = [
    *MARKUP,
    *["/", "//", ".", "..", "../", "%2F", "%2f", "%", "%25", "%00", "?", "?a=1", "#", "#top"],
    *['"', "'", "&", "&amp;", "&#0;", "\\", "+", ";", "=", ":", "@", "ft:", "~"],
    *[" ", "  ", "\t", "\n", "\r", "\u00a0", "\u2028", "\u200b", "\ufeff", "\x00", "\x7f"],
    *["é", "e\u0301", "модель", "模型", "😀", "\U0001f3f3\ufe0f\u200d\U0001f308", "\u202e"],
]
SURROGATE = st.characters(categories=["Cs"])


def _ids(*, surrogates: bool) -> st.SearchStrategy[str]:
    """Ids of every awkward kind (lone surrogates only where the id need not be stored)."""
    kinds = [
        st.text(max_size=40),  # any unicode
        st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=10).map("".join),
        st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2003\u3000", min_size=1, max_size=6),
        # Very long (often over the dashboard's 512): random ends around a long middle
        # (random text of that length is slow to generate).
        st.tuples(st.text(max_size=8), st.text(min_size=1, max_size=4), st.integers(100, 640)).map(
            lambda parts: parts[0] + parts[1] * (parts[2] // len(parts[1])) + parts[0]
        ),
        st.sampled_from(["", ".", "..", "/", "%2F", "?", "#", "<b>x</b>", "a/../b", " x "]),
    ]
    if surrogates:
        kinds.append(
            st.tuples(st.text(max_size=4), st.text(SURROGATE, min_size=1, max_size=2)).map("".join)
        )
    return st.one_of(kinds)


def _client_accepts(model_id: str) -> bool:
    """The ids `modelsclient` sends; the others raise its documented ValueError."""
    if model_id in ("", ".", ".."):
        return False
    try:
        model_id.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no URL can carry it
        return False
    return True


def _segment(request: httpx.Request) -> bytes:
    """The path after `/v1/models/`, asserting it is exactly one segment and no query."""
    raw_path = request.url.raw_path
    assert raw_path.startswith(MODELS_PREFIX), raw_path
    segment = raw_path.removeprefix(MODELS_PREFIX)
    assert segment, raw_path
    assert not set(segment) & set(b"/?#"), raw_path
    assert segment not in (b".", b".."), raw_path
    assert request.url.query == b""
    segment.decode("ascii")  # only percent-encoded bytes go on the wire
    return segment


def _echo(request: httpx.Request) -> httpx.Response:
    """An upstream that answers for whatever id arrived, percent-decoded once as a server does:
    the id it answers with is the id the client sent only if the segment round-trips."""
    model_id = unquote(_segment(request).decode("ascii"), errors="strict")
    if request.method == "DELETE":
        return httpx.Response(200, json={"id": model_id, "object": "model", "deleted": True})
    body = {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "acme"}
    return httpx.Response(200, json=body)


def test_any_id_through_the_client_is_one_segment_that_round_trips() -> None:
    sent: list[httpx.Request] = []
    seen: set[str] = set()

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _echo(request)

    http = httpx.Client(transport=httpx.MockTransport(upstream))
    api = modelsclient.OpenAI(api_key="sk-test", base_url=API_BASE, http_client=http)

    @settings(
        max_examples=CLIENT_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
    )
    @given(st.lists(_ids(surrogates=True), min_size=BATCH, max_size=BATCH, unique=True))
    def check(model_ids: list[str]) -> None:
        for model_id in model_ids:
            seen.add(model_id)
            sent.clear()
            if not _client_accepts(model_id):
                with pytest.raises(ValueError):
                    api.models.retrieve(model_id)
                with pytest.raises(ValueError):
                    api.models.delete(model_id)
                assert sent == []
                continue
            retrieved = api.models.retrieve(model_id)  # _echo asserts one segment, no query
            deleted = api.models.delete(model_id)
            assert [r.method for r in sent] == ["GET", "DELETE"]
            assert retrieved.id == model_id  # decoded upstream, the segment gave the id back
            assert deleted.id == model_id and deleted.deleted is True

    with api:
        check()
    assert len(seen) >= CLIENT_IDS


@pytest.fixture
def upstream(settings: Any) -> Iterator[respx.MockRouter]:
    """The dashboard on a "real" API (mocked with respx) that echoes any id it is asked for."""
    settings.OPENAI_API_KEY = "sk-live-property-0123456789"
    settings.OPENAI_BASE_URL = API_BASE
    settings.UPSTREAM_MAX_RETRIES = 0
    with respx.mock(base_url=API_BASE, assert_all_called=False) as router:
        router.route().mock(side_effect=_echo)
        yield router


def _shows_as_text(html: str, model_id: str) -> None:
    """The id is in a text node, and none of its markup became an element."""
    page = read(html)
    assert any(model_id in text for text in page.texts), model_id
    assert not MARKUP_TAGS & set(page.tags), sorted(MARKUP_TAGS & set(page.tags))


def _delete_link(html: str) -> str:
    links = [
        value
        for value in read(html).attribute_values
        if value.endswith("/delete/?next=/u/default/models/")
    ]
    assert links, "the detail page links to the delete page"
    return links[0]


def test_any_id_through_the_detail_and_delete_pages_is_never_a_500_and_shows_as_text(
    upstream: respx.MockRouter, owner: Client
) -> None:
    seen: set[str] = set()

    @settings(
        max_examples=DASHBOARD_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(_ids(surrogates=False).filter(bool))
    def check(model_id: str) -> None:
        seen.add(model_id)
        upstream.reset()
        detail = owner.get(reverse("model-detail", args=["default", model_id]))
        if not is_valid_model_id(model_id):  # control characters, or over 512 characters
            assert detail.status_code == 404
            assert upstream.calls.call_count == 0
            return
        if model_id in (".", ".."):  # a dot segment: the client refuses it, the page says so
            assert detail.status_code == 400
            assert "Invalid model id" in text_of(detail.content.decode())
            assert upstream.calls.call_count == 0
            return
        assert detail.status_code == 200
        _shows_as_text(detail.content.decode(), model_id)
        link = _delete_link(detail.content.decode())
        assert (
            link == reverse("model-delete", args=["default", model_id]) + "?next=/u/default/models/"
        )

        confirm = owner.get(link)

        assert confirm.status_code == 200
        _shows_as_text(confirm.content.decode(), model_id)
        requests = [call.request for call in upstream.calls]
        assert [r.method for r in requests] == ["GET", "GET"]
        for request in requests:
            assert unquote(_segment(request).decode("ascii"), errors="strict") == model_id

    check()
    assert len(seen) >= DASHBOARD_EXAMPLES * 0.9
