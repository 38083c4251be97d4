"""Console pages over the warehouse: national overview, indicator explorer, provinces, downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from govops.audit.service import CONFIDENTIAL
from govops.catalog import service as catalog_service
from govops.catalog.models import Area, Indicator, IndicatorGroup
from govops.catalog.service import search_indicators
from govops.catalog.snapshot import catalogue_snapshot
from govops.errors import GovopsError, lazy_gettext
from govops.i18n import number, period_label, translations
from govops.periods import Freq, Period, PeriodError
from govops.text import collation_key
from govops.warehouse.overview import OVERVIEW, current_provinces, overview_queries, province_queries, shows_ytd
from govops.warehouse.series import (
    PointView,
    SeriesQuery,
    SeriesView,
    change,
    change_kind,
    ytd_rule,
)
from govops.warehouse.series_cache import cached_series, data_versions, prefetch
from govops.web.auditing import record_confidential_reads
from govops.web.console import ViewerDep
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.maps import province_map_json
from govops.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

# How many areas a chart compares at most: the nation and a region's provinces, still readable as lines.
MAX_COMPARED = 12


@dataclass
class Change:
    text: str
    tone: str  # good | bad | neutral
    arrow: str


@dataclass
class YearToDate:
    label: str
    value: float


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
    ytd: YearToDate | None = None


@dataclass
class GroupTiles:
    group: IndicatorGroup
    tiles: list[Tile] = field(default_factory=list)


def unit_label(ind: Indicator, locale: str) -> str:
    return ind.unit.symbol if locale == "vi" else ind.unit.name_en.lower()


def change_unit(ind: Indicator, locale: str) -> str:
    """The unit of a change of the indicator (see series.change_kind)."""
    kind = change_kind(ind)
    if kind == "difference":
        return unit_label(ind, locale)
    if kind == "points":
        return translations(locale).gettext("percentage points")
    return "%"


def view_unit(ind: Indicator, view: str, locale: str) -> str:
    return change_unit(ind, locale) if view == "yoy" else unit_label(ind, locale)


def _change(ind: Indicator, now: float, before: float | None, locale: str) -> Change | None:
    delta = change(ind, now, before)
    if delta is None:
        return None
    kind = change_kind(ind)
    digits = ind.decimals if kind == "difference" else 1
    text = f"{'+' if delta >= 0 else ''}{number(delta, locale, digits)}"
    text += "%" if kind == "ratio" else f" {change_unit(ind, locale)}"
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


def ytd_label(rule: str, period: str, locale: str) -> str:
    """`Lũy kế 11 tháng`, `Bình quân 11 tháng`, `11 tháng đầu năm` (and in English)."""
    gettext = translations(locale).gettext
    at = Period.parse(period)
    count = len(at.year_to_date())
    if at.freq is Freq.Q:
        texts = {
            "sum": gettext("Total of %(n)s quarters"),
            "mean": gettext("Average of %(n)s quarters"),
            "formula": gettext("First %(n)s quarters"),
        }
    else:
        texts = {
            "sum": gettext("Total of %(n)s months"),
            "mean": gettext("Average of %(n)s months"),
            "formula": gettext("First %(n)s months"),
        }
    return texts[rule] % {"n": count}


def tile_for(
    ind: Indicator, series: SeriesView, locale: str, ytd: SeriesView | None = None, rule: str | None = None
) -> Tile:
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
    so_far = None
    if ytd is not None and rule is not None and len(period.year_to_date()) > 1:
        point = next((p for p in ytd.points if p.period == last.period and p.value is not None), None)
        if point is not None and point.value is not None:
            so_far = YearToDate(label=ytd_label(rule, last.period, locale), value=point.value)
    return Tile(
        indicator=ind,
        value=last.value,
        period=last.period,
        unit=unit,
        vs_previous=_change(ind, last.value, by_period.get(str(period.previous())), locale),
        vs_last_year=_change(ind, last.value, year_ago, locale),
        spark=_spark(series.points),
        areas=areas,
        ytd=so_far,
    )


def _readable(session: Session, viewer: ViewerDep) -> dict[str, Indicator]:
    allowed = set(viewer.classifications)
    return {code: i for code, i in catalogue_snapshot(session).indicators.items() if i.classification in allowed}


def _get_indicator(indicators: dict[str, Indicator], code: str) -> Indicator:
    ind = indicators.get(code)
    if ind is None:
        raise catalog_service.unknown_indicator(code)
    return ind


def _is_demo(session: SessionDep) -> bool:
    from govops.demo.loader import demo_loaded

    return demo_loaded(session=session)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, viewer: ViewerDep) -> HTMLResponse:
    locale = locale_of(request)
    indicators = _readable(session, viewer)
    catalogue = catalogue_snapshot(session)
    versions = data_versions(session)
    prefetch(
        session=session,
        queries=[
            q
            for _group, codes in OVERVIEW
            for code in codes
            if code in indicators
            for q in overview_queries(code, ytd_rule(catalogue, indicators[code]))
        ],
        versions=versions,
    )
    sections = []
    for group_code, codes in OVERVIEW:
        if group_code not in catalogue.groups:
            continue
        section = GroupTiles(group=catalogue.groups[group_code])
        for code in codes:
            if code in indicators:
                ind = indicators[code]
                rule = ytd_rule(catalogue, ind)
                level, ytd = overview_queries(code, rule)
                series = cached_series(session=session, query=level, versions=versions)
                so_far = cached_series(session=session, query=ytd, versions=versions)[0] if ytd else None
                section.tiles.append(tile_for(ind, series[0], locale, so_far, rule))
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

        # The snapshot's groups: its indicators hold those very objects, detached from this session.
        groups = sorted(
            (g for g in catalogue_snapshot(session).groups.values() if g.kind == "report"), key=lambda g: g.id
        )
        filed: set[str] = set()
        for group in groups:
            members = sorted((i for i in readable.values() if any(g.code == group.code for g in i.groups)), key=by_name)
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


@dataclass
class ExplorerView:
    indicator: Indicator
    freq: str
    view: str
    views: list[str]
    areas: list[str]
    asked: int  # how many areas were asked for; more than MAX_COMPARED are left out, and the page says so
    series: list[SeriesView]
    period: str | None
    periods: list[str]
    ranking: list[dict[str, Any]]
    completeness: str | None
    provinces: list[Area]


def _partial(point: PointView) -> bool:
    return point.periods is not None and point.periods.have < point.periods.expected


def views_of(ind: Indicator, rule: str | None, freq: str) -> list[str]:
    """The views the explorer offers at a frequency: a year to date where it tells more than the level."""
    ytd = ["ytd"] if shows_ytd(rule) and freq in (Freq.M.value, Freq.Q.value) else []
    return ["level", "yoy", *ytd]


def rank(rows: list[dict[str, Any]], higher_is_better: bool | None) -> None:
    """Sort and number `rows` (each with a `value`): rank 1 is the best, the lowest value when a rise is bad
    news; the highest when a rise is good news or neither. Areas without a value come last, unranked."""
    lowest_first = higher_is_better is False
    rows.sort(key=lambda r: (r["value"] is None, (r["value"] or 0) if lowest_first else -(r["value"] or 0)))
    for at, row in enumerate(rows, start=1):
        row["rank"] = at if row["value"] is not None else None


def rank_note(ind: Indicator, locale: str) -> str:
    gettext = translations(locale).gettext
    if ind.higher_is_better is True:
        return gettext("Rank 1 is the best: the highest value.")
    if ind.higher_is_better is False:
        return gettext("Rank 1 is the best: the lowest value.")
    return gettext("Rank 1 is the highest value; a higher value is neither better nor worse.")


def explorer_view(
    session: Session, ind: Indicator, *, freq: str | None, view: str, areas: Sequence[str], period: str | None
) -> ExplorerView:
    freqs = _freqs(ind)
    chosen = freq if freq in freqs else freqs[0]
    views = views_of(ind, ytd_rule(catalogue_snapshot(session), ind), chosen)
    view = view if view in views else "level"
    asked = [a for a in dict.fromkeys(areas or ["VN"]) if a]
    wanted = asked[:MAX_COMPARED]
    versions = data_versions(session)

    def read(codes: Sequence[str]) -> list[SeriesView]:
        query = SeriesQuery.of(ind.code, codes, freq=chosen, view=view)
        return cached_series(session=session, query=query, versions=versions)

    series = read(wanted)
    areas_now = current_provinces(session)
    provinces = [a.code for a in areas_now]
    nation = read(["VN"])[0]
    by_province = read(provinces)
    with_data = {p.period for s in [nation, *by_province] for p in s.points if p.value is not None and not _partial(p)}
    periods = sorted(with_data, key=lambda t: Period.parse(t).start)
    selected = period if period in periods else (periods[-1] if periods else None)
    names = {a.code: a for a in areas_now}
    ranking: list[dict[str, Any]] = []
    for s in by_province:
        point = next((p for p in s.points if p.period == selected), None)
        ranking.append({"code": s.area, "name": names[s.area].short_vi, "value": point.value if point else None})
    rank(ranking, ind.higher_is_better)
    latest = next((p for p in reversed(nation.points) if p.period == selected), None)
    completeness = None
    if latest is not None and latest.areas is not None:
        completeness = f"{latest.areas.have}/{latest.areas.expected}"
    return ExplorerView(
        indicator=ind,
        freq=chosen,
        view=view,
        views=views,
        areas=wanted,
        asked=len(asked),
        series=series,
        period=selected,
        periods=periods,
        ranking=ranking,
        completeness=completeness,
        provinces=areas_now,
    )


VIEW_PATTERN = "^(level|yoy|ytd)$"


@router.get("/explorer/{code}", response_class=HTMLResponse)
def explorer(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    viewer: ViewerDep,
    code: str,
    freq: str | None = None,
    view: Annotated[str, Query(pattern=VIEW_PATTERN)] = "level",
    area: Annotated[list[str], Query()] = [],  # noqa: B006
    period: str | None = None,
) -> HTMLResponse:
    locale = locale_of(request)
    ind = _get_indicator(_readable(session, viewer), code)
    data = explorer_view(session, ind, freq=freq, view=view, areas=area, period=period)
    unit = view_unit(ind, data.view, locale)
    # At a longer frequency than the indicator's own, a reported point is an official figure that won over adding
    # up the shorter periods: the chart marks it.
    marks_reported = data.view == "level" and data.freq != ind.periodicity
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
        "unit": unit,
        "locale": locale,
    }
    choropleth = {
        "kind": "map",
        "period": data.period,
        "data": [{"name": r["code"], "value": r["value"], "label": r["name"]} for r in data.ranking],
        "unit": unit,
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
            "view_unit": unit,
            "rank_note": rank_note(ind, locale),
            "max_compared": MAX_COMPARED,
            "demo": _is_demo(session),
        },
        fragment="_explorer_body.html",
    )


def _view_title(view: str, locale: str) -> str:
    gettext = translations(locale).gettext
    return {
        "level": gettext("Level"),
        "yoy": gettext("Change on a year earlier"),
        "ytd": gettext("Year to date"),
    }[view]


def _words(locale: str) -> dict[str, str]:
    """Statuses and sources of a point, as a reader of the download says them."""
    gettext = translations(locale).gettext
    return {
        "provisional": gettext("provisional"),
        "final": gettext("final"),
        "estimated": gettext("estimated"),
        "forecast": gettext("forecast"),
        "reported": gettext("reported"),
        "aggregated": gettext("added up"),
        "derived": gettext("computed"),
        "missing": "",
    }


def _long_rows(ind: Indicator, data: ExplorerView, locale: str) -> list[list[Any]]:
    """One row per area and period."""
    gettext = translations(locale).gettext
    words = _words(locale)
    unit = view_unit(ind, data.view, locale)
    header = [
        gettext("Indicator code"),
        gettext("Indicator"),
        gettext("Area code"),
        gettext("Area"),
        gettext("Period"),
        gettext("View"),
        gettext("Value"),
        gettext("Unit"),
        gettext("Status"),
        gettext("Source"),
    ]
    rows: list[list[Any]] = [header]
    title = _view_title(data.view, locale)
    name = ind.name_vi if locale == "vi" else ind.name_en
    for s in data.series:
        area = _area_name(s, locale)
        for p in s.points:
            if p.value is not None and not _partial(p):
                rows.append(
                    [
                        ind.code,
                        name,
                        s.area,
                        area,
                        period_label(p.period, locale),
                        title,
                        round(p.value, ind.decimals),
                        unit,
                        words.get(p.status or "", p.status or ""),
                        words.get(p.source, p.source),
                    ]
                )
    return rows


def _wide_rows(ind: Indicator, data: ExplorerView, locale: str) -> list[list[Any]]:
    """One row per area, one column per period, as a report's table."""
    gettext = translations(locale).gettext
    periods = sorted(
        {p.period for s in data.series for p in s.points if p.value is not None and not _partial(p)},
        key=lambda t: Period.parse(t).start,
    )
    header = [gettext("Area code"), gettext("Area"), gettext("Unit"), *(period_label(p, locale) for p in periods)]
    unit = view_unit(ind, data.view, locale)
    rows: list[list[Any]] = [header]
    for s in data.series:
        values = {p.period: p.value for p in s.points if p.value is not None and not _partial(p)}
        cells = [round(v, ind.decimals) if (v := values.get(p)) is not None else None for p in periods]
        rows.append([s.area, _area_name(s, locale), unit, *cells])
    return rows


def _area_name(s: SeriesView, locale: str) -> str:
    if s.area == "VN":
        return "Cả nước" if locale == "vi" else "Viet Nam"
    return s.area_name_vi


@router.get("/explorer/{code}/download.{fmt}")
def download(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    viewer: ViewerDep,
    code: str,
    fmt: str,
    freq: str | None = None,
    view: Annotated[str, Query(pattern=VIEW_PATTERN)] = "level",
    area: Annotated[list[str], Query()] = [],  # noqa: B006
    layout: Annotated[str, Query(pattern="^(long|wide)$")] = "long",
) -> Response:
    locale = locale_of(request)
    ind = _get_indicator(_readable(session, viewer), code)
    if fmt not in ("csv", "xlsx"):
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no download as '%(format)s'"),
            lazy_gettext("use .csv or .xlsx"),
            status=404,
            format=fmt,
        )
    data = explorer_view(session, ind, freq=freq, view=view, areas=area, period=None)
    rows = (_wide_rows if layout == "wide" else _long_rows)(ind, data, locale)
    if ind.classification == CONFIDENTIAL:
        record_confidential_reads(session=audit_session, request=request, codes=[ind.code])
    name = (
        f"{ind.code}_{data.freq}{'' if data.view == 'level' else '_' + data.view}{'_wide' if layout == 'wide' else ''}"
    )
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
    # The indicator's precision as the cells' number format, so that Excel shows what the page shows.
    shown = "#,##0" + ("." + "0" * ind.decimals if ind.decimals else "")
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, float):
                cell.number_format = shown
    sheet.freeze_panes = "A2" if layout == "long" else "D2"
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
    return render(request, "province_list.html", {"provinces": current_provinces(session), "demo": _is_demo(session)})


@router.get("/provinces/{code}", response_class=HTMLResponse)
def province(request: Request, session: SessionDep, viewer: ViewerDep, code: str) -> HTMLResponse:
    locale = locale_of(request)
    provinces = {a.code: a for a in current_provinces(session)}
    area = provinces.get(code)
    if area is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no province with code '%(area)s'"),
            lazy_gettext("choose one of the 34 provinces from the list"),
            status=404,
            area=code,
        )
    indicators = _readable(session, viewer)
    catalogue = catalogue_snapshot(session)
    versions = data_versions(session)
    prefetch(
        session=session,
        queries=[
            q
            for _group, codes in OVERVIEW
            for ind_code in codes
            if ind_code in indicators
            for q in province_queries(ind_code, list(provinces), ytd_rule(catalogue, indicators[ind_code]))
        ],
        versions=versions,
    )
    rows = []
    for _group, codes in OVERVIEW:
        for ind_code in codes:
            ind = indicators.get(ind_code)
            if ind is None:
                continue
            rule = ytd_rule(catalogue, ind)
            level, ytd = province_queries(ind_code, list(provinces), rule)
            every = cached_series(session=session, query=level, versions=versions)
            mine = next(s for s in every if s.area == code)
            latest = next((p for p in reversed(mine.points) if p.value is not None), None)
            if latest is None:
                continue
            ranked = [
                {"code": s.area, "value": p.value}
                for s in every
                if s.area != "VN"
                for p in s.points
                if p.period == latest.period and p.value is not None
            ]
            rank(ranked, ind.higher_is_better)
            national = next(
                (p.value for s in every if s.area == "VN" for p in s.points if p.period == latest.period), None
            )
            so_far = None
            if ytd is not None and len(Period.parse(latest.period).year_to_date()) > 1:
                cumulated = cached_series(session=session, query=ytd, versions=versions)
                point = next(
                    (p for s in cumulated if s.area == code for p in s.points if p.period == latest.period), None
                )
                if point is not None and point.value is not None:
                    so_far = YearToDate(label=ytd_label(rule or "", latest.period, locale), value=point.value)
            rows.append(
                {
                    "ind": ind,
                    "period": latest.period,
                    "value": latest.value,
                    "national": national,
                    "rank": next((r["rank"] for r in ranked if r["code"] == code), None),
                    "of": len(ranked),
                    "higher_is_better": ind.higher_is_better,
                    "unit": unit_label(ind, locale),
                    "ytd": so_far,
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
