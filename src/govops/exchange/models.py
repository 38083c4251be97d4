"""Members (agency systems), their API keys and their access rights per indicator group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govops.catalog.models import Agency, IndicatorGroup
from govops.db.base import Base, BigId, UTCDateTime


class Member(Base):
    """A system of an agency that exchanges data, named like X-Road's member/subsystem: `MOF/tabmis`."""

    __tablename__ = "exchange_member"
    __table_args__ = (UniqueConstraint("agency_id", "system_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    system_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    # Raw 32-byte Ed25519 public key, base64; when set, every submission must carry a valid signature.
    public_key: Mapped[str | None] = mapped_column(String(64))
    # The highest security classification it may read: public, internal or confidential.
    clearance: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship()


class ApiKey(Base):
    """A credential of a member. Only a hash is kept; the key itself is shown once, when issued."""

    __tablename__ = "exchange_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    # The public part of the key (`gvk_<prefix>_...`), to find it without scanning hashes.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()


class Grant(Base):
    """What a member may do with the indicators of one group."""

    __tablename__ = "exchange_grant"
    __table_args__ = (UniqueConstraint("member_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("indicator_group.id"), index=True)
    can_read: Mapped[bool] = mapped_column(Boolean)
    can_write: Mapped[bool] = mapped_column(Boolean)
    # May name another agency as the source of the group's figures (a statistics office compiling others' data).
    for_others: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    group: Mapped[IndicatorGroup] = relationship()


class Submission(Base):
    """One body a member sent to `POST /api/v1/submissions`, accepted whole or rejected whole.

    The same Idempotency-Key with the same body gives back this receipt; with another body it is refused.
    """

    __tablename__ = "exchange_submission"
    __table_args__ = (UniqueConstraint("member_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    received: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    # Values of the body its mapping left out on purpose (missing: skip, unmatched: skip, skipped data elements).
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Every rejected row: [{"row": 3, "field": "area", "message": ..., "hint": ...}, ...], as JSON.
    problems: Mapped[str] = mapped_column(Text)
    client_signature: Mapped[str | None] = mapped_column(String(100))
    server_signature: Mapped[str] = mapped_column(String(100))
    server_key_id: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))
    mapping: Mapped[str | None] = mapped_column(String(80))  # the stored mapping an SDMX or DHIS2 body was read with
    file_name: Mapped[str | None] = mapped_column(String(200))  # a console upload's file
    # The person who sent a console upload (user name): the member is the agency's console, the person answers.
    submitted_by: Mapped[str | None] = mapped_column(String(80))

    member: Mapped[Member] = relationship()


class UploadPreview(Base):
    """A console upload parsed and shown, not yet stored: kept until its person confirms, cancels or it expires.

    The body is kept whole so that the confirmed write reads exactly the previewed file; `plan_sha256` is the
    digest of what the preview said it would do, checked again on confirming (stored values may have changed).
    """

    __tablename__ = "exchange_upload_preview"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    mapping: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    plan_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WebhookSubscription(Base):
    """A member's endpoint that is sent the changes it may read, narrowed by groups, indicators and areas."""

    __tablename__ = "exchange_webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    # Shared with the receiver once, at creation: it signs every delivery (HMAC-SHA256).
    secret: Mapped[str] = mapped_column(String(64))
    # JSON {"groups": [...], "indicators": [...], "areas": [...]}; an empty list narrows nothing.
    filters: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    # The last change event already put into a delivery for it.
    cursor_event_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()


class WebhookDelivery(Base):
    """A batch of events for one subscription, sent in order, retried until delivered or dead."""

    __tablename__ = "exchange_webhook_delivery"
    __table_args__ = (
        Index("ix_exchange_webhook_delivery_due", "status", "next_attempt_at"),
        # A subscription's oldest pending delivery, found by one probe (see webhooks.claim).
        Index("ix_exchange_webhook_delivery_head", "subscription_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("exchange_webhook.id"), index=True)
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    event_count: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
