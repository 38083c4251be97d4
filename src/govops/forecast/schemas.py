"""Forecasts and early warnings as the API shows them."""

from __future__ import annotations

from datetime import datetime

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
    area: str
    name: str
    deviation: float
    share: float


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
