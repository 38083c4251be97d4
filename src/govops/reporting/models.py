"""Reporting regimes (versioned from a period on), the expected reports they make, and the reminders sent.

A regime is a code; what it asks (its indicators, who reports, the deadline rule...) lives in its versions,
each applying from a period on until the next version's first period, so that a change never rewrites the
compliance of periods already past. An expected report is one regime x reporting agency x period; its
status is computed from the observations stored and the times they arrived, never ticked by hand.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govops.db.base import Base, BigId, UTCDateTime

STATUSES = ("on_time", "late", "partial", "missing", "not_due")
# Who must cover which areas: a province its own area (optionally with its wards), a ministry the nation or
# every province.
COVERAGES = ("own_area", "own_area_and_wards", "nation", "provinces")
REMINDER_STAGES = ("before", "due", "after", "escalated")


class Regime(Base):
    """A reporting regime (chế độ báo cáo): its code, and whether the demo made it up."""

    __tablename__ = "reporting_regime"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions: Mapped[list[RegimeVersion]] = relationship(
        back_populates="regime", order_by="RegimeVersion.valid_from_start", cascade="all, delete-orphan"
    )

    @property
    def current(self) -> RegimeVersion | None:
        """The latest version: what the regime asks from its first period on."""
        return self.versions[-1] if self.versions else None

    def spans(self) -> list[tuple[RegimeVersion, date | None]]:
        """Each version, oldest first, with the first day it no longer applies (None: the latest)."""
        ordered = sorted(self.versions, key=lambda v: v.valid_from_start)
        return [
            (version, ordered[i + 1].valid_from_start if i + 1 < len(ordered) else None)
            for i, version in enumerate(ordered)
        ]


class RegimeVersion(Base):
    """What a regime asks from the period `valid_from` on (until the next version's)."""

    __tablename__ = "reporting_regime_version"
    __table_args__ = (
        UniqueConstraint("regime_id", "valid_from"),
        CheckConstraint("frequency IN ('M', 'Q', 'S', 'A')", name="frequency"),
        CheckConstraint("coverage IN ('own_area', 'own_area_and_wards', 'nation', 'provinces')", name="coverage"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    regime_id: Mapped[int] = mapped_column(ForeignKey("reporting_regime.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[str] = mapped_column(String(16))  # a period of the regime's frequency: 2025-07
    valid_from_start: Mapped[date] = mapped_column(Date)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(300))  # e.g. Nghị định 09/2019/NĐ-CP, Điều 12
    legal_date: Mapped[date | None] = mapped_column(Date)
    frequency: Mapped[str] = mapped_column(String(1))
    # Parsed by govops.reporting.rules: "day 12 of the month after the period", "20 days after the period".
    deadline_rule: Mapped[str] = mapped_column(String(120))
    cutoff_rule: Mapped[str | None] = mapped_column(String(120))
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    # Edits to a report's values later than this many days after its deadline are listed as revisions.
    lock_days: Mapped[int] = mapped_column(Integer, default=30)
    replaced_by_data: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_document: Mapped[bool] = mapped_column(Boolean, default=False)
    indicators: Mapped[list[str]] = mapped_column(JSON)
    agency_kinds: Mapped[list[str]] = mapped_column(JSON)
    agencies: Mapped[list[str]] = mapped_column(JSON)
    coverage: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    regime: Mapped[Regime] = relationship(back_populates="versions")


class ExpectedReport(Base):
    """One regime x agency x period, with its compliance as last computed from the data."""

    __tablename__ = "reporting_expected"
    __table_args__ = (
        UniqueConstraint("regime_id", "agency_id", "period"),
        CheckConstraint("status IN ('on_time', 'late', 'partial', 'missing', 'not_due')", name="status"),
        # The board: the latest periods, then each period's reports counted by agency and status from the index.
        Index("ix_reporting_expected_period_start", "period_start", "period"),
        Index("ix_reporting_expected_period_agency_status", "period", "agency_id", "status"),
        Index("ix_reporting_expected_agency_period", "agency_id", "period_start"),
        Index("ix_reporting_expected_deadline", "deadline"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    regime_id: Mapped[int] = mapped_column(ForeignKey("reporting_regime.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("reporting_regime_version.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    grace_until: Mapped[datetime] = mapped_column(UTCDateTime)
    lock_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8))
    required: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)
    # The required values not yet stored, "INDICATOR/AREA" (and "document" for a signed report still due).
    missing: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    days_late: Mapped[int | None] = mapped_column(Integer)
    revisions_after_lock: Mapped[int] = mapped_column(Integer, default=0)
    # When its compliance last changed (a computation that finds it as it was writes nothing).
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportDocument(Base):
    """The signed narrative report (PDF) of an expected report, when its regime asks for one."""

    __tablename__ = "reporting_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expected_id: Mapped[int] = mapped_column(ForeignKey("reporting_expected.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(120))


class Reminder(Base):
    """A reminder or escalation sent for an expected report: its insert is the claim, so each is sent once."""

    __tablename__ = "reporting_reminder"
    __table_args__ = (
        UniqueConstraint("expected_id", "stage"),
        CheckConstraint("stage IN ('before', 'due', 'after', 'escalated')", name="stage"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expected_id: Mapped[int] = mapped_column(ForeignKey("reporting_expected.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer)
