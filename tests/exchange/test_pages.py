"""The exchange monitor page: members and their traffic, webhook lag, dead deliveries sent again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

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
