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
counted (and listed by `reading.revisions_after_lock`). One submission recomputes only the expected reports it
touches (`recompute_cells`, fed by the observation change events through `follow_changes`); `recompute` with no
ids does everything (the baseline of bench/reporting.py, and the deadline job's catch-up).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.db.base import utcnow
from govops.events.service import Event, Follower, ReadRule, emit, follow, pending
from govops.periods import Period
from govops.reporting.context import Context, periods_of, today_in_vietnam
from govops.reporting.models import ExpectedReport, Regime, RegimeVersion, ReportDocument
from govops.reporting.rules import parse_rule
from govops.warehouse.changes import TOPIC as OBSERVATIONS
from govops.warehouse.changes import TYPE as OBSERVATION_CHANGED
from govops.warehouse.models import Observation, ObservationRevision

TOPIC = "reporting"
STATUS_CHANGED = "reporting.status_changed"


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
        for version, until in regime.spans():
            deadline_rule = parse_rule(version.deadline_rule)
            for period in periods_of(version, until, today):
                deadline = deadline_rule.moment(period)
                for reporter in context.reporters_of(version, period):
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
            missing = [item for item in required if item not in mine]
            computed = (status, len(required), len(mine), missing, received, days_late, after_lock)
            if computed == _stored(report):
                continue  # written only when it changed: a full recompute rewrites nothing that holds
            previous = report.status
            (
                report.status,
                report.required,
                report.present,
                report.missing,
                report.received_at,
                report.days_late,
                report.revisions_after_lock,
            ) = computed
            report.computed_at = now
            if previous != status:
                changed.append(report)
                if announce:
                    _announce(session, context, report, previous, now)
    session.flush()
    return changed


def _stored(report: ExpectedReport) -> tuple[Any, ...]:
    return (
        report.status,
        report.required,
        report.present,
        list(report.missing),
        report.received_at,
        report.days_late,
        report.revisions_after_lock,
    )


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


# Starting at the newest event: what was stored before was computed when the expected reports were made.
FOLLOWER = Follower(name="reporting.follow-changes", topic=OBSERVATIONS, types=frozenset({OBSERVATION_CHANGED}))


def changes_pending(*, session: Session) -> bool:
    """Whether observation changes arrived that the follower has not read (a read, no lock)."""
    return pending(session=session, follower=FOLLOWER)


def follow_changes(*, session: Session, now: datetime | None = None, batch: int = 5000) -> int:
    """Read the observation change events after the follower's cursor and recompute the expected reports they
    touch; how many events were read."""
    context: Context | None = None

    def recompute_touched(session: Session, events: Sequence[Event]) -> None:
        nonlocal context
        cells = set()
        for event in events:
            parts = event.subject.split("/")
            if len(parts) == 3:  # totals only: INDICATOR/AREA/PERIOD
                cells.add((parts[0], parts[1], parts[2]))
        context = context or Context.load(session)
        recompute_cells(session=session, cells=cells, now=now, context=context)

    return follow(session=session, follower=FOLLOWER, handle=recompute_touched, batch=batch, now=now)


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
