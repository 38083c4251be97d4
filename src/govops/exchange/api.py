"""Exchange API: agency systems submit data with an API key, an Idempotency-Key and, optionally, a signature.

POST /api/v1/observations is the same submission under the warehouse's older address.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops import i18n, signing
from govops.auth.service import OFFICER_ROLES
from govops.errors import GovopsError
from govops.exchange import service, submissions
from govops.exchange.models import Member, Submission
from govops.exchange.service import console_member
from govops.warehouse.schemas import ObservationBatch
from govops.web.access import authenticated_member_id, presented_key
from govops.web.deps import WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody, ProblemOut, error_body
from govops.web.security import client_ip
from govops.web.signin import CurrentUser, require_role, require_user

router = APIRouter(prefix="/api/v1", tags=["exchange"], responses=ERROR_RESPONSES)


class Receipt(BaseModel):
    id: str
    member: str
    idempotency_key: str
    status: str = Field(description="accepted (every row stored) or rejected (none stored; see problems)")
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="rows with at least one problem")
    skipped: int = Field(
        0,
        description="values the mapping left out on purpose (missing: skip, unmatched: skip, data elements marked "
        "skip, DHIS2 values marked deleted); not counted in received",
    )
    body_sha256: str
    received_at: datetime
    client_signature: str | None
    server_signature: str = Field(
        description="Ed25519, base64, over the canonical JSON of id, member, idempotency_key, body_sha256, status, "
        "received, created, updated, unchanged, rejected, skipped (when not 0), received_at "
        "(GET /api/v1/exchange/server-key)"
    )
    server_key_id: str
    problems: list[ProblemOut]
    warnings: list[ProblemOut] = Field(
        default_factory=list,
        description="what quality rules noticed without rejecting: the rows were stored; look at them again",
    )


class RejectedBody(ErrorBody):
    submission: Receipt


class ServerKey(BaseModel):
    algorithm: str = "Ed25519"
    key_id: str
    public_key: str = Field(description="raw 32-byte public key, base64")


def calling_member(request: Request, session: WriteSessionDep) -> Member:
    presented = presented_key(request)
    if not presented:
        raise service.Unauthorized("an API key is required", hint="send `Authorization: Bearer gvk_...`")
    member_id = authenticated_member_id(request, presented)
    if member_id is not None:
        return service.authenticated_member(session=session, member_id=member_id, presented=presented)
    return service.authenticate(session=session, presented=presented)


CallingMember = Annotated[Member, Depends(calling_member)]


async def submission_body(request: Request) -> bytes:
    """The body, read up to the size limit and no further."""
    limit = request.app.state.settings.max_submission_bytes
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
    return GovopsError(
        f"the body is larger than {limit:,} bytes",
        code="too_large",
        status=413,
        hint="split the data into several submissions",
    )


_SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Receipt, "description": "the same Idempotency-Key and body again: the first receipt"},
    401: {"model": ErrorBody, "description": "no credentials; a wrong, revoked or expired key; a bad signature"},
    403: {"model": ErrorBody, "description": "a console session whose role may not write, or without its CSRF token"},
    409: {"model": ErrorBody, "description": "the Idempotency-Key was used for another body"},
    415: {"model": ErrorBody, "description": "a body type govops does not read"},
    422: {"model": RejectedBody, "description": "rejected: no row was stored; the receipt lists every problem"},
}


@router.post("/submissions", status_code=201, response_model=Receipt, responses=_SUBMIT_RESPONSES)
def post_submission(
    request: Request,
    session: WriteSessionDep,
    member: CallingMember,
    body: Annotated[bytes, Depends(submission_body)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    signature: Annotated[str | None, Header(alias="X-Govops-Signature", description="Ed25519 over the body")] = None,
    mapping: Annotated[
        str | None, Query(description="stored mapping to read an SDMX message or a DHIS2 data value set with")
    ] = None,
) -> Any:
    """Submit observations: all stored, or none and every problem listed.

    The body is the exchange shape as JSON, NDJSON or CSV; an Excel workbook made from a govops
    template; or, read through a stored mapping (`?mapping=NAME`), an SDMX message (SDMX-ML 2.1,
    SDMX-ML 3.0 structure-specific, SDMX-JSON 1.0, SDMX-CSV 2.0 or 1.0) or a DHIS2 data value set (JSON or CSV).
    """
    incoming = _incoming(request, body, idempotency_key=idempotency_key, signature=signature, mapping=mapping)
    return _submit(request, session, member, incoming)


def _inlined(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its definitions put in place: a body read by hand has no components."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        rest = {k: resolve(v) for k, v in node.items() if k != "$ref"}
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return {**resolve(definitions[ref.removeprefix("#/$defs/")]), **rest}
        return rest

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def observations_sender(request: Request, session: WriteSessionDep, user: CurrentUser) -> tuple[Member, str | None]:
    """Who a batch of observations is submitted as: the member of the API key, or else the signed-in
    officer's agency through its console member (as a console upload is); with the officer's user name."""
    if presented_key(request):
        return calling_member(request, session), None
    officer = require_role(*OFFICER_ROLES)(require_user(user))
    return console_member(session=session, agency=officer.agency), officer.username


@router.post(
    "/observations",
    status_code=201,
    response_model=Receipt,
    responses=_SUBMIT_RESPONSES,
    tags=["warehouse"],
    # The JSON shape only: CSV and NDJSON bodies are read too, as by POST /api/v1/submissions.
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _inlined(ObservationBatch)}}}
    },
)
def post_observations(
    request: Request,
    session: WriteSessionDep,
    sender: Annotated[tuple[Member, str | None], Depends(observations_sender)],
    body: Annotated[bytes, Depends(submission_body)],
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="default: a new key (no safe retry)")
    ] = None,
    signature: Annotated[str | None, Header(alias="X-Govops-Signature", description="Ed25519 over the body")] = None,
) -> Any:
    """Write a batch of observations: a submission like POST /api/v1/submissions, with the same rights,
    receipt, audit entry and change events; every row is checked first and if any is wrong, nothing is
    written (422, the receipt lists every problem).

    With an API key the batch is the member system's; signed in to the console (data officers and
    administrators, with the X-CSRF-Token header), it is the officer's agency's, as a console upload.
    Without an Idempotency-Key header a new key is made, so that a retry is a new submission.
    """
    member, username = sender
    incoming = _incoming(
        request,
        body,
        idempotency_key=idempotency_key or f"observations:{uuid.uuid4().hex}",
        signature=signature,
        user=username,
        default_type="application/json",
    )
    return _submit(request, session, member, incoming)


def _incoming(
    request: Request,
    body: bytes,
    *,
    idempotency_key: str | None,
    signature: str | None,
    mapping: str | None = None,
    user: str | None = None,
    default_type: str | None = None,
) -> submissions.Incoming:
    return submissions.Incoming(
        body=body,
        content_type=request.headers.get("content-type") or default_type,
        idempotency_key=idempotency_key,
        signature=signature,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        ip=client_ip(request),
        mapping=mapping,
        user=user,
    )


def _submit(request: Request, session: Session, member: Member, incoming: submissions.Incoming) -> JSONResponse:
    """The submission, committed, as the HTTP answer: 201 and the receipt, 200 for a replay, 422 if rejected."""
    settings = request.app.state.settings
    signing_key = signing.server_key(settings.signing_key_file)
    try:
        found, replayed = submissions.submit(
            session=session, member=member, incoming=incoming, server_key=signing_key, max_rows=settings.max_batch_rows
        )
    except IntegrityError:
        # The same Idempotency-Key at the same moment: the other request won; answer with its receipt.
        member_id, key_text = member.id, presented_key(request)
        session.rollback()
        member = (
            service.authenticate(session=session, presented=key_text)
            if key_text
            else session.get_one(Member, member_id)
        )
        found, replayed = submissions.submit(
            session=session, member=member, incoming=incoming, server_key=signing_key, max_rows=settings.max_batch_rows
        )
    locale = i18n.api_locale(request.headers.get("accept-language"))
    content = Receipt.model_validate(submissions.receipt(found, locale=locale)).model_dump(mode="json")
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if found.status == "rejected":
        rejected = error_body("rejected", rejection_message(found), problems=content["problems"])
        return JSONResponse({**rejected, "submission": content}, status_code=422, headers=headers)
    return JSONResponse(content, status_code=200 if replayed else 201, headers=headers)


def rejection_message(submission: Submission) -> str:
    """What a rejection says of the counts: "3 of 60 rows have problems; 5 left out by the mapping; ..."."""
    if submission.received == 0 and submission.skipped == 0:
        return "the body cannot be read; nothing was stored"
    said = f"{submission.rejected} of {submission.received} rows have problems"
    if submission.skipped:
        said += f"; {submission.skipped} left out by the mapping"
    return said + "; nothing was stored"


@router.get(
    "/submissions/{submission_id}",
    response_model=Receipt,
    responses={401: {"model": ErrorBody, "description": "missing, wrong, revoked or expired key"}},
)
def get_submission(request: Request, session: WriteSessionDep, member: CallingMember, submission_id: str) -> Any:
    """A receipt again, with every rejected row; only for the member that sent it. Problems are worded in
    English, or in Vietnamese for `Accept-Language: vi`."""
    # A writing session: the key's use is stamped, and committed with the answer.
    found = submissions.get_submission(session=session, member=member, submission_id=submission_id)
    return submissions.receipt(found, locale=i18n.api_locale(request.headers.get("accept-language")))


@router.get("/exchange/server-key", response_model=ServerKey)
def server_key(request: Request) -> ServerKey:
    """The public key that verifies the signatures on receipts."""
    key = signing.server_key(request.app.state.settings.signing_key_file)
    return ServerKey(key_id=signing.key_id(key), public_key=signing.public_key_b64(key))
