"""Exchange API: agency systems submit data with an API key, an Idempotency-Key and, optionally, a signature."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from govops.errors import GovopsError
from govops.exchange import service, signing, submissions
from govops.exchange.models import Member
from govops.web.access import presented_key
from govops.web.deps import WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody, ProblemOut, error_body

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
    body_sha256: str
    received_at: datetime
    client_signature: str | None
    server_signature: str = Field(
        description="Ed25519, base64, over the canonical JSON of id, member, idempotency_key, body_sha256, status, "
        "received, created, updated, unchanged, rejected, received_at (GET /api/v1/exchange/server-key)"
    )
    server_key_id: str
    problems: list[ProblemOut]


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


@router.post(
    "/submissions",
    status_code=201,
    response_model=Receipt,
    responses={
        200: {"model": Receipt, "description": "the same Idempotency-Key and body again: the first receipt"},
        401: {"model": ErrorBody, "description": "missing, wrong, revoked or expired key; a bad signature"},
        409: {"model": ErrorBody, "description": "the Idempotency-Key was used for another body"},
        415: {"model": ErrorBody, "description": "a body type govops does not read"},
        422: {"model": RejectedBody, "description": "rejected: no row was stored; the receipt lists every problem"},
    },
)
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
    SDMX-JSON 1.0, SDMX-CSV 1.0) or a DHIS2 data value set (JSON or CSV).
    """
    settings = request.app.state.settings
    incoming = submissions.Incoming(
        body=body,
        content_type=request.headers.get("content-type"),
        idempotency_key=idempotency_key,
        signature=signature,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        ip=request.client.host if request.client else None,
        mapping=mapping,
    )
    key = signing.server_key(settings.signing_key_file)
    try:
        found, replayed = submissions.submit(
            session=session, member=member, incoming=incoming, server_key=key, max_rows=settings.max_batch_rows
        )
    except IntegrityError:
        # The same Idempotency-Key at the same moment: the other request won; answer with its receipt.
        session.rollback()
        member = service.authenticate(session=session, presented=presented_key(request))
        found, replayed = submissions.submit(
            session=session, member=member, incoming=incoming, server_key=key, max_rows=settings.max_batch_rows
        )
    session.commit()
    content = Receipt.model_validate(submissions.receipt(found)).model_dump(mode="json")
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if found.status == "rejected":
        message = (
            f"{found.rejected} of {found.received} rows have problems; nothing was stored"
            if found.received
            else "the body cannot be read; nothing was stored"
        )
        rejected = error_body("rejected", message, problems=content["problems"])
        return JSONResponse({**rejected, "submission": content}, status_code=422, headers=headers)
    return JSONResponse(content, status_code=200 if replayed else 201, headers=headers)


@router.get(
    "/submissions/{submission_id}",
    response_model=Receipt,
    responses={401: {"model": ErrorBody, "description": "missing, wrong, revoked or expired key"}},
)
def get_submission(session: WriteSessionDep, member: CallingMember, submission_id: str) -> Any:
    """A receipt again, with every rejected row; only for the member that sent it."""
    found = submissions.get_submission(session=session, member=member, submission_id=submission_id)
    session.commit()  # the key's use is stamped
    return submissions.receipt(found)


@router.get("/exchange/server-key", response_model=ServerKey)
def server_key(request: Request) -> ServerKey:
    """The public key that verifies the signatures on receipts."""
    key = signing.server_key(request.app.state.settings.signing_key_file)
    return ServerKey(key_id=signing.key_id(key), public_key=signing.public_key_b64(key))
