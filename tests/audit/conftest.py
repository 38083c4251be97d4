"""Signing in through the console's own form, and the CLI's real-process fixtures."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.auth.service import create_user
from tests.cli.conftest import govops, initialised_store

__all__ = ["govops", "initialised_store"]

PASSWORD = "correct horse battery"


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def last_id(session: Session) -> int:
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def entries_since(session: Session, after: int, **where: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, column) == value)
    session.expire_all()
    return list(session.scalars(stmt))


@pytest.fixture
def sign_in(client: TestClient, session: Session) -> Callable[[str], TestClient]:
    """Creates t.<role> of agency GO and signs the test client in as them."""

    def as_role(role: str) -> TestClient:
        create_user(session=session, username=f"t.{role}", password=PASSWORD, full_name=role, agency="GO", role=role)
        form = client.get("/signin")
        done = client.post(
            "/signin",
            data={"username": f"t.{role}", "password": PASSWORD, "csrf_token": token_of(form.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        return client

    return as_role
