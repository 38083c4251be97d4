"""Data quality over HTTP: the flags on suspicious values and their follow-up, the rules, the scorecards.

Every route needs credentials (an agency system's API key, or a signed-in user: session cookie, CSRF token on
writes). Flags are listed only on indicators the caller may read. Who may answer a flag is the service's to decide.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from govops.audit.service import Actor
from govops.errors import GovopsError, lazy_gettext
from govops.exchange import service as exchange
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from govops.quality import scorecards, service
from govops.quality.facts import indicator_facts
from govops.quality.flags import Names
from govops.quality.schemas import FlagDetail, FlagOut, ResolutionIn, RuleOut, RuleSet, Scorecards
from govops.web.access import Reader, authenticated_member_id, presented_key, readable, require_readable
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody
from govops.web.signin import CurrentUser

CREDENTIALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no API key and no signed-in user"},
    403: {
        "model": ErrorBody,
        "description": "the caller's agency may not do this (not its data; not the Government Office)",
    },
}
router = APIRouter(prefix="/api/v1/quality", tags=["quality"], responses=ERROR_RESPONSES | CREDENTIALS)


def quality_caller(request: Request, session: SessionDep, user: CurrentUser) -> service.Caller:
    """The agency behind the request: an API key's member, or the signed-in user's agency."""
    key = presented_key(request)
    if key:
        member_id = authenticated_member_id(request, key)
        member = (
            exchange.authenticated_member(session=session, member_id=member_id, presented=key)
            if member_id is not None
            else exchange.authenticate(session=session, presented=key, stamp=False)
        )
        request.state.audit_actor = Actor("member", member.code, member.agency.code)
        return service.Caller(
            f"member:{member.code}",
            member.agency_id,
            member.agency.code,
            member.agency.kind == service.GOVERNMENT_OFFICE,
        )
    if user is not None:
        return service.Caller(
            user.username, user.agency_id, user.agency.code, user.agency.kind == service.GOVERNMENT_OFFICE
        )
    error = GovopsError.of(
        "unauthorized",
        lazy_gettext("data quality is read and followed up with credentials"),
        lazy_gettext("sign in to the console"),
        status=401,
    )
    error.hint = "send `Authorization: Bearer gvk_...` with your system's API key, or sign in to the console"
    raise error


QualityCaller = Annotated[service.Caller, Depends(quality_caller)]
ReaderDep = Annotated[Reader, Depends(readable)]


@router.get("/flags")
def list_flags(
    session: SessionDep,
    who: QualityCaller,
    reader: ReaderDep,
    agency: Annotated[str | None, Query(max_length=32, description="the source agency's code")] = None,
    indicator: Annotated[str | None, Query(max_length=40)] = None,
    area: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=12, description="open, confirmed, corrected, dismissed")] = None,
    severity: Annotated[str | None, Query(max_length=8, description="high, medium, low")] = None,
    method: Annotated[
        str | None,
        Query(
            max_length=16,
            description="rule, unit_slip, sign_error, digit_swap, outlier, frozen, level_shift, negative, revision",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[FlagOut]:
    """Flags on suspicious values, newest first, on the indicators the caller may read."""
    where = service.FlagFilter(
        agency=agency,
        indicator=indicator,
        area=area,
        status=status,
        severity=severity,
        method=method,
        indicators=_readable_ids(session, reader),
    )
    return service.list_flags(session=session, where=where, cursor=cursor, limit=limit)


def _readable_ids(session: SessionDep, reader: Reader) -> frozenset[int]:
    facts = indicator_facts(session)
    return frozenset(i.id for i in facts.values() if reader.may_read(i.code, i.classification))


@router.get("/flags/{flag_id:int}")
def get_flag(session: SessionDep, who: QualityCaller, reader: ReaderDep, flag_id: int) -> FlagDetail:
    """A flag and its timeline: raised, confirmed or disputed, corrected, closed."""
    flag = service.get_flag(session=session, flag_id=flag_id)
    out = service.flag_out(flag, Names.read(session, [flag]))
    _require(session, reader, out.indicator)
    return FlagDetail(flag=out, timeline=service.timeline(session=session, flag_id=flag.id))


def _require(session: SessionDep, reader: Reader, code: str) -> None:
    require_readable(code, indicator_facts(session)[code].classification, reader)


@router.post("/flags/{flag_id:int}/resolution")
def post_resolution(
    request: Request, session: WriteSessionDep, who: QualityCaller, flag_id: int, body: ResolutionIn
) -> FlagOut:
    """The source agency confirms the value (with its reason) or disputes the check; the Government Office closes
    an answered flag or dismisses a wrong one. A correction is a new submission of the value: it closes the
    agency's part by itself (status `corrected`)."""
    flag = service.resolve(session=session, flag_id=flag_id, action=body.action, reason=body.reason, who=who)
    record_request(
        session=session,
        request=request,
        action=f"quality.flag.{body.action}",
        target=str(flag.id),
        detail={"status": flag.status, "reason": body.reason[:500]},
    )
    return service.flag_out(flag, Names.read(session, [flag]))


@router.get("/rules")
def list_rules(
    session: SessionDep,
    who: QualityCaller,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[RuleOut]:
    """The validation rules, by code."""
    return service.rules_page(session=session, cursor=cursor, limit=limit)


@router.post("/rules")
def post_rules(request: Request, session: WriteSessionDep, who: QualityCaller, body: RuleSet) -> list[RuleOut]:
    """Creates or updates rules by code, all or none (the Government Office). A rule that names an unknown
    indicator, does not parse, compares different units or mixes frequencies is refused with nothing stored."""
    service.require_government_office(who)
    saved = service.save_rules(session=session, rules=body.rules, by=who.name, where="rules")
    record_request(
        session=session, request=request, action="quality.rules.saved", target=",".join(r.code for r in saved)[:200]
    )
    return [service.rule_out(rule) for rule in saved]


@router.get("/scorecards")
def get_scorecards(
    session: SessionDep,
    who: QualityCaller,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    period: Annotated[str | None, Query(max_length=16, description="a month, quarter or year: 2025-07, 2025")] = None,
    kind: Annotated[str, Query(max_length=10, description="agency, group or province")] = "agency",
) -> Scorecards:
    """Each agency's (indicator group's, province's) score on the WHO Data Quality Review's four dimensions, with
    its thresholds and the trend against the period before; best first (a league table)."""
    return scorecards.scorecards(session=session, kind=kind, period=period, agency=agency)
