"""Compliance computed from stored data and arrival times: on time, late with days, partial, missing, not due."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govops.catalog.models import Agency
from govops.reporting import service
from govops.reporting.models import ExpectedReport
from govops.reporting.regimes import import_regimes
from tests.reporting.conftest import REGIME_FILE, submit, utc

NOW = utc(2025, 10, 20, 3)


def _report(session: Session, regime: str, agency: str, period: str) -> ExpectedReport:
    return service.expected_for(session=session, regime=regime, agency=agency, period=period)


def test_every_province_owes_each_period_begun_and_statuses_come_from_arrival_times(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    # Ha Noi: August on time (11 Sep), September late (arrived 16 Oct, deadline 12 Oct, grace 1 day).
    submit(session, utc(2025, 9, 11, 2), [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")])
    submit(session, utc(2025, 10, 16, 2), [("CPI", "01", "2025-09"), ("RETAIL_SALES", "01", "2025-09")])
    # Hue (46): only CPI for September.
    submit(session, utc(2025, 10, 1, 2), [("CPI", "46", "2025-09")])
    made = service.ensure_expected(session=session, now=NOW)
    provinces = session.scalar(select(Agency.id).where(Agency.kind == "provincial_committee").limit(1))
    assert provinces is not None
    # 34 provinces x Aug, Sep, Oct + MOF x 2025-Q3 (Q4 has begun too).
    assert len(made) == 34 * 3 + 2
    assert _report(session, "TEST_MONTHLY", "PC-01", "2025-08").status == "on_time"
    late = _report(session, "TEST_MONTHLY", "PC-01", "2025-09")
    assert (late.status, late.days_late, late.received_at) == ("late", 4, utc(2025, 10, 16, 2))
    partial = _report(session, "TEST_MONTHLY", "PC-46", "2025-09")
    assert (partial.status, partial.present, partial.required, partial.missing) == (
        "partial",
        1,
        2,
        ["RETAIL_SALES/46"],
    )
    assert _report(session, "TEST_MONTHLY", "PC-79", "2025-09").status == "missing"
    assert _report(session, "TEST_MONTHLY", "PC-79", "2025-10").status == "not_due"
    # The ministry's quarterly report wants the nation's figure and a signed document, by 20 October (VN).
    ministry = _report(session, "TEST_QUARTERLY_MINISTRY", "MOF", "2025-Q3")
    assert (ministry.status, ministry.missing) == ("not_due", ["BUDGET_REVENUE/VN", "document"])
    assert ministry.deadline == utc(2025, 10, 20, 16, 59, 59)
    # Making them again adds nothing.
    assert service.ensure_expected(session=session, now=NOW) == []


def test_one_submission_recomputes_only_the_reports_it_touches(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    service.ensure_expected(session=session, now=NOW)
    service.follow_changes(session=session, now=NOW)  # the follower starts at the newest event
    # Every report marked stale: only those the follower recomputes lose the mark.
    session.execute(update(ExpectedReport).values(revisions_after_lock=-1))
    session.expire_all()
    later = utc(2025, 10, 21, 1)
    submit(session, later, [("CPI", "79", "2025-09"), ("RETAIL_SALES", "79", "2025-09")])
    assert service.follow_changes(session=session, now=later) == 2
    report = _report(session, "TEST_MONTHLY", "PC-79", "2025-09")
    assert (report.status, report.days_late, report.computed_at) == ("late", 9, later)
    touched = [r.id for r in session.scalars(select(ExpectedReport)) if r.revisions_after_lock != -1]
    assert touched == [report.id]
    # The change is announced to the agency's own subscribers.
    from govops.events.models import DomainEvent

    event = session.scalars(select(DomainEvent).where(DomainEvent.topic == "reporting")).one()
    assert (event.type, event.subject, event.read_agency) == (
        "reporting.status_changed",
        "TEST_MONTHLY/PC-79/2025-09",
        "PC-79",
    )


def test_rates_are_named_as_dhis2_names_them(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    submit(session, utc(2025, 9, 11, 2), [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")])
    submit(session, utc(2025, 10, 16, 2), [("CPI", "01", "2025-09"), ("RETAIL_SALES", "01", "2025-09")])
    service.ensure_expected(session=session, now=NOW)
    rates = {r.agency: r for r in service.rates(session=session, where=service.Filter(regime="TEST_MONTHLY"))}
    hanoi = rates["PC-01"]
    assert (hanoi.EXPECTED_REPORTS, hanoi.ACTUAL_REPORTS, hanoi.ACTUAL_REPORTS_ON_TIME) == (2, 2, 1)
    assert (hanoi.REPORTING_RATE, hanoi.REPORTING_RATE_ON_TIME, hanoi.AVERAGE_DAYS_LATE) == (100.0, 50.0, 4.0)
    assert (hanoi.not_due, rates["PC-79"].missing, rates["PC-79"].REPORTING_RATE) == (1, 2, 0.0)


def test_an_agency_whose_area_ended_in_the_2025_merger_expects_nothing_after_its_end(session: Session) -> None:
    from govops.catalog.models import Area

    binh_duong = session.scalars(select(Area).where(Area.code == "74")).one()
    assert binh_duong.valid_to is not None and binh_duong.valid_to.isoformat() == "2025-06-30"
    session.add(Agency(code="PC-74", kind="old_province", name_vi="UBND tỉnh Bình Dương", name_en="Binh Duong",
                       area_id=binh_duong.id))  # fmt: skip
    session.flush()
    text = REGIME_FILE.replace("from: 2025-08", "from: 2025-05").replace(
        "{kinds: [provincial_committee], coverage: own_area}", "{agencies: [PC-74, PC-79], coverage: own_area}"
    )
    import_regimes(session=session, text=text, where="regimes.yaml", now=NOW)
    service.ensure_expected(session=session, now=NOW)
    rows = session.execute(
        select(Agency.code, ExpectedReport.period)
        .join(Agency, Agency.id == ExpectedReport.agency_id)
        .where(ExpectedReport.regime_id == service.get_regime(session=session, code="TEST_MONTHLY").id)
    ).all()
    assert sorted(p for a, p in rows if a == "PC-74") == ["2025-05", "2025-06"]
    assert len([p for a, p in rows if a == "PC-79"]) == 6  # May to October


def test_revisions_after_the_lock_date_are_counted(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    cells = [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")]
    submit(session, utc(2025, 9, 11, 2), cells)
    submit(session, utc(2025, 9, 20, 2), cells[:1], value=101.0)  # before the lock (12 Sep + 30 days)
    submit(session, utc(2025, 10, 15, 2), cells[:1], value=102.0)  # after it
    service.ensure_expected(session=session, now=NOW)
    report = _report(session, "TEST_MONTHLY", "PC-01", "2025-08")
    # Arrival is the first value's: the report stays on time, with one revision after the lock.
    assert (report.status, report.revisions_after_lock) == ("on_time", 1)
    # Listed, not only counted: which value, old -> new, when and by whom.
    (listed,) = service.revisions_after_lock(session=session, report=report)
    assert (listed.indicator, listed.area, listed.old, listed.new) == ("CPI", "01", 101.0, 102.0)
    assert (listed.recorded_at, listed.recorded_by) == (utc(2025, 10, 15, 2), "test")
