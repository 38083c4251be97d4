"""Sign-in throttling under parallel guesses against the real store, and the purge of expired sign-in records."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.auth.models import SignInFailure, User, UserSession
from govops.auth.service import (
    SESSION_IDLE,
    SESSION_LIFETIME,
    THROTTLE_PER_USERNAME,
    THROTTLE_WINDOW,
    create_user,
    start_session,
)
from govops.db.base import utcnow
from govops.db.engine import transaction
from govops.settings import Settings

PASSWORD = "correct horse battery"
GUESSES = 40


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def committed_user(engine: Engine) -> Iterator[str]:
    """A user committed to the store (parallel requests each use their own connection), removed afterwards."""
    username = f"race.{uuid.uuid4().hex[:10]}"
    with transaction(engine) as session:
        create_user(session=session, username=username, password=PASSWORD, full_name="Race", agency="GO", role="viewer")
    yield username
    with transaction(engine) as session:
        session.execute(delete(SignInFailure).where(SignInFailure.username == username))
        session.execute(delete(User).where(User.username == username))


def test_parallel_guesses_get_at_most_the_limit_of_password_checks(
    engine: Engine, committed_user: str, signing_key_file: Path
) -> None:
    app = create_app(
        Settings(database_url=str(engine.url), signing_key_file=signing_key_file, page_warmer=False, worker=False),
        engine=engine,
    )
    with TestClient(app, client=("192.0.2.77", 40000)) as web:
        token = csrf_of(web.get("/signin").text)

        def guess(n: int) -> int:
            form = {"username": committed_user, "password": f"wrong guess {n}", "csrf_token": token}
            return web.post("/signin", data=form, follow_redirects=False).status_code

        with ThreadPoolExecutor(max_workers=GUESSES) as pool:
            codes = Counter(pool.map(guess, range(GUESSES)))
        # 401: the password was checked (and was wrong); 429: refused before any check.
        assert codes == Counter({401: THROTTLE_PER_USERNAME, 429: GUESSES - THROTTLE_PER_USERNAME})
        # The right password is refused too while the pause lasts.
        right = {"username": committed_user, "password": PASSWORD, "csrf_token": token}
        assert web.post("/signin", data=right, follow_redirects=False).status_code == 429
    with transaction(engine) as session:
        failures = session.scalar(
            select(func.count()).select_from(SignInFailure).where(SignInFailure.username == committed_user)
        )
    assert failures == THROTTLE_PER_USERNAME


def test_signing_in_deletes_expired_sessions_and_stale_failures(client: TestClient, session: Session) -> None:
    now = utcnow()
    user = create_user(
        session=session, username="purge.me", password=PASSWORD, full_name="Purge", agency="GO", role="viewer"
    )
    start_session(session=session, user=user, now=now - SESSION_LIFETIME - timedelta(minutes=1))  # expired
    start_session(session=session, user=user, now=now - SESSION_IDLE - timedelta(minutes=1))  # idle too long
    live_token, _ = start_session(session=session, user=user, now=now - timedelta(minutes=5))
    session.add(SignInFailure(username="old.guess", ip="198.51.100.1", at=now - THROTTLE_WINDOW - timedelta(minutes=1)))
    session.add(SignInFailure(username="new.guess", ip="198.51.100.1", at=now - timedelta(minutes=1)))
    session.flush()
    assert session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) == 3

    form = client.get("/signin")
    signed = client.post(
        "/signin",
        data={"username": "purge.me", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    session.expire_all()
    kept = session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    # The one still alive and the new one stay; the expired and the idle ones are gone.
    assert len(kept) == 2 and all(s.expires_at > now for s in kept)
    guesses = set(session.scalars(select(SignInFailure.username).where(SignInFailure.ip == "198.51.100.1")))
    assert guesses == {"new.guess"}
    assert live_token
