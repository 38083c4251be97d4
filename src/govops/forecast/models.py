"""Tables of forecasts, kept apart from the observations and never overwritten: each run adds a vintage (the
forecast of a series from its origin, the last period it had), so that every past forecast can be scored
against what happened. Warnings raised when a new value falls outside its band are stored with their drivers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime


class ForecastRun(Base):
    """One run over some or all of the store's series (from the command, the job or the demo)."""

    __tablename__ = "forecast_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(40))
    series: Mapped[int] = mapped_column(Integer, default=0)
    # The run's conformal factors on the models' half-widths, per group and level ({"M14": {"80": 1.1, ...}}).
    factors: Mapped[dict[str, dict[str, float]]] = mapped_column(JSON, default=dict)


class Forecast(Base):
    """The forecast of one series (indicator x area x breakdown) from one origin, by the model its backtest chose."""

    __tablename__ = "forecast"
    __table_args__ = (Index("ix_forecast_series", "indicator_id", "area_id", "dim_key", "origin"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_run.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    dim_key: Mapped[str] = mapped_column(String(200), default="")
    freq: Mapped[str] = mapped_column(String(3))
    origin: Mapped[str] = mapped_column(String(16))  # the last observed period the forecast starts after
    model: Mapped[str] = mapped_column(String(60))
    backtest_smape: Mapped[float | None] = mapped_column(Float)
    backtest_mase: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)  # the fall-backs taken (engine's codes)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ForecastPoint(Base):
    __tablename__ = "forecast_point"

    forecast_id: Mapped[int] = mapped_column(ForeignKey("forecast.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    mean: Mapped[float] = mapped_column(Float)
    lo80: Mapped[float | None] = mapped_column(Float)
    hi80: Mapped[float | None] = mapped_column(Float)
    lo95: Mapped[float | None] = mapped_column(Float)
    hi95: Mapped[float | None] = mapped_column(Float)


class ForecastWarning(Base):
    """An early warning: a new value outside its 95% band, or a forecast crossing a level the Government set."""

    __tablename__ = "forecast_warning"
    __table_args__ = (Index("ix_forecast_warning_key", "kind", "indicator_id", "area_id", "dim_key", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))  # outside_band | threshold (a forecast's) | leading
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    dim_key: Mapped[str] = mapped_column(String(200), default="")
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    # The areas (or components) contributing most to the deviation: [{"area": code, "name", "name_en", "share"}].
    drivers: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The level crossed (kinds threshold and leading); `value` is then the measure that crossed it.
    threshold_id: Mapped[int | None] = mapped_column(
        ForeignKey("forecast_threshold.id", ondelete="CASCADE"), index=True
    )


class ForecastThreshold(Base):
    """A level the Government cares about on a series (the year's CPI ceiling, a leading indicator's alarm line):
    kind `forecast` warns when the series' forecast crosses it, kind `leading` when a new value does. The level
    applies to a measure of the series: the value itself, its year-on-year change, or the year-to-date's
    year-on-year change (CPI's average inflation since January), in one year's periods or in every year's."""

    __tablename__ = "forecast_threshold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # forecast | leading
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    dim_key: Mapped[str] = mapped_column(String(200), default="")
    measure: Mapped[str] = mapped_column(String(10))  # level | yoy | ytd_yoy
    direction: Mapped[str] = mapped_column(String(5))  # above | below
    level: Mapped[float] = mapped_column(Float)
    year: Mapped[int | None] = mapped_column(Integer)  # only this year's periods; None: every year
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(300))  # the legal basis of the level, or why it was chosen
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # made up for the demo, and labelled so
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
