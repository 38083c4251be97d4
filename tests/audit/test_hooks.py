"""Actions that leave an audit entry, each in the transaction of the action itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.audit.models import AuditEntry
from govops.audit.service import verify
from govops.auth.models import SignInFailure
from govops.auth.service import create_user
from govops.catalog.models import Agency
from govops.exchange import service
from govops.settings import Settings
from govops.warehouse.accept import ingest
from tests.audit.conftest import PASSWORD, entries_since, last_id, token_of


def test_a_sign_in_writes_an_entry_with_the_address_and_request_id(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    start = last_id(session)
    sign_in("analyst")
    [entry] = entries_since(session, start, action="auth.sign_in")
    assert (entry.actor_kind, entry.actor, entry.agency, entry.target) == ("user", "t.analyst", "GO", "t.analyst")
    assert entry.ip == "testclient" and entry.request_id and len(entry.request_id) == 32

    # A request id the client sends is the one kept, as in the logs.
    client.post("/signout", data={"csrf_token": token_of(client.get("/").text)}, headers={"X-Request-ID": "req-42"})
    [out] = entries_since(session, start, action="auth.sign_out")
    assert (out.actor, out.target, out.request_id, out.ip) == ("t.analyst", "t.analyst", "req-42", "testclient")
    assert verify(session=session).ok


def test_a_failed_sign_in_writes_an_entry(client: TestClient, session: Session) -> None:
    start = last_id(session)
    form = client.get("/signin")
    answer = client.post(
        "/signin",
        data={"username": "No.Such.User", "password": "wrong password", "csrf_token": token_of(form.text)},
        headers={"X-Request-ID": "req-failed"},
    )
    assert answer.status_code == 401
    [entry] = entries_since(session, start)
    assert (entry.action, entry.actor_kind, entry.actor, entry.target) == (
        "auth.sign_in_failed",
        "system",
        "anonymous",
        "no.such.user",
    )
    assert (entry.detail, entry.ip, entry.request_id) == ('{"reason":"bad_credentials"}', "testclient", "req-failed")


@pytest.fixture
def real_app(engine: Engine) -> Iterator[TestClient]:
    """The app on its own sessions and transactions, as in production (no test savepoint)."""
    with engine.connect() as conn:
        start = conn.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    with TestClient(
        create_app(Settings(database_url=str(engine.url), page_warmer=False, worker=False), engine=engine)
    ) as web:
        yield web
    with Session(engine) as s, s.begin():
        s.execute(delete(AuditEntry).where(AuditEntry.id > start))
        s.execute(delete(SignInFailure).where(SignInFailure.username == "nobody.here"))


def test_a_failed_sign_in_keeps_its_entry_although_the_request_fails(real_app: TestClient, engine: Engine) -> None:
    form = real_app.get("/signin")
    answer = real_app.post(
        "/signin", data={"username": "nobody.here", "password": "not it at all", "csrf_token": token_of(form.text)}
    )
    assert answer.status_code == 401
    with Session(engine) as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (entry.action, entry.target) == ("auth.sign_in_failed", "nobody.here")
        # Committed together with the failure that throttling counts.
        assert s.scalar(select(SignInFailure.id).where(SignInFailure.username == "nobody.here")) is not None
        assert verify(session=s).ok


def _statistics_key(session: Session) -> dict[str, str]:
    """The Authorization header of the statistics office's system, which writes CPI and IIP."""
    member = service.create_member(session=session, agency="NSO", system="stats", name="")
    for group in ("PRICES", "INDUSTRY"):
        service.grant(session=session, member=member, group=group, read=True, write=True)
    return {"Authorization": f"Bearer {service.issue_key(session=session, member=member).key}"}


def test_posting_observations_writes_one_entry_with_the_counts(client: TestClient, session: Session) -> None:
    key = _statistics_key(session)
    start = last_id(session)
    body = {
        "observations": [
            {"indicator": "CPI", "area": "01", "period": "2025-07", "value": 104.2},
            {"indicator": "CPI", "area": "79", "period": "2025-07", "value": 103.9},
            {"indicator": "IIP", "area": "79", "period": "2025-07", "value": 108.0},
        ]
    }
    first_receipt = client.post("/api/v1/observations", json=body, headers=key)
    assert first_receipt.status_code == 201
    body["observations"][0]["value"] = 104.3
    second_receipt = client.post("/api/v1/observations", json=body, headers={**key, "X-Request-ID": "batch-2"})
    assert second_receipt.status_code == 201
    first, second = entries_since(session, start)
    assert (first.action, first.target, first.actor, first.actor_kind) == (
        "submission.accepted", first_receipt.json()["id"], "NSO/stats", "member"
    )  # fmt: skip
    assert json.loads(first.detail) | {"body_sha256": None} == {
        "received": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0, "body_sha256": None
    }  # fmt: skip
    assert (json.loads(second.detail)["updated"], json.loads(second.detail)["unchanged"]) == (1, 2)
    assert second.request_id == "batch-2"
    # A rejected batch stores no observation; the refusal itself is on record.
    bad = {"observations": [{"indicator": "NOPE", "area": "01", "period": "2025-07", "value": 1}]}
    assert client.post("/api/v1/observations", json=bad, headers=key).status_code == 422
    assert [e.action for e in entries_since(session, start)] == ["submission.accepted"] * 2 + ["submission.rejected"]


def test_a_signed_in_user_posting_observations_is_the_actor(client: TestClient, session: Session) -> None:
    create_user(
        session=session, username="t.officer", password=PASSWORD, full_name="Officer", agency="NSO", role="data_officer"
    )
    nso = session.scalars(select(Agency).where(Agency.code == "NSO")).one()
    service.grant(session=session, member=service.console_member(session=session, agency=nso), group="PRICES",
                  read=True, write=True)  # fmt: skip
    form = client.get("/signin")
    client.post("/signin", data={"username": "t.officer", "password": PASSWORD, "csrf_token": token_of(form.text)})
    csrf = token_of(client.get("/").text)
    start = last_id(session)
    body = {"observations": [{"indicator": "CPI", "area": "01", "period": "2025-08", "value": 104.2}]}
    answer = client.post("/api/v1/observations", json=body, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 201, answer.text
    assert answer.json()["member"] == "NSO/console"
    [entry] = entries_since(session, start)
    assert (entry.action, entry.actor_kind, entry.actor, entry.agency) == (
        "submission.accepted", "user", "t.officer", "NSO"
    )  # fmt: skip
    assert json.loads(entry.detail)["member"] == "NSO/console"


def test_a_confidential_series_read_by_an_analyst_writes_an_entry(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    web = sign_in("analyst")
    start = last_id(session)
    assert web.get("/api/v1/series/CPI").status_code == 200  # public: nothing recorded
    assert entries_since(session, start) == []
    answer = web.get("/api/v1/series/GDP_FLASH", params={"area": "VN", "start": "2024"})
    assert answer.status_code == 200
    [entry] = entries_since(session, start)
    assert (entry.action, entry.target, entry.actor, entry.ip) == (
        "confidential.read",
        "GDP_FLASH",
        "t.analyst",
        "testclient",
    )
    assert entry.detail == '{"path":"/api/v1/series/GDP_FLASH","query":"area=VN&start=2024"}'
    assert entry.request_id == answer.headers["X-Request-ID"]


def test_confidential_observations_and_explorer_pages_are_recorded(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    ingest(
        session=session,
        rows=[(1, {"indicator": "GDP_FLASH", "area": "VN", "period": "2025-Q2", "value": 7.1})],
        recorded_by="test",
    )
    web = sign_in("administrator")
    start = last_id(session)
    assert web.get("/api/v1/observations", params={"indicator": "GDP_FLASH"}).json()["items"]
    assert web.get("/api/v1/observations", params={"area": "VN"}).status_code == 200
    assert web.get("/explorer/GDP_FLASH").status_code == 200
    assert web.get("/explorer/GDP_FLASH/download.csv").status_code == 200
    assert web.get("/explorer/CPI").status_code == 200
    entries = entries_since(session, start)
    assert [(e.action, e.target, e.actor) for e in entries] == [
        ("confidential.read", "GDP_FLASH", "t.administrator")
    ] * 4
    assert [e.detail for e in entries][:2] == [
        '{"path":"/api/v1/observations","query":"indicator=GDP_FLASH","rows":1}',
        '{"path":"/api/v1/observations","query":"area=VN","rows":1}',
    ]


def test_what_a_viewer_may_not_read_is_not_recorded_as_read(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    web = sign_in("viewer")
    start = last_id(session)
    assert web.get("/api/v1/series/GDP_FLASH").status_code == 404
    assert web.get("/explorer/GDP_FLASH").status_code == 404
    assert entries_since(session, start) == []


def test_console_changes_to_users_and_the_catalogue_are_recorded(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    web = sign_in("administrator")
    start = last_id(session)
    token = token_of(web.get("/admin").text)
    created = web.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "le.thi.b",
            "full_name": "Lê Thị B",
            "agency": "PC-01",
            "role": "data_officer",
            "password": "a long password",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    edit = {"csrf_token": token, "full_name": "Lê Thị B", "agency": "PC-01", "role": "analyst", "language": "vi"}
    assert web.post("/admin/users/le.thi.b", data={**edit, "active": "true"}, follow_redirects=False).is_redirect
    password = {"csrf_token": token, "password": "another long one", "password_again": "another long one"}
    assert web.post("/admin/users/le.thi.b/password", data=password, follow_redirects=False).is_redirect
    group = {"csrf_token": token, "code": "T_AUDIT", "kind": "report", "name_vi": "Nhóm", "name_en": "Group"}
    assert web.post("/admin/groups", data=group, follow_redirects=False).is_redirect
    entries = entries_since(session, start)
    assert [(e.action, e.target, e.actor) for e in entries] == [
        ("user.create", "le.thi.b", "t.administrator"),
        ("user.update", "le.thi.b", "t.administrator"),
        ("user.password", "le.thi.b", "t.administrator"),
        ("group.save", "T_AUDIT", "t.administrator"),
    ]
    assert entries[0].detail == '{"agency":"PC-01","role":"data_officer"}'
    assert entries[1].detail == '{"changes":{"role":["data_officer","analyst"]}}'
    assert "password" not in entries[2].detail
    # A refused change records nothing.
    bad = {**edit, "active": "true", "agency": "NOPE"}
    assert web.post("/admin/users/le.thi.b", data=bad).status_code == 422
    assert len(entries_since(session, start)) == 4


def test_an_indicator_saved_in_the_console_is_recorded(sign_in: Callable[[str], TestClient], session: Session) -> None:
    web = sign_in("administrator")
    start = last_id(session)
    form = web.get("/admin/indicators/new")
    fields = {
        "csrf_token": token_of(form.text),
        "code": "T_AUDITED",
        "name_vi": "Mới",
        "name_en": "New",
        "unit": "PCT",
        "periodicity": "M",
        "area_aggregation": "none",
        "time_aggregation": "mean",
        "owner": "NSO",
        "classification": "public",
        "decimals": "1",
    }
    assert web.post("/admin/indicators/new", data=fields, follow_redirects=False).status_code == 303
    [entry] = entries_since(session, start)
    assert (entry.action, entry.target, entry.actor_kind) == ("indicator.save", "T_AUDITED", "user")
    assert '"new":true' in entry.detail and '"indicators":1' in entry.detail


def test_sign_in_with_the_wrong_password_of_a_real_user_names_the_user_as_target(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    sign_in("viewer")
    client.post("/signout", data={"csrf_token": token_of(client.get("/").text)})
    start = last_id(session)
    form = client.get("/signin")
    client.post("/signin", data={"username": "t.viewer", "password": PASSWORD + "x", "csrf_token": token_of(form.text)})
    [entry] = entries_since(session, start)
    assert (entry.action, entry.target, entry.actor) == ("auth.sign_in_failed", "t.viewer", "anonymous")
