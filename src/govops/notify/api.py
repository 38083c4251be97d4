"""Notifications over HTTP for the signed-in person (session cookie): their own, never anyone else's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from govops.notify import service
from govops.notify.schemas import NotificationOut
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from govops.web.access import personal_write
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody
from govops.web.signin import SignedInUser, verify_csrf

SIGNED_IN: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "not signed in (these are a person's own, behind the console's cookie)"},
}
router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES | SIGNED_IN)


@router.get("")
def list_notifications(
    session: SessionDep,
    user: SignedInUser,
    cursor: Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
) -> Page[NotificationOut]:
    """Your notifications, newest first, in your account's language (signed in with the console's cookie)."""
    return service.inbox(session=session, user=user, cursor=cursor, limit=limit, unread_only=unread)


@router.post(
    "/{notification_id}/read",
    dependencies=[Depends(verify_csrf)],
    responses={403: {"model": ErrorBody, "description": "the CSRF token (X-CSRF-Token header) is missing or wrong"}},
)
@personal_write
def mark_read(session: WriteSessionDep, user: SignedInUser, notification_id: int) -> NotificationOut:
    """Marks one of your notifications read (send the X-CSRF-Token header); 404 for anyone else's."""
    notification = service.mark_read(session=session, user=user, notification_id=notification_id)
    return service.out(notification, user.language)
