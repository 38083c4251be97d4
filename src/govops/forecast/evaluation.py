"""`govops forecast evaluate`: any series in the long layout `unique_id,ds,y`, the last H points of each held out,
forecast by the engine and, side by side in the same run, by statsforecast's AutoETS, DynamicOptimizedTheta and
their median ensemble; scored by sMAPE, MASE and the 80/95% coverage of the bands."""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from govops.errors import GovopsError, Problem, lazy_gettext
from govops.forecast import engine
from govops.forecast.engine import Array

SEASON_LENGTH = {"D": 7, "W": 52, "M": 12, "Q": 4, "A": 1}
COLUMNS = ("unique_id", "ds", "y")
GOVOPS = "govops"
BASELINES = ("AutoETS", "DynamicOptimizedTheta", "Ensemble(median)")
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Series:
    key: str
    values: Array


@dataclass
class Scores:
    """Per method, one row per series: sMAPE, MASE, share of the held-out points inside the 80% and 95% bands."""

    rows: dict[str, list[tuple[str, float, float, float, float]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)

    def summary(self) -> list[tuple[str, float, float, float, float, float]]:
        """method, mean sMAPE, mean MASE, 80% coverage, 95% coverage (percent), ms per series."""
        out = []
        for method, rows in self.rows.items():
            table = np.array([r[1:] for r in rows], dtype=float)
            means = [float(np.nanmean(table[:, i])) for i in range(4)]
            per_series = 1000 * self.seconds.get(method, math.nan) / max(len(rows), 1)
            out.append((method, means[0], means[1], 100 * means[2], 100 * means[3], per_series))
        return out


def read_text(path: Path, *, hint: str) -> str:
    """A forecast command's input file as text (UTF-8, a byte-order mark dropped), or an error naming the file."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GovopsError.of(
            "forecast_unreadable",
            lazy_gettext("cannot read %(file)s: %(reason)s"),
            hint,
            where=str(path),
            file=path.name,
            reason=getattr(exc, "strerror", None) or type(exc).__name__,
        ) from None


def read_long_csv(path: Path, *, freq: str, horizon: int) -> list[Series]:
    """The series of a `unique_id,ds,y` file, each in date order; every bad row named, nothing guessed."""
    if freq not in SEASON_LENGTH:
        raise GovopsError.of(
            "forecast_bad_freq",
            lazy_gettext("unknown frequency %(freq)s"),
            lazy_gettext("use one of %(choices)s"),
            freq=freq,
            choices=", ".join(SEASON_LENGTH),
        )
    if horizon < 1:
        raise GovopsError.of(
            "forecast_bad_horizon",
            lazy_gettext("the horizon must be at least 1, not %(horizon)s"),
            lazy_gettext("give the number of last points of each series to hold out, e.g. --horizon 6"),
            horizon=horizon,
        )
    text = read_text(path, hint=lazy_gettext("give a UTF-8 CSV file with the columns unique_id,ds,y"))
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise GovopsError.of(
            "forecast_bad_columns",
            lazy_gettext("the file has the columns %(found)s; %(missing)s missing"),
            lazy_gettext("put the header unique_id,ds,y in the first row (the long layout: one value a row)"),
            where=str(path),
            found=",".join(header) or "none",
            missing=",".join(missing),
        )
    at = {c: header.index(c) for c in COLUMNS}
    problems: list[Problem] = []
    found: dict[str, list[tuple[date, float]]] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        try:
            day = date.fromisoformat(cells["ds"])
        except ValueError:
            problems.append(
                Problem.of(
                    "forecast_bad_date",
                    lazy_gettext("%(text)s is not a date"),
                    lazy_gettext("write dates as YYYY-MM-DD"),
                    row=number,
                    field="ds",
                    value=cells["ds"],
                    text=cells["ds"],
                )
            )
            continue
        try:
            value = float(cells["y"]) if cells["y"] else math.nan
        except ValueError:
            value = math.inf
        if math.isinf(value):
            problems.append(
                Problem.of(
                    "forecast_bad_value",
                    lazy_gettext("%(text)s is not a number"),
                    lazy_gettext("write the value with a dot for decimals, or leave it empty for a gap"),
                    row=number,
                    field="y",
                    value=cells["y"],
                    text=cells["y"],
                )
            )
            continue
        if not cells["unique_id"]:
            problems.append(
                Problem.of(
                    "forecast_no_series",
                    lazy_gettext("the row names no series"),
                    lazy_gettext("put the series' name in unique_id"),
                    row=number,
                    field="unique_id",
                )
            )
            continue
        found.setdefault(cells["unique_id"], []).append((day, value))
        if len(problems) >= MAX_PROBLEMS:
            break
    for key, points in found.items():
        days = [d for d, _ in points]
        if len(set(days)) != len(days):
            problems.append(
                Problem.of(
                    "forecast_repeated_date",
                    lazy_gettext("series %(series)s has the same date twice"),
                    lazy_gettext("keep one value per series and date"),
                    field="ds",
                    where=key,
                    series=key,
                )
            )
        elif sum(1 for _, v in points if math.isfinite(v)) <= horizon:
            problems.append(
                Problem.of(
                    "forecast_series_too_short",
                    lazy_gettext("series %(series)s has %(count)s values: too few to hold out %(horizon)s"),
                    lazy_gettext("give more history or a shorter --horizon"),
                    where=key,
                    series=key,
                    count=len(points),
                    horizon=horizon,
                )
            )
    if not found and not problems:
        raise GovopsError.of(
            "forecast_empty",
            lazy_gettext("%(file)s holds no rows"),
            lazy_gettext("one row per series and date under the header unique_id,ds,y"),
            where=str(path),
            file=path.name,
        )
    if problems:
        refused = GovopsError.of(
            "forecast_file_rejected",
            lazy_gettext("%(count)s problem(s) in the file; nothing was forecast"),
            lazy_gettext("fix the rows listed and run the evaluation again"),
            where=str(path),
            count=len(problems),
        )
        refused.problems = problems
        raise refused
    return [Series(key, np.array([v for _, v in sorted(points)], dtype=float)) for key, points in found.items()]


FitMany = Callable[[Sequence[Array], int, int], list["engine._Fitted"]]


def fit_here(series: Sequence[Array], h: int, m: int) -> list[engine._Fitted]:
    return [engine.fit_series(y, h=h, season_length=m) for y in series]


def evaluate(
    series: Sequence[Series], *, freq: str, horizon: int, fit_many: FitMany = fit_here, baselines: bool = True
) -> Scores:
    """Hold out the last `horizon` points of each series, forecast them, score every method."""
    m = SEASON_LENGTH[freq]
    trains = [s.values[:-horizon] for s in series]
    tests = [s.values[-horizon:] for s in series]
    scores = Scores()
    started = time.perf_counter()
    fitted = fit_many(trains, horizon, m)
    factors = engine.calibration(fitted)
    published = [engine.publish(f, factors) for f in fitted]
    scores.seconds[GOVOPS] = time.perf_counter() - started
    for f in published:
        scores.models[f.model] = scores.models.get(f.model, 0) + 1
    scores.rows[GOVOPS] = [
        _scored(s.key, train, test, f.mean, f.lower, f.upper, m)
        for s, train, test, f in zip(series, trains, tests, published, strict=True)
    ]
    if baselines:
        _baselines(series, trains, tests, horizon, m, freq, scores)
    return scores


def _scored(
    key: str,
    train: Array,
    test: Array,
    mean: Array,
    lower: dict[int, Array],
    upper: dict[int, Array],
    m: int,
) -> tuple[str, float, float, float, float]:
    seen = np.isfinite(test)
    actual, predicted = test[seen], mean[seen]
    history = train[np.isfinite(train)]
    cover = [float(np.mean((actual >= lower[lv][seen]) & (actual <= upper[lv][seen]))) for lv in engine.LEVELS]
    return key, engine.smape(actual, predicted), engine.mase(actual, predicted, history, m), cover[0], cover[1]


def _baselines(
    series: Sequence[Series],
    trains: Sequence[Array],
    tests: Sequence[Array],
    horizon: int,
    m: int,
    freq: str,
    scores: Scores,
) -> None:
    """statsforecast's own run of its two models on the same training data, as its users would run it."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, DynamicOptimizedTheta

    pandas_freq = {"D": "D", "W": "W", "M": "MS", "Q": "QS", "A": "YS"}[freq]
    frames = []
    for s, train in zip(series, trains, strict=True):
        filled = pd.Series(train).interpolate(limit_direction="both").to_numpy()
        ds = pd.date_range("2000-01-01", periods=len(filled), freq=pandas_freq)
        frames.append(pd.DataFrame({"unique_id": s.key, "ds": ds, "y": filled}))
    df = pd.concat(frames, ignore_index=True)
    started = time.perf_counter()
    models = [AutoETS(season_length=m), DynamicOptimizedTheta(season_length=m)]
    result = engine._quiet(
        lambda: StatsForecast(models=models, freq=pandas_freq, n_jobs=1).forecast(
            df=df, h=horizon, level=list(engine.LEVELS)
        )
    )
    elapsed = time.perf_counter() - started
    by_key = {key: part for key, part in result.groupby("unique_id", sort=False)}
    names = ("AutoETS", "DynamicOptimizedTheta")
    for method in BASELINES:
        scores.rows[method] = []
        scores.seconds[method] = elapsed if method == BASELINES[2] else elapsed / 2
    for s, train, test in zip(series, trains, tests, strict=True):
        part = by_key[s.key]
        for name in names:
            scores.rows[name].append(
                _scored(
                    s.key,
                    train,
                    test,
                    part[name].to_numpy(float),
                    {lv: part[f"{name}-lo-{lv}"].to_numpy(float) for lv in engine.LEVELS},
                    {lv: part[f"{name}-hi-{lv}"].to_numpy(float) for lv in engine.LEVELS},
                    m,
                )
            )
        # The median of two forecasts is their mean; the bands likewise.
        both = {
            key: np.median(np.vstack([part[f"{n}{key}"].to_numpy(float) for n in names]), axis=0)
            for key in ("", "-lo-80", "-hi-80", "-lo-95", "-hi-95")
        }
        scores.rows[BASELINES[2]].append(
            _scored(
                s.key,
                train,
                test,
                both[""],
                {lv: both[f"-lo-{lv}"] for lv in engine.LEVELS},
                {lv: both[f"-hi-{lv}"] for lv in engine.LEVELS},
                m,
            )
        )


def write_scores(scores: Scores, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unique_id", "method", "smape", "mase", "coverage_80", "coverage_95"])
        for method, rows in scores.rows.items():
            for key, *values in rows:
                writer.writerow([key, method, *(f"{v:.6g}" for v in values)])
