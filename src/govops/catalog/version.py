"""The catalogue's version: what a process that keeps the catalogue in memory checks before using it.

Every write to a catalogue table changes the stamp in the writer's transaction (database triggers, see
`CatalogueVersion`), so a reader that finds the stamp it built under may use what it built, and one that
finds another builds again: a change is seen by the very next reader, in any process.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import CatalogueVersion


def catalogue_stamp(session: Session) -> str | None:
    """The stamp as this transaction sees it (its own uncommitted writes included); None if the row is missing,
    in which case nothing may be kept."""
    return session.scalar(select(CatalogueVersion.stamp).where(CatalogueVersion.id == 1))
