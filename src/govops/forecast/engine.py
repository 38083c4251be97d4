"""The forecasting engine: pure functions on numpy series, no store and no HTTP.

For each series: candidate models (AutoETS, DynamicOptimizedTheta, their mean; MSTL for long daily series), a
rolling-origin backtest that picks one per series, a guard that never publishes a model losing to seasonal naive
in that backtest, and prediction intervals at 80% and 95% calibrated by split conformal prediction: the backtest
errors, scaled by the model's own interval half-width, give the factor that makes the bands cover what they say.
Series too short, constant, or with gaps fall back explicitly, and the reason is kept with the forecast.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
T = TypeVar("T")
LEVELS: tuple[int, ...] = (80, 95)

# A single model replaces the combination only if its backtest error is clearly lower: per-series selection on
# one or two windows is noisy, and combinations win on average (the M4 finding).
SINGLE_MODEL_MARGIN = 0.85
# The forms AutoETS searches (error, trend, season; "Z": chosen by AICc): additive errors and seasons for a
# seasonal series, any error without a season otherwise. Measured by bench/forecast.py, the full search costs twice
# the time for no gain in accuracy: the multiplicative seasonal forms seldom win on the competitions' data.
ETS_SEARCH = {True: "AZA", False: "ZZN"}
COMBINATION = "ETS+Theta"
WITH_NAIVE = "ETS+Theta+SeasonalNaive"
SEASONAL_NAIVE = "SeasonalNaive"
NAIVE = "Naive"

# Reasons a forecast fell back, kept with it (codes; the console words them).
TOO_SHORT = "too_short"
CONSTANT = "constant"
GAPS_FILLED = "gaps_filled"
NO_SEASON = "too_short_for_season"
NO_BACKTEST = "too_short_for_backtest"
LOST_TO_NAIVE = "lost_to_seasonal_naive"
CLIPPED = "clipped_at_zero"
NEGATIVE_INPUT = "negative_values"


@dataclass(frozen=True)
class Forecast:
    """A published forecast of one series: the point path, its bands per level, the model, and how it did."""

    mean: Array
    lower: dict[int, Array]
    upper: dict[int, Array]
    model: str
    season_length: int
    backtest_smape: float | None = None
    backtest_mase: float | None = None
    notes: tuple[str, ...] = ()
    # Seasonal naive's score in the same backtest: the published model's is never higher.
    backtest_naive_mase: float | None = None


@dataclass
class _Candidate:
    mean: Array
    half: dict[int, Array]  # the model's own interval half-widths


@dataclass
class _Fitted:
    """One series after selection, before the run's calibration factor is applied."""

    mean: Array
    half: dict[int, Array]
    model: str
    m: int
    smape: float | None
    mase: float | None
    notes: list[str]
    ratios: dict[int, list[float]] = field(default_factory=dict)  # |error| / half-width, from the backtest
    nonnegative: bool = False
    flat: bool = False
    naive_mase: float | None = None  # seasonal naive's score in the same backtest
    # The least half-width per level and step: past the backtested horizon, how far the series itself has strayed
    # from its trend over as many periods (the long horizon's honest width); zero before it.
    floor: dict[int, Array] = field(default_factory=dict)


def smape(actual: Array, predicted: Array) -> float:
    """Symmetric MAPE in percent (M4 definition); a point where both are zero counts as no error."""
    denom = np.abs(actual) + np.abs(predicted)
    terms = np.where(denom == 0, 0.0, 200.0 * np.abs(actual - predicted) / np.where(denom == 0, 1.0, denom))
    return float(np.mean(terms))


def naive_scale(history: Array, m: int) -> float:
    """The in-sample mean absolute error of the seasonal naive forecast (MASE's denominator)."""
    lag = m if len(history) > m else 1
    if len(history) <= lag:
        return float("nan")
    return float(np.mean(np.abs(history[lag:] - history[:-lag])))


def mase(actual: Array, predicted: Array, history: Array, m: int) -> float:
    scale = naive_scale(history, m)
    if not math.isfinite(scale) or scale == 0:
        return float("nan")
    return float(np.mean(np.abs(actual - predicted)) / scale)


def _score(actual: Array, predicted: Array, history: Array, m: int) -> float:
    """The backtest's yardstick: MASE, or the error relative to the level where seasonal naive is exact in-sample
    (a perfectly repeating series has no naive error to scale by)."""
    scale = naive_scale(history, m)
    if not math.isfinite(scale) or scale == 0:
        scale = float(np.mean(np.abs(history))) or 1.0
    return float(np.mean(np.abs(actual - predicted)) / scale)


def _quiet(run: Callable[[], T]) -> T:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return run()


def _halves(out: dict[str, Array], mean: Array) -> dict[int, Array]:
    halves: dict[int, Array] = {}
    for level in LEVELS:
        hi, lo = out.get(f"hi-{level}"), out.get(f"lo-{level}")
        if hi is None or lo is None:
            halves[level] = np.full_like(mean, np.nan)
        else:
            halves[level] = np.maximum((np.asarray(hi, float) - np.asarray(lo, float)) / 2.0, 0.0)
    return halves


def _ets(y: Array, h: int, m: int, spec: str | None, fitted: Any = None) -> tuple[_Candidate, str, Any]:
    """AutoETS on `y`: searched (spec None), of a given form, or, for a backtest window, the model fitted on the
    whole series applied to the window's history (`fitted`: its states filtered again, no parameter estimated)."""
    from statsforecast.models import AutoETS

    if fitted is not None:
        out = _quiet(lambda: fitted.forward(y=y, h=h, level=list(LEVELS)))
    else:
        if spec is None:
            model = AutoETS(season_length=m, model=ETS_SEARCH[m > 1])
        else:
            model = AutoETS(season_length=m, model=spec[:3], damped=spec[3] == "D")
        fitted = _quiet(lambda: model.fit(y))
        out = _quiet(lambda: fitted.predict(h=h, level=list(LEVELS)))
    mean = np.asarray(out["mean"], float)
    if not np.all(np.isfinite(mean)):
        raise ValueError("ETS gave no finite forecast")
    return _Candidate(mean, _halves(out, mean)), str(fitted.model_["components"]), fitted


def _theta(y: Array, h: int, m: int, fitted: Any = None) -> tuple[_Candidate, Any]:
    from statsforecast.models import DynamicOptimizedTheta

    if fitted is not None:
        out = _quiet(lambda: fitted.forward(y=y, h=h, level=list(LEVELS)))
    else:
        fitted = _quiet(lambda: DynamicOptimizedTheta(season_length=m).fit(y))
        out = _quiet(lambda: fitted.predict(h=h, level=list(LEVELS)))
    mean = np.asarray(out["mean"], float)
    if not np.all(np.isfinite(mean)):
        raise ValueError("Theta gave no finite forecast")
    return _Candidate(mean, _halves(out, mean)), fitted


def _mstl(y: Array, h: int, m: int) -> _Candidate:
    from statsforecast.models import MSTL, AutoETS

    model = MSTL(season_length=[m], trend_forecaster=AutoETS(model="ZZN"))
    out = _quiet(lambda: model.forecast(y=y, h=h, level=list(LEVELS)))
    mean = np.asarray(out["mean"], float)
    return _Candidate(mean, _halves(out, mean))


def seasonal_naive(y: Array, h: int, m: int) -> _Candidate:
    """The last season repeated; its half-widths from the in-sample seasonal differences (normal, growing with
    the number of seasons ahead)."""
    lag = m if len(y) > m else 1
    season = y[-lag:]
    mean = np.array([season[i % lag] for i in range(h)], dtype=float)
    diffs = y[lag:] - y[:-lag] if len(y) > lag else np.zeros(1)
    sigma = float(np.sqrt(np.mean(diffs**2))) if len(diffs) else 0.0
    steps = np.arange(h) // lag + 1
    z = {80: 1.2815515655446004, 95: 1.959963984540054}
    return _Candidate(mean, {level: z[level] * sigma * np.sqrt(steps) for level in LEVELS})


@dataclass
class _Models:
    """The models fitted on the whole series, that each backtest window applies to its own history."""

    ets: Any = None
    theta: Any = None
    spec: str | None = None


def _candidates(y: Array, h: int, m: int, daily: bool, models: _Models | None) -> tuple[dict[str, _Candidate], _Models]:
    """Every candidate's forecast of `y`. Without `models`, each is fitted (the final forecast); with them, the
    whole series' fits are applied to `y` (a backtest window: the same models at a fraction of the cost), falling
    back to a fit of the same form where that fails."""
    found: dict[str, _Candidate] = {}
    made = _Models()
    # ETS refuses series shorter than its parameters need ("tiny datasets"): the whole series' model, then its
    # form refitted, then the automatic search, then none (Theta alone).
    tries: list[tuple[str | None, Any]] = []
    if models is not None and models.ets is not None:
        tries.append((models.spec, models.ets))
    tries += [(tried, None) for tried in dict.fromkeys([models.spec if models else None, None])]
    for tried, fitted in tries:
        try:
            found["AutoETS"], made.spec, made.ets = _ets(y, h, m, tried, fitted)
            break
        except (NotImplementedError, ValueError, ZeroDivisionError, IndexError, np.linalg.LinAlgError):
            continue
    theta: _Candidate | None = None
    if models is not None and models.theta is not None:
        try:
            theta, made.theta = _theta(y, h, m, models.theta)
        except (ValueError, ZeroDivisionError, IndexError, np.linalg.LinAlgError):
            theta = None
    if theta is None:
        theta, made.theta = _theta(y, h, m)
    found["DynamicOptimizedTheta"] = theta
    ets = found.get("AutoETS")
    found[COMBINATION] = (
        theta
        if ets is None
        else _Candidate((ets.mean + theta.mean) / 2.0, {lv: (ets.half[lv] + theta.half[lv]) / 2.0 for lv in LEVELS})
    )
    if daily and m > 1 and len(y) >= 2 * m + 1:
        found["MSTL"] = _mstl(y, h, m)
    naive = found[SEASONAL_NAIVE] = seasonal_naive(y, h, m)
    both = found[COMBINATION]
    # What the naive guard falls back to first: the combination pulled towards the last season.
    found[WITH_NAIVE] = _Candidate(
        (2 * both.mean + naive.mean) / 3.0, {lv: (2 * both.half[lv] + naive.half[lv]) / 3.0 for lv in LEVELS}
    )
    return found, made


def _windows(n: int, h: int, m: int) -> list[int]:
    """Training lengths of the rolling origins: up to three, half a horizon apart, each leaving enough to fit on."""
    least = max(2 * m + 2, 8) if m > 1 else 6
    step = max(1, h // 2)
    return [n - h - k * step for k in (2, 1, 0) if n - h - k * step >= least]


def fit_series(
    y: Sequence[float] | Array,
    *,
    h: int,
    season_length: int,
    nonnegative: bool = False,
    daily: bool = False,
    backtest_h: int | None = None,
) -> _Fitted:
    """Select, fit and backtest one series; the run's calibration is applied afterwards (see `calibrate`)."""
    values = np.asarray(y, dtype=float)
    notes: list[str] = []
    # Leading and trailing gaps are dropped; inner gaps are filled by linear interpolation, and said so.
    present = np.flatnonzero(np.isfinite(values))
    if len(present) == 0:
        raise ValueError("a series with no values")
    values = values[present[0] : present[-1] + 1]
    if not np.all(np.isfinite(values)):
        where = np.isfinite(values)
        idx = np.arange(len(values))
        values = np.interp(idx, idx[where], values[where])
        notes.append(GAPS_FILLED)
    if nonnegative and np.any(values < 0):
        notes.append(NEGATIVE_INPUT)
        nonnegative = False
    m = season_length
    if len(values) < 3:
        mean = np.full(h, values[-1])
        return _Fitted(mean, {lv: np.full(h, np.nan) for lv in LEVELS}, NAIVE, 1, None, None, [*notes, TOO_SHORT])
    if float(np.ptp(values)) == 0.0:
        mean = np.full(h, values[-1])
        flat = {lv: np.zeros(h) for lv in LEVELS}
        return _Fitted(mean, flat, NAIVE, 1, None, None, [*notes, CONSTANT], flat=True)
    if m > 1 and len(values) < 2 * m + 2:
        notes.append(NO_SEASON)
        m = 1
    final, models = _candidates(values, h, m, daily, None)
    scores: dict[str, list[float]] = {name: [] for name in final}
    smapes: dict[str, list[float]] = {name: [] for name in scores}
    errors: dict[str, list[tuple[Array, dict[int, Array]]]] = {name: [] for name in scores}
    ahead = min(h, backtest_h) if backtest_h else h  # a long horizon is backtested on its first steps
    # The first origin fits the chosen forms on its own history; the later origins apply those fits to theirs (their
    # states filtered again, no parameter estimated): no window's forecast has seen the values it is scored on.
    reused = _Models(spec=models.spec)
    for train in _windows(len(values), ahead, m):
        history, actual = values[:train], values[train : train + ahead]
        window, made = _candidates(history, ahead, m, daily, reused)
        if reused.ets is None and reused.theta is None:
            reused = made
        for name, cand in window.items():
            scores[name].append(_score(actual, cand.mean, history, m))
            smapes[name].append(smape(actual, cand.mean))
            errors[name].append((np.abs(actual - cand.mean), cand.half))
    if not scores[COMBINATION]:
        notes.append(NO_BACKTEST)
        chosen = final[COMBINATION]
        floor = trend_floor(values, chosen.mean, m=m, start=ahead) if ahead < h else {}
        return _Fitted(
            chosen.mean, chosen.half, COMBINATION, m, None, None, notes, nonnegative=nonnegative, floor=floor
        )
    score = {name: _mean(found) for name, found in scores.items()}
    name = COMBINATION
    for single in ("AutoETS", "DynamicOptimizedTheta", "MSTL"):
        if single in score and score[single] < SINGLE_MODEL_MARGIN * score[name]:
            name = single
    if score[name] > score[SEASONAL_NAIVE]:
        # The choice lost to seasonal naive: the best other candidate that did not, else seasonal naive itself.
        notes.append(LOST_TO_NAIVE)
        name = min(
            (n for n in score if n != SEASONAL_NAIVE and score[n] <= score[SEASONAL_NAIVE]),
            key=score.__getitem__,
            default=SEASONAL_NAIVE,
        )
    chosen = final[name]
    floor = trend_floor(values, chosen.mean, m=m, start=ahead) if ahead < h else {}
    ratios: dict[int, list[float]] = {lv: [] for lv in LEVELS}
    for err, half in errors[name]:
        for lv in LEVELS:
            with np.errstate(all="ignore"):
                r = np.where(half[lv] > 0, err / np.where(half[lv] > 0, half[lv], 1.0), np.where(err > 0, np.inf, 0.0))
            ratios[lv].extend(float(v) for v in r if not math.isnan(v))
    return _Fitted(
        chosen.mean,
        chosen.half,
        name,
        m,
        _mean(smapes[name]),
        score[name],
        notes,
        ratios=ratios,
        nonnegative=nonnegative,
        naive_mase=score[SEASONAL_NAIVE],
        floor=floor,
    )


def trend_floor(values: Array, mean: Array, *, m: int, start: int) -> dict[int, Array]:
    """Per level, the half-width that covers how far the series may stray from its trend over k periods, for each
    step k from `start` on (zero before). On the season-averaged series (in logs when it is positive), the errors of
    its drift line over every stretch of one season give a base quantile, grown as a random walk's with an
    estimated drift: sqrt(k / m') * sqrt(1 + k / n), m' the season less what the averaging smoothed away; where
    the history has stretches of k periods, their own quantile if it is wider. The long horizon's bands are never
    narrower: a model backtested over a year or two says little about its error five or ten years out."""
    h = len(mean)
    zeros = {lv: np.zeros(h) for lv in LEVELS}
    if start >= h:
        return zeros
    window = m if m > 1 and len(values) >= 2 * m else 1
    smooth = np.convolve(values, np.ones(window) / window, mode="valid") if window > 1 else values
    if len(smooth) < 6:
        return zeros
    logs = bool(np.all(smooth > 0))
    z = np.log(smooth) if logs else smooth
    n = len(z)
    drift = (z[-1] - z[0]) / (n - 1)
    base_k = max(min(max(m, 1), n // 3), window)
    # A stretch of the averaged series varies less than the series' own over as many periods (for a random walk,
    # by (w^2 - 1) / 3w periods' worth for an average over w): the base quantile is scaled up by it.
    effective = base_k - (window**2 - 1) / (3 * window)
    longest = max(1, (n - 1) // 2)
    steps = np.arange(1, h + 1)
    out = {}
    for lv in LEVELS:
        base = float(np.quantile(np.abs(z[base_k:] - z[:-base_k] - base_k * drift), lv / 100))
        grown = base * np.sqrt(steps / effective) * np.sqrt(1 + steps / n)
        for k in range(1, min(h, longest) + 1):
            own = float(np.quantile(np.abs(z[k:] - z[:-k] - k * drift), lv / 100))
            grown[k - 1] = max(grown[k - 1], own)
        grown = np.maximum.accumulate(grown)  # a band never narrows further out
        half = np.abs(mean) * np.expm1(grown) if logs else grown
        out[lv] = np.where(steps > start, half, 0.0)
    return out


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("inf")


def calibration(fitted: Sequence[_Fitted]) -> dict[int, float]:
    """Per level, the factor on the models' half-widths that makes the pooled backtest errors covered at that
    level (split conformal, with the finite-sample correction); 1 when no backtest gave any error."""
    factors: dict[int, float] = {}
    for lv in LEVELS:
        pooled = np.array([r for f in fitted for r in f.ratios.get(lv, [])], dtype=float)
        if len(pooled) < 5:
            factors[lv] = 1.0
            continue
        q = min(1.0, math.ceil((len(pooled) + 1) * lv / 100) / len(pooled))
        found = float(np.quantile(pooled, q, method="higher"))
        factors[lv] = found if math.isfinite(found) and found > 0 else 1.0
    return factors


def publish(fitted: _Fitted, factors: dict[int, float]) -> Forecast:
    lower: dict[int, Array] = {}
    upper: dict[int, Array] = {}
    mean = fitted.mean.copy()
    notes = list(fitted.notes)
    for lv in LEVELS:
        half = fitted.half[lv] * (1.0 if fitted.flat else factors.get(lv, 1.0))
        if lv in fitted.floor:
            half = np.fmax(half, fitted.floor[lv])
        lower[lv], upper[lv] = mean - half, mean + half
    if fitted.nonnegative and (np.any(mean < 0) or any(np.any(b < 0) for b in lower.values())):
        notes.append(CLIPPED)
        mean = np.maximum(mean, 0.0)
        lower = {lv: np.maximum(b, 0.0) for lv, b in lower.items()}
        upper = {lv: np.maximum(b, 0.0) for lv, b in upper.items()}
    return Forecast(
        mean=mean,
        lower=lower,
        upper=upper,
        model=fitted.model,
        season_length=fitted.m,
        backtest_smape=fitted.smape,
        backtest_mase=fitted.mase,
        notes=tuple(dict.fromkeys(notes)),
        backtest_naive_mase=fitted.naive_mase,
    )


def forecast_many(
    series: Sequence[Sequence[float] | Array],
    *,
    h: int,
    season_length: int,
    nonnegative: Sequence[bool] | None = None,
    daily: bool = False,
    factors: dict[int, float] | None = None,
    backtest_h: int | None = None,
) -> tuple[list[Forecast], dict[int, float]]:
    """Forecast each series h steps ahead; the bands are calibrated on the backtests of the whole batch (or with
    the `factors` given, e.g. from a bigger run). Returns the forecasts and the factors used."""
    fitted = [
        fit_series(
            y,
            h=h,
            season_length=season_length,
            nonnegative=bool(nonnegative and nonnegative[i]),
            daily=daily,
            backtest_h=backtest_h,
        )
        for i, y in enumerate(series)
    ]
    used = factors if factors is not None else calibration(fitted)
    return [publish(f, used) for f in fitted], used


def forecast_one(y: Sequence[float] | Array, *, h: int, season_length: int, nonnegative: bool = False) -> Forecast:
    found, _ = forecast_many([y], h=h, season_length=season_length, nonnegative=[nonnegative])
    return found[0]


def with_notes(forecast: Forecast, *notes: str) -> Forecast:
    return replace(forecast, notes=tuple(dict.fromkeys([*forecast.notes, *notes])))
