"""Following a flag up over the API: listed with filters and pages, confirmed with a reason by the source agency
(never by another), closed by the Government Office, and nothing changed by a refused answer; every step audited
and on the outbox."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.events.models import DomainEvent
from govops.quality.models import QualityFlag, QualityFlagEvent
from tests.quality.conftest import expected, key, store_history, submit

PROVINCES = {"79": 2100.0, "01": 1500.0}


def _flagged(session: Session, client: TestClient) -> tuple[dict[str, str], int]:
    store_history(session, "EXPORTS", PROVINCES)
    hcm = key(session, "PC-79", "TRADE")
    slip = expected(PROVINCES["79"], "2025-01") * 1000
    assert (
        submit(client, hcm, {"indicator": "EXPORTS", "area": "79", "period": "2025-01", "value": slip}).status_code
        == 201
    )
    return hcm, session.scalars(select(QualityFlag.id)).one()


def _state(session: Session, flag_id: int) -> tuple[Any, ...]:
    session.expire_all()
    flag = session.get(QualityFlag, flag_id)
    assert flag is not None
    events = session.scalar(select(func.count()).select_from(QualityFlagEvent)) or 0
    return flag.status, flag.disputed, flag.reason, flag.closed_at, events


def test_a_flag_is_confirmed_by_its_agency_closed_by_the_office_and_then_takes_no_more_answers(
    session: Session, client: TestClient
) -> None:
    hcm, flag_id = _flagged(session, client)
    hanoi, office = key(session, "PC-01", "TRADE"), key(session, "GO", "TRADE")
    url = f"/api/v1/quality/flags/{flag_id}/resolution"

    untouched = _state(session, flag_id)
    other = client.post(url, headers=hanoi, json={"action": "confirm", "reason": "Số liệu đúng"})
    assert other.status_code == 403, other.text
    assert other.json()["error"]["message"] == f"the flag {flag_id} is on data of PC-79; PC-01 may not answer it"
    assert _state(session, flag_id) == untouched
    no_reason = client.post(url, headers=hcm, json={"action": "confirm", "reason": "  "})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "reason_required"
    too_early = client.post(url, headers=office, json={"action": "close"})
    assert too_early.status_code == 409 and too_early.json()["error"]["code"] == "flag_open"
    not_theirs = client.post(url, headers=hcm, json={"action": "close"})
    assert not_theirs.status_code == 403
    assert _state(session, flag_id) == untouched

    confirmed = client.post(url, headers=hcm, json={"action": "confirm", "reason": "Một lô hàng lớn xuất trong tháng"})
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["reason"]) == ("confirmed", "Một lô hàng lớn xuất trong tháng")
    closed = client.post(url, headers=office, json={"action": "close", "reason": "Đã đối chiếu với Tổng cục Hải quan"})
    assert closed.status_code == 200 and closed.json()["closed_by"] == "member:GO/sys-go"

    after = _state(session, flag_id)
    late = client.post(url, headers=hcm, json={"action": "dispute", "reason": "x"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "flag_closed"
    assert late.json()["error"]["message"].startswith(f"the flag {flag_id} was closed on ")
    assert _state(session, flag_id) == after

    detail = client.get(f"/api/v1/quality/flags/{flag_id}", headers=office).json()
    assert [(e["action"], e["agency"]) for e in detail["timeline"]] == [
        ("raised", None), ("confirmed", "PC-79"), ("closed", "GO")
    ]  # fmt: skip
    audited = session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("quality.%")).order_by(AuditEntry.id)
    ).all()
    assert audited == ["quality.flag.confirm", "quality.flag.close"]
    types = session.scalars(select(DomainEvent.type).where(DomainEvent.topic == "quality").order_by(DomainEvent.id))
    assert list(types) == ["quality.flag_raised", "quality.flag_confirmed", "quality.flag_closed"]


def test_a_disputed_flag_is_dismissed_by_the_office(session: Session, client: TestClient) -> None:
    hcm, flag_id = _flagged(session, client)
    url = f"/api/v1/quality/flags/{flag_id}/resolution"
    disputed = client.post(url, headers=hcm, json={"action": "dispute", "reason": "Tháng có hội chợ xuất khẩu"})
    assert disputed.status_code == 200 and disputed.json()["disputed"] and disputed.json()["status"] == "open"
    dismissed = client.post(url, headers=key(session, "GO", "TRADE"), json={"action": "dismiss", "reason": "Đồng ý"})
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["closed_at"]


def test_flags_are_listed_newest_first_with_filters_and_pages(session: Session, client: TestClient) -> None:
    store_history(session, "EXPORTS", PROVINCES)
    store_history(session, "IMPORTS", PROVINCES)
    hcm, hanoi = key(session, "PC-79", "TRADE"), key(session, "PC-01", "TRADE")
    for code, headers, area in (("EXPORTS", hcm, "79"), ("IMPORTS", hcm, "79"), ("EXPORTS", hanoi, "01")):
        value = expected(PROVINCES[area], "2025-01")
        sent = submit(client, headers, {"indicator": code, "area": area, "period": "2025-01", "value": -value})
        assert sent.status_code == 201
    office = key(session, "GO", "TRADE")
    everything = client.get("/api/v1/quality/flags", headers=office).json()
    assert [(f["indicator"], f["area"], f["method"]) for f in everything["items"]] == [
        ("EXPORTS", "01", "sign_error"), ("IMPORTS", "79", "sign_error"), ("EXPORTS", "79", "sign_error")
    ]  # fmt: skip
    assert everything["items"][0]["agency"] == "PC-01" and everything["items"][0]["area_name"] == "Thành phố Hà Nội"
    mine = client.get("/api/v1/quality/flags", headers=office, params={"agency": "PC-79", "indicator": "EXPORTS"})
    assert [f["area"] for f in mine.json()["items"]] == ["79"]
    for params, count in (({"status": "open"}, 3), ({"severity": "low"}, 0), ({"method": "unit_slip"}, 0)):
        assert len(client.get("/api/v1/quality/flags", headers=office, params=params).json()["items"]) == count
    first = client.get("/api/v1/quality/flags", headers=office, params={"limit": 2}).json()
    rest = client.get("/api/v1/quality/flags", headers=office, params={"limit": 2, "cursor": first["next_cursor"]})
    assert [f["id"] for f in first["items"] + rest.json()["items"]] == [f["id"] for f in everything["items"]]
    assert rest.json()["next_cursor"] is None
    wrong = client.get("/api/v1/quality/flags", headers=office, params={"status": "solved"})
    assert wrong.status_code == 400 and wrong.json()["error"]["where"] == "status"
    assert client.get("/api/v1/quality/flags").status_code == 401
