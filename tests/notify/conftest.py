"""People to notify, and a console client signed in as one of them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.auth.service import create_user

PASSWORD = "correct horse battery"


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def person(session: Session) -> Callable[..., User]:
    """Creates a user of the Government Office: person("lan", language="en", email=...)."""

    def make(name: str, *, role: str = "viewer", language: str = "vi", email: str | None = None) -> User:
        return create_user(
            session=session,
            username=name,
            password=PASSWORD,
            full_name=f"Nguyễn Thị {name.title()}",
            agency="GO",
            role=role,
            language=language,
            email=email,
        )

    return make


@pytest.fixture
def signed_in(client: TestClient) -> Callable[[User], str]:
    """Signs the test client in as the user; returns the session's CSRF token."""

    def as_user(user: User) -> str:
        form = client.get("/signin")
        done = client.post(
            "/signin",
            data={"username": user.username, "password": PASSWORD, "csrf_token": token_of(form.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        return token_of(client.get("/notifications").text)

    return as_user
