"""Directives and tasks over HTTP: the Government Office enters and decides, each agency reports on its own tasks.

Every route needs credentials: an agency system's API key, or a signed-in user (console cookie, CSRF token on
writes). Who may do what is the service's to decide, on the caller's agency.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from govops.audit.service import Actor
from govops.auth.models import User
from govops.errors import GovopsError, lazy_gettext
from govops.exchange import service as exchange
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from govops.tasks import service
from govops.tasks.models import Task
from govops.tasks.schemas import (
    DecisionIn,
    DirectiveIn,
    DirectiveOut,
    EvaluationIn,
    ExtensionIn,
    ExtensionOut,
    ExtractIn,
    ExtractOut,
    Health,
    IndicatorTarget,
    LinkedIndicator,
    ProgressIn,
    ProgressOut,
    Summary,
    TaskIn,
    TaskOut,
    TimelineEntry,
)
from govops.web.access import authenticated_member_id, presented_key
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody
from govops.web.signin import CurrentUser

CREDENTIALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no API key and no signed-in user"},
    403: {
        "model": ErrorBody,
        "description": "the caller's agency may not do this (not its task; not the Government Office)",
    },
}
router = APIRouter(prefix="/api/v1", tags=["tasks"], responses=ERROR_RESPONSES | CREDENTIALS)


def _caller(request: Request, session: Session, user: User | None, *, writing: bool) -> service.Caller:
    """The agency behind the request: an API key's member, or the signed-in user's agency. A write notes the key's
    use (the app's write guard has checked the key already); a read only checks it."""
    key = presented_key(request)
    if key:
        member_id = authenticated_member_id(request, key) if writing else None
        member = (
            exchange.authenticated_member(session=session, member_id=member_id, presented=key)
            if member_id is not None
            else exchange.authenticate(session=session, presented=key, stamp=False)
        )
        request.state.audit_actor = Actor("member", member.code, member.agency.code)
        return service.Caller.acting_for(member.agency, f"member:{member.code}")
    if user is not None:
        return service.user_caller(user)
    error = GovopsError.of(
        "unauthorized",
        lazy_gettext("tasks are read and changed with credentials"),
        lazy_gettext("sign in to the console"),
        status=401,
    )
    error.hint = "send `Authorization: Bearer gvk_...` with your system's API key, or sign in to the console"
    raise error


def task_reader(request: Request, session: SessionDep, user: CurrentUser) -> service.Caller:
    return _caller(request, session, user, writing=False)


def task_writer(request: Request, session: WriteSessionDep, user: CurrentUser) -> service.Caller:
    # The route's own writing session (FastAPI gives one dependency one value per request).
    return _caller(request, session, user, writing=True)


TaskReader = Annotated[service.Caller, Depends(task_reader)]
TaskWriter = Annotated[service.Caller, Depends(task_writer)]


def _channel(request: Request) -> str:
    if presented_key(request):
        # An agency's document-management system says so; any other program is the API.
        return "webhook" if request.headers.get("X-Govops-Source", "").lower() == "edoc" else "api"
    return "console"


# --- directives ---------------------------------------------------------------------------------


@router.get("/directives")
def list_directives(
    session: SessionDep,
    who: TaskReader,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[DirectiveOut]:
    """Directives, newest entered first."""
    return service.list_directives(session=session, cursor=cursor, limit=limit, kind=kind)


@router.post("/directives", status_code=201)
def post_directive(request: Request, session: WriteSessionDep, who: TaskWriter, body: DirectiveIn) -> DirectiveOut:
    """Enters a directive (the Government Office)."""
    directive = service.create_directive(session=session, data=body, who=who)
    record_request(session=session, request=request, action="directive.created", target=directive.number)
    return service.directive_out(session, directive)


@router.post("/directives/extract")
def extract(session: SessionDep, who: TaskReader, body: ExtractIn) -> ExtractOut:
    """Proposed tasks read from a directive's Vietnamese text (agency codes, action, deadline), for an analyst to
    review and confirm with POST /api/v1/tasks. Nothing is stored."""
    return ExtractOut(tasks=service.extract(session=session, text=body.text, year=body.year or date.today().year))


@router.get("/directives/{directive_id:int}")
def get_directive(session: SessionDep, who: TaskReader, directive_id: int) -> DirectiveOut:
    return service.directive_out(session, service.directive_by_id(session=session, directive_id=directive_id))


# --- tasks ----------------------------------------------------------------------------------------


@router.get("/tasks")
def list_tasks(
    session: SessionDep,
    who: TaskReader,
    agency: Annotated[str | None, Query(max_length=32, description="lead agency code")] = None,
    status: Annotated[
        str | None, Query(max_length=20, description="done_on_time, done_late, open_in_time, open_overdue, due_soon")
    ] = None,
    directive: Annotated[str | None, Query(max_length=40, description="a directive's number")] = None,
    due_from: date | None = None,
    due_to: date | None = None,
    health: Health | None = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[TaskOut]:
    """Tasks, newest first, with their computed status."""
    where = service.TaskFilter(
        agency=agency, status=status, directive=directive, due_from=due_from, due_to=due_to, health=health
    )
    return service.list_tasks(session=session, where=where, cursor=cursor, limit=limit)


@router.post("/tasks", status_code=201)
def post_task(request: Request, session: WriteSessionDep, who: TaskWriter, body: TaskIn) -> TaskOut:
    """Assigns a task of a directive (the Government Office), or a sub-task the lead agency delegates."""
    task = service.create_task(session=session, data=body, who=who)
    record_request(session=session, request=request, action="task.created", target=str(task.id))
    return service.tasks_out(session, [task], date.today())[0]


@router.get("/tasks/summary")
def summary(
    session: SessionDep,
    who: TaskReader,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    period: Annotated[str | None, Query(max_length=16, description="2025, 2025-Q3, 2025-07: deadlines in it")] = None,
) -> Summary:
    """The Government Office's figures: overall, per agency (ranked), by month, and tasks overdue > 30 days."""
    return service.summary(session=session, agency=agency, period=period)


@router.get("/tasks/watchlist")
def watchlist(
    session: SessionDep,
    who: TaskReader,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TaskOut]:
    """The Prime Minister's view: open tasks overdue (longest first), then rated red, then due soonest."""
    return service.prime_minister_view(session=session, agency=agency, limit=limit)


class TaskDetail(BaseModel):
    task: TaskOut
    formula: str | None
    sub_tasks: list[TaskOut]
    timeline: list[TimelineEntry]
    extensions: list[ExtensionOut]
    indicators: list[LinkedIndicator]


@router.get("/tasks/{task_id:int}")
def get_task(session: SessionDep, who: TaskReader, task_id: int) -> TaskDetail:
    """A task, its sub-tasks and the roll-up formula, its timeline and every extension asked."""
    return task_detail(session, task_id)


def task_detail(session: Session, task_id: int) -> TaskDetail:
    task = service.get_task(session=session, task_id=task_id)
    today = date.today()
    rolled = service.rolled_up(session, task)
    subs = service.sub_tasks(session=session, task_id=task.id)
    return TaskDetail(
        task=service.tasks_out(session, [task], today)[0],
        formula=rolled.formula if rolled else None,
        sub_tasks=service.tasks_out(session, subs, today),
        timeline=service.timeline(session=session, task_id=task.id),
        extensions=[service.extension_out(x) for x in service.extensions(session=session, task_id=task.id)],
        indicators=service.linked_indicators(session=session, task_id=task.id),
    )


@router.post("/tasks/{task_id:int}/progress", status_code=201)
def post_progress(
    request: Request, session: WriteSessionDep, who: TaskWriter, task_id: int, body: ProgressIn
) -> ProgressOut:
    """A progress report by the task's lead agency (by its system's key, its document system with
    `X-Govops-Source: edoc`, or the console); `done: true` with evidence closes the task."""
    task, report = service.report_progress(
        session=session, task_id=task_id, data=body, who=who, channel=_channel(request)
    )
    record_request(session=session, request=request, action="task.progress", target=str(task.id))
    parent = session.get(Task, task.parent_id) if task.parent_id is not None else None
    rolled = service.rolled_up(session, parent) if parent is not None else None
    return ProgressOut(
        task=service.tasks_out(session, [task], date.today())[0],
        report_id=report.id,
        parent_progress=rolled.progress if rolled else None,
        formula=rolled.formula if rolled else None,
    )


@router.post("/tasks/{task_id:int}/extension", status_code=201)
def post_extension(
    request: Request, session: WriteSessionDep, who: TaskWriter, task_id: int, body: ExtensionIn
) -> ExtensionOut:
    """The lead agency asks to move the deadline; the Government Office decides."""
    ext = service.request_extension(
        session=session, task_id=task_id, deadline=body.deadline, reason=body.reason, who=who
    )
    record_request(session=session, request=request, action="task.extension.requested", target=str(task_id))
    return service.extension_out(ext)


@router.post("/tasks/{task_id:int}/extension/{extension_id:int}/decision")
def post_decision(
    request: Request, session: WriteSessionDep, who: TaskWriter, task_id: int, extension_id: int, body: DecisionIn
) -> ExtensionOut:
    """The Government Office grants (the deadline moves) or refuses an extension."""
    ext = service.decide_extension(
        session=session, task_id=task_id, extension_id=extension_id, approve=body.approve, note=body.note, who=who
    )
    record_request(session=session, request=request, action=f"task.extension.{ext.state}", target=str(task_id))
    return service.extension_out(ext)


@router.post("/tasks/{task_id:int}/indicators", status_code=201)
def post_indicator(
    request: Request, session: WriteSessionDep, who: TaskWriter, task_id: int, body: IndicatorTarget
) -> list[LinkedIndicator]:
    """The Government Office ties a task to an indicator's target: the task closes by itself once every indicator
    it follows reaches its target. Answers every indicator the task now follows."""
    service.link_indicator(session=session, task_id=task_id, target=body, who=who)
    record_request(session=session, request=request, action="task.indicator.linked", target=str(task_id))
    return service.linked_indicators(session=session, task_id=task_id)


@router.post("/tasks/{task_id:int}/evaluation")
def post_evaluation(
    request: Request, session: WriteSessionDep, who: TaskWriter, task_id: int, body: EvaluationIn
) -> TaskOut:
    """The Government Office's evaluation of a done task (quality 1..5)."""
    task = service.evaluate(session=session, task_id=task_id, quality=body.quality, note=body.note, who=who)
    record_request(session=session, request=request, action="task.evaluated", target=str(task_id))
    return service.tasks_out(session, [task], date.today())[0]
