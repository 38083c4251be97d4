"""The arithmetic of progress on plain numbers: what meets a goal and how likely, the path of past years projected
and followed as a trajectory, Open SDG's categories and ESCAP's indices."""

from __future__ import annotations

import math

import pytest

from govops.targets import progress as pg


def test_goals_and_their_probabilities() -> None:
    at_least, band, about = pg.Goal("at_least", 10), pg.Goal("between", 5400, 5500), pg.Goal("about", 24.96, None, 0.5)
    assert at_least.met(10) and not at_least.met(9.99) and band.met(5450) and not band.met(5501)
    assert about.bounds == (24.46, 25.46)
    assert at_least.probability(10, 1) == pytest.approx(0.5)
    assert at_least.probability(12, 1) == pytest.approx(0.97725, abs=1e-4)
    assert pg.Goal("at_most", 4.5).probability(4.5 + 1.2815515655446004, 1) == pytest.approx(0.1, abs=1e-6)
    assert at_least.probability(11, 0) == 1.0 and at_least.gap(9, 10) == -1 and pg.Goal("at_most", 4).gap(3, 4) == 1


def test_the_path_of_past_years_projects_the_year_and_gives_a_seasonal_trajectory() -> None:
    season = [1, 1, 2, 2]  # half the year's flow comes in its last two quarters... plus a bit
    past = [[sum(season[: k + 1]) * (1.1**y) for k in range(4)] for y in range(4)]
    current: list[float | None] = [1.1**4, 2 * 1.1**4, None, None]
    outlook = pg.history_outlook(past, current, multiplicative=True)
    assert outlook is not None and outlook.method == "history"
    assert outlook.mean == pytest.approx(6 * 1.1**4)
    assert outlook.sd == pytest.approx(outlook.mean * pg.MIN_RELATIVE_SD * 0.5)  # the years agree: the floor
    path = pg.trajectory(past, 4, 60.0, multiplicative=True)
    assert path == pytest.approx([10.0, 20.0, 40.0, 60.0])  # follows the season, not a straight line
    assert pg.baseline_outlook(past, current, True) == pytest.approx(6 * 1.1**4)
    assert pg.history_outlook(past, [None] * 4, True) is None
    final = pg.history_outlook(past, [1.0, 2.0, 4.0, 6.0], True)
    assert final is not None and (final.mean, final.sd, final.method) == (6.0, 0.0, "final")


def test_a_forecast_of_the_remaining_periods_gives_the_year() -> None:
    outlook = pg.forecast_outlook([10.0, 10.0], [10.0, 10.0], [1.0, 1.0], "sum")
    assert outlook is not None and outlook.mean == 40 and outlook.sd == pytest.approx(0.5 * (math.sqrt(2) + 2))
    mean = pg.forecast_outlook([4.0], [5.0, 6.0], [1.0, 1.0], "mean")
    assert mean is not None and mean.mean == pytest.approx(5.0)
    assert pg.sd_of_band(8.0, 12.0) == pytest.approx(2 / pg.Z80)


@pytest.mark.parametrize(
    ("observed", "required", "met", "expected"),
    [
        (0.05, 0.05, False, "on_track"),
        (0.03, 0.05, False, "acceleration_needed"),
        (0.01, 0.05, False, "limited_progress"),
        (-0.01, 0.05, False, "deterioration"),
        (-0.02, -0.02, False, "on_track"),  # a rate to bring down, coming down as needed
        (0.0, 0.05, True, "achieved"),
    ],
)
def test_open_sdg_categories(observed: float, required: float, met: bool, expected: str) -> None:
    assert pg.category(observed=observed, required=required, met=met)[0] == expected


def test_escap_indices_of_a_multi_year_target() -> None:
    status, anticipated, outlook = pg.escap(
        base=100, base_year=2020, target=150, target_year=2025, values=[(2021, 110), (2022, 120), (2023, 130)]
    )
    assert status == pytest.approx(60.0)  # 30 of the 50 required
    assert anticipated == pytest.approx(100.0)  # the trend reaches 150 in 2025
    assert outlook is not None and outlook.mean == pytest.approx(150.0)
    assert pg.rating(probability=0.8, final=False, met=None) == "on_track"
    assert pg.rating(probability=0.5, final=False, met=None) == "at_risk"
    assert pg.rating(probability=0.1, final=False, met=None) == "off_track"
    assert pg.rating(probability=None, final=False, met=None) == "no_data"
    assert pg.rating(probability=0.0, final=True, met=True) == "met"
