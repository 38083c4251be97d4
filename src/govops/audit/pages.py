"""The audit trail in the console: /admin/audit, for administrators only."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from govops.audit.checkpoints import existing_public_key, latest
from govops.audit.models import AuditEntry
from govops.audit.service import canonical_json, list_entries
from govops.errors import GovopsError
from govops.i18n import translations
from govops.paging import MAX_BIG_ID, decode_cursor
from govops.web.deps import SessionDep
from govops.web.signin import Administrator
from govops.web.templating import locale_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 50
Filter = Annotated[str, Query(max_length=200)]


def _day(request: Request, text: str, field: str) -> date | None:
    """A date from the form's date field (YYYY-MM-DD); empty means no bound."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        gettext = translations(locale_of(request)).gettext
        raise GovopsError(
            gettext("%(value)s is not a date.") % {"value": text[:40]},
            code="invalid_date",
            where=field,
            hint=gettext("Write dates as YYYY-MM-DD, e.g. 2025-07-01."),
        ) from None


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    """The start of `day` as the reader's clock counts it (GOVOPS_TIMEZONE)."""
    return datetime.combine(day, time(), tzinfo=zone)


def system_of(entry: AuditEntry) -> str | None:
    """The member system a person acted through (a console upload is submitted through the agency's)."""
    detail: object = entry.detail
    if isinstance(detail, str):
        try:
            detail = json.loads(detail or "{}")
        except ValueError:
            return None
    member = detail.get("member") if isinstance(detail, dict) else None
    return str(member) if member else None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    admin: Administrator,
    actor: Filter = "",
    action: Filter = "",
    target: Filter = "",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """Entries newest first, filtered by actor, action (or family: `auth`), target and days (both
    inclusive); the "next" link carries the cursor. HTMX asks for the table only."""
    since, until = _day(request, start, "from"), _day(request, end, "to")
    zone = ZoneInfo(request.app.state.settings.timezone)
    page = list_entries(
        session=session,
        actor=actor.strip() or None,
        action=action.strip() or None,
        target=target.strip() or None,
        since=_start_of(since, zone) if since else None,
        until=_start_of(until + timedelta(days=1), zone) if until else None,
        after_id=decode_cursor(cursor, max_id=MAX_BIG_ID),
        limit=PAGE_SIZE,
    )
    filters = {"actor": actor, "action": action, "target": target, "from": start, "to": end}
    settings = request.app.state.settings
    last_checkpoint = latest(
        file=settings.audit_checkpoint_file, public_key=existing_public_key(settings.signing_key_file)
    )
    return render(
        request,
        "admin/audit.html",
        {
            "page": page,
            "filters": filters,
            "detail_text": canonical_json,
            "system_of": system_of,
            "first_page": not cursor,
            "last_checkpoint": last_checkpoint,
        },
        fragment="admin/_audit_table.html",
    )


__all__ = ["router"]
