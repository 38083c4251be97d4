"""Forecasts of the store's series: read every series (indicator x area x breakdown) at its indicator's
frequency, forecast them in batches with the engine, store each forecast as a new vintage, and raise an early
warning when a value that arrived since the last vintage falls outside its 95% band.

Keyword-only functions taking a session; they flush, never commit (the caller owns the transaction).
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.models import Area, Indicator
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.events.models import DomainEvent
from govops.events.service import Event, Follower, ReadRule, emit, follow, newest_id, pending
from govops.forecast import engine, thresholds
from govops.forecast.engine import Array
from govops.forecast.models import Forecast, ForecastPoint, ForecastRun, ForecastThreshold, ForecastWarning
from govops.forecast.thresholds import ThresholdIn, delete_threshold, get_threshold, import_thresholds, save_thresholds
from govops.notify.kinds import Kind, register
from govops.notify.service import notify
from govops.periods import Freq, Period
from govops.warehouse.changes import TOPIC as OBSERVATIONS
from govops.warehouse.changes import TYPE as OBSERVATION_CHANGED
from govops.warehouse.models import AreaRollup, Observation

if TYPE_CHECKING:  # pandas and statsmodels are imported when a nowcast is made, not by every command
    from govops.forecast import nowcast as nowcasting

__all__ = ["ThresholdIn", "delete_threshold", "get_threshold", "import_thresholds", "save_thresholds"]

FREQS = {"D": 7, "W": 52, "M": 12, "Q": 4, "A": 1}
# How far the backtest looks ahead: the short and medium horizons a leader reads first.
BACKTEST_STEPS = {"D": 14, "W": 8, "M": 12, "Q": 4, "A": 3}
LONG_YEARS = 10  # annual series: to the end of the next two five-year plans
LONG_YEARS_MQ = 5  # monthly and quarterly series: to the end of the fifth year after their last period's
BATCH = 200
TOPIC = "forecasts"
WARNED_ROLES = ("analyst", "administrator")
MAX_DRIVERS = 3

FORECAST_WARNING = register(
    Kind(
        "forecast_warning",
        subject=lazy_gettext("Early warning: %(indicator)s, %(area)s"),
        body=lazy_gettext(
            "%(indicator)s for %(area)s, %(period)s is %(value)s: outside the 95%% band of its forecast "
            "(%(lower)s to %(upper)s). Contributing most: %(drivers)s."
        ),
        params=("indicator", "area", "period", "value", "lower", "upper", "drivers"),
    )
)
# What a warning of a crossed level says, whether a forecast or a leading indicator crossed it.
CROSSING_PARAMS = (
    "indicator",
    "area",
    "period",
    "value",
    "measure",
    "crossing",
    "level",
    "threshold",
    "source",
    "drivers",
)
FORECAST_CROSSING = register(
    Kind(
        "forecast_crossing",
        subject=lazy_gettext("Early warning: %(indicator)s forecast %(crossing)s %(level)s"),
        body=lazy_gettext(
            "The forecast of %(indicator)s for %(area)s reaches %(value)s (%(measure)s) in %(period)s, "
            "%(crossing)s the level of %(level)s: %(threshold)s (%(source)s). Contributing most: %(drivers)s."
        ),
        params=CROSSING_PARAMS,
    )
)
LEADING_CROSSING = register(
    Kind(
        "leading_crossing",
        subject=lazy_gettext("Early warning: %(indicator)s %(crossing)s %(level)s"),
        body=lazy_gettext(
            "%(indicator)s for %(area)s, %(period)s is %(value)s (%(measure)s): it has crossed %(crossing)s "
            "the level of %(level)s: %(threshold)s (%(source)s). Contributing most: %(drivers)s."
        ),
        params=CROSSING_PARAMS,
    )
)


@dataclass(frozen=True)
class StoreSeries:
    indicator_id: int
    area_id: int
    dim_key: str
    freq: str
    first: Period
    values: Array  # one per period from `first`, NaN where the store has none
    nonnegative: bool

    @property
    def last(self) -> Period:
        return self.first + (len(self.values) - 1)


@dataclass
class RunSummary:
    run_id: int
    series: int = 0
    forecasts: int = 0
    warnings: int = 0
    fallbacks: int = 0


def medium_of(freq: str, last: Period) -> int:
    """Steps to the end of the year after the last period (the medium horizon; at least three, the short one); for
    annual series none: their steps past the short ones are the long horizon."""
    if freq == "A":
        return 0
    if freq in ("M", "Q"):
        end = Period.parse(f"{last.year + 1}-12" if freq == "M" else f"{last.year + 1}-Q4")
        return max(3, end - last)
    return max(3, 2 * FREQS[freq])


def horizon_of(freq: str, last: Period) -> int:
    """How far a series is forecast: monthly and quarterly ones to the end of the fifth year after the last
    period's (past the medium horizon, the long one: a trend scenario with the wide bands it deserves), annual ones
    ten years (the next two five-year plans); daily and weekly ones over the medium horizon only."""
    if freq == "A":
        return LONG_YEARS
    if freq in ("M", "Q"):
        end = Period.parse(f"{last.year + LONG_YEARS_MQ}-12" if freq == "M" else f"{last.year + LONG_YEARS_MQ}-Q4")
        return end - last
    return medium_of(freq, last)


def store_series(*, session: Session, indicator: str | None = None, area: str | None = None) -> list[StoreSeries]:
    """Every series the store holds at its indicator's own frequency (stated values win over roll-ups)."""
    ind_stmt = select(Indicator).where(Indicator.periodicity.in_(tuple(FREQS)), Indicator.formula.is_(None))
    if indicator is not None:
        ind_stmt = ind_stmt.where(Indicator.code == indicator)
    indicators = {i.id: i for i in session.scalars(ind_stmt)}
    if indicator is not None and not indicators:
        raise _unknown_indicator(indicator)
    area_id: int | None = None
    if area is not None:
        area_id = session.scalar(select(Area.id).where(Area.code == area))
        if area_id is None:
            raise GovopsError.of(
                "not_found",
                lazy_gettext("no area '%(area)s'"),
                lazy_gettext("give an area code, e.g. VN or a province's code"),
                status=404,
                area=area,
            )
    points: dict[tuple[int, int, str], dict[str, float]] = defaultdict(dict)
    for model in (AreaRollup, Observation):  # observations second: a stated value wins over the roll-up
        stmt = select(model.indicator_id, model.area_id, model.dim_key, model.period, model.value).where(
            model.indicator_id.in_(indicators)
        )
        if area_id is not None:
            stmt = stmt.where(model.area_id == area_id)
        for ind_id, a_id, dims, label, value in session.execute(stmt):
            points[(ind_id, a_id, dims)][label] = value
    found = []
    for key, by_period in sorted(points.items()):
        ind = indicators[key[0]]
        freq = Freq(ind.periodicity)
        periods: dict[Period, float] = {}
        for text, value in by_period.items():
            try:
                period = Period.parse(text)
            except GovopsError:
                continue
            if period.freq == freq:
                periods[period] = value
        if not periods:
            continue
        first, last = min(periods), max(periods)
        values = np.array([periods.get(first + i, math.nan) for i in range((last - first) + 1)], dtype=np.float64)
        found.append(StoreSeries(key[0], key[1], key[2], ind.periodicity, first, values, not ind.crosses_zero))
    return found


def _unknown_indicator(code: str) -> GovopsError:
    return GovopsError.of(
        "forecast_unknown_indicator",
        lazy_gettext("no indicator %(indicator)s with a daily, weekly, monthly, quarterly or annual series"),
        lazy_gettext("see `govops catalog list` for the codes"),
        status=404,
        indicator=code,
    )


@dataclass
class Computed:
    """Forecasts made, not yet stored: computed outside any transaction (the store is never locked while models
    are fitted)."""

    forecasts: list[tuple[StoreSeries, engine.Forecast]]
    factors: dict[str, dict[str, float]]


def compute(
    *,
    series: Sequence[StoreSeries],
    progress: Callable[[int], None] | None = None,
    fit_many: Callable[[Sequence[Array], int, int, int], list[engine._Fitted]] | None = None,
) -> Computed:
    """Forecast every series given, in batches per frequency and horizon, the bands calibrated per group."""
    groups: dict[tuple[str, int], list[StoreSeries]] = defaultdict(list)
    for s in series:
        groups[(s.freq, horizon_of(s.freq, s.last))].append(s)
    made = Computed([], {})
    for (freq, h), members in groups.items():
        m = FREQS[freq]
        fitted: list[engine._Fitted] = []
        for start in range(0, len(members), BATCH):
            batch = members[start : start + BATCH]
            if fit_many is None:
                fitted += [_fit(s, h, m) for s in batch]
            else:
                fitted += fit_many([s.values for s in batch], h, m, BACKTEST_STEPS[freq])
            if progress is not None:
                progress(len(batch))
        factors = engine.calibration(fitted)
        made.factors[f"{freq}{h}"] = {str(k): v for k, v in factors.items()}
        made.forecasts += [(s, engine.publish(f, factors)) for s, f in zip(members, fitted, strict=True)]
    return made


def store(*, session: Session, computed: Computed, trigger: str, now: datetime | None = None) -> RunSummary:
    """Store a run's forecasts as new vintages, first raising warnings for the values that arrived since each
    series' previous vintage."""
    now = now or utcnow()
    record = ForecastRun(
        started_at=now, trigger=trigger, series=len(computed.forecasts), factors=dict(computed.factors)
    )
    session.add(record)
    session.flush()
    summary = RunSummary(run_id=record.id, series=len(computed.forecasts))
    for s, published in computed.forecasts:
        summary.warnings += check_new_values(session=session, series=s, now=now)
        summary.fallbacks += bool(published.notes)
        _store(session, record.id, s, published, now)
        summary.forecasts += 1
    # Once every vintage of the run is stored: a crossing's drivers read the provinces' forecasts of this run.
    for s, published in computed.forecasts:
        path = {s.last + (i + 1): float(v) for i, v in enumerate(published.mean)}
        summary.warnings += check_thresholds(session=session, series=s, path=path, now=now)
    record.finished_at = utcnow()
    session.flush()
    return summary


def run(
    *,
    session: Session,
    series: Sequence[StoreSeries],
    trigger: str,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> RunSummary:
    """`compute` then `store`, in the caller's session."""
    return store(session=session, computed=compute(series=series, progress=progress), trigger=trigger, now=now)


def stale(*, session: Session, series: Sequence[StoreSeries]) -> list[StoreSeries]:
    """The series with values past their latest vintage's origin, or with no forecast yet."""
    latest_origin = {
        (ind, area, dims): origin
        for ind, area, dims, origin in session.execute(
            select(Forecast.indicator_id, Forecast.area_id, Forecast.dim_key, func.max(Forecast.origin)).group_by(
                Forecast.indicator_id, Forecast.area_id, Forecast.dim_key
            )
        )
    }
    found = []
    for s in series:
        origin = latest_origin.get((s.indicator_id, s.area_id, s.dim_key))
        if origin is None or Period.parse(origin) < s.last:
            found.append(s)
    return found


def _fit(s: StoreSeries, h: int, m: int) -> engine._Fitted:
    return engine.fit_series(
        s.values,
        h=h,
        season_length=m,
        nonnegative=s.nonnegative,
        daily=s.freq == "D",
        backtest_h=BACKTEST_STEPS[s.freq],
    )


def _store(session: Session, run_id: int, s: StoreSeries, f: engine.Forecast, now: datetime) -> None:
    row = Forecast(
        run_id=run_id,
        indicator_id=s.indicator_id,
        area_id=s.area_id,
        dim_key=s.dim_key,
        freq=s.freq,
        origin=str(s.last),
        model=f.model,
        backtest_smape=_finite(f.backtest_smape),
        backtest_mase=_finite(f.backtest_mase),
        notes=list(f.notes),
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(
        ForecastPoint(
            forecast_id=row.id,
            step=i + 1,
            period=str(s.last + (i + 1)),
            mean=float(f.mean[i]),
            lo80=_finite(f.lower[80][i]),
            hi80=_finite(f.upper[80][i]),
            lo95=_finite(f.lower[95][i]),
            hi95=_finite(f.upper[95][i]),
        )
        for i in range(len(f.mean))
    )


def _finite(value: float | np.floating[Any] | None) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def latest(*, session: Session, indicator_id: int, area_id: int, dim_key: str = "") -> Forecast | None:
    return session.scalars(
        select(Forecast)
        .where(Forecast.indicator_id == indicator_id, Forecast.area_id == area_id, Forecast.dim_key == dim_key)
        .order_by(Forecast.created_at.desc(), Forecast.id.desc())
        .limit(1)
    ).first()


def points_of(*, session: Session, forecast_id: int) -> list[ForecastPoint]:
    return list(
        session.scalars(
            select(ForecastPoint).where(ForecastPoint.forecast_id == forecast_id).order_by(ForecastPoint.step)
        )
    )


def check_new_values(*, session: Session, series: StoreSeries, now: datetime | None = None) -> int:
    """Warnings for the values of `series` that arrived after its previous vintage's origin and fall outside
    that vintage's 95% band (each value warned once)."""
    before = latest(session=session, indicator_id=series.indicator_id, area_id=series.area_id, dim_key=series.dim_key)
    if before is None:
        return 0
    origin = Period.parse(before.origin)
    raised = 0
    for point in points_of(session=session, forecast_id=before.id):
        period = Period.parse(point.period)
        index = period - series.first
        if period <= origin or index >= len(series.values) or index < 0:
            continue
        value = float(series.values[index])
        if math.isnan(value) or point.lo95 is None or point.hi95 is None:
            continue
        if point.lo95 <= value <= point.hi95:
            continue
        if _already(session, series, point.period):
            continue
        raise_warning(session=session, series=series, point=point, value=value, now=now)
        raised += 1
    return raised


def _already(session: Session, s: StoreSeries, period: str) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(ForecastWarning)
            .where(
                and_(
                    ForecastWarning.kind == "outside_band",
                    ForecastWarning.indicator_id == s.indicator_id,
                    ForecastWarning.area_id == s.area_id,
                    ForecastWarning.dim_key == s.dim_key,
                    ForecastWarning.period == period,
                )
            )
        )
        or 0
    ) > 0


def drivers(*, session: Session, series: StoreSeries, period: str) -> list[dict[str, Any]]:
    """The areas under the warned one whose own values moved most from their forecasts (or, without one, from
    the period before): their share of the total deviation, largest first."""
    children = session.execute(select(Area.id, Area.code, Area.name_vi).where(Area.parent_id == series.area_id)).all()
    if not children:
        return []
    target = Period.parse(period)
    deviations: list[tuple[str, str, float]] = []
    for child_id, code, name in children:
        now_value = session.scalar(
            select(Observation.value).where(
                Observation.indicator_id == series.indicator_id,
                Observation.area_id == child_id,
                Observation.dim_key == series.dim_key,
                Observation.period == period,
            )
        )
        if now_value is None:
            continue
        expected: float | None = None
        vintage = latest(session=session, indicator_id=series.indicator_id, area_id=child_id, dim_key=series.dim_key)
        if vintage is not None:
            expected = session.scalar(
                select(ForecastPoint.mean).where(
                    ForecastPoint.forecast_id == vintage.id, ForecastPoint.period == period
                )
            )
        if expected is None:
            expected = session.scalar(
                select(Observation.value).where(
                    Observation.indicator_id == series.indicator_id,
                    Observation.area_id == child_id,
                    Observation.dim_key == series.dim_key,
                    Observation.period == str(target - 1),
                )
            )
        if expected is not None:
            deviations.append((code, name, float(now_value) - float(expected)))
    total = sum(abs(d) for _, _, d in deviations)
    if total == 0:
        return []
    ranked = sorted(deviations, key=lambda item: -abs(item[2]))[:MAX_DRIVERS]
    return [
        {"area": code, "name": name, "name_en": name, "deviation": dev, "share": abs(dev) / total}
        for code, name, dev in ranked
    ]


def raise_warning(
    *, session: Session, series: StoreSeries, point: ForecastPoint, value: float, now: datetime | None = None
) -> ForecastWarning:
    """Store the warning, put it on the outbox (webhooks, SSE, change feed) and notify the analysts."""
    now = now or utcnow()
    named = drivers(session=session, series=series, period=point.period)
    warning = ForecastWarning(
        kind="outside_band",
        indicator_id=series.indicator_id,
        area_id=series.area_id,
        dim_key=series.dim_key,
        period=point.period,
        value=value,
        expected=point.mean,
        lower=point.lo95,
        upper=point.hi95,
        drivers=named,
        raised_at=now,
    )
    session.add(warning)
    session.flush()
    ind = session.get(Indicator, series.indicator_id)
    area = session.get(Area, series.area_id)
    assert ind is not None and area is not None
    payload = {
        "warning": warning.id,
        "kind": warning.kind,
        "indicator": ind.code,
        "area": area.code,
        "dims": series.dim_key,
        "period": point.period,
        "value": value,
        "expected": point.mean,
        "lower": point.lo95,
        "upper": point.hi95,
        "drivers": named,
    }
    emit(
        session=session,
        topic=TOPIC,
        type="forecast.warning",
        subject=f"{ind.code}/{area.code}/{point.period}",
        payload=payload,
        rule=ReadRule(classification=ind.classification, indicator=ind.code),
        recorded_by="system",
        now=now,
    )
    people = list(
        session.scalars(select(User.id).where(User.active.is_(True), User.role.in_(WARNED_ROLES)).order_by(User.id))
    )
    if people:
        notify(
            session=session,
            recipients=people,
            kind=FORECAST_WARNING.name,
            params={
                "indicator": ind.code,
                "area": area.name_vi,
                "period": point.period,
                "value": f"{value:,.2f}",
                "lower": f"{point.lo95:,.2f}",
                "upper": f"{point.hi95:,.2f}",
                **_drivers_text(named),
            },
            link="/forecasts/warnings",
            now=now,
        )
    return warning


def _drivers_text(named: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The drivers as the notification names them, in Vietnamese and (as `drivers.en`) in English."""
    return {
        "drivers": ", ".join(f"{d['name']} ({100 * d['share']:.0f}%)" for d in named) or "-",
        "drivers.en": ", ".join(f"{d.get('name_en', d['name'])} ({100 * d['share']:.0f}%)" for d in named) or "-",
    }


def history_of(series: StoreSeries) -> dict[Period, float]:
    return {series.first + i: float(v) for i, v in enumerate(series.values) if math.isfinite(v)}


def check_thresholds(
    *, session: Session, series: StoreSeries, path: dict[Period, float] | None, now: datetime | None = None
) -> int:
    """Warnings for the thresholds of `series` that its forecast (`path`, kind forecast) or its last value (kind
    leading) has crossed, each threshold warned once per period."""
    ind = session.get(Indicator, series.indicator_id)
    assert ind is not None
    found = thresholds.crossings(
        session=session,
        indicator=ind,
        area_id=series.area_id,
        dim_key=series.dim_key,
        history=history_of(series),
        last=series.last,
        path=path,
    )
    for crossing in found:
        raise_crossing(session=session, series=series, indicator=ind, crossing=crossing, now=now)
    return len(found)


def crossing_drivers(
    *, session: Session, series: StoreSeries, indicator: Indicator, crossing: thresholds.Crossing
) -> list[dict[str, Any]]:
    """The provinces or components whose own measure is furthest past the level at the period crossed (on their
    own forecasts for a forecast's crossing), with their share of the excess."""
    threshold = crossing.threshold
    parts = thresholds.components(session=session, indicator=indicator, area_id=series.area_id, dim_key=series.dim_key)
    if not parts:
        return []
    stored = {(s.area_id, s.dim_key): s for s in store_series(session=session, indicator=indicator.code)}
    period = Period.parse(crossing.period)
    found = []
    for area_id, key, code, vi, en in parts:
        part = stored.get((area_id, key))
        if part is None:
            continue
        values = history_of(part)
        if threshold.kind == "forecast":
            values |= {
                p: v for p, v in thresholds.path_of(session, indicator.id, area_id, key).items() if p > part.last
            }
        value = thresholds.measured(values, threshold.measure, indicator.time_aggregation).get(period)
        if value is not None:
            found.append((code, vi, en, thresholds.excess(value, threshold)))
    return thresholds.rank_drivers(found)


def raise_crossing(
    *,
    session: Session,
    series: StoreSeries,
    indicator: Indicator,
    crossing: thresholds.Crossing,
    now: datetime | None = None,
) -> ForecastWarning:
    """A threshold crossed: stored with its drivers, on the outbox, and in the analysts' inbox and e-mail."""
    now = now or utcnow()
    threshold = crossing.threshold
    named = crossing_drivers(session=session, series=series, indicator=indicator, crossing=crossing)
    kind = "threshold" if threshold.kind == "forecast" else "leading"
    warning = ForecastWarning(
        kind=kind,
        indicator_id=series.indicator_id,
        area_id=series.area_id,
        dim_key=series.dim_key,
        period=crossing.period,
        value=crossing.value,
        expected=None,
        lower=threshold.level if threshold.direction == "above" else None,
        upper=threshold.level if threshold.direction == "below" else None,
        drivers=named,
        raised_at=now,
        threshold_id=threshold.id,
    )
    session.add(warning)
    session.flush()
    area = session.get(Area, series.area_id)
    assert area is not None
    emit(
        session=session,
        topic=TOPIC,
        type="forecast.warning",
        subject=f"{indicator.code}/{area.code}/{crossing.period}",
        payload={
            "warning": warning.id,
            "kind": kind,
            "indicator": indicator.code,
            "area": area.code,
            "dims": series.dim_key,
            "period": crossing.period,
            "value": crossing.value,
            "threshold": threshold.code,
            "measure": threshold.measure,
            "direction": threshold.direction,
            "level": threshold.level,
            "source": threshold.source,
            "drivers": named,
        },
        rule=ReadRule(classification=indicator.classification, indicator=indicator.code),
        recorded_by="system",
        now=now,
    )
    people = list(
        session.scalars(select(User.id).where(User.active.is_(True), User.role.in_(WARNED_ROLES)).order_by(User.id))
    )
    if people:
        measure_vi, measure_en = thresholds.MEASURE_WORDS[threshold.measure]
        crossing_vi, crossing_en = thresholds.CROSSING_WORDS[threshold.direction]
        notify(
            session=session,
            recipients=people,
            kind=(FORECAST_CROSSING if kind == "threshold" else LEADING_CROSSING).name,
            params={
                "indicator": f"{indicator.code} ({indicator.name_vi})",
                "indicator.en": f"{indicator.code} ({indicator.name_en})",
                "area": area.name_vi,
                "period": crossing.period,
                "value": f"{crossing.value:,.2f}",
                "measure": measure_vi,
                "measure.en": measure_en,
                "crossing": crossing_vi,
                "crossing.en": crossing_en,
                "level": f"{threshold.level:,.2f}",
                "threshold": threshold.name_vi + (" (DEMO)" if threshold.demo else ""),
                "threshold.en": threshold.name_en + (" (DEMO)" if threshold.demo else ""),
                "source": threshold.source,
                **_drivers_text(named),
            },
            link="/forecasts/warnings",
            now=now,
        )
    return warning


def _watch_start(session: Session) -> int:
    """The watcher starts from the latest forecast run on: the values before it were checked by that run."""
    return newest_id(session=session, before=session.scalar(select(func.max(ForecastRun.started_at))))


WATCHER = Follower(
    name="forecast.watch", topic=OBSERVATIONS, types=frozenset({OBSERVATION_CHANGED}), start=_watch_start
)


def watch_pending(*, session: Session) -> bool:
    """Whether observation changes arrived that the watcher has not read (a read, no lock)."""
    return pending(session=session, follower=WATCHER)


def watch_changes(*, session: Session, now: datetime | None = None, batch: int = 5000) -> tuple[int, int]:
    """Check each value that arrived since the watcher last looked against its series' latest forecast (a value
    outside its 95% band) and thresholds (a leading indicator crossing its level), the series of the areas above
    it too (their totals moved with it). No model is fitted: it runs as each submission is committed. Returns the
    events read and the warnings raised."""
    raised = 0

    def check(session: Session, events: Sequence[Event]) -> None:
        nonlocal raised
        touched: set[tuple[str, str]] = set()
        for event in events:
            parts = event.subject.split("/")
            if len(parts) >= 3:
                touched.add((parts[0], parts[1]))
        raised += _watch(session, touched, now)

    read = follow(session=session, follower=WATCHER, handle=check, batch=batch, now=now)
    return read, raised


def _watch(session: Session, touched: set[tuple[str, str]], now: datetime | None) -> int:
    areas: dict[str, set[str]] = defaultdict(set)
    for indicator, code in touched:
        place = session.scalar(select(Area).where(Area.code == code))
        while place is not None:  # the area and every area above it
            areas[indicator].add(place.code)
            place = session.get(Area, place.parent_id) if place.parent_id is not None else None
    watched = {
        i
        for (i,) in session.execute(
            select(Indicator.id).join(Forecast, Forecast.indicator_id == Indicator.id).distinct()
        )
    } | {i for (i,) in session.execute(select(ForecastThreshold.indicator_id).distinct())}
    codes = {c: i for i, c in session.execute(select(Indicator.id, Indicator.code).where(Indicator.id.in_(watched)))}
    raised = 0
    for indicator, area_codes in areas.items():
        if indicator not in codes:
            continue  # neither forecast nor watched by a threshold
        for area in area_codes:
            for series in store_series(session=session, indicator=indicator, area=area):
                raised += check_new_values(session=session, series=series, now=now)
                raised += check_thresholds(session=session, series=series, path=None, now=now)
    return raised


def series_label(*, session: Session, indicator_id: int, area_id: int) -> str:
    ind, area = session.get(Indicator, indicator_id), session.get(Area, area_id)
    return f"{ind.code if ind else indicator_id}/{area.code if area else area_id}"


def thresholds_page(*, session: Session, limit: int = 50, after: str | None = None) -> list[ForecastThreshold]:
    return thresholds.thresholds_page(session=session, limit=limit, after=after)


def warnings_page(*, session: Session, limit: int = 50, after_id: int | None = None) -> list[ForecastWarning]:
    stmt = select(ForecastWarning).order_by(ForecastWarning.id.desc()).limit(limit)
    if after_id is not None:
        stmt = stmt.where(ForecastWarning.id < after_id)
    return list(session.scalars(stmt))


def codes_of(session: Session, rows: Iterable[ForecastWarning]) -> tuple[dict[int, str], dict[int, str]]:
    listed = list(rows)
    wanted_inds = {r.indicator_id for r in listed}
    wanted_areas = {r.area_id for r in listed}
    inds = {i: c for i, c in session.execute(select(Indicator.id, Indicator.code).where(Indicator.id.in_(wanted_inds)))}
    areas = {i: c for i, c in session.execute(select(Area.id, Area.code).where(Area.id.in_(wanted_areas)))}
    return inds, areas


@dataclass(frozen=True)
class Scored:
    """One past vintage's first forecast step against what happened."""

    origin: str
    model: str
    period: str
    forecast: float
    lower: float | None
    upper: float | None
    actual: float | None

    @property
    def inside(self) -> bool | None:
        if self.actual is None or self.lower is None or self.upper is None:
            return None
        return self.lower <= self.actual <= self.upper


def track_record(*, session: Session, series: StoreSeries, limit: int = 24) -> list[Scored]:
    """The series' past vintages, newest first (one per origin), each first step scored against the value since
    stored."""
    rows = session.execute(
        select(
            Forecast.origin,
            Forecast.model,
            ForecastPoint.period,
            ForecastPoint.mean,
            ForecastPoint.lo95,
            ForecastPoint.hi95,
        )
        .join(ForecastPoint, ForecastPoint.forecast_id == Forecast.id)
        .where(
            Forecast.indicator_id == series.indicator_id,
            Forecast.area_id == series.area_id,
            Forecast.dim_key == series.dim_key,
            ForecastPoint.step == 1,
        )
        .order_by(Forecast.origin.desc(), Forecast.id.desc())
    ).all()
    seen: set[str] = set()
    found = []
    for origin, model, period, mean, lo, hi in rows:
        if origin in seen:
            continue
        seen.add(origin)
        index = Period.parse(period) - series.first
        actual = float(series.values[index]) if 0 <= index < len(series.values) else math.nan
        found.append(Scored(origin, model, period, mean, lo, hi, None if math.isnan(actual) else actual))
        if len(found) >= limit:
            break
    return found


def one_series(*, session: Session, indicator: str, area: str, dim_key: str = "") -> StoreSeries | None:
    found = [s for s in store_series(session=session, indicator=indicator, area=area) if s.dim_key == dim_key]
    return found[0] if found else None


_NOWCASTS: OrderedDict[tuple[object, ...], nowcasting.Nowcast] = OrderedDict()
NOWCASTS_KEPT = 16


def nowcast_of(*, session: Session, indicator: str, area: str = "VN") -> nowcasting.Nowcast:
    """The nowcast of a quarterly indicator's year-on-year growth (a growth rate in percent as stored, or computed
    from levels) from the monthly indicators' growth, for the quarter of the latest monthly release. Kept until
    the next observation change (a model fit takes seconds; a page opened again should not)."""
    newest = session.execute(
        select(func.max(DomainEvent.id), func.max(DomainEvent.recorded_at)).where(DomainEvent.topic == OBSERVATIONS)
    ).one()
    key = (str(session.get_bind().engine.url), indicator, area, *newest)
    if key in _NOWCASTS:
        _NOWCASTS.move_to_end(key)
        return _NOWCASTS[key]
    found = _nowcast(session=session, indicator=indicator, area=area)
    _NOWCASTS[key] = found
    while len(_NOWCASTS) > NOWCASTS_KEPT:
        _NOWCASTS.popitem(last=False)
    return found


def _nowcast(*, session: Session, indicator: str, area: str) -> nowcasting.Nowcast:
    import pandas as pd

    from govops.forecast import nowcast as nowcasting

    targets = store_series(session=session, indicator=indicator, area=area)
    target = next((s for s in targets if s.dim_key == "" and s.freq == "Q"), None)
    if target is None:
        raise GovopsError.of(
            "nowcast_no_target",
            lazy_gettext("%(indicator)s has no quarterly series for %(area)s to nowcast"),
            lazy_gettext("nowcast a quarterly indicator such as GDP_CONST2010 or GDP_FLASH"),
            status=404,
            indicator=indicator,
            area=area,
        )
    ind = session.scalar(select(Indicator).where(Indicator.code == indicator))
    assert ind is not None
    quarters = pd.PeriodIndex([str(target.first + i).replace("-", "") for i in range(len(target.values))], freq="Q")
    quarterly = pd.Series(target.values, index=quarters)
    if ind.unit.code != "PCT":
        quarterly = nowcasting.growth(quarterly, 4)
    columns = {}
    for code in nowcasting.MONTHLY:
        try:
            found = store_series(session=session, indicator=code, area=area)
        except GovopsError:
            continue
        series = next((s for s in found if s.dim_key == "" and s.freq == "M"), None)
        if series is None:
            continue
        months = pd.PeriodIndex([str(series.first + i) for i in range(len(series.values))], freq="M")
        columns[code] = nowcasting.growth(pd.Series(series.values, index=months), 12)
    if not columns or quarterly.notna().sum() < nowcasting.MIN_QUARTERS:
        raise GovopsError.of(
            "nowcast_too_little",
            lazy_gettext(
                "too little data to nowcast %(indicator)s: %(quarters)s quarters and %(monthly)s monthly indicators"
            ),
            lazy_gettext(
                "the nowcast needs at least 8 quarters of the target and one monthly indicator (IIP, retail sales, "
                "exports, imports, CPI)"
            ),
            status=422,
            indicator=indicator,
            quarters=int(quarterly.notna().sum()),
            monthly=len(columns),
        )
    monthly = pd.DataFrame(columns).sort_index()
    monthly = monthly.loc[monthly.notna().any(axis=1)]
    return nowcasting.nowcast(monthly, quarterly)
