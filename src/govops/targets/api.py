"""Targets over HTTP: the list and the board are read like the data they stand on; entering targets is the
Government Office's (an API key of one of its systems, or one of its signed-in people, CSRF token on writes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from govops.audit.service import Actor
from govops.auth.models import User
from govops.errors import GovopsError, lazy_gettext
from govops.exchange import service as exchange
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, make_page
from govops.targets import service
from govops.targets.models import Target
from govops.targets.schemas import BoardRow, DriverOut, PathPoint, ProgressOut, RatingOut, TargetIn, TargetOut
from govops.tasks import service as tasks
from govops.web.access import Readable, authenticated_member_id, presented_key, require_readable
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody
from govops.web.signin import CurrentUser

CREDENTIALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no API key and no signed-in user"},
    403: {"model": ErrorBody, "description": "not the Government Office"},
}
router = APIRouter(prefix="/api/v1", tags=["targets"], responses=ERROR_RESPONSES | CREDENTIALS)


def _writer(request: Request, session: Session, user: User | None) -> tasks.Caller:
    key = presented_key(request)
    if key:
        member_id = authenticated_member_id(request, key)
        member = (
            exchange.authenticated_member(session=session, member_id=member_id, presented=key)
            if member_id is not None
            else exchange.authenticate(session=session, presented=key, stamp=False)
        )
        request.state.audit_actor = Actor("member", member.code, member.agency.code)
        return tasks.Caller.acting_for(member.agency, f"member:{member.code}")
    if user is not None:
        return tasks.user_caller(user)
    raise GovopsError.of(
        "unauthorized",
        lazy_gettext("targets are entered with credentials"),
        lazy_gettext("sign in to the console"),
        status=401,
    )


def target_writer(request: Request, session: WriteSessionDep, user: CurrentUser) -> tasks.Caller:
    who = _writer(request, session, user)
    if not who.government_office:
        raise GovopsError.of(
            "forbidden",
            lazy_gettext("only the Government Office may do this; you act for %(agency)s"),
            lazy_gettext("ask the Government Office"),
            status=403,
            agency=who.agency_code,
        )
    return who


TargetWriter = Annotated[tasks.Caller, Depends(target_writer)]


def _readable(target: Target, allowed: Any) -> None:
    if target.indicator is not None:
        require_readable(target.indicator.code, target.indicator.classification, allowed)


@router.get("/targets")
def list_targets(
    session: SessionDep,
    allowed: Readable,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="targets whose period covers this year")] = None,
    plan: Annotated[str | None, Query(max_length=40, description="the plan's code")] = None,
    level: Annotated[str | None, Query(description="nation, province or ministry")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[TargetOut]:
    """Targets in the order they were entered, with their rating and probability of being met."""
    rows = service.list_targets(
        session=session, year=year, plan=plan, level=level, after_id=decode_cursor(cursor) or None, limit=limit + 1
    )
    shown = []
    for t in rows:
        try:
            _readable(t, allowed)
        except GovopsError:
            continue
        shown.append(t)
    return make_page(shown, limit=limit, key=lambda t: t.id, out=lambda t: service.target_out(session, t))


@router.post("/targets", status_code=201)
def post_targets(
    request: Request, session: WriteSessionDep, who: TargetWriter, body: TargetIn | list[TargetIn]
) -> list[TargetOut]:
    """Enters targets (or replaces them, by code) with their cascade; all or none."""
    items = body if isinstance(body, list) else [body]
    saved = service.save_targets(session=session, items=items)
    record_request(
        session=session,
        request=request,
        action="targets.save",
        target=",".join(t.code for t in saved),
        detail={"targets": len(saved)},
    )
    return [service.target_out(session, t) for t in saved]


@router.get("/targets/board", response_model=list[BoardRow])
def get_board(
    session: SessionDep,
    allowed: Readable,
    year: Annotated[int, Query(ge=1900, le=2200)],
    area: Annotated[str, Query(max_length=16, description="VN, or a province's code for its own board")] = "VN",
) -> list[BoardRow]:
    """Every target of the year for the nation or a province: rating, probability, the path so far against the
    trajectory; worst first."""
    rows = service.board(session=session, year=year, area=area)
    shown = []
    for r in rows:
        if r.indicator is not None:
            try:
                require_readable(r.indicator, _classification(session, r.id), allowed)
            except GovopsError:
                continue
        shown.append(r)
    return shown


def _classification(session: Session, target_id: int) -> str:
    t = service.get_target(session=session, target_id=target_id)
    return t.indicator.classification if t.indicator is not None else "public"


@router.get("/targets/{target_id}/progress", response_model=ProgressOut)
def get_progress(session: SessionDep, allowed: Readable, target_id: int) -> ProgressOut:
    """What the data say of a target now: the figure so far, the trajectory, the gap, the expected value and the
    probability of meeting it, the rating and its history, the provinces behind a shortfall."""
    t = service.get_target(session=session, target_id=target_id)
    _readable(t, allowed)
    row = service.progress_row(session, t.id)
    history = [
        RatingOut(at=h.at, as_of=h.as_of, rating=h.rating, probability=h.probability)
        for h in service.rating_history(session=session, target_id=t.id)
    ]
    if row is None:
        return ProgressOut(
            target=t.code,
            computed_at=None,
            as_of=None,
            actual=None,
            actual_kind="latest",
            required=None,
            gap=None,
            projected=None,
            probability=None,
            method="none",
            category=None,
            growth_ratio=None,
            status_index=None,
            anticipated_index=None,
            rating=t.assessed_rating or "no_data",
            path=[],
            drivers=[],
            history=history,
        )
    return ProgressOut(
        target=t.code,
        computed_at=row.computed_at,
        as_of=row.as_of,
        actual=row.actual,
        actual_kind=row.actual_kind,
        required=row.required,
        gap=row.gap,
        projected=row.projected,
        probability=row.probability,
        method=row.method,
        category=row.category,
        growth_ratio=row.growth_ratio,
        status_index=row.status_index,
        anticipated_index=row.anticipated_index,
        rating=row.rating,
        path=[PathPoint.model_validate(p) for p in row.path],
        drivers=[DriverOut.model_validate(d) for d in row.drivers],
        history=history,
    )
