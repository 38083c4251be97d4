"""Finding indicators by what a person types: Vietnamese or English, with or without tone marks, by a synonym.

The catalogue holds a few hundred indicators: they are searched in memory, in Python, so that SQLite and
PostgreSQL answer alike. What is searched is built once per process and catalogue version (the stamp every
catalogue write changes), not once per request.

Relevance, best first: the exact code; a code that starts with what was typed; a name or a synonym equal to it;
a name, then a synonym, that contains it as whole words (the last word may be cut short, as while typing); every
word found as the start of a word of the code, names or synonyms; every word found with a typing slip; the text
found anywhere. "ph" and "f" are one sound and one letter here, so "lam fat" finds "lạm phát".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Indicator
from govops.catalog.version import catalogue_stamp
from govops.text import collation_key, fold

CODE_EXACT = 100
CODE_PREFIX = 90
NAME_EXACT = 80
SYNONYM_EXACT = 75
NAME_PHRASE = 60
SYNONYM_PHRASE = 55
ALL_WORDS = 40
ALL_WORDS_WITH_SLIPS = 20
ANYWHERE = 10


def search_key(text: str) -> str:
    """`fold`, with runs of anything but letters and digits as one space and "ph" written "f"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).replace("ph", "f").split())


@dataclass(frozen=True)
class Entry:
    """One indicator as the search sees it."""

    id: int
    code: str
    classification: str
    name_vi: str
    code_key: str
    names: tuple[str, ...]
    synonyms: tuple[str, ...]
    words: frozenset[str]
    everything: str
    order: tuple[tuple[int, ...], tuple[int, ...], str]  # the Vietnamese name's place in a sorted list

    @classmethod
    def of(cls, ind: Indicator) -> Entry:
        names = tuple(dict.fromkeys(search_key(n) for n in (ind.name_vi, ind.name_en) if n))
        synonyms = tuple(dict.fromkeys(search_key(s) for s in [*ind.keywords_vi, *ind.keywords_en] if s.strip()))
        code_key = search_key(ind.code)
        words = frozenset(w for text in (code_key, *names, *synonyms) for w in text.split())
        return cls(
            id=ind.id,
            code=ind.code,
            classification=ind.classification,
            name_vi=ind.name_vi,
            code_key=code_key,
            names=names,
            synonyms=synonyms,
            words=words,
            everything=" | ".join((code_key, *names, *synonyms)),
            order=collation_key(ind.name_vi),
        )

    def score(self, query: str, close: Mapping[str, frozenset[str]]) -> int:
        """How well this indicator answers `query` (a `search_key`); 0: not at all. `close` gives, for each word
        typed, the words of the catalogue it may be a slip for."""
        if query == self.code_key or query.replace(" ", "") == self.code_key.replace(" ", ""):
            return CODE_EXACT
        if self.code_key.startswith(query):
            return CODE_PREFIX
        if query in self.names:
            return NAME_EXACT
        if query in self.synonyms:
            return SYNONYM_EXACT
        if any(_phrase_in(query, name) for name in self.names):
            return NAME_PHRASE
        if any(_phrase_in(query, synonym) for synonym in self.synonyms):
            return SYNONYM_PHRASE
        typed = query.split()
        if all(any(w.startswith(t) for w in self.words) for t in typed):
            return ALL_WORDS
        if all(close[t] & self.words for t in typed):
            return ALL_WORDS_WITH_SLIPS
        if query in self.everything:
            return ANYWHERE
        return 0


def _phrase_in(query: str, text: str) -> bool:
    """The words of `query` appear together in `text`, from the start of a word (the last may be cut short)."""
    return f" {text}".find(f" {query}") >= 0


@lru_cache(maxsize=512)
def _close_words(vocabulary: frozenset[str], typed: str) -> frozenset[str]:
    """The words of `vocabulary` that `typed` may be a slip for (kept: a person types the same word again and
    again as the list narrows)."""
    return frozenset(w for w in vocabulary if _close(typed, w))


def _close(typed: str, word: str) -> bool:
    """A typing slip: one letter wrong, missing, extra or swapped with its neighbour (two in a long word);
    a word being typed matches the start of `word` the same way. Short words must be typed right."""
    if len(typed) < 4:
        return False
    allowed = 1 if len(typed) < 8 else 2
    return _distance(typed, word, allowed) <= allowed or _distance(typed, word[: len(typed)], allowed) <= allowed


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), giving up past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def rank(entries: Iterable[Entry], q: str) -> list[Entry]:
    """The entries that answer `q`, best first; equally good ones in Vietnamese order of their names."""
    query = search_key(q)
    entries = list(entries)
    if not query:
        return sorted(entries, key=lambda e: e.order)
    # Each word typed is compared with each word of the catalogue once, not once per indicator.
    vocabulary = frozenset(w for e in entries for w in e.words)
    close = {t: _close_words(vocabulary, t) for t in set(query.split())}
    scored = [(entry.score(query, close), entry) for entry in entries]
    found = [(score, entry) for score, entry in scored if score]
    found.sort(key=lambda pair: (-pair[0], pair[1].order))
    return [entry for _score, entry in found]


# Entries by catalogue stamp: a stamp names one catalogue, so a few are kept for a process serving several stores.
_INDEXES: dict[str, tuple[Entry, ...]] = {}
_KEEP = 4


def entries(session: Session) -> Sequence[Entry]:
    """Every indicator as the search sees it, built again only when the catalogue changed."""
    stamp = catalogue_stamp(session)
    found = _INDEXES.get(stamp) if stamp is not None else None
    if found is None:
        found = tuple(Entry.of(ind) for ind in session.scalars(select(Indicator).order_by(Indicator.id)))
        # Kept only if no catalogue change was committed while it was read (see `catalogue_stamp`).
        if stamp is not None and catalogue_stamp(session) == stamp:
            while len(_INDEXES) >= _KEEP:
                _INDEXES.pop(next(iter(_INDEXES)), None)
            _INDEXES[stamp] = found
    return found


def search(
    *,
    session: Session,
    q: str,
    classifications: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
) -> list[str]:
    """Codes of the indicators that answer `q`, best first, among those of `classifications` and `codes`
    (None: any)."""
    allowed_classes = set(classifications) if classifications is not None else None
    allowed_codes = set(codes) if codes is not None else None
    candidates = [
        e
        for e in entries(session)
        if (allowed_classes is None or e.classification in allowed_classes)
        and (allowed_codes is None or e.code in allowed_codes)
    ]
    return [e.code for e in rank(candidates, q)]
