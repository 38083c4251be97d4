"""`govops forecast evaluate` as a user runs it: a real process on a CSV file in the long layout."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.cli.conftest import Govops, govops, initialised_store
from tests.forecast.test_service import MONTHS, month, retail

__all__ = ["govops", "initialised_store"]
AREAS = (("01", 5e4), ("79", 9e4))


def write_quarterly(path: Path, count: int = 6, length: int = 40) -> None:
    rng = np.random.default_rng(4)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unique_id", "ds", "y"])
        for s in range(count):
            for t in range(length):
                year, quarter = 2000 + t // 4, t % 4
                value = 200 + 2 * t + 15 * [1, -1, 2, -2][quarter] + rng.normal(0, 3)
                writer.writerow([f"S{s}", f"{year}-{3 * quarter + 1:02d}-01", f"{value:.3f}"])


def test_evaluate_prints_govops_beside_the_statsforecast_baselines(govops: Govops) -> None:
    write_quarterly(govops.cwd / "q.csv")
    run = govops("forecast", "evaluate", "--input", "q.csv", "--freq", "Q", "--horizon", "8", "--output", "s.csv")
    assert run.code == 0, run.err
    for method in ("govops", "AutoETS", "DynamicOptimizedTheta", "Ensemble(median)"):
        assert method in run.out
    for column in ("sMAPE", "MASE", "80% coverage", "95% coverage", "ms/series"):
        assert column in run.out
    with (govops.cwd / "s.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 * 4
    govops_rows = [r for r in rows if r["method"] == "govops"]
    assert all(0 <= float(r["smape"]) < 20 for r in govops_rows)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("id,date,value\nA,2020-01-01,1\n", "missing"),
        ("unique_id,ds,y\nA,2020-13-01,1\n", "2020-13-01 is not a date"),
        ("unique_id,ds,y\nA,2020-01-01,abc\n", "is not a number"),
        ("unique_id,ds,y\nA,2020-01-01,1\nA,2020-04-01,2\n", "too few to hold out"),
        ("", "missing"),
    ],
)
def test_a_bad_file_is_refused_with_what_and_where(govops: Govops, content: str, said: str) -> None:
    (govops.cwd / "bad.csv").write_text(content)
    run = govops("forecast", "evaluate", "--input", "bad.csv", "--freq", "Q", "--horizon", "2")
    assert run.code == 1
    assert "Traceback" not in run.err
    assert said in run.err or said in run.out, run.err


def test_an_unknown_frequency_is_refused(govops: Govops) -> None:
    write_quarterly(govops.cwd / "q.csv", count=1)
    run = govops("forecast", "evaluate", "--input", "q.csv", "--freq", "X", "--horizon", "2")
    assert run.code == 1 and "unknown frequency" in run.err


def test_run_forecasts_the_store_and_warns_of_a_value_far_outside_its_band(govops: Govops) -> None:
    rows = [("RETAIL_SALES", area, month(i), retail(area, i, base)) for i in range(MONTHS) for area, base in AREAS]
    write_rows(govops.cwd / "history.csv", rows)
    assert govops("ingest", "history.csv").code == 0
    first = govops("forecast", "run", "--indicator", "RETAIL_SALES")
    assert first.code == 0, first.err
    assert "3 series forecast" in first.out and "0 early warnings" in first.out
    write_rows(govops.cwd / "new.csv", [("RETAIL_SALES", "79", month(MONTHS), 2 * retail("79", MONTHS, 9e4))])
    assert govops("ingest", "new.csv").code == 0
    second = govops("forecast", "run", "--indicator", "RETAIL_SALES")
    assert "2 early warnings raised" in second.out, second.out
    unknown = govops("forecast", "run", "--indicator", "NOPE")
    assert unknown.code == 1 and "NOPE" in unknown.err and "Traceback" not in unknown.err


def write_rows(path: Path, rows: list[tuple[str, str, str, float]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator", "area", "period", "value"])
        writer.writerows(rows)
