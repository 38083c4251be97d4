"""Mappings in the console: /admin/mappings lists them; each is edited as YAML and checked before it is saved."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from govops.auth.models import User
from govops.errors import GovopsError
from govops.interop.mapping.service import KINDS, get_mapping, list_mappings, save_mapping
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import Administrator, verify_csrf
from govops.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False)

_EXAMPLE = """# SDMX: which series of a dataflow become which govops indicator, area and breakdown.
dataflow: EXR
series:
  - match: {FREQ: M, CURRENCY: USD, CURRENCY_DENOM: EUR}
    indicator: FX_USD_EUR
    area: VN
"""


@router.get("/mappings", response_class=HTMLResponse)
def mappings(request: Request, session: SessionDep, admin: Administrator, name: str | None = None) -> HTMLResponse:
    values = {"name": "", "kind": "sdmx", "text": _EXAMPLE}
    if name:
        found = get_mapping(session=session, name=name)
        values = {"name": found.name, "kind": found.kind, "text": found.text}
    context = {"mappings": list_mappings(session=session), "kinds": KINDS, "values": values, "editing": bool(name)}
    return render(request, "admin/mappings.html", context)


@router.post("/mappings", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def save(request: Request, session: WriteSessionDep, admin: Administrator) -> Response:
    async with request.form() as form:
        return await _save(request, session, admin, form)


async def _save(request: Request, session: Session, admin: User, form: FormData) -> Response:
    values = {k: str(form.get(k, "")) for k in ("name", "kind", "text")}
    upload = form.get("structure")
    structure = None
    if isinstance(upload, UploadFile) and upload.filename:
        # An empty file input still arrives as a part; only a file with something in it replaces the structure.
        structure = (await upload.read()).decode("utf-8", errors="replace") or None
    try:
        kept = None if structure is not None or not values["name"] else _kept_structure(session, values["name"])
        save_mapping(
            session=session,
            name=values["name"].strip(),
            kind=values["kind"],
            text=values["text"],
            structure=structure if structure is not None else kept,
            by=admin.username,
        )
    except GovopsError as exc:
        session.rollback()
        context = {
            "mappings": list_mappings(session=session),
            "kinds": KINDS,
            "values": values,
            "editing": True,
            "problem": exc,
        }
        return render(request, "admin/mappings.html", context, status_code=exc.status)
    record_request(session=session, request=request, action="mapping.save", target=values["name"].strip())
    return RedirectResponse(f"/admin/mappings?name={values['name'].strip()}&saved=1", status_code=303)


def _kept_structure(session: Session, name: str) -> str | None:
    """A mapping saved again without a new structure file keeps the one it had."""
    try:
        return get_mapping(session=session, name=name).structure
    except GovopsError:
        return None
