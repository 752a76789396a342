"""Pages as a reader and a browser see them: text, text nodes and tags, read with a parser."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.attribute_values: list[str] = []
        self.tags: Counter[str] = Counter()
        self._hidden = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attribute_values += [value for _, value in attrs if value is not None]
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def text_of(html: str) -> str:
    """The visible text, entities decoded, whitespace collapsed."""
    return " ".join(" ".join(read(html).texts).split())


def text_nodes(html: str) -> list[str]:
    """Each text node as written (entities decoded), for exact comparisons."""
    return read(html).texts


def tags_of(html: str) -> Counter[str]:
    """How many elements of each tag name the page has."""
    return read(html).tags
