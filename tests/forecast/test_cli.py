"""`govops forecast evaluate` as a user runs it: a real process on a CSV file in the long layout."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def govops(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVOPS_")} | {"COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "govops", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


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


def test_evaluate_prints_govops_beside_the_statsforecast_baselines(tmp_path: Path) -> None:
    write_quarterly(tmp_path / "q.csv")
    run = govops(
        "forecast", "evaluate", "--input", "q.csv", "--freq", "Q", "--horizon", "8", "--output", "s.csv", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    for method in ("govops", "AutoETS", "DynamicOptimizedTheta", "Ensemble(median)"):
        assert method in run.stdout
    for column in ("sMAPE", "MASE", "80% coverage", "95% coverage", "ms/series"):
        assert column in run.stdout
    with (tmp_path / "s.csv").open() as handle:
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
def test_a_bad_file_is_refused_with_what_and_where(tmp_path: Path, content: str, said: str) -> None:
    (tmp_path / "bad.csv").write_text(content)
    run = govops("forecast", "evaluate", "--input", "bad.csv", "--freq", "Q", "--horizon", "2", cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert said in run.stderr or said in run.stdout, run.stderr


def test_an_unknown_frequency_is_refused(tmp_path: Path) -> None:
    write_quarterly(tmp_path / "q.csv", count=1)
    run = govops("forecast", "evaluate", "--input", "q.csv", "--freq", "X", "--horizon", "2", cwd=tmp_path)
    assert run.returncode == 1 and "unknown frequency" in run.stderr
