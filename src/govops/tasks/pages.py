"""Directives and tasks in the console: the board, the Prime Minister's view, the scorecard, a task's page with its
timeline, directives entered from their text. Every signed-in user reads; the lead agency's officers report and
ask for extensions; the Government Office enters directives and decides extensions."""

from __future__ import annotations

import calendar as stdlib_calendar
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govops import i18n
from govops.auth.models import User
from govops.errors import GovopsError, lazy_gettext
from govops.tasks import service
from govops.tasks.models import HEALTHS
from govops.tasks.schemas import DirectiveIn, IndicatorTarget, ProgressIn, TaskIn
from govops.tasks.status import STATUSES
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import SignedInUser, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    "done_on_time": lazy_gettext("Done on time"),
    "done_late": lazy_gettext("Done late"),
    "open_in_time": lazy_gettext("Open, within the deadline"),
    "open_overdue": lazy_gettext("Open, overdue"),
    "due_soon": lazy_gettext("Due within 7 days"),
}
HEALTH_LABELS = {
    "green": lazy_gettext("Green"),
    "amber_green": lazy_gettext("Amber-green"),
    "amber": lazy_gettext("Amber"),
    "amber_red": lazy_gettext("Amber-red"),
    "red": lazy_gettext("Red"),
}
KIND_LABELS = {
    "resolution": lazy_gettext("Resolution"),
    "decision": lazy_gettext("Decision"),
    "directive": lazy_gettext("Directive"),
    "dispatch": lazy_gettext("Official dispatch"),
    "conclusion": lazy_gettext("Conclusion notice"),
    "minutes": lazy_gettext("Meeting minutes"),
}
RECURRENCE_LABELS = {
    "once": lazy_gettext("by a date"),
    "monthly": lazy_gettext("monthly"),
    "quarterly": lazy_gettext("quarterly"),
    "regular": lazy_gettext("regular"),
}
TIMELINE_LABELS = {
    "assigned": lazy_gettext("Assigned"),
    "report": lazy_gettext("Progress reported"),
    "health": lazy_gettext("Health changed"),
    "extension_requested": lazy_gettext("Extension asked"),
    "extension_approved": lazy_gettext("Extension granted"),
    "extension_refused": lazy_gettext("Extension refused"),
    "overdue": lazy_gettext("Deadline passed"),
    "reminder": lazy_gettext("Reminder sent"),
    "closed": lazy_gettext("Closed"),
    "indicator_linked": lazy_gettext("Indicator linked"),
    "evaluated": lazy_gettext("Evaluated"),
}
EXTENSION_LABELS = {
    "pending": lazy_gettext("waiting for the Government Office"),
    "approved": lazy_gettext("granted"),
    "refused": lazy_gettext("refused"),
}
PRIORITY_LABELS = {
    "normal": lazy_gettext("normal"),
    "high": lazy_gettext("high"),
    "urgent": lazy_gettext("urgent"),
}
CHANNEL_LABELS = {
    "console": lazy_gettext("from the console"),
    "api": lazy_gettext("by API"),
    "webhook": lazy_gettext("from the document-management system"),
}
# The fields of the directive form and of a task, as a problem names them.
FIELD_LABELS = {
    "kind": lazy_gettext("Kind"),
    "number": lazy_gettext("Number"),
    "title": lazy_gettext("Title"),
    "signed_on": lazy_gettext("Date"),
    "signer": lazy_gettext("Signed by"),
    "summary": lazy_gettext("Text"),
    "directive": lazy_gettext("Directive"),
    "text": lazy_gettext("Task"),
    "lead": lazy_gettext("Lead agency"),
    "coordinating": lazy_gettext("Co-ordinating"),
    "deadline": lazy_gettext("Due by"),
    "recurrence": lazy_gettext("Due by"),
    "indicators": lazy_gettext("Indicator"),
    "percent": lazy_gettext("Percent done"),
    "evidence": lazy_gettext("Evidence"),
    "health": lazy_gettext("Health"),
}
LABELS = {
    "field": FIELD_LABELS,
    "status": STATUS_LABELS,
    "health": HEALTH_LABELS,
    "kind": KIND_LABELS,
    "recurrence": RECURRENCE_LABELS,
    "timeline": TIMELINE_LABELS,
    "extension": EXTENSION_LABELS,
    "priority": PRIORITY_LABELS,
    "channel": CHANNEL_LABELS,
}
WEEKDAYS = (
    lazy_gettext("Mon"),
    lazy_gettext("Tue"),
    lazy_gettext("Wed"),
    lazy_gettext("Thu"),
    lazy_gettext("Fri"),
    lazy_gettext("Sat"),
    lazy_gettext("Sun"),
)


def _field_name(request: Request, field: str) -> str:
    """A form field as the reader calls it (the schema's own name where the page has none)."""
    label = FIELD_LABELS.get(field)
    return field if label is None else i18n.translations(locale_of(request)).gettext(label)


def _office(user: User) -> bool:
    """The Government Office's analysts and administrators enter directives and decide extensions."""
    return service.user_caller(user).government_office and user.role in ("analyst", "administrator")


def _acts_for_lead(user: User, lead_agency_id: int) -> bool:
    """A person of the lead agency, in a role that writes: reports its tasks' progress, asks for extensions."""
    return lead_agency_id == user.agency_id and user.role in ("data_officer", "administrator", "analyst")


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, template, {"labels": LABELS, **context}, status_code=status_code)


def board_filter(
    agency: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    directive: Annotated[str | None, Query(max_length=40)] = None,
    health: Annotated[str | None, Query(max_length=12)] = None,
    due_from: Annotated[str | None, Query(max_length=10)] = None,
    due_to: Annotated[str | None, Query(max_length=10)] = None,
) -> service.TaskFilter:
    """The board's filters as its form sends them (blank fields are no filter), shared by the list, the calendar and
    the export."""
    return service.TaskFilter(
        agency=agency or None,
        status=status or None,
        directive=directive or None,
        health=health if health in HEALTHS else None,
        due_from=_day(due_from),
        due_to=_day(due_to),
    )


BoardFilter = Annotated[service.TaskFilter, Depends(board_filter)]


def _query(where: service.TaskFilter, *, dates: bool = True, **more: str) -> str:
    """The query string that gives these filters again (for links between the list, the calendar and the export)."""
    given = {
        "agency": where.agency,
        "status": where.status,
        "directive": where.directive,
        "health": where.health,
        "due_from": where.due_from.isoformat() if dates and where.due_from else None,
        "due_to": where.due_to.isoformat() if dates and where.due_to else None,
        **more,
    }
    return urlencode({k: v for k, v in given.items() if v})


def _board_context(session: Session, where: service.TaskFilter) -> dict[str, Any]:
    return {
        "figures": service.figures(session=session, agency=where.agency),
        "filters": where,
        "statuses": (*STATUSES, "due_soon"),
        "healths": HEALTHS,
        "agencies": service.agencies(session=session),
    }


@router.get("/tasks", response_class=HTMLResponse)
def board(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    where: BoardFilter,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """The task board: filters by agency, status, directive, health and deadline; the four classes above it."""
    page = service.list_tasks(session=session, where=where, cursor=cursor, limit=50)
    return _page(
        request,
        "tasks/board.html",
        {
            **_board_context(session, where),
            "page": page,
            "first": cursor is None,
            "query": _query(where),
            "calendar_query": _query(where, dates=False, month=_month_text(where.due_from)),
        },
    )


def _month_text(day: date | None) -> str:
    return day.strftime("%Y-%m") if day else ""


@router.get("/tasks/calendar", response_class=HTMLResponse)
def calendar(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    where: BoardFilter,
    month: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    """The board's tasks on a month's calendar by deadline, coloured by status; on a phone, a list by day."""
    today = date.today()
    shown = service.due_month(
        session=session,
        month=service.month_of(month or _month_text(where.due_from), today),
        where=where,
        today=today,
    )
    first = shown.month.start
    weeks = stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return _page(
        request,
        "tasks/calendar.html",
        {
            **_board_context(session, where),
            "shown": shown,
            "days": [day for week in weeks for day in week],
            "weekdays": WEEKDAYS,
            "today": today,
            "query": _query(where, dates=False),
            "list_query": _query(where, dates=False, due_from=first.isoformat(), due_to=shown.month.end.isoformat()),
        },
    )


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/tasks/leader", response_class=HTMLResponse)
def leader(request: Request, session: SessionDep, user: SignedInUser) -> HTMLResponse:
    """The Prime Minister's view: overdue first (longest first), then rated red, then due soonest."""
    tasks = service.prime_minister_view(session=session, limit=60)
    return _page(request, "tasks/leader.html", {"tasks": tasks, "figures": service.figures(session=session)})


@router.get("/tasks/scorecard", response_class=HTMLResponse)
def scorecard(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    """Every agency ranked, trends by month and the tasks overdue more than 30 days; one agency's own view (its
    figures, what it owes, its place in the ranking)."""
    national = service.summary(session=session, period=period or None)
    own = service.summary(session=session, agency=agency, period=period or None) if agency else national
    agencies = service.agencies(session=session)
    by_code = {a.code: a for a in agencies}
    return _page(
        request,
        "tasks/scorecard.html",
        {
            "summary": own,
            "national": national,
            "owes": service.prime_minister_view(session=session, agency=agency, limit=100) if agency else [],
            "agency": by_code.get(own.agency or ""),
            "agencies": agencies,
            "agencies_by_code": by_code,
        },
    )


@router.get("/tasks/export.xlsx")
def export(session: SessionDep, user: SignedInUser, where: BoardFilter) -> Response:
    """The board's tasks, as filtered, as the Government Office's list (.xlsx), with their computed status."""
    body = service.export_sheet(session=session, where=where)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="nhiem-vu.xlsx"'},
    )


def _task_context(session: Session, task_id: int, user: User) -> dict[str, Any]:
    task = service.get_task(session=session, task_id=task_id)
    today = date.today()
    rolled = service.rolled_up(session, task)
    return {
        "task": service.tasks_out(session, [task], today)[0],
        "directive": task.directive,
        "agencies": {a.code: a for a in service.agencies(session=session)},
        "formula": rolled.formula if rolled else None,
        "subs": service.tasks_out(session, service.sub_tasks(session=session, task_id=task.id), today),
        "timeline": list(reversed(service.timeline(session=session, task_id=task.id))),
        "extensions": [service.extension_out(x) for x in service.extensions(session=session, task_id=task.id)],
        "indicators": service.linked_indicators(session=session, task_id=task.id),
        "indicator_choices": service.indicator_names(session=session) if _office(user) else [],
        "mine": _acts_for_lead(user, task.lead_agency_id),
        "office": _office(user),
        "healths": HEALTHS,
        "error": None,
    }


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, session: SessionDep, user: SignedInUser, task_id: int) -> HTMLResponse:
    """A task: status, health, progress (with the roll-up formula), timeline, reports, extensions; its forms."""
    return _page(request, "tasks/task.html", _task_context(session, task_id, user))


def _on_task(
    request: Request, session: Session, user: User, task_id: int, act: Callable[[], str]
) -> HTMLResponse | RedirectResponse:
    """A change made from a task's page: `act` makes it and names the audit action (the console's writes are
    audited as the API's are, under the same actions), then the page again. A refusal shows the page with the
    reason in the reader's language, and nothing is stored."""
    try:
        action = act()
        record_request(session=session, request=request, action=action, target=str(task_id))
    except ValidationError as exc:
        return _refused(request, session, task_id, user, _not_accepted(request, exc)[0])
    except GovopsError as exc:
        return _refused(request, session, task_id, user, exc)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


def _refused(request: Request, session: Session, task_id: int, user: User, exc: GovopsError) -> HTMLResponse:
    session.rollback()
    context = _task_context(session, task_id, user)
    context["error"] = exc
    return _page(request, "tasks/task.html", context, status_code=exc.status if exc.status >= 400 else 400)


def _not_accepted(request: Request, exc: ValidationError) -> list[GovopsError]:
    """pydantic's own wording is English: each field it refused is named in a sentence of the catalogue instead."""
    return [
        GovopsError.of(
            "invalid",
            lazy_gettext("the field %(field)s is not accepted as written"),
            lazy_gettext("correct it and confirm again"),
            status=422,
            field=_field_name(request, ".".join(map(str, e["loc"]))),
        )
        for e in exc.errors()
    ]


@router.post("/tasks/{task_id}/report", dependencies=[Depends(verify_csrf)], response_model=None)
def report(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    task_id: int,
    percent: Annotated[float, Form(ge=0, le=100)],
    text: Annotated[str, Form(min_length=1, max_length=5000)],
    evidence: Annotated[str, Form(max_length=500)] = "",
    done: Annotated[str, Form(max_length=3)] = "",
    health: Annotated[str, Form(max_length=12)] = "",
) -> HTMLResponse | RedirectResponse:
    """The lead agency's progress report from the console."""

    def act() -> str:
        data = ProgressIn(percent=percent, text=text, evidence=evidence or None, done=bool(done), health=health or None)
        who = service.user_caller(user)
        service.report_progress(session=session, task_id=task_id, data=data, who=who, channel="console")
        return "task.progress"

    return _on_task(request, session, user, task_id, act)


@router.post("/tasks/{task_id}/extension", dependencies=[Depends(verify_csrf)], response_model=None)
def ask_extension(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    task_id: int,
    deadline: Annotated[date, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=5000)],
) -> HTMLResponse | RedirectResponse:
    """The lead agency asks the Government Office for a later deadline."""

    def act() -> str:
        who = service.user_caller(user)
        service.request_extension(session=session, task_id=task_id, deadline=deadline, reason=reason, who=who)
        return "task.extension.requested"

    return _on_task(request, session, user, task_id, act)


@router.post("/tasks/{task_id}/extension/{extension_id}", dependencies=[Depends(verify_csrf)], response_model=None)
def decide(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    task_id: int,
    extension_id: int,
    approve: Annotated[str, Form(max_length=3)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> HTMLResponse | RedirectResponse:
    """The Government Office grants or refuses an extension."""

    def act() -> str:
        ext = service.decide_extension(
            session=session,
            task_id=task_id,
            extension_id=extension_id,
            approve=approve == "yes",
            note=note,
            who=service.user_caller(user),
        )
        return f"task.extension.{ext.state}"

    return _on_task(request, session, user, task_id, act)


@router.post("/tasks/{task_id}/indicators", dependencies=[Depends(verify_csrf)], response_model=None)
def link_indicator(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    task_id: int,
    indicator: Annotated[str, Form(min_length=1, max_length=40)],
    target: Annotated[float, Form()],
    area: Annotated[str, Form(min_length=1, max_length=20)] = "VN",
    direction: Annotated[str, Form(max_length=8)] = "at_least",
) -> HTMLResponse | RedirectResponse:
    """The Government Office ties the task to an indicator's target (the task closes once its data reaches it)."""

    def act() -> str:
        data = IndicatorTarget(indicator=indicator, area=area.strip(), target=target, at_least=direction != "at_most")
        service.link_indicator(session=session, task_id=task_id, target=data, who=service.user_caller(user))
        return "task.indicator.linked"

    return _on_task(request, session, user, task_id, act)


# --- directives -----------------------------------------------------------------------------------


@router.get("/directives", response_class=HTMLResponse)
def directives(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """The directives, newest entered first, of one kind or all."""
    kind = kind if kind in KIND_LABELS else None
    page = service.list_directives(session=session, cursor=cursor, limit=50, kind=kind)
    return _page(
        request,
        "tasks/directives.html",
        {"page": page, "first": cursor is None, "office": _office(user), "kind": kind},
    )


@router.get("/directives/new", response_class=HTMLResponse)
def new_directive(request: Request, user: SignedInUser) -> HTMLResponse:
    """Paste a directive's text: its tasks are proposed for review before anything is stored."""
    return _page(request, "tasks/new_directive.html", {"form": {}, "proposals": None, "problems": []})


@router.post("/directives/new", dependencies=[Depends(verify_csrf)], response_model=None)
async def enter_directive(
    request: Request, session: WriteSessionDep, user: SignedInUser
) -> HTMLResponse | RedirectResponse:
    """`preview`: the proposed tasks read from the text; `confirm`: the directive and the ticked tasks, stored
    together or not at all."""
    form = {k: str(v) for k, v in (await request.form()).multi_items()}
    who = service.user_caller(user)
    signed = _day(form.get("signed_on"))
    year = signed.year if signed else date.today().year
    proposals = service.extract(session=session, text=form.get("text", ""), year=year) if form.get("text") else []
    if form.get("action") != "confirm":
        return _page(request, "tasks/new_directive.html", {"form": form, "proposals": proposals, "problems": []})
    problems: list[Any] = []
    try:
        directive = service.create_directive(
            session=session,
            data=DirectiveIn(
                kind=form.get("kind", "directive"),
                number=form.get("number", ""),
                title=form.get("title", ""),
                signed_on=signed or date.today(),
                signer=form.get("signer", ""),
                summary=form.get("text", "")[:20_000],
            ),
            who=who,
        )
        record_request(session=session, request=request, action="directive.created", target=directive.number)
        for i, proposal in enumerate(proposals):
            if form.get(f"take_{i}") != "1":
                continue
            recurrence = form.get(f"recurrence_{i}", proposal.recurrence)
            task = service.create_task(
                session=session,
                data=TaskIn(
                    directive=directive.number,
                    text=proposal.text,
                    lead=form.get(f"lead_{i}", proposal.lead or ""),
                    coordinating=[c for c in form.get(f"coordinating_{i}", "").replace(",", " ").split() if c],
                    deadline=_day(form.get(f"deadline_{i}")) if recurrence == "once" else None,
                    recurrence=recurrence,
                ),
                who=who,
            )
            record_request(session=session, request=request, action="task.created", target=str(task.id))
    except GovopsError as exc:
        session.rollback()
        problems = exc.problems or [exc]
    except ValidationError as exc:
        session.rollback()
        problems = list(_not_accepted(request, exc))
    if problems:
        context = {"form": form, "proposals": proposals, "problems": problems}
        return _page(request, "tasks/new_directive.html", context, status_code=422)
    return RedirectResponse(f"/directives/{directive.id}", status_code=303)


@router.get("/directives/{directive_id}", response_class=HTMLResponse)
def directive_page(request: Request, session: SessionDep, user: SignedInUser, directive_id: int) -> HTMLResponse:
    found = service.directive_by_id(session=session, directive_id=directive_id)
    tasks = service.list_tasks(session=session, where=service.TaskFilter(directive=found.number), limit=500)
    return _page(
        request,
        "tasks/directive.html",
        {
            "directive": service.directive_out(session, found),
            "issuer": found.issuer,
            "tasks": tasks.items,
            "source": found.source,
            "statuses": STATUSES,
        },
    )
