from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops.auth.models import SignInFailure, User
from govops.auth.service import (
    ROLES,
    SESSION_IDLE,
    SESSION_LIFETIME,
    THROTTLE_WINDOW,
    Throttled,
    authenticate,
    create_user,
    end_all_sessions,
    end_session,
    hash_token,
    list_users,
    purge,
    readable_classifications,
    session_for_token,
    set_active,
    set_password,
    start_session,
)
from govops.db.base import utcnow
from govops.errors import GovopsError

PASSWORD = "correct horse battery"


def make_user(session: Session, username: str = "nguyen.van.a", **kw: str) -> User:
    fields = {"password": PASSWORD, "full_name": "Nguyễn Văn A", "agency": "NSO", "role": "analyst"} | kw
    return create_user(session=session, username=username, **fields)


def failure_of(exc: pytest.ExceptionInfo[GovopsError]) -> tuple[str, int, str]:
    return exc.value.code, exc.value.status, exc.value.message


def test_created_user_signs_in_with_the_password(session: Session) -> None:
    user = make_user(session, email="a@gso.gov.vn", language="en")
    assert user.agency.code == "NSO" and user.role == "analyst" and user.active and user.language == "en"
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2id$")
    assert user.last_sign_in_at is None

    signed_in = authenticate(session=session, username="Nguyen.Van.A ", password=PASSWORD, ip="10.0.0.1")
    assert signed_in.id == user.id
    assert signed_in.last_sign_in_at is not None


def test_new_users_speak_vietnamese_by_default(session: Session) -> None:
    assert make_user(session).language == "vi"


def test_wrong_password_and_unknown_user_get_the_same_answer(session: Session) -> None:
    make_user(session)
    with pytest.raises(GovopsError) as wrong:
        authenticate(session=session, username="nguyen.van.a", password="not the password", ip="10.0.0.1")
    with pytest.raises(GovopsError) as unknown:
        authenticate(session=session, username="nobody.here", password="not the password", ip="10.0.0.1")
    assert failure_of(wrong) == failure_of(unknown) == ("bad_credentials", 401, "wrong user name or password")
    assert wrong.value.hint == unknown.value.hint


def test_a_disabled_user_cannot_sign_in_and_loses_the_sessions(session: Session) -> None:
    user = make_user(session)
    token, _ = start_session(session=session, user=user)
    set_active(session=session, username=user.username, active=False)
    assert session_for_token(session=session, token=token) is None
    with pytest.raises(GovopsError) as disabled:
        authenticate(session=session, username=user.username, password=PASSWORD)
    assert disabled.value.code == "account_disabled"
    set_active(session=session, username=user.username, active=True)
    assert authenticate(session=session, username=user.username, password=PASSWORD).id == user.id


def test_five_failures_pause_sign_in_for_that_user_name_even_with_the_right_password(session: Session) -> None:
    make_user(session)
    now = utcnow()
    for minute in range(5):
        with pytest.raises(GovopsError) as exc:
            authenticate(
                session=session,
                username="nguyen.van.a",
                password="guess",
                ip="10.0.0.1",
                now=now + timedelta(minutes=minute),
            )
        assert exc.value.code == "bad_credentials"
    later = now + timedelta(minutes=5)
    with pytest.raises(Throttled) as throttled:
        authenticate(session=session, username="nguyen.van.a", password=PASSWORD, ip="10.0.0.2", now=later)
    assert throttled.value.code == "throttled" and throttled.value.status == 429
    assert throttled.value.retry_at == now + THROTTLE_WINDOW
    assert throttled.value.hint is not None and "10 minute(s)" in throttled.value.hint
    # Refused attempts are not counted: the pause does not grow while someone keeps trying.
    assert session.scalar(select(func.count()).select_from(SignInFailure)) == 5

    # Another user name is not affected.
    make_user(session, "tran.thi.b")
    assert authenticate(session=session, username="tran.thi.b", password=PASSWORD, ip="10.0.0.2", now=later)

    # When the first failure leaves the 15-minute window, four remain: one more attempt is allowed.
    lifted = now + THROTTLE_WINDOW + timedelta(seconds=1)
    assert authenticate(session=session, username="nguyen.van.a", password=PASSWORD, ip="10.0.0.2", now=lifted)
    # ...and signing in clears the failures of that user name.
    assert session.scalar(select(func.count()).select_from(SignInFailure)) == 0


def test_twenty_failures_from_one_address_pause_every_user_name_from_it(session: Session) -> None:
    make_user(session)
    start = utcnow() - timedelta(minutes=10)
    session.add_all(SignInFailure(username=f"guess{i}", ip="203.0.113.9", at=start) for i in range(20))
    session.flush()
    with pytest.raises(Throttled) as exc:
        authenticate(session=session, username="nguyen.van.a", password=PASSWORD, ip="203.0.113.9")
    assert exc.value.retry_at == start + THROTTLE_WINDOW
    assert authenticate(session=session, username="nguyen.van.a", password=PASSWORD, ip="198.51.100.1")


def test_old_failures_do_not_count(session: Session) -> None:
    make_user(session)
    long_ago = utcnow() - THROTTLE_WINDOW - timedelta(minutes=1)
    session.add_all(SignInFailure(username="nguyen.van.a", ip="10.0.0.1", at=long_ago) for _ in range(10))
    session.flush()
    assert authenticate(session=session, username="nguyen.van.a", password=PASSWORD, ip="10.0.0.1")


def test_an_outdated_hash_is_replaced_at_sign_in(session: Session) -> None:
    from pwdlib.hashers.argon2 import Argon2Hasher

    user = make_user(session)
    weak = Argon2Hasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    user.password_hash = weak
    session.flush()
    authenticate(session=session, username=user.username, password=PASSWORD)
    assert user.password_hash != weak and user.password_hash.startswith("$argon2id$")
    assert authenticate(session=session, username=user.username, password=PASSWORD)


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"password": "short"}, {"password"}),
        ({"username": "abcdefghijk", "password": "ABCDEFGHIJK"}, {"password"}),
        ({"username": "x"}, {"username"}),
        ({"username": "bad name!"}, {"username"}),
        (
            {"agency": "NOPE", "role": "king", "email": "not-mail", "language": "fr"},
            {"agency", "role", "email", "language"},
        ),
        ({"full_name": "  "}, {"full_name"}),
    ],
)
def test_invalid_users_are_refused_naming_each_field(
    session: Session, fields: dict[str, str], problems: set[str]
) -> None:
    username = fields.pop("username", "nguyen.van.a")
    with pytest.raises(GovopsError) as exc:
        make_user(session, username, **fields)
    assert exc.value.code == "invalid_user" and exc.value.status == 422
    assert {p.field for p in exc.value.problems} == problems
    assert all(p.hint for p in exc.value.problems)
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_a_duplicate_user_name_is_refused(session: Session) -> None:
    make_user(session)
    with pytest.raises(GovopsError) as exc:
        make_user(session, "NGUYEN.VAN.A", agency="MOF")
    assert exc.value.code == "duplicate_username" and exc.value.status == 409
    assert "already exists" in exc.value.message


def test_a_new_password_ends_every_session_and_the_old_password(session: Session) -> None:
    user = make_user(session)
    first, _ = start_session(session=session, user=user)
    second, _ = start_session(session=session, user=user)
    set_password(session=session, username=user.username, password="another long password")
    assert session_for_token(session=session, token=first) is None
    assert session_for_token(session=session, token=second) is None
    with pytest.raises(GovopsError):
        authenticate(session=session, username=user.username, password=PASSWORD)
    assert authenticate(session=session, username=user.username, password="another long password")


def test_a_new_password_must_follow_the_policy(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(GovopsError) as exc:
        set_password(session=session, username=user.username, password="too short")
    assert exc.value.code == "invalid_password" and [p.field for p in exc.value.problems] == ["password"]
    with pytest.raises(GovopsError) as missing:
        set_password(session=session, username="nobody", password="long enough password")
    assert missing.value.code == "not_found"


def test_a_session_token_is_stored_only_as_its_hash(session: Session) -> None:
    user = make_user(session)
    token, user_session = start_session(session=session, user=user, ip="10.0.0.1", user_agent="x" * 500)
    assert user_session.token_hash == hash_token(token) != token and len(token) >= 43
    assert user_session.csrf_token and user_session.csrf_token != token
    assert user_session.user_agent == "x" * 200
    found = session_for_token(session=session, token=token)
    assert found is not None and found.user.username == "nguyen.van.a"
    assert session_for_token(session=session, token="made-up-token") is None
    assert session_for_token(session=session, token="") is None


def test_a_session_ends_after_two_idle_hours(session: Session) -> None:
    user = make_user(session)
    now = utcnow()
    token, user_session = start_session(session=session, user=user, now=now)
    # Seen again after 30 seconds: not written; after 90 minutes: written, which keeps it alive.
    assert session_for_token(session=session, token=token, now=now + timedelta(seconds=30)) is not None
    assert user_session.last_seen_at == now
    assert session_for_token(session=session, token=token, now=now + timedelta(minutes=90)) is not None
    assert user_session.last_seen_at == now + timedelta(minutes=90)
    assert session_for_token(session=session, token=token, now=now + timedelta(minutes=200)) is not None
    idle = now + timedelta(minutes=200) + SESSION_IDLE
    assert session_for_token(session=session, token=token, now=idle) is None


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(session: Session) -> None:
    user = make_user(session)
    now = utcnow()
    token, _ = start_session(session=session, user=user, now=now)
    moment = now
    while moment + timedelta(hours=1) < now + SESSION_LIFETIME:
        moment += timedelta(hours=1)
        assert session_for_token(session=session, token=token, now=moment) is not None
    assert session_for_token(session=session, token=token, now=now + SESSION_LIFETIME) is None


def test_signing_out_ends_only_that_session(session: Session) -> None:
    user = make_user(session)
    token, user_session = start_session(session=session, user=user)
    other, _ = start_session(session=session, user=user)
    end_session(session=session, user_session=user_session)
    assert session_for_token(session=session, token=token) is None
    assert session_for_token(session=session, token=other) is not None
    _, kept = start_session(session=session, user=user)
    assert end_all_sessions(session=session, user=user, keep=kept) == 1
    assert session_for_token(session=session, token=other) is None


def test_purge_removes_dead_sessions_and_old_failures(session: Session) -> None:
    user = make_user(session)
    now = utcnow()
    start_session(session=session, user=user, now=now - SESSION_LIFETIME - timedelta(minutes=1))
    live, _ = start_session(session=session, user=user, now=now)
    session.add(SignInFailure(username="x", ip=None, at=now - THROTTLE_WINDOW - timedelta(seconds=1)))
    session.add(SignInFailure(username="y", ip=None, at=now))
    session.flush()
    assert purge(session=session, now=now) == {"sessions": 1, "failures": 1}
    assert session_for_token(session=session, token=live, now=now) is not None


def test_roles_decide_the_classifications_a_user_reads() -> None:
    assert readable_classifications("viewer") == ("public",)
    assert readable_classifications("data_officer") == ("public", "internal")
    assert readable_classifications("analyst") == ("public", "internal", "confidential")
    assert readable_classifications("administrator") == ("public", "internal", "confidential")
    assert set(ROLES) == {"administrator", "analyst", "data_officer", "viewer"}
    with pytest.raises(GovopsError):
        readable_classifications("guest")


def test_users_are_listed_by_name_with_agency_and_role(session: Session) -> None:
    make_user(session, "b.officer", agency="PC-01", role="data_officer")
    make_user(session, "a.viewer", agency="MOF", role="viewer")
    listed = list_users(session=session)
    assert [(u.username, u.agency, u.role.value) for u in listed] == [
        ("a.viewer", "MOF", "viewer"),
        ("b.officer", "PC-01", "data_officer"),
    ]
    assert [u.username for u in list_users(session=session, agency="pc-01")] == ["b.officer"]
    assert [u.username for u in list_users(session=session, role="viewer")] == ["a.viewer"]
    assert "password_hash" not in listed[0].model_dump()


def test_the_store_itself_refuses_an_unknown_role(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(IntegrityError), session.begin_nested():
        user.role = "superuser"
        session.flush()
