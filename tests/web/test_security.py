"""Security headers on every response, templates without inline script, and the client address behind
(and not behind) a trusted reverse proxy."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.audit.models import AuditEntry
from govops.auth.models import SignInFailure
from govops.settings import Settings
from govops.web.security import CONSOLE_POLICY
from tests.conftest import use_session

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "govops" / "web" / "templates"


def test_every_kind_of_response_carries_the_security_headers(client: TestClient) -> None:
    responses = {
        "page": client.get("/signin"),
        "api": client.get("/api/v1/indicators"),
        "health": client.get("/healthz"),
        "static": client.get("/static/js/console.js"),
        "error": client.get("/api/v1/indicators/NO_SUCH_INDICATOR"),
        "sign-in needed": client.get("/explorer"),
        "refused early": client.get("/api/v1/indicators?q=%00"),
    }
    for kind, response in responses.items():
        policy = response.headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", kind
        assert "unsafe" not in directives["script-src"] and "unsafe-eval" not in policy, kind
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'self'", kind
        assert directives["frame-ancestors"] == "'none'", kind
        assert response.headers["x-content-type-options"] == "nosniff", kind
        assert response.headers["x-frame-options"] == "DENY", kind
        assert response.headers["referrer-policy"] == "same-origin", kind
    assert [responses[k].status_code for k in ("error", "sign-in needed", "refused early")] == [404, 401, 400]


def test_the_api_documentation_is_served_from_this_site_under_the_console_policy(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == CONSOLE_POLICY
    assert re.findall(r"<script>", docs.text) == [], "no inline script"
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/") for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/redoc").status_code == 404


def test_no_template_has_inline_script_or_event_handler_attributes() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) >= 10
    offending: list[str] = []
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text, re.IGNORECASE):
            # Data for the charts is JSON, which browsers never run; every program is a file from /static.
            if "src=" not in tag and 'type="application/json"' not in tag:
                offending.append(f"{template.name}: inline {tag}")
        for handler in re.findall(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", text, re.IGNORECASE):
            offending.append(f"{template.name}: {handler}= attribute")
        if re.search(r"javascript:", text, re.IGNORECASE):
            offending.append(f"{template.name}: javascript: URL")
    assert offending == []


def test_htmx_is_told_not_to_evaluate_code(client: TestClient) -> None:
    page = client.get("/signin").text
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert config is not None
    assert '"allowEval": false' in config.group(1)


# --- client address -------------------------------------------------------------------------------


@pytest.fixture
def app_behind(engine: Engine, session: Session, signing_key_file: Path) -> Iterator[Callable[[str, str], TestClient]]:
    """Makes a test client of a console trusting `proxies`, as seen from `peer`."""
    opened: list[TestClient] = []

    def make(proxies: str, peer: str) -> TestClient:
        settings = Settings(
            database_url=str(engine.url),
            signing_key_file=signing_key_file,
            page_warmer=False,
            worker=False,
            trusted_proxies=proxies,  # as read from GOVOPS_TRUSTED_PROXIES
        )
        app = create_app(settings, engine=engine)
        use_session(app, session)
        client = TestClient(app, client=(peer, 41234))
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def failed_sign_in(client: TestClient, session: Session, username: str, **headers: str) -> tuple[str, str]:
    """Signs in with a wrong password; returns the address the audit trail and the throttle recorded."""
    form = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    refused = client.post(
        "/signin",
        data={"username": username, "password": "wrong password", "csrf_token": token.group(1)},
        headers=headers,
    )
    assert refused.status_code == 401
    session.expire_all()
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.sign_in_failed", AuditEntry.target == username)
    ).one()
    failure = session.scalars(select(SignInFailure).where(SignInFailure.username == username)).one()
    assert audit.ip is not None and failure.ip is not None
    return audit.ip, failure.ip


def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(
    app_behind: Callable[[str, str], TestClient], session: Session
) -> None:
    make = app_behind
    no_proxy = make("", "198.51.100.20")
    assert failed_sign_in(no_proxy, session, "spoof.a", **{"X-Forwarded-For": "203.0.113.99"}) == (
        "198.51.100.20",
        "198.51.100.20",
    )
    # A proxy is configured, but this peer is not it.
    other_proxy = make("10.0.0.0/8", "198.51.100.21")
    assert failed_sign_in(other_proxy, session, "spoof.b", **{"X-Forwarded-For": "203.0.113.99"}) == (
        "198.51.100.21",
        "198.51.100.21",
    )


def test_a_trusted_proxy_forwards_the_client_address_and_scheme(
    app_behind: Callable[[str, str], TestClient], session: Session
) -> None:
    make = app_behind
    proxy = make("10.0.0.0/8, 192.0.2.1", "10.1.2.3")
    # The client's own claim (left) is not believed: the nearest address not of a trusted proxy is the client.
    forwarded = {"X-Forwarded-For": "203.0.113.1, 203.0.113.50, 192.0.2.1", "X-Forwarded-Proto": "https"}
    assert failed_sign_in(proxy, session, "proxied.a", **forwarded) == ("203.0.113.50", "203.0.113.50")
    # The proxy said https: the anonymous CSRF cookie of the sign-in form is then Secure.
    form = make("10.0.0.0/8", "10.1.2.3").get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in form.headers["set-cookie"].lower()
    plain = make("10.0.0.0/8", "198.51.100.22").get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in plain.headers["set-cookie"].lower()


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")
    assert Settings(trusted_proxies="10.0.0.1, 172.16.0.0/12").trusted_proxies == [
        "10.0.0.1/32",
        "172.16.0.0/12",
    ]
    assert Settings().trusted_proxies == []
