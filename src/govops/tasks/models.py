"""Tables of directives, the tasks they assign, and what happens to each task (reports, extensions, history).

A task's status (done on time, done late, open in time, open overdue) is never stored: it follows from its
deadline, its closing day and today (see `govops.tasks.status`). What is stored is what people said and did.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govops.catalog.models import Agency
from govops.db.base import Base, BigId, UTCDateTime, utcnow

DIRECTIVE_KINDS = ("resolution", "decision", "directive", "dispatch", "conclusion", "minutes")
RECURRENCES = ("once", "monthly", "quarterly", "regular")
PRIORITIES = ("normal", "high", "urgent")
# Worst last: a rating "lower" than another comes later in this tuple.
HEALTHS = ("green", "amber_green", "amber", "amber_red", "red")


class Directive(Base):
    """A document that assigns tasks: a resolution, a decision, a directive, an official dispatch (công điện),
    a conclusion notice (thông báo kết luận) or meeting minutes."""

    __tablename__ = "directive"
    __table_args__ = (CheckConstraint(f"kind IN {DIRECTIVE_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 01/NQ-CP, 123/CĐ-TTg
    title: Mapped[str] = mapped_column(String(500))
    signed_on: Mapped[date] = mapped_column(Date, index=True)
    signer: Mapped[str] = mapped_column(String(200))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    document_url: Mapped[str | None] = mapped_column(String(500))
    # Where a real directive's facts come from (a public document); None for made-up demo directives.
    source: Mapped[str | None] = mapped_column(String(500))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issuer: Mapped[Agency] = relationship(lazy="joined")


class DirectiveLink(Base):
    """One directive citing, implementing or replacing another."""

    __tablename__ = "directive_link"

    directive_id: Mapped[int] = mapped_column(ForeignKey("directive.id", ondelete="CASCADE"), primary_key=True)
    linked_id: Mapped[int] = mapped_column(ForeignKey("directive.id", ondelete="CASCADE"), primary_key=True, index=True)


class Task(Base):
    """One task a directive assigns to a lead agency (a sub-task: one the lead delegates to a unit, with a weight).

    `deadline` is the deadline now in force (history in task_event); `next_due_on` is the next report date of a
    recurring task (monthly, quarterly), moved on by each report. A "regular" task has neither and is never
    overdue. `closed_on` is set when the task is done.
    """

    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint(f"recurrence IN {RECURRENCES}", name="recurrence"),
        CheckConstraint(f"priority IN {PRIORITIES}", name="priority"),
        CheckConstraint(f"health IN {HEALTHS}", name="health"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),
        CheckConstraint("weight > 0", name="weight"),
        # The Prime Minister's view and the scorecards read open tasks by agency and deadline.
        Index("ix_task_lead_closed_deadline", "lead_agency_id", "closed_on", "deadline"),
        Index("ix_task_closed_deadline", "closed_on", "deadline"),
        # The open tasks by the date they are judged against (`status.due_column`), soonest first: the leader's
        # view and the list of tasks overdue more than 30 days read them in this order. PostgreSQL only: the
        # stores large enough to need it are there (and SQLAlchemy does not read such an index back from SQLite).
        Index(
            "ix_task_open_due",
            func.coalesce(text("deadline"), text("next_due_on")),
            "id",
            postgresql_where=text("closed_on IS NULL"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directive.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    assigned_on: Mapped[date] = mapped_column(Date)
    recurrence: Mapped[str] = mapped_column(String(10), default="once")
    deadline: Mapped[date | None] = mapped_column(Date)
    original_deadline: Mapped[date | None] = mapped_column(Date)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    category: Mapped[str] = mapped_column(String(80), default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    health: Mapped[str] = mapped_column(String(12), default="green")
    # -1 worse than before, 0 the same, 1 better: the arrow beside the rating.
    health_trend: Mapped[int] = mapped_column(Integer, default=0)
    closed_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(String(500))
    quality: Mapped[int | None] = mapped_column(Integer)  # the Government Office's evaluation, 1..5
    evaluation: Mapped[str | None] = mapped_column(Text)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    directive: Mapped[Directive] = relationship(lazy="joined")
    lead: Mapped[Agency] = relationship(lazy="joined")


class TaskAgency(Base):
    """An agency that co-ordinates on a task (phối hợp)."""

    __tablename__ = "task_agency"

    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True, index=True)


class TaskIndicator(Base):
    """The data that shows a task's progress: an indicator for an area reaching a target closes the task."""

    __tablename__ = "task_indicator"
    __table_args__ = (UniqueConstraint("task_id", "indicator_code", "area_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    indicator_code: Mapped[str] = mapped_column(String(40), index=True)
    area_code: Mapped[str] = mapped_column(String(20))
    target: Mapped[float] = mapped_column(Float)
    # True: reached when the value is at least the target; False: at most (a rate to bring down).
    at_least: Mapped[bool] = mapped_column(Boolean, default=True)
    value: Mapped[float | None] = mapped_column(Float)  # the latest value seen
    reached_on: Mapped[date | None] = mapped_column(Date)


class TaskReport(Base):
    """A progress report by the agency responsible: console, API or its document system's webhook."""

    __tablename__ = "task_report"
    __table_args__ = (Index("ix_task_report_task_id_id", "task_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    percent: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(10))  # console, api, webhook
    reported_on: Mapped[date] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_by: Mapped[str] = mapped_column(String(120))


class TaskExtension(Base):
    """A request to move a task's deadline, decided by the Government Office."""

    __tablename__ = "task_extension"
    __table_args__ = (CheckConstraint("state IN ('pending', 'approved', 'refused')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    old_deadline: Mapped[date | None] = mapped_column(Date)
    new_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)


class TaskEvent(Base):
    """The task's timeline: assigned, reported, extension asked/granted/refused, health changed, overdue, closed,
    evaluated. `kind` + `task_id` of a once-only happening (overdue, a reminder) is unique: two workers noticing
    the same slip at once write it once."""

    __tablename__ = "task_event"
    __table_args__ = (
        Index("ix_task_event_task_id_id", "task_id", "id"),
        Index("uq_task_event_once", "task_id", "once_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # a JSON object
    # Set for what must happen once per task and deadline (e.g. "overdue:2025-06-30"); NULLs never clash.
    once_key: Mapped[str | None] = mapped_column(String(60))
