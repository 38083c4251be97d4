"""The exchange monitor and member administration in the console: /admin/exchange, for administrators only.

Keys and webhook secrets are shown once, on the page that answers the form that made them; only
their hashes (keys) or the subscription row (secrets) stay behind.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, IndicatorGroup
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.exchange import service, webhooks
from govops.exchange.models import Grant, Member, Submission, WebhookSubscription
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import Administrator, verify_csrf
from govops.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/exchange", response_class=HTMLResponse)
def monitor(request: Request, session: SessionDep, admin: Administrator) -> HTMLResponse:
    return render(request, "admin/exchange.html", _monitor(session))


def _monitor(session: Session) -> dict[str, Any]:
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
    return {
        "members": members,
        "hours": sorted(hours.items()),
        "deliveries": deliveries,
        "dead": webhooks.dead_letters(session=session),
        "agencies": list(session.scalars(select(Agency).order_by(Agency.code))),
        "clearances": service.CLEARANCES,
        "values": {},
    }


@router.post("/exchange/deliveries/{delivery_id}/replay", dependencies=[Depends(verify_csrf)])
def replay(request: Request, session: WriteSessionDep, admin: Administrator, delivery_id: int) -> RedirectResponse:
    webhooks.replay(session=session, delivery_id=delivery_id)
    record_request(session=session, request=request, action="webhook.replay", target=str(delivery_id))
    return RedirectResponse("/admin/exchange#dead", status_code=303)


@router.post("/exchange/members", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def add_member(request: Request, session: WriteSessionDep, admin: Administrator) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    try:
        member = service.create_member(
            session=session,
            agency=form.get("agency", ""),
            system=form.get("system", ""),
            name=form.get("name", ""),
            clearance=form.get("clearance", "internal"),
            public_key=form.get("public_key") or None,
        )
        issued = service.issue_key(session=session, member=member)
    except GovopsError as exc:
        session.rollback()
        context = {**_monitor(session), "problem": exc, "values": form}
        return render(request, "admin/exchange.html", context, status_code=exc.status)
    record_request(
        session=session, request=request, action="member.add", target=member.code, detail={"key": issued.prefix}
    )
    return _member_page(request, session, member, new_key=issued.key, status_code=201)


@router.get("/exchange/members/{member_id}", response_class=HTMLResponse)
def member_page(request: Request, session: SessionDep, admin: Administrator, member_id: int) -> HTMLResponse:
    return _member_page(request, session, _member(session, member_id))


@router.post("/exchange/members/{member_id}/keys", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def new_key(request: Request, session: WriteSessionDep, admin: Administrator, member_id: int) -> Response:
    member = _member(session, member_id)
    rotate = str((await request.form()).get("rotate", "")).strip()
    issued = (
        service.rotate_key(session=session, member=member, old_prefix=rotate)
        if rotate
        else service.issue_key(session=session, member=member)
    )
    detail = {"key": issued.prefix, "rotates": rotate or None}
    record_request(session=session, request=request, action="key.issue", target=member.code, detail=detail)
    return _member_page(request, session, member, new_key=issued.key, status_code=201)


@router.post("/exchange/members/{member_id}/keys/{prefix}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_key(
    request: Request, session: WriteSessionDep, admin: Administrator, member_id: int, prefix: str
) -> RedirectResponse:
    member = _member(session, member_id)
    service.revoke_key(session=session, member=member, prefix=prefix)
    record_request(session=session, request=request, action="key.revoke", target=member.code, detail={"key": prefix})
    return RedirectResponse(f"/admin/exchange/members/{member.id}#keys", status_code=303)


@router.post("/exchange/members/{member_id}/grants", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)])
async def grant(request: Request, session: WriteSessionDep, admin: Administrator, member_id: int) -> Response:
    member = _member(session, member_id)
    form = await request.form()
    group, read, write = str(form.get("group", "")), form.get("read") == "on", form.get("write") == "on"
    for_others = form.get("for_others") == "on"
    try:
        service.grant(session=session, member=member, group=group, read=read, write=write, for_others=for_others)
    except GovopsError as exc:
        session.rollback()
        return _member_page(request, session, member, problem=exc, status_code=exc.status)
    detail = {"group": group, "read": read, "write": write, **({"for_others": True} if for_others else {})}
    record_request(session=session, request=request, action="grant.add", target=member.code, detail=detail)
    return RedirectResponse(f"/admin/exchange/members/{member.id}#grants", status_code=303)


@router.post("/exchange/members/{member_id}/grants/{group}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_grant(
    request: Request, session: WriteSessionDep, admin: Administrator, member_id: int, group: str
) -> RedirectResponse:
    member = _member(session, member_id)
    service.revoke(session=session, member=member, group=group)
    record_request(session=session, request=request, action="grant.revoke", target=member.code, detail={"group": group})
    return RedirectResponse(f"/admin/exchange/members/{member.id}#grants", status_code=303)


@router.post(
    "/exchange/members/{member_id}/subscriptions", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)]
)
async def subscribe(request: Request, session: WriteSessionDep, admin: Administrator, member_id: int) -> Response:
    member = _member(session, member_id)
    form = await request.form()
    url = str(form.get("url", "")).strip()
    filters = {
        "groups": [str(g) for g in form.getlist("groups") if str(g)],
        "indicators": _codes(str(form.get("indicators", ""))),
        "areas": _codes(str(form.get("areas", ""))),
        "topics": _codes(str(form.get("topics", ""))),
    }
    try:
        subscription = webhooks.subscribe(session=session, member=member, url=url, **filters)
    except GovopsError as exc:
        session.rollback()
        return _member_page(request, session, member, problem=exc, status_code=exc.status)
    detail = {"url": url, "id": subscription.id}
    record_request(session=session, request=request, action="webhook.add", target=member.code, detail=detail)
    return _member_page(request, session, member, new_secret=(subscription.id, subscription.secret), status_code=201)


@router.post("/exchange/members/{member_id}/subscriptions/{subscription_id}/stop", dependencies=[Depends(verify_csrf)])
def stop_subscription(
    request: Request, session: WriteSessionDep, admin: Administrator, member_id: int, subscription_id: int
) -> RedirectResponse:
    member = _member(session, member_id)
    webhooks.unsubscribe(session=session, member=member, subscription_id=subscription_id)
    detail = {"id": subscription_id}
    record_request(session=session, request=request, action="webhook.stop", target=member.code, detail=detail)
    return RedirectResponse(f"/admin/exchange/members/{member.id}#subscriptions", status_code=303)


def _codes(text: str) -> list[str]:
    return [c for c in text.replace(",", " ").split() if c]


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no member system %(member)s"),
            lazy_gettext("pick one from the list of member systems"),
            status=404,
            member=member_id,
        )
    return member


def _member_page(
    request: Request,
    session: Session,
    member: Member,
    *,
    new_key: str | None = None,
    new_secret: tuple[int, str] | None = None,
    problem: GovopsError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "member": member,
        "keys": service.list_keys(session=session, member=member),
        "grants": list(
            session.scalars(
                select(Grant)
                .join(IndicatorGroup, IndicatorGroup.id == Grant.group_id)
                .where(Grant.member_id == member.id)
                .order_by(IndicatorGroup.code)
            )
        ),
        "subscriptions": webhooks.list_subscriptions(session=session, member=member),
        "groups": list(session.scalars(select(IndicatorGroup).order_by(IndicatorGroup.code))),
        "now": utcnow(),
        "new_key": new_key,
        "new_secret": new_secret,
        "problem": problem,
        "filters_of": webhooks.filters_of,
    }
    response = render(request, "admin/exchange_member.html", context, status_code=status_code)
    if new_key or new_secret:
        response.headers["Cache-Control"] = "no-store"  # a secret shown once must not stay in a cache
    return response
