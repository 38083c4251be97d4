"""Vietnamese text folded for comparison: no tone marks, đ as d, no case.

One folding for every search and match (the catalogue's indicator and area search, the explorer's filter, province
names on maps), so that "Đắk Lắk", "dak lak" and "DAK LAK" find the same thing everywhere.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case ASCII form for searching with or without Vietnamese tone marks."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()
