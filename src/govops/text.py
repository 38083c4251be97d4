"""Vietnamese text folded for comparison, and sorted as a Vietnamese reader expects.

One folding for every search and match (the catalogue's indicator and area search, the explorer's filter, province
names on maps), so that "Đắk Lắk", "dak lak" and "DAK LAK" find the same thing everywhere; one collation for every
list sorted by name, so that "Đà Nẵng" comes after "Dương" and "Hà" after "Ha".
"""

from __future__ import annotations

import unicodedata

# The Vietnamese alphabet (with f, j, w, z for foreign words): ă and â are letters of their own after a, đ after d.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: 100 + rank for rank, letter in enumerate(_ALPHABET)}
# Marks that make a letter (ă, â, ê, ô, ơ, ư) rather than a tone.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
# Tones in dictionary order after the level tone: huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def fold(text: str) -> str:
    """Lower-case ASCII form for searching with or without Vietnamese tone marks."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()


def collation_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """Sort key in Vietnamese dictionary order: letters first (a < ă < â, d < đ, o < ô < ơ, u < ư), then tones
    (level, huyền, hỏi, ngã, sắc, nặng: Ha < Hà < Há < Hạ), then case. Spaces and digits come before letters,
    other characters after them."""
    letters: list[int] = []
    tones: list[int] = []
    for base, marks in _letters(text.casefold()):
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _LETTER_MARKS))
        if letter in _LETTER_RANK:
            letters.append(_LETTER_RANK[letter])
        elif base.isspace():
            letters.append(0)
        elif base.isdigit():
            letters.append(10 + int(base) if base.isascii() else 20)
        elif unicodedata.category(base).startswith("P"):
            continue  # "Bội thu (bội chi)" sorts by its words, not by the bracket
        else:
            letters.append(1000 + ord(base))
        tones.append(max((_TONE_RANK.get(m, 0) for m in marks), default=0))
    return tuple(letters), tuple(tones), text


def _letters(text: str) -> list[tuple[str, list[str]]]:
    """Each base character with the combining marks that follow it (đ stays a letter: it has no decomposition)."""
    out: list[tuple[str, list[str]]] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and out:
            out[-1][1].append(char)
        else:
            out.append((char, []))
    return out
