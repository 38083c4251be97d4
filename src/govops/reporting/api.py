"""Reporting over HTTP: regimes, the compliance of every expected report, the DHIS2-named rates, and the signed
documents agencies file alongside their figures.

Staff signed in read every agency's compliance; an agency's system (API key) reads its own agency's only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.errors import GovopsError, lazy_gettext
from govops.exchange import service as exchange
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, make_page
from govops.reporting import service
from govops.reporting.schemas import ComplianceOut, RatesOut, RegimeOut, ReportOut
from govops.web.access import Readable, Reader, authenticated_member_id, presented_key
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody
from govops.web.signin import CurrentUser, require_role, require_user

router = APIRouter(prefix="/api/v1/reporting", tags=["reporting"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page")]
_SIGNED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no API key and no signed-in user"},
}


class ImportOut(BaseModel):
    regimes_created: list[str]
    versions_added: list[str]
    unchanged: int
    expected_reports_made: int


class DocumentOut(BaseModel):
    regime: str
    agency: str
    period: str
    filename: str
    size: int
    sha256: str
    status: str


def _agency_of(reader: Reader, agency: str | None) -> str | None:
    """Staff and the Government Office's systems read any agency; another agency's system its own only; anonymous
    callers nothing."""
    if reader.every_agency:
        return agency
    if reader.agency is None:
        raise GovopsError.of(
            "unauthorized",
            lazy_gettext("Compliance is read with credentials."),
            lazy_gettext("Send your system's key (Authorization: Bearer gvk_...), or sign in to the console."),
            status=401,
        )
    if agency is not None and agency != reader.agency:
        raise GovopsError.of(
            "forbidden",
            lazy_gettext("Your key reads the compliance of %(agency)s only."),
            lazy_gettext("Ask for agency=%(agency)s, or leave agency out."),
            status=403,
            where="agency",
            agency=reader.agency,
        )
    return reader.agency


@router.get("/regimes", response_model=Page[RegimeOut])
def list_regimes(session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[RegimeOut]:
    """Every reporting regime with its versions (each applies from a period on), by code."""
    after = decode_cursor(cursor)
    regimes = service.list_regimes(session=session)
    rows = list(enumerate(regimes, start=1))[after : after + limit + 1]
    return make_page(rows, limit=limit, key=lambda r: r[0], out=lambda r: r[1])


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> GovopsError:
    return GovopsError.of(
        "too_large",
        lazy_gettext("The body is larger than %(limit)s bytes."),
        lazy_gettext("A regime file holds at most 1 MiB, a signed document at most 10 MiB."),
        status=413,
        where="body",
        limit=limit,
    )


async def regime_file(request: Request) -> bytes:
    return await _body(request, 1024 * 1024)


async def document_file(request: Request) -> bytes:
    return await _body(request, service.MAX_DOCUMENT_BYTES)


@router.post(
    "/regimes",
    response_model=ImportOut,
    responses=_SIGNED | {403: {"model": ErrorBody, "description": "not an administrator"}},
    openapi_extra={"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}},  # YAML text
)
def import_regimes(
    request: Request, session: WriteSessionDep, user: CurrentUser, body: Annotated[bytes, Depends(regime_file)]
) -> ImportOut:
    """Add the regimes and versions of a YAML regime file (administrators): all of it, or nothing and every
    problem by line and field. A stored version is never changed; a new one applies from a coming period."""
    admin = require_role("administrator")(require_user(user))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise GovopsError.of(
            "invalid_encoding",
            lazy_gettext("The regime file is not UTF-8 text."),
            lazy_gettext("Save the file as UTF-8 (any editor offers it) and send it again."),
            where="body",
        ) from None
    summary = service.import_regimes(session=session, text=text, where="body")
    made = service.ensure_expected(session=session)
    record_request(
        session=session,
        request=request,
        action="reporting.regimes.import",
        target=",".join(summary.regimes_created + summary.versions_added)[:200] or "-",
        detail={"by": admin.username},
    )
    return ImportOut(
        regimes_created=summary.regimes_created,
        versions_added=summary.versions_added,
        unchanged=summary.unchanged,
        expected_reports_made=len(made),
    )


@router.put(
    "/reports/{regime}/{agency}/{period}/document",
    response_model=DocumentOut,
    status_code=201,
    responses=_SIGNED
    | {
        403: {"model": ErrorBody, "description": "the report is another agency's"},
        409: {"model": ErrorBody, "description": "the regime asks for no document"},
        413: {"model": ErrorBody, "description": "larger than 10 MiB"},
        415: {"model": ErrorBody, "description": "not a PDF"},
    },
    openapi_extra={
        "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
def put_document(
    request: Request,
    session: WriteSessionDep,
    user: CurrentUser,
    regime: str,
    agency: str,
    period: str,
    body: Annotated[bytes, Depends(document_file)],
    filename: Annotated[str, Header(alias="X-Filename", max_length=200)] = "report.pdf",
) -> DocumentOut:
    """File the signed report (PDF, at most 10 MiB) of an agency's expected report: by that agency's system (API
    key) or its data officer signed in. The report's status is recomputed at once."""
    party = _party(request, session, user)
    report = service.expected_for(session=session, regime=regime, agency=agency, period=period)
    document = service.file_document(session=session, party=party, report=report, filename=filename, content=body)
    record_request(
        session=session,
        request=request,
        action="reporting.document",
        target=f"{regime}/{agency}/{report.period}",
        detail={"sha256": document.sha256, "size": document.size},
    )
    return DocumentOut(
        regime=regime,
        agency=agency,
        period=report.period,
        filename=document.filename,
        size=document.size,
        sha256=document.sha256,
        status=report.status,
    )


def _party(request: Request, session: Session, user: User | None) -> service.Party:
    """Who calls: an agency's system by its key, or a person signed in; 401 for nobody."""
    presented = presented_key(request)
    if presented:
        member_id = authenticated_member_id(request, presented)
        member = (
            exchange.authenticated_member(session=session, member_id=member_id, presented=presented)
            if member_id is not None
            else exchange.authenticate(session=session, presented=presented)
        )
        return service.Party(name=member.code, agency_id=member.agency_id)
    return service.Party.of_user(require_user(user))


@router.get(
    "/reports/{regime}/{agency}/{period}",
    response_model=ReportOut,
    responses=_SIGNED | {403: {"model": ErrorBody, "description": "another agency's report, for an agency's key"}},
)
def report(session: SessionDep, reader: Readable, regime: str, agency: str, period: str) -> ReportOut:
    """One expected report: its compliance, every change to its values after the lock date (which value, old ->
    new, when, by whom) and the signed documents filed for it."""
    found = service.expected_for(session=session, regime=regime, agency=_agency_of(reader, agency) or agency,
                                 period=period)  # fmt: skip
    return service.report_out(session=session, report=found)


@router.get(
    "/documents/{document_id}",
    response_class=Response,
    responses=_SIGNED
    | {
        200: {"content": {"application/pdf": {}}, "description": "the signed document as filed"},
        403: {"model": ErrorBody, "description": "another agency's document"},
    },
)
def get_document(request: Request, session: SessionDep, user: CurrentUser, document_id: int) -> Response:
    """A filed signed document, to the agency that owes the report (its system or data officers), the Government
    Office's analysts and administrators."""
    party = _party(request, session, user)
    document, _ = service.read_document(session=session, party=party, document_id=document_id)
    return Response(document.content, media_type="application/pdf", headers=service.download_headers(document.filename))


@router.get("/compliance", response_model=Page[ComplianceOut], responses=_SIGNED)
def compliance(
    session: SessionDep,
    reader: Readable,
    regime: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=20, description="e.g. 2025-07 or 2025-Q3")] = None,
    agency: Annotated[str | None, Query(max_length=32, description="agency code, e.g. PC-79")] = None,
    status: Annotated[str | None, Query(description="on_time, late, partial, missing or not_due")] = None,
    kind: Annotated[str | None, Query(max_length=32, description="agency kind, e.g. provincial_committee")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page")] = None,
) -> Page[ComplianceOut]:
    """One row per expected report (regime x agency x period): its status computed from the data and the times
    it arrived, the deadline, when it was received, and how many required values are present."""
    where = service.Filter(regime=regime, period=period, agency=_agency_of(reader, agency), status=status, kind=kind)
    return service.compliance(
        session=session, where=where, after_id=decode_cursor(cursor, max_id=2**63 - 1), limit=limit
    )


@router.get("/compliance/summary", response_model=list[RatesOut], responses=_SIGNED)
def summary(
    session: SessionDep,
    reader: Readable,
    period: Annotated[str | None, Query(max_length=20, description="e.g. 2025-07; default every period")] = None,
    regime: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
) -> list[RatesOut]:
    """Per agency, worst first: EXPECTED_REPORTS, ACTUAL_REPORTS, ACTUAL_REPORTS_ON_TIME, REPORTING_RATE,
    REPORTING_RATE_ON_TIME (named as DHIS2 names them), the average days late, and partial and missing counts."""
    where = service.Filter(regime=regime, period=period, agency=_agency_of(reader, None), kind=kind)
    return service.rates(session=session, where=where)
