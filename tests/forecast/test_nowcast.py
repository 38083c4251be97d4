"""The nowcast: a quarterly growth rate tracked from monthly indicators by a dynamic factor model, and the news of
the latest release adding up to how far it moved the nowcast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govops.forecast.nowcast import nowcast


def panel(shock: float = 0.0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    months = pd.period_range("2015-01", "2025-02", freq="M")
    factor = np.cumsum(rng.normal(0, 1, len(months))) * 0.1 + rng.normal(0, 1, len(months))
    monthly = pd.DataFrame(
        {
            code: factor * w + rng.normal(0, 0.3, len(months))
            for code, w in (("IIP", 1.0), ("EXPORTS", 1.2), ("CPI", 0.3))
        },
        index=months,
    )
    monthly.loc[months[-1], "IIP"] += shock
    quarters = pd.period_range("2015Q1", "2024Q4", freq="Q")
    by_quarter = pd.Series(factor, index=months).groupby(months.asfreq("Q")).mean()
    quarterly = pd.Series(
        by_quarter.loc[quarters].to_numpy() * 2 + 6 + rng.normal(0, 0.1, len(quarters)), index=quarters
    )
    return monthly, quarterly


def test_the_news_of_a_release_adds_up_to_the_move_of_the_nowcast() -> None:
    found = nowcast(*panel())
    assert found.quarter == "2025Q1"
    assert found.before is not None
    assert sum(n.impact for n in found.news) == pytest.approx(found.value - found.before, abs=1e-6)
    assert {n.indicator for n in found.news} == {"IIP", "EXPORTS", "CPI"}
    assert all(n.period == "2025-02" for n in found.news)


def test_a_strong_industrial_release_raises_the_nowcast_and_leads_the_news() -> None:
    calm, strong = nowcast(*panel()), nowcast(*panel(shock=4.0))
    assert strong.value > calm.value + 0.1
    assert strong.news[0].indicator == "IIP" and strong.news[0].impact > 0
