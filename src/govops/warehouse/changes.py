"""The change feed of observations: every new or changed observation becomes an `observation.changed` event.

Observation changes are one kind of domain event (see govops.events): they are written to the same
outbox, in the writer's own transaction, and read back by the change feed, the event stream and
webhooks under the same rights as every other kind. An event is about one indicator, whose
classification and grants decide who sees it; `seq` numbers each indicator's changes without gaps,
in the order they were committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govops.catalog.dimensions import parse_dim_key
from govops.catalog.models import Area, Indicator
from govops.events.models import DomainEvent
from govops.events.service import (
    FEED_LOCK,
    WROTE_EVENTS,
    Event,
    Interest,
    begin_append,
    on_commit,
    read,
    scan,
)
from govops.warehouse.bulk import allocate_ids, insert_rows
from govops.warehouse.models import IndicatorState
from govops.warehouse.validation import CatalogIndex, ValidRow

__all__ = [
    "FEED_LOCK",
    "TOPIC",
    "TYPE",
    "WROTE_EVENTS",
    "Event",
    "Interest",
    "Written",
    "on_commit",
    "read",
    "record",
    "scan",
    "subject_of",
]

TOPIC = "observations"
TYPE = "observation.changed"
_COLUMNS = (
    "id", "topic", "type", "subject", "payload", "recorded_at", "recorded_by", "cause",
    "read_classification", "read_indicator", "read_agency",
)  # fmt: skip
_IN_CHUNK = 5000  # ids per IN list, well below SQLite's limit of bound values


@dataclass(frozen=True)
class Written:
    observation_id: int
    row: ValidRow
    version: int


def subject_of(indicator: str, area: str, period: str, dim_key: str) -> str:
    """`GDP/VN/2025-Q3`, and `/DIM=CODE;...` after it for a figure broken down by dimensions."""
    return f"{indicator}/{area}/{period}/{dim_key}" if dim_key else f"{indicator}/{area}/{period}"


def record(
    *,
    session: Session,
    written: Sequence[Written],
    now: datetime,
    recorded_by: str | None,
    submission_id: str | None = None,
    index: CatalogIndex | None = None,
) -> int:
    """Append one event per written observation; the caller already holds each indicator's state row lock.

    `index`: the catalogue the rows were checked against, which names their indicators and areas with no query.
    """
    if not written:
        return 0
    begin_append(session)
    indicator_ids = sorted({w.row.indicator_id for w in written})
    last = dict(
        session.execute(
            select(IndicatorState.indicator_id, IndicatorState.last_change_seq).where(
                IndicatorState.indicator_id.in_(indicator_ids)
            )
        ).all()
    )
    if index is not None:
        indicators = {
            i: (index.indicators_by_id[i].code, index.indicators_by_id[i].classification) for i in indicator_ids
        }
        areas: Mapping[int, str] = index.area_codes_by_id
    else:
        indicators = {
            i: (code, classification)
            for i, code, classification in session.execute(
                select(Indicator.id, Indicator.code, Indicator.classification).where(Indicator.id.in_(indicator_ids))
            )
        }
        area_ids = sorted({w.row.area_id for w in written})
        found: dict[int, str] = {}
        for start in range(0, len(area_ids), _IN_CHUNK):
            chunk = area_ids[start : start + _IN_CHUNK]
            found.update((i, c) for i, c in session.execute(select(Area.id, Area.code).where(Area.id.in_(chunk))))
        areas = found
    ids = allocate_ids(session, DomainEvent.__table__, len(written))  # type: ignore[arg-type]
    rows = []
    for event_id, w in zip(ids, written, strict=True):
        r = w.row
        seq = last[r.indicator_id] = last[r.indicator_id] + 1
        code, classification = indicators[r.indicator_id]
        area = areas[r.area_id]
        payload = {
            "indicator": code, "seq": seq, "area": area, "period": r.period, "dims": parse_dim_key(r.dim_key),
            "value": r.value, "status": r.status, "version": w.version, "submission": submission_id,
        }  # fmt: skip
        subject = subject_of(code, area, r.period, r.dim_key)
        rows.append(
            (event_id, TOPIC, TYPE, subject, json.dumps(payload, ensure_ascii=False), now, recorded_by, submission_id,
             classification, code, None)
        )  # fmt: skip
    insert_rows(session, DomainEvent.__table__, _COLUMNS, rows)  # type: ignore[arg-type]
    session.execute(
        update(IndicatorState),
        [{"indicator_id": i, "last_change_seq": seq} for i, seq in last.items()],
    )
    return len(rows)
