"""The inbox in the console: /notifications, newest first, for every signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from govops.errors import NotFound
from govops.i18n import translations
from govops.notify import service
from govops.web.access import personal_write
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import SignedInUser, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(prefix="/notifications", include_in_schema=False)


def _local(target: str | None) -> str | None:
    # Only a path of this site: a notification never sends anyone elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    session: SessionDep,
    user: SignedInUser,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    unread: bool = False,
) -> HTMLResponse:
    """The signed-in user's notifications, a page at a time; the unread ones stand out."""
    # In the page's language (the switch may differ from the account's): no English sentence on a Vietnamese page.
    page = service.inbox(session=session, user=user, cursor=cursor, unread_only=unread, locale=locale_of(request))
    return render(request, "notify/inbox.html", {"page": page, "unread_only": unread, "first": cursor is None})


@router.post("/{notification_id}/read", dependencies=[Depends(verify_csrf)])
@personal_write
def read_one(
    request: Request,
    session: WriteSessionDep,
    user: SignedInUser,
    notification_id: int,
    open_link: Annotated[str, Form(alias="open", max_length=1)] = "",
    back: Annotated[str, Form(max_length=500)] = "/notifications",
) -> RedirectResponse:
    """Marks it read; then opens its page ("open") or goes back to the inbox page it was on."""
    try:
        notification = service.mark_read(session=session, user=user, notification_id=notification_id)
    except NotFound:
        gettext = translations(locale_of(request)).gettext
        raise NotFound(
            gettext("You have no notification with this number."), hint=gettext("Open your inbox and choose one there.")
        ) from None
    target = _local(notification.link) if open_link else None
    return RedirectResponse(target or _local(back) or "/notifications", status_code=303)


@router.post("/read-all", dependencies=[Depends(verify_csrf)])
@personal_write
def read_all(session: WriteSessionDep, user: SignedInUser) -> RedirectResponse:
    service.mark_all_read(session=session, user=user)
    return RedirectResponse("/notifications", status_code=303)
