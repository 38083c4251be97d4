"""Reporting in the console: the compliance board, an agency's page and a regime's page, for signed-in staff.

The board is agencies x the last 12 periods, each cell a colour and a symbol per status (worst agencies first),
filtered by regime and agency kind; every text in the reader's language.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.models import Agency
from govops.errors import lazy_gettext
from govops.i18n import translations
from govops.reporting import service
from govops.reporting.rules import describe
from govops.web.console import ViewerDep
from govops.web.deps import SessionDep
from govops.web.templating import locale_of, render

router = APIRouter(prefix="/reporting", include_in_schema=False)

SYMBOL = {"on_time": "✓", "late": "⏱", "partial": "◐", "missing": "✗", "not_due": "·"}
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
        "symbol": SYMBOL,
        "statuses": list(SYMBOL),
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
    regimes = service.list_regimes(session=session)
    chosen = regime if regime in {r.code for r in regimes} else None
    where = service.Filter(regime=chosen, kind=kind if kind in KINDS else None)
    periods = service.recent_periods(session=session, where=where)
    rows, _ = service.board(session=session, periods=periods, where=where)
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
            "candidates": service.abolition_candidates(session=session),
        },
    )


def _due(request: Request, session: Session, user: User, agency: Agency) -> dict[str, Any]:
    """What the "due this period" list needs: the reports `agency` owes, its indicators' names in the reader's
    language, and whether `user` may act on them (the agency's own data officer, or an administrator)."""
    due = service.due_for(session=session, agency=agency)
    names = service.indicator_names(session=session, codes=[code for d in due for code in d.missing])
    english = locale_of(request) == "en"
    return {
        "agency": agency,
        "due": due,
        "indicator_label": lambda code: f"{names[code][1 if english else 0]} ({code})" if code in names else code,
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
            "candidate": regime in service.abolition_candidates(session=session),
        },
    )


__all__ = ["router"]
