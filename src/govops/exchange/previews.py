"""Console uploads kept between their preview and their confirmation, for their person only, for a while.

The file is kept whole, not the rows read from it: on confirming, it goes through `submissions.submit` like any
submission (same checks, receipt, audit entry and events), and the plan is worked out again first, so that what is
written is what was shown, or the person is shown the new plan. Functions flush, never commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.exchange.models import Member, UploadPreview
from govops.exchange.submissions import Incoming, Plan

KEEP = timedelta(minutes=30)


def new_token() -> str:
    return secrets.token_hex(16)


def keep(*, session: Session, user_id: int, member: Member, incoming: Incoming, plan: Plan) -> UploadPreview:
    """Keep a previewed upload under a new random token; previews past their time are deleted on the way."""
    now = utcnow()
    session.execute(delete(UploadPreview).where(UploadPreview.expires_at < now))
    preview = UploadPreview(
        token=new_token(),
        user_id=user_id,
        member_id=member.id,
        file_name=incoming.file_name or "",
        content_type=incoming.content_type or "",
        mapping=incoming.mapping,
        body=incoming.body,
        body_sha256=plan.body_sha256,
        plan_sha256=plan.digest,
        created_at=now,
        expires_at=now + KEEP,
    )
    session.add(preview)
    session.flush()
    return preview


def find(*, session: Session, token: str, user_id: int, now: datetime | None = None) -> UploadPreview | None:
    """The person's preview under `token`, unless it expired (or was confirmed, cancelled, or is someone else's)."""
    found = session.scalar(select(UploadPreview).where(UploadPreview.token == token, UploadPreview.user_id == user_id))
    if found is None or found.expires_at < (now or utcnow()):
        return None
    return found


def drop(*, session: Session, token: str, user_id: int) -> None:
    session.execute(delete(UploadPreview).where(UploadPreview.token == token, UploadPreview.user_id == user_id))
    session.flush()
