"""The engine on known cases: a seasonal series is forecast with its season, the bands cover what they say, the
naive guard holds, and short, constant, gappy or negative series fall back with the reason said."""

from __future__ import annotations

import numpy as np
import pytest

from govops.forecast import engine

RNG = np.random.default_rng(16)


def seasonal(n: int, *, noise: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, n)


def test_a_seasonal_series_is_forecast_with_its_season_and_beats_seasonal_naive() -> None:
    y = seasonal(96 + 12)
    found = engine.forecast_one(y[:96], h=12, season_length=12)
    actual = y[96:]
    naive = engine.seasonal_naive(y[:96], 12, 12).mean
    assert found.model != engine.SEASONAL_NAIVE
    assert engine.mase(actual, found.mean, y[:96], 12) < engine.mase(actual, naive, y[:96], 12)
    assert found.backtest_mase is not None and found.backtest_smape is not None
    for level in engine.LEVELS:
        assert np.all(found.lower[level] <= found.mean) and np.all(found.mean <= found.upper[level])
    assert np.all(found.upper[95] - found.lower[95] >= found.upper[80] - found.lower[80])


def test_bands_calibrated_over_a_batch_cover_near_their_level() -> None:
    batch = [seasonal(60 + 6, noise=3.0, seed=s) for s in range(40)]
    found, factors = engine.forecast_many([y[:60] for y in batch], h=6, season_length=12)
    covered = {
        lv: np.mean(
            [np.mean((y[60:] >= f.lower[lv]) & (y[60:] <= f.upper[lv])) for y, f in zip(batch, found, strict=True)]
        )
        for lv in engine.LEVELS
    }
    assert 0.65 <= covered[80] <= 0.95, covered
    assert 0.85 <= covered[95] <= 1.0, covered
    assert set(factors) == set(engine.LEVELS)


def test_a_forecast_that_loses_to_seasonal_naive_in_its_backtest_is_not_published() -> None:
    # Seasonal random walks (each month is last year's plus a shock): the process seasonal naive is right for.
    rng = np.random.default_rng(7)
    batch = []
    for _ in range(24):
        y = list(rng.uniform(10, 90, 12))
        for t in range(12, 60):
            y.append(y[t - 12] + rng.normal(0, 4))
        batch.append(np.array(y))
    found, _ = engine.forecast_many(batch, h=12, season_length=12)
    for f in found:
        assert f.backtest_mase is not None and f.backtest_naive_mase is not None
        assert f.backtest_mase <= f.backtest_naive_mase + 1e-12, f
    lost = [f for f in found if engine.LOST_TO_NAIVE in f.notes]
    assert lost, "some first choices lost to seasonal naive"
    assert any(f.model == engine.SEASONAL_NAIVE for f in lost) or any(f.model != engine.COMBINATION for f in lost)


def test_too_short_constant_and_gappy_series_fall_back_with_the_reason() -> None:
    short = engine.forecast_one([4.0, 5.0], h=3, season_length=12)
    assert short.model == engine.NAIVE and engine.TOO_SHORT in short.notes
    np.testing.assert_allclose(short.mean, [5.0, 5.0, 5.0])
    assert np.all(np.isnan(short.lower[95]))

    flat = engine.forecast_one([7.0] * 30, h=4, season_length=12)
    assert engine.CONSTANT in flat.notes
    np.testing.assert_allclose(flat.mean, 7.0)
    np.testing.assert_allclose(flat.upper[95], 7.0)

    gappy = seasonal(48)
    gappy[[10, 11, 30]] = np.nan
    found = engine.forecast_one(gappy, h=6, season_length=12)
    assert engine.GAPS_FILLED in found.notes and np.all(np.isfinite(found.mean))

    brief = engine.forecast_one(seasonal(20), h=3, season_length=12)
    assert engine.NO_SEASON in brief.notes and brief.season_length == 1


def test_a_nonnegative_unit_is_never_forecast_below_zero_and_negative_input_is_said() -> None:
    falling = np.maximum(50 - 2.5 * np.arange(24), 0) + RNG.uniform(0, 0.5, 24)
    found = engine.forecast_one(falling, h=12, season_length=1, nonnegative=True)
    assert np.all(found.mean >= 0) and np.all(found.lower[95] >= 0)
    assert engine.CLIPPED in found.notes

    negative = engine.forecast_one(np.r_[falling, -3.0], h=3, season_length=1, nonnegative=True)
    assert engine.NEGATIVE_INPUT in negative.notes


def test_a_series_with_no_values_is_refused() -> None:
    with pytest.raises(ValueError):
        engine.forecast_one([np.nan, np.nan], h=2, season_length=1)


def test_smape_and_mase_follow_the_competition_definitions() -> None:
    actual, predicted = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    assert engine.smape(actual, predicted) == pytest.approx((200 * 10 / 210 + 200 * 20 / 380) / 2)
    history = np.array([1.0, 3.0, 2.0, 4.0])
    assert engine.mase(actual, predicted, history, 1) == pytest.approx(15.0 / (5.0 / 3))


def test_the_long_horizon_bands_cover_how_far_a_series_strays_from_its_trend_over_years() -> None:
    # 200 monthly series that wander around a 6%-a-year trend (a random walk in logs, with a season): ten years of
    # history, then five years ahead. The long bands must cover the value five years on about as often as they say.
    rng = np.random.default_rng(7)
    inside = {lv: 0 for lv in engine.LEVELS}
    widths = []
    for _ in range(200):
        steps = 0.005 + rng.normal(0, 0.02, 180)
        y = 100 * np.exp(np.cumsum(steps)) * (1 + 0.05 * np.sin(2 * np.pi * np.arange(180) / 12))
        history, later = y[:120], y[120:]
        ahead = np.arange(120, 180)
        season = 1 + 0.05 * np.sin(2 * np.pi * ahead / 12)
        # A model's mean: the drift line from the last year's level, with the season.
        trend = history[-12:].mean() * np.exp(0.005 * (np.arange(1, 61) + 5.5)) * season
        floor = engine.trend_floor(history, trend, m=12, start=12)
        relative = floor[95][12:] / trend[12:]
        assert np.all(floor[95][:12] == 0) and np.all(np.diff(relative) >= -1e-12)  # opening out, never narrowing
        widths.append(floor[95][-1] / trend[-1])
        for lv in engine.LEVELS:
            inside[lv] += abs(later[-1] - trend[-1]) <= floor[lv][-1]
    assert 0.72 <= inside[80] / 200 <= 0.92 and 0.88 <= inside[95] / 200 <= 1.0, inside
    assert np.median(widths) > 0.25  # five years out, honest bands are wide: over a quarter of the level


def test_a_monthly_forecast_five_years_out_is_a_trend_scenario_with_wider_bands_past_its_backtest() -> None:
    y = seasonal(72, noise=2.0)
    found = engine.forecast_many([y], h=60, season_length=12, backtest_h=12)[0][0]
    assert len(found.mean) == 60
    width = found.upper[95] - found.lower[95]
    assert width[-1] > 2 * width[11]  # the long horizon's bands open out
    assert np.all(found.lower[95] <= found.lower[80]) and np.all(found.upper[80] <= found.upper[95])
