from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Form, Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User, UserSession
from govops.auth.service import create_user, hash_token, readable_classifications
from govops.catalog.models import Indicator
from govops.db.base import utcnow
from govops.web.deps import SessionDep, get_session
from govops.web.errors import install_error_handlers
from govops.web.signin import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    SignedInUser,
    check_csrf,
    csrf_token,
    install_auth,
    require_role,
    secure_cookies,
    set_session_cookie,
    sign_in,
    sign_out,
    verify_csrf,
)

PASSWORD = "correct horse battery"


def console(session: Session) -> FastAPI:
    """A console in miniature: sign-in form, pages by role, a form that changes something."""
    app = FastAPI()
    install_error_handlers(app)
    install_auth(app)
    app.dependency_overrides[get_session] = lambda: session

    @app.get("/api/t/sign-in")
    def sign_in_form(request: Request, user: CurrentUser) -> dict[str, str | None]:
        return {"csrf": csrf_token(request), "user": user.username if user else None}

    @app.post("/api/t/sign-in")
    def sign_in_submit(
        request: Request,
        response: Response,
        db: SessionDep,
        _user: CurrentUser,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf_token: Annotated[str | None, Form()] = None,
    ) -> dict[str, str]:
        check_csrf(request, csrf_token)
        token, _ = sign_in(request, session=db, username=username, password=password)
        set_session_cookie(response, token, secure=secure_cookies(request))
        return {"signed_in": username}

    @app.post("/api/t/sign-out", dependencies=[Depends(verify_csrf)])
    def sign_out_submit(request: Request, response: Response, db: SessionDep) -> dict[str, bool]:
        sign_out(request, response, session=db)
        return {"signed_out": True}

    @app.get("/api/t/me")
    def me(request: Request, user: SignedInUser) -> dict[str, str]:
        return {"username": user.username, "csrf": csrf_token(request)}

    @app.get("/api/t/admin")
    def admin(user: Annotated[User, Depends(require_role("administrator"))]) -> dict[str, str]:
        return {"admin": user.username}

    @app.post("/api/t/note", dependencies=[Depends(verify_csrf)])
    def note(user: SignedInUser, text: Annotated[str, Form()]) -> dict[str, str]:
        return {"saved": text, "by": user.username}

    @app.get("/api/t/indicators")
    def indicators(user: SignedInUser, db: SessionDep) -> list[str]:
        readable = readable_classifications(user.role)
        return list(db.scalars(select(Indicator.code).where(Indicator.classification.in_(readable))))

    return app


@pytest.fixture
def web(session: Session) -> Iterator[TestClient]:
    for username, role, agency in [
        ("an.admin", "administrator", "GO"),
        ("an.analyst", "analyst", "GO"),
        ("an.officer", "data_officer", "PC-01"),
        ("a.viewer", "viewer", "MOF"),
    ]:
        create_user(session=session, username=username, password=PASSWORD, full_name=username, agency=agency, role=role)
    with TestClient(console(session)) as client:
        yield client


def signed_in(web: TestClient, username: str, password: str = PASSWORD) -> str:
    """Signs in as a browser does; returns the session's CSRF token."""
    form_token = web.get("/api/t/sign-in").json()["csrf"]
    response = web.post("/api/t/sign-in", data={"username": username, "password": password, "csrf_token": form_token})
    assert response.status_code == 200, response.text
    token: str = web.get("/api/t/me").json()["csrf"]
    return token


def cookie_header(response_headers: list[str], name: str) -> str:
    found = [h for h in response_headers if h.startswith(f"{name}=")]
    assert len(found) == 1, response_headers
    return found[0]


def test_the_session_cookie_is_http_only_same_site_lax_for_the_whole_site(web: TestClient) -> None:
    form_token = web.get("/api/t/sign-in").json()["csrf"]
    response = web.post(
        "/api/t/sign-in", data={"username": "an.analyst", "password": PASSWORD, "csrf_token": form_token}
    )
    header = cookie_header(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path"} <= attributes and "samesite=lax" in header.lower() and "path=/" in header.lower()
    assert "secure" not in attributes  # plain http here; https requests get Secure (next test)


def test_cookies_are_secure_over_https(session: Session, web: TestClient) -> None:
    https = TestClient(console(session), base_url="https://console.example")
    form = https.get("/api/t/sign-in")
    assert "secure" in cookie_header(form.headers.get_list("set-cookie"), CSRF_COOKIE).lower()
    response = https.post(
        "/api/t/sign-in", data={"username": "an.analyst", "password": PASSWORD, "csrf_token": form.json()["csrf"]}
    )
    assert "secure" in cookie_header(response.headers.get_list("set-cookie"), SESSION_COOKIE).lower()


def test_the_raw_token_is_in_the_cookie_only(session: Session, web: TestClient) -> None:
    signed_in(web, "an.analyst")
    token = web.cookies[SESSION_COOKIE]
    stored = session.scalars(select(UserSession)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash


def test_pages_need_sign_in(web: TestClient) -> None:
    response = web.get("/api/t/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "sign_in_required"
    signed_in(web, "a.viewer")
    assert web.get("/api/t/me").json()["username"] == "a.viewer"


def test_a_made_up_cookie_is_nobody(web: TestClient) -> None:
    web.cookies.set(SESSION_COOKIE, "x" * 43)
    assert web.get("/api/t/me").status_code == 401


def test_wrong_password_answers_401_like_an_unknown_user(web: TestClient) -> None:
    form_token = web.get("/api/t/sign-in").json()["csrf"]
    wrong = web.post(
        "/api/t/sign-in", data={"username": "an.analyst", "password": "nope nope nope", "csrf_token": form_token}
    )
    unknown = web.post(
        "/api/t/sign-in", data={"username": "no.one", "password": "nope nope nope", "csrf_token": form_token}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "bad_credentials"
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_failed_sign_ins_are_kept_even_though_the_request_fails_and_then_throttle(web: TestClient) -> None:
    form_token = web.get("/api/t/sign-in").json()["csrf"]
    for _ in range(5):
        response = web.post(
            "/api/t/sign-in", data={"username": "an.analyst", "password": "guess", "csrf_token": form_token}
        )
        assert response.status_code == 401
    right = web.post("/api/t/sign-in", data={"username": "an.analyst", "password": PASSWORD, "csrf_token": form_token})
    assert right.status_code == 429
    error = right.json()["error"]
    assert error["code"] == "throttled" and "try again in 15 minute(s)" in error["hint"]


def test_the_sign_in_form_needs_its_csrf_token(web: TestClient) -> None:
    missing = web.post("/api/t/sign-in", data={"username": "an.analyst", "password": PASSWORD})
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    web.get("/api/t/sign-in")
    forged = web.post("/api/t/sign-in", data={"username": "an.analyst", "password": PASSWORD, "csrf_token": "f" * 43})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    # Without the cookie, the form's token alone is worth nothing (a page of another site could have it).
    form_token = web.get("/api/t/sign-in").json()["csrf"]
    web.cookies.delete(CSRF_COOKIE)
    stolen = web.post("/api/t/sign-in", data={"username": "an.analyst", "password": PASSWORD, "csrf_token": form_token})
    assert stolen.status_code == 403


def test_the_anonymous_csrf_cookie_is_issued_once_and_reused(web: TestClient) -> None:
    first = web.get("/api/t/sign-in")
    assert CSRF_COOKIE in first.headers["set-cookie"] and "httponly" in first.headers["set-cookie"].lower()
    second = web.get("/api/t/sign-in")
    assert second.json()["csrf"] == first.json()["csrf"]
    assert "set-cookie" not in second.headers


def test_forms_of_a_signed_in_user_need_the_session_csrf_token(web: TestClient) -> None:
    token = signed_in(web, "an.officer")
    missing = web.post("/api/t/note", data={"text": "hello"})
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    forged = web.post("/api/t/note", data={"text": "hello", "csrf_token": "A" * 43})
    assert forged.status_code == 403
    anonymous_token = web.cookies[CSRF_COOKIE]
    assert web.post("/api/t/note", data={"text": "hello", "csrf_token": anonymous_token}).status_code == 403
    ok = web.post("/api/t/note", data={"text": "hello", "csrf_token": token})
    assert ok.status_code == 200 and ok.json() == {"saved": "hello", "by": "an.officer"}
    # HTMX sends the token in a header instead.
    htmx = web.post("/api/t/note", data={"text": "again"}, headers={"X-CSRF-Token": token})
    assert htmx.status_code == 200


def test_roles_guard_pages(web: TestClient) -> None:
    signed_in(web, "an.analyst")
    refused = web.get("/api/t/admin")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    web.cookies.clear()
    signed_in(web, "an.admin")
    assert web.get("/api/t/admin").json() == {"admin": "an.admin"}


def test_a_viewer_never_sees_a_confidential_indicator(session: Session, web: TestClient) -> None:
    by_class = dict(session.execute(select(Indicator.code, Indicator.classification)).all())
    confidential = {code for code, c in by_class.items() if c == "confidential"}
    internal = {code for code, c in by_class.items() if c == "internal"}
    assert confidential and internal

    signed_in(web, "a.viewer")
    seen = set(web.get("/api/t/indicators").json())
    assert seen and not seen & (confidential | internal)
    web.cookies.clear()
    signed_in(web, "an.officer")
    seen = set(web.get("/api/t/indicators").json())
    assert internal <= seen and not seen & confidential
    web.cookies.clear()
    signed_in(web, "an.analyst")
    assert confidential <= set(web.get("/api/t/indicators").json())


def test_signing_out_ends_the_session_and_clears_the_cookie(web: TestClient) -> None:
    token = signed_in(web, "an.analyst")
    cookie = web.cookies[SESSION_COOKIE]
    response = web.post("/api/t/sign-out", headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert web.get("/api/t/me").status_code == 401
    # The old cookie, replayed, no longer works either.
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, cookie)
    assert web.get("/api/t/me").status_code == 401


def test_signing_in_again_replaces_the_previous_session(session: Session, web: TestClient) -> None:
    signed_in(web, "an.analyst")
    first = web.cookies[SESSION_COOKIE]
    signed_in(web, "an.analyst")
    assert web.cookies[SESSION_COOKIE] != first
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, first)
    assert web.get("/api/t/me").status_code == 401


def test_an_idle_or_old_session_needs_a_new_sign_in(session: Session, web: TestClient) -> None:
    signed_in(web, "an.analyst")
    stored = session.scalars(select(UserSession)).one()
    stored.last_seen_at = utcnow() - timedelta(hours=2, seconds=1)
    session.flush()
    assert web.get("/api/t/me").status_code == 401

    web.cookies.clear()
    signed_in(web, "an.analyst")
    newest = session.scalars(select(UserSession).order_by(UserSession.id.desc())).first()
    assert newest is not None and newest.id != stored.id
    newest.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    assert web.get("/api/t/me").status_code == 401


def test_browsing_keeps_the_session_alive(session: Session, web: TestClient) -> None:
    from govops.web.contacts import ContactStamps

    stamps = ContactStamps(session.get_bind().engine)
    web.app.state.contact_stamps = stamps  # type: ignore[attr-defined]
    signed_in(web, "an.analyst")
    stored = session.scalars(select(UserSession)).one()
    an_hour_ago = utcnow() - timedelta(hours=1)
    stored.last_seen_at = an_hour_ago
    session.flush()
    assert web.get("/api/t/me").status_code == 200
    session.refresh(stored)
    assert stored.last_seen_at == an_hour_ago  # the request itself wrote nothing
    assert stamps.flush(session=session) == 1
    session.refresh(stored)
    assert stored.last_seen_at > an_hour_ago + timedelta(minutes=59)


def test_a_new_password_signs_the_user_out_everywhere(session: Session, web: TestClient) -> None:
    from govops.auth.service import set_password

    signed_in(web, "an.analyst")
    set_password(session=session, username="an.analyst", password="a brand new password")
    assert web.get("/api/t/me").status_code == 401
