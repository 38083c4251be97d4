"""Tasks on the store: status computed from dates, health that drops on a slip, roll-up, rights, extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.errors import GovopsError, Rejected
from govops.events.models import DomainEvent
from govops.tasks import service
from govops.tasks.models import Directive, TaskEvent
from govops.tasks.schemas import ProgressIn
from govops.warehouse.models import Observation
from tests.tasks.conftest import task_in


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def test_status_follows_deadline_and_closing_day(
    session: Session, directive: Directive, office: service.Caller, finance: service.Caller
) -> None:
    task = service.create_task(session=session, data=task_in(), who=office, today=date(2025, 1, 10))
    status = {
        day: service.task_out(task, day).status for day in (date(2025, 6, 1), date(2025, 6, 30), date(2025, 7, 1))
    }
    assert status == {
        date(2025, 6, 1): "open_in_time",
        date(2025, 6, 30): "open_in_time",
        date(2025, 7, 1): "open_overdue",
    }
    assert service.task_out(task, date(2025, 6, 25)).due_soon
    assert not service.task_out(task, date(2025, 6, 1)).due_soon
    done = ProgressIn(percent=100, text="Đã trình Chính phủ", evidence="Tờ trình 12/TTr-BTC", done=True)
    service.report_progress(session=session, task_id=task.id, data=done, who=finance, now=at(date(2025, 7, 3)))
    out = service.task_out(task, date(2025, 8, 1))
    assert (out.status, out.closed_on, out.progress) == ("done_late", date(2025, 7, 3), 100.0)


def test_a_task_without_lead_or_with_a_deadline_before_its_directive_is_refused_whole(
    session: Session, directive: Directive, office: service.Caller
) -> None:
    with pytest.raises(Rejected) as caught:
        service.create_task(session=session, data=task_in(lead="", deadline=date(2024, 12, 31)), who=office)
    fields = [(p.field, p.message) for p in caught.value.problems]
    assert fields == [
        ("lead", "a task needs a lead agency"),
        ("deadline", "the deadline 2024-12-31 is before the directive was signed (2025-01-08)"),
    ]
    assert service.list_tasks(session=session).items == []


def test_an_agency_reports_only_on_its_own_tasks(
    session: Session, directive: Directive, office: service.Caller, industry: service.Caller
) -> None:
    task = service.create_task(session=session, data=task_in(), who=office)
    with pytest.raises(GovopsError) as caught:
        service.report_progress(session=session, task_id=task.id, data=ProgressIn(percent=10, text="x"), who=industry)
    assert caught.value.status == 403
    assert "led by MOF; MOIT may not report" in caught.value.message
    assert service.reports(session=session, task_id=task.id) == []


def test_only_the_government_office_enters_directives(session: Session, finance: service.Caller) -> None:
    from govops.tasks.schemas import DirectiveIn

    data = DirectiveIn(kind="decision", number="1/QĐ-X", title="t", signed_on=date(2025, 1, 1), signer="s")
    with pytest.raises(GovopsError) as caught:
        service.create_directive(session=session, data=data, who=finance)
    assert caught.value.status == 403


def test_parent_progress_is_the_weighted_roll_up_with_its_formula(
    session: Session, directive: Directive, office: service.Caller, finance: service.Caller
) -> None:
    parent = service.create_task(session=session, data=task_in(), who=office)
    units = [
        service.create_task(session=session, data=task_in(parent=parent.id, weight=w, lead=lead), who=who)
        for w, lead, who in ((2, "MOF", finance), (1, "MOF", finance))
    ]
    service.report_progress(session=session, task_id=units[0].id, data=ProgressIn(percent=50, text="a"), who=finance)
    service.report_progress(session=session, task_id=units[1].id, data=ProgressIn(percent=100, text="b"), who=finance)
    found = service.rolled_up(session, parent)
    assert found is not None
    assert found.formula == "(2\u00d750% + 1\u00d7100%) / 3 = 66.7%"
    assert parent.progress == 66.7


def test_a_slipped_deadline_turns_overdue_lowers_health_and_is_announced_once(
    session: Session, directive: Directive, office: service.Caller
) -> None:
    parent = service.create_task(session=session, data=task_in(), who=office)
    sub = service.create_task(session=session, data=task_in(parent=parent.id, deadline=date(2025, 3, 31)), who=office)
    first = service.watch(session=session, now=at(date(2025, 4, 2)))
    again = service.watch(session=session, now=at(date(2025, 4, 3)))
    assert (first.overdue, again.overdue) == (1, 0)
    assert (sub.health, sub.health_trend) == ("red", -1)
    assert parent.health == "amber_green"  # lowered one step by its late sub-task
    events = session.scalars(select(DomainEvent).where(DomainEvent.type == "tasks.overdue")).all()
    assert [e.subject for e in events] == [f"task/{sub.id}"]
    kinds = session.scalars(select(TaskEvent.kind).where(TaskEvent.task_id == sub.id).order_by(TaskEvent.id)).all()
    assert kinds == ["assigned", "overdue", "health"]


def test_an_extension_is_asked_by_the_lead_and_granted_by_the_government_office(
    session: Session, directive: Directive, office: service.Caller, finance: service.Caller
) -> None:
    task = service.create_task(session=session, data=task_in(), who=office)
    ext = service.request_extension(
        session=session, task_id=task.id, deadline=date(2025, 9, 30), reason="Chờ ý kiến thẩm định", who=finance
    )
    with pytest.raises(GovopsError) as refused:
        service.decide_extension(
            session=session, task_id=task.id, extension_id=ext.id, approve=True, note="", who=finance
        )
    assert refused.value.status == 403
    service.decide_extension(session=session, task_id=task.id, extension_id=ext.id, approve=True, note="OK", who=office)
    assert (task.deadline, task.original_deadline) == (date(2025, 9, 30), date(2025, 6, 30))
    assert service.task_out(task, date(2025, 7, 15)).status == "open_in_time"
    done = ProgressIn(percent=100, text="xong", evidence="Công văn 1/BTC", done=True)
    service.report_progress(session=session, task_id=task.id, data=done, who=finance, now=at(date(2025, 9, 1)))
    assert service.task_out(task, date(2025, 10, 1)).status == "done_on_time"
    with pytest.raises(GovopsError) as closed:
        service.request_extension(
            session=session, task_id=task.id, deadline=date(2025, 12, 31), reason="r", who=finance
        )
    assert (closed.value.status, closed.value.code) == (409, "task_closed")


def test_a_linked_indicator_reaching_its_target_closes_the_task(
    session: Session, directive: Directive, office: service.Caller
) -> None:
    indicator = session.scalars(select(Indicator).order_by(Indicator.id)).first()
    area = session.scalar(select(Area).where(Area.code == "VN"))
    assert indicator is not None and area is not None
    target = {"indicator": indicator.code, "area": "VN", "target": 100.0}
    task = service.create_task(session=session, data=task_in(indicators=[target]), who=office)
    assert service.check_indicators(session=session, now=at(date(2025, 5, 1))) == 0
    session.add(
        Observation(
            indicator_id=indicator.id,
            area_id=area.id,
            period="2025",
            period_start=date(2025, 1, 1),
            dim_key="",
            value=120.0,
            status="final",
            version=1,
            updated_at=at(date(2025, 5, 2)),
        )
    )
    session.flush()
    assert service.check_indicators(session=session, now=at(date(2025, 5, 3))) == 1
    out = service.task_out(task, date(2025, 5, 3))
    assert (out.status, out.evidence) == ("done_on_time", f"{indicator.code}/VN = 120")
    done = session.scalars(select(DomainEvent).where(DomainEvent.type == "tasks.done")).all()
    assert [e.subject for e in done] == [f"task/{task.id}"]


def test_summary_counts_the_four_classes_per_agency(
    session: Session, directive: Directive, office: service.Caller, finance: service.Caller
) -> None:
    made = [
        service.create_task(session=session, data=task_in(lead=lead, deadline=d), who=office)
        for lead, d in (("MOF", date(2025, 3, 31)), ("MOF", date(2025, 9, 30)), ("MOIT", date(2025, 2, 28)))
    ]
    # Two more: one due the same day as the first (left open), one regular (no due date, never overdue).
    same_day = service.create_task(session=session, data=task_in(lead="MOF", deadline=date(2025, 3, 31)), who=office)
    service.create_task(session=session, data=task_in(lead="MOF", deadline=None, recurrence="regular"), who=office)
    done = ProgressIn(percent=100, text="xong", evidence="CV 2/BTC", done=True)
    service.report_progress(session=session, task_id=made[0].id, data=done, who=finance, now=at(date(2025, 3, 20)))
    figures = service.summary(session=session, today=date(2025, 4, 15))
    assert figures.overall.model_dump() == {
        "assigned": 5,
        "due": 3,
        "done_on_time": 1,
        "done_late": 0,
        "open_in_time": 2,
        "open_overdue": 2,
        "due_done_pct": 33.33,
        "overdue_pct": 40.0,
    }
    assert service.figures(session=session, today=date(2025, 4, 15)) == figures.overall
    assert [(a.agency, a.rank, a.due, a.due_done_pct) for a in figures.agencies] == [
        ("MOF", 1, 2, 50.0),
        ("MOIT", 2, 1, 0.0),
    ]
    assert [(m.month, m.due, m.done_on_time, m.open_overdue) for m in figures.months] == [
        ("2025-02", 1, 0, 1),
        ("2025-03", 2, 1, 1),
    ]
    assert service.summary(session=session, today=date(2025, 4, 15), agency="MOIT").overall.open_overdue == 1
    assert [t.id for t in service.summary(session=session, today=date(2025, 4, 15)).overdue_30] == [made[2].id]
    view = service.prime_minister_view(session=session, today=date(2025, 4, 15))
    assert [t.id for t in view] == [made[2].id, same_day.id, made[1].id]
