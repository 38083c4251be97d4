"""The nowcast of a quarterly growth rate (GDP, GRDP) from the monthly indicators released before it, with a
dynamic factor model (statsmodels' DynamicFactorMQ: one common factor behind the monthly and the quarterly
series), and the "news" of the latest monthly release: which indicator moved the nowcast, and by how much."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

MONTHLY = ("IIP", "RETAIL_SALES", "EXPORTS", "IMPORTS", "CPI")
MIN_QUARTERS = 8


@dataclass(frozen=True)
class News:
    indicator: str
    period: str
    observed: float
    expected: float
    impact: float  # points of the target's growth


@dataclass(frozen=True)
class Nowcast:
    quarter: str
    value: float
    before: float | None  # the nowcast without the latest monthly release
    news: list[News]


def growth(levels: pd.Series, lag: int) -> pd.Series:
    """Year-on-year growth in percent."""
    return (100.0 * (levels / levels.shift(lag) - 1.0)).replace([np.inf, -np.inf], np.nan)


def nowcast(monthly: pd.DataFrame, quarterly: pd.Series) -> Nowcast:
    """Nowcast `quarterly` (a growth rate, PeriodIndex Q) for the quarter of the last month of `monthly`
    (growth rates, PeriodIndex M); the news is that last month's release against the model fitted without it."""
    # Both from the same first quarter: the model reads the quarterly series on the monthly calendar.
    quarterly = quarterly.dropna()
    start = max(quarterly.index.min(), monthly.dropna(how="all").index.min().asfreq("Q"))
    quarterly = quarterly.loc[quarterly.index >= start]
    monthly = monthly.loc[monthly.index >= start.asfreq("M", how="start")]
    last = monthly.index.max()
    target = last.asfreq("Q")
    before = monthly.loc[monthly.index < last].copy()
    before = before.reindex(monthly.index)
    endog_q = quarterly.loc[quarterly.index < target].to_frame("target")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        from statsmodels.tsa.statespace.dynamic_factor_mq import DynamicFactorMQ

        model = DynamicFactorMQ(
            before.iloc[:-1], endog_quarterly=endog_q, factors=1, factor_orders=1, idiosyncratic_ar1=False
        )
        fitted = model.fit(disp=False, maxiter=200)
        end = target.asfreq("M", how="end")
        earlier = float(fitted.predict(start=end, end=end)["target"].iloc[0])
        updated = fitted.apply(monthly, endog_quarterly=endog_q)
        value = float(updated.predict(start=end, end=end)["target"].iloc[0])
        found = updated.news(fitted, impact_date=end, impacted_variable="target", comparison_type="previous")
        details = found.details_by_update.reset_index()
    news = [
        News(
            indicator=str(row["updated variable"]),
            period=str(row["update date"]),
            observed=float(row["observed"]),
            expected=float(row["forecast (prev)"]),
            impact=float(row["impact"]),
        )
        for _, row in details.iterrows()
    ]
    return Nowcast(str(target), value, earlier, sorted(news, key=lambda n: -abs(n.impact)))
