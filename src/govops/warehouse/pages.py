"""Console pages over the warehouse: national overview, indicator explorer, provinces, downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.audit.service import CONFIDENTIAL
from govops.catalog.models import Area, Indicator, IndicatorGroup
from govops.catalog.service import search_indicators
from govops.errors import GovopsError, NotFound
from govops.i18n import number
from govops.periods import Freq, Period, PeriodError
from govops.text import collation_key
from govops.warehouse.series import PointView, SeriesQuery, SeriesView
from govops.warehouse.series_cache import cached_series, data_versions
from govops.web.auditing import record_confidential_reads
from govops.web.console import ViewerDep
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.maps import province_map_json
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

# The tiles of the national overview, in the order of the Government's monthly socio-economic report.
OVERVIEW: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MACRO", ("GDP_GROWTH", "GRDP_PER_CAPITA")),
    ("PRICES", ("CPI_YOY", "CPI_MOM", "CORE_INFLATION", "GOLD_PRICE_INDEX", "USD_PRICE_INDEX")),
    ("INDUSTRY", ("IIP_YOY", "ELEC_PRODUCTION")),
    ("TRADE", ("RETAIL_SALES", "EXPORTS", "IMPORTS", "TRADE_BALANCE")),
    ("INVESTMENT", ("FDI_REGISTERED", "FDI_DISBURSED", "PI_DISBURSEMENT_RATE")),
    ("PUBLIC_FINANCE", ("BUDGET_REVENUE", "BUDGET_EXPENDITURE", "BUDGET_BALANCE")),
    ("ENTERPRISES", ("ENT_NEW", "ENT_DISSOLVED")),
    ("MONEY_BANKING", ("CREDIT_GROWTH_YOY", "LENDING_RATE")),
    ("TOURISM", ("INTL_ARRIVALS",)),
    ("LABOUR", ("UNEMPLOYMENT_RATE",)),
    ("SOCIAL", ("TRAFFIC_DEATHS", "DENGUE_CASES")),
)
PERCENT_UNITS = {"PCT", "PCT_PA"}


@dataclass
class Change:
    text: str
    tone: str  # good | bad | neutral
    arrow: str


@dataclass
class Tile:
    indicator: Indicator
    value: float | None
    period: str | None
    unit: str
    vs_previous: Change | None = None
    vs_last_year: Change | None = None
    spark: str = ""
    areas: str | None = None


@dataclass
class GroupTiles:
    group: IndicatorGroup
    tiles: list[Tile] = field(default_factory=list)


def unit_label(ind: Indicator, locale: str) -> str:
    return ind.unit.symbol if locale == "vi" else ind.unit.name_en.lower()


def _change(ind: Indicator, now: float, before: float | None, locale: str) -> Change | None:
    if before is None:
        return None
    if ind.unit.code in PERCENT_UNITS:
        delta = now - before
        text = f"{'+' if delta >= 0 else ''}{number(delta, locale, 1)} {'điểm %' if locale == 'vi' else 'pp'}"
    else:
        if before == 0:
            return None
        delta = (now / before - 1) * 100
        text = f"{'+' if delta >= 0 else ''}{number(delta, locale, 1)}%"
    good = ind.higher_is_better
    tone = "neutral" if good is None or abs(delta) < 1e-9 else ("good" if (delta > 0) == good else "bad")
    return Change(text=text, tone=tone, arrow="▲" if delta > 0 else ("▼" if delta < 0 else "■"))


def _spark(points: Sequence[PointView]) -> str:
    values = [p.value for p in points if p.value is not None][-13:]
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = 100 / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{28 - (v - low) / span * 26:.1f}" for i, v in enumerate(values))


def tile_for(ind: Indicator, series: SeriesView, locale: str) -> Tile:
    known = [p for p in series.points if p.value is not None]
    unit = unit_label(ind, locale)
    if not known:
        return Tile(indicator=ind, value=None, period=None, unit=unit)
    last = known[-1]
    by_period = {p.period: p.value for p in known}
    period = Period.parse(last.period)
    try:
        year_ago = by_period.get(str(period.same_period_last_year()))
    except PeriodError:
        year_ago = None
    assert last.value is not None
    areas = f"{last.areas.have}/{last.areas.expected}" if last.areas else None
    return Tile(
        indicator=ind,
        value=last.value,
        period=last.period,
        unit=unit,
        vs_previous=_change(ind, last.value, by_period.get(str(period.previous())), locale),
        vs_last_year=_change(ind, last.value, year_ago, locale),
        spark=_spark(series.points),
        areas=areas,
    )


def _readable(session: SessionDep, viewer: ViewerDep) -> dict[str, Indicator]:
    rows = session.scalars(select(Indicator).where(Indicator.classification.in_(viewer.classifications)))
    return {i.code: i for i in rows}


def _get_indicator(indicators: dict[str, Indicator], code: str) -> Indicator:
    ind = indicators.get(code)
    if ind is None:
        raise NotFound(f"no indicator with code {code!r}", hint="search the catalogue in the explorer")
    return ind


def _is_demo(session: SessionDep) -> bool:
    from govops.demo.loader import demo_loaded

    return demo_loaded(session=session)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, viewer: ViewerDep) -> HTMLResponse:
    locale = locale_of(request)
    indicators = _readable(session, viewer)
    groups = {g.code: g for g in session.scalars(select(IndicatorGroup))}
    versions = data_versions(session)
    start = _overview_start()
    sections = []
    for group_code, codes in OVERVIEW:
        if group_code not in groups:
            continue
        section = GroupTiles(group=groups[group_code])
        for code in codes:
            if code in indicators:
                series = cached_series(
                    session=session, query=SeriesQuery.of(code, ["VN"], start=start), versions=versions
                )
                section.tiles.append(tile_for(indicators[code], series[0], locale))
        if section.tiles:
            sections.append(section)
    return render(request, "overview.html", {"sections": sections, "demo": _is_demo(session)})


@dataclass
class IndicatorSection:
    """A report group's indicators on the explorer's index (`group` None: filed under no report group)."""

    group: IndicatorGroup | None
    indicators: list[Indicator]


@router.get("/explorer", response_class=HTMLResponse)
def explorer_index(
    request: Request, session: SessionDep, viewer: ViewerDep, q: Annotated[str, Query(max_length=100)] = ""
) -> HTMLResponse:
    """With a search, the indicators that answer it, best first; without one, every readable indicator under
    its report groups (in the report's order), by name in the reader's language."""
    readable = _readable(session, viewer)
    found: list[Indicator] = []
    sections: list[IndicatorSection] = []
    if q.strip():
        found = [readable[code] for code in search_indicators(session=session, q=q, codes=readable)]
    else:
        locale = locale_of(request)

        def by_name(ind: Indicator) -> tuple[tuple[int, ...], tuple[int, ...], str]:
            return collation_key(ind.name_en if locale == "en" else ind.name_vi)

        groups = session.scalars(
            select(IndicatorGroup).where(IndicatorGroup.kind == "report").order_by(IndicatorGroup.id)
        )
        filed: set[str] = set()
        for group in groups:
            members = sorted((i for i in readable.values() if group in i.groups), key=by_name)
            filed.update(i.code for i in members)
            if members:
                sections.append(IndicatorSection(group, members))
        others = sorted((i for code, i in readable.items() if code not in filed), key=by_name)
        if others:
            sections.append(IndicatorSection(None, others))
    return render(
        request,
        "explorer_index.html",
        {"found": found, "sections": sections, "q": q, "total": len(readable)},
        fragment="_indicator_results.html",
    )


def _freqs(ind: Indicator) -> list[str]:
    base = Freq(ind.periodicity)
    if ind.time_aggregation == "none" and not ind.formula:
        return [base.value]
    return [f.value for f in (Freq.M, Freq.Q, Freq.A) if f.rank >= base.rank]


def _overview_start() -> str:
    return str(date.today().year - 2)


def _province_start() -> str:
    return str(date.today().year - 1)


def warm_up(session: Session) -> None:
    """Compute what the overview and every province page show, as they will ask for it."""
    versions = data_versions(session)
    provinces = [a.code for a in _provinces(session)]
    for _group, codes in OVERVIEW:
        for code in codes:
            cached_series(
                session=session, query=SeriesQuery.of(code, ["VN"], start=_overview_start()), versions=versions
            )
            cached_series(
                session=session,
                query=SeriesQuery.of(code, [*provinces, "VN"], start=_province_start()),
                versions=versions,
            )


def _provinces(session: Session) -> list[Area]:
    return list(
        session.scalars(select(Area).where(Area.level == "province", Area.valid_to.is_(None)).order_by(Area.code))
    )


@dataclass
class ExplorerView:
    indicator: Indicator
    freq: str
    view: str
    areas: list[str]
    series: list[SeriesView]
    period: str | None
    periods: list[str]
    ranking: list[dict[str, Any]]
    completeness: str | None
    provinces: list[Area]


def _partial(point: PointView) -> bool:
    return point.periods is not None and point.periods.have < point.periods.expected


def _yoy(series: SeriesView) -> SeriesView:
    values = {p.period: p.value for p in series.points}
    points = []
    for p in series.points:
        try:
            before = values.get(str(Period.parse(p.period).same_period_last_year()))
        except PeriodError:
            before = None
        value = (p.value / before - 1) * 100 if p.value is not None and before else None
        points.append(PointView(p.period, value, p.status, p.source, None, None))
    return series._replace(points=tuple(points))


def explorer_view(
    session: SessionDep, ind: Indicator, *, freq: str | None, view: str, areas: Sequence[str], period: str | None
) -> ExplorerView:
    freqs = _freqs(ind)
    chosen = freq if freq in freqs else freqs[0]
    wanted = [a for a in dict.fromkeys(areas or ["VN"]) if a][:8]
    versions = data_versions(session)
    series = cached_series(session=session, query=SeriesQuery.of(ind.code, wanted, freq=chosen), versions=versions)
    if view == "yoy":
        series = [_yoy(s) for s in series]
    areas_now = _provinces(session)
    provinces = [a.code for a in areas_now]
    nation = cached_series(session=session, query=SeriesQuery.of(ind.code, ["VN"], freq=chosen), versions=versions)[0]
    periods = [p.period for p in nation.points if p.value is not None and not _partial(p)]
    by_province = cached_series(
        session=session, query=SeriesQuery.of(ind.code, provinces, freq=chosen), versions=versions
    )
    with_data = sorted(
        {p.period for s in by_province for p in s.points if p.value is not None and not _partial(p)},
        key=lambda t: Period.parse(t).start,
    )
    periods = sorted(set(periods) | set(with_data), key=lambda t: Period.parse(t).start)
    selected = period if period in periods else (periods[-1] if periods else None)
    names = {a.code: a for a in areas_now}
    ranking: list[dict[str, Any]] = []
    for s in by_province:
        point = next((p for p in s.points if p.period == selected), None)
        ranking.append({"code": s.area, "name": names[s.area].short_vi, "value": point.value if point else None})
    ranking.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0)))
    for rank, row in enumerate(ranking, start=1):
        row["rank"] = rank if row["value"] is not None else None
    latest = next((p for p in reversed(nation.points) if p.period == selected), None)
    completeness = None
    if latest is not None and latest.areas is not None:
        completeness = f"{latest.areas.have}/{latest.areas.expected}"
    return ExplorerView(
        indicator=ind,
        freq=chosen,
        view=view,
        areas=wanted,
        series=series,
        period=selected,
        periods=periods,
        ranking=ranking,
        completeness=completeness,
        provinces=areas_now,
    )


@router.get("/explorer/{code}", response_class=HTMLResponse)
def explorer(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    viewer: ViewerDep,
    code: str,
    freq: str | None = None,
    view: Annotated[str, Query(pattern="^(level|yoy)$")] = "level",
    area: Annotated[list[str], Query()] = [],  # noqa: B006
    period: str | None = None,
) -> HTMLResponse:
    ind = _get_indicator(_readable(session, viewer), code)
    data = explorer_view(session, ind, freq=freq, view=view, areas=area, period=period)
    locale = locale_of(request)
    # At a longer frequency than the indicator's own, a reported point is an official figure that won over adding
    # up the shorter periods: the chart marks it.
    marks_reported = view == "level" and data.freq != ind.periodicity
    chart = {
        "kind": "line",
        "series": [
            {
                "name": s.area_name_vi if s.area != "VN" else ("Cả nước" if locale == "vi" else "Viet Nam"),
                # A quarter or year still under way would look like a collapse; it is left out of the chart.
                "points": [[p.period, None if _partial(p) else p.value] for p in s.points],
                "reported": [p.period for p in s.points if marks_reported and p.source == "reported"],
            }
            for s in data.series
        ],
        "unit": unit_label(ind, locale) if view == "level" else "%",
        "locale": locale,
    }
    choropleth = {
        "kind": "map",
        "period": data.period,
        "data": [{"name": r["code"], "value": r["value"], "label": r["name"]} for r in data.ranking],
        "unit": unit_label(ind, locale),
        "locale": locale,
    }
    if ind.classification == CONFIDENTIAL:
        record_confidential_reads(session=audit_session, request=request, codes=[ind.code])
    return render(
        request,
        "explorer.html",
        {
            "ind": ind,
            "data": data,
            "freqs": _freqs(ind),
            "provinces": data.provinces,
            "chart": chart,
            "choropleth": choropleth,
            "unit": unit_label(ind, locale),
            "demo": _is_demo(session),
        },
        fragment="_explorer_body.html",
    )


def _download_rows(ind: Indicator, data: ExplorerView, locale: str) -> list[list[Any]]:
    header = (
        ["indicator", "area", "area_name", "period", "value", "unit", "status", "source"]
        if locale == "en"
        else ["chi_tieu", "ma_dia_ban", "ten_dia_ban", "ky", "gia_tri", "don_vi", "trang_thai", "nguon"]
    )
    rows: list[list[Any]] = [header]
    for s in data.series:
        for p in s.points:
            if p.value is not None:
                rows.append(
                    [ind.code, s.area, s.area_name_vi, p.period, p.value, ind.unit.code, p.status or "", p.source]
                )
    return rows


@router.get("/explorer/{code}/download.{fmt}")
def download(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    viewer: ViewerDep,
    code: str,
    fmt: str,
    freq: str | None = None,
    view: Annotated[str, Query(pattern="^(level|yoy)$")] = "level",
    area: Annotated[list[str], Query()] = [],  # noqa: B006
) -> Response:
    ind = _get_indicator(_readable(session, viewer), code)
    if fmt not in ("csv", "xlsx"):
        raise NotFound(f"no download as {fmt!r}", hint="use .csv or .xlsx")
    data = explorer_view(session, ind, freq=freq, view=view, areas=area, period=None)
    rows = _download_rows(ind, data, locale_of(request))
    if ind.classification == CONFIDENTIAL:
        record_confidential_reads(session=audit_session, request=request, codes=[ind.code])
    name = f"{ind.code}_{data.freq}{'_yoy' if view == 'yoy' else ''}"
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return Response(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = ind.code[:31]
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@router.get("/maps/provinces.json")
def province_geometry(request: Request) -> Response:
    body = province_map_json(request.app.state.settings)
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "max-age=3600"})


@router.get("/provinces", response_class=HTMLResponse)
def province_list(request: Request, session: SessionDep, viewer: ViewerDep) -> HTMLResponse:
    return render(request, "province_list.html", {"provinces": _provinces(session), "demo": _is_demo(session)})


@router.get("/provinces/{code}", response_class=HTMLResponse)
def province(request: Request, session: SessionDep, viewer: ViewerDep, code: str) -> HTMLResponse:
    provinces = {a.code: a for a in _provinces(session)}
    area = provinces.get(code)
    if area is None:
        raise NotFound(f"no province with code {code!r}", hint="choose one of the 34 provinces from the list")
    locale = locale_of(request)
    indicators = _readable(session, viewer)
    versions = data_versions(session)
    start = _province_start()
    rows = []
    for _group, codes in OVERVIEW:
        for ind_code in codes:
            ind = indicators.get(ind_code)
            if ind is None:
                continue
            every = cached_series(
                session=session, query=SeriesQuery.of(ind_code, [*provinces, "VN"], start=start), versions=versions
            )
            mine = next(s for s in every if s.area == code)
            latest = next((p for p in reversed(mine.points) if p.value is not None), None)
            if latest is None:
                continue
            values = sorted(
                (
                    (p.value, s.area)
                    for s in every
                    if s.area != "VN"
                    for p in s.points
                    if p.period == latest.period and p.value is not None
                ),
                reverse=True,
            )
            rank = next((i for i, (_, a) in enumerate(values, start=1) if a == code), None)
            national = next(
                (p.value for s in every if s.area == "VN" for p in s.points if p.period == latest.period), None
            )
            rows.append(
                {
                    "ind": ind,
                    "period": latest.period,
                    "value": latest.value,
                    "national": national,
                    "rank": rank,
                    "of": len(values),
                    "unit": unit_label(ind, locale),
                }
            )
    former_until = None
    if area.former_until is not None:
        day = area.former_until
        former_until = f"{day.day}/{day.month}/{day.year}" if locale == "vi" else day.isoformat()
    return render(
        request,
        "province.html",
        {"area": area, "rows": rows, "former_until": former_until, "demo": _is_demo(session)},
    )


def page_error(request: Request, exc: GovopsError) -> HTMLResponse:
    return render(request, "error.html", {"error": exc}, status_code=exc.status)


__all__ = ["page_error", "router"]
