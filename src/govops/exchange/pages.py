"""The exchange monitor in the console: /admin/exchange, for administrators only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from govops.audit.service import record_request
from govops.auth.web import verify_csrf
from govops.catalog.pages import Administrator
from govops.db.base import utcnow
from govops.exchange import service, webhooks
from govops.exchange.models import Submission, WebhookSubscription
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/exchange", response_class=HTMLResponse)
def monitor(request: Request, session: SessionDep, admin: Administrator) -> HTMLResponse:
    now = utcnow()
    since = now - timedelta(hours=24)
    per_member = {
        member_id: (count, rejected, rows)
        for member_id, count, rejected, rows in session.execute(
            select(
                Submission.member_id,
                func.count(),
                func.sum(Submission.rejected),
                func.sum(Submission.received),
            )
            .where(Submission.received_at >= since)
            .group_by(Submission.member_id)
        )
    }
    hours: dict[str, int] = {}
    for (received_at,) in session.execute(select(Submission.received_at).where(Submission.received_at >= since)):
        label = received_at.strftime("%H:00")
        hours[label] = hours.get(label, 0) + 1
    members = []
    for m in service.list_members(session=session):
        count, rejected, rows = per_member.get(m.id, (0, 0, 0))
        members.append({"member": m, "submissions": count, "rejected": rejected or 0, "rows": rows or 0})
    subscriptions = {s.id: s for s in session.scalars(select(WebhookSubscription))}
    deliveries: list[dict[str, Any]] = []
    for row in webhooks.summary(session=session):
        subscription = subscriptions.get(row["subscription"])
        oldest = row["oldest_pending"]
        deliveries.append(
            {
                **row,
                "url": subscription.url if subscription else "",
                "member": subscription.member.code if subscription else "",
                "lag": (now - oldest).total_seconds() if oldest else None,
            }
        )
    context = {
        "members": members,
        "hours": sorted(hours.items()),
        "deliveries": deliveries,
        "dead": webhooks.dead_letters(session=session),
    }
    return render(request, "admin/exchange.html", context)


@router.post("/exchange/deliveries/{delivery_id}/replay", dependencies=[Depends(verify_csrf)])
def replay(request: Request, session: WriteSessionDep, admin: Administrator, delivery_id: int) -> RedirectResponse:
    webhooks.replay(session=session, delivery_id=delivery_id)
    record_request(session=session, request=request, action="webhook.replay", target=str(delivery_id))
    session.commit()
    return RedirectResponse("/admin/exchange#dead", status_code=303)
