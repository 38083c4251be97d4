"""Reporting in the console: the compliance board, an agency's page, a regime's page, a report's page (its
revisions after the lock and its signed document, filed here by the agency's data officer), what an agency owes
this round, and the import of regime files by an administrator (previewed, then confirmed).

The board is agencies x the last 12 periods, each cell a colour and a symbol per status (worst agencies first),
filtered by regime and agency kind; every text in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from govops.auth.models import User
from govops.catalog.models import Agency
from govops.errors import GovopsError, Rejected, lazy_gettext
from govops.i18n import translations
from govops.reporting import service
from govops.reporting.rules import describe
from govops.web.auditing import record_request
from govops.web.console import ViewerDep
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import require_role, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(prefix="/reporting", include_in_schema=False)

STATUS_LABELS = {
    "on_time": lazy_gettext("On time"),
    "late": lazy_gettext("Late"),
    "partial": lazy_gettext("Partial"),
    "missing": lazy_gettext("Missing"),
    "not_due": lazy_gettext("Not due"),
}
KINDS = {
    "provincial_committee": lazy_gettext("provincial people's committees"),
    "ministry": lazy_gettext("ministries"),
    "ministerial_agency": lazy_gettext("ministerial agencies"),
    "government_agency": lazy_gettext("government agencies"),
    "state_group": lazy_gettext("state groups"),
}


def _common(request: Request) -> dict[str, Any]:
    gettext = translations(locale_of(request)).gettext
    return {
        "symbol": service.SYMBOL,
        "statuses": list(service.SYMBOL),
        "status_label": {status: gettext(label) for status, label in STATUS_LABELS.items()},
        "kind_label": {k: gettext(v) for k, v in KINDS.items()},
        "rule": lambda text: describe(text, gettext),
    }


@router.get("", response_class=HTMLResponse)
def board_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    regime: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """Agencies x periods, worst first."""
    regimes = service.all_regimes(session=session)
    chosen = regime if regime in {r.code for r in regimes} else None
    where = service.Filter(regime=chosen, kind=kind if kind in KINDS else None)
    periods = service.recent_periods(session=session, where=where)
    rows = service.board(session=session, periods=periods, where=where)
    return render(
        request,
        "reporting/board.html",
        _common(request)
        | {
            "regimes": regimes,
            "regime": chosen,
            "kinds": KINDS,
            "kind": kind if kind in KINDS else None,
            "periods": periods,
            "rows": rows,
            "candidates": service.abolition_candidates(session=session, regimes=regimes),
            "marks": _marks(request),
        },
    )


def _marks(request: Request) -> Callable[[service.Cell], Markup]:
    """A board cell's marks: for each status, its colour and symbol, the number of reports when more than one, and
    its name on hover and for screen readers. Made here, once per status, rather than by the template for each of
    the board's thousands of marks."""
    gettext = translations(locale_of(request)).gettext
    parts = {}
    for status, symbol in service.SYMBOL.items():
        label = escape(gettext(STATUS_LABELS[status]))
        parts[status] = (
            f'<span class="rs rs-{status}" title="{label}" data-status="{status}">{symbol}',
            f'<span class="visually-hidden"> {label}</span></span>',
        )

    def marks(cell: service.Cell) -> Markup:
        return Markup(
            "".join(
                f"{parts[status][0]}{f'<small>{n}</small>' if n > 1 else ''}{parts[status][1]}"
                for status, n in cell.counts
            )
        )

    return marks


def _due(request: Request, session: Session, user: User, agency: Agency) -> dict[str, Any]:
    """What the "due this period" list needs: the reports `agency` owes, its indicators' names in the reader's
    language, and whether `user` may act on them (the agency's own data officer, or an administrator)."""
    due = service.due_for(session=session, agency=agency)
    return {
        "agency": agency,
        "due": due,
        "indicator_label": _indicator_label(request, session, [code for d in due for code in d.missing]),
        "own_area": agency.area.code if agency.area is not None else None,
        "may_submit": user.role == "administrator" or (user.role == "data_officer" and user.agency_id == agency.id),
        "lookback": service.DUE_LOOKBACK_DAYS,
    }


@router.get("/due", response_class=HTMLResponse)
def due_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    agency: Annotated[str | None, Query(max_length=32, description="for analysts and administrators")] = None,
) -> HTMLResponse:
    """What the signed-in person's agency owes this round (an analyst or administrator may name another agency);
    the upload page loads it as a part of itself."""
    user = viewer.user
    chosen = user.agency
    if agency is not None and user.role in ("analyst", "administrator"):
        chosen = service.get_agency(session=session, code=agency)
    return render(
        request,
        "reporting/due.html",
        _common(request) | _due(request, session, user, chosen),
        fragment="reporting/_due.html",
    )


@router.get("/agencies/{code}", response_class=HTMLResponse)
def agency_page(request: Request, session: SessionDep, viewer: ViewerDep, code: str) -> HTMLResponse:
    """An agency's regimes, history and ranking among agencies of its kind."""
    agency = service.get_agency(session=session, code=code[:32])
    mine = service.Filter(agency=agency.code)
    history = service.compliance(session=session, where=mine, limit=1000).items
    history.sort(key=lambda r: (r.regime, r.period), reverse=True)
    by_regime = service.rates_by_regime(session=session, agency=agency.code)
    ranking = service.rates(session=session, where=service.Filter(kind=agency.kind))
    ranked = sorted(ranking, key=lambda r: (-(r.REPORTING_RATE_ON_TIME or 0), -(r.REPORTING_RATE or 0), r.agency))
    place = next((i for i, r in enumerate(ranked, start=1) if r.agency == agency.code), None)
    return render(
        request,
        "reporting/agency.html",
        _common(request)
        | {
            "agency": agency,
            "history": history[:120],
            "by_regime": by_regime,
            "place": place,
            "of": len(ranked),
        }
        | _due(request, session, viewer.user, agency),
    )


# --- one report: its revisions after the lock, its signed document ---------------------------------------------


def _indicator_label(request: Request, session: Session, codes: list[str]) -> Callable[[str], str]:
    """An indicator's name in the reader's language, with its code: "Chỉ số giá tiêu dùng (CPI)"."""
    names = service.indicator_names(session=session, codes=codes)
    english = locale_of(request) == "en"
    return lambda code: f"{names[code][1 if english else 0]} ({code})" if code in names else code


def _report_page(
    request: Request, session: Session, user: User, report: Any, *, error: GovopsError | None = None
) -> HTMLResponse:
    shown = service.report_out(session=session, report=report)
    party = service.Party.of_user(user)
    english = locale_of(request) == "en"
    return render(
        request,
        "reporting/report.html",
        _common(request)
        | {
            "r": shown,
            "regime_name": shown.regime_name_en if english else shown.regime_name_vi,
            "agency_name": shown.agency_name_en if english else shown.agency_name_vi,
            "indicator_label": _indicator_label(request, session, [v.indicator for v in shown.revisions]),
            "may_file": party.may_file(report),
            "may_read": party.may_read(report),
            "max_mb": service.MAX_DOCUMENT_BYTES >> 20,
            "error": error,
        },
        status_code=error.status if error is not None else 200,
    )


@router.get("/reports/{regime}/{agency}/{period}", response_class=HTMLResponse)
def report_page(
    request: Request, session: SessionDep, viewer: ViewerDep, regime: str, agency: str, period: str
) -> HTMLResponse:
    """One report: its status, the changes to its values after the lock date, and its signed document."""
    report = service.expected_for(session=session, regime=regime[:40], agency=agency[:32], period=period[:20])
    return _report_page(request, session, viewer.user, report)


@router.post("/reports/{regime}/{agency}/{period}/document", dependencies=[Depends(verify_csrf)])
async def file_document(
    request: Request, session: WriteSessionDep, viewer: ViewerDep, regime: str, agency: str, period: str
) -> Response:
    """The agency's data officer (or an administrator) files the signed PDF of a report; a refusal is shown on
    the report's page in the reader's language, and nothing is stored."""
    report = service.expected_for(session=session, regime=regime[:40], agency=agency[:32], period=period[:20])
    party = service.Party.of_user(viewer.user)
    try:
        # The CSRF check has read the form already (a file spools to disk); leaving this block closes it.
        async with request.form() as form:
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                raise GovopsError.of(
                    "missing_file",
                    lazy_gettext("Choose the PDF file of the signed report."),
                    lazy_gettext("Scan or export the signed report as a PDF, then choose it here."),
                    where="document",
                )
            if file.size is not None and file.size > service.MAX_DOCUMENT_BYTES:
                raise service.too_large(file.size)  # refused before the file is read into memory
            content = await file.read(service.MAX_DOCUMENT_BYTES + 1)
            document = service.file_document(
                session=session, party=party, report=report, filename=file.filename, content=content
            )
    except GovopsError as exc:
        session.rollback()
        return _report_page(request, session, viewer.user, report, error=exc)
    record_request(
        session=session,
        request=request,
        action="reporting.document",
        target=f"{regime}/{agency}/{report.period}",
        detail={"sha256": document.sha256, "size": document.size},
    )
    return RedirectResponse(f"/reporting/reports/{regime}/{agency}/{report.period}#document", status_code=303)


@router.get("/documents/{document_id}")
def download_document(session: SessionDep, viewer: ViewerDep, document_id: int) -> Response:
    """A filed document, to the agency that owes the report, the Government Office's analysts and
    administrators (checked on the report it was filed for)."""
    party = service.Party.of_user(viewer.user)
    document, _ = service.read_document(session=session, party=party, document_id=document_id)
    return Response(document.content, media_type="application/pdf", headers=service.download_headers(document.filename))


# --- importing regime files: preview, then confirm -------------------------------------------------------------

Administrator = Annotated[User, Depends(require_role("administrator"))]
MAX_REGIME_FILE = 1024 * 1024
FIELDS = {
    "name_vi": lazy_gettext("Name (Vietnamese)"),
    "name_en": lazy_gettext("Name (English)"),
    "legal_basis": lazy_gettext("Legal basis"),
    "legal_date": lazy_gettext("Date of the legal basis"),
    "frequency": lazy_gettext("Frequency"),
    "deadline_rule": lazy_gettext("Deadline"),
    "cutoff_rule": lazy_gettext("Data cut-off"),
    "grace_days": lazy_gettext("Days of grace"),
    "lock_days": lazy_gettext("Lock, days after the deadline"),
    "replaced_by_data": lazy_gettext("Replaced by data"),
    "requires_document": lazy_gettext("Signed document required"),
    "indicators": lazy_gettext("Indicators"),
    "agency_kinds": lazy_gettext("Reporting agency kinds"),
    "agencies": lazy_gettext("Reporting agencies"),
    "coverage": lazy_gettext("Areas each reporter covers"),
    "note": lazy_gettext("Note"),
}
COVERAGE = {
    "own_area": lazy_gettext("its own area"),
    "own_area_and_wards": lazy_gettext("its own area and its wards"),
    "nation": lazy_gettext("the nation"),
    "provinces": lazy_gettext("every province"),
}


def _import_page(request: Request, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    gettext = translations(locale_of(request)).gettext
    kinds = _common(request)["kind_label"]

    def shown(field: str, value: Any) -> str:
        if value is None or value == "" or value == ():
            return "-"
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if field in ("deadline_rule", "cutoff_rule"):
            return describe(str(value), gettext)
        if field == "coverage":
            return gettext(COVERAGE.get(str(value), str(value)))
        if field == "agency_kinds":
            return ", ".join(kinds.get(k, k) for k in value)
        if isinstance(value, tuple):
            return ", ".join(str(v) for v in value)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def field_name(field: str) -> str:
        return gettext(FIELDS.get(field, field))

    values = {"field_name": field_name, "shown": shown}
    return render(request, "reporting/import.html", _common(request) | values | context, status_code=status_code)


@router.get("/regimes/import", response_class=HTMLResponse)
def import_form(request: Request, admin: Administrator) -> HTMLResponse:
    """The form an administrator uploads a regime file with."""
    return _import_page(request, {})


async def _regime_text(request: Request) -> tuple[str, str]:
    """The uploaded regime file's name and text; a GovopsError worded by the catalogue when it cannot be read."""
    async with request.form() as form:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise GovopsError.of(
                "missing_file",
                lazy_gettext("Choose a regime file (.yaml)."),
                lazy_gettext("Download the stored regimes below, change them, and upload the file."),
                where="file",
            )
        if file.size is not None and file.size > MAX_REGIME_FILE:
            raise GovopsError.of(
                "too_large",
                lazy_gettext("The file is larger than %(limit)s MB, the most a regime file may be."),
                lazy_gettext("A regime file holds the regimes' rules only; split it in several files if need be."),
                status=413,
                where=file.filename,
                limit=MAX_REGIME_FILE >> 20,
            )
        body = await file.read(MAX_REGIME_FILE + 1)
        try:
            return file.filename, body.decode("utf-8")
        except UnicodeDecodeError:
            raise GovopsError.of(
                "invalid_encoding",
                lazy_gettext("The regime file is not UTF-8 text."),
                lazy_gettext("Save the file as UTF-8 (any editor offers it) and send it again."),
                where=file.filename,
            ) from None


@router.post("/regimes/import", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def import_preview(request: Request, session: SessionDep, admin: Administrator) -> HTMLResponse:
    """What the uploaded file would change, or every problem in it by line and field; nothing is stored."""
    try:
        name, text = await _regime_text(request)
    except GovopsError as exc:
        return _import_page(request, {"problems": [exc], "file_name": ""}, status_code=exc.status)
    try:
        plan = service.plan_import(session=session, text=text, where=name)
    except Rejected as exc:
        return _import_page(request, {"problems": exc.problems, "file_name": name}, status_code=422)
    return _import_page(request, {"plan": plan, "text": text, "file_name": name})


@router.post("/regimes/import/confirm", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def import_confirm(request: Request, session: WriteSessionDep, admin: Administrator) -> HTMLResponse:
    """Store what the preview showed; if the store changed since, the new plan is shown instead."""
    async with request.form() as form:
        text, digest, name = (str(form.get(key, "")) for key in ("text", "digest", "file_name"))
    try:
        plan = service.plan_import(session=session, text=text, where=name[:200])
    except Rejected as exc:
        session.rollback()
        return _import_page(request, {"problems": exc.problems, "file_name": name}, status_code=422)
    if plan.digest != digest:
        gettext = translations(locale_of(request)).gettext
        notice = gettext("The stored regimes changed since this file was checked: here is what it would do now.")
        return _import_page(request, {"plan": plan, "text": text, "file_name": name, "notice": notice}, status_code=409)
    summary = service.apply_import(session=session, plan=plan)
    made = service.ensure_expected(session=session)
    record_request(
        session=session,
        request=request,
        action="reporting.regimes.import",
        target=",".join(summary.regimes_created + summary.versions_added)[:200] or "-",
        detail={"by": admin.username, "file": name[:200]},
    )
    return _import_page(request, {"done": summary, "made": len(made)})


@router.get("/regimes/export")
def export_regimes(session: SessionDep, viewer: ViewerDep) -> Response:
    """Every regime with all its versions, as the YAML file the import reads."""
    return Response(
        service.export_regimes(session=session),
        media_type="application/yaml",
        headers={"Content-Disposition": 'attachment; filename="regimes.yaml"'},
    )


@router.get("/regimes/{code}", response_class=HTMLResponse)
def regime_page(request: Request, session: SessionDep, viewer: ViewerDep, code: str) -> HTMLResponse:
    """A regime's rules, version by version, its rates period by period, and whether data can replace it."""
    regime = service.get_regime(session=session, code=code[:40])
    return render(
        request,
        "reporting/regime.html",
        _common(request)
        | {
            "regime": regime,
            "periods": service.rates_by_period(session=session, regime=regime.code),
            "candidate": next(iter(service.abolition_candidates(session=session, regimes=[regime])), None),
        },
    )


__all__ = ["router"]
