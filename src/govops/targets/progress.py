"""The arithmetic of a target's progress, on plain numbers (no store): whether a value meets a target, the
expected value at the period's end and its spread, the probability of meeting the target, the trajectory to
it, the rating, the Open SDG progress category and ESCAP's two indices.

The year's path. For each past year the store holds whole, the year-to-date figure at each sub-period `k`
(month or quarter) relates to the year's final figure: as a ratio (flows and levels: the final is `r(k)` times
the figure so far) or as a difference (rates, growth, balances). The time-weighted mean of those relations
(recent years weigh more) projects this year's figure so far to its end, and their spread says how uncertain
the projection is; the same relations give the trajectory: the figure so far at `k` that projects to the
target, which follows the indicator's season rather than a straight line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z80 = 1.2815515655446004
# A projection's spread is never taken below this share of its size (two years alike would say "certain").
MIN_RELATIVE_SD = 0.01
# Rating thresholds on the probability of meeting the target.
ON_TRACK = 0.7
AT_RISK = 0.4
CATEGORIES = ("achieved", "on_track", "acceleration_needed", "limited_progress", "deterioration")


@dataclass(frozen=True)
class Goal:
    comparator: str  # at_least | at_most | between | about
    value: float
    value_high: float | None = None
    tolerance: float | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The values that meet the goal, as a closed interval (infinite on an open side)."""
        if self.comparator == "at_least":
            return self.value, math.inf
        if self.comparator == "at_most":
            return -math.inf, self.value
        if self.comparator == "between":
            high = self.value_high if self.value_high is not None else self.value
            return self.value, high
        band = self.tolerance if self.tolerance is not None else default_tolerance(self.value)
        return self.value - band, self.value + band

    @property
    def aim(self) -> float:
        """The value the trajectory aims at: the bound to reach, or the middle of a band."""
        low, high = self.bounds
        if self.comparator == "at_least":
            return low
        if self.comparator == "at_most":
            return high
        return (low + high) / 2

    @property
    def direction(self) -> int:
        """+1 when more is better, -1 when less is, 0 for a band."""
        return {"at_least": 1, "at_most": -1}.get(self.comparator, 0)

    def met(self, value: float) -> bool:
        low, high = self.bounds
        return low - 1e-9 <= value <= high + 1e-9

    def probability(self, mean: float, sd: float) -> float:
        """P(low <= X <= high) for X ~ Normal(mean, sd); a point mass when sd is 0."""
        low, high = self.bounds
        if sd <= 0 or not math.isfinite(sd):
            return 1.0 if self.met(mean) else 0.0
        return max(0.0, min(1.0, _cdf((high - mean) / sd) - _cdf((low - mean) / sd)))

    def gap(self, actual: float, required: float) -> float:
        """How far `actual` is ahead (+) or behind (-) of `required`, in the target's sense; for a band, minus the
        distance from the band's middle."""
        if self.direction:
            return self.direction * (actual - required)
        return -abs(actual - required)


def default_tolerance(value: float) -> float:
    """`about` a value: within 5% of it (at least a tenth of a unit)."""
    return max(abs(value) * 0.05, 0.1)


def _cdf(z: float) -> float:
    if z == math.inf:
        return 1.0
    if z == -math.inf:
        return 0.0
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class Outlook:
    mean: float
    sd: float
    method: str  # forecast | history | final


def _weighted(values: Sequence[float]) -> tuple[float, float]:
    """Time-weighted mean and standard deviation (the last value weighs most: weights 1, 2, ..., n)."""
    weights = list(range(1, len(values) + 1))
    total = sum(weights)
    mean = sum(w * v for w, v in zip(weights, values, strict=True)) / total
    if len(values) < 2:
        return mean, math.nan
    var = sum(w * (v - mean) ** 2 for w, v in zip(weights, values, strict=True)) / total
    return mean, math.sqrt(var * len(values) / (len(values) - 1))


def relations(
    past: Sequence[Sequence[float | None]], k: int, multiplicative: bool, end: int | None = None
) -> list[float]:
    """For each whole past year (oldest first), how its figure at sub-period `end` (1-based; the last by
    default) relates to its figure at sub-period `k`: a log ratio, or a difference."""
    found = []
    for year in past:
        last = len(year) if end is None else end
        if len(year) < max(k, last) or year[k - 1] is None or year[last - 1] is None:
            continue
        now, final = year[k - 1], year[last - 1]
        assert now is not None and final is not None
        if multiplicative:
            if now <= 0 or final <= 0:
                continue
            found.append(math.log(final / now))
        else:
            found.append(final - now)
    return found


def multiplicative_fits(values: Sequence[float | None], unit_is_percent: bool, crosses_zero: bool) -> bool:
    return not unit_is_percent and not crosses_zero and all(v is None or v > 0 for v in values)


def history_outlook(
    past: Sequence[Sequence[float | None]],
    current: Sequence[float | None],
    multiplicative: bool,
    end: int | None = None,
) -> Outlook | None:
    """The final figure of the year `current` (year to date by sub-period, None where not yet known), or its
    figure at sub-period `end`, from the past years' relations at its latest known sub-period."""
    k = latest_index(current)
    if k is None:
        return None
    now = current[k - 1]
    assert now is not None
    n = len(current) if end is None else end
    if k >= n:
        return Outlook(now, 0.0, "final")
    rel = relations(past, k, multiplicative, n)
    if not rel:
        return None
    mean, sd = _weighted(rel)
    left = (n - k) / len(current)
    if multiplicative:
        if now <= 0:
            return None
        centre = now * math.exp(mean)
        spread = centre * (sd if math.isfinite(sd) else 0.1 * left)
    else:
        centre = now + mean
        spread = sd if math.isfinite(sd) else max(abs(centre) * 0.1 * left, 0.1)
    spread = max(spread, abs(centre) * MIN_RELATIVE_SD * left)
    return Outlook(centre, spread, "history")


def baseline_outlook(
    past: Sequence[Sequence[float | None]], current: Sequence[float | None], multiplicative: bool
) -> float | None:
    """The naive projection the bench compares against: the rest of the year as last year's rest, alone."""
    k = latest_index(current)
    if k is None or not past:
        return None
    now = current[k - 1]
    assert now is not None
    rel = relations(past[-1:], k, multiplicative)
    if not rel:
        return None
    return now * math.exp(rel[0]) if multiplicative else now + rel[0]


def trajectory(past: Sequence[Sequence[float | None]], n: int, aim: float, multiplicative: bool) -> list[float | None]:
    """The figure so far at each sub-period 1..n that, as past years went, ends the year at `aim`."""
    path: list[float | None] = []
    for k in range(1, n + 1):
        if k == n:
            path.append(aim)
            continue
        rel = relations(past, k, multiplicative)
        if not rel:
            path.append(None)
            continue
        mean, _ = _weighted(rel)
        path.append(aim / math.exp(mean) if multiplicative else aim - mean)
    return path


def latest_index(values: Sequence[float | None]) -> int | None:
    """The 1-based position of the last known value."""
    for i in range(len(values), 0, -1):
        if values[i - 1] is not None:
            return i
    return None


def forecast_outlook(
    observed: Sequence[float | None], means: Sequence[float], sds: Sequence[float], rule: str
) -> Outlook | None:
    """The final figure of a year from its values so far (base periods, None where unknown, left to right) and
    forecasts of the rest: `means` and `sds` of the unknown ones at the end, in order. Forecast errors of
    successive periods are taken as half-way between independent and fully correlated."""
    known = [v for v in observed if v is not None]
    if rule not in ("sum", "mean", "last") or len(means) + len(known) < len(observed) or (not means and not known):
        return None
    if not means:
        return None
    spread = 0.5 * (math.sqrt(sum(s * s for s in sds)) + sum(sds))
    if rule == "last":
        return Outlook(means[-1], sds[-1], "forecast")
    total = sum(known) + sum(means)
    if rule == "sum":
        return Outlook(total, spread, "forecast")
    count = len(known) + len(means)
    return Outlook(total / count, spread / count, "forecast")


def sd_of_band(low: float | None, high: float | None) -> float | None:
    if low is None or high is None:
        return None
    return max(0.0, (high - low) / (2 * Z80))


def rating(*, probability: float | None, final: bool, met: bool | None) -> str:
    if final and met is not None:
        return "met" if met else "off_track"
    if probability is None:
        return "no_data"
    if probability >= ON_TRACK:
        return "on_track"
    if probability >= AT_RISK:
        return "at_risk"
    return "off_track"


def category(*, observed: float | None, required: float | None, met: bool) -> tuple[str | None, float | None]:
    """Open SDG's (Statistics Canada's) progress category from the ratio of the observed change to the change
    required: achieved; on track (>= 0.95); acceleration needed (>= 0.5); limited progress (>= 0);
    deterioration (< 0)."""
    if met:
        return "achieved", None
    if observed is None or required is None or abs(required) < 1e-12:
        return None, None
    ratio = observed / required
    if ratio >= 0.95:
        return "on_track", ratio
    if ratio >= 0.5:
        return "acceleration_needed", ratio
    if ratio >= 0:
        return "limited_progress", ratio
    return "deterioration", ratio


def growth(start: float, end: float, years: float, multiplicative: bool) -> float | None:
    """The yearly growth from `start` to `end` (compound, for positive levels) or the yearly change."""
    if years <= 0:
        return None
    if multiplicative:
        if start <= 0 or end <= 0:
            return None
        return float((end / start) ** (1 / years) - 1)
    return (end - start) / years


def escap(
    *,
    base: float,
    base_year: int,
    target: float,
    target_year: int,
    values: Sequence[tuple[int, float]],
    multiplicative: bool = False,
) -> tuple[float | None, float | None, Outlook | None]:
    """ESCAP's current status index (progress since the base year as a share of the progress required, in %)
    and anticipated progress index (where a time-weighted trend of the values since the base year ends at the
    target year, as a share of the progress required, in %), and that trend's outlook. The trend is linear, or
    compound (linear in the logarithm) for a positive level that grows by a rate."""
    required = target - base
    if abs(required) < 1e-12 or not values:
        return None, None, None
    year, latest = max(values)
    status = 100 * (latest - base) / required
    points = [(base_year, base), *[(y, v) for y, v in values if y > base_year]]
    log = multiplicative and all(v > 0 for _, v in points)
    if log:
        points = [(y, math.log(v)) for y, v in points]
    if len(points) < 2:
        return status, None, None
    weights = [1 + (y - base_year) for y, _ in points]
    total = sum(weights)
    mx = sum(w * y for w, (y, _) in zip(weights, points, strict=True)) / total
    my = sum(w * v for w, (_, v) in zip(weights, points, strict=True)) / total
    sxx = sum(w * (y - mx) ** 2 for w, (y, _) in zip(weights, points, strict=True))
    if sxx == 0:
        return status, None, None
    slope = sum(w * (y - mx) * (v - my) for w, (y, v) in zip(weights, points, strict=True)) / sxx
    fitted = my + slope * (target_year - mx)
    predicted = math.exp(fitted) if log else fitted
    anticipated = 100 * (predicted - base) / required
    residuals = [v - (my + slope * (y - mx)) for y, v in points]
    dof = max(len(points) - 2, 1)
    sd = math.sqrt(sum(w * r * r for w, r in zip(weights, residuals, strict=True)) / total * len(points) / dof)
    if log:
        sd *= predicted  # a spread of the logarithm, as one of the level
    horizon = max(target_year - year, 0)
    spread = max(sd * math.sqrt(1 + horizon), abs(predicted) * MIN_RELATIVE_SD * min(horizon, 1))
    return status, anticipated, Outlook(predicted, spread, "final" if horizon == 0 else "history")
