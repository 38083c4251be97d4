"""A member system reads what its grants and clearance allow, through every read endpoint."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.exchange import service
from tests.warehouse.conftest import obs, put


def _reader(session: Session, system: str, clearance: str, *groups: str) -> dict[str, str]:
    member = service.create_member(session=session, agency="MOF", system=system, name="", clearance=clearance)
    for group in groups:
        service.grant(session=session, member=member, group=group, read=True, write=False)
    return {"Authorization": f"Bearer {service.issue_key(session=session, member=member).key}"}


def _whole_feed(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    """Every change the caller may read, page after page until the feed says it has caught up."""
    items: list[dict[str, object]] = []
    params = {"limit": "1000"}
    while True:
        page = client.get("/api/v1/changes", params=params, headers=headers).json()
        items += page["items"]
        if page["caught_up"]:
            return items
        params["cursor"] = page["next_cursor"]


def test_a_member_reads_only_its_granted_groups_up_to_its_clearance(session: Session, client: TestClient) -> None:
    put(
        session,
        [
            obs("BUDGET_REVENUE", "VN", "2026-08", 150000),
            obs("TREASURY_CASH", "VN", "2026-08", 900),
            obs("CPI", "VN", "2026-08", 104.1),
        ],
    )
    internal = _reader(session, "budget", "internal", "PUBLIC_FINANCE")
    listed = client.get("/api/v1/indicators", params={"limit": 1000}, headers=internal).json()["items"]
    codes = {i["code"] for i in listed}
    assert "BUDGET_REVENUE" in codes and "CPI" not in codes and "TREASURY_CASH" not in codes
    assert client.get("/api/v1/series/BUDGET_REVENUE", headers=internal).status_code == 200
    assert client.get("/api/v1/series/CPI", headers=internal).status_code == 404
    assert client.get("/api/v1/series/TREASURY_CASH", headers=internal).status_code == 404
    rows = client.get("/api/v1/observations", params={"limit": 1000}, headers=internal).json()["items"]
    assert {r["indicator"] for r in rows} == {"BUDGET_REVENUE"}
    feed = _whole_feed(client, internal)
    assert {e["indicator"] for e in feed if e["type"] == "observation.changed"} == {"BUDGET_REVENUE"}
    # The catalogue's own events (its indicators' creation) follow the same rights.
    assert not {e["indicator"] for e in feed} & {"CPI", "TREASURY_CASH"}

    cleared = _reader(session, "treasury", "confidential", "PUBLIC_FINANCE")
    assert client.get("/api/v1/series/TREASURY_CASH", headers=cleared).status_code == 200
    # The read noted the contact; the contact stamps write it (here into the test's transaction).
    assert service.get_member(session=session, code="MOF/treasury").last_contact_at is None
    assert client.app.state.contact_stamps.flush(session=session) >= 1  # type: ignore[attr-defined]
    session.expire_all()
    assert service.get_member(session=session, code="MOF/treasury").last_contact_at is not None


def test_a_bad_key_on_a_read_is_refused_not_read_as_anonymous(client: TestClient) -> None:
    response = client.get("/api/v1/series/CPI", headers={"Authorization": "Bearer gvk_000000000000_" + "x" * 32})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/series/CPI").status_code == 200
