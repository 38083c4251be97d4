"""The console's "Submit data" page: what is due, a reporting template to download, and a filled-in file to upload.

An upload is first previewed: read and checked like any submission, and shown as what it would do (new values,
changed values old -> new, unchanged, warnings) with nothing stored. The officer confirms or cancels. The file is
kept meanwhile (`exchange.previews`), for that person only; on confirming it goes through the submission path as
the agency's console member (``PC-79/console``), so the same grants, checks, receipt, audit entry and change events
apply, and the receipt and the audit name the person. If the stored values changed since the preview, the new plan
is shown instead of writing. A rejected file gets its receipt at once; a file already accepted, its first receipt.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from govops import signing
from govops.auth.models import User
from govops.auth.service import OFFICER_ROLES
from govops.catalog.models import Area, Indicator
from govops.errors import GovopsError
from govops.exchange import previews, service, submissions
from govops.exchange.models import Member, Submission
from govops.i18n import translations
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
# Spreadsheets Excel or LibreOffice save that are not the template's format: saving as .xlsx is the fix.
_OTHER_SPREADSHEETS = {"xls", "xlsm", "xlsb", "ods", "numbers"}
SHOWN_CHANGES = 200  # values listed in a preview's tables; the counts cover all


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
        # The CSRF check has read the form already (a file spools to disk); leaving this block closes it.
        async with request.form(max_part_size=limit) as form:
            return await _upload(request, session, user, form)
    except HTTPException as exc:  # Starlette's refusal of a part over the limit, in its own English words
        if exc.status_code != 400:
            raise
        return _too_large(request, session, user, limit)


def _too_large(request: Request, session: Session, user: User, limit: int) -> Response:
    gettext = translations(locale_of(request)).gettext
    problem = GovopsError(
        gettext("The file is larger than %(limit)s MB, the most one upload may carry.") % {"limit": limit >> 20},
        code="too_large",
        status=413,
        hint=gettext(
            "Split the figures over several files (fewer indicators or fewer months in each) "
            "and upload them one after the other."
        ),
    )
    return _refused(request, session, user, problem)


async def _upload(request: Request, session: Session, user: User, form: FormData) -> Response:
    gettext = translations(locale_of(request)).gettext
    file, mapping = form.get("file"), str(form.get("mapping", "")).strip() or None
    if not isinstance(file, UploadFile) or not file.filename:
        problem = GovopsError(
            gettext("Choose a file to upload."),
            code="missing_file",
            hint=gettext("Use the filled-in template (.xlsx) you downloaded above."),
        )
        return _refused(request, session, user, problem)
    suffix = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else ""
    if suffix not in _BY_SUFFIX:
        problem = GovopsError(
            gettext(
                "%(file)s is not a file the console reads: it takes the filled-in Excel template (.xlsx), "
                "or CSV, JSON, SDMX and DHIS2 files."
            )
            % {"file": file.filename},
            code="unsupported_media_type",
            status=415,
            hint=gettext("Open it in Excel and save it as an Excel Workbook (.xlsx), then upload it again.")
            if suffix in _OTHER_SPREADSHEETS
            else gettext("Download the template above, copy the figures into it, save it as .xlsx and upload that."),
        )
        return _refused(request, session, user, problem)
    limit = request.app.state.settings.max_submission_bytes
    if file.size is not None and file.size > limit:
        return _too_large(request, session, user, limit)  # refused before the file is read into memory
    body = await file.read()
    if not body:
        problem = GovopsError(
            gettext("%(file)s is empty (0 bytes).") % {"file": file.filename},
            code="empty_file",
            hint=gettext("Save the filled-in template again in Excel, close it, and upload the saved file."),
        )
        return _refused(request, session, user, problem)
    incoming = _incoming(request, user, body, _BY_SUFFIX[suffix], file.filename, mapping, token=None)
    try:
        member = service.console_member(session=session, agency=user.agency)
        plan = submissions.plan(
            session=session, member=member, incoming=incoming, max_rows=request.app.state.settings.max_batch_rows
        )
        if not plan.accepted:
            # Rejected as any submission is: a receipt that lists every problem, nothing stored.
            return _submit(request, session, user, member, incoming)
        earlier = session.scalar(
            select(Submission)
            .where(
                Submission.member_id == member.id,
                Submission.body_sha256 == plan.body_sha256,
                Submission.status == "accepted",
            )
            .limit(1)
        )
        if earlier is not None and not plan.new and not plan.changed:
            return _receipt(request, session, user, earlier, replayed=True, file_name=file.filename)
        kept = previews.keep(session=session, user_id=user.id, member=member, incoming=incoming, plan=plan)
    except GovopsError as exc:
        session.rollback()
        return _refused(request, session, user, exc)
    return _preview(request, session, user, plan, token=kept.token, file_name=file.filename)


@router.post("/submit/confirm", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def confirm(request: Request, session: WriteSessionDep, user: Officer) -> Response:
    gettext = translations(locale_of(request)).gettext
    async with request.form() as form:
        token = str(form.get("token", ""))
    member = service.console_member(session=session, agency=user.agency)
    done = session.scalar(
        select(Submission).where(Submission.member_id == member.id, Submission.idempotency_key == _key(token))
    )
    if done is not None:  # confirmed already (a second click, a reload): its receipt
        return _receipt(request, session, user, done, replayed=True, file_name=done.file_name or "")
    kept = previews.find(session=session, token=token, user_id=user.id)
    if kept is None or kept.member_id != member.id:
        problem = GovopsError(
            gettext("This preview is no longer kept: it was cancelled, or 30 minutes went by."),
            code="preview_expired",
            status=410,
            hint=gettext("Upload the file again to see its preview, then confirm."),
        )
        return _refused(request, session, user, problem)
    incoming = _incoming(request, user, kept.body, kept.content_type, kept.file_name, kept.mapping, token=token)
    try:
        plan = submissions.plan(
            session=session, member=member, incoming=incoming, max_rows=request.app.state.settings.max_batch_rows
        )
        if plan.accepted and plan.digest != kept.plan_sha256:
            # The store moved since the preview (another upload, a revision): show what it would do now.
            kept.plan_sha256 = plan.digest
            session.flush()
            notice = gettext(
                "The stored values changed since the preview, so nothing was written. "
                "Here is what the file would do now: check it and confirm again."
            )
            return _preview(request, session, user, plan, token=token, file_name=kept.file_name, notice=notice)
        previews.drop(session=session, token=token, user_id=user.id)
        return _submit(request, session, user, member, incoming)
    except GovopsError as exc:
        session.rollback()
        return _refused(request, session, user, exc)


@router.post("/submit/cancel", dependencies=[Depends(verify_csrf)])
async def cancel(request: Request, session: WriteSessionDep, user: Officer) -> Response:
    async with request.form() as form:
        token = str(form.get("token", ""))
    previews.drop(session=session, token=token, user_id=user.id)
    return RedirectResponse("/submit", status_code=303)


def _key(token: str) -> str:
    """The idempotency key of a confirmed preview: confirming twice gives the first receipt."""
    return f"console:{token}"


def _incoming(
    request: Request,
    user: User,
    body: bytes,
    content_type: str,
    file_name: str,
    mapping: str | None,
    *,
    token: str | None,
) -> submissions.Incoming:
    digest = hashlib.sha256(body).hexdigest()
    return submissions.Incoming(
        body=body,
        content_type=content_type,
        # Only a confirmed preview is ever written, under its token's key; a rejection gets a key of its own.
        idempotency_key=_key(token) if token else f"console:{user.username}:{digest}:{previews.new_token()}",
        signature=None,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        ip=client_ip(request),
        mapping=mapping,
        user=user.username,
        file_name=file_name,
    )


def _submit(request: Request, session: Session, user: User, member: Member, incoming: submissions.Incoming) -> Response:
    settings = request.app.state.settings
    key = signing.server_key(settings.signing_key_file)
    found, replayed = submissions.submit(
        session=session, member=member, incoming=incoming, server_key=key, max_rows=settings.max_batch_rows
    )
    return _receipt(request, session, user, found, replayed=replayed, file_name=incoming.file_name or "")


def _receipt(
    request: Request, session: Session, user: User, found: Submission, *, replayed: bool, file_name: str
) -> Response:
    receipt = submissions.receipt(found)
    problems, warnings = submissions.stored_entries(found)
    context = {
        **_context(session, user),
        "receipt": receipt,
        "received_at": found.received_at,
        "problems": problems,
        "warnings": warnings,
        "replayed": replayed,
        "file_name": file_name,
    }
    status = 422 if found.status == "rejected" else 200 if replayed else 201
    return render(request, "submit.html", context, status_code=status)


def _refused(request: Request, session: Session, user: User, problem: GovopsError) -> Response:
    return render(request, "submit.html", {**_context(session, user), "problem": problem}, status_code=problem.status)


def _preview(
    request: Request,
    session: Session,
    user: User,
    plan: submissions.Plan,
    *,
    token: str,
    file_name: str,
    notice: str | None = None,
) -> Response:
    shown = [*plan.changed[:SHOWN_CHANGES], *plan.new[:SHOWN_CHANGES]]
    indicators = {
        code: (name_vi, name_en)
        for code, name_vi, name_en in session.execute(
            select(Indicator.code, Indicator.name_vi, Indicator.name_en).where(
                Indicator.code.in_({c.indicator for c in shown})
            )
        )
    }
    areas = dict(session.execute(select(Area.code, Area.name_vi).where(Area.code.in_({c.area for c in shown}))).all())
    context = {
        **_context(session, user),
        "plan": plan,
        "token": token,
        "file_name": file_name,
        "notice": notice,
        "indicator_names": indicators,
        "area_names": areas,
        "shown": SHOWN_CHANGES,
    }
    return render(request, "submit.html", context, status_code=409 if notice else 200)


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
    groups = service.writable_groups(session=session, member=member)
    people = {
        u.username: u.full_name
        for u in session.scalars(
            select(User).where(User.username.in_({s.submitted_by for s in recent} | {user.username}))
        )
    }
    return {
        "groups": groups,
        "year": date.today().year,
        "agency": user.agency,
        "mappings": list_mappings(session=session),
        "recent": recent,
        "people": people,
        "console_member": member,
    }
