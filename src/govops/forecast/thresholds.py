"""Levels the Government cares about, and the two kinds of early warning they raise: a series whose forecast
crosses its level (CPI's average inflation forecast above the year's ceiling), and a leading indicator whose new
value crosses its alarm line. Each warning names its drivers: the provinces, or the components of the series,
whose own measure is furthest past the level, with their share of the excess.

Keyword-only functions taking a session; they flush, never commit. Reached through `govops.forecast.service`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from govops.catalog.dimensions import parse_dim_key
from govops.catalog.models import Area, CodeItem, Codelist, Indicator
from govops.db.base import utcnow
from govops.errors import GovopsError, Problem, lazy_gettext
from govops.forecast.models import Forecast, ForecastPoint, ForecastThreshold, ForecastWarning
from govops.periods import Period

KINDS = ("forecast", "leading")
MEASURES = ("level", "yoy", "ytd_yoy")
DIRECTIONS = ("above", "below")
MAX_DRIVERS = 3
# How each measure and crossing reads in a warning, per language (notifications carry both).
MEASURE_WORDS = {
    "level": ("giá trị", "value"),
    "yoy": ("tăng so với cùng kỳ, %", "year-on-year change, %"),
    "ytd_yoy": ("bình quân từ đầu năm so với cùng kỳ, %", "year to date on a year earlier, %"),
}
CROSSING_WORDS = {"above": ("vượt trên", "above"), "below": ("xuống dưới", "below")}


@dataclass(frozen=True)
class ThresholdIn:
    code: str
    kind: str
    indicator: str
    level: float
    name_vi: str
    name_en: str
    source: str
    area: str = "VN"
    dims: str = ""
    measure: str = "level"
    direction: str = "above"
    year: int | None = None
    demo: bool = False


def _problem(field: str, message: str, hint: str, where: str, **params: Any) -> Problem:
    return Problem.of("forecast_bad_threshold", message, hint, field=field, where=where, **params)


def save_thresholds(
    *, session: Session, given: Sequence[ThresholdIn], by: str, where: str = "thresholds", now: datetime | None = None
) -> list[ForecastThreshold]:
    """Create or update thresholds by code: all of them, or none when one is wrong (each problem named by its
    threshold and field)."""
    problems: list[Problem] = []
    resolved: list[tuple[ThresholdIn, Indicator | None, int | None]] = []
    for n, t in enumerate(given, start=1):
        place = f"{where}: {t.code or n}"
        ind = session.scalar(select(Indicator).where(Indicator.code == t.indicator))
        area_id = session.scalar(select(Area.id).where(Area.code == t.area))
        if not t.code or len(t.code) > 40 or not t.code.replace("_", "").replace("-", "").isalnum():
            problems.append(
                _problem(
                    "code",
                    lazy_gettext("the code %(code)s is not letters, digits, '-' and '_' (at most 40)"),
                    lazy_gettext("give a short code, e.g. CPI_CEILING_2026"),
                    place,
                    code=t.code,
                )
            )
        if ind is None or ind.formula is not None:
            problems.append(
                _problem(
                    "indicator",
                    lazy_gettext("no stored indicator %(indicator)s to watch"),
                    lazy_gettext("name a stored (not derived) indicator; a derived one is watched through measure"),
                    place,
                    indicator=t.indicator,
                )
            )
        if area_id is None:
            problems.append(
                _problem(
                    "area",
                    lazy_gettext("no area '%(area)s'"),
                    lazy_gettext("give an area code, e.g. VN or a province's code"),
                    place,
                    area=t.area,
                )
            )
        for field, value, allowed in (
            ("kind", t.kind, KINDS),
            ("measure", t.measure, MEASURES),
            ("direction", t.direction, DIRECTIONS),
        ):
            if value not in allowed:
                problems.append(
                    _problem(
                        field,
                        lazy_gettext("%(given)s is not one of %(choices)s"),
                        lazy_gettext("use one of %(choices)s"),
                        place,
                        given=value,
                        choices=", ".join(allowed),
                    )
                )
        if not math.isfinite(t.level):
            problems.append(
                _problem("level", lazy_gettext("the level must be a number"), lazy_gettext("e.g. 4.5"), place)
            )
        if t.year is not None and not 1900 <= t.year <= 2200:
            problems.append(
                _problem(
                    "year",
                    lazy_gettext("the year %(year)s is out of range"),
                    lazy_gettext("give the year the level is set for, e.g. 2026, or none for every year"),
                    place,
                    year=t.year,
                )
            )
        for field, text in (("name_vi", t.name_vi), ("name_en", t.name_en), ("source", t.source)):
            if not text.strip() or len(text) > 300:
                problems.append(
                    _problem(
                        field,
                        lazy_gettext("%(name)s is empty or longer than 300 characters"),
                        lazy_gettext("name the level in Vietnamese and English, and cite its legal source"),
                        place,
                        name=field,
                    )
                )
        resolved.append((t, ind, area_id))
    if problems:
        refused = GovopsError.of(
            "forecast_thresholds_rejected",
            lazy_gettext("%(count)s problem(s) in the thresholds; nothing was saved"),
            lazy_gettext("fix the thresholds listed and send them again"),
            where=where,
            count=len(problems),
        )
        refused.problems = problems
        raise refused
    now = now or utcnow()
    saved = []
    for t, ind, area_id in resolved:
        assert ind is not None and area_id is not None
        row = session.scalar(select(ForecastThreshold).where(ForecastThreshold.code == t.code))
        if row is None:
            row = ForecastThreshold(code=t.code, created_by=by, created_at=now)
            session.add(row)
        row.kind, row.indicator_id, row.area_id, row.dim_key = t.kind, ind.id, area_id, t.dims
        row.measure, row.direction, row.level, row.year = t.measure, t.direction, float(t.level), t.year
        row.name_vi, row.name_en, row.source, row.demo = t.name_vi.strip(), t.name_en.strip(), t.source, t.demo
        saved.append(row)
    session.flush()
    return saved


def import_thresholds(
    *, session: Session, text: str, where: str, by: str, demo: bool = False
) -> list[ForecastThreshold]:
    """Thresholds from YAML: a list under `thresholds:`, each with the fields of `ThresholdIn`."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GovopsError.of(
            "forecast_bad_thresholds_file",
            lazy_gettext("%(file)s is not valid YAML: %(reason)s"),
            lazy_gettext("a list of thresholds under `thresholds:`"),
            where=where,
            file=where,
            reason=str(exc).splitlines()[0],
        ) from None
    items = doc.get("thresholds") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise GovopsError.of(
            "forecast_bad_thresholds_file",
            lazy_gettext("%(file)s is not valid YAML: %(reason)s"),
            lazy_gettext("a list of thresholds under `thresholds:`"),
            where=where,
            file=where,
            reason="no list under `thresholds:`",
        )
    fields = set(ThresholdIn.__dataclass_fields__)
    given = []
    for n, item in enumerate(items, start=1):
        unknown = sorted(set(item) - fields)
        missing = sorted(
            f for f in ("code", "kind", "indicator", "level", "name_vi", "name_en", "source") if f not in item
        )
        if unknown or missing:
            raise GovopsError.of(
                "forecast_bad_thresholds_file",
                lazy_gettext("threshold %(number)s: unknown fields %(unknown)s, missing %(missing)s"),
                lazy_gettext("the fields are %(fields)s"),
                where=f"{where}: {item.get('code', n)}",
                number=n,
                unknown=", ".join(unknown) or "-",
                missing=", ".join(missing) or "-",
                fields=", ".join(sorted(fields)),
            )
        try:
            level = float(item["level"])
            year = None if item.get("year") is None else int(item["year"])
        except (TypeError, ValueError):
            raise GovopsError.of(
                "forecast_bad_thresholds_file",
                lazy_gettext("threshold %(number)s: the level and the year must be numbers"),
                lazy_gettext("e.g. level: 4.5, year: 2026"),
                where=f"{where}: {item.get('code', n)}",
                number=n,
            ) from None
        given.append(
            ThresholdIn(
                **{k: str(v) for k, v in item.items() if k not in ("level", "year", "demo")},
                level=level,
                year=year,
                demo=bool(item.get("demo", demo)),
            )
        )
    return save_thresholds(session=session, given=given, by=by, where=where)


def delete_threshold(*, session: Session, code: str) -> ForecastThreshold:
    row = get_threshold(session=session, code=code)
    session.execute(delete(ForecastWarning).where(ForecastWarning.threshold_id == row.id))
    session.delete(row)
    session.flush()
    return row


def get_threshold(*, session: Session, code: str) -> ForecastThreshold:
    row = session.scalar(select(ForecastThreshold).where(ForecastThreshold.code == code))
    if row is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no threshold %(threshold)s"),
            lazy_gettext("see the list of thresholds"),
            status=404,
            threshold=code,
        )
    return row


def thresholds_page(*, session: Session, limit: int = 50, after: str | None = None) -> list[ForecastThreshold]:
    stmt = select(ForecastThreshold).order_by(ForecastThreshold.code).limit(limit)
    if after is not None:
        stmt = stmt.where(ForecastThreshold.code > after)
    return list(session.scalars(stmt))


def of_series(*, session: Session, indicator_id: int, area_id: int, dim_key: str) -> list[ForecastThreshold]:
    return list(
        session.scalars(
            select(ForecastThreshold)
            .where(
                ForecastThreshold.indicator_id == indicator_id,
                ForecastThreshold.area_id == area_id,
                ForecastThreshold.dim_key == dim_key,
            )
            .order_by(ForecastThreshold.id)
        )
    )


# --- measures ------------------------------------------------------------------------------------------------


def measured(values: Mapping[Period, float], measure: str, time_rule: str) -> dict[Period, float]:
    """The measure of a series at each period it is defined: the value; its % change on a year earlier; or its
    year to date (by the indicator's time rule: summed, averaged, or the last) on the same part of the year
    before, which for CPI is the average inflation since January."""
    if measure == "level":
        return dict(values)
    source = dict(values) if measure == "yoy" else _year_to_date(values, time_rule)
    out = {}
    for period, value in source.items():
        before = source.get(period.same_period_last_year())
        if before is not None and before != 0:
            out[period] = 100.0 * (value / before - 1.0)
    return out


def _year_to_date(values: Mapping[Period, float], rule: str) -> dict[Period, float]:
    out: dict[Period, float] = {}
    sums: dict[int, tuple[int, float]] = {}
    for period in sorted(values, key=lambda p: p.start):
        first = period.year_to_date()[0]
        count, total = sums.get(period.year, (0, 0.0))
        count, total = count + 1, total + values[period]
        sums[period.year] = (count, total)
        if count != (period - first) + 1:
            continue  # a period missing since January: no year to date
        out[period] = total / count if rule == "mean" else values[period] if rule == "last" else total
    return out


def beyond(value: float, threshold: ForecastThreshold) -> bool:
    return value > threshold.level if threshold.direction == "above" else value < threshold.level


def excess(value: float, threshold: ForecastThreshold) -> float:
    return value - threshold.level if threshold.direction == "above" else threshold.level - value


def in_year(period: Period, threshold: ForecastThreshold) -> bool:
    return threshold.year is None or period.year == threshold.year


# --- warnings ------------------------------------------------------------------------------------------------


def already(session: Session, threshold: ForecastThreshold, period: str) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(ForecastWarning)
        .where(ForecastWarning.threshold_id == threshold.id, ForecastWarning.period == period)
    )
    return bool(found)


@dataclass(frozen=True)
class Crossing:
    threshold: ForecastThreshold
    period: str
    value: float  # the measure that crossed


def crossings(
    *,
    session: Session,
    indicator: Indicator,
    area_id: int,
    dim_key: str,
    history: Mapping[Period, float],
    last: Period,
    path: Mapping[Period, float] | None,
) -> list[Crossing]:
    """The thresholds of a series crossed and not yet warned: of kind `forecast`, the first forecast period
    (`path`: the point forecast after `last`) whose measure is past the level; of kind `leading`, the last
    observed period when its measure is past the level and the period before's was not."""
    found = []
    for threshold in of_series(session=session, indicator_id=indicator.id, area_id=area_id, dim_key=dim_key):
        if threshold.kind == "forecast":
            if not path:
                continue
            series = measured({**history, **path}, threshold.measure, indicator.time_aggregation)
            hit = next(
                (
                    (p, v)
                    for p, v in sorted(series.items(), key=lambda item: item[0].start)
                    if p > last and in_year(p, threshold) and beyond(v, threshold)
                ),
                None,
            )
        else:
            series = measured(history, threshold.measure, indicator.time_aggregation)
            now_value, before = series.get(last), series.get(last - 1)
            crossed = (
                now_value is not None
                and in_year(last, threshold)
                and beyond(now_value, threshold)
                and (before is None or not beyond(before, threshold))
            )
            hit = (last, now_value) if crossed and now_value is not None else None
        if hit is not None and not already(session, threshold, str(hit[0])):
            found.append(Crossing(threshold, str(hit[0]), float(hit[1])))
    return found


def components(
    *, session: Session, indicator: Indicator, area_id: int, dim_key: str
) -> list[tuple[int, str, str, str, str]]:
    """The parts of a series that add up to it: the provinces under its area (same breakdown), and for a total
    the first-level breakdowns of the same area. (area id, dim key, code, name in Vietnamese, in English)."""
    parts: list[tuple[int, str, str, str, str]] = [
        (child_id, dim_key, code, name, name)
        for child_id, code, name in session.execute(
            select(Area.id, Area.code, Area.name_vi).where(Area.parent_id == area_id).order_by(Area.code)
        )
    ]
    if dim_key == "" and indicator.dimension_codes:
        dimension = indicator.dimension_codes[0]
        for item_code, vi, en in session.execute(
            select(CodeItem.code, CodeItem.name_vi, CodeItem.name_en)
            .join(Codelist, Codelist.id == CodeItem.codelist_id)
            .where(Codelist.code == dimension)
            .order_by(CodeItem.position)
        ):
            if "." not in item_code:  # first-level components only
                parts.append((area_id, f"{dimension}={item_code}", item_code, vi, en))
    return parts


def path_of(session: Session, indicator_id: int, area_id: int, dim_key: str) -> dict[Period, float]:
    """The latest vintage's point forecast of a series, by period."""
    latest = session.scalar(
        select(Forecast.id)
        .where(Forecast.indicator_id == indicator_id, Forecast.area_id == area_id, Forecast.dim_key == dim_key)
        .order_by(Forecast.created_at.desc(), Forecast.id.desc())
        .limit(1)
    )
    if latest is None:
        return {}
    return {
        Period.parse(p): float(v)
        for p, v in session.execute(
            select(ForecastPoint.period, ForecastPoint.mean).where(ForecastPoint.forecast_id == latest)
        )
    }


def rank_drivers(found: list[tuple[str, str, str, float]]) -> list[dict[str, Any]]:
    """(code, name vi, name en, excess past the level): those past it, largest first, with their share."""
    past = [f for f in found if f[3] > 0]
    total = sum(f[3] for f in past)
    if total <= 0:
        return []
    ranked = sorted(past, key=lambda f: -f[3])[:MAX_DRIVERS]
    return [
        {"area": code, "name": vi, "name_en": en, "deviation": value, "share": value / total}
        for code, vi, en, value in ranked
    ]


def parse_key(key: str) -> dict[str, str]:
    return parse_dim_key(key)
