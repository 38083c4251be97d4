"""Observations (the current value of each data point) and their append-only revisions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime


class Observation(Base):
    """The current value of one indicator, at one area, for one period and dimension key."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("indicator_id", "area_id", "period", "dim_key"),
        Index("ix_observation_indicator_period", "indicator_id", "period_start", "area_id"),
        # A few areas' series of one indicator and dimension key, e.g. the nation and 34 provinces.
        Index("ix_observation_area_series", "indicator_id", "dim_key", "area_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    # Canonical "DIM=CODE;DIM=CODE" in the indicator's dimension order, totals left out; "" is the total.
    dim_key: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    source_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ObservationRevision(Base):
    """Every value an observation has held, from the moment it was recorded. Never updated."""

    __tablename__ = "observation_revision"
    # Unique versions make two writers racing on one data point fail loudly instead of forking its history.
    __table_args__ = (UniqueConstraint("observation_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observation.id"))
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    source_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(120))


class AreaRollup(Base):
    """An indicator's value at an area and period where it is aggregated from the areas below or merged into it.

    Kept in step with the observations in the same transaction (warehouse.rollup), so that a national or
    provincial series reads a few hundred rows instead of adding up every ward on each request.
    """

    __tablename__ = "area_rollup"
    __table_args__ = (
        # A page's read of several indicators at a few areas since a first day (warehouse.rollup.read_many); on
        # PostgreSQL it carries what the read returns, so that the rows scattered by writes need not be visited.
        Index(
            "ix_area_rollup_series",
            "indicator_id",
            "dim_key",
            "area_id",
            "period_start",
            postgresql_include=["period", "value", "status", "have", "expected"],
        ),
    )

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), primary_key=True)
    dim_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), primary_key=True, index=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(16))
    have: Mapped[int] = mapped_column(Integer)
    expected: Mapped[int] = mapped_column(Integer)


class IndicatorState(Base):
    """Per-indicator bookkeeping of the warehouse, updated under the indicator's lock by every write.

    `rollup_signature`: the rule and area tree its roll-ups were computed under (another one makes them stale).
    `data_version`: bumped by each write, so pages reuse what they computed until the data changes.
    `last_change_seq`: the `seq` of its latest `observation.changed` event (numbered per indicator).
    """

    __tablename__ = "indicator_state"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), primary_key=True)
    rollup_signature: Mapped[str] = mapped_column(String(200))
    data_version: Mapped[int] = mapped_column(Integer)
    last_change_seq: Mapped[int] = mapped_column(BigInteger)
