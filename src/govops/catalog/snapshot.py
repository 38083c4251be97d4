"""The indicators and groups in memory, for readers: pages and series ask for them on every request.

Read once per process and catalogue stamp (see `catalog.version`), with everything pages and series use
loaded (unit, owner, dimensions, groups), then detached from the session that read them: read them, never
change them or add them to a session. A catalogue write changes the stamp, so the next reader reads again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from govops.catalog.models import Indicator, IndicatorDimension, IndicatorGroup
from govops.catalog.version import catalogue_stamp
from govops.errors import NotFound


@dataclass(frozen=True)
class CatalogueSnapshot:
    indicators: Mapping[str, Indicator]
    groups: Mapping[str, IndicatorGroup]

    def indicator(self, code: str) -> Indicator:
        ind = self.indicators.get(code)
        if ind is None:
            raise NotFound(f"no indicator with code {code!r}", hint="list the codes with GET /api/v1/indicators")
        return ind


def catalogue_snapshot(session: Session) -> CatalogueSnapshot:
    """The catalogue as this transaction sees it: the one in memory if its stamp is still the store's."""
    stamp = catalogue_stamp(session)
    found = _SNAPSHOTS.get(stamp) if stamp is not None else None
    if found is not None:
        return found
    # Read in a session of its own, so that detaching what it read leaves the caller's objects alone; it sees
    # the committed catalogue, which is the caller's unless the caller changed it in its own transaction.
    with Session(session.get_bind()) as own:
        committed = catalogue_stamp(own)
        if committed is None or committed != stamp:
            return _read(session)  # the caller's own uncommitted catalogue: used once, never kept
        found = _read(own)
        # Kept only if no catalogue change was committed while it was read (as warehouse.validation).
        if catalogue_stamp(own) == committed:
            own.expunge_all()
            with _LOCK:
                while len(_SNAPSHOTS) >= _KEEP:
                    _SNAPSHOTS.pop(next(iter(_SNAPSHOTS)), None)
                _SNAPSHOTS[committed] = found
            return found
    return _read(session)


def _read(session: Session) -> CatalogueSnapshot:
    indicators = list(
        session.scalars(
            select(Indicator).options(
                joinedload(Indicator.unit),
                joinedload(Indicator.owner),
                selectinload(Indicator.dimensions).joinedload(IndicatorDimension.codelist),
                selectinload(Indicator.groups),
            )
        ).unique()
    )
    groups = list(session.scalars(select(IndicatorGroup)))
    return CatalogueSnapshot(indicators={i.code: i for i in indicators}, groups={g.code: g for g in groups})


_SNAPSHOTS: dict[str, CatalogueSnapshot] = {}
_KEEP = 4
_LOCK = threading.Lock()


def catalogue_for_writer(session: Session) -> CatalogueSnapshot:
    """The catalogue for code that reads it inside a writing transaction (a rule of the accept pipeline, an
    import): the one in memory if its stamp is still the store's, else read in the caller's own session and not
    kept. Never a second session: on SQLite it would wait for the write lock its own caller holds."""
    stamp = catalogue_stamp(session)
    found = _SNAPSHOTS.get(stamp) if stamp is not None else None
    return found if found is not None else _read(session)
