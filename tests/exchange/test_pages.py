"""The exchange monitor page: members and their traffic, webhook lag, dead deliveries sent again."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.audit.service import list_entries
from govops.db.base import utcnow
from govops.exchange import service, webhooks
from govops.exchange.models import WebhookDelivery
from tests.audit.conftest import sign_in, token_of

__all__ = ["sign_in"]


def test_the_monitor_shows_members_traffic_and_sends_a_dead_delivery_again(
    session: Session, client: TestClient, sign_in: Callable[[str], TestClient]
) -> None:
    member = service.create_member(session=session, agency="PC-79", system="ioc", name="HCMC IOC")
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    key = service.issue_key(session=session, member=member).key
    body = {"observations": [{"indicator": "ENT_NEW", "area": "01", "period": "2026-09", "value": 1}]}
    rejected = client.post(
        "/api/v1/submissions",
        content=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "application/json",
        },
    )
    assert rejected.status_code == 422
    subscription = webhooks.subscribe(session=session, member=member, url="http://127.0.0.1:9/hook")
    dead = WebhookDelivery(
        subscription_id=subscription.id, first_event_id=1, last_event_id=2, event_count=2, payload="[]",
        status="dead", attempts=25, next_attempt_at=utcnow(), last_status=500, last_error="boom", created_at=utcnow(),
    )  # fmt: skip
    session.add(dead)
    session.flush()

    admin = sign_in("administrator")
    page = admin.get("/admin/exchange", params={"lang": "en"})
    assert page.status_code == 200
    assert "PC-79/ioc" in page.text and "HCMC IOC" in page.text and "boom" in page.text
    members = page.text.split('data-testid="exchange-members"')[1].split("</table>")[0]
    assert (
        '<td class="num">1</td>' in members and '<td class="num bad">1</td>' in members
    )  # 1 submission, 1 row rejected
    sent = admin.post(
        f"/admin/exchange/deliveries/{dead.id}/replay", data={"csrf_token": token_of(page.text)}, follow_redirects=False
    )
    assert sent.status_code == 303
    session.refresh(dead)
    assert (dead.status, dead.attempts) == ("pending", 0)
    assert admin.post(f"/admin/exchange/deliveries/{dead.id}/replay", data={}).status_code == 403


def test_only_administrators_see_the_monitor(client: TestClient, sign_in: Callable[[str], TestClient]) -> None:
    assert sign_in("analyst").get("/admin/exchange").status_code == 403


def test_an_administrator_registers_a_member_grants_subscribes_and_revokes_from_the_console(
    session: Session, client: TestClient, sign_in: Callable[[str], TestClient]
) -> None:
    admin = sign_in("administrator")
    token = token_of(admin.get("/admin/exchange", params={"lang": "en"}).text)
    refused = admin.post(
        "/admin/exchange/members", data={"csrf_token": token, "agency": "MOF", "system": "Bad Code!", "name": "x"}
    )
    assert refused.status_code == 400 and "system code 'Bad Code!' is not valid" in html.unescape(refused.text)
    assert all(m.code != "MOF/Bad Code!" for m in service.list_members(session=session))

    made = admin.post(
        "/admin/exchange/members",
        data={"csrf_token": token, "agency": "MOF", "system": "tabmis", "name": "Treasury", "clearance": "internal"},
    )
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    key = made.text.split('<code class="secret">')[1].split("</code>")[0]
    member = service.get_member(session=session, code="MOF/tabmis")
    assert key.startswith("gvk_") and service.authenticate(session=session, presented=key, stamp=False).id == member.id
    page = f"/admin/exchange/members/{member.id}"

    granted = admin.post(
        f"{page}/grants", data={"csrf_token": token, "group": "PUBLIC_FINANCE", "read": "on"}, follow_redirects=False
    )
    assert granted.status_code == 303
    grants = admin.get(page, params={"lang": "en"}).text.split('data-testid="member-grants"')[1].split("</table>")[0]
    assert "PUBLIC_FINANCE" in grants
    unknown = admin.post(f"{page}/grants", data={"csrf_token": token, "group": "NOPE", "read": "on"})
    assert unknown.status_code == 404 and "no indicator group 'NOPE'" in html.unescape(unknown.text)

    hooked = admin.post(
        f"{page}/subscriptions",
        data={
            "csrf_token": token, "url": "https://ioc.example.vn/hook", "groups": "PUBLIC_FINANCE", "areas": "79 01",
            "topics": "observations indicator.updated",
        },
    )  # fmt: skip
    assert hooked.status_code == 201 and 'data-testid="new-secret"' in hooked.text
    (subscription,) = webhooks.list_subscriptions(session=session, member=member)
    assert webhooks.filters_of(subscription) == {
        "groups": ["PUBLIC_FINANCE"], "indicators": [], "areas": ["79", "01"],
        "topics": ["observations", "indicator.updated"],
    }  # fmt: skip
    assert subscription.secret in hooked.text
    stopped = admin.post(f"{page}/subscriptions/{subscription.id}/stop", data={"csrf_token": token})
    assert stopped.status_code == 200  # followed back to the member page
    session.refresh(subscription)
    assert subscription.active is False

    prefix = key.split("_")[1]
    admin.post(f"{page}/keys/{prefix}/revoke", data={"csrf_token": token})
    assert client.get("/api/v1/changes", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    actions = [e.action for e in list_entries(session=session, target="MOF/tabmis").items]
    assert {"member.add", "grant.add", "webhook.add", "webhook.stop", "key.revoke"} <= set(actions)
