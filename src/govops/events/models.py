"""The outbox of domain events: one table for every domain's kinds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime


class DomainEvent(Base):
    """Something that happened in a domain, written in the same transaction as the change it reports.

    `id` orders every event of every kind: readers keep the last id they saw as their cursor. The read rule
    (`read_classification`, `read_indicator`, `read_agency`) is plain columns so that a reader's rights
    become a WHERE clause: an event is shown to whoever may read that classification, and, when set, that
    indicator (a member through its granted groups) and that agency's own business.
    """

    __tablename__ = "domain_event"
    __table_args__ = (Index("ix_domain_event_topic_id", "topic", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(40))  # observations, catalog; later tasks, alerts...
    type: Mapped[str] = mapped_column(String(60))  # observation.changed, indicator.updated...
    subject: Mapped[str] = mapped_column(String(300))  # what it is about: GDP/VN/2025-Q3, an indicator code
    payload: Mapped[str] = mapped_column(Text)  # a JSON object; its keys sit beside the envelope's when sent
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(120))
    # What made it, e.g. the submission an observation change came with.
    cause: Mapped[str | None] = mapped_column(String(40), index=True)
    read_classification: Mapped[str] = mapped_column(String(16))
    read_indicator: Mapped[str | None] = mapped_column(String(40))
    read_agency: Mapped[str | None] = mapped_column(String(40))


class EventFollower(Base):
    """How far one follower (a domain's work that acts on events after they are committed) has read the outbox:
    the id of the last event it handled. One row per follower, moved in the transaction of the work it did."""

    __tablename__ = "event_follower"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)
