"""Reading compliance: regimes, expected reports by filter a page at a time, the DHIS2-named rates, the board, the
abolition candidates. Every refusal a person sees is worded by the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from govops.catalog.models import Agency
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.paging import Page, check_limit, make_page
from govops.periods import Freq, Period, PeriodError
from govops.reporting.models import STATUSES, ExpectedReport, Regime
from govops.reporting.regimes import spec_of
from govops.reporting.schemas import ComplianceOut, RatesOut, RegimeOut, RegimeVersionOut

# Worst first: what the board sorts by.
SEVERITY = {"missing": 0, "partial": 1, "late": 2, "not_due": 3, "on_time": 4}
# Each status's symbol, beside its colour on the console and alone in the command's tables.
SYMBOL = {"on_time": "✓", "late": "⏱", "partial": "◐", "missing": "✗", "not_due": "·"}
# The API's names of the two rules, where the file and the store say deadline_rule and cutoff_rule.
_API_NAMES = {"deadline_rule": "deadline", "cutoff_rule": "cutoff"}


def all_regimes(*, session: Session) -> list[Regime]:
    """Every regime by code, with its versions (two statements, however many regimes there are)."""
    return list(session.scalars(select(Regime).options(selectinload(Regime.versions)).order_by(Regime.code)))


def list_regimes(*, session: Session) -> list[RegimeOut]:
    return [
        RegimeOut(
            code=r.code,
            demo=r.demo,
            versions=[
                RegimeVersionOut(**{_API_NAMES.get(k, k): v for k, v in vars(spec_of(v)).items() if k != "note"})
                for v in r.versions
            ],
        )
        for r in all_regimes(session=session)
    ]


def get_regime(*, session: Session, code: str) -> Regime:
    found = session.scalar(select(Regime).where(Regime.code == code))
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("There is no reporting regime %(regime)s."),
            lazy_gettext("See the list of regimes (GET /api/v1/reporting/regimes, or Reporting in the console)."),
            status=404,
            where="regime",
            regime=repr(code[:40]),
        )
    return found


def get_agency(*, session: Session, code: str) -> Agency:
    found = session.scalar(select(Agency).where(Agency.code == code))
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("There is no agency %(agency)s."),
            lazy_gettext("Use an agency code of the catalogue, such as PC-79 or MOF (GET /api/v1/agencies)."),
            status=404,
            where="agency",
            agency=repr(code[:40]),
        )
    return found


def check_period(text: str) -> str:
    """`text` as a period a regime can have (a month, quarter, half-year or year), written the standard way."""
    try:
        period: Period | None = Period.parse(text)
    except PeriodError:
        period = None
    if period is None or period.freq not in (Freq.M, Freq.Q, Freq.S, Freq.A):
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
        raise GovopsError.of(
            "invalid_status",
            lazy_gettext("There is no report status %(given)s."),
            lazy_gettext("Use one of: %(statuses)s."),
            where="status",
            given=repr(text[:40]),
            statuses=", ".join(STATUSES),
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


def compliance_out(row: ExpectedReport, regimes: dict[int, str], agencies: dict[int, tuple[str, str]]) -> ComplianceOut:
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
    return make_page(rows, limit=limit, key=lambda r: r.id, out=lambda r: compliance_out(r, regimes, agencies))


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
        raise GovopsError.of(
            "not_found",
            lazy_gettext("%(agency)s owes no report of %(regime)s for %(period)s."),
            lazy_gettext("See the reports each agency owes on its page, or in GET /api/v1/reporting/compliance."),
            status=404,
            where="period",
            agency=agency,
            regime=regime,
            period=period[:20],
        )
    return found


# --- rates, named as DHIS2 names them ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    """The DHIS2-named counts of a group of expected reports (an agency, a regime, a period...); a report not
    yet due is not expected yet."""

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


def grouped_rates(session: Session, key: Any, where: Sequence[Any]) -> list[Rates]:
    """The rates of the reports `where` selects, one per value of `key` (a column of the expected reports)."""
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


def rates(*, session: Session, where: Filter) -> list[RatesOut]:
    """The DHIS2-named rates of each agency over the reports `where` selects, worst reporting rate first."""
    per = {int(r.key): r for r in grouped_rates(session, ExpectedReport.agency_id, where.where(session))}
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(list(per))))} if per else {}
    out = [
        RatesOut(
            agency=agencies[agency_id].code,
            agency_name=agencies[agency_id].name_vi,
            agency_kind=agencies[agency_id].kind,
            EXPECTED_REPORTS=r.expected,
            ACTUAL_REPORTS=r.actual,
            ACTUAL_REPORTS_ON_TIME=r.on_time,
            REPORTING_RATE=r.reporting_rate,
            REPORTING_RATE_ON_TIME=r.on_time_rate,
            AVERAGE_DAYS_LATE=r.days_late,
            partial=r.partial,
            missing=r.missing,
            not_due=r.not_due,
        )
        for agency_id, r in per.items()
    ]
    return sorted(out, key=lambda r: (r.REPORTING_RATE if r.REPORTING_RATE is not None else 101, r.agency))


def rates_by_regime(*, session: Session, agency: str) -> list[tuple[Regime, Rates]]:
    """An agency's rates under each regime it reports to."""
    agency_id = get_agency(session=session, code=agency).id
    regimes = {str(r.id): r for r in session.scalars(select(Regime))}
    found = grouped_rates(session, ExpectedReport.regime_id, [ExpectedReport.agency_id == agency_id])
    return sorted(((regimes[r.key], r) for r in found), key=lambda pair: pair[0].code)


def rates_by_period(*, session: Session, regime: str) -> list[Rates]:
    """A regime's rates period by period, newest first."""
    regime_id = get_regime(session=session, code=regime).id
    found = grouped_rates(session, ExpectedReport.period, [ExpectedReport.regime_id == regime_id])
    return sorted(found, key=lambda r: Period(r.key), reverse=True)


# --- the board and the abolition candidates -----------------------------------------------------------------


def latest_due_period(*, session: Session, regime: Regime, now: datetime | None = None) -> str | None:
    """The newest period of `regime` whose deadline has passed."""
    return session.scalar(
        select(ExpectedReport.period)
        .where(ExpectedReport.regime_id == regime.id, ExpectedReport.grace_until < (now or utcnow()))
        .order_by(ExpectedReport.period_start.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Candidate:
    """A regime whose figures all arrive as data. Without a signed report it can be abolished (the plan's "reports
    replaced by data"); with one, the figures can come from data but the signed report remains."""

    regime: Regime
    signed_report_remains: bool


def abolition_candidates(
    *, session: Session, now: datetime | None = None, regimes: Sequence[Regime] | None = None
) -> list[Candidate]:
    """Regimes (of `regimes`, by default all) still asking for a separate report whose every required value of
    their latest due period already arrived as data."""
    regimes = all_regimes(session=session) if regimes is None else regimes
    separate = [r for r in regimes if r.current is not None and not r.current.replaced_by_data]
    if not separate:
        return []
    e = ExpectedReport
    ids = [r.id for r in separate]
    latest = (
        select(e.regime_id, func.max(e.period_start).label("start"))
        .where(e.regime_id.in_(ids), e.grace_until < (now or utcnow()))
        .group_by(e.regime_id)
        .subquery()
    )
    complete: dict[int, bool] = {}
    for regime_id, missing in session.execute(
        select(e.regime_id, e.missing).join(
            latest, and_(e.regime_id == latest.c.regime_id, e.period_start == latest.c.start)
        )
    ):
        figures_in = not [m for m in missing if m != "document"]
        complete[regime_id] = complete.get(regime_id, True) and figures_in
    return [
        Candidate(r, signed_report_remains=r.current.requires_document)
        for r in separate
        if complete.get(r.id) and r.current is not None
    ]


@dataclass(frozen=True)
class Cell:
    """An agency's reports of one period on the board: how many have each status, the worst first."""

    counts: tuple[tuple[str, int], ...]


def board(*, session: Session, periods: Sequence[str], where: Filter) -> list[tuple[Agency, dict[str, Cell]]]:
    """Agencies x periods, each cell the count of the agency's reports of that period by status, the worst
    agencies first (the mean severity of their reports). Counted by the database: a cell is a few numbers, not
    one row per report."""
    e = ExpectedReport
    rows = session.execute(
        select(e.agency_id, e.period, e.status, func.count())
        .where(e.period.in_(list(periods)), *where.where(session))
        .group_by(e.agency_id, e.period, e.status)
    ).all()
    counts: dict[int, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for agency_id, period, status, n in rows:
        counts[agency_id][period].append((status, int(n)))
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(list(counts))))} if counts else {}

    def badness(agency_id: int) -> tuple[float, str]:
        pairs = [pair for cell in counts[agency_id].values() for pair in cell]
        total = sum(n for _, n in pairs)
        return sum(SEVERITY[status] * n for status, n in pairs) / max(total, 1), agencies[agency_id].code

    return [
        (
            agencies[agency_id],
            {
                period: Cell(tuple(sorted(cell, key=lambda pair: SEVERITY[pair[0]])))
                for period, cell in counts[agency_id].items()
            },
        )
        for agency_id in sorted(counts, key=badness)
    ]


def recent_periods(*, session: Session, where: Filter, count: int = 12) -> list[str]:
    """The `count` latest periods that have expected reports, oldest first (read backwards along the index on
    their start, stopping at the last one needed)."""
    e = ExpectedReport
    rows = session.execute(
        select(e.period, e.period_start)
        .where(*where.where(session))
        .group_by(e.period_start, e.period)
        .order_by(e.period_start.desc(), e.period.desc())
        .limit(count)
    ).all()
    return [period for period, _ in reversed(rows)]
