"""The table of notifications: one row per person and notice, with its e-mail's delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime

# E-mail states: pending (to send, at email_next_at), sent, failed (gave up after the last attempt),
# expired (too old when the sender first saw it). NULL: no e-mail for this one (no address, or disabled user).
EMAIL_STATES = ("pending", "sent", "failed", "expired")


class Notification(Base):
    """A notice to one user. Its text is not stored: it is rendered from its kind and params in the reader's
    language each time it is shown or e-mailed, so a person who switches language reads all of it anew."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(
            "email_state IS NULL OR email_state IN ('pending', 'sent', 'failed', 'expired')", name="email_state"
        ),
        # The inbox (newest first) and the header's unread count read only this index.
        Index("ix_notification_user_read", "user_id", "read_at", "id"),
        # The e-mail sender's queue: pending rows by due time.
        Index("ix_notification_email_due", "email_state", "email_next_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A page of the console (a path such as /admin/users/x); absolute in e-mails when public_url is set.
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_state: Mapped[str | None] = mapped_column(String(8))
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A sender that claimed the e-mail holds it until then; past it, another sender may take it up.
    email_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(Text)
