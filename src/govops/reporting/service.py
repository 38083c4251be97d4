"""Expected reports and their compliance, computed from the observations stored and the times they arrived.

Keyword-only functions taking a session; they flush, never commit. An expected report is a regime x
reporting agency x period (`ensure_expected` makes those whose period has begun, honouring each agency's
validity: an agency whose area ended in the 2025 merger expects nothing after its end). Its status is
recomputed from the data:

- `on_time`: every required value (and the signed document, when asked) arrived by the deadline + grace days;
- `late`: complete, but after it (`days_late` counted from the deadline);
- `partial`: past the deadline with x of y required values (the missing ones listed);
- `missing`: past the deadline with none;
- `not_due`: incomplete and the deadline has not passed.

A value's arrival is the moment its first revision was recorded; later revisions after the lock date are
counted. One submission recomputes only the expected reports it touches (`recompute_cells`, fed by the
observation change events through `follow_changes`); `recompute` with no ids does everything (the baseline
of bench/reporting.py, and the deadline job's catch-up).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.models import Agency, Area, Indicator
from govops.db.base import utcnow
from govops.db.dialect import advisory_xact_lock, lock_key
from govops.errors import GovopsError, NotFound, lazy_gettext
from govops.events.models import DomainEvent
from govops.events.service import ReadRule, emit
from govops.notify.kinds import Kind, register
from govops.notify.service import notify
from govops.paging import Page, check_limit, make_page
from govops.periods import Freq, Period, PeriodError
from govops.reporting.models import (
    STATUSES,
    Cursor,
    ExpectedReport,
    Regime,
    RegimeVersion,
    Reminder,
    ReportDocument,
)
from govops.reporting.regimes import ImportSummary, export_regimes, import_regimes
from govops.reporting.rules import ZONE, parse_rule
from govops.reporting.schemas import ComplianceOut, RatesOut, RegimeOut, RegimeVersionOut
from govops.warehouse.models import Observation, ObservationRevision

__all__ = [
    "ImportSummary",
    "export_regimes",
    "import_regimes",
]

TOPIC = "reporting"
STATUS_CHANGED = "reporting.status_changed"
FOLLOWER = "observations"
_FOLLOW_LOCK = lock_key("govops.reporting.follow")
_OBSERVATION_CHANGED = "observation.changed"
# Worst first: what the board sorts by.
SEVERITY = {"missing": 0, "partial": 1, "late": 2, "not_due": 3, "on_time": 4}


def _(message: str) -> str:
    """Marks a message for the catalogue; notifications are translated when shown, in the reader's language."""
    return message


def today_in_vietnam(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZONE).date()


# --- the catalogue as reporting reads it ------------------------------------------------------------------


@dataclass(frozen=True)
class Reporter:
    id: int
    code: str
    kind: str
    area_id: int | None
    valid_from: date | None
    valid_to: date | None

    def valid_in(self, period: Period) -> bool:
        return (self.valid_from is None or self.valid_from <= period.end) and (
            self.valid_to is None or self.valid_to >= period.start
        )


@dataclass
class Context:
    """What one computation needs of the catalogue, read once: agencies, areas, indicators, regime versions."""

    reporters: dict[int, Reporter]
    indicator_ids: dict[str, int]
    indicator_codes: dict[int, str]
    area_codes: dict[int, str]
    area_level: dict[int, str]
    area_parent: dict[int, int | None]
    area_valid: dict[int, tuple[date | None, date | None]]
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
            row.id: Reporter(row.id, row.code, row.kind, row.area_id, *area_valid.get(row.area_id, (None, None)))
            for row in session.execute(select(Agency.id, Agency.code, Agency.kind, Agency.area_id))
        }
        indicators = session.execute(select(Indicator.id, Indicator.code)).all()
        versions = {v.id: v for v in session.scalars(select(RegimeVersion))}
        return cls(
            reporters=reporters,
            indicator_ids={code: i for i, code in indicators},
            indicator_codes={i: code for i, code in indicators},
            area_codes={a.id: a.code for a in areas},
            area_level={a.id: a.level for a in areas},
            area_parent={a.id: a.parent_id for a in areas},
            area_valid=area_valid,
            nation_id=next((a.id for a in areas if a.level == "nation"), None),
            versions=versions,
            regime_codes=dict(session.execute(select(Regime.id, Regime.code)).all()),
        )

    def areas_of(self, session: Session, version: RegimeVersion, reporter: Reporter, period: Period) -> list[int]:
        """The areas whose values `reporter` owes under `version` for `period`."""
        if version.coverage == "nation":
            return [self.nation_id] if self.nation_id is not None else []
        if version.coverage == "provinces":
            return sorted(
                i for i, level in self.area_level.items() if level == "province" and _valid(self.area_valid[i], period)
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
            return [reporter.area_id, *sorted(w.id for w in wards if _valid((w.valid_from, w.valid_to), period))]
        return [reporter.area_id]

    def covers(self, version: RegimeVersion, reporter: Reporter, area_id: int) -> bool:
        if version.coverage == "nation":
            return area_id == self.nation_id
        if version.coverage == "provinces":
            return self.area_level.get(area_id) == "province"
        if version.coverage == "own_area_and_wards" and self.area_parent.get(area_id) == reporter.area_id:
            return reporter.area_id is not None
        return area_id == reporter.area_id


def _valid(validity: tuple[date | None, date | None], period: Period) -> bool:
    start, end = validity
    return (start is None or start <= period.end) and (end is None or end >= period.start)


def reporters_of(context: Context, version: RegimeVersion, period: Period) -> list[Reporter]:
    """The agencies `version` asks to report for `period`: by kind and by list, those in existence then."""
    kinds, listed = set(version.agency_kinds), set(version.agencies)
    return sorted(
        (r for r in context.reporters.values() if (r.kind in kinds or r.code in listed) and r.valid_in(period)),
        key=lambda r: r.code,
    )


def version_for(versions: Sequence[RegimeVersion], period: Period) -> RegimeVersion | None:
    """The version in force for `period`: the latest one starting at or before it, of its frequency."""
    found = None
    for v in sorted(versions, key=lambda v: v.valid_from_start):
        if v.valid_from_start <= period.start:
            found = v
    return found if found is not None and found.frequency == period.freq.value else None


def _periods(version: RegimeVersion, until: date | None, last_day: date) -> list[Period]:
    first = Period(version.valid_from)
    out = []
    period = first
    while period.start <= last_day and (until is None or period.start < until):
        out.append(period)
        period = period.next()
    return out


# --- expected reports -------------------------------------------------------------------------------------


def ensure_expected(
    *,
    session: Session,
    now: datetime | None = None,
    regimes: Iterable[str] | None = None,
    context: Context | None = None,
) -> list[int]:
    """Make the expected reports of every period begun by `now` (Vietnam's date) that are not made yet; their
    ids, computed."""
    now = now or utcnow()
    context = context or Context.load(session)
    today = today_in_vietnam(now)
    stmt = select(Regime)
    if regimes is not None:
        stmt = stmt.where(Regime.code.in_(list(regimes)))
    created: list[ExpectedReport] = []
    for regime in session.scalars(stmt.order_by(Regime.code)):
        existing = set(
            session.execute(
                select(ExpectedReport.agency_id, ExpectedReport.period).where(ExpectedReport.regime_id == regime.id)
            ).all()
        )
        versions = sorted(regime.versions, key=lambda v: v.valid_from_start)
        for i, version in enumerate(versions):
            until = versions[i + 1].valid_from_start if i + 1 < len(versions) else None
            deadline_rule = parse_rule(version.deadline_rule)
            for period in _periods(version, until, today):
                deadline = deadline_rule.moment(period)
                for reporter in reporters_of(context, version, period):
                    if (reporter.id, str(period)) in existing:
                        continue
                    row = ExpectedReport(
                        regime_id=regime.id,
                        version_id=version.id,
                        agency_id=reporter.id,
                        period=str(period),
                        period_start=period.start,
                        deadline=deadline,
                        grace_until=deadline + timedelta(days=version.grace_days),
                        lock_at=deadline + timedelta(days=version.lock_days),
                        status="not_due",
                        required=0,
                        present=0,
                        missing=[],
                        revisions_after_lock=0,
                        computed_at=now,
                    )
                    session.add(row)
                    created.append(row)
    session.flush()
    ids = [row.id for row in created]
    if ids:
        recompute(session=session, ids=ids, now=now, context=context, announce=False)
    return ids


@dataclass
class Computed:
    status: str
    required: int
    present: int
    missing: list[str]
    received_at: datetime | None
    days_late: int | None
    revisions_after_lock: int


def judge(
    *,
    required: Sequence[str],
    arrivals: dict[str, datetime],
    deadline: datetime,
    grace_until: datetime,
    now: datetime,
) -> tuple[str, datetime | None, int | None]:
    """The status of a report owing `required` items, of which `arrivals` came at those times; its received
    time (the last arrival) and days late."""
    times = [arrivals[item] for item in required if item in arrivals]
    received = max(times, default=None)
    if required and len(times) == len(required):
        assert received is not None
        if received <= grace_until:
            return "on_time", received, None
        return "late", received, max(1, math.ceil((received - deadline).total_seconds() / 86400))
    if now <= grace_until:
        return "not_due", received, None
    return ("partial" if times else "missing"), received, None


def recompute(
    *,
    session: Session,
    ids: Iterable[int] | None = None,
    now: datetime | None = None,
    context: Context | None = None,
    announce: bool = True,
) -> list[ExpectedReport]:
    """Recompute the given expected reports (every one when `ids` is None) from the data; the ones whose status
    changed, each announced by a `reporting.status_changed` event when `announce`."""
    now = now or utcnow()
    context = context or Context.load(session)
    stmt = select(ExpectedReport)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows: list[ExpectedReport] = []
        for start in range(0, len(wanted), 500):
            rows += session.scalars(stmt.where(ExpectedReport.id.in_(wanted[start : start + 500]))).all()
    else:
        rows = list(session.scalars(stmt))
    groups: dict[tuple[int, str], list[ExpectedReport]] = defaultdict(list)
    for row in rows:
        groups[(row.version_id, row.period)].append(row)
    changed: list[ExpectedReport] = []
    for (version_id, period_text), reports in groups.items():
        version = context.versions[version_id]
        period = Period(period_text)
        owed = {r.id: context.areas_of(session, version, context.reporters[r.agency_id], period) for r in reports}
        arrivals, revisions = _arrivals(
            session,
            context,
            version,
            period,
            sorted({a for areas in owed.values() for a in areas}),
            min(r.lock_at for r in reports),
        )
        documents = _documents(session, [r.id for r in reports]) if version.requires_document else {}
        for report in reports:
            areas = owed[report.id]
            required = [f"{code}/{context.area_codes[a]}" for code in version.indicators for a in areas]
            mine = {item: arrivals[item] for item in required if item in arrivals}
            if version.requires_document:
                required.append("document")
                if report.id in documents:
                    mine["document"] = documents[report.id]
            status, received, days_late = judge(
                required=required, arrivals=mine, deadline=report.deadline, grace_until=report.grace_until, now=now
            )
            after_lock = sum(1 for item in required for at in revisions.get(item, ()) if at > report.lock_at)
            previous = report.status
            report.status = status
            report.required = len(required)
            report.present = len(mine)
            report.missing = [item for item in required if item not in mine]
            report.received_at = received
            report.days_late = days_late
            report.revisions_after_lock = after_lock
            report.computed_at = now
            if previous != status:
                changed.append(report)
                if announce:
                    _announce(session, context, report, previous, now)
    session.flush()
    return changed


def _arrivals(
    session: Session,
    context: Context,
    version: RegimeVersion,
    period: Period,
    area_ids: Sequence[int],
    earliest_lock: datetime,
) -> tuple[dict[str, datetime], dict[str, list[datetime]]]:
    """When each required value (INDICATOR/AREA, the total) first arrived, and its revisions after `earliest_lock`."""
    indicator_ids = [context.indicator_ids[c] for c in version.indicators if c in context.indicator_ids]
    arrivals: dict[str, datetime] = {}
    revisions: dict[str, list[datetime]] = defaultdict(list)
    if not indicator_ids or not area_ids:
        return arrivals, revisions
    o, r = Observation, ObservationRevision
    for start in range(0, len(area_ids), 500):
        chunk = area_ids[start : start + 500]
        stmt = (
            select(o.indicator_id, o.area_id, r.version, r.recorded_at)
            .join(r, r.observation_id == o.id)
            .where(
                o.indicator_id.in_(indicator_ids),
                o.period_start == period.start,
                o.period == str(period),
                o.dim_key == "",
                o.area_id.in_(chunk),
                or_(r.version == 1, and_(r.version > 1, r.recorded_at > earliest_lock)),
            )
        )
        for indicator_id, area_id, number, recorded_at in session.execute(stmt):
            key = f"{context.indicator_codes[indicator_id]}/{context.area_codes[area_id]}"
            if number == 1:
                arrivals[key] = recorded_at
            else:
                revisions[key].append(recorded_at)
    return arrivals, revisions


def _documents(session: Session, expected_ids: Sequence[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(ReportDocument.expected_id, func.min(ReportDocument.uploaded_at))
        .where(ReportDocument.expected_id.in_(list(expected_ids)))
        .group_by(ReportDocument.expected_id)
    ).all()
    return {expected_id: at for expected_id, at in rows}


def _announce(session: Session, context: Context, report: ExpectedReport, previous: str, now: datetime) -> None:
    regime = context.regime_codes.get(report.regime_id) or str(report.regime_id)
    agency = context.reporters[report.agency_id].code
    emit(
        session=session,
        topic=TOPIC,
        type=STATUS_CHANGED,
        subject=f"{regime}/{agency}/{report.period}",
        payload={
            "regime": regime,
            "agency": agency,
            "period": report.period,
            "status": report.status,
            "previous": previous,
            "days_late": report.days_late,
            "values_present": report.present,
            "values_required": report.required,
            "deadline": report.deadline.isoformat(),
            "received_at": report.received_at.isoformat() if report.received_at else None,
        },
        # The agency's own business: its systems (and the Government Office's staff) see it.
        rule=ReadRule("public", agency=agency),
        now=now,
    )


def recompute_cells(
    *,
    session: Session,
    cells: Iterable[tuple[str, str, str]],
    now: datetime | None = None,
    context: Context | None = None,
) -> list[ExpectedReport]:
    """Recompute only the expected reports that owe one of `cells` (indicator code, area code, period)."""
    context = context or Context.load(session)
    by_indicator: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for indicator, area, period in cells:
        by_indicator[indicator].add((area, period))
    area_ids = {code: i for i, code in context.area_codes.items()}
    wanted: dict[tuple[int, str], set[int]] = defaultdict(set)  # (version, period) -> area ids
    for version in context.versions.values():
        for indicator in version.indicators:
            for area, period in by_indicator.get(indicator, ()):
                area_id = area_ids.get(area)
                if area_id is None:  # a ward: known once a regime that covers wards read them
                    area_id = session.scalar(select(Area.id).where(Area.code == area))
                if area_id is not None:
                    wanted[(version.id, period)].add(area_id)
    ids: list[int] = []
    for (version_id, period), areas in wanted.items():
        version = context.versions[version_id]
        for report_id, agency_id in session.execute(
            select(ExpectedReport.id, ExpectedReport.agency_id).where(
                ExpectedReport.version_id == version_id, ExpectedReport.period == period
            )
        ):
            reporter = context.reporters[agency_id]
            if any(context.covers(version, reporter, a) for a in areas):
                ids.append(report_id)
    return recompute(session=session, ids=ids, now=now, context=context)


def follow_changes(*, session: Session, now: datetime | None = None, batch: int = 5000) -> int:
    """Read the observation change events after the follower's cursor and recompute what they touch; how many
    events were read. One follower at a time (a lock), so two workers never read the same events twice."""
    advisory_xact_lock(session, _FOLLOW_LOCK)
    cursor = session.get(Cursor, FOLLOWER, with_for_update=True)
    if cursor is None:
        # Starting now: what was stored before was computed when the expected reports were made.
        newest = session.scalar(select(func.max(DomainEvent.id))) or 0
        session.add(Cursor(name=FOLLOWER, last_event_id=newest, moved_at=now or utcnow()))
        session.flush()
        return 0
    read = 0
    context: Context | None = None
    while True:
        rows = session.execute(
            select(DomainEvent.id, DomainEvent.subject)
            .where(DomainEvent.id > cursor.last_event_id, DomainEvent.type == _OBSERVATION_CHANGED)
            .order_by(DomainEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        cells = set()
        for _, subject in rows:
            parts = subject.split("/")
            if len(parts) == 3:  # totals only: INDICATOR/AREA/PERIOD
                cells.add((parts[0], parts[1], parts[2]))
        context = context or Context.load(session)
        recompute_cells(session=session, cells=cells, now=now, context=context)
        cursor.last_event_id = rows[-1][0]
        cursor.moved_at = now or utcnow()
        read += len(rows)
        if len(rows) < batch:
            break
    session.flush()
    return read


def pass_deadlines(*, session: Session, now: datetime | None = None) -> list[ExpectedReport]:
    """At a deadline: make the reports of newly begun periods, and judge those whose grace has ended."""
    now = now or utcnow()
    context = Context.load(session)
    ensure_expected(session=session, now=now, context=context)
    ids = session.scalars(
        select(ExpectedReport.id).where(ExpectedReport.status == "not_due", ExpectedReport.grace_until < now)
    ).all()
    return recompute(session=session, ids=ids, now=now, context=context)


def deadlines_between(session: Session, start: datetime, end: datetime) -> list[datetime]:
    """The moments the compliance job runs at: the end of each grace period (At schedule)."""
    rows = session.scalars(
        select(ExpectedReport.grace_until)
        .where(ExpectedReport.grace_until >= start, ExpectedReport.grace_until < end)
        .distinct()
    ).all()
    # After the end of the grace day, so that a value sent at its last second counts.
    return [at + timedelta(seconds=1) for at in rows]


# --- reading ------------------------------------------------------------------------------------------------


def list_regimes(*, session: Session) -> list[RegimeOut]:
    return [
        RegimeOut(
            code=r.code,
            demo=r.demo,
            versions=[
                RegimeVersionOut(
                    valid_from=v.valid_from,
                    name_vi=v.name_vi,
                    name_en=v.name_en,
                    legal_basis=v.legal_basis,
                    legal_date=v.legal_date,
                    frequency=v.frequency,
                    deadline=v.deadline_rule,
                    cutoff=v.cutoff_rule,
                    grace_days=v.grace_days,
                    lock_days=v.lock_days,
                    replaced_by_data=v.replaced_by_data,
                    requires_document=v.requires_document,
                    indicators=list(v.indicators),
                    agency_kinds=list(v.agency_kinds),
                    agencies=list(v.agencies),
                    coverage=v.coverage,
                )
                for v in r.versions
            ],
        )
        for r in session.scalars(select(Regime).order_by(Regime.code))
    ]


def get_regime(*, session: Session, code: str) -> Regime:
    found = session.scalar(select(Regime).where(Regime.code == code))
    if found is None:
        raise NotFound(f"there is no reporting regime {code!r}", hint="see GET /api/v1/reporting/regimes")
    return found


def get_agency(*, session: Session, code: str) -> Agency:
    found = session.scalar(select(Agency).where(Agency.code == code))
    if found is None:
        raise NotFound(f"there is no agency {code!r}", hint="see GET /api/v1/agencies")
    return found


def check_period(text: str) -> str:
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        raise GovopsError.of(
            "invalid_period",
            lazy_gettext("The period %(period)s cannot be read."),
            lazy_gettext("Write it like 2025-07, 2025-Q3, 2025-S1 or 2025."),
            where="period",
            period=repr(text[:40]),
        ) from exc
    if period.freq not in (Freq.M, Freq.Q, Freq.S, Freq.A):
        raise GovopsError.of(
            "invalid_period",
            lazy_gettext("The period %(period)s cannot be read."),
            lazy_gettext("Write it like 2025-07, 2025-Q3, 2025-S1 or 2025."),
            where="period",
            period=repr(text[:40]),
        )
    return str(period)


def check_status(text: str) -> str:
    if text not in STATUSES:
        raise GovopsError(
            f"unknown status {text!r}", code="invalid_status", where="status", hint="one of " + ", ".join(STATUSES)
        )
    return text


@dataclass(frozen=True)
class Filter:
    regime: str | None = None
    period: str | None = None
    agency: str | None = None
    status: str | None = None
    kind: str | None = None

    def where(self, session: Session) -> list[Any]:
        e = ExpectedReport
        out: list[Any] = []
        if self.regime:
            out.append(e.regime_id == get_regime(session=session, code=self.regime).id)
        if self.period:
            out.append(e.period == check_period(self.period))
        if self.agency:
            out.append(e.agency_id == get_agency(session=session, code=self.agency).id)
        if self.status:
            out.append(e.status == check_status(self.status))
        if self.kind:
            out.append(e.agency_id.in_(select(Agency.id).where(Agency.kind == self.kind)))
        return out


def _out(row: ExpectedReport, regimes: dict[int, str], agencies: dict[int, tuple[str, str]]) -> ComplianceOut:
    code, kind = agencies[row.agency_id]
    return ComplianceOut(
        id=row.id,
        regime=regimes[row.regime_id],
        agency=code,
        agency_kind=kind,
        period=row.period,
        status=row.status,
        deadline=row.deadline,
        grace_until=row.grace_until,
        received_at=row.received_at,
        days_late=row.days_late,
        values_present=row.present,
        values_required=row.required,
        missing=list(row.missing),
        revisions_after_lock=row.revisions_after_lock,
    )


def compliance(*, session: Session, where: Filter, after_id: int = 0, limit: int = 100) -> Page[ComplianceOut]:
    """One row per expected report, in id order, a page at a time."""
    check_limit(limit)
    rows = session.scalars(
        select(ExpectedReport)
        .where(ExpectedReport.id > after_id, *where.where(session))
        .order_by(ExpectedReport.id)
        .limit(limit + 1)
    ).all()
    regimes = dict(session.execute(select(Regime.id, Regime.code)).all())
    agencies = {i: (c, k) for i, c, k in session.execute(select(Agency.id, Agency.code, Agency.kind))}
    return make_page(rows, limit=limit, key=lambda r: r.id, out=lambda r: _out(r, regimes, agencies))


def rates(*, session: Session, where: Filter) -> list[RatesOut]:
    """The DHIS2-named rates of each agency over the reports `where` selects, worst reporting rate first."""
    e = ExpectedReport
    counts = session.execute(
        select(e.agency_id, e.status, func.count(), func.sum(e.days_late))
        .where(*where.where(session))
        .group_by(e.agency_id, e.status)
    ).all()
    per: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for agency_id, status, count, days in counts:
        per[agency_id][status] = (int(count), int(days or 0))
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(list(per)))) if per}
    out = []
    for agency_id, by in per.items():
        n = {s: by.get(s, (0, 0))[0] for s in STATUSES}
        expected = n["on_time"] + n["late"] + n["partial"] + n["missing"]
        actual = n["on_time"] + n["late"]
        agency = agencies[agency_id]
        out.append(
            RatesOut(
                agency=agency.code,
                agency_name=agency.name_vi,
                agency_kind=agency.kind,
                EXPECTED_REPORTS=expected,
                ACTUAL_REPORTS=actual,
                ACTUAL_REPORTS_ON_TIME=n["on_time"],
                REPORTING_RATE=round(100 * actual / expected, 1) if expected else None,
                REPORTING_RATE_ON_TIME=round(100 * n["on_time"] / expected, 1) if expected else None,
                AVERAGE_DAYS_LATE=round(by["late"][1] / n["late"], 1) if n["late"] else None,
                partial=n["partial"],
                missing=n["missing"],
                not_due=n["not_due"],
            )
        )
    return sorted(out, key=lambda r: (r.REPORTING_RATE if r.REPORTING_RATE is not None else 101, r.agency))


def latest_due_period(*, session: Session, regime: Regime, now: datetime | None = None) -> str | None:
    """The newest period of `regime` whose deadline has passed."""
    return session.scalar(
        select(ExpectedReport.period)
        .where(ExpectedReport.regime_id == regime.id, ExpectedReport.grace_until < (now or utcnow()))
        .order_by(ExpectedReport.period_start.desc())
        .limit(1)
    )


def abolition_candidates(*, session: Session, now: datetime | None = None) -> list[Regime]:
    """Regimes still asking for a separate report whose every required value of their latest due period already
    arrived as data (the plan's "reports replaced by data")."""
    out = []
    for regime in session.scalars(select(Regime).order_by(Regime.code)):
        version = regime.versions[-1] if regime.versions else None
        if version is None or version.replaced_by_data:
            continue
        period = latest_due_period(session=session, regime=regime, now=now)
        if period is None:
            continue
        rows = session.execute(
            select(ExpectedReport.missing).where(ExpectedReport.regime_id == regime.id, ExpectedReport.period == period)
        ).all()
        if rows and all(not [m for m in missing if m != "document"] for (missing,) in rows):
            out.append(regime)
    return out


@dataclass(frozen=True)
class Cell:
    """One report on the board: its regime and status."""

    regime_id: int
    status: str


def board(
    *, session: Session, periods: Sequence[str], where: Filter
) -> tuple[list[tuple[Agency, dict[str, list[Cell]]]], list[str]]:
    """Agencies x periods, each cell the agency's reports of that period, the worst agencies first."""
    e = ExpectedReport
    rows = session.execute(
        select(e.agency_id, e.period, e.regime_id, e.status)
        .where(e.period.in_(list(periods)), *where.where(session))
        .order_by(e.regime_id)
    ).all()
    cells: dict[int, dict[str, list[Cell]]] = defaultdict(lambda: defaultdict(list))
    for agency_id, period, regime_id, status in rows:
        cells[agency_id][period].append(Cell(regime_id, status))
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(list(cells))))} if cells else {}

    def badness(agency_id: int) -> tuple[float, str]:
        reports = [r for cell in cells[agency_id].values() for r in cell]
        return (sum(SEVERITY[r.status] for r in reports) / max(len(reports), 1), agencies[agency_id].code)

    ordered = sorted(cells, key=badness)
    return [(agencies[i], dict(cells[i])) for i in ordered], list(periods)


def recent_periods(*, session: Session, where: Filter, count: int = 12) -> list[str]:
    e = ExpectedReport
    rows = session.execute(
        select(e.period, e.period_start)
        .where(*where.where(session))
        .group_by(e.period, e.period_start)
        .order_by(e.period_start.desc(), e.period)
        .limit(count)
    ).all()
    return [period for period, _ in reversed(rows)]


def expected_for(*, session: Session, regime: str, agency: str, period: str) -> ExpectedReport:
    e = ExpectedReport
    found = session.scalar(
        select(e).where(
            e.regime_id == get_regime(session=session, code=regime).id,
            e.agency_id == get_agency(session=session, code=agency).id,
            e.period == check_period(period),
        )
    )
    if found is None:
        raise NotFound(
            f"{agency} owes no report of {regime} for {period}",
            hint="see GET /api/v1/reporting/compliance for the reports each agency owes",
        )
    return found


# --- reminders and escalation -------------------------------------------------------------------------------

# Days before the deadline the first reminder goes out; days after it the Government Office's analysts are told.
REMIND_BEFORE_DAYS = 3
ESCALATE_AFTER_DAYS = 10
# Reports whose deadline is older than this are not reminded of any more (their escalation was sent).
REMINDER_WINDOW_DAYS = 35
REMINDER_SENT = "reporting.reminder_sent"

REPORT_OVERDUE = register(
    Kind(
        "report_overdue",
        subject=_("Report overdue: %(report)s"),
        body=_(
            "The report %(report)s of %(agency)s for %(period)s was due on %(due)s; %(present)s of %(required)s "
            "values have arrived. Submit the rest now."
        ),
        params=("report", "agency", "period", "due", "present", "required"),
    )
)
REPORT_ESCALATED = register(
    Kind(
        "report_escalated",
        subject=_("Late beyond %(days)s days: %(report)s of %(agency)s"),
        body=_(
            "%(agency)s has not submitted the report %(report)s for %(period)s, due on %(due)s (%(present)s of "
            "%(required)s values arrived)."
        ),
        params=("report", "agency", "period", "due", "present", "required", "days"),
    )
)


def _stages(report: ExpectedReport, today: date, now: datetime) -> list[str]:
    due_day = report.deadline.astimezone(ZONE).date()
    if report.status == "not_due":
        if due_day == today:
            return ["due"]
        return ["before"] if 0 < (due_day - today).days <= REMIND_BEFORE_DAYS else []
    if report.status in ("partial", "missing") and now > report.grace_until:
        return ["after", "escalated"] if (today - due_day).days >= ESCALATE_AFTER_DAYS else ["after"]
    return []


def _claim(session: Session, report: ExpectedReport, stage: str, now: datetime) -> Reminder | None:
    """The reminder's row, or None when it was sent already (by this worker or another): the unique
    (report, stage) lets one insert win."""
    reminder = Reminder(expected_id=report.id, stage=stage, sent_at=now, recipients=0)
    try:
        with session.begin_nested():
            session.add(reminder)
    except IntegrityError:
        return None
    return reminder


def _people(session: Session, *, role: str, agency_ids: Sequence[int]) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(User.role == role, User.active.is_(True), User.agency_id.in_(list(agency_ids)))
        )
    )


def send_reminders(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Remind the agencies' data officers before, on and after each deadline, and tell the Government Office's
    analysts of reports late beyond ESCALATE_AFTER_DAYS; each reminder once. How many of each stage were sent."""
    now = now or utcnow()
    today = today_in_vietnam(now)
    context = Context.load(session)
    window = (now - timedelta(days=REMINDER_WINDOW_DAYS), now + timedelta(days=REMIND_BEFORE_DAYS + 1))
    reports = session.scalars(
        select(ExpectedReport)
        .where(
            ExpectedReport.deadline.between(*window),
            ExpectedReport.status.in_(("not_due", "partial", "missing")),
        )
        .order_by(ExpectedReport.id)
    ).all()
    office = [r.id for r in context.reporters.values() if r.kind == "government_office"]
    analysts = _people(session, role="analyst", agency_ids=office) if office else []
    sent: dict[str, int] = defaultdict(int)
    for report in reports:
        for stage in _stages(report, today, now):
            reminder = _claim(session, report, stage, now)
            if reminder is None:
                continue
            version = context.versions[report.version_id]
            agency = context.reporters[report.agency_id].code
            regime = context.regime_codes[report.regime_id]
            recipients = (
                analysts
                if stage == "escalated"
                else _people(session, role="data_officer", agency_ids=[report.agency_id])
            )
            params: dict[str, Any] = {
                "report": f"{regime} ({version.name_vi})",
                "agency": agency,
                "period": report.period,
                "due": report.deadline.astimezone(ZONE).date().isoformat(),
            }
            kind = "report_due"
            if stage in ("after", "escalated"):
                params |= {"present": report.present, "required": report.required}
                kind = "report_overdue"
            if stage == "escalated":
                params["days"] = ESCALATE_AFTER_DAYS
                kind = "report_escalated"
            if recipients:
                notify(
                    session=session,
                    recipients=recipients,
                    kind=kind,
                    params=params,
                    link=f"/reporting/agencies/{agency}",
                    now=now,
                )
            reminder.recipients = len(recipients)
            emit(
                session=session,
                topic=TOPIC,
                type=REMINDER_SENT,
                subject=f"{regime}/{agency}/{report.period}",
                payload={"regime": regime, "agency": agency, "period": report.period, "stage": stage,
                         "status": report.status, "deadline": report.deadline.isoformat(),
                         "recipients": len(recipients)},
                rule=ReadRule("public", agency=agency),
                now=now,
            )  # fmt: skip
            sent[stage] += 1
    session.flush()
    return dict(sent)


# --- signed documents -----------------------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def attach_document(
    *,
    session: Session,
    report: ExpectedReport,
    filename: str,
    content: bytes,
    uploaded_by: str,
    now: datetime | None = None,
) -> ReportDocument:
    """Store the signed PDF of a report whose regime asks for one, and recompute the report's status."""
    now = now or utcnow()
    version = session.get_one(RegimeVersion, report.version_id)
    if not version.requires_document:
        raise GovopsError.of(
            "document_not_asked",
            lazy_gettext("This report asks for no signed document; its data is the report."),
            lazy_gettext("Submit the figures through the exchange instead."),
            status=409,
            where="document",
        )
    if len(content) > MAX_DOCUMENT_BYTES:
        raise GovopsError.of(
            "document_too_large",
            lazy_gettext("The document is %(size)s bytes; at most %(limit)s are accepted."),
            lazy_gettext("Scan at a lower resolution, or compress the PDF."),
            status=413,
            where="document",
            size=len(content),
            limit=MAX_DOCUMENT_BYTES,
        )
    if not content.startswith(b"%PDF-"):
        raise GovopsError.of(
            "document_not_pdf",
            lazy_gettext("The file %(name)s is not a PDF document."),
            lazy_gettext("Send the signed report as a PDF file (it starts with %%PDF-)."),
            status=415,
            where="document",
            name=repr(filename[:100]),
        )
    import hashlib

    document = ReportDocument(
        expected_id=report.id,
        filename=(filename or "report.pdf")[:200],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=now,
        uploaded_by=uploaded_by[:120],
    )
    session.add(document)
    session.flush()
    recompute(session=session, ids=[report.id], now=now)
    return document


@dataclass(frozen=True)
class Rates:
    """The DHIS2-named counts of a group of expected reports (a regime, a period...)."""

    key: str
    expected: int
    actual: int
    on_time: int
    partial: int
    missing: int
    not_due: int
    days_late: float | None

    @property
    def reporting_rate(self) -> float | None:
        return round(100 * self.actual / self.expected, 1) if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.expected, 1) if self.expected else None


def _grouped(session: Session, key: Any, where: Sequence[Any]) -> list[Rates]:
    e = ExpectedReport
    rows = session.execute(
        select(key, e.status, func.count(), func.sum(e.days_late)).where(*where).group_by(key, e.status)
    ).all()
    per: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for k, status, count, days in rows:
        per[str(k)][status] = (int(count), int(days or 0))
    out = []
    for k, by in per.items():
        n = {s: by.get(s, (0, 0))[0] for s in STATUSES}
        late_days = by.get("late", (0, 0))[1]
        out.append(
            Rates(
                key=k,
                expected=n["on_time"] + n["late"] + n["partial"] + n["missing"],
                actual=n["on_time"] + n["late"],
                on_time=n["on_time"],
                partial=n["partial"],
                missing=n["missing"],
                not_due=n["not_due"],
                days_late=round(late_days / n["late"], 1) if n["late"] else None,
            )
        )
    return out


def rates_by_regime(*, session: Session, agency: str) -> list[tuple[Regime, Rates]]:
    """An agency's rates under each regime it reports to."""
    agency_id = get_agency(session=session, code=agency).id
    regimes = {str(r.id): r for r in session.scalars(select(Regime))}
    rates = _grouped(session, ExpectedReport.regime_id, [ExpectedReport.agency_id == agency_id])
    return sorted(((regimes[r.key], r) for r in rates), key=lambda pair: pair[0].code)


def rates_by_period(*, session: Session, regime: str) -> list[Rates]:
    """A regime's rates period by period, newest first."""
    regime_id = get_regime(session=session, code=regime).id
    rates = _grouped(session, ExpectedReport.period, [ExpectedReport.regime_id == regime_id])
    return sorted(rates, key=lambda r: Period(r.key), reverse=True)
