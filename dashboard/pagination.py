"""Numbered page links for any long list: first, last and a window around the current page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Paginator

ON_EACH_SIDE = 2  # pages shown either side of the current one
ON_ENDS = 1  # pages always shown at the start and at the end


@dataclass(frozen=True)
class PageLink:
    """One page's link (`query` is its `?…` href), or the gap `…` when `number` is None."""

    number: int | None
    query: str = ""
    current: bool = False


@dataclass(frozen=True)
class Pagination:
    """What `pagination.html` draws; `path` + a link's query is its htmx URL."""

    path: str
    number: int
    num_pages: int
    links: list[PageLink]
    previous: str  # the previous page's query, "" on the first page
    next: str  # the next page's query, "" on the last page


def paginate(path: str, number: int, num_pages: int, query: Callable[[int], str]) -> Pagination:
    """`1 … 4 5 [6] 7 8 … 20` from Django's elided page range; `query(n)` is page n's `?…`."""
    pages = Paginator(range(num_pages), 1)  # one item per page: only the numbering is wanted
    links = [
        PageLink(n, query(n), n == number) if isinstance(n, int) else PageLink(None)
        for n in pages.get_elided_page_range(number, on_each_side=ON_EACH_SIDE, on_ends=ON_ENDS)
    ]
    return Pagination(
        path=path,
        number=number,
        num_pages=num_pages,
        links=links,
        previous=query(number - 1) if number > 1 else "",
        next=query(number + 1) if number < num_pages else "",
    )
