"""Tables of the targets the Government's resolutions and plans set: the document (a plan), each target of it
(on an indicator, or qualitative and assessed by hand), its cascade to provinces and ministries, the agencies
responsible and the tasks that serve it; and what the store's data say of each target now (its progress) and
how its rating moved (the rating history)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govops.catalog.models import Agency, Area, Indicator
from govops.db.base import Base, BigId, UTCDateTime, utcnow

PLAN_KINDS = ("resolution", "decision", "five_year_plan", "programme")
COMPARATORS = ("at_least", "at_most", "between", "about")
LEVELS = ("nation", "province", "ministry")
# Best first: a rating "worse" than another comes later in this tuple; no_data stands apart.
RATINGS = ("met", "on_track", "at_risk", "off_track", "no_data")


class TargetPlan(Base):
    """A document that sets targets: a resolution of the National Assembly or the Government, a decision, a
    five-year plan, a national target programme."""

    __tablename__ = "target_plan"
    __table_args__ = (CheckConstraint(f"kind IN {PLAN_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # 244/2025/QH15, 01/NQ-CP-2026
    kind: Mapped[str] = mapped_column(String(16))
    title_vi: Mapped[str] = mapped_column(String(500))
    title_en: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date | None] = mapped_column(Date)
    # Where its facts come from (a public document's address); None for a made-up demo plan.
    source: Mapped[str | None] = mapped_column(String(500))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Target(Base):
    """One target: `indicator` compared (`comparator`) with `value` (and `value_high` for `between`, the band
    half-width `tolerance` for `about`) over `period`; a cascaded target has the national one as `parent`."""

    __tablename__ = "target"
    __table_args__ = (
        CheckConstraint(f"comparator IN {COMPARATORS}", name="comparator"),
        CheckConstraint(f"level IN {LEVELS}", name="level"),
        Index("ix_target_period_level", "period", "level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("target_plan.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str] = mapped_column(String(500))
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"), index=True)
    comparator: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None] = mapped_column(Float)
    value_high: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="")
    period: Mapped[str] = mapped_column(String(16))
    base_value: Mapped[float | None] = mapped_column(Float)
    base_year: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(10), default="nation")
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)  # a ministry's share
    article: Mapped[str] = mapped_column(String(200), default="")  # where in the document: "Điều 2, khoản 1"
    note: Mapped[str] = mapped_column(Text, default="")
    # Below this probability of meeting it, the target raises an alert.
    alert_below: Mapped[float] = mapped_column(Float, default=0.5)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # A qualitative target's assessment by hand: its rating and the evidence.
    assessed_rating: Mapped[str | None] = mapped_column(String(10))
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[TargetPlan] = relationship(lazy="joined")
    indicator: Mapped[Indicator | None] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship(lazy="joined")


class TargetAgency(Base):
    """An agency responsible for a target (its officers are told when the target is in trouble)."""

    __tablename__ = "target_agency"

    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True, index=True)


class TargetTask(Base):
    """A task (of the tasks domain) that serves a target."""

    __tablename__ = "target_task"

    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True, index=True)


class TargetProgress(Base):
    """What the data say of a target now, recomputed whenever data arrive (one row per target)."""

    __tablename__ = "target_progress"

    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    as_of: Mapped[str | None] = mapped_column(String(16))  # the latest period of data the figures stand on
    actual: Mapped[float | None] = mapped_column(Float)
    actual_kind: Mapped[str] = mapped_column(String(10), default="latest")  # latest | ytd
    required: Mapped[float | None] = mapped_column(Float)  # the trajectory's value at `as_of`
    gap: Mapped[float | None] = mapped_column(Float)  # actual - required, in the direction of the comparator
    projected: Mapped[float | None] = mapped_column(Float)  # the expected value at the period's end
    probability: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(10), default="none")  # forecast | history | final | none
    category: Mapped[str | None] = mapped_column(String(24))  # Open SDG's progress category
    growth_ratio: Mapped[float | None] = mapped_column(Float)
    status_index: Mapped[float | None] = mapped_column(Float)  # ESCAP's current status index
    anticipated_index: Mapped[float | None] = mapped_column(Float)  # ESCAP's anticipated progress index
    rating: Mapped[str] = mapped_column(String(10), default="no_data")
    # [{"period", "actual", "required", "mean", "lo80", "hi80", "lo95", "hi95"}]: the chart of the page.
    path: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    # The provinces (or cascaded targets) contributing most to a shortfall: [{"area", "name", "gap", "share"}].
    drivers: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class TargetRating(Base):
    """The rating history: one row each time a target's rating or its side of the alert threshold changes."""

    __tablename__ = "target_rating"
    __table_args__ = (Index("ix_target_rating_target_id_id", "target_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    as_of: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[str] = mapped_column(String(10))
    probability: Mapped[float | None] = mapped_column(Float)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
