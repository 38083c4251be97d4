"""Forecasts and early warnings as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ForecastPointOut(BaseModel):
    period: str
    step: int
    mean: float
    bounds: dict[str, tuple[float | None, float | None]] = Field(
        description="per level asked ('80', '95'): lower and upper bound"
    )
    horizon: str = Field(description="short (1-3 periods), medium (to the end of next year) or long")


class ForecastOut(BaseModel):
    indicator: str
    area: str
    dims: str
    freq: str
    origin: str = Field(description="the last observed period the forecast starts after")
    model: str
    backtest_smape: float | None
    backtest_mase: float | None
    notes: list[str] = Field(description="fall-backs taken: too_short, constant, gaps_filled, lost_to_seasonal_naive…")
    made_at: datetime
    points: list[ForecastPointOut]


class DriverOut(BaseModel):
    area: str = Field(description="the province's code, or the component's (a breakdown code)")
    name: str = Field(description="its name in Vietnamese")
    name_en: str | None = Field(default=None, description="its name in English")
    deviation: float = Field(description="its own deviation: from its forecast, or past the threshold's level")
    share: float = Field(description="its share of the deviation of all the parts that deviate the same way")


class WarningOut(BaseModel):
    id: int
    kind: str
    indicator: str
    area: str
    dims: str
    period: str
    value: float
    expected: float | None
    lower: float | None
    upper: float | None
    drivers: list[DriverOut]
    raised_at: datetime
    threshold: str | None = Field(default=None, description="the threshold crossed (kinds threshold and leading)")


class ThresholdIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, description="e.g. CPI_CEILING_2026")
    kind: Literal["forecast", "leading"] = Field(
        description="forecast: warn when the series' forecast crosses the level; leading: when a new value does"
    )
    indicator: str = Field(max_length=40)
    area: str = Field(default="VN", max_length=16)
    dims: str = Field(default="", max_length=200, description="breakdown key; empty for the total")
    measure: Literal["level", "yoy", "ytd_yoy"] = Field(
        default="level",
        description="the value, its % change on a year earlier, or its year to date's (CPI's average inflation)",
    )
    direction: Literal["above", "below"] = "above"
    level: float
    year: int | None = Field(default=None, description="only this year's periods; none: every year")
    name_vi: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)
    source: str = Field(min_length=1, max_length=300, description="the legal basis of the level")
    demo: bool = False


class ThresholdSet(BaseModel):
    thresholds: list[ThresholdIn] = Field(min_length=1, max_length=500)


class ThresholdOut(ThresholdIn):
    created_by: str
    created_at: datetime


class NewsOut(BaseModel):
    indicator: str
    period: str
    observed: float = Field(description="the release's value (year-on-year growth, %)")
    expected: float = Field(description="what the model expected of it before the release")
    impact: float = Field(description="how much it moved the nowcast, in points of growth")


class NowcastOut(BaseModel):
    indicator: str
    area: str
    quarter: str
    value: float = Field(description="nowcast of the quarter's year-on-year growth, %")
    before: float | None = Field(description="the nowcast before the latest monthly release")
    news: list[NewsOut] = Field(description="the latest release's news, largest impact first")
