"""The audit trail's one table: append-only entries chained by SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, BigId, UTCDateTime

ACTOR_KINDS: tuple[str, ...] = ("user", "member", "system")


class AuditEntry(Base):
    """One recorded action. `hash` = SHA-256 of `prev_hash` and the canonical JSON of the other fields
    (see govops.audit.service.entry_hash); the first entry's `prev_hash` is 64 zeros."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        CheckConstraint("actor_kind IN ('user', 'member', 'system')", name="actor_kind"),
        # One chain: no two entries may follow the same one, whatever the writers' locking did.
        UniqueConstraint("prev_hash"),
        Index("ix_audit_entry_action_at", "action", "at"),
        Index("ix_audit_entry_actor_at", "actor", "at"),
        Index("ix_audit_entry_target_at", "target", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(8))
    # A user name, an exchange member's code such as "MOF/budget-system", "system" or "anonymous".
    actor: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(32))
    # Dotted, e.g. auth.sign_in, observations.write, confidential.read.
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    # Canonical JSON (sorted keys, no spaces) of a dict.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(100))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
