"""The console's "Submit data" page: a reporting template to download, and a filled-in file to upload.

An upload goes through the submission path like any agency system's: it is submitted as the
agency's console member (``PC-79/console``), so the same grants, checks, receipt, audit entry and
change events apply. A file already accepted gives its first receipt again; a rejected one can be
sent again once what was wrong (the file, or the member's rights) is put right.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from govops import signing
from govops.auth.models import User
from govops.auth.service import OFFICER_ROLES
from govops.catalog.models import IndicatorGroup
from govops.errors import GovopsError, lazy_gettext
from govops.exchange import service, submissions
from govops.exchange.models import Member, Submission
from govops.interop.excel.template import Lang
from govops.interop.mapping.service import list_mappings
from govops.interop.readers import XLSX
from govops.interop.templates import template_workbook
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.security import client_ip
from govops.web.signin import require_role, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)
Officer = Annotated[User, Depends(require_role(*OFFICER_ROLES))]

_BY_SUFFIX = {
    "xlsx": XLSX,
    "csv": "text/csv",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "ndjson": "application/x-ndjson",
    "xml": "application/xml",
}


@router.get("/submit", response_class=HTMLResponse)
def submit_page(request: Request, session: SessionDep, user: Officer) -> HTMLResponse:
    return render(request, "submit.html", _context(session, user))


@router.get("/submit/template")
def template(
    request: Request, session: SessionDep, user: Officer, group: str, year: int, wards: bool = False
) -> Response:
    lang: Lang = "vi" if locale_of(request) == "vi" else "en"
    body, name = template_workbook(
        session=session, group=group, agency=user.agency.code, year=year, wards=wards, lang=lang
    )
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/submit", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def upload(request: Request, session: WriteSessionDep, user: Officer) -> Response:
    limit = request.app.state.settings.max_submission_bytes
    try:
        async with request.form(max_part_size=limit) as form:
            return await _upload(request, session, user, form)
    except HTTPException as exc:  # Starlette's refusal of a part over the limit, in its own English words
        if exc.status_code != 400:
            raise
        problem = GovopsError.of(
            "too_large",
            lazy_gettext("the file is larger than the %(limit)s MB an upload may be"),
            lazy_gettext("split the figures over several templates (fewer indicators or periods each)"),
            status=413,
            limit=f"{limit / 1024 / 1024:.0f}",
        )
        return render(request, "submit.html", {**_context(session, user), "problem": problem}, status_code=413)


async def _upload(request: Request, session: Session, user: User, form: FormData) -> Response:
    file, mapping = form.get("file"), str(form.get("mapping", "")).strip() or None
    if not isinstance(file, UploadFile) or not file.filename:
        problem = GovopsError.of(
            "missing_file",
            lazy_gettext("choose a file to upload"),
            lazy_gettext("a filled-in template (.xlsx), or a CSV, JSON, SDMX or DHIS2 file"),
        )
        return render(request, "submit.html", {**_context(session, user), "problem": problem}, status_code=400)
    suffix = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else ""
    if suffix not in _BY_SUFFIX:
        problem = GovopsError.of(
            "unsupported_media_type",
            lazy_gettext("%(file)s is not a file type this form takes"),
            lazy_gettext("upload a filled-in Excel template (.xlsx), or a .csv, .json, .jsonl or .xml file"),
            status=415,
            file=file.filename,
        )
        return render(request, "submit.html", {**_context(session, user), "problem": problem}, status_code=415)
    body = await file.read()
    settings = request.app.state.settings
    digest = hashlib.sha256(body).hexdigest()
    incoming = submissions.Incoming(
        body=body,
        content_type=_BY_SUFFIX[suffix],
        idempotency_key=f"console:{user.username}:{digest}:{uuid.uuid4().hex}",
        signature=None,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        ip=client_ip(request),
        mapping=mapping,
        user=user.username,
        file_name=file.filename,
    )
    key = signing.server_key(settings.signing_key_file)
    try:
        member = service.console_member(session=session, agency=user.agency)
        earlier = session.scalar(
            select(Submission)
            .where(Submission.member_id == member.id, Submission.body_sha256 == digest, Submission.status == "accepted")
            .limit(1)
        )
        if earlier is not None:
            found, replayed = earlier, True  # the same file again changes nothing: its first receipt
        else:
            found, replayed = submissions.submit(
                session=session, member=member, incoming=incoming, server_key=key, max_rows=settings.max_batch_rows
            )
    except GovopsError as exc:
        session.rollback()
        context = {**_context(session, user), "problem": exc}
        return render(request, "submit.html", context, status_code=exc.status)
    receipt = submissions.receipt(found)
    problems, warnings = submissions.stored_entries(found)
    context = {
        **_context(session, user),
        "receipt": receipt,
        "received_at": found.received_at,
        "problems": problems,
        "warnings": warnings,
        "replayed": replayed,
        "file_name": file.filename,
    }
    status = 422 if found.status == "rejected" else 200 if replayed else 201
    return render(request, "submit.html", context, status_code=status)


def _context(session: Session, user: User) -> dict[str, Any]:
    member = session.scalar(select(Member).where(Member.code == service.console_code(user.agency)))
    recent = (
        list(
            session.scalars(
                select(Submission)
                .where(Submission.member_id == member.id)
                .order_by(Submission.received_at.desc())
                .limit(20)
            )
        )
        if member is not None
        else []
    )
    return {
        "groups": list(session.scalars(select(IndicatorGroup).order_by(IndicatorGroup.code))),
        "year": date.today().year,
        "agency": user.agency,
        "mappings": list_mappings(session=session),
        "recent": recent,
        "console_member": member,
    }
