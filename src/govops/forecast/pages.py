"""Forecasts in the console: a series' fan chart (history, point forecast, 80/95% bands, the model and its
backtest accuracy) with its track record, and the early-warnings inbox. Every signed-in user reads."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from govops.catalog.models import Area, Indicator
from govops.catalog.service import get_indicator
from govops.errors import GovopsError, lazy_gettext
from govops.forecast import service
from govops.periods import Period
from govops.web.deps import SessionDep
from govops.web.signin import SignedInUser
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)
HISTORY_SHOWN = 60
NOTE_LABELS = {
    "too_short": lazy_gettext("too short to forecast: the last value carried forward"),
    "constant": lazy_gettext("constant: carried forward"),
    "gaps_filled": lazy_gettext("gaps filled by interpolation before forecasting"),
    "too_short_for_season": lazy_gettext("too short for a seasonal model: forecast without a season"),
    "too_short_for_backtest": lazy_gettext("too short for a backtest: the combination, unchecked"),
    "lost_to_seasonal_naive": lazy_gettext("the first choice lost to seasonal naive in its backtest"),
    "clipped_at_zero": lazy_gettext("bounds below zero cut at zero (the unit takes no negative values)"),
    "negative_values": lazy_gettext("negative values in a unit that should have none"),
}


@router.get("/forecasts/warnings", response_class=HTMLResponse)
def warnings_inbox(request: Request, session: SessionDep, user: SignedInUser) -> HTMLResponse:
    """Early warnings, newest first, with the provinces driving each."""
    rows = service.warnings_page(session=session, limit=100)
    inds = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.id.in_({r.indicator_id for r in rows})))}
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_({r.area_id for r in rows})))}
    return render(request, "forecast/warnings.html", {"rows": rows, "inds": inds, "areas": areas})


@router.get("/nowcast", response_class=HTMLResponse)
def nowcast_page(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    indicator: Annotated[str, Query(max_length=40)] = "GDP_CONST2010",
    area: Annotated[str, Query(max_length=16)] = "VN",
) -> HTMLResponse:
    """The nowcast of a quarter's growth from the monthly releases, and the news table: which release moved it,
    by how much. Computed from the store when opened, so a release just submitted is in it."""
    ind = get_indicator(session=session, code=indicator)
    found = None
    problem: GovopsError | None = None
    try:
        found = service.nowcast_of(session=session, indicator=ind.code, area=area)
    except GovopsError as exc:
        problem = exc
    codes = {n.indicator for n in found.news} if found else set()
    names = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.code.in_(codes)))}
    targets = session.scalars(
        select(Indicator).where(Indicator.periodicity == "Q", Indicator.formula.is_(None)).order_by(Indicator.code)
    ).all()
    return render(
        request,
        "forecast/nowcast.html",
        {"ind": ind, "area": area, "found": found, "problem": problem, "names": names, "targets": targets},
    )


@router.get("/forecasts/{indicator}", response_class=HTMLResponse)
def forecast_page(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    indicator: str,
    area: Annotated[str, Query(max_length=16)] = "VN",
) -> HTMLResponse:
    """The fan chart of one series, its model and backtest accuracy, and its track record."""
    ind = get_indicator(session=session, code=indicator)
    place = session.scalar(select(Area).where(Area.code == area))
    if place is None:
        raise GovopsError.of(
            "forecast_unknown_area",
            lazy_gettext("no area %(area)s"),
            lazy_gettext("choose an area from the list"),
            status=404,
            area=area,
        )
    series = service.one_series(session=session, indicator=ind.code, area=area)
    latest = None if series is None else service.latest(session=session, indicator_id=ind.id, area_id=place.id)
    points = [] if latest is None else service.points_of(session=session, forecast_id=latest.id)
    record = [] if series is None else service.track_record(session=session, series=series)
    chart: dict[str, Any] | None = None
    if series is not None and points:
        shown = max(0, len(series.values) - HISTORY_SHOWN)
        history = [(str(series.first + i), _num(v)) for i, v in enumerate(series.values) if i >= shown]
        chart = {
            "kind": "fan",
            "locale": locale_of(request),
            "unit": ind.unit.code,
            "periods": [p for p, _ in history] + [p.period for p in points],
            "history": [v for _, v in history] + [None] * len(points),
            "mean": [None] * (len(history) - 1) + [history[-1][1]] + [p.mean for p in points],
            **{
                key: [None] * len(history) + [getattr(p, key) for p in points]
                for key in ("lo80", "hi80", "lo95", "hi95")
            },
        }
    scored = [r for r in record if r.inside is not None]
    coverage = 100 * sum(bool(r.inside) for r in scored) / len(scored) if scored else None
    return render(
        request,
        "forecast/series.html",
        {
            "ind": ind,
            "place": place,
            "latest": latest,
            "points": points,
            "chart": chart,
            "record": record,
            "coverage": coverage,
            "note_labels": NOTE_LABELS,
            "medium": service.medium_of(latest.freq, Period.parse(latest.origin)) if latest is not None else 0,
        },
    )


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
