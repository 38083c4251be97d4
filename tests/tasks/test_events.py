"""Who follows which task events: the Government Office's systems every agency's (as its signed-in staff do), on the
change feed and by webhook; any other agency's systems their own tasks' only."""

from __future__ import annotations

import json
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.exchange import service as exchange
from govops.exchange import webhooks
from govops.exchange.models import Member, WebhookDelivery
from govops.tasks import service
from govops.tasks.models import Directive
from tests.tasks.conftest import task_in


def _member(session: Session, agency: str) -> tuple[Member, dict[str, str]]:
    member = exchange.create_member(session=session, agency=agency, system=f"events-{agency.lower()}", name="")
    return member, {"Authorization": f"Bearer {exchange.issue_key(session=session, member=member).key}"}


def test_the_government_office_system_follows_every_agency_s_task_events_and_an_agency_its_own(
    session: Session,
    client: TestClient,
    directive: Directive,
    office: service.Caller,
    finance: service.Caller,
    industry: service.Caller,
) -> None:
    go, go_key = _member(session, "GO")
    moit, moit_key = _member(session, "MOIT")
    _, mof_key = _member(session, "MOF")
    subscribed = {
        m.agency.code: webhooks.subscribe(session=session, member=m, url="http://127.0.0.1:9/hook", topics=["tasks"])
        for m in (go, moit)
    }
    later = date.today() + timedelta(days=60)
    asked = []
    for who in (finance, industry):
        task = service.create_task(session=session, data=task_in(lead=who.agency_code, deadline=later), who=office)
        service.request_extension(
            session=session, task_id=task.id, deadline=later + timedelta(days=30), reason="Cần thêm ý kiến", who=who
        )
        asked.append((task.id, who.agency_code))

    def feed(headers: dict[str, str]) -> list[tuple[int, str]]:
        answer = client.get("/api/v1/changes", headers=headers, params={"topic": "tasks"})
        assert answer.status_code == 200, answer.text
        return [(e["payload"]["task"], e["payload"]["lead"]) for e in answer.json()["items"]]

    assert feed(go_key) == asked
    assert feed(mof_key) == [asked[0]]
    assert feed(moit_key) == [asked[1]]

    webhooks.fan_out(session=session)
    delivered: dict[str, list[tuple[int, str]]] = {}
    for code, subscription in subscribed.items():
        payloads = session.scalars(
            select(WebhookDelivery.payload).where(WebhookDelivery.subscription_id == subscription.id)
        ).all()
        delivered[code] = [(e["payload"]["task"], e["payload"]["lead"]) for p in payloads for e in json.loads(p)]
    assert delivered == {"GO": asked, "MOIT": [asked[1]]}

    # The Government Office supervises reporting as well: its system reads any agency's compliance.
    assert client.get("/api/v1/reporting/compliance", headers=go_key, params={"agency": "MOF"}).status_code == 200
    refused = client.get("/api/v1/reporting/compliance", headers=moit_key, params={"agency": "MOF"})
    assert refused.status_code == 403
