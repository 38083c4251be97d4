"""Reports as a person acts on them: what an agency owes this round (the data officer's "due this period" list),
and one report as its page shows it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from govops.catalog.models import Agency, Indicator
from govops.db.base import utcnow
from govops.periods import Period
from govops.reporting.context import Context, today_in_vietnam
from govops.reporting.documents import documents_of
from govops.reporting.models import ExpectedReport, Regime, RegimeVersion
from govops.reporting.reading import compliance_out
from govops.reporting.schemas import FiledDocumentOut, ReportOut, RevisionOut
from govops.warehouse.models import Observation, ObservationRevision

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


def revisions_after_lock(*, session: Session, report: ExpectedReport) -> list[RevisionOut]:
    """Every change to one of the report's required values recorded after its lock date, oldest first: the value
    it replaced and the new one, when and by whom."""
    context = Context.load(session)
    version = context.versions[report.version_id]
    period = Period(report.period)
    areas = context.areas_of(session, version, context.reporters[report.agency_id], period)
    indicators = [context.indicator_ids[c] for c in version.indicators if c in context.indicator_ids]
    if not areas or not indicators:
        return []
    o, r = Observation, ObservationRevision
    prior = aliased(ObservationRevision)
    rows = session.execute(
        select(o.indicator_id, o.area_id, prior.value, r.value, r.status, r.recorded_at, r.recorded_by)
        .join(r, r.observation_id == o.id)
        .outerjoin(prior, and_(prior.observation_id == r.observation_id, prior.version == r.version - 1))
        .where(
            o.indicator_id.in_(indicators),
            o.area_id.in_(areas),
            o.period_start == period.start,
            o.period == str(period),
            o.dim_key == "",
            r.version > 1,
            r.recorded_at > report.lock_at,
        )
        .order_by(r.recorded_at, r.id)
    ).all()
    return [
        RevisionOut(
            indicator=context.indicator_codes[indicator_id],
            area=context.area_codes[area_id],
            old=old,
            new=new,
            status=status,
            recorded_at=at,
            recorded_by=by,
        )
        for indicator_id, area_id, old, new, status, at, by in rows
    ]


def report_out(*, session: Session, report: ExpectedReport) -> ReportOut:
    """One report as its page and the API show it: its compliance, revisions after the lock and documents."""
    regime = session.get_one(Regime, report.regime_id)
    version = session.get_one(RegimeVersion, report.version_id)
    agency = session.get_one(Agency, report.agency_id)
    row = compliance_out(report, {regime.id: regime.code}, {agency.id: (agency.code, agency.kind)})
    return ReportOut(
        **row.model_dump(),
        regime_name_vi=version.name_vi,
        regime_name_en=version.name_en,
        agency_name_vi=agency.name_vi,
        agency_name_en=agency.name_en,
        lock_at=report.lock_at,
        requires_document=version.requires_document,
        revisions=revisions_after_lock(session=session, report=report),
        documents=[FiledDocumentOut(**vars(d)) for d in documents_of(session=session, report=report)],
    )
