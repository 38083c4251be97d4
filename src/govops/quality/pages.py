"""Data quality in the console: the dashboard, a flag's page (its value on its series with the expected band, the
check that fired, the follow-up), the scorecards' league table and the rules.

Every signed-in user reads (flags on indicators their role may read); the source agency's officers confirm or
dispute a flag; the Government Office closes or dismisses it and sets the rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from govops.auth.models import User
from govops.errors import GovopsError, lazy_gettext
from govops.i18n import translations
from govops.quality import scorecards, service
from govops.quality.facts import indicator_facts
from govops.quality.flags import Names
from govops.quality.models import METHODS, SEVERITIES, STATUSES
from govops.quality.schemas import RuleIn
from govops.web.access import Reader, readable
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import SignedInUser, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

METHOD_LABELS = {
    "rule": lazy_gettext("Validation rule"),
    "unit_slip": lazy_gettext("Unit slip"),
    "sign_error": lazy_gettext("Sign error"),
    "digit_swap": lazy_gettext("Digits swapped"),
    "outlier": lazy_gettext("Outlier against its season"),
    "frozen": lazy_gettext("Frozen value"),
    "level_shift": lazy_gettext("Level shift"),
    "negative": lazy_gettext("Negative count"),
    "revision": lazy_gettext("Large revision"),
}
STATUS_LABELS = {
    "open": lazy_gettext("Awaiting an answer"),
    "confirmed": lazy_gettext("Confirmed by the agency"),
    "corrected": lazy_gettext("Corrected"),
    "dismissed": lazy_gettext("Dismissed"),
}
SEVERITY_LABELS = {"high": lazy_gettext("High"), "medium": lazy_gettext("Medium"), "low": lazy_gettext("Low")}
ACTION_LABELS = {
    "raised": lazy_gettext("Raised"),
    "confirmed": lazy_gettext("Value confirmed"),
    "disputed": lazy_gettext("Check disputed"),
    "corrected": lazy_gettext("Value corrected"),
    "closed": lazy_gettext("Flag closed"),
    "dismissed": lazy_gettext("Dismissed"),
}
DIMENSION_LABELS = {
    "completeness": lazy_gettext("Completeness"),
    "timeliness": lazy_gettext("Timeliness"),
    "internal_consistency": lazy_gettext("Internal consistency"),
    "external_consistency": lazy_gettext("External consistency"),
    "consistency_over_time": lazy_gettext("Consistency over time"),
    "related_indicators": lazy_gettext("Related indicators"),
    "denominators": lazy_gettext("Denominators"),
    "source_agreement": lazy_gettext("Agreement of sources"),
}
KIND_LABELS = {
    "agency": lazy_gettext("Agencies"),
    "group": lazy_gettext("Indicator groups"),
    "province": lazy_gettext("Provinces"),
}
RAISED_BY = {"submission": lazy_gettext("on submission"), "scan": lazy_gettext("by the scan")}
OPERATOR_LABELS = {
    "compulsory_pair": lazy_gettext("both or neither"),
    "exclusive_pair": lazy_gettext("not both"),
}
LABELS = {
    "method": METHOD_LABELS,
    "status": STATUS_LABELS,
    "severity": SEVERITY_LABELS,
    "action": ACTION_LABELS,
    "dimension": DIMENSION_LABELS,
    "kind": KIND_LABELS,
    "operator": OPERATOR_LABELS,
    "raised_by": RAISED_BY,
}
# The charts' series, named in the reader's language.
RAISED = lazy_gettext("Flags raised")
STILL_OPEN = lazy_gettext("Of which still open")
LOWEST = lazy_gettext("Lowest expected")
HIGHEST = lazy_gettext("Highest expected")
# What the flag page says under its chart: the band drawn is the one the check that fired judged the value against;
# the checks that judge no band say what they judge instead.
BAND_NOTE = lazy_gettext(
    "The band is the one the check judged the value against: the series' trend and its season, with any slip put "
    "right and any step in its level taken into account."
)
NO_BAND_NOTES = {
    "level_shift": lazy_gettext(
        "The band carries on the level before the step, with the series' trend and its season: the values from the "
        "flagged period on stand outside it."
    ),
    "frozen": lazy_gettext("A frozen value is judged by no band: the same figure was sent several periods in a row."),
    "rule": lazy_gettext("A rule is judged by no band: it compares the two sides shown above."),
    "revision": lazy_gettext("A revision is judged by no band: it is compared with the figure published before it."),
    "negative": lazy_gettext("A count is judged by no band: it is never below zero."),
}
TOO_SHORT = lazy_gettext("The series has too few values to draw the band.")
ReaderDep = Annotated[Reader, Depends(readable)]


def _caller(user: User) -> service.Caller:
    return service.Caller(
        user.username, user.agency_id, user.agency.code, user.agency.kind == service.GOVERNMENT_OFFICE
    )


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, template, {"labels": LABELS, **context}, status_code=status_code)


def _readable(session: SessionDep, reader: Reader) -> frozenset[int]:
    return frozenset(i.id for i in indicator_facts(session).values() if reader.may_read(i.code, i.classification))


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@router.get("/quality", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    reader: ReaderDep,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    indicator: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=12)] = None,
    severity: Annotated[str | None, Query(max_length=8)] = None,
    method: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """Flags by severity and agency, raised month by month, and the list to follow up."""
    where = service.FlagFilter(
        agency=agency or None,
        indicator=indicator or None,
        status=_choice(status, STATUSES),
        severity=_choice(severity, SEVERITIES),
        method=_choice(method, METHODS),
        indicators=_readable(session, reader),
    )
    page = service.list_flags(session=session, where=where, cursor=cursor or None, limit=30)
    counted = service.counts(session=session, where=service.FlagFilter(indicators=where.indicators))
    months = service.raised_by_month(session=session)
    words = translations(locale_of(request)).gettext
    chart = {
        "locale": locale_of(request),
        "unit": "",
        "series": [
            {"name": words(RAISED), "points": [[m, n] for m, n, _ in months]},
            {"name": words(STILL_OPEN), "points": [[m, o] for m, _, o in months]},
        ],
    }
    return _page(
        request,
        "quality/dashboard.html",
        {
            "page": page,
            "counts": counted,
            "chart": chart,
            "filters": where,
            "statuses": STATUSES,
            "severities": SEVERITIES,
            "methods": METHODS,
            "agencies_open": sorted(counted["agency"].items(), key=lambda kv: -kv[1]),
        },
    )


@router.get("/quality/flags/{flag_id}", response_class=HTMLResponse)
def flag_page(request: Request, session: SessionDep, user: SignedInUser, reader: ReaderDep, flag_id: int) -> Response:
    return _flag(request, session, user, reader, flag_id)


def _flag(
    request: Request,
    session: SessionDep,
    user: User,
    reader: Reader,
    flag_id: int,
    error: GovopsError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    flag = service.get_flag(session=session, flag_id=flag_id)
    facts = indicator_facts(session)
    out = service.flag_out(flag, Names.read(session, [flag]))
    if not reader.may_read(out.indicator, facts[out.indicator].classification):
        raise service.not_found(flag_id)
    drawn = service.flag_series(session=session, flag=flag)
    words = translations(locale_of(request)).gettext
    # A log scale shows a value a thousand times off beside its band; without a band, the values' own scale.
    positive = bool(drawn.low) and all(v is None or v > 0 for _, v in drawn.values) and all(v > 0 for _, v in drawn.low)
    chart = {
        "locale": locale_of(request),
        "unit": facts[out.indicator].unit,
        "log": positive,
        "series": [
            {"name": out.indicator, "points": drawn.values, "reported": [out.period]},
            *(
                [{"name": words(LOWEST), "points": drawn.low}, {"name": words(HIGHEST), "points": drawn.high}]
                if drawn.low
                else []
            ),
        ],
    }
    who = _caller(user)
    return _page(
        request,
        "quality/flag.html",
        {
            "flag": out,
            "rule": service.get_rule(session=session, code=out.rule) if out.rule else None,
            "indicator": service.indicator_names(session=session, code=out.indicator),
            "timeline": service.timeline(session=session, flag_id=flag.id),
            "chart": chart,
            "band_note": words(_band_note(out.method, banded=bool(drawn.low))),
            "mine": who.agency_code == out.agency and user.role in ("data_officer", "administrator"),
            "office": who.government_office and user.role in ("analyst", "administrator"),
            "error": error,
        },
        status_code=status_code,
    )


def _band_note(method: str, *, banded: bool) -> str:
    """The message id of what the flag page says under its chart."""
    if method in NO_BAND_NOTES and (method != "level_shift" or banded):
        return NO_BAND_NOTES[method]
    return BAND_NOTE if banded else TOO_SHORT


@router.post("/quality/flags/{flag_id:int}/resolution", dependencies=[Depends(verify_csrf)])
def resolve_form(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    reader: ReaderDep,
    flag_id: int,
    action: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """The follow-up's buttons: confirm or dispute (the agency), close or dismiss (the Government Office)."""
    try:
        if action not in ("confirm", "dispute", "close", "dismiss"):
            raise GovopsError.of(
                "invalid_action",
                lazy_gettext("%(action)s is not an answer to a flag"),
                lazy_gettext("use one of the buttons"),
                action=action[:20],
            )
        flag = service.resolve(session=session, flag_id=flag_id, action=action, reason=reason, who=_caller(user))
    except GovopsError as error:
        session.rollback()
        return _flag(request, session, user, reader, flag_id, error=error, status_code=error.status)
    record_request(
        session=session,
        request=request,
        action=f"quality.flag.{action}",
        target=str(flag.id),
        detail={"status": flag.status, "reason": reason[:500]},
    )
    return RedirectResponse(f"/quality/flags/{flag.id}", status_code=303)


@router.get("/quality/scorecards", response_class=HTMLResponse)
def scorecards_page(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    kind: Annotated[str, Query(max_length=10)] = "agency",
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    """The league table on the four WHO dimensions, for a period, of agencies, indicator groups or provinces."""
    kind = kind if kind in scorecards.KINDS else "agency"
    error = None
    try:
        cards = scorecards.scorecards(session=session, kind=kind, period=period or None)
    except GovopsError as refused:
        error = refused
        cards = scorecards.scorecards(session=session, kind=kind)
    return _page(
        request,
        "quality/scorecards.html",
        {"cards": cards, "kind": kind, "kinds": scorecards.KINDS, "thresholds": scorecards.THRESHOLDS, "error": error},
    )


@router.get("/quality/rules", response_class=HTMLResponse)
def rules_page(request: Request, session: SessionDep, user: SignedInUser) -> HTMLResponse:
    return _rules(request, session, user)


def _rules(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    error: GovopsError | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    who = _caller(user)
    return _page(
        request,
        "quality/rules.html",
        {
            "rules": service.list_rules(session=session),
            "office": who.government_office and user.role in ("analyst", "administrator"),
            "error": error,
            "form": form or {},
        },
        status_code=status_code,
    )


@router.post("/quality/rules", dependencies=[Depends(verify_csrf)])
def save_rule_form(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    code: Annotated[str, Form(max_length=60)],
    name_vi: Annotated[str, Form(max_length=300)],
    name_en: Annotated[str, Form(max_length=300)],
    left: Annotated[str, Form(max_length=2000)],
    operator: Annotated[str, Form(max_length=16)],
    right: Annotated[str, Form(max_length=2000)],
    tolerance: Annotated[str, Form(max_length=20)] = "0",
    importance: Annotated[str, Form(max_length=8)] = "medium",
    area_level: Annotated[str, Form(max_length=10)] = "any",
    blocking: Annotated[str | None, Form(max_length=3)] = None,
) -> Response:
    """Create or update one rule (the Government Office); a rule the catalogue refuses is shown again with why."""
    form: dict[str, Any] = {
        "code": code,
        "name_vi": name_vi,
        "name_en": name_en,
        "left": left,
        "operator": operator,
        "right": right,
        "tolerance": tolerance,
        "importance": importance,
        "area_level": area_level,
        "blocking": bool(blocking),
    }
    try:
        service.require_government_office(_caller(user))
        try:
            data = RuleIn.model_validate({**form, "code": code.strip().upper(), "tolerance": float(tolerance or 0)})
        except (ValidationError, ValueError):
            raise GovopsError.of(
                "invalid_rule",
                lazy_gettext("the rule %(rule)s has a field that is missing or not allowed"),
                lazy_gettext("a code in capitals, both names, both sides, an operator and a tolerance between 0 and 1"),
                rule=code[:60],
            ) from None
        saved = service.save_rules(session=session, rules=[data], by=user.username, where="form")
    except GovopsError as error:
        session.rollback()
        return _rules(request, session, user, error=error, form=form, status_code=error.status)
    record_request(session=session, request=request, action="quality.rules.saved", target=saved[0].code)
    return RedirectResponse("/quality/rules", status_code=303)
