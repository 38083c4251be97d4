"""Administration pages: the indicator catalogue, groups and users, for administrators only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from govops.auth.models import User
from govops.auth.service import ROLES, create_user, list_users
from govops.auth.web import csrf_token, require_role, verify_csrf
from govops.catalog.models import Agency, IndicatorGroup, Unit
from govops.catalog.schemas import CatalogueDoc, GroupDoc, IndicatorDoc
from govops.catalog.service import export_catalogue, get_indicator, import_catalogue
from govops.errors import GovopsError, Problem
from govops.periods import Freq
from govops.warehouse.validation import problems_from_validation
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.templating import render

Administrator = Annotated[User, Depends(require_role("administrator"))]
router = APIRouter(prefix="/admin", include_in_schema=False)

INDICATOR_FIELDS = (
    "code",
    "name_vi",
    "name_en",
    "definition_vi",
    "definition_en",
    "unit",
    "periodicity",
    "area_aggregation",
    "area_weight",
    "time_aggregation",
    "owner",
    "classification",
    "higher_is_better",
    "decimals",
    "formula",
)


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    request.state.csrf_token = csrf_token(request)
    return render(request, template, context, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def admin_home(request: Request, session: SessionDep, admin: Administrator) -> HTMLResponse:
    doc = export_catalogue(session=session)
    return _page(request, "admin/home.html", {"doc": doc, "users": list_users(session=session)})


def _choices(session: SessionDep) -> dict[str, Any]:
    return {
        "units": list(session.scalars(select(Unit).order_by(Unit.code))),
        "agencies": list(session.scalars(select(Agency).order_by(Agency.code))),
        "groups": list(session.scalars(select(IndicatorGroup).order_by(IndicatorGroup.code))),
        "freqs": [f.value for f in Freq],
        "roles": ROLES,
    }


@router.get("/indicators/{code}", response_class=HTMLResponse)
def indicator_form(request: Request, session: SessionDep, admin: Administrator, code: str) -> HTMLResponse:
    doc = export_catalogue(session=session)
    if code == "new":
        item: dict[str, Any] = {
            "code": "",
            "periodicity": "M",
            "area_aggregation": "sum",
            "time_aggregation": "sum",
            "classification": "public",
            "decimals": 1,
            "groups": [],
            "owner": "NSO",
        }
    else:
        found = next((i for i in doc.indicators if i.code == code), None)
        if found is None:
            raise GovopsError(f"no indicator with code {code!r}", code="not_found", status=404)
        item = found.model_dump(mode="json")
    return _page(request, "admin/indicator.html", {"item": item, "is_new": code == "new", **_choices(session)})


@router.post("/indicators/{code}", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def indicator_save(request: Request, session: WriteSessionDep, admin: Administrator, code: str) -> Response:
    form = await request.form()
    data: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in INDICATOR_FIELDS}
    data["groups"] = [str(g) for g in form.getlist("groups")]
    # The form does not edit dimensions; an existing indicator keeps its own (and must exist).
    data["dimensions"] = [] if code == "new" else get_indicator(session=session, code=code).dimension_codes
    data["higher_is_better"] = {"true": True, "false": False}.get(data["higher_is_better"])
    for optional in ("area_weight", "formula"):
        data[optional] = data[optional] or None
    if code != "new":
        data["code"] = code
    problems: list[Problem] = []
    try:
        doc = CatalogueDoc(indicators=[IndicatorDoc.model_validate(data)])
        import_catalogue(session=session, doc=doc, where="form")
    except ValidationError as exc:
        problems = problems_from_validation(exc, row=None)
    except GovopsError as exc:
        problems = exc.problems or [Problem(exc.message, hint=exc.hint)]
    if problems:
        session.rollback()
        return _page(
            request,
            "admin/indicator.html",
            {"item": data, "is_new": code == "new", "problems": problems, **_choices(session)},
            status_code=422,
        )
    session.commit()
    return RedirectResponse(f"/explorer/{data['code']}", status_code=303)


@router.post("/groups", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def group_save(request: Request, session: WriteSessionDep, admin: Administrator) -> Response:
    form = await request.form()
    data = {k: str(form.get(k, "")).strip() for k in ("code", "kind", "name_vi", "name_en")}
    try:
        import_catalogue(session=session, doc=CatalogueDoc(groups=[GroupDoc.model_validate(data)]), where="form")
    except ValidationError as exc:
        session.rollback()
        raise GovopsError(
            "the group is not valid: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems_from_validation(exc, row=None)),
            status=422,
        ) from None
    session.commit()
    return RedirectResponse("/admin", status_code=303)


@router.post("/users", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def user_create(request: Request, session: WriteSessionDep, admin: Administrator) -> Response:
    form = await request.form()
    data = {k: str(form.get(k, "")).strip() for k in ("username", "full_name", "agency", "role", "password")}
    try:
        create_user(
            session=session,
            username=data["username"],
            password=str(form.get("password", "")),
            full_name=data["full_name"],
            agency=data["agency"],
            role=data["role"],
        )
    except GovopsError:
        session.rollback()
        raise
    session.commit()
    return RedirectResponse("/admin#users", status_code=303)
