"""POST /api/v1/observations is a submission: the same rights, idempotency, receipt, audit entry and change events
as POST /api/v1/submissions, for a member system's key or a signed-in officer (through the agency's console member)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.auth.service import create_user
from govops.catalog.models import Agency
from govops.events.models import DomainEvent
from govops.exchange import service
from govops.warehouse.models import Observation

PASSWORD = "correct horse battery"
BODY = {"observations": [{"indicator": "ENT_NEW", "area": "79", "period": "2026-09", "value": 4100}]}


def _key(session: Session, *, public_key: str | None = None) -> str:
    member = service.create_member(session=session, agency="PC-79", system="ioc", name="", public_key=public_key)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _observations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Observation)) or 0


def test_the_answer_is_the_submission_receipt(session: Session, client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {_key(session)}"}
    answer = client.post("/api/v1/observations", json=BODY, headers={**auth, "Idempotency-Key": "sept-1"})
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert (receipt["status"], receipt["member"], receipt["created"], receipt["idempotency_key"]) == (
        "accepted", "PC-79/ioc", 1, "sept-1"
    )  # fmt: skip
    # The same receipt as POST /api/v1/submissions gives, kept under the member's submissions.
    assert client.get(f"/api/v1/submissions/{receipt['id']}", headers=auth).json() == receipt
    [event] = session.scalars(select(DomainEvent).where(DomainEvent.cause == receipt["id"])).all()
    assert (json.loads(event.payload)["value"], json.loads(event.payload)["version"]) == (4100, 1)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.target == receipt["id"])).all()
    assert (entry.action, entry.actor, entry.actor_kind) == ("submission.accepted", "PC-79/ioc", "member")
    # The same Idempotency-Key and body: the first receipt again, nothing written twice.
    replay = client.post("/api/v1/observations", json=BODY, headers={**auth, "Idempotency-Key": "sept-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == receipt
    # Without a key every request is a submission of its own.
    again = client.post("/api/v1/observations", json=BODY, headers=auth)
    assert again.status_code == 201 and again.json()["id"] != receipt["id"] and again.json()["unchanged"] == 1
    assert again.json()["idempotency_key"].startswith("observations:")


def test_csv_bodies_are_read_as_submissions_are(session: Session, client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {_key(session)}", "Content-Type": "text/csv"}
    csv = b"indicator,area,period,value\nENT_NEW,79,2026-09,4100\nENT_NEW,01,2026-09,1\n"
    before = _observations(session)
    answer = client.post("/api/v1/observations", content=csv, headers=auth)
    assert answer.status_code == 422
    # Rows are the lines of the file, the header being line 1.
    assert [(p["row"], p["field"]) for p in answer.json()["error"]["problems"]] == [(3, "area")]
    assert _observations(session) == before


def test_a_member_that_signs_must_sign_here_too(session: Session, client: TestClient) -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    auth = {"Authorization": f"Bearer {_key(session, public_key=base64.b64encode(public).decode())}"}
    unsigned = client.post("/api/v1/observations", json=BODY, headers=auth)
    assert unsigned.status_code == 401 and "X-Govops-Signature" in unsigned.json()["error"]["message"]
    body = b'{"observations": [{"indicator": "ENT_NEW", "area": "79", "period": "2026-09", "value": 4100}]}'
    signature = base64.b64encode(private.sign(body)).decode()
    signed = client.post(
        "/api/v1/observations",
        content=body,
        headers={**auth, "Content-Type": "application/json", "X-Govops-Signature": signature},
    )
    assert signed.status_code == 201, signed.text


def _signed_in(client: TestClient, session: Session, role: str, agency: str) -> dict[str, str]:
    """Signs the client in as t.<role> of `agency`; the headers a console script sends (the CSRF token)."""
    create_user(session=session, username=f"t.{role}", password=PASSWORD, full_name=role, agency=agency, role=role)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert token is not None
    client.post("/signin", data={"username": f"t.{role}", "password": PASSWORD, "csrf_token": token.group(1)})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert csrf is not None
    return {"X-CSRF-Token": csrf.group(1)}


def test_a_signed_in_officer_submits_as_the_agencys_console_member(session: Session, client: TestClient) -> None:
    headers = _signed_in(client, session, "data_officer", "PC-79")
    before = _observations(session)
    # The console member has no rights until the Government Office grants them, as for any system.
    refused = client.post("/api/v1/observations", json=BODY, headers=headers)
    assert refused.status_code == 422 and "PC-79/console may not submit ENT_NEW" in refused.text
    agency = session.scalars(select(Agency).where(Agency.code == "PC-79")).one()
    member = service.console_member(session=session, agency=agency)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    answer = client.post("/api/v1/observations", json=BODY, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["member"] == "PC-79/console"
    elsewhere: dict[str, Any] = {"observations": [dict(BODY["observations"][0], area=" 01")]}
    outside = client.post("/api/v1/observations", json=elsewhere, headers=headers)
    assert outside.status_code == 422 and outside.json()["error"]["problems"][0]["field"] == "area"
    assert _observations(session) == before + 1


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_roles_that_do_not_submit_data_are_refused(session: Session, client: TestClient, role: str) -> None:
    headers = _signed_in(client, session, role, "PC-79")
    before = _observations(session)
    answer = client.post("/api/v1/observations", json=BODY, headers=headers)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert _observations(session) == before
