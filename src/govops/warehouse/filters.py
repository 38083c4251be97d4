"""Which stored observations a read asks for, as one object instead of a dozen keyword arguments.

`ObservationFilter` holds resolved ids and days, so that it turns into SQL without a session
(`as_sql_filter()`); `ObservationFilter.of` builds it from what an API caller writes (codes, periods
as text, dimension codes) and says what is wrong with them. Readers that resolved their own ids
(the SDMX data route) build it directly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from govops.catalog.dimensions import dim_key
from govops.catalog.models import Indicator
from govops.catalog.service import get_area, get_indicator
from govops.errors import GovopsError
from govops.periods import Period, PeriodError
from govops.warehouse.models import Observation


def period_bound(text: str | None, which: str) -> date | None:
    """The first day of the period `text` (which="start") or its last day (which="end"); None for no text."""
    if not text:
        return None
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        exc.where = which
        raise
    return period.start if which == "start" else period.end


@dataclass(frozen=True)
class ObservationFilter:
    """Every field narrows the observations; None leaves it open (an empty set matches nothing)."""

    indicator_ids: frozenset[int] | None = None
    area_ids: frozenset[int] | None = None
    # One breakdown of the indicator(s): "" is the total.
    dim_key: str | None = None
    # Periods starting from first_day to last_day, both included.
    first_day: date | None = None
    last_day: date | None = None
    status: str | None = None
    # Changed strictly after this moment.
    updated_after: datetime | None = None
    # What the reader may see: indicators of these classifications, and (None: any) only these codes.
    classifications: frozenset[str] | None = None
    indicator_codes: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        *,
        session: Session,
        indicator: str | None = None,
        areas: Sequence[str] = (),
        start: str | None = None,
        end: str | None = None,
        dims: Mapping[str, str] | None = None,
        status: str | None = None,
        updated_since: datetime | None = None,
        classifications: Collection[str] | None = None,
        indicator_codes: Collection[str] | None = None,
    ) -> ObservationFilter:
        """The filter an API query's codes describe; unknown codes are 404, periods and breakdowns without
        an indicator are 400 `invalid_filter`, a period that cannot be read says which bound it is."""
        ind = get_indicator(session=session, code=indicator) if indicator else None
        if ind is None and (start or end or dims):
            raise GovopsError(
                "start, end and dims filter one indicator's data", code="invalid_filter", hint="add indicator=CODE"
            )
        first_day, last_day = period_bound(start, "start"), period_bound(end, "end")
        return cls(
            indicator_ids=frozenset({ind.id}) if ind is not None else None,
            area_ids=frozenset(get_area(session=session, code=a).id for a in areas) if areas else None,
            dim_key=dim_key(tuple(ind.dimension_codes), dims) if ind is not None and dims is not None else None,
            first_day=first_day,
            last_day=last_day,
            status=status or None,
            updated_after=updated_since,
            classifications=frozenset(classifications) if classifications is not None else None,
            indicator_codes=frozenset(indicator_codes) if indicator_codes is not None else None,
        )

    @property
    def single_indicator(self) -> int | None:
        """The one indicator asked for, if exactly one (its history alone is worth reading)."""
        if self.indicator_ids is not None and len(self.indicator_ids) == 1:
            return next(iter(self.indicator_ids))
        return None

    def as_sql_filter(self) -> ColumnElement[bool]:
        """The WHERE clause on `observation` (either dialect)."""
        o = Observation
        clauses: list[ColumnElement[bool]] = []
        if self.indicator_ids is not None:
            clauses.append(o.indicator_id.in_(sorted(self.indicator_ids)))
        if self.area_ids is not None:
            clauses.append(o.area_id.in_(sorted(self.area_ids)))
        if self.dim_key is not None:
            clauses.append(o.dim_key == self.dim_key)
        if self.first_day is not None:
            clauses.append(o.period_start >= self.first_day)
        if self.last_day is not None:
            clauses.append(o.period_start <= self.last_day)
        if self.status is not None:
            clauses.append(o.status == self.status)
        if self.updated_after is not None:
            clauses.append(o.updated_at > self.updated_after)
        if self.classifications is not None:
            readable = select(Indicator.id).where(Indicator.classification.in_(sorted(self.classifications)))
            clauses.append(o.indicator_id.in_(readable))
        if self.indicator_codes is not None:
            clauses.append(
                o.indicator_id.in_(select(Indicator.id).where(Indicator.code.in_(sorted(self.indicator_codes))))
            )
        return and_(true(), *clauses)
