"""Reading pages in tests with a parser (the standard library's), never with regexes."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, as a reader sees it: entities decoded, whitespace collapsed."""
        return " ".join("".join(self.parts).split())

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Element] = []
        self.open: list[Element] = []
        self.text_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.found.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        for element in self.open:
            element.parts.append(data)


def find_all(html: str | bytes, tag: str, **attrs: str) -> list[Element]:
    """Every `tag` element whose attributes equal `attrs` (`class_` for class, `_` for `-`);
    a class given is matched as one of the element's classes."""
    collector = _Collector()
    collector.feed(html.decode() if isinstance(html, bytes) else html)
    collector.close()
    wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
    css_class = wanted.pop("class", None)
    return [
        element
        for element in collector.found
        if element.tag == tag
        and (css_class is None or element.has_class(css_class))
        and all(element.attrs.get(name) == value for name, value in wanted.items())
    ]


def find(html: str | bytes, tag: str, **attrs: str) -> Element:
    """The one matching element; fails the test if there is not exactly one."""
    found = find_all(html, tag, **attrs)
    assert len(found) == 1, f"{len(found)} <{tag}> elements match {attrs}"
    return found[0]


def text(html: str | bytes) -> str:
    """All the text of a page as a reader sees it: entities decoded, whitespace collapsed."""
    collector = _Collector()
    collector.feed(html.decode() if isinstance(html, bytes) else html)
    return " ".join(" ".join(collector.text_parts).split())
