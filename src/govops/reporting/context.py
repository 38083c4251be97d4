"""The catalogue as compliance reads it: the reporting agencies, the areas each owes values for, the regime
versions. Read once per computation (`Context.load`), so that recomputing a thousand reports does not ask the
store a thousand times who reports what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, Area, Indicator
from govops.db.base import utcnow
from govops.periods import Period
from govops.reporting.models import Regime, RegimeVersion
from govops.reporting.rules import ZONE

Validity = tuple[date | None, date | None]


def today_in_vietnam(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZONE).date()


def overlaps(validity: Validity, period: Period) -> bool:
    """Whether something valid from/to these dates (None: open) exists during `period`."""
    start, end = validity
    return (start is None or start <= period.end) and (end is None or end >= period.start)


@dataclass(frozen=True)
class Reporter:
    """A reporting agency, valid as long as its area is (an agency whose area ended in the 2025 merger ends)."""

    id: int
    code: str
    kind: str
    area_id: int | None
    validity: Validity = (None, None)


@dataclass
class Context:
    """What one computation needs of the catalogue, read once: agencies, areas, indicators, regime versions."""

    reporters: dict[int, Reporter]
    indicator_ids: dict[str, int]
    indicator_codes: dict[int, str]
    area_codes: dict[int, str]
    area_level: dict[int, str]
    area_parent: dict[int, int | None]
    area_valid: dict[int, Validity]
    nation_id: int | None
    versions: dict[int, RegimeVersion]
    regime_codes: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> Context:
        areas = session.execute(
            select(Area.id, Area.code, Area.level, Area.parent_id, Area.valid_from, Area.valid_to).where(
                Area.level != "ward"
            )
        ).all()
        area_valid = {a.id: (a.valid_from, a.valid_to) for a in areas}
        reporters = {
            row.id: Reporter(row.id, row.code, row.kind, row.area_id, area_valid.get(row.area_id, (None, None)))
            for row in session.execute(select(Agency.id, Agency.code, Agency.kind, Agency.area_id))
        }
        indicators = session.execute(select(Indicator.id, Indicator.code)).all()
        return cls(
            reporters=reporters,
            indicator_ids={code: i for i, code in indicators},
            indicator_codes={i: code for i, code in indicators},
            area_codes={a.id: a.code for a in areas},
            area_level={a.id: a.level for a in areas},
            area_parent={a.id: a.parent_id for a in areas},
            area_valid=area_valid,
            nation_id=next((a.id for a in areas if a.level == "nation"), None),
            versions={v.id: v for v in session.scalars(select(RegimeVersion))},
            regime_codes=dict(session.execute(select(Regime.id, Regime.code)).all()),
        )

    def reporters_of(self, version: RegimeVersion, period: Period) -> list[Reporter]:
        """The agencies `version` asks to report for `period`: by kind and by list, those in existence then."""
        kinds, listed = set(version.agency_kinds), set(version.agencies)
        return sorted(
            (
                r
                for r in self.reporters.values()
                if (r.kind in kinds or r.code in listed) and overlaps(r.validity, period)
            ),
            key=lambda r: r.code,
        )

    def areas_of(self, session: Session, version: RegimeVersion, reporter: Reporter, period: Period) -> list[int]:
        """The areas whose values `reporter` owes under `version` for `period`."""
        if version.coverage == "nation":
            return [self.nation_id] if self.nation_id is not None else []
        if version.coverage == "provinces":
            return sorted(
                i
                for i, level in self.area_level.items()
                if level == "province" and overlaps(self.area_valid[i], period)
            )
        if reporter.area_id is None:
            return []
        if version.coverage == "own_area_and_wards":
            wards = session.execute(
                select(Area.id, Area.code, Area.valid_from, Area.valid_to).where(Area.parent_id == reporter.area_id)
            ).all()
            for w in wards:
                self.area_codes[w.id] = w.code
                self.area_parent[w.id] = reporter.area_id
                self.area_level[w.id] = "ward"
            return [reporter.area_id, *sorted(w.id for w in wards if overlaps((w.valid_from, w.valid_to), period))]
        return [reporter.area_id]

    def covers(self, version: RegimeVersion, reporter: Reporter, area_id: int) -> bool:
        """Whether a value of `area_id` is one `reporter` owes under `version`."""
        if version.coverage == "nation":
            return area_id == self.nation_id
        if version.coverage == "provinces":
            return self.area_level.get(area_id) == "province"
        if version.coverage == "own_area_and_wards" and self.area_parent.get(area_id) == reporter.area_id:
            return reporter.area_id is not None
        return area_id == reporter.area_id


def periods_of(version: RegimeVersion, until: date | None, last_day: date) -> list[Period]:
    """The periods `version` applies to that have begun by `last_day`, up to the next version's start."""
    out = []
    period = Period(version.valid_from)
    while period.start <= last_day and (until is None or period.start < until):
        out.append(period)
        period = period.next()
    return out
