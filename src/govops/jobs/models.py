"""The record of every job run: one row per job, due time and scope, whose insert is the claim."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime

# queued: asked for by hand, waiting for a worker; running; retrying: failed, tried again at next_try_at;
# succeeded and failed are final.
STATES: tuple[str, ...] = ("queued", "running", "retrying", "succeeded", "failed")
WAITING: tuple[str, ...] = ("queued", "retrying")


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (
        # Exactly once per due time: the second worker's claim of the same due time fails here.
        UniqueConstraint("job", "due_at", "scope"),
        CheckConstraint("state IN ('queued', 'running', 'retrying', 'succeeded', 'failed')", name="state"),
        # The worker's look for runs to take up again.
        Index("ix_job_run_state_next_try_at", "state", "next_try_at"),
        Index("ix_job_run_job_started_at", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # '' for work on the store, done once; a process's name for work on that process's memory.
    scope: Mapped[str] = mapped_column(String(200), default="")
    manual: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
