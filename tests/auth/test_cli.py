"""`govops user ...` on a store set up by a real `govops init` process."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from govops.auth.cli import user_app
from govops.auth.models import User
from govops.auth.service import authenticate, session_for_token, start_session
from govops.db.engine import make_engine
from govops.errors import GovopsError
from govops.notify.models import Notification
from govops.notify.service import inbox
from govops.settings import get_settings
from tests.cli.conftest import Govops

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("auth-cli")
    result = Govops(folder / "govops.db", folder)("init")
    assert result.code == 0, result.err
    return folder / "govops.db"


@pytest.fixture
def store(template_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    path = tmp_path / "govops.db"
    shutil.copy(template_store, path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOVOPS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def user(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(user_app, list(args), input=stdin)


def test_create_then_sign_in(store: Engine) -> None:
    result = user(
        "create", "nguyen.van.a", "--agency", "NSO", "--role", "analyst", "--full-name", "Nguyễn Văn A",
        "--email", "a@gso.gov.vn", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "user 'nguyen.van.a' created: NSO, analyst" in result.stdout
    with Session(store) as session:
        signed_in = authenticate(session=session, username="nguyen.van.a", password=PASSWORD)
        assert (signed_in.full_name, signed_in.email, signed_in.agency.code) == ("Nguyễn Văn A", "a@gso.gov.vn", "NSO")


def test_create_prompts_twice_for_a_hidden_password(store: Engine) -> None:
    result = user(
        "create", "tran.thi.b", "--agency", "PC-01", "--role", "data_officer", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with Session(store) as session:
        assert authenticate(session=session, username="tran.thi.b", password=PASSWORD).full_name == "tran.thi.b"


def test_create_refuses_bad_input_before_asking_for_a_password(store: Engine) -> None:
    result = user("create", "Bad Name", "--agency", "NOPE", "--role", "king")
    assert result.exit_code == 1
    assert "password" not in result.stdout
    for words in ("username", "agency", "role", "NSO, MOF or PC-01", "administrator, analyst, data_officer"):
        assert words in result.stderr
    with Session(store) as session:
        assert session.scalars(select(User)).all() == []


def test_create_refuses_a_short_password_and_a_duplicate(store: Engine) -> None:
    short = user("create", "le.van.c", "--agency", "MOF", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "too short" in short.stderr and "at least 10 characters" in short.stderr
    empty = user("create", "le.van.c", "--agency", "MOF", "--role", "viewer", "--password-stdin", stdin="")
    assert empty.exit_code == 1 and "no password on standard input" in empty.stderr
    created = user("create", "le.van.c", "--agency", "MOF", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert created.exit_code == 0, created.output
    again = user("create", "le.van.c", "--agency", "NSO", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_list_shows_every_user(store: Engine) -> None:
    for name, agency, role in [("b.officer", "PC-01", "data_officer"), ("a.viewer", "MOF", "viewer")]:
        created = user("create", name, "--agency", agency, "--role", role, "--password-stdin", stdin=PASSWORD)
        assert created.exit_code == 0, created.output
    with Session(store) as session, session.begin():
        authenticate(session=session, username="b.officer", password=PASSWORD)
    result = user("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    viewer = next(line for line in lines if "a.viewer" in line)
    officer = next(line for line in lines if "b.officer" in line)
    assert lines.index(viewer) < lines.index(officer)
    assert "MOF" in viewer and "viewer" in viewer and "yes" in viewer and "never" in viewer
    assert "PC-01" in officer and "data_officer" in officer and "never" not in officer
    assert "2 user(s)" in result.stdout
    only = user("list", "--agency", "MOF")
    assert "a.viewer" in only.stdout and "b.officer" not in only.stdout


def test_passwd_changes_the_password_and_ends_the_sessions(store: Engine) -> None:
    created = user("create", "pham.d", "--agency", "NSO", "--role", "analyst", "--password-stdin", stdin=PASSWORD)
    assert created.exit_code == 0, created.output
    with Session(store) as session, session.begin():
        token, _ = start_session(
            session=session, user=authenticate(session=session, username="pham.d", password=PASSWORD)
        )
    result = user("passwd", "pham.d", "--password-stdin", stdin="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert "sessions have ended" in result.stdout
    with Session(store) as session:
        assert session_for_token(session=session, token=token) is None
        with pytest.raises(GovopsError):
            authenticate(session=session, username="pham.d", password=PASSWORD)
        assert authenticate(session=session, username="pham.d", password="a brand new password")

    bad = user("passwd", "pham.d", "--password-stdin", stdin="pham.d\n")
    assert bad.exit_code == 1 and "too short" in bad.stderr
    missing = user("passwd", "nobody", "--password-stdin", stdin="a brand new password\n")
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.stderr


def test_passwd_tells_the_person_in_their_language(store: Engine) -> None:
    created = user(
        "create", "pham.d", "--agency", "NSO", "--role", "analyst", "--email", "d@gso.gov.vn",
        "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert user("passwd", "pham.d", "--password-stdin", stdin="a brand new password\n").exit_code == 0
    with Session(store) as session:
        person = session.scalars(select(User).where(User.username == "pham.d")).one()
        (told,) = inbox(session=session, user=person).items
        assert told.subject == "Mật khẩu của bạn đã được đổi"
        assert "do govops user passwd thực hiện" in told.body
        assert session.scalar(select(Notification.email_state)) == "pending"


def test_disable_and_enable(store: Engine) -> None:
    created = user("create", "vo.e", "--agency", "NSO", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert created.exit_code == 0, created.output
    assert user("disable", "vo.e").exit_code == 0
    with Session(store) as session:
        with pytest.raises(GovopsError) as exc:
            authenticate(session=session, username="vo.e", password=PASSWORD)
        assert exc.value.code == "account_disabled"
    assert "no" in next(line for line in user("list").stdout.splitlines() if "vo.e" in line)
    assert user("enable", "vo.e").exit_code == 0
    with Session(store) as session:
        assert authenticate(session=session, username="vo.e", password=PASSWORD)


def test_the_govops_command_has_the_user_commands(template_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "govops.db"
    shutil.copy(template_store, store)
    govops = Govops(store, tmp_path)
    if govops("user", "--help").code != 0:
        pytest.skip("`govops user` is not registered in govops.cli.main yet")
    created = govops(
        "user", "create", "ngo.f", "--agency", "MOF", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n"
    )
    assert created.code == 0, created.err
    assert "ngo.f" in govops("user", "list").out
