"""Reports as a person acts on them: what an agency owes this round (the data officer's "due this period" list),
and one report as its page shows it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, Indicator
from govops.db.base import utcnow
from govops.periods import Period
from govops.reporting.context import today_in_vietnam
from govops.reporting.models import ExpectedReport, Regime, RegimeVersion

# How far back a report past its deadline and still incomplete stays on the "due" list (as its reminders do).
DUE_LOOKBACK_DAYS = 35
DOCUMENT = "document"


@dataclass(frozen=True)
class Owed:
    """One report an agency owes: its regime, period, deadline and how far the data has come."""

    regime: str
    name_vi: str
    name_en: str
    period: str
    status: str
    deadline: datetime
    present: int
    required: int
    # The indicators still missing, each with the areas (codes) it lacks; the signed document apart.
    missing: dict[str, list[str]]
    requires_document: bool
    document_missing: bool

    @property
    def complete(self) -> bool:
        return self.status in ("on_time", "late")

    @property
    def figures_missing(self) -> bool:
        return bool(self.missing)


def _owed(report: ExpectedReport, regime: str, version: RegimeVersion) -> Owed:
    missing: dict[str, list[str]] = defaultdict(list)
    for item in report.missing:
        if item != DOCUMENT:
            indicator, _, area = item.partition("/")
            missing[indicator].append(area)
    return Owed(
        regime=regime,
        name_vi=version.name_vi,
        name_en=version.name_en,
        period=report.period,
        status=report.status,
        deadline=report.deadline,
        present=report.present,
        required=report.required,
        missing=dict(missing),
        requires_document=version.requires_document,
        document_missing=DOCUMENT in report.missing,
    )


def due_for(*, session: Session, agency: Agency, now: datetime | None = None) -> list[Owed]:
    """What `agency` owes this round: the reports of periods that have ended whose deadline is to come or passed
    within DUE_LOOKBACK_DAYS, incomplete ones and those already in; soonest deadline first."""
    now = now or utcnow()
    today = today_in_vietnam(now)
    e = ExpectedReport
    rows = session.execute(
        select(e, Regime.code, RegimeVersion)
        .join(Regime, Regime.id == e.regime_id)
        .join(RegimeVersion, RegimeVersion.id == e.version_id)
        .where(e.agency_id == agency.id, e.deadline >= now - timedelta(days=DUE_LOOKBACK_DAYS), e.period_start < today)
        .order_by(e.deadline, Regime.code)
    ).all()
    return [_owed(report, code, version) for report, code, version in rows if Period(report.period).end < today]


def indicator_names(*, session: Session, codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The Vietnamese and English names of the indicators `codes` names (those the catalogue has)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(
        select(Indicator.code, Indicator.name_vi, Indicator.name_en).where(Indicator.code.in_(wanted))
    )
    return {code: (vi, en) for code, vi, en in rows}
