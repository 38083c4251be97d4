"""Agency systems submitting over the API: keys, rights, idempotency, signatures, receipts."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.events.models import DomainEvent
from govops.exchange import service
from govops.warehouse.models import Observation, ObservationRevision

WARD_OF_79 = "25747"  # Phường Thủ Dầu Một, Hồ Chí Minh City


def _member(session: Session, agency: str, system: str, *groups: str, public_key: str | None = None) -> str:
    member = service.create_member(session=session, agency=agency, system=system, name="", public_key=public_key)
    for group in groups:
        service.grant(session=session, member=member, group=group, read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _post(client: TestClient, key: str, body: Any, *, idem: str | None = None, **headers: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers}
    sent["Idempotency-Key"] = idem or uuid.uuid4().hex
    return client.post("/api/v1/submissions", content=data, headers=sent)


def _rows(*items: tuple[str, str, str, float]) -> dict[str, Any]:
    return {"observations": [{"indicator": i, "area": a, "period": p, "value": v} for i, a, p, v in items]}


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_province_submits_its_own_data_and_gets_a_signed_receipt(session: Session, client: TestClient) -> None:
    key = _member(session, "PC-79", "ioc", "ENTERPRISES")
    response = _post(client, key, _rows(("ENT_NEW", "79", "2026-09", 4100), ("ENT_NEW", WARD_OF_79, "2026-09", 35)))
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert (receipt["status"], receipt["received"], receipt["created"], receipt["member"]) == (
        "accepted", 2, 2, "PC-79/ioc"
    )  # fmt: skip
    server = client.get("/api/v1/exchange/server-key").json()
    fields = ("id", "member", "idempotency_key", "body_sha256", "status", "received", "created", "updated",
              "unchanged", "rejected", "received_at")  # fmt: skip
    signed = {k: receipt[k] for k in fields}
    Ed25519PublicKey.from_public_bytes(base64.b64decode(server["public_key"])).verify(
        base64.b64decode(receipt["server_signature"]),
        json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(),
    )
    events = session.scalars(select(DomainEvent).where(DomainEvent.cause == receipt["id"])).all()
    assert sorted(json.loads(e.payload)["value"] for e in events) == [35, 4100]
    again = client.get(f"/api/v1/submissions/{receipt['id']}", headers={"Authorization": f"Bearer {key}"})
    assert again.status_code == 200 and again.json() == receipt
    audit = session.scalars(select(AuditEntry).where(AuditEntry.target == receipt["id"])).one()
    assert (audit.action, audit.actor, audit.actor_kind) == ("submission.accepted", "PC-79/ioc", "member")


def test_the_same_idempotency_key_returns_the_first_receipt_and_writes_nothing_twice(
    session: Session, client: TestClient
) -> None:
    key = _member(session, "MOF", "tabmis", "PUBLIC_FINANCE")
    body = _rows(("BUDGET_REVENUE", "VN", "2026-09", 190000.5))
    first = _post(client, key, body, idem="sept-revenue")
    revisions = _count(session, ObservationRevision)
    replay = _post(client, key, body, idem="sept-revenue")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert _count(session, ObservationRevision) == revisions
    other = _post(client, key, _rows(("BUDGET_REVENUE", "VN", "2026-09", 1)), idem="sept-revenue")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"


def test_rights_are_enforced_row_by_row_and_nothing_is_stored_on_any_problem(
    session: Session, client: TestClient
) -> None:
    province = _member(session, "PC-79", "ioc", "ENTERPRISES")
    ministry = _member(session, "MOF", "tabmis", "PUBLIC_FINANCE")
    observations = _count(session, Observation)
    response = _post(
        client,
        province,
        _rows(("ENT_NEW", "79", "2026-09", 1), ("ENT_NEW", "01", "2026-09", 2), ("EXPORTS", "79", "2026-09", 3)),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "rejected" and body["submission"]["status"] == "rejected"
    assert [(p["row"], p["field"]) for p in body["error"]["problems"]] == [(2, "area"), (3, "indicator")]
    assert "province 79" in body["error"]["problems"][0]["message"]
    assert "may not submit EXPORTS" in body["error"]["problems"][1]["message"]
    # A ministry writes only what it owns, even inside a group granted to it.
    owned = _post(client, ministry, _rows(("DOMESTIC_REVENUE", "VN", "2026-09", 5)))
    assert owned.status_code == 422 and "belongs to TAX" in owned.json()["error"]["problems"][0]["message"]
    assert _count(session, Observation) == observations
    shown = client.get(
        f"/api/v1/submissions/{body['submission']['id']}", headers={"Authorization": f"Bearer {province}"}
    )
    assert shown.json()["status"] == "rejected" and len(shown.json()["problems"]) == 2
    # Another member cannot read it.
    hidden = client.get(
        f"/api/v1/submissions/{body['submission']['id']}", headers={"Authorization": f"Bearer {ministry}"}
    )
    assert hidden.status_code == 404


def test_csv_bodies_and_catalogue_errors_name_the_row(session: Session, client: TestClient) -> None:
    key = _member(session, "PC-01", "ioc", "ENTERPRISES")
    csv = b"indicator,area,period,value\nENT_NEW,01,2026-09,3200\nENT_NEW,01,2026-13,1\n"
    response = _post(client, key, csv, **{"Content-Type": "text/csv"})
    assert response.status_code == 422
    problem = response.json()["error"]["problems"][0]
    assert problem["row"] == 3 and problem["field"] == "period"
    good = _post(client, key, b"indicator,area,period,value\nENT_NEW,01,2026-09,3200\n", **{"Content-Type": "text/csv"})
    assert good.status_code == 201 and good.json()["created"] == 1


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Authorization": ""}, 401, "unauthorized"),
        ({"Authorization": "Bearer gvk_000000000000_" + "a" * 32}, 401, "unauthorized"),
        ({"Content-Type": "application/xml"}, 400, "mapping_required"),
        ({"Content-Type": "application/pdf"}, 415, "unsupported_media_type"),
        ({"Idempotency-Key": ""}, 400, "idempotency_key_required"),
    ],
)
def test_requests_without_what_they_need_are_refused(
    session: Session, client: TestClient, headers: dict[str, str], status: int, code: str
) -> None:
    key = _member(session, "PC-01", "ioc", "ENTERPRISES")
    sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Idempotency-Key": "k1", **headers}
    response = client.post("/api/v1/submissions", content=json.dumps(_rows()).encode(), headers=sent)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_a_revoked_key_and_an_oversized_body_are_refused(session: Session, client: TestClient) -> None:
    key = _member(session, "PC-01", "ioc", "ENTERPRISES")
    big = b"{" + b" " * (client.app.state.settings.max_submission_bytes + 1) + b"}"  # type: ignore[attr-defined]
    assert _post(client, key, big).status_code == 413
    member = service.get_member(session=session, code="PC-01/ioc")
    service.revoke_key(session=session, member=member, prefix=key.split("_")[1])
    response = _post(client, key, _rows(("ENT_NEW", "01", "2026-09", 1)))
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_a_member_with_a_public_key_must_sign_and_the_signature_is_kept(session: Session, client: TestClient) -> None:
    private = Ed25519PrivateKey.generate()
    public = base64.b64encode(
        private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    key = _member(session, "PC-48", "ioc", "ENTERPRISES", public_key=public)
    body = json.dumps(_rows(("ENT_NEW", "48", "2026-09", 700))).encode()
    unsigned = _post(client, key, body)
    assert unsigned.status_code == 401 and "X-Govops-Signature" in unsigned.json()["error"]["message"]
    forged = base64.b64encode(Ed25519PrivateKey.generate().sign(body)).decode()
    assert _post(client, key, body, **{"X-Govops-Signature": forged}).status_code == 401
    signature = base64.b64encode(private.sign(body)).decode()
    signed = _post(client, key, body, **{"X-Govops-Signature": signature})
    assert signed.status_code == 201 and signed.json()["client_signature"] == signature
