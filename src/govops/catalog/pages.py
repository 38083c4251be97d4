"""Administration pages: the indicator catalogue, groups and users, for administrators only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User, UserSession
from govops.auth.service import (
    LANGUAGES,
    ROLES,
    create_user,
    get_user,
    list_users,
    recorder_of,
    set_password,
    update_user,
)
from govops.catalog.models import Agency, Codelist, IndicatorGroup, Unit
from govops.catalog.schemas import CatalogueDoc, GroupDoc, IndicatorDoc
from govops.catalog.service import (
    CatalogueRefused,
    PlannedChange,
    export_catalogue,
    get_indicator,
    import_catalogue,
    unknown_indicator,
)
from govops.db.base import utcnow
from govops.errors import GovopsError, Problem
from govops.i18n import number, translations
from govops.notify.kinds import PASSWORD_CHANGED
from govops.notify.service import notify
from govops.periods import Freq
from govops.warehouse.rollup import refresh_stale
from govops.warehouse.validation import problems_from_validation
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import Administrator, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)

USER_FIELDS = ("full_name", "agency", "role", "language", "active")
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


@router.get("", response_class=HTMLResponse)
def admin_home(request: Request, session: SessionDep, admin: Administrator) -> HTMLResponse:
    doc = export_catalogue(session=session)
    return render(request, "admin/home.html", {"doc": doc, "users": list_users(session=session)})


def _choices(session: SessionDep) -> dict[str, Any]:
    return {
        "units": list(session.scalars(select(Unit).order_by(Unit.code))),
        "codelists": list(session.scalars(select(Codelist).order_by(Codelist.code))),
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
            raise unknown_indicator(code)
        item = found.model_dump(mode="json")
    return render(request, "admin/indicator.html", {"item": item, "is_new": code == "new", **_choices(session)})


@router.post("/indicators/{code}", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def indicator_save(request: Request, session: WriteSessionDep, admin: Administrator, code: str) -> Response:
    form = await request.form()
    data: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in INDICATOR_FIELDS}
    data["groups"] = [str(g) for g in form.getlist("groups")]
    if "dimensions" in form:
        data["dimensions"] = [d for d in str(form["dimensions"]).replace(",", " ").split() if d]
    else:  # a form without the field keeps an existing indicator's dimensions (and the indicator must exist)
        data["dimensions"] = [] if code == "new" else get_indicator(session=session, code=code).dimension_codes
    for words in ("keywords_vi", "keywords_en"):
        if words in form:
            data[words] = [w.strip() for w in str(form[words]).split(",") if w.strip()]
        else:  # as with dimensions: a form without the field keeps what the indicator has
            data[words] = [] if code == "new" else getattr(get_indicator(session=session, code=code), words)
    data["higher_is_better"] = {"true": True, "false": False}.get(data["higher_is_better"])
    if "crosses_zero" in form:  # a hidden "false" before the checkbox: the field is there whenever the form is
        data["crosses_zero"] = "true" in form.getlist("crosses_zero")
    elif code != "new":
        data["crosses_zero"] = get_indicator(session=session, code=code).crosses_zero
    for optional in ("area_weight", "formula"):
        data[optional] = data[optional] or None
    if code != "new":
        data["code"] = code
    problems: list[Problem] = []
    try:
        doc = CatalogueDoc(indicators=[IndicatorDoc.model_validate(data)])
        summary = import_catalogue(session=session, doc=doc, recorded_by=recorder_of(admin), where="form")
        refresh_stale(session=session)
        record_request(
            session=session,
            request=request,
            action="indicator.save",
            target=data["code"],
            detail={"new": code == "new", **summary.as_counts()},
        )
    except ValidationError as exc:
        problems = problems_from_validation(exc, row=None)
    except CatalogueRefused as exc:
        locale = locale_of(request)
        refusals = {}
        for change in exc.plan.refused:
            refusal = refusal_problem(change, locale)
            refusals[(refusal.field, refusal.message)] = refusal
        problems = exc.plan.reference_problems + list(refusals.values())
    except GovopsError as exc:
        problems = exc.problems or [Problem(exc.message, hint=exc.hint)]
    if problems:
        session.rollback()
        return render(
            request,
            "admin/indicator.html",
            {"item": data, "is_new": code == "new", "problems": problems, **_choices(session)},
            status_code=422,
        )
    return RedirectResponse(f"/explorer/{data['code']}", status_code=303)


def refusal_problem(change: PlannedChange, locale: str) -> Problem:
    """A change refused because stored observations use what it changes, in the reader's language."""
    tr = translations(locale)
    words = {
        "indicator": change.indicator or "",
        "count": number(change.observations, locale, 0),
        "code": change.code,
        "codelist": change.codelist or "",
        "before": change.before or tr.gettext("none"),
        "after": change.after or tr.gettext("none"),
    }
    n = change.observations
    plain = change.problem()
    if change.kind == "code":
        message = tr.ngettext(
            "Code %(code)s of %(codelist)s is used by %(count)s observation of %(indicator)s.",
            "Code %(code)s of %(codelist)s is used by %(count)s observations of %(indicator)s.",
            n,
        )
        hint = tr.gettext("Keep it in the code list, or delete those observations first.")
    elif change.kind == "unit":
        message = tr.ngettext(
            "Unit %(code)s is used by %(count)s observation of %(indicator)s; "
            "its size or quantity cannot change from %(before)s to %(after)s.",
            "Unit %(code)s is used by %(count)s observations of %(indicator)s; "
            "its size or quantity cannot change from %(before)s to %(after)s.",
            n,
        )
        hint = tr.gettext("Keep the unit as it is and add a new unit for new indicators.")
    elif change.kind == "dimension":
        message = tr.ngettext(
            "%(indicator)s holds %(count)s observation keyed by [%(before)s]; "
            "its dimensions cannot change to [%(after)s].",
            "%(indicator)s holds %(count)s observations keyed by [%(before)s]; "
            "its dimensions cannot change to [%(after)s].",
            n,
        )
        hint = tr.gettext("Keep the dimensions, or create a new indicator with the new dimensions.")
    elif change.fields == ("periodicity",):
        message = tr.ngettext(
            "%(indicator)s holds %(count)s observation of frequency %(before)s; it cannot change to %(after)s.",
            "%(indicator)s holds %(count)s observations of frequency %(before)s; it cannot change to %(after)s.",
            n,
        )
        hint = tr.gettext("Keep the frequency, or create a new indicator for the new frequency.")
    elif change.fields == ("unit",):
        message = tr.ngettext(
            "%(indicator)s holds %(count)s observation in unit %(before)s; it cannot change to %(after)s.",
            "%(indicator)s holds %(count)s observations in unit %(before)s; it cannot change to %(after)s.",
            n,
        )
        hint = tr.gettext("Keep the unit, or create a new indicator for the new unit.")
    else:
        message = tr.ngettext(
            "%(indicator)s holds %(count)s stored observation; it cannot become derived by a formula.",
            "%(indicator)s holds %(count)s stored observations; it cannot become derived by a formula.",
            n,
        )
        hint = tr.gettext("Keep it without a formula, or create a new derived indicator.")
    return Problem(message % words, field=plain.field, value=plain.value, hint=hint)


@router.post("/groups", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def group_save(request: Request, session: WriteSessionDep, admin: Administrator) -> Response:
    form = await request.form()
    data = {k: str(form.get(k, "")).strip() for k in ("code", "kind", "name_vi", "name_en")}
    try:
        summary = import_catalogue(
            session=session,
            doc=CatalogueDoc(groups=[GroupDoc.model_validate(data)]),
            recorded_by=recorder_of(admin),
            where="form",
        )
    except ValidationError as exc:  # nothing written stays: the unit of work rolls back
        raise GovopsError(
            "the group is not valid: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems_from_validation(exc, row=None)),
            status=422,
        ) from None
    record_request(
        session=session, request=request, action="group.save", target=data["code"], detail=summary.as_counts()
    )
    return RedirectResponse("/admin", status_code=303)


@router.post("/users", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def user_create(request: Request, session: WriteSessionDep, admin: Administrator) -> Response:
    form = await request.form()
    data = {k: str(form.get(k, "")).strip() for k in ("username", "full_name", "agency", "role", "password")}
    created = create_user(
        session=session,
        username=data["username"],
        password=str(form.get("password", "")),
        full_name=data["full_name"],
        agency=data["agency"],
        role=data["role"],
    )
    record_request(
        session=session,
        request=request,
        action="user.create",
        target=created.username,
        detail={"agency": created.agency.code, "role": created.role},
    )
    return RedirectResponse("/admin#users", status_code=303)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "agency": user.agency.code,
        "role": user.role,
        "language": user.language,
        "active": "true" if user.active else "false",
    }


def _user_page(
    request: Request,
    session: Session,
    account: User,
    *,
    values: dict[str, Any] | None = None,
    problems: list[Problem] | None = None,
    password_problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    stored = _user_values(account)
    agencies = list(session.scalars(select(Agency).order_by(Agency.code)))
    shown = {**stored, **(values or {})}
    # A choice that is not on offer would leave its list on the first option: show the stored one instead.
    offered = {
        "agency": {a.code for a in agencies},
        "role": set(ROLES),
        "language": set(LANGUAGES),
        "active": {"true", "false"},
    }
    for field, choices in offered.items():
        if shown[field] not in choices:
            shown[field] = stored[field]
    context = {
        "account": account,
        "values": shown,
        "problems": problems or [],
        "password_problems": password_problems or [],
        "saved": request.query_params.get("saved"),
        "agencies": agencies,
        "roles": ROLES,
        "languages": LANGUAGES,
    }
    return render(request, "admin/user.html", context, status_code=status_code)


def _problems_of(exc: GovopsError) -> list[Problem]:
    return exc.problems or [Problem(exc.message, hint=exc.hint)]


@router.get("/users/{username}", response_class=HTMLResponse)
def user_form(request: Request, session: SessionDep, admin: Administrator, username: str) -> HTMLResponse:
    return _user_page(request, session, get_user(session=session, username=username))


@router.post("/users/{username}", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def user_save(request: Request, session: WriteSessionDep, admin: Administrator, username: str) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in USER_FIELDS}
    account = get_user(session=session, username=username)
    name = account.username
    before = _user_values(account)
    gettext = translations(locale_of(request)).gettext
    problems: list[Problem] = []
    active = {"true": True, "false": False}.get(values["active"])
    if active is None:
        problems.append(Problem(gettext("Choose whether the user is active or disabled."), field="active"))
    if account.id == admin.id:
        # Whoever administers must not lock themself out: another administrator has to do that.
        if active is False:
            problems.append(
                Problem(
                    gettext("You cannot disable your own account."),
                    field="active",
                    hint=gettext("Ask another administrator to do it."),
                )
            )
        if values["role"] != "administrator":
            problems.append(
                Problem(
                    gettext("You cannot remove your own administrator role."),
                    field="role",
                    hint=gettext("Ask another administrator to do it."),
                )
            )
    if not problems:
        try:
            update_user(
                session=session,
                username=name,
                full_name=values["full_name"],
                agency=values["agency"],
                role=values["role"],
                language=values["language"],
                active=bool(active),
            )
        except GovopsError as exc:
            problems = _problems_of(exc)
    if problems:
        session.rollback()
        return _user_page(
            request,
            session,
            get_user(session=session, username=name),
            values=values,
            problems=problems,
            status_code=422,
        )
    after = _user_values(account)
    changes = {field: [before[field], after[field]] for field in USER_FIELDS if before[field] != after[field]}
    if changes:
        record_request(session=session, request=request, action="user.update", target=name, detail={"changes": changes})
    return RedirectResponse(f"/admin/users/{name}?saved=user", status_code=303)


@router.post("/users/{username}/password", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def user_password(request: Request, session: WriteSessionDep, admin: Administrator, username: str) -> Response:
    form = await request.form()
    password, again = str(form.get("password", "")), str(form.get("password_again", ""))
    account = get_user(session=session, username=username)
    name = account.username
    gettext = translations(locale_of(request)).gettext
    problems: list[Problem] = []
    if password != again:
        problems.append(
            Problem(
                gettext("The two passwords differ."),
                field="password",
                hint=gettext("Type the same new password in both fields."),
            )
        )
    else:
        # An administrator changing their own password stays signed in here; every other session ends.
        own: UserSession | None = getattr(request.state, "user_session", None) if account.id == admin.id else None
        try:
            set_password(session=session, username=name, password=password, keep=own)
        except GovopsError as exc:
            problems = _problems_of(exc)
    if problems:
        session.rollback()
        return _user_page(
            request, session, get_user(session=session, username=name), password_problems=problems, status_code=422
        )
    record_request(session=session, request=request, action="user.password", target=name)
    # The person is told, in their language and by e-mail: a change they did not ask for is a break-in.
    notify(
        session=session,
        recipients=[account.id],
        kind=PASSWORD_CHANGED.name,
        params={"username": name, "at": f"{utcnow():%Y-%m-%d %H:%M} UTC", "by": admin.username},
    )
    return RedirectResponse(f"/admin/users/{name}?saved=password", status_code=303)
