"""Telling an English sentence on a page that should be all Vietnamese."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Words no Vietnamese sentence uses, but nearly every English one does.
# ("to", "an", "no" are Vietnamese words too: big, safe, full.)
_ENGLISH_WORDS = frozenset(
    {"the", "is", "are", "was", "not", "of", "and", "this", "that", "with", "for", "cannot", "has", "have"}
    | {"its", "or", "only", "must", "should", "which", "there", "here"}
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:  # what a person reads without it being text: titles, labels, placeholders
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def english_sentences(html: str) -> list[str]:
    """The pieces of text of `html` that read as English: two or more words only English uses."""
    parser = _Text()
    parser.feed(html)
    found = []
    for part in parser.parts:
        words = re.findall(r"[^\W\d_]+", part.lower())
        if sum(word in _ENGLISH_WORDS for word in words) >= 2:
            found.append(part)
    return found
