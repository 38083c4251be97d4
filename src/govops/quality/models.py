"""Tables of data-quality supervision: validation rules, the flags raised on values, and each flag's timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime, utcnow

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "compulsory_pair", "exclusive_pair")
# DHIS2's missing-value strategies: judge only when every value is there; when at least one is (the others
# count as 0); always (missing counts as 0).
MISSING = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")
IMPORTANCES = ("high", "medium", "low")
SEVERITIES = ("high", "medium", "low")
AREA_LEVELS = ("any", "nation", "province")
STATUSES = ("open", "confirmed", "corrected", "dismissed")
# What found a flag: a validation rule, or one of the detectors (govops.quality.detectors).
METHODS = (
    "rule",
    "unit_slip",
    "sign_error",
    "digit_swap",
    "outlier",
    "frozen",
    "level_shift",
    "negative",
    "revision",
)


class QualityRule(Base):
    """A validation rule: left side, operator, right side over the formula language, judged at each area and
    period where its values are; a breach warns on the receipt or, when `blocking`, rejects the submission."""

    __tablename__ = "quality_rule"
    __table_args__ = (
        CheckConstraint(f"operator IN {OPERATORS}", name="operator"),
        CheckConstraint(f"missing IN {MISSING}", name="missing"),
        CheckConstraint(f"importance IN {IMPORTANCES}", name="importance"),
        CheckConstraint(f"area_level IN {AREA_LEVELS}", name="area_level"),
        CheckConstraint("tolerance >= 0", name="tolerance"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    left: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(16))
    right: Mapped[str] = mapped_column(Text)
    # Relative: the sides may differ by this share of the larger one (0.005 = 0.5%) and still agree.
    tolerance: Mapped[float] = mapped_column(Float, default=0.0)
    missing: Mapped[str] = mapped_column(String(24), default="skip_if_any_missing")
    importance: Mapped[str] = mapped_column(String(8), default="medium")
    blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    area_level: Mapped[str] = mapped_column(String(10), default="any")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The frequency of the values it reads (M, Q, A...), worked out when it is saved.
    periodicity: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class QualityFlag(Base):
    """A value found suspicious: where, what found it, what was expected, and where its follow-up stands.

    `fingerprint` (what found it, where, and the value) is unique: a scan run again, or by two workers at once,
    finds the flag already there. `closed_at` is set when the Government Office closes the follow-up.
    """

    __tablename__ = "quality_flag"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"severity IN {SEVERITIES}", name="severity"),
        CheckConstraint(f"method IN {METHODS}", name="method"),
        Index("ix_quality_flag_agency_status", "source_agency_id", "status"),
        Index("ix_quality_flag_series", "indicator_id", "area_id", "dim_key", "period"),
        Index("ix_quality_flag_raised_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(200), unique=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    dim_key: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("quality_rule.id", ondelete="SET NULL"), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    score: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    likely: Mapped[float | None] = mapped_column(Float)
    # A rule's reading: both sides' values (in their base unit) and the rule's code.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    submission_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="open")
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_by: Mapped[str] = mapped_column(String(120))  # "submission", "scan"
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class QualityFlagEvent(Base):
    """A flag's timeline: raised, confirmed, disputed, corrected, closed, dismissed; who, when and why."""

    __tablename__ = "quality_flag_event"
    __table_args__ = (Index("ix_quality_flag_event_flag_id_id", "flag_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("quality_flag.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(120))
    agency: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
