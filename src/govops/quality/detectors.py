"""How a value is judged suspicious: pure functions over a series' values, no store, no catalogue.

The DHIS2 baselines are here as they are defined there (`z_scores`, `modified_z_scores`, and `iqr_bounds`,
`robust_min_max` for ranges), so that the bench can set govops' own method beside them on the same data.

govops' own method (`judge`) works where those raise false flags, on seasonal and skewed series:

1. values are compared on a log scale when the series is positive (a level twice the usual is as far as half);
2. the expected value of each period is its series' robust trend (a moving median, which keeps a step a step)
   plus its season's own effect (the median of the same month or quarter in the years around it);
3. what is left (the residual) is measured against the series' own robust spread (MAD), and beyond `THRESHOLD`
   the value is suspicious; it is then told what it most likely is: a unit slip (x1000 or /1000), a sign error,
   two swapped digits, or a value simply out of its band;
4. runs of one figure repeated (a frozen value) and lasting steps in the level are found on their own.

Missing values are NaN. Every function answers the same for the same input.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# DHIS2's defaults: a z-score beyond 3, a modified z-score beyond 3.5 (Iglewicz and Hoaglin).
Z_THRESHOLD = 3.0
MODIFIED_Z_THRESHOLD = 3.5
# govops: a residual beyond this many robust standard deviations of the series' residuals is suspicious...
THRESHOLD = 6.0
# ...when it is also material: more than a third above or below what was expected (the WHO Data Quality Review's
# +-33% of consistency over time), judged on a positive series; a series that crosses zero is judged on its
# residual alone.
MATERIAL_SHARE = 1 / 3
# A step in the level is material at a third on either side on the log scale (x4/3 or x3/4).
MATERIAL = math.log(4 / 3)
# A residual this far out is "high" severity, half way "medium".
HIGH_SCORE = 12.0
MEDIUM_SCORE = 8.0
MIN_POINTS = 8  # fewer known values say too little about what is usual
FROZEN_RUN = 3  # the same figure this many periods in a row
# A series whose values repeat the previous one this often anyway (a policy rate) is never "frozen".
USUAL_REPEATS = 0.1
HELD_SHARE = 0.25
DISTINCT_SHARE = 0.6
UNIT_FACTORS = (1000.0, 1_000_000.0)
REVISION_SHARE = 0.10  # a published figure revised by more than a tenth
MAD_TO_SD = 1.4826


# The month of the Lunar New Year (Tết), when it fell in January; every other year's is in February. Vietnam's
# monthly figures (exports, retail sales, new enterprises) dip in Tết's month and rise around it, so January and
# February are two seasons in years of a January Tết and two others in the rest.
TET_IN_JANUARY = frozenset({2001, 2004, 2006, 2009, 2012, 2014, 2017, 2020, 2023, 2025, 2028, 2031, 2033, 2036, 2039})


def month_seasons(months: Iterable[tuple[int, int]]) -> list[int]:
    """The season of each (year, month): the month (0-11), with January and February of a January Tết as 12, 13."""
    return [month - 1 + (12 if month <= 2 and year in TET_IN_JANUARY else 0) for year, month in months]


def consecutive_month_seasons(year: int, month: int, count: int) -> NDArray[np.int64]:
    """`month_seasons` of `count` consecutive months from (year, month)."""
    index = year * 12 + month - 1 + np.arange(count)
    years, months = index // 12, index % 12
    tet = np.isin(years, list(TET_IN_JANUARY)) & (months <= 1)
    return months + 12 * tet


@dataclass(frozen=True)
class Finding:
    """A suspicious value: where in the series, what it most likely is, how far out, and what was expected."""

    index: int
    method: str  # unit_slip, sign_error, digit_swap, outlier, frozen, level_shift, negative, revision
    score: float  # robust standard deviations from the expected value (0 when it does not apply)
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    # A slip's likely right value: the value /1000, its sign turned, its digits put back.
    likely: float | None = None

    @property
    def severity(self) -> str:
        if self.method in ("unit_slip", "sign_error", "negative"):
            return "high"
        if self.method in ("frozen", "level_shift", "revision", "digit_swap"):
            return "medium"
        return "high" if self.score >= HIGH_SCORE else "medium" if self.score >= MEDIUM_SCORE else "low"


def as_array(values: Iterable[float | None]) -> Array:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


# --- the DHIS2 baselines ------------------------------------------------------------------------------------


def z_scores(values: Sequence[float | None] | Array) -> Array:
    """(x - mean) / standard deviation over the whole series; NaN where unknown, 0 when the series does not vary."""
    x = np.asarray(values, dtype=np.float64)
    known = x[~np.isnan(x)]
    if known.size < 2:
        return np.full(x.shape, np.nan)
    sd = float(known.std())
    if sd == 0:
        return np.where(np.isnan(x), np.nan, 0.0)
    return (x - float(known.mean())) / sd


def modified_z_scores(values: Sequence[float | None] | Array) -> Array:
    """0.6745 (x - median) / MAD over the whole series; NaN where unknown, 0 when the MAD is 0."""
    x = np.asarray(values, dtype=np.float64)
    known = x[~np.isnan(x)]
    if known.size < 2:
        return np.full(x.shape, np.nan)
    median = float(np.median(known))
    mad = float(np.median(np.abs(known - median)))
    if mad == 0:
        return np.where(np.isnan(x), np.nan, 0.0)
    return 0.6745 * (x - median) / mad


def z_score_outliers(values: Sequence[float | None] | Array, threshold: float = Z_THRESHOLD) -> list[int]:
    scores = z_scores(values)
    return [int(i) for i in np.flatnonzero(np.abs(np.nan_to_num(scores)) > threshold)]


def modified_z_outliers(values: Sequence[float | None] | Array, threshold: float = MODIFIED_Z_THRESHOLD) -> list[int]:
    scores = modified_z_scores(values)
    return [int(i) for i in np.flatnonzero(np.abs(np.nan_to_num(scores)) > threshold)]


def iqr_bounds(values: Sequence[float | None] | Array, k: float = 1.5) -> tuple[float, float] | None:
    """Tukey's fences: [Q1 - k IQR, Q3 + k IQR], or None with fewer than MIN_POINTS known values."""
    x = np.asarray(values, dtype=np.float64)
    known = x[~np.isnan(x)]
    if known.size < MIN_POINTS:
        return None
    q1, q3 = (float(q) for q in np.percentile(known, [25, 75]))
    return q1 - k * (q3 - q1), q3 + k * (q3 - q1)


def robust_min_max(history: Sequence[float | None] | Array, k: float = 4.0) -> tuple[float, float] | None:
    """A min-max range learnt from history robustly: median +- k robust standard deviations (MAD), on a log scale
    when every value is positive (so that the range of a skewed count is not cut below zero). None when fewer than
    MIN_POINTS values are known.

    Give it the values of the same month (or quarter) in earlier years for a seasonal series: the range is then
    that season's, not one range for the whole year as DHIS2's generated ranges are.
    """
    x = np.asarray(history, dtype=np.float64)
    known = x[~np.isnan(x)]
    if known.size < MIN_POINTS:
        return None
    logged = bool(np.all(known > 0))
    y = np.log(known) if logged else known
    median = float(np.median(y))
    spread = MAD_TO_SD * float(np.median(np.abs(y - median)))
    if spread == 0:
        spread = max(abs(median) * 1e-3, 1e-9)
    low, high = median - k * spread, median + k * spread
    return (math.exp(low), math.exp(high)) if logged else (low, high)


# --- single-value checks ----------------------------------------------------------------------------------------


def negative_count(value: float, *, counted: bool) -> bool:
    """A value below zero of something counted (persons, enterprises, tonnes...) or summed as money over time."""
    return counted and value < 0


def large_revision(published: float, revised: float, share: float = REVISION_SHARE) -> bool:
    """A published figure changed by more than `share` of itself (or from zero to anything else)."""
    if published == revised:
        return False
    if published == 0:
        return True
    return abs(revised - published) > share * abs(published)


def unit_slip(value: float, low: float, high: float) -> float | None:
    """The factor (1000, 1e6, or their inverse) that brings a value outside [low, high] back inside it, or None."""
    if low <= value <= high:
        return None
    for factor in UNIT_FACTORS:
        for applied in (factor, 1 / factor):
            if low <= value / applied <= high:
                return applied
    return None


def sign_error(value: float, low: float, high: float) -> bool:
    """A value outside [low, high] whose opposite is inside."""
    return not low <= value <= high and low <= -value <= high


def digit_swaps(value: float) -> list[float]:
    """The values that swapping two neighbouring digits of `value` gives (as written with at most 6 decimals)."""
    text = f"{abs(value):.6f}".rstrip("0").rstrip(".")
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    out = []
    for a, b in itertools.pairwise(digits):
        if b != a + 1 or text[a] == text[b]:
            continue
        swapped = text[:a] + text[b] + text[a] + text[b + 1 :]
        out.append(math.copysign(float(swapped), value))
    return out


def digit_swap(value: float, low: float, high: float) -> float | None:
    """The value with two neighbouring digits put back in order, when `value` is outside [low, high] and that one is
    inside (the closest to the band's middle when several are), or None."""
    if low <= value <= high:
        return None
    middle = (low + high) / 2
    inside = [v for v in digit_swaps(value) if low <= v <= high]
    return min(inside, key=lambda v: abs(v - middle)) if inside else None


def frozen_runs(values: Sequence[float | None] | Array, run: int = FROZEN_RUN) -> list[int]:
    """The repeats of a figure held `run` periods or more in a row (every one but the first), in a series that
    otherwise varies (fewer than USUAL_REPEATS of its values repeat the one before)."""
    x = np.asarray(values, dtype=np.float64)
    known = x[~np.isnan(x)]
    if known.size < MIN_POINTS:
        return []
    # Small counts and coarse figures take few values: a repeat there is no sign of anything.
    if np.unique(known).size < DISTINCT_SHARE * known.size:
        return []
    same = known[1:] == known[:-1]
    runs: list[tuple[int, int]] = []  # (first repeat, last repeat) as positions in `known`
    start = None
    for i, repeated in enumerate(same, start=1):
        if repeated and start is None:
            start = i
        elif not repeated and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, known.size - 1))
    long_runs = [(a, b) for a, b in runs if b - a + 2 >= run]
    if not long_runs:
        return []
    # A series that mostly holds its value (a policy rate) is never frozen; nor one that repeats itself often
    # outside the long runs (small counts).
    other = int(same.sum()) - sum(b - a + 1 for a, b in long_runs)
    if int(same.sum()) > HELD_SHARE * same.size or other > USUAL_REPEATS * same.size:
        return []
    positions = np.flatnonzero(~np.isnan(x))
    return [int(positions[i]) for a, b in long_runs for i in range(a, b + 1)]


# --- govops' seasonal method ------------------------------------------------------------------------------------


def _rolling_median(y: Array, half: int) -> Array:
    """The median of each value's window of `half` values either side (fewer at the ends), NaN ignored."""
    n = y.size
    padded = np.concatenate([np.full(half, np.nan), y, np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return _row_medians(windows) if n else y.copy()


def _rolling_median_by_label(y: Array, labels: NDArray[np.int64], half: int) -> Array:
    """`_rolling_median` of each label's values in their order (every January among the Januaries), all labels in
    one pass: each label's values are laid out as one row of a matrix, padded with NaN."""
    n = y.size
    names, inverse = np.unique(labels, return_inverse=True)
    order = np.lexsort((np.arange(n), inverse))
    group = inverse[order]
    starts = np.searchsorted(group, np.arange(names.size))
    occurrence = np.arange(n) - starts[group]
    width = int(occurrence.max()) + 1
    laid = np.full((names.size, width + 2 * half), np.nan)
    laid[group, occurrence + half] = y[order]
    windows = np.lib.stride_tricks.sliding_window_view(laid, 2 * half + 1, axis=1)
    medians = _row_medians(windows.reshape(-1, 2 * half + 1)).reshape(names.size, width)
    out = np.empty(n)
    out[order] = medians[group, occurrence]
    return out


def _row_medians(windows: Array) -> Array:
    """The median of each row, NaN ignored (NaN for a row of NaN), without numpy's warning about empty rows."""
    ordered = np.sort(windows, axis=1)  # NaN sort last
    count = np.sum(~np.isnan(windows), axis=1)
    rows = np.arange(windows.shape[0])
    low = np.maximum((count - 1) // 2, 0)
    high = np.maximum(count // 2, 0)
    middle = (ordered[rows, low] + ordered[rows, high]) / 2
    return np.where(count > 0, middle, np.nan)


def _year_level(y: Array, season: int) -> Array:
    """Each period's level: the median of a whole year of values around it (every season once, so that the highs
    and lows of a seasonal series never tip it), two such years averaged to centre it; the ends take the nearest."""
    n = y.size
    if n <= season:
        return np.full(n, _median(y))
    medians = _row_medians(np.lib.stride_tricks.sliding_window_view(y, season))
    last = n - season
    first = np.clip(np.arange(n) - season // 2, 0, last)
    second = np.clip(first + (1 if season % 2 == 0 else 0), 0, last)
    return (medians[first] + medians[second]) / 2


def _resolution(known: Array) -> float:
    """The smallest difference between two distinct values: the step of the figures' rounding, roughly."""
    distinct = np.unique(known)
    return float(np.min(np.diff(distinct))) if distinct.size > 1 else 0.0


def _trimmed_mean(y: Array) -> float:
    """The mean without the highest and the lowest value: steady against one outlier, and, unlike a median, at
    its largest difference exactly where a level steps."""
    known = np.sort(y[~np.isnan(y)])
    return float(known[1:-1].mean()) if known.size > 2 else float(known.mean())


def _median(y: Array) -> float:
    known = y[~np.isnan(y)]
    return float(np.median(known)) if known.size else math.nan


@dataclass(frozen=True)
class Expected:
    """A series' expected values and the robust spread around each, on the scale they were fitted on."""

    logged: bool
    centre: Array  # expected value of each period, on the fitted scale (log when `logged`)
    spread: Array  # robust standard deviation of the residuals around each period, on that scale
    season: int
    trend: Array  # the centre less its seasonal effect
    # How much `spread` was widened to cover the residuals' heavy tails (1: not at all); a level step, judged on
    # means of many values, is measured against the spread without it.
    tail: float = 1.0

    def band(self, index: int, width: float = THRESHOLD) -> tuple[float, float, float]:
        """(expected, low, high) of a period in the series' own unit."""
        c, s = float(self.centre[index]), float(self.spread[index])
        low, high = c - width * s, c + width * s
        if self.logged:
            return _exp(c), _exp(low), _exp(high)
        return c, low, high

    def material(self, index: int, value: float) -> bool:
        """Far enough from the expected value to matter to a reader (see MATERIAL)."""
        if not self.logged:
            return True
        if value <= 0:
            return True
        # The ratio to the expected value, compared on the log scale (the expected value may be too small or too
        # large for a float).
        moved = math.log(value) - float(self.centre[index])
        return moved > math.log1p(MATERIAL_SHARE) or moved < math.log1p(-MATERIAL_SHARE)

    def score(self, index: int, value: float) -> float:
        if self.logged:
            if value <= 0:
                return math.inf
            value = math.log(value)
        return abs(value - float(self.centre[index])) / float(self.spread[index])


def _exp(x: float) -> float:
    """e**x, infinite where a float cannot hold it (a band of a wild series)."""
    return math.exp(x) if x < 709.0 else math.inf


def _scale(values: Array) -> Array:
    """The series on the scale it is judged on: log when positive (NaN where a value is not), else as it is."""
    return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)


def expected_values(
    values: Sequence[float | None] | Array, season: int, seasons: Sequence[int] | NDArray[np.int64] | None = None
) -> Expected | None:
    """Each period's expected value: robust trend plus its season's effect (see the module's doc), and the spread
    of the residuals around it in the two years either side; None when the series has fewer than MIN_POINTS known
    values.

    `season` is the number of periods in a year (12 monthly, 4 quarterly; 1 for no seasons). Seasons are used
    only with at least two full years of data. `seasons` labels each period's season when the position in the year
    does not say it all (see `month_seasons`); by default the position modulo `season`.
    """
    x = np.asarray(values, dtype=np.float64)
    known = x[~np.isnan(x)]
    if known.size < MIN_POINTS:
        return None
    # A positive series is judged on a log scale; a value at or below zero in it is kept out of the fit.
    logged = float(np.mean(known > 0)) >= 0.9
    y = _scale(x) if logged else x.copy()
    seasonal = season if season > 1 and known.size >= 2 * season + 2 else 1
    trend = _year_level(y, seasonal) if seasonal > 1 else _rolling_median(y, 3)
    effect = np.zeros_like(y)
    rare = np.zeros(y.size, dtype=bool)
    if seasonal > 1:
        detrended = y - trend
        labels = np.asarray(seasons) if seasons is not None else np.arange(y.size) % seasonal
        # A season seen fewer than three times (a January Tết in a short series) is judged with its plain month,
        # and leniently (RARE_SEASON times the spread): that month is not like the others.
        found, seen = np.unique(labels, return_counts=True)
        rare = np.isin(labels, found[seen < 3])
        labels = np.where(rare, labels % seasonal, labels)
        # The same month (or quarter) in the three years either side: a season's weight may drift slowly.
        effect = _rolling_median_by_label(detrended, labels, 3)
        effect = np.nan_to_num(effect)
        trend = _rolling_median(y - effect, max(seasonal // 2, 3))
    # Where the trend knows nothing (a long gap), the neighbours' level stands in.
    if np.any(np.isnan(trend)):
        trend = np.where(np.isnan(trend), _median(trend), trend)
    centre = trend + effect
    deviation = np.abs(y - centre)
    overall = MAD_TO_SD * _median(deviation)
    if not overall > 0:
        typical = _median(np.abs(y))
        overall = max((typical if not math.isnan(typical) else 1.0) * 1e-3, 1e-9)
    # Noise differs over a series' life (small counts are noisier); the two years either side say how much here,
    # never less than half the series' own.
    local = MAD_TO_SD * _rolling_median(deviation, 2 * max(seasonal, 4))
    spread = np.maximum(np.nan_to_num(local, nan=overall), overall / 2)
    # Nor less than the figures' own resolution (one step of their rounding): 0.1 against 0.2 is no outlier.
    step = _resolution(known)
    if step > 0:
        level = _median(np.abs(known))
        floor = step if not logged else math.log1p(step / level) if level > 0 else 0.0
        spread = np.maximum(spread, floor)
    if seasonal > 1:
        spread = np.where(rare, spread * RARE_SEASON, spread)
    # A series whose residuals have heavier tails than a normal's (tourism's holidays and events) is given a
    # spread that covers them: its TAIL_SHARE-th residual at the normal's own quantile.
    scores = (np.abs(y - centre) / spread)[~np.isnan(y)]
    if scores.size >= MIN_POINTS:
        tail = max(float(np.quantile(scores, TAIL_SHARE)) / TAIL_NORMAL, 1.0)
        spread = spread * tail
    else:
        tail = 1.0
    return Expected(logged=logged, centre=centre, spread=spread, season=seasonal, trend=trend, tail=tail)


# A step in the level this many times the noise of a step.
SHIFT_THRESHOLD = 20.0
RARE_SEASON = 3.0
MAX_SHIFTS = 3  # steps looked for in one series
# A value this many spreads out whose digits, two swapped back, bring it SWAP_GAIN times closer to what was expected.
SWAP_THRESHOLD = 6.0
SWAP_GAIN = 3.0
SWAP_MOVE = 0.1
TAIL_SHARE = 0.8
SECOND_THRESHOLD = 4.0  # a value this far out is suspicious when its change on a year earlier is also unusual
YOY_THRESHOLD = 5.0  # ...beyond this many robust spreads of such changes
TAIL_NORMAL = 1.2816  # the normal distribution's 80th percentile of |z|


def level_shifts(values: Sequence[float | None] | Array, expected: Expected, *, width: int | None = None) -> list[int]:
    """The periods where the series' level steps and stays (a new method, a boundary change, a unit changed for
    good): see `level_steps`."""
    return [t for t, _ in level_steps(values, expected, width=width)]


def level_steps(
    values: Sequence[float | None] | Array, expected: Expected, *, width: int | None = None
) -> list[tuple[int, float]]:
    """The periods where the series' level steps and stays, each with the size of its step on the fitted scale.

    On the values less their seasonal effect (each held within a few spreads of its expected value, so that one
    outlier does not make a step), the mean of `width` periods after against the `width` before differs from the
    series' usual step (its growth) by far more than its noise allows, and materially; the largest step of its
    neighbourhood is the candidate, and the step is then put where splitting the periods around it in two leaves
    the least spread on either side (the first period of the new level, not one before or after it)."""
    x = np.asarray(values, dtype=np.float64)
    k = width or max(expected.season, 4)
    y = _scale(x) if expected.logged else x.copy()
    held = np.clip(y, expected.centre - 3 * expected.spread, expected.centre + 3 * expected.spread)
    adjusted = held - (expected.centre - expected.trend)
    n = y.size
    steps = np.full(n, np.nan)
    if n >= 2 * k:
        known_at = ~np.isnan(adjusted)
        sums = np.concatenate([[0.0], np.cumsum(np.where(known_at, adjusted, 0.0))])
        counts = np.concatenate([[0], np.cumsum(known_at)])
        at = np.arange(k, n - k + 1)
        before_n, after_n = counts[at] - counts[at - k], counts[at + k] - counts[at]
        full = (before_n >= k - 1) & (after_n >= k - 1)
        at = at[full]
        before = (sums[at] - sums[at - k]) / before_n[full]
        after = (sums[at + k] - sums[at]) / after_n[full]
        steps[at] = after - before
    known = steps[~np.isnan(steps)]
    if known.size < 3:
        return []
    change = np.abs(np.nan_to_num(steps - _median(known)))
    # The noise of a difference of two means of k values.
    size = change / (float(np.median(expected.spread)) / expected.tail * math.sqrt(2 / k))
    material = change > MATERIAL if expected.logged else np.ones(n, dtype=bool)
    out: list[tuple[int, float]] = []
    # The largest steps first: a later one closer than a window to one kept is the same step seen again.
    candidates = np.flatnonzero((size > SHIFT_THRESHOLD) & material)
    for found in candidates[np.argsort(-size[candidates], kind="stable")]:
        t = int(found)
        lo, hi = max(0, t - k), min(n, t + k + 1)
        if size[t] < size[lo:hi].max():
            continue
        t = _split(adjusted, t, k)
        if any(abs(t - kept) < k for kept, _ in out):
            continue
        before_level = _median(adjusted[max(0, t - k) : t])
        after_level = _median(adjusted[t : t + k])
        out.append((t, after_level - before_level))
    return sorted(out)


def _split(y: Array, t: int, k: int) -> int:
    """The period near `t` (within half a window) where the values of the window around it split best in two: the
    least sum of squares about each side's mean."""
    n = y.size
    lo, hi = max(1, t - k // 2), min(n - 1, t + k // 2)
    best, best_cost = t, math.inf
    for s in range(lo, hi + 1):
        left, right = y[max(0, s - k) : s], y[s : s + k]
        left, right = left[~np.isnan(left)], right[~np.isnan(right)]
        if left.size < 2 or right.size < 2:
            continue
        cost = float(((left - left.mean()) ** 2).sum() + ((right - right.mean()) ** 2).sum())
        if cost < best_cost:
            best, best_cost = s, cost
    return best


def _without_steps(x: Array, logged: bool, steps: Sequence[tuple[int, float]]) -> Array:
    """The series with each step taken out of the values from it on: the later level brought back to the earlier,
    so that the periods around a step are judged against their own level, not a mix of two."""
    out = x.copy()
    for t, step in steps:
        if logged:
            out[t:] = out[t:] * math.exp(-step)
        else:
            out[t:] = out[t:] - step
    return out


def _restepped(fitted: Expected, steps: Sequence[tuple[int, float]]) -> Expected:
    """Expected values fitted on a series with its steps taken out, put back on each period's own level."""
    shift = np.zeros(fitted.centre.size)
    for t, step in steps:
        shift[t:] += step
    return dataclasses.replace(fitted, centre=fitted.centre + shift, trend=fitted.trend + shift)


def _swap_back(expected: Expected, index: int, value: float, score: float) -> float | None:
    """The value with two neighbouring digits swapped back when that brings it at least SWAP_GAIN times closer to
    what was expected (the closest when several do), or None."""
    fits = [(expected.score(index, v), v) for v in digit_swaps(value)]
    close = [(fit, v) for fit, v in fits if fit * SWAP_GAIN <= score and abs(v / value - 1) > SWAP_MOVE]
    return min(close)[1] if close else None


def _year_on_year_scores(x: Array, expected: Expected) -> Array:
    """A second opinion: each value against the same period a year earlier grown by the series' usual growth of a
    year around it (the median of its neighbours' changes on a year earlier), in robust spreads of those changes."""
    season = max(expected.season, 1)
    y = _scale(x) if expected.logged else x.copy()
    n = y.size
    out = np.zeros(n)
    if season < 2 or n <= season + 4:
        return out
    change = np.full(n, np.nan)
    change[season:] = y[season:] - y[:-season]
    usual = _rolling_median(change, season // 2 + 1)
    # The neighbours' growth, without the value's own change.
    residual = change - usual
    spread = MAD_TO_SD * _median(np.abs(residual))
    if not spread > 0:
        return out
    return np.nan_to_num(np.abs(residual) / spread)


# Slips whose right value is beyond doubt: the series is judged again with that value in their place.
REPAIRED = frozenset({"unit_slip", "sign_error"})


@dataclass(frozen=True)
class Judgement:
    """What `judge` found, and the fit it measured each period against: the series' expected values with its level
    steps taken out (`fit`, on the first level) and the steps themselves."""

    findings: list[Finding]
    fit: Expected | None
    steps: tuple[tuple[int, float], ...] = ()

    def band_fit(self, *, without_step_at: int | None = None) -> Expected | None:
        """The expected values each period was judged against: the fit with every step put back on its period's
        own level, but for the step at `without_step_at` (a level shift's band is the old level carried on)."""
        if self.fit is None:
            return None
        return _restepped(self.fit, [s for s in self.steps if s[0] != without_step_at])


def judge(
    values: Sequence[float | None] | Array,
    season: int,
    *,
    at: Iterable[int] | None = None,
    counted: bool = False,
    shifts: bool = True,
    seasons: Sequence[int] | NDArray[np.int64] | None = None,
) -> list[Finding]:
    """govops' findings on a series: the positions `at` (default: all) that are suspicious, each with what it
    most likely is and the band it was expected in. `counted`: the series counts things, never below zero."""
    return judgement(values, season, at=at, counted=counted, shifts=shifts, seasons=seasons).findings


def judgement(
    values: Sequence[float | None] | Array,
    season: int,
    *,
    at: Iterable[int] | None = None,
    counted: bool = False,
    shifts: bool = True,
    seasons: Sequence[int] | NDArray[np.int64] | None = None,
) -> Judgement:
    """`judge`'s findings with the fit they were judged against.

    A unit slip or a sign error is a value whose right figure is known (the value /1000, its sign turned): the
    other periods are then judged on the series with that figure put back, as a reader would, so that one slip
    moves nothing around it (a value a thousand times too large weighs on its year's spread, its year-on-year
    changes, the next year's same month)."""
    x = np.asarray(values, dtype=np.float64)
    wanted = None if at is None else list(at)
    done = _judge_once(x, season, at=wanted, counted=counted, shifts=shifts, seasons=seasons)
    repaired = x.copy()
    slips: dict[int, Finding] = {}
    while slips_now := [f for f in done.findings if f.method in REPAIRED and f.index not in slips]:
        for finding in slips_now:
            slips[finding.index] = finding
            repaired[finding.index] = finding.likely if finding.likely is not None else math.nan
        again = _judge_once(repaired, season, at=wanted, counted=counted, shifts=shifts, seasons=seasons)
        found = [f for f in again.findings if f.index not in slips] + list(slips.values())
        done = dataclasses.replace(again, findings=sorted(found, key=lambda f: f.index))
    fit = done.band_fit()
    if slips and fit is not None:
        # A slip's band is the one of the series put right: what was expected there, not moved by the slip itself.
        banded = []
        for f in done.findings:
            if f.index in slips:
                centre, low, high = fit.band(f.index)
                f = dataclasses.replace(
                    f, score=fit.score(f.index, float(x[f.index])), expected=centre, low=low, high=high
                )
            banded.append(f)
        done = dataclasses.replace(done, findings=banded)
    return done


def _judge_once(
    x: Array,
    season: int,
    *,
    at: Iterable[int] | None,
    counted: bool,
    shifts: bool,
    seasons: Sequence[int] | NDArray[np.int64] | None,
) -> Judgement:
    """`judgement` in one pass, without putting slips right."""
    wanted = set(range(x.size)) if at is None else {i for i in at if 0 <= i < x.size}
    found: dict[int, Finding] = {}
    # A count below zero is a finding whatever its history; one whose opposite is usual is told as a sign error.
    negatives = {i for i in wanted if not math.isnan(x[i]) and negative_count(float(x[i]), counted=counted)}
    for i in frozen_runs(x):
        if i in wanted and i not in found:
            found[i] = Finding(i, "frozen", 0.0, expected=float(x[i]))
    # Repeats are kept out of the fit: a long frozen run would otherwise look like the usual.
    fitted = x.copy()
    fitted[[i for i, f in found.items() if f.method == "frozen"]] = np.nan
    expected = expected_values(fitted, season, seasons)
    if expected is None:
        found |= {i: Finding(i, "negative", 0.0) for i in negatives}
        return Judgement(sorted(found.values(), key=lambda f: f.index), None)
    steps: list[tuple[int, float]] = []
    if shifts:
        # The largest step is taken out and the rest judged again on what is left, a few times: a step of a
        # series makes its spread look wider (or narrower) than it is, which hides (or invents) the others.
        level = fitted
        # A step further from every judged period than its fit reaches (the same month three years either side, a
        # year of trend) changes nothing there: it is not taken out (the scan judges only a series' last months).
        reach = 4 * max(expected.season, 4)
        judged = np.array(sorted(wanted), dtype=np.int64)

        def near(t: int) -> bool:
            at_or_after = int(np.searchsorted(judged, t - reach))
            return at_or_after < judged.size and int(judged[at_or_after]) <= t + reach

        for _ in range(MAX_SHIFTS):
            new = [s for s in level_steps(level, expected) if near(s[0]) and all(abs(s[0] - t) > 1 for t, _ in steps)]
            if not new:
                break
            step = max(new, key=lambda s: abs(s[1]))
            steps.append(step)
            level = _without_steps(level, expected.logged, [step])
            refit = expected_values(level, season, seasons)
            if refit is None:
                break
            expected = refit
        for t, _ in sorted(steps):
            if t in wanted and t not in found:
                before = max(t - 1, 0)
                centre, low, high = _restepped(expected, steps).band(before)
                found[t] = Finding(t, "level_shift", expected.score(before, float(level[t])), centre, low, high)
    # The other periods are judged against the fit of the series with its steps taken out, put back on each
    # period's own level: near a step, a fit of the two levels mixed would find the last periods of the old
    # level too low (or high) and the first of the new.
    unstepped = expected
    expected = _restepped(expected, steps)
    yoy: Array | None = None
    for i in sorted(wanted):
        value = float(x[i])
        if i in found or math.isnan(value):
            continue
        score = expected.score(i, value)
        if score > SECOND_THRESHOLD and score <= THRESHOLD and expected.material(i, value):
            if yoy is None:
                yoy = _year_on_year_scores(x, expected)
            if yoy[i] > YOY_THRESHOLD:
                score = THRESHOLD + 1e-9
        if score <= THRESHOLD or not expected.material(i, value):
            # Two digits swapped may move a value by less than a third: it is told by the digits themselves, when
            # the value is well out of its band and putting two of its digits back lands right on what was expected.
            if score > SWAP_THRESHOLD and (swapped := _swap_back(expected, i, value, score)) is not None:
                centre, low, high = expected.band(i)
                found[i] = Finding(i, "digit_swap", score, centre, low, high, likely=swapped)
            continue
        centre, low, high = expected.band(i)
        # What the value most likely was is looked for in a band twice as wide: a fix only has to be plausible.
        _, wide_low, wide_high = expected.band(i, 2 * THRESHOLD)
        factor = unit_slip(value, wide_low, wide_high)
        if factor is not None:
            found[i] = Finding(i, "unit_slip", score, centre, low, high, likely=value / factor)
        elif sign_error(value, wide_low, wide_high):
            found[i] = Finding(i, "sign_error", score, centre, low, high, likely=-value)
        elif (swapped := digit_swap(value, wide_low, wide_high)) is not None:
            found[i] = Finding(i, "digit_swap", score, centre, low, high, likely=swapped)
        else:
            found[i] = Finding(i, "outlier", score, centre, low, high)
    for i in negatives:
        if i not in found or found[i].method != "sign_error":
            found[i] = Finding(i, "negative", 0.0)
    return Judgement(sorted(found.values(), key=lambda f: f.index), unstepped, tuple(sorted(steps)))
