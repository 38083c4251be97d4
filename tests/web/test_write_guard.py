"""No write without credentials: every state-changing route of the app, in the OpenAPI description or not,
refuses anonymous callers (401) and viewers (403) and leaves the store exactly as it was."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.models import Area, Indicator
from govops.db.base import Base
from govops.exchange import service
from govops.i18n import translations
from govops.notify.service import notify
from govops.quality.checks import Found
from govops.quality.flags import raise_flags
from govops.tasks import service as tasks
from govops.tasks.schemas import DirectiveIn, TaskIn
from govops.web.access import public_write

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_WRITES = {("POST", "/signin"), ("POST", "/signout")}
# Writes on one's own things only (marking one's notifications read): any signed-in user, a viewer too.
PERSONAL_WRITES = {
    ("POST", "/notifications/{notification_id}/read"),
    ("POST", "/notifications/read-all"),
    ("POST", "/api/v1/notifications/{notification_id}/read"),
}
PASSWORD = "correct horse battery"
# Rows too many to compare one by one (reference areas), or touched by any signed-in request (last seen).
COUNTED_ONLY = {"area", "user_session"}

BATCH = {"observations": [{"indicator": "CPI", "area": "VN", "period": "2026-09", "value": 104.2}]}
# What an administrator would send to each console form: an unguarded route would act on it.
FORMS: dict[str, dict[str, str]] = {
    "/admin/indicators/{code}": {"name_vi": "Chỉ số giá", "name_en": "CPI", "unit": "INDEX_2019", "owner": "NSO"},
    "/admin/groups": {"code": "T_NEW", "kind": "report", "name_vi": "Nhóm mới", "name_en": "New group"},
    "/admin/users": {"username": "t.intruder", "full_name": "X", "agency": "GO", "role": "administrator"},
    "/admin/users/{username}": {"full_name": "X", "agency": "GO", "role": "administrator", "active": "on"},
    "/admin/users/{username}/password": {
        "password": "another horse battery",
        "password_again": "another horse battery",
    },
    "/admin/exchange/members": {"agency": "PC-79", "system": "intruder", "name": "X", "clearance": "confidential"},
    "/admin/exchange/members/{member_id}/grants": {"group": "PRICES", "read": "on", "write": "on"},
    "/admin/exchange/members/{member_id}/subscriptions": {"url": "https://example.org/hook"},
    "/admin/mappings": {"name": "t-map", "kind": "sdmx", "text": "dataflow: EXR\nseries: []\n"},
}


def write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every state-changing route, included routers' too, hidden from OpenAPI or not; paths as
    OpenAPI writes them (`{task_id}` for a route's `{task_id:int}`)."""
    found = {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", context.path or ""))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
        if method in WRITE_METHODS
    }
    return sorted(found, key=lambda item: (item[1], item[0]))


def guarded_writes(app: FastAPI) -> list[tuple[str, str]]:
    return [write for write in write_routes(app) if write not in PUBLIC_WRITES]


def fingerprint(session: Session) -> dict[str, Any]:
    """Every row of every table (a count where the rows are too many or always touched)."""
    session.expire_all()
    out: dict[str, Any] = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(table)).all()
        out[table.name] = (
            len(rows)
            if table.name in COUNTED_ONLY
            else hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
        )
    return out


@pytest.fixture
def targets(session: Session) -> dict[str, str]:
    """Real things for the path parameters, so that a route without a guard would find what to change."""
    member = service.create_member(session=session, agency="PC-79", system="ioc", name="")
    issued = service.issue_key(session=session, member=member)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    target = create_user(
        session=session, username="t.target", password=PASSWORD, full_name="T", agency="GO", role="data_officer"
    )
    (notification,) = notify(
        session=session,
        recipients=[target.id],
        kind="task_overdue",
        params={"task": "T-1", "due": "2026-01-01"},
        link="/",
    )
    office = tasks.caller(session=session, agency_code="GO", name="t")
    tasks.create_directive(
        session=session,
        data=DirectiveIn(kind="decision", number="1/QĐ-T", title="t", signed_on=date(2026, 1, 1), signer="t"),
        who=office,
    )
    task = tasks.create_task(
        session=session,
        data=TaskIn(directive="1/QĐ-T", text="t", lead="GO", deadline=date(2026, 6, 30)),
        who=office,
    )
    extension = tasks.request_extension(
        session=session, task_id=task.id, deadline=date(2026, 9, 30), reason="r", who=office
    )
    (flag,) = raise_flags(
        session=session,
        found=[
            Found(indicator_id=session.scalars(select(Indicator.id).where(Indicator.code == "CPI")).one(),
                  area_id=session.scalars(select(Area.id).where(Area.code == "VN")).one(), dim_key="",
                  period="2026-01", period_start=date(2026, 1, 1), value=1.0, method="outlier", severity="low",
                  source_agency_id=None)
        ],
        by="scan",
    )  # fmt: skip
    session.commit()
    return {
        "flag_id": str(flag.id),
        "task_id": str(task.id),
        "extension_id": str(extension.id),
        "code": "CPI",
        "username": "t.target",
        "member_id": str(member.id),
        "prefix": issued.prefix,
        "group": "ENTERPRISES",
        "subscription_id": "1",
        "delivery_id": "1",
        "name": "auth.purge-sessions",  # a scheduled job
        "notification_id": str(notification.id),
        # A report's signed document (reporting): no such regime is needed, the guard refuses first.
        "regime": "DEMO_BO_NGANH_QUY",
        "agency": "MOF",
        "period": "2025-Q3",
    }


def send(client: TestClient, method: str, path: str, values: dict[str, str], csrf: str | None = None) -> Any:
    url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)
    if path.startswith("/api/"):
        headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        if csrf:
            headers["X-CSRF-Token"] = csrf
        return client.request(method, url, content=json.dumps(BATCH).encode(), headers=headers)
    form = {**FORMS.get(path, {}), **({"csrf_token": csrf} if csrf else {})}
    return client.request(method, url, data=form, follow_redirects=False)


def says(response: Any, message: str, **params: str) -> bool:
    """Whether the error is `message` (a catalogue message, filled with `params`): in the JSON envelope (API,
    English) or on the error page (console, Vietnamese)."""
    if response.headers["content-type"].startswith("application/json"):
        return bool(response.json()["error"]["message"] == message % params)
    return (translations("vi").gettext(message) % params).lower() in response.text.lower()


def test_the_walk_covers_every_write_of_the_api_and_the_console(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    writes = set(guarded_writes(app))
    assert {("POST", "/api/v1/observations"), ("POST", "/api/v1/submissions"), ("POST", "/submit")} <= writes
    assert len(writes) >= 17 and set(write_routes(app)) >= PUBLIC_WRITES
    described = client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, item in described.items() for m in item if m.upper() in WRITE_METHODS}
    assert documented and documented <= writes


# The app-wide guard answers before any route's own checks: its messages show that it did, on every route.
def test_anonymous_writes_are_refused_and_change_nothing(
    client: TestClient, session: Session, targets: dict[str, str]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    before = fingerprint(session)
    for method, path in guarded_writes(app):
        response = send(client, method, path, targets)
        assert response.status_code == 401, f"{method} {path}: {response.status_code} {response.text[:300]}"
        assert says(response, "changing data needs credentials"), f"{method} {path}"
        assert fingerprint(session) == before, f"{method} {path} changed the store"


def test_a_viewers_writes_are_refused_and_change_nothing(
    client: TestClient, session: Session, targets: dict[str, str], sign_in_as: Callable[[str], str]
) -> None:
    csrf = sign_in_as("viewer")
    app: FastAPI = client.app  # type: ignore[assignment]
    before = fingerprint(session)
    for method, path in guarded_writes(app):
        if (method, path) in PERSONAL_WRITES:
            continue
        response = send(client, method, path, targets, csrf=csrf)
        assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text[:300]}"
        assert says(response, "your role (%(role)s) may not change data", role="viewer"), f"{method} {path}"
        assert fingerprint(session) == before, f"{method} {path} changed the store"


def test_personal_writes_let_a_viewer_in_but_touch_only_their_own(
    client: TestClient, session: Session, targets: dict[str, str], sign_in_as: Callable[[str], str]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    assert set(guarded_writes(app)) >= PERSONAL_WRITES
    member = service.create_member(session=session, agency="PC-79", system="inbox", name="")
    key = service.issue_key(session=session, member=member).key
    before = fingerprint(session)
    for method, path in sorted(PERSONAL_WRITES):
        # A system's key is not a person: it has no notifications to mark.
        keyed = client.request(
            method, path.replace("{notification_id}", targets["notification_id"]), headers={"X-API-Key": key}
        )
        assert keyed.status_code == 401, f"{method} {path}: {keyed.status_code} {keyed.text[:300]}"
        assert fingerprint(session) == before, f"{method} {path} changed the store"
    csrf = sign_in_as("viewer")
    before = fingerprint(session)
    for method, path in sorted(PERSONAL_WRITES):
        # t.target's notification, or (read-all) the viewer's none: nothing of anyone else changes.
        response = send(client, method, path, targets, csrf=csrf)
        assert response.status_code in (303, 404), f"{method} {path}: {response.status_code} {response.text[:300]}"
        assert fingerprint(session) == before, f"{method} {path} changed the store"


def test_a_route_added_later_is_guarded_without_asking(client: TestClient, session: Session) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    calls: list[str] = []

    @app.post("/api/v1/added-later")
    def added_later() -> dict[str, bool]:
        calls.append("added")
        return {"ok": True}

    @app.post("/api/v1/added-later/public")
    @public_write
    def added_public() -> dict[str, bool]:
        calls.append("public")
        return {"ok": True}

    refused = client.post("/api/v1/added-later")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    wrong_key = client.post("/api/v1/added-later", headers={"Authorization": "Bearer gvk_000000000000_" + "a" * 32})
    assert wrong_key.status_code == 401 and "not valid" in wrong_key.json()["error"]["message"]
    member = service.create_member(session=session, agency="PC-79", system="ioc", name="")
    key = service.issue_key(session=session, member=member).key
    assert client.post("/api/v1/added-later", headers={"X-API-Key": key}).status_code == 200
    assert client.post("/api/v1/added-later/public").status_code == 200
    assert calls == ["added", "public"]


def test_a_writing_role_still_needs_the_csrf_token(
    client: TestClient, session: Session, sign_in_as: Callable[[str], str]
) -> None:
    sign_in_as("data_officer")
    before = fingerprint(session)
    response = client.post("/api/v1/observations", json=BATCH)
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    assert fingerprint(session) == before


@pytest.fixture
def sign_in_as(client: TestClient, session: Session) -> Callable[[str], str]:
    """Signs the client in as a new user t.<role> of the Government Office; returns the session's CSRF token."""

    def as_role(role: str) -> str:
        create_user(session=session, username=f"t.{role}", password=PASSWORD, full_name=role, agency="GO", role=role)
        form = client.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        client.post("/signin", data={"username": f"t.{role}", "password": PASSWORD, "csrf_token": token.group(1)})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
        assert csrf is not None
        return csrf.group(1)

    return as_role
