"""The warehouse's own plausibility checks: warnings on figures that are allowed but probably wrong.

They are rules of the accept pipeline (registered in `govops.warehouse.accept`), so an API submission, a console
upload and `govops ingest` warn alike. Neither blocks: a negative count may be a correction, and a figure far from
its history may be real (a storm, a new factory); the person who sent it looks again.

Messages and hints are fixed English sentences, marked for the catalogue, so that a page shows them in the reader's
language; what varies (the value, the cell) travels in the problem's other fields.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from govops.errors import Problem
from govops.jobs.registry import lazy_gettext
from govops.periods import Period
from govops.warehouse.models import Observation
from govops.warehouse.service import batched
from govops.warehouse.validation import IndicatorInfo, ValidRow

if TYPE_CHECKING:
    from govops.warehouse.accept import Batch

# Quantities counted in whole things, never below zero whatever the indicator.
_COUNTED = frozenset(
    {"persons", "trips", "mass", "energy", "enterprises", "incidents", "disease_cases", "applications"}
)
# Money is never negative as a flow that adds up over time (revenue, sales, disbursement); a balance is a
# formula over flows, and is never submitted.
_MONEY = frozenset({"vnd", "usd"})

HISTORY = 24  # the series' last values a new one is compared with
MIN_HISTORY = 8  # fewer than this says too little about what is usual
# Iglewicz and Hoaglin's cut-off for the modified z-score, 0.6745 (x - median) / MAD: beyond it, an outlier.
MAX_ROBUST_Z = 3.5
_CHUNK = 500

NEGATIVE = lazy_gettext("A negative value, for an indicator that cannot be below zero.")
NEGATIVE_HINT = lazy_gettext("Check the sign of the figure: a count or a flow is zero or more.")
FAR = lazy_gettext("The value is far from this series' last values.")
FAR_HINT = lazy_gettext(
    "Check the figure and its unit (thousands, millions) against the source document; keep it if it is right."
)


def cannot_be_negative(info: IndicatorInfo, quantity: str) -> bool:
    return not info.derived and (quantity in _COUNTED or (info.adds_up_over_time and quantity in _MONEY))


def negative_values(batch: Batch) -> list[Problem]:
    """A warning for each value below zero of an indicator that counts things or adds up money over time."""
    index = batch.index
    by_id = {info.id: info for info in index.indicators.values()}
    return [
        Problem(NEGATIVE, field="value", row=row.row, value=row.value, hint=NEGATIVE_HINT)
        for row in batch.rows
        if row.value < 0
        and cannot_be_negative(by_id[row.indicator_id], index.units.get(by_id[row.indicator_id].unit, ("", 1.0))[0])
    ]


def far_from_history(batch: Batch) -> list[Problem]:
    """A warning for each value whose robust z-score against its series' last stored values is beyond 3.5."""
    by_indicator: dict[int, list[ValidRow]] = defaultdict(list)
    for row in batch.rows:
        by_indicator[row.indicator_id].append(row)
    found: list[Problem] = []
    for indicator_id, rows in by_indicator.items():
        history = _history(batch, indicator_id, rows)
        if not history:
            continue
        for row in rows:
            periods, values = history.get((row.area_id, row.dim_key, _shape(row.period)), ((), ()))
            end = bisect_left(periods, row.period)
            if _is_outlier(row.value, values[max(0, end - HISTORY) : end]):
                found.append(Problem(FAR, field="value", row=row.row, value=row.value, hint=FAR_HINT))
    return found


def robust_z(value: float, history: Sequence[float]) -> float | None:
    """0.6745 (value - median) / MAD, or None when the history is too short or does not vary."""
    if len(history) < MIN_HISTORY:
        return None
    median = _median(sorted(history))
    mad = _median(sorted(abs(x - median) for x in history))
    if mad == 0:
        return None
    return 0.6745 * (value - median) / mad


def _median(ordered: Sequence[float]) -> float:
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _is_outlier(value: float, history: Sequence[float]) -> bool:
    z = robust_z(value, history)
    return z is not None and abs(z) > MAX_ROBUST_Z


def _shape(period: str) -> tuple[int, str]:
    """Periods of one frequency share a shape (2025-07 and 2025-Q3 differ), so that a coarser figure stored beside
    a series (an annual total of a monthly indicator) is not taken for one of its values."""
    mark = period[5:6]
    return len(period), "d" if mark.isdigit() else mark


# A series' stored periods and values of one shape, in period order: (area, dimension key, shape) -> both lists.
_Series = dict[tuple[int, str, tuple[int, str]], tuple[list[str], list[float]]]


def _history(batch: Batch, indicator_id: int, rows: Sequence[ValidRow]) -> _Series:
    """The stored values of the rows' series, from HISTORY periods before the earliest row to the latest row."""
    o = Observation
    session = batch.session
    if session.scalar(select(o.id).where(o.indicator_id == indicator_id).limit(1)) is None:
        return {}  # a first load: nothing to compare with, and no query per area
    latest = max(row.period for row in rows)
    # Periods of one shape sort as text; the window starts HISTORY periods before the earliest row.
    earliest = min(str(Period.parse(period) - HISTORY) for period in {row.period for row in rows})
    out: _Series = {}
    for areas in batched(sorted({row.area_id for row in rows}), _CHUNK):
        stmt = (
            select(o.area_id, o.dim_key, o.period, o.value)
            .where(o.indicator_id == indicator_id, o.area_id.in_(areas), o.period >= earliest, o.period < latest)
            .order_by(o.area_id, o.dim_key, o.period)
        )
        for area_id, key, period, value in session.execute(stmt):
            periods, values = out.setdefault((area_id, key, _shape(period)), ([], []))
            periods.append(period)
            values.append(value)
    return out
