"""Targets in the console: the national board (every target of the year's resolutions with its rating, its
probability of being met and a sparkline of the figure so far against the trajectory), a target's page (chart of
the figure so far, the trajectory and the forecast fan to the period's end; the provinces' league table; the
tasks that serve it) and a province's own board. Every signed-in user reads."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from govops.catalog.models import Area
from govops.errors import GovopsError, lazy_gettext
from govops.targets import service
from govops.targets.schemas import PathPoint
from govops.web.deps import SessionDep
from govops.web.signin import SignedInUser
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

RATING_LABELS = {
    "met": lazy_gettext("met"),
    "on_track": lazy_gettext("on track"),
    "at_risk": lazy_gettext("at risk"),
    "off_track": lazy_gettext("off track"),
    "no_data": lazy_gettext("no data"),
}
CATEGORY_LABELS = {
    "achieved": lazy_gettext("achieved"),
    "on_track": lazy_gettext("on track"),
    "acceleration_needed": lazy_gettext("acceleration needed"),
    "limited_progress": lazy_gettext("limited progress"),
    "deterioration": lazy_gettext("deterioration"),
}
COMPARATOR_LABELS = {
    "at_least": lazy_gettext("at least"),
    "at_most": lazy_gettext("at most"),
    "between": lazy_gettext("between"),
    "about": lazy_gettext("about"),
}
METHOD_LABELS = {
    "forecast": lazy_gettext("from the stored forecasts of the remaining periods"),
    "history": lazy_gettext("from the path of past years (no forecast of the remaining periods yet)"),
    "final": lazy_gettext("the period's figure is final"),
    "none": lazy_gettext("not enough data to judge"),
}


def _spark(points: list[PathPoint]) -> dict[str, str]:
    """Two polylines on a 100x30 box: the figure so far, and the trajectory."""
    values = [v for p in points for v in (p.actual, p.required) if v is not None]
    if len(points) < 2 or not values:
        return {}
    low, high = min(values), max(values)
    span = (high - low) or 1.0

    def line(key: str) -> str:
        out = []
        for i, p in enumerate(points):
            v = getattr(p, key)
            if v is not None:
                out.append(f"{100 * i / (len(points) - 1):.1f},{30 - 28 * (v - low) / span - 1:.1f}")
        return " ".join(out)

    return {"actual": line("actual"), "required": line("required")}


def _board(request: Request, session: SessionDep, year: int, area: str) -> HTMLResponse:
    place = session.scalar(select(Area).where(Area.code == area))
    if place is None:
        raise GovopsError.of(
            "target_unknown_area",
            lazy_gettext("no area %(area)s"),
            lazy_gettext("choose an area from the list"),
            status=404,
            area=area,
        )
    rows = service.board(session=session, year=year, area=area)
    counts = {r: sum(1 for row in rows if row.rating == r) for r in RATING_LABELS}
    provinces = session.scalars(select(Area).where(Area.level == "province").order_by(Area.name_ascii)).all()
    return render(
        request,
        "targets/board.html",
        {
            "rows": rows,
            "sparks": {r.id: _spark(r.sparkline) for r in rows},
            "year": year,
            "place": place,
            "counts": counts,
            "rating_labels": RATING_LABELS,
            "comparator_labels": COMPARATOR_LABELS,
            "provinces": [p for p in provinces if p.valid_on(date.today())],
        },
    )


@router.get("/targets", response_class=HTMLResponse)
def national_board(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    area: Annotated[str, Query(max_length=16, description="VN, or a province for its own board")] = "VN",
) -> HTMLResponse:
    """The national target board of a year (or, with `area`, a province's)."""
    return _board(request, session, year or date.today().year, area)


@router.get("/targets/provinces/{area}", response_class=HTMLResponse)
def province_board(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    area: str,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> HTMLResponse:
    """A province's own targets: its shares of the national ones."""
    return _board(request, session, year or date.today().year, area)


@router.get("/targets/{target_id}", response_class=HTMLResponse)
def target_page(request: Request, session: SessionDep, user: SignedInUser, target_id: int) -> HTMLResponse:
    """One target: its chart, the provinces' league table, the tasks that serve it, the rating history."""
    t = service.get_target(session=session, target_id=target_id)
    row = service.progress_row(session, t.id)
    chart: dict[str, Any] | None = None
    if row is not None and row.path:
        path = [PathPoint.model_validate(p) for p in row.path]
        chart = {
            "kind": "fan",
            "locale": locale_of(request),
            "unit": t.unit,
            "periods": [p.period for p in path],
            "history": [p.actual for p in path],
            "required": [p.required for p in path],
            "mean": [p.mean for p in path],
            **{key: [getattr(p, key) for p in path] for key in ("lo80", "hi80", "lo95", "hi95")},
        }
    league = []
    for child in service.children(session=session, target_id=t.id):
        p = service.progress_row(session, child.id)
        league.append((child, p))
    league.sort(key=lambda item: item[1].probability if item[1] and item[1].probability is not None else 2.0)
    shown = [(c, p) for c, p in league if c.agency is None and p is not None and p.probability is not None]
    cascade_map = (
        {
            "kind": "map",
            "data": [
                {"name": c.area.code, "value": round(100 * (p.probability or 0), 1), "label": c.area.name_vi}
                for c, p in shown
            ],
            "unit": "%",
            "locale": locale_of(request),
        }
        if shown
        else None
    )
    parent = service.get_target(session=session, target_id=t.parent_id) if t.parent_id is not None else None
    return render(
        request,
        "targets/target.html",
        {
            "t": t,
            "parent": parent,
            "row": row,
            "chart": chart,
            "league": league,
            "cascade_map": cascade_map,
            "tasks": service.linked_tasks(session=session, target_id=t.id),
            "agencies": service.agencies_of(session, t.id),
            "history": service.rating_history(session=session, target_id=t.id, limit=20),
            "rating_labels": RATING_LABELS,
            "category_labels": CATEGORY_LABELS,
            "comparator_labels": COMPARATOR_LABELS,
            "method_labels": METHOD_LABELS,
        },
    )
