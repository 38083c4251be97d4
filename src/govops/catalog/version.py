"""The catalogue's version: what a process that keeps the catalogue in memory checks before using it.

Every write to a catalogue table changes the stamp in the writer's transaction (database triggers, see
`CatalogueVersion`), so a reader that finds the stamp it built under may use what it built, and one that
finds another builds again: a change is seen by the very next reader, in any process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import CatalogueVersion

T = TypeVar("T")

# Stamps remembered per cache: the current one, and a few that readers still in flight may hold.
_KEEP = 4


def catalogue_stamp(session: Session) -> str | None:
    """The stamp as this transaction sees it (its own uncommitted writes included); None if the row is missing,
    in which case nothing may be kept."""
    return session.scalar(select(CatalogueVersion.stamp).where(CatalogueVersion.id == 1))


def kept_by_stamp(session: Session, cache: dict[str, T], read: Callable[[Session], T]) -> T:
    """What `read` builds from the catalogue as this transaction sees it: from `cache` while the stamp is the
    one it was built under, else built again (and kept under the stamp). Safe between threads; what is kept is
    shared, so read it, never change it."""
    stamp = catalogue_stamp(session)
    found = cache.get(stamp) if stamp is not None else None
    if found is None:
        found = read(session)
        # Kept only if no catalogue change was committed while it was read (PostgreSQL reads each statement
        # as of its own start): otherwise it may hold part of that change under the stamp before it.
        if stamp is not None and catalogue_stamp(session) == stamp:
            while len(cache) >= _KEEP:
                cache.pop(next(iter(cache), ""), None)
            cache[stamp] = found
    return found
