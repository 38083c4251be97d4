"""Directives, tasks, progress, extensions and the Government Office's figures.

Keyword-only functions taking a session; they flush, never commit. Rights are checked here, on a `Caller`
(an agency acting through a person or a system): an agency reports only on the tasks it leads, only the
Government Office enters directives and tasks, decides extensions and evaluates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy import extract as part_of
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.models import GOVERNMENT_OFFICE, Agency, Area, Indicator
from govops.db.base import utcnow
from govops.errors import GovopsError, Problem, Rejected, lazy_gettext
from govops.events.service import ReadRule, emit
from govops.notify.kinds import Kind, register
from govops.notify.service import notify
from govops.paging import Page, check_limit, decode_cursor, make_page
from govops.periods import Freq, Period, PeriodError
from govops.tasks import extraction, spreadsheet
from govops.tasks import status as st
from govops.tasks.models import (
    HEALTHS,
    Directive,
    DirectiveLink,
    Task,
    TaskAgency,
    TaskEvent,
    TaskExtension,
    TaskIndicator,
    TaskReport,
)
from govops.tasks.schemas import (
    AgencyFigures,
    DirectiveIn,
    DirectiveOut,
    ExtensionOut,
    Figures,
    IndicatorTarget,
    LinkedIndicator,
    MonthFigures,
    ProgressIn,
    ProposedTask,
    Summary,
    TaskIn,
    TaskOut,
    TimelineEntry,
)
from govops.text import fold
from govops.warehouse.models import Observation

TOPIC = "tasks"
OVERDUE_LIST_DAYS = 30

TASK_DUE_SOON = register(
    Kind(
        "task_due_soon",
        subject=lazy_gettext("Task due soon: %(task)s"),
        body=lazy_gettext("The task %(task)s is due on %(due)s. Report its progress before then."),
        params=("task", "due"),
    )
)


@dataclass(frozen=True)
class Caller:
    """Who acts on tasks: an agency, through a person (user name) or a system (member code)."""

    name: str
    agency_id: int
    agency_code: str
    government_office: bool

    @classmethod
    def acting_for(cls, agency: Agency, name: str) -> Caller:
        return cls(name, agency.id, agency.code, agency.kind == GOVERNMENT_OFFICE)


def caller(*, session: Session, agency_code: str, name: str) -> Caller:
    return Caller.acting_for(_agency(session, agency_code, field="agency"), name)


def user_caller(user: User) -> Caller:
    """A signed-in person acting for their agency."""
    return Caller.acting_for(user.agency, user.username)


def _find_agency(session: Session, code: str) -> Agency | None:
    """The agency of a code as people write it (spaces, lower case)."""
    return session.scalar(select(Agency).where(Agency.code == code.strip().upper()))


def _find_directive(session: Session, number: str) -> Directive | None:
    return session.scalar(select(Directive).where(Directive.number == number.strip()))


def _agency(session: Session, code: str, *, field: str, row: int | None = None) -> Agency:
    found = _find_agency(session, code)
    if found is None:
        raise GovopsError.of(
            "unknown_agency",
            lazy_gettext("no agency with the code %(agency)s"),
            lazy_gettext("use an agency code of the catalogue (GET /api/v1/agencies)"),
            where=field if row is None else f"row {row}, {field}",
            agency=code,
        )
    return found


def _forbidden(message: str, hint: str, **params: Any) -> GovopsError:
    return GovopsError.of("forbidden", message, hint, status=403, **params)


def _only_government_office(who: Caller) -> None:
    if not who.government_office:
        raise _forbidden(
            lazy_gettext("only the Government Office may do this; you act for %(agency)s"),
            lazy_gettext("ask the Government Office"),
            agency=who.agency_code,
        )


# --- directives ---------------------------------------------------------------------------------


def create_directive(*, session: Session, data: DirectiveIn, who: Caller, demo: bool = False) -> Directive:
    _only_government_office(who)
    number = data.number.strip()
    if _find_directive(session, number) is not None:
        raise GovopsError.of(
            "duplicate_directive",
            lazy_gettext("the directive %(number)s is already entered"),
            lazy_gettext("open it and add its tasks, or check the number"),
            status=409,
            where="number",
            number=number,
        )
    links = [get_directive(session=session, number=n) for n in dict.fromkeys(data.links)]
    directive = Directive(
        kind=data.kind,
        number=number,
        title=data.title.strip(),
        signed_on=data.signed_on,
        signer=data.signer.strip(),
        issuer_id=_agency(session, data.issuer, field="issuer").id,
        summary=data.summary,
        document_url=data.document_url,
        demo=demo,
    )
    session.add(directive)
    session.flush()
    session.add_all(DirectiveLink(directive_id=directive.id, linked_id=link.id) for link in links)
    session.flush()
    return directive


def directive_by_id(*, session: Session, directive_id: int) -> Directive:
    found = session.get(Directive, directive_id) if 0 < directive_id < 2**31 else None
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no directive %(id)s"),
            lazy_gettext("choose one from the list of directives"),
            status=404,
            id=directive_id,
        )
    return found


def get_directive(*, session: Session, number: str) -> Directive:
    found = _find_directive(session, number)
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no directive numbered %(number)s"),
            lazy_gettext("choose one from the list of directives"),
            status=404,
            number=number,
        )
    return found


def directive_out(session: Session, directive: Directive) -> DirectiveOut:
    links = session.scalars(
        select(Directive.number)
        .join(DirectiveLink, DirectiveLink.linked_id == Directive.id)
        .where(DirectiveLink.directive_id == directive.id)
        .order_by(Directive.number)
    ).all()
    count = session.scalar(select(func.count()).where(Task.directive_id == directive.id)) or 0
    return DirectiveOut(
        id=directive.id,
        kind=directive.kind,
        number=directive.number,
        title=directive.title,
        signed_on=directive.signed_on,
        signer=directive.signer,
        issuer=directive.issuer.code,
        summary=directive.summary,
        document_url=directive.document_url,
        links=list(links),
        demo=directive.demo,
        tasks=int(count),
    )


def list_directives(
    *, session: Session, cursor: str | None = None, limit: int = 100, kind: str | None = None
) -> Page[DirectiveOut]:
    """Newest signed first (by id within a day), a page at a time."""
    check_limit(limit)
    before = decode_cursor(cursor)
    stmt = select(Directive)
    if before:
        stmt = stmt.where(Directive.id < before)
    if kind:
        stmt = stmt.where(Directive.kind == kind)
    rows = list(session.scalars(stmt.order_by(Directive.id.desc()).limit(limit + 1)))
    return make_page(rows, limit=limit, key=lambda d: d.id, out=lambda d: directive_out(session, d))


# --- tasks --------------------------------------------------------------------------------------


def _history(
    session: Session,
    task: Task,
    kind: str,
    by: str,
    detail: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
    once_key: str | None = None,
) -> TaskEvent:
    row = TaskEvent(
        task_id=task.id,
        kind=kind,
        at=at or utcnow(),
        by=by,
        detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        once_key=once_key,
    )
    session.add(row)
    return row


def task_problems(session: Session, data: TaskIn, *, row: int | None = None) -> list[Problem]:
    """What is wrong with a task before it is stored: every problem at once, each with its field (and row)."""
    problems: list[Problem] = []

    def problem(field: str, message: str, hint: str, value: Any = None, **params: Any) -> None:
        problems.append(Problem.of("invalid_task", message, hint, row=row, field=field, value=value, **params))

    directive = _find_directive(session, data.directive)
    if directive is None:
        problem(
            "directive",
            lazy_gettext("no directive numbered %(number)s"),
            lazy_gettext("enter the directive first, then its tasks"),
            data.directive,
            number=data.directive,
        )
    if not data.lead.strip():
        problem(
            "lead",
            lazy_gettext("a task needs a lead agency"),
            lazy_gettext("give the code of the agency that leads it (chủ trì)"),
        )
    for field, codes in (("lead", [data.lead] if data.lead.strip() else []), ("coordinating", data.coordinating)):
        for code in codes:
            if _find_agency(session, code) is None:
                problem(
                    field,
                    lazy_gettext("no agency with the code %(agency)s"),
                    lazy_gettext("use an agency code of the catalogue (GET /api/v1/agencies)"),
                    code,
                    agency=code,
                )
    if data.recurrence == "once" and data.deadline is None:
        problem(
            "deadline",
            lazy_gettext("a one-off task needs a deadline"),
            lazy_gettext("give a date, or make it monthly, quarterly or regular"),
        )
    if data.deadline is not None and directive is not None and data.deadline < directive.signed_on:
        problem(
            "deadline",
            lazy_gettext("the deadline %(deadline)s is before the directive was signed (%(signed)s)"),
            lazy_gettext("check the deadline's year"),
            data.deadline.isoformat(),
            deadline=data.deadline.isoformat(),
            signed=directive.signed_on.isoformat(),
        )
    problems += _target_problems(session, data.indicators, row=row)
    if data.parent is not None and session.get(Task, data.parent) is None:
        problem(
            "parent",
            lazy_gettext("no task %(id)s to be a sub-task of"),
            lazy_gettext("give the id of an existing task"),
            data.parent,
            id=data.parent,
        )
    return problems


def _target_problems(session: Session, targets: Sequence[IndicatorTarget], *, row: int | None = None) -> list[Problem]:
    """An indicator target names an indicator and an area of the catalogue."""
    problems: list[Problem] = []
    for target in targets:
        if session.scalar(select(Indicator.id).where(Indicator.code == target.indicator)) is None:
            problems.append(
                Problem.of(
                    "invalid_task",
                    lazy_gettext("unknown indicator '%(indicator)s'"),
                    lazy_gettext("use an indicator code as the template or the indicator catalogue gives it"),
                    row=row,
                    field="indicators",
                    value=target.indicator,
                    indicator=target.indicator,
                )
            )
        if session.scalar(select(Area.id).where(Area.code == target.area)) is None:
            problems.append(
                Problem.of(
                    "invalid_task",
                    lazy_gettext("unknown area '%(area)s'"),
                    lazy_gettext("use the official code: VN, a 2-digit province (01 = Ha Noi) or a 5-digit ward"),
                    row=row,
                    field="indicators",
                    value=target.area,
                    area=target.area,
                )
            )
    return problems


def create_task(
    *,
    session: Session,
    data: TaskIn,
    who: Caller,
    today: date | None = None,
    now: datetime | None = None,
    demo: bool = False,
) -> Task:
    """A task of a directive (the Government Office), or a sub-task the parent's lead delegates; assigned `today`
    (at `now` in its timeline)."""
    problems = task_problems(session, data)
    if problems:
        raise Rejected(problems)
    parent = session.get(Task, data.parent) if data.parent is not None else None
    if parent is None or parent.lead_agency_id != who.agency_id:
        _only_government_office(who)
    return _store_task(session, data, who=who, today=today or date.today(), demo=demo, now=now)


def _store_task(
    session: Session, data: TaskIn, *, who: Caller, today: date, demo: bool, now: datetime | None = None
) -> Task:
    directive = get_directive(session=session, number=data.directive)
    lead = _agency(session, data.lead, field="lead")
    assigned = max(directive.signed_on, min(today, data.deadline or today))
    task = Task(
        directive_id=directive.id,
        parent_id=data.parent,
        text=data.text.strip(),
        lead_agency_id=lead.id,
        assigned_on=assigned,
        recurrence=data.recurrence,
        deadline=data.deadline if data.recurrence == "once" else None,
        original_deadline=data.deadline if data.recurrence == "once" else None,
        next_due_on=st.period_end(data.recurrence, assigned),
        priority=data.priority,
        category=data.category,
        weight=data.weight,
        progress=0.0,
        health="green",
        health_trend=0,
        demo=demo,
    )
    session.add(task)
    session.flush()
    coordinating = {_agency(session, c, field="coordinating").id for c in data.coordinating} - {lead.id}
    session.add_all(TaskAgency(task_id=task.id, agency_id=a) for a in sorted(coordinating))
    session.add_all(_target_row(task, target) for target in data.indicators)
    _history(session, task, "assigned", who.name, {"lead": lead.code, "deadline": task.deadline}, at=now)
    session.flush()
    return task


def get_task(*, session: Session, task_id: int) -> Task:
    found = session.get(Task, task_id) if 0 < task_id < 2**31 else None
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no task %(id)s"),
            lazy_gettext("choose one from the list of tasks"),
            status=404,
            id=task_id,
        )
    return found


def coordinating_codes(session: Session, task_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not task_ids:
        return out
    rows = session.execute(
        select(TaskAgency.task_id, Agency.code)
        .join(Agency, Agency.id == TaskAgency.agency_id)
        .where(TaskAgency.task_id.in_(task_ids))
        .order_by(Agency.code)
    )
    for task_id, code in rows:
        out.setdefault(task_id, []).append(code)
    return out


def task_out(task: Task, today: date, coordinating: Sequence[str] = ()) -> TaskOut:
    return TaskOut(
        id=task.id,
        directive=task.directive.number,
        text=task.text,
        lead=task.lead.code,
        coordinating=list(coordinating),
        assigned_on=task.assigned_on,
        recurrence=task.recurrence,
        deadline=task.deadline,
        original_deadline=task.original_deadline,
        due_on=st.due_on(task),
        priority=task.priority,
        category=task.category,
        parent=task.parent_id,
        weight=task.weight,
        progress=round(task.progress, 1),
        health=task.health,
        health_trend=task.health_trend,
        status=st.status_of(task, today),
        due_soon=st.due_soon(task, today),
        days_overdue=st.days_overdue(task, today),
        closed_on=task.closed_on,
        evidence=task.evidence,
        quality=task.quality,
        demo=task.demo,
    )


def tasks_out(session: Session, tasks: Sequence[Task], today: date) -> list[TaskOut]:
    coordinating = coordinating_codes(session, [t.id for t in tasks])
    return [task_out(t, today, coordinating.get(t.id, ())) for t in tasks]


@dataclass(frozen=True)
class TaskFilter:
    agency: str | None = None  # lead, or co-ordinating too when `involved`
    involved: bool = False
    status: str | None = None  # one of STATUSES, or due_soon
    directive: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    health: str | None = None
    text: str | None = None


def _filtered(session: Session, stmt: Select[Any], where: TaskFilter, today: date) -> Select[Any]:
    if where.agency:
        agency = _agency(session, where.agency, field="agency")
        if where.involved:
            helping = select(TaskAgency.task_id).where(TaskAgency.agency_id == agency.id)
            stmt = stmt.where(or_(Task.lead_agency_id == agency.id, Task.id.in_(helping)))
        else:
            stmt = stmt.where(Task.lead_agency_id == agency.id)
    if where.status == "due_soon":
        stmt = stmt.where(st.due_soon_clause(today))
    elif where.status:
        if where.status not in st.STATUSES:
            raise GovopsError.of(
                "invalid",
                lazy_gettext("unknown status %(value)s"),
                lazy_gettext("use one of %(choices)s"),
                where="status",
                value=where.status,
                choices=", ".join((*st.STATUSES, "due_soon")),
            )
        stmt = stmt.where(st.status_column(today) == where.status)
    if where.directive:
        stmt = stmt.where(Task.directive_id == get_directive(session=session, number=where.directive).id)
    if where.due_from:
        stmt = stmt.where(st.due_column() >= where.due_from)
    if where.due_to:
        stmt = stmt.where(st.due_column() <= where.due_to)
    if where.health:
        stmt = stmt.where(Task.health == where.health)
    if where.text:
        stmt = stmt.where(Task.text.ilike(f"%{where.text}%"))
    return stmt


def list_tasks(
    *,
    session: Session,
    where: TaskFilter = TaskFilter(),
    today: date | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[TaskOut]:
    """Tasks by id (newest first), filtered, a page at a time."""
    today = today or date.today()
    check_limit(limit)
    before = decode_cursor(cursor)
    stmt = _filtered(session, select(Task), where, today)
    if before:
        stmt = stmt.where(Task.id < before)
    rows = list(session.scalars(stmt.order_by(Task.id.desc()).limit(limit + 1)))
    page = make_page(rows, limit=limit, key=lambda t: t.id, out=lambda t: t)
    return Page[TaskOut](items=tasks_out(session, page.items, today), next_cursor=page.next_cursor)


def prime_minister_view(
    *, session: Session, today: date | None = None, agency: str | None = None, limit: int = 50
) -> list[TaskOut]:
    """Open tasks the leader must see first: overdue (longest first), then rated red, then due soonest."""
    today = today or date.today()
    due = st.due_column()
    # `closed_on IS NULL` once per statement: said twice, PostgreSQL counts it twice and skips the index of open
    # tasks by due date.
    tasks = _filtered(session, select(Task), TaskFilter(agency=agency), today)
    shown = list(session.scalars(tasks.where(st.overdue_clause(today)).order_by(due, Task.id).limit(limit)))
    if len(shown) < limit:
        red = tasks.where(Task.closed_on.is_(None), Task.health == "red", or_(due.is_(None), due >= today))
        shown += list(session.scalars(red.order_by(due, Task.id).limit(limit - len(shown))))
    if len(shown) < limit:
        rest = tasks.where(Task.closed_on.is_(None), Task.health != "red", due >= today)
        shown += list(session.scalars(rest.order_by(due, Task.id).limit(limit - len(shown))))
    return tasks_out(session, shown, today)


CALENDAR_PER_DAY = 4


@dataclass(frozen=True)
class DueDay:
    """The tasks falling due on one day: how many (in all and by status), and the first few (open ones first)."""

    day: date
    total: int
    statuses: dict[str, int]
    tasks: list[TaskOut]


@dataclass(frozen=True)
class DueMonth:
    month: Period
    days: dict[date, DueDay]

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days.values())


def month_of(text: str | None, today: date) -> Period:
    """The month a page asks for (YYYY-MM), or this month."""
    if not text:
        return Period.from_date(today, Freq.M)
    try:
        return Period.parse(text.strip(), expected=Freq.M)
    except PeriodError:
        raise GovopsError.of(
            "invalid",
            lazy_gettext("%(value)s is not a month"),
            lazy_gettext("write it as YYYY-MM, e.g. 2025-07"),
            where="month",
            value=text,
        ) from None


def due_month(
    *,
    session: Session,
    month: Period,
    where: TaskFilter = TaskFilter(),
    today: date | None = None,
    per_day: int = CALENDAR_PER_DAY,
) -> DueMonth:
    """The tasks falling due on each day of `month`, filtered as the board is (its own dates aside): each day's
    count by status and its first `per_day` tasks, open before done. Two statements, however many tasks."""
    today = today or date.today()
    due = st.due_column()
    status = st.status_column(today)
    span = replace(where, due_from=month.start, due_to=month.end)
    counted = _filtered(session, select(due, status, func.count()), span, today).group_by(due, status)
    statuses: dict[date, dict[str, int]] = {}
    for day, state, count in session.execute(counted):
        statuses.setdefault(day, {})[state] = count
    rank = func.row_number().over(partition_by=due, order_by=(Task.closed_on.is_not(None), Task.id))
    ranked = _filtered(session, select(Task.id.label("id"), rank.label("rank")), span, today).subquery()
    first = session.scalars(
        select(Task).join(ranked, ranked.c.id == Task.id).where(ranked.c.rank <= per_day).order_by(due, ranked.c.rank)
    ).all()
    shown: dict[date, list[TaskOut]] = {}
    for task in tasks_out(session, list(first), today):
        assert task.due_on is not None
        shown.setdefault(task.due_on, []).append(task)
    days = {
        day: DueDay(day=day, total=sum(counts.values()), statuses=counts, tasks=shown.get(day, []))
        for day, counts in sorted(statuses.items())
    }
    return DueMonth(month=month, days=days)


# --- progress, roll-up, closing ---------------------------------------------------------------


def _own_task(task: Task, who: Caller) -> None:
    if task.lead_agency_id != who.agency_id:
        raise _forbidden(
            lazy_gettext("task %(id)s is led by %(lead)s; %(agency)s may not report on it"),
            lazy_gettext("an agency reports only on the tasks it leads"),
            id=task.id,
            lead=task.lead.code,
            agency=who.agency_code,
        )


def _open(task: Task, action: str) -> None:
    if task.closed_on is not None:
        raise GovopsError.of(
            "task_closed",
            lazy_gettext("task %(id)s was closed on %(closed)s: %(action)s is no longer possible"),
            lazy_gettext("a closed task takes no more reports or extensions"),
            status=409,
            id=task.id,
            closed=task.closed_on.isoformat(),
            action=action,
        )


def report_progress(
    *,
    session: Session,
    task_id: int,
    data: ProgressIn,
    who: Caller,
    channel: str = "api",
    now: datetime | None = None,
) -> tuple[Task, TaskReport]:
    """A progress report by the task's lead agency; `done` closes the task (evidence needed)."""
    now = now or utcnow()
    task = get_task(session=session, task_id=task_id)
    _own_task(task, who)
    _open(task, "a progress report")
    if data.done and not (data.evidence or "").strip():
        raise GovopsError.of(
            "evidence_required",
            lazy_gettext("a task is closed with its evidence"),
            lazy_gettext("give the number or address of the document that shows it done"),
            where="evidence",
        )
    report = TaskReport(
        task_id=task.id,
        agency_id=who.agency_id,
        percent=100.0 if data.done else data.percent,
        text=data.text,
        evidence=data.evidence,
        channel=channel,
        reported_on=now.date(),
        reported_at=now,
        reported_by=who.name,
    )
    session.add(report)
    task.progress = report.percent
    if task.recurrence in ("monthly", "quarterly"):
        task.next_due_on = st.next_due(task.recurrence, now.date())
    session.flush()
    detail = {"percent": report.percent, "text": data.text[:300], "channel": channel, "evidence": data.evidence}
    _history(session, task, "report", who.name, detail, at=now)
    if data.health is not None and data.health != task.health:
        _set_health(session, task, data.health, who.name, now=now)
    if data.done:
        close_task(session=session, task=task, on=now.date(), evidence=data.evidence or "", by=who.name, now=now)
    roll_up(session=session, task=task)
    session.flush()
    return task, report


def _set_health(session: Session, task: Task, health: str, by: str, *, now: datetime, why: str = "") -> None:
    before = task.health
    task.health = health
    task.health_trend = (HEALTHS.index(before) > HEALTHS.index(health)) - (
        HEALTHS.index(before) < HEALTHS.index(health)
    )
    _history(session, task, "health", by, {"from": before, "to": health, "why": why}, at=now)


def set_health(*, session: Session, task_id: int, health: str, who: Caller, now: datetime | None = None) -> Task:
    task = get_task(session=session, task_id=task_id)
    _own_task(task, who)
    if health not in HEALTHS:
        raise GovopsError.of(
            "invalid",
            lazy_gettext("unknown health %(value)s"),
            lazy_gettext("use one of %(choices)s"),
            where="health",
            value=health,
            choices=", ".join(HEALTHS),
        )
    _set_health(session, task, health, who.name, now=now or utcnow())
    session.flush()
    return task


@dataclass(frozen=True)
class RollUp:
    progress: float
    formula: str


def rolled_up(session: Session, parent: Task) -> RollUp | None:
    """The parent's progress as the weighted mean of its sub-tasks', with the formula written out."""
    children = session.execute(
        select(Task.weight, Task.progress).where(Task.parent_id == parent.id).order_by(Task.id)
    ).all()
    if not children:
        return None
    total = sum(w for w, _ in children)
    value = sum(w * p for w, p in children) / total
    terms = " + ".join(f"{w:g}\u00d7{p:g}%" for w, p in children)
    return RollUp(round(value, 1), f"({terms}) / {total:g} = {value:.1f}%")


def roll_up(*, session: Session, task: Task) -> None:
    """Carries a sub-task's progress up to its parent (and the parent's to its own)."""
    parent = session.get(Task, task.parent_id) if task.parent_id is not None else None
    while parent is not None:
        session.flush()
        found = rolled_up(session, parent)
        if found is not None and parent.closed_on is None:
            parent.progress = found.progress
        parent = session.get(Task, parent.parent_id) if parent.parent_id is not None else None


def close_task(*, session: Session, task: Task, on: date, evidence: str, by: str, now: datetime | None = None) -> None:
    """Closes the task on `on` with its evidence; `tasks.done` on the outbox says whether on time."""
    now = now or utcnow()
    task.closed_on = on
    task.evidence = evidence[:500]
    task.progress = 100.0
    session.flush()
    state = st.status_of(task, on)
    _history(session, task, "closed", by, {"evidence": evidence, "status": state}, at=now)
    _emit(session, task, "tasks.done", {"status": state, "closed_on": on.isoformat(), "evidence": evidence}, by, now)


def evaluate(
    *, session: Session, task_id: int, quality: int, note: str, who: Caller, now: datetime | None = None
) -> Task:
    """The Government Office's evaluation of a done task: quality 1..5 (timeliness follows from its status)."""
    _only_government_office(who)
    task = get_task(session=session, task_id=task_id)
    if task.closed_on is None:
        raise GovopsError.of(
            "task_open",
            lazy_gettext("task %(id)s is not done yet: it is evaluated once closed"),
            lazy_gettext("wait for the lead agency's closing report"),
            status=409,
            id=task.id,
        )
    task.quality = quality
    task.evaluation = note
    _history(session, task, "evaluated", who.name, {"quality": quality, "note": note}, at=now)
    session.flush()
    return task


def _emit(session: Session, task: Task, type: str, payload: Mapping[str, Any], by: str, now: datetime) -> None:
    emit(
        session=session,
        topic=TOPIC,
        type=type,
        subject=f"task/{task.id}",
        payload={"task": task.id, "directive": task.directive.number, "lead": task.lead.code, **payload},
        # Internal: any signed-in staff, the lead agency's own systems and the Government Office's.
        rule=ReadRule(classification="internal", agency=task.lead.code),
        recorded_by=by,
        now=now,
    )


# --- extensions -------------------------------------------------------------------------------


def request_extension(
    *, session: Session, task_id: int, deadline: date, reason: str, who: Caller, now: datetime | None = None
) -> TaskExtension:
    now = now or utcnow()
    task = get_task(session=session, task_id=task_id)
    _own_task(task, who)
    _open(task, "an extension")
    if task.deadline is None:
        raise GovopsError.of(
            "no_deadline",
            lazy_gettext("task %(id)s has no deadline to extend"),
            lazy_gettext("recurring and regular tasks report each period instead"),
            status=409,
            id=task.id,
        )
    if deadline <= task.deadline:
        raise GovopsError.of(
            "invalid_extension",
            lazy_gettext("the new deadline %(new)s is not after the current one (%(old)s)"),
            lazy_gettext("ask for a later date"),
            where="deadline",
            new=deadline.isoformat(),
            old=task.deadline.isoformat(),
        )
    pending = session.scalar(
        select(TaskExtension.id).where(TaskExtension.task_id == task.id, TaskExtension.state == "pending")
    )
    if pending is not None:
        raise GovopsError.of(
            "extension_pending",
            lazy_gettext("task %(id)s already has an extension request waiting for the Government Office"),
            lazy_gettext("wait for its decision"),
            status=409,
            id=task.id,
        )
    ext = TaskExtension(
        task_id=task.id,
        old_deadline=task.deadline,
        new_deadline=deadline,
        reason=reason,
        state="pending",
        requested_at=now,
        requested_by=who.name,
    )
    session.add(ext)
    session.flush()
    detail = {"extension": ext.id, "from": task.deadline.isoformat(), "to": deadline.isoformat(), "reason": reason}
    _history(session, task, "extension_requested", who.name, detail, at=now)
    _emit(session, task, "tasks.extension", {"state": "pending", **detail}, who.name, now)
    session.flush()
    return ext


def decide_extension(
    *,
    session: Session,
    task_id: int,
    extension_id: int,
    approve: bool,
    note: str,
    who: Caller,
    now: datetime | None = None,
) -> TaskExtension:
    """The Government Office grants or refuses; a grant moves the deadline (its history stays in the timeline)."""
    _only_government_office(who)
    now = now or utcnow()
    task = get_task(session=session, task_id=task_id)
    ext = session.get(TaskExtension, extension_id)
    if ext is None or ext.task_id != task.id:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("task %(task)s has no extension request %(extension)s"),
            status=404,
            task=task_id,
            extension=extension_id,
        )
    if ext.state != "pending":
        raise GovopsError.of(
            "extension_decided",
            lazy_gettext("this extension request was already %(state)s"),
            lazy_gettext("the lead agency may ask again"),
            status=409,
            state=ext.state,
        )
    _open(task, "an extension")
    ext.state = "approved" if approve else "refused"
    ext.decided_at = now
    ext.decided_by = who.name
    ext.note = note
    if approve:
        task.deadline = ext.new_deadline
    detail = {"extension": ext.id, "from": ext.old_deadline, "to": ext.new_deadline, "note": note}
    _history(session, task, f"extension_{ext.state}", who.name, detail, at=now)
    payload = {"state": ext.state, "extension": ext.id, "deadline": (task.deadline or ext.new_deadline).isoformat()}
    _emit(session, task, "tasks.extension", payload, who.name, now)
    session.flush()
    return ext


def extension_out(ext: TaskExtension) -> ExtensionOut:
    return ExtensionOut(
        id=ext.id,
        task=ext.task_id,
        old_deadline=ext.old_deadline,
        new_deadline=ext.new_deadline,
        reason=ext.reason,
        state=ext.state,
        requested_by=ext.requested_by,
        decided_by=ext.decided_by,
        note=ext.note,
    )


def timeline(*, session: Session, task_id: int) -> list[TimelineEntry]:
    """The task's history, oldest first."""
    rows = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.at, TaskEvent.id))
    return [TimelineEntry(kind=e.kind, at=e.at, by=e.by, detail=json.loads(e.detail)) for e in rows]


def reports(*, session: Session, task_id: int, limit: int = 50) -> list[TaskReport]:
    stmt = select(TaskReport).where(TaskReport.task_id == task_id).order_by(TaskReport.id.desc()).limit(limit)
    return list(session.scalars(stmt))


# --- the Government Office's figures ----------------------------------------------------------


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 2)


def _due(status: str, tasks: int, came: int) -> int:
    """How many of `tasks` of a status count as due: a task done is due once done (even early, or with no date);
    an open one once its date has come (`came` of them)."""
    return tasks if status in ("done_on_time", "done_late") else came


def _figures(counts: Mapping[str, int], assigned: int, due: int) -> dict[str, Any]:
    done = counts.get("done_on_time", 0) + counts.get("done_late", 0)
    return {
        "assigned": assigned,
        "due": due,
        **{s: counts.get(s, 0) for s in st.STATUSES},
        "due_done_pct": _percent(min(done, due), due),
        "overdue_pct": _percent(counts.get("open_overdue", 0), assigned),
    }


def summary(
    *, session: Session, agency: str | None = None, period: str | None = None, today: date | None = None
) -> Summary:
    """Figures over top-level tasks (sub-tasks are their parent's business): overall, per lead agency (ranked by
    % of due tasks done, then fewest overdue), by month of deadline, and the tasks overdue more than 30 days.
    `period` (2025, 2025-Q3, 2025-07) keeps the tasks whose deadline falls in it."""
    today = today or date.today()
    due = st.due_column()
    where: list[ColumnElement[bool]] = [Task.parent_id.is_(None)]
    if period:
        try:
            span = Period.parse(period)
        except PeriodError:
            raise GovopsError.of(
                "invalid_period",
                lazy_gettext("%(value)s is not a period"),
                lazy_gettext("write a year (2025), a quarter (2025-Q3) or a month (2025-07)"),
                where="period",
                value=period,
            ) from None
        where += [due >= span.start, due <= span.end]
    lead = None
    if agency:
        lead = _agency(session, agency, field="agency")
        where.append(Task.lead_agency_id == lead.id)
    per: dict[int, dict[str, int]] = {}
    months: dict[str, dict[str, int]] = {}
    for count in _counts(session, where, today):
        bucket = per.setdefault(count.agency_id, {"assigned": 0, "due": 0})
        bucket[count.status] = bucket.get(count.status, 0) + count.tasks
        bucket["assigned"] += count.tasks
        bucket["due"] += _due(count.status, count.tasks, count.fell_due)
        if count.month is not None and count.fell_due:
            month = months.setdefault(count.month, {"due": 0})
            month["due"] += count.fell_due
            month[count.status] = month.get(count.status, 0) + count.fell_due
    names = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(list(per))))}
    total: dict[str, int] = {}
    for counts in per.values():
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    ranked = sorted(
        per.items(),
        key=lambda item: (
            -(_percent(item[1].get("done_on_time", 0) + item[1].get("done_late", 0), item[1]["due"]) or 0.0),
            item[1].get("open_overdue", 0),
            names[item[0]].code,
        ),
    )
    agencies = [
        AgencyFigures(
            agency=names[agency_id].code,
            name=names[agency_id].name_vi,
            rank=rank,
            **_figures(counts, counts["assigned"], counts["due"]),
        )
        for rank, (agency_id, counts) in enumerate(ranked, start=1)
    ]
    overdue_stmt = (
        select(Task)
        .where(*where, st.overdue_clause(today - timedelta(days=OVERDUE_LIST_DAYS)))
        .order_by(due, Task.id)
        .limit(100)
    )
    overdue = tasks_out(session, list(session.scalars(overdue_stmt)), today)
    return Summary(
        as_of=today,
        period=period,
        agency=lead.code if lead else None,
        overall=Figures(**_figures(total, total.get("assigned", 0), total.get("due", 0))),
        agencies=agencies,
        months=[
            MonthFigures(
                month=key,
                due=b["due"],
                done_on_time=b.get("done_on_time", 0),
                done_late=b.get("done_late", 0),
                open_overdue=b.get("open_overdue", 0),
            )
            for key, b in sorted(months.items())[-24:]
        ],
        overdue_30=overdue,
    )


@dataclass(frozen=True)
class _Count:
    agency_id: int
    month: str | None  # of the due date, YYYY-MM; None for a task with none (regular)
    status: str
    tasks: int
    fell_due: int  # of them, those whose due date has come


def _counts(session: Session, where: Sequence[ColumnElement[bool]], today: date) -> list[_Count]:
    """The tasks by lead agency, month of due date and status, in one pass over the tasks: grouped first by the due
    date itself (cheap to compare), then by its month over those far fewer groups."""
    due = st.due_column()
    status = st.status_column(today)
    by_day = (
        select(
            Task.lead_agency_id.label("agency_id"),
            due.label("due"),
            status.label("status"),
            func.count().label("tasks"),
            func.count(Task.id).filter(due <= today).label("fell_due"),
        )
        .where(*where)
        .group_by(Task.lead_agency_id, due, status)
        .subquery()
    )
    year, month = part_of("year", by_day.c.due), part_of("month", by_day.c.due)
    rows = session.execute(
        select(
            by_day.c.agency_id, year, month, by_day.c.status, func.sum(by_day.c.tasks), func.sum(by_day.c.fell_due)
        ).group_by(by_day.c.agency_id, year, month, by_day.c.status)
    ).all()
    return [
        _Count(
            agency_id=agency_id,
            month=None if y is None else f"{int(y):04d}-{int(m):02d}",
            status=state,
            tasks=int(tasks),
            fell_due=int(fell_due or 0),
        )
        for agency_id, y, m, state, tasks, fell_due in rows
    ]


def figures(*, session: Session, agency: str | None = None, today: date | None = None) -> Figures:
    """The overall figures alone (the tiles above the board and the leader's view): one count by status."""
    today = today or date.today()
    due = st.due_column()
    status = st.status_column(today)
    stmt = select(status, func.count(), func.count(Task.id).filter(due <= today)).where(Task.parent_id.is_(None))
    if agency:
        stmt = stmt.where(Task.lead_agency_id == _agency(session, agency, field="agency").id)
    counts: dict[str, int] = {}
    fell_due = 0
    for state, tasks, came in session.execute(stmt.group_by(status)).all():
        counts[state] = tasks
        fell_due += _due(state, tasks, came)
    return Figures(**_figures(counts, sum(counts.values()), fell_due))


# --- the watch: overdue, reminders, indicators ------------------------------------------------


def _once(session: Session, task: Task, key: str, kind: str, detail: Mapping[str, Any], now: datetime) -> bool:
    """Writes a once-only timeline entry; False when another worker (or an earlier run) already did."""
    try:
        with session.begin_nested():
            _history(session, task, kind, "system", detail, at=now, once_key=key)
            session.flush()
    except IntegrityError:
        return False
    return True


def _announced(session: Session, task_ids: Sequence[int], prefix: str) -> set[tuple[int, str]]:
    """The once-only entries of `prefix` the tasks already have: a task long overdue is skipped at each run rather
    than tried (and refused by the unique key) again. `_once` still settles a race between two workers."""
    found: set[tuple[int, str]] = set()
    for start in range(0, len(task_ids), 500):
        chunk = task_ids[start : start + 500]
        rows = session.execute(
            select(TaskEvent.task_id, TaskEvent.once_key).where(
                TaskEvent.task_id.in_(chunk), TaskEvent.once_key.like(f"{prefix}%")
            )
        )
        found.update((task_id, key) for task_id, key in rows if key is not None)
    return found


def officers_of(session: Session, agency_id: int) -> list[int]:
    """The active users of an agency who act on its tasks (its data officers and administrators)."""
    stmt = select(User.id).where(
        User.agency_id == agency_id, User.active.is_(True), User.role.in_(("data_officer", "administrator"))
    )
    return list(session.scalars(stmt))


@dataclass
class WatchResult:
    overdue: int = 0
    reminded: int = 0
    closed_by_indicator: int = 0


def watch(*, session: Session, today: date | None = None, now: datetime | None = None) -> WatchResult:
    """Each open task that slipped past its deadline: a `tasks.overdue` event, red health (and its parent lowered
    a step), a notification to the lead's officers; a reminder once it is due soon (DUE_SOON_DAYS before). Each
    once per task and date (a unique timeline key), so two workers or two runs never send it twice."""
    now = now or utcnow()
    today = today or now.date()
    result = WatchResult()
    slipped = session.scalars(select(Task).where(st.overdue_clause(today)).order_by(Task.id)).all()
    announced = _announced(session, [task.id for task in slipped], "overdue:")
    for task in slipped:
        day = st.due_on(task)
        assert day is not None
        key = f"overdue:{day.isoformat()}"
        if (task.id, key) in announced or not _once(session, task, key, "overdue", {"due": day.isoformat()}, now):
            continue
        result.overdue += 1
        if task.health != "red":
            _set_health(session, task, "red", "system", now=now, why="deadline passed")
        parent = session.get(Task, task.parent_id) if task.parent_id is not None else None
        if parent is not None and parent.closed_on is None:
            _set_health(session, parent, st.lowered(parent.health), "system", now=now, why=f"sub-task {task.id} late")
        _emit(session, task, "tasks.overdue", {"due": day.isoformat(), "days": (today - day).days}, "system", now)
        _notify(session, task, "task_overdue", day, now)
    soon = session.scalars(select(Task).where(st.due_soon_clause(today)).order_by(Task.id)).all()
    reminded = _announced(session, [task.id for task in soon], "reminder:")
    for task in soon:
        day = st.due_on(task)
        assert day is not None
        key = f"reminder:{day.isoformat()}"
        if (task.id, key) not in reminded and _once(session, task, key, "reminder", {"due": day.isoformat()}, now):
            result.reminded += 1
            _notify(session, task, TASK_DUE_SOON.name, day, now)
    result.closed_by_indicator = check_indicators(session=session, now=now)
    session.flush()
    return result


def _notify(session: Session, task: Task, kind: str, due: date, now: datetime) -> None:
    people = officers_of(session, task.lead_agency_id)
    if people:
        label = f"#{task.id} {task.text[:120]}"
        notify(
            session=session,
            recipients=people,
            kind=kind,
            params={"task": label, "due": due.isoformat()},
            link=f"/tasks/{task.id}",
            now=now,
        )


def check_indicators(*, session: Session, now: datetime | None = None) -> int:
    """Closes each open task whose every linked indicator reached its target (latest stored value for the area)."""
    now = now or utcnow()
    links = session.scalars(
        select(TaskIndicator).join(Task, Task.id == TaskIndicator.task_id).where(Task.closed_on.is_(None))
    ).all()
    by_task: dict[int, list[TaskIndicator]] = {}
    for link in links:
        by_task.setdefault(link.task_id, []).append(link)
    closed = 0
    for task_id, targets in sorted(by_task.items()):
        for target in targets:
            value = latest_value(session, target.indicator_code, target.area_code)
            target.value = value
            hit = value is not None and (value >= target.target if target.at_least else value <= target.target)
            target.reached_on = (target.reached_on or now.date()) if hit else None
        if all(t.reached_on is not None for t in targets):
            task = session.get(Task, task_id)
            assert task is not None
            evidence = "; ".join(f"{t.indicator_code}/{t.area_code} = {t.value:g}" for t in targets)
            close_task(session=session, task=task, on=now.date(), evidence=evidence, by="system", now=now)
            roll_up(session=session, task=task)
            closed += 1
    session.flush()
    return closed


def latest_value(session: Session, indicator: str, area: str) -> float | None:
    """The value of the latest period stored for an indicator and area (its total, no dimension)."""
    stmt = (
        select(Observation.value)
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .join(Area, Area.id == Observation.area_id)
        .where(Indicator.code == indicator, Area.code == area, Observation.dim_key == "")
        .order_by(Observation.period_start.desc())
        .limit(1)
    )
    found = session.scalar(stmt)
    return None if found is None else float(found)


def _target_row(task: Task, target: IndicatorTarget) -> TaskIndicator:
    return TaskIndicator(
        task_id=task.id,
        indicator_code=target.indicator,
        area_code=target.area,
        target=target.target,
        at_least=target.at_least,
    )


def link_indicator(
    *, session: Session, task_id: int, target: IndicatorTarget, who: Caller, now: datetime | None = None
) -> TaskIndicator:
    """The Government Office ties an open task to the data that proves it done: once every linked indicator reaches
    its target (the latest value stored for its area), the watch closes the task."""
    _only_government_office(who)
    task = get_task(session=session, task_id=task_id)
    _open(task, "linking an indicator")
    problems = _target_problems(session, [target])
    if problems:
        raise Rejected(problems)
    linked = session.scalar(
        select(TaskIndicator.id).where(
            TaskIndicator.task_id == task.id,
            TaskIndicator.indicator_code == target.indicator,
            TaskIndicator.area_code == target.area,
        )
    )
    if linked is not None:
        raise GovopsError.of(
            "duplicate_indicator",
            lazy_gettext("task %(id)s already follows %(indicator)s for %(area)s"),
            lazy_gettext("one target per indicator and area"),
            status=409,
            where="indicator",
            id=task.id,
            indicator=target.indicator,
            area=target.area,
        )
    row = _target_row(task, target)
    session.add(row)
    detail = {"indicator": target.indicator, "area": target.area, "target": target.target, "at_least": target.at_least}
    _history(session, task, "indicator_linked", who.name, detail, at=now)
    session.flush()
    return row


def linked_indicators(*, session: Session, task_id: int) -> list[LinkedIndicator]:
    """The data a task follows, with each indicator's name, its target, the latest value seen and when reached."""
    rows = session.execute(
        select(TaskIndicator, Indicator)
        .join(Indicator, Indicator.code == TaskIndicator.indicator_code)
        .where(TaskIndicator.task_id == task_id)
        .order_by(TaskIndicator.id)
    ).all()
    return [
        LinkedIndicator(
            indicator=link.indicator_code,
            name_vi=indicator.name_vi,
            name_en=indicator.name_en,
            area=link.area_code,
            target=link.target,
            at_least=link.at_least,
            value=link.value,
            reached_on=link.reached_on,
        )
        for link, indicator in rows
    ]


def overdue(
    *, session: Session, today: date | None = None, agency: str | None = None, limit: int = 1000
) -> list[TaskOut]:
    """Open tasks past their deadline, longest overdue first."""
    today = today or date.today()
    due = st.due_column()
    stmt = _filtered(session, select(Task), TaskFilter(agency=agency), today)
    stmt = stmt.where(st.overdue_clause(today)).order_by(due, Task.id).limit(limit)
    return tasks_out(session, list(session.scalars(stmt)), today)


def sub_tasks(*, session: Session, task_id: int) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.parent_id == task_id).order_by(Task.id)))


def extensions(*, session: Session, task_id: int) -> list[TaskExtension]:
    stmt = select(TaskExtension).where(TaskExtension.task_id == task_id).order_by(TaskExtension.id)
    return list(session.scalars(stmt))


def indicator_names(*, session: Session) -> list[tuple[str, str, str]]:
    """(code, Vietnamese name, English name) of every indicator: the choices for a task's linked data."""
    stmt = select(Indicator.code, Indicator.name_vi, Indicator.name_en).order_by(Indicator.code)
    return [(code, vi, en) for code, vi, en in session.execute(stmt)]


def agencies(*, session: Session) -> list[Agency]:
    """Every agency, in the catalogue's order (the choices of a filter, the names beside codes on a page)."""
    return list(session.scalars(select(Agency).order_by(Agency.id)))


def agency_names(*, session: Session) -> list[tuple[str, str]]:
    """(code, Vietnamese name) of every agency: what extraction looks for in a directive's text."""
    return [(code, name) for code, name in session.execute(select(Agency.code, Agency.name_vi).order_by(Agency.id))]


def extract(*, session: Session, text: str, year: int) -> list[ProposedTask]:
    """Proposed tasks read from a directive's Vietnamese text, agencies matched to the catalogue's."""
    return extraction.extract(text, agencies=agency_names(session=session), year=year)


# --- spreadsheets ---------------------------------------------------------------------------------

_KIND_OF_NUMBER = (
    ("nq-", "resolution"),
    ("qd-", "decision"),
    ("ct-", "directive"),
    ("cd-", "dispatch"),
    ("tb-", "conclusion"),
    ("bb-", "minutes"),
)
_PRIORITY_WORDS = {"": "normal", "thuong": "normal", "normal": "normal", "cao": "high", "high": "high"}
_PRIORITY_WORDS |= {"khan": "urgent", "khan cap": "urgent", "urgent": "urgent"}


def kind_of_number(number: str) -> str:
    """The kind of a directive from its number's sign: 01/NQ-CP a resolution, 123/CĐ-TTg a dispatch..."""
    sign = fold(number).split("/", 1)[-1]
    return next((kind for mark, kind in _KIND_OF_NUMBER if sign.startswith(mark)), "directive")


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    tasks: int
    directives: int


def import_sheet(
    *, session: Session, sheet: spreadsheet.Sheet, who: Caller, where: str, today: date | None = None
) -> ImportSummary:
    """Every row of a task list, or none: each problem is named by row and cell, and nothing is stored."""
    _only_government_office(who)
    today = today or date.today()
    names = {n.folded: n.code for n in extraction.Lexicon.of(agency_names(session=session)).names}
    codes = set(session.scalars(select(Agency.code)))
    problems: list[Problem] = []
    planned: list[tuple[TaskIn, DirectiveIn | None]] = []
    new_directives: dict[str, DirectiveIn] = {}

    def problem(row: spreadsheet.Row, key: str, message: str, hint: str, **params: Any) -> None:
        column = next(c.shown for c in spreadsheet.COLUMNS if c.key == key)
        cell = row.cells.get(key, f"row {row.number}")
        problems.append(
            Problem.of(
                "invalid_row",
                message,
                hint,
                row=row.number,
                field=column,
                where=f"{sheet.name}!{cell}",
                value=row.values.get(key),
                **params,
            )
        )

    def agency(row: spreadsheet.Row, key: str, text: str) -> str | None:
        found = (
            text.strip().upper() if text.strip().upper() in codes else names.get(extraction.fold_aligned(text.strip()))
        )
        if found is None:
            problem(
                row,
                key,
                lazy_gettext("no agency named %(agency)s"),
                lazy_gettext("write the agency's code or its full name as in the catalogue"),
                agency=text,
            )
        return found

    for row in sheet.rows:
        before = len(problems)
        values = row.values
        number = str(values.get("directive") or "").strip()
        text = str(values.get("text") or "").strip()
        lead_text = str(values.get("lead") or "").strip()
        if not number:
            problem(
                row,
                "directive",
                lazy_gettext("the directive's number is missing"),
                lazy_gettext("write its number, e.g. 01/NQ-CP"),
            )
        if not text:
            problem(row, "text", lazy_gettext("the task's text is missing"), lazy_gettext("write what is to be done"))
        if not lead_text:
            problem(
                row,
                "lead",
                lazy_gettext("a task needs a lead agency"),
                lazy_gettext("give the code of the agency that leads it (chủ trì)"),
            )
        lead = agency(row, "lead", lead_text) if lead_text else None
        helpers = [
            agency(row, "coordinating", part)
            for part in re.split(r"[,;\n]+", str(values.get("coordinating") or ""))
            if part.strip()
        ]
        signed_on: date | None = None
        directive = _find_directive(session, number) if number else None
        new = None
        if directive is not None:
            signed_on = directive.signed_on
        elif number:
            signed_on = spreadsheet.as_date(values.get("signed_on"))
            if signed_on is None:
                problem(
                    row,
                    "signed_on",
                    lazy_gettext("the directive %(number)s is not entered yet and its date is missing"),
                    lazy_gettext("enter the directive first, or give its date and summary in this row"),
                    number=number,
                )
            else:
                new = new_directives.setdefault(
                    number,
                    DirectiveIn(
                        kind=kind_of_number(number),
                        number=number,
                        title=str(values.get("title") or number)[:500],
                        signed_on=signed_on,
                        signer="Thủ tướng Chính phủ",
                    ),
                )
        deadline, recurrence = _deadline_cell(values.get("deadline"), year=(signed_on or today).year)
        if values.get("deadline") not in (None, "") and deadline is None and recurrence == "once":
            problem(
                row,
                "deadline",
                lazy_gettext("%(text)s is not a deadline"),
                lazy_gettext("write a date (30/6/2025), hằng tháng, hằng quý or thường xuyên"),
                text=str(values.get("deadline")),
            )
        elif deadline is None and recurrence == "once":
            problem(
                row,
                "deadline",
                lazy_gettext("a one-off task needs a deadline"),
                lazy_gettext("give a date, or make it monthly, quarterly or regular"),
            )
        if deadline is not None and signed_on is not None and deadline < signed_on:
            problem(
                row,
                "deadline",
                lazy_gettext("the deadline %(deadline)s is before the directive was signed (%(signed)s)"),
                lazy_gettext("check the deadline's year"),
                deadline=deadline.isoformat(),
                signed=signed_on.isoformat(),
            )
        priority = _PRIORITY_WORDS.get(fold(str(values.get("priority") or "")).strip())
        if priority is None:
            problem(
                row,
                "priority",
                lazy_gettext("%(text)s is not a priority"),
                lazy_gettext("write thường, cao or khẩn"),
                text=str(values.get("priority")),
            )
        if len(problems) > before:
            continue
        assert lead is not None and priority is not None
        planned.append(
            (
                TaskIn(
                    directive=number,
                    text=text[:5000],
                    lead=lead,
                    coordinating=[h for h in helpers if h is not None],
                    deadline=deadline,
                    recurrence=recurrence,
                    priority=priority,
                    category=str(values.get("category") or "")[:80],
                ),
                new,
            )
        )
    if not sheet.rows:
        raise GovopsError.of(
            "empty_sheet",
            lazy_gettext("the sheet %(sheet)s is empty"),
            lazy_gettext("put the column headers in its first row and one task a row below"),
            where=where,
            sheet=sheet.name,
        )
    if problems:
        raise Rejected(problems, where=where, total=len(sheet.rows))
    for data in new_directives.values():
        create_directive(session=session, data=data, who=who)
    for task, _ in planned:
        _store_task(session, task, who=who, today=today, demo=False)
    return ImportSummary(rows=len(sheet.rows), tasks=len(planned), directives=len(new_directives))


def _deadline_cell(value: Any, *, year: int) -> tuple[date | None, str]:
    on = spreadsheet.as_date(value)
    if on is not None or value in (None, ""):
        return on, "once"
    found = extraction.find_deadline(extraction.fold_aligned(str(value)), year=year)
    if found is None:
        return None, "once"
    return found.on, found.recurrence


EXPORT_HEADERS = (
    "STT",
    "Số văn bản",
    "Nội dung nhiệm vụ",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời hạn",
    "Tình trạng",
    "Tiến độ (%)",
    "Ngày hoàn thành",
)


def export_sheet(*, session: Session, where: TaskFilter = TaskFilter(), today: date | None = None) -> bytes:
    """The tasks (at most 100,000) as the Government Office's list, with their computed status."""
    today = today or date.today()
    stmt = _filtered(session, select(Task), where, today).order_by(Task.id).limit(100_000)
    tasks = list(session.scalars(stmt))
    out = tasks_out(session, tasks, today)
    rows = [
        (
            i,
            t.directive,
            t.text,
            t.lead,
            ", ".join(t.coordinating),
            t.due_on.isoformat() if t.due_on else t.recurrence,
            t.status,
            t.progress,
            t.closed_on.isoformat() if t.closed_on else "",
        )
        for i, t in enumerate(out, start=1)
    ]
    return spreadsheet.write(rows, EXPORT_HEADERS)
