"""`govops user ...`: create console users, change their passwords, list, disable and enable them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from govops.errors import GovopsError

user_app = typer.Typer(help="Console users: create, change passwords, list.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="read the password from the first line of standard input instead of prompting"
    ),
]


@contextmanager
def _store() -> Iterator[Session]:
    """A writing session on the configured store, committed when the block ends (CLI helpers imported late:
    govops.cli.main imports this module)."""
    from govops.commandline import engine_of
    from govops.db.engine import transaction
    from govops.settings import get_settings

    with transaction(engine_of(get_settings())) as session:
        yield session


@contextmanager
def _friendly() -> Iterator[None]:
    """Errors as the rest of the CLI prints them: what, where, how to fix; exit status 1."""
    from govops.commandline import friendly_errors

    with friendly_errors():
        yield


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise GovopsError(
                "no password on standard input",
                code="no_password",
                hint="send it as the first line, e.g. printf '%s\\n' \"$PASSWORD\" | govops user ... --password-stdin",
            )
        return line
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="3-64 characters: a-z, 0-9, '.', '_', '-'")],
    agency: Annotated[str, typer.Option("--agency", help="agency code, e.g. NSO, MOF, PC-01")],
    role: Annotated[str, typer.Option("--role", help="administrator, analyst, data_officer or viewer")],
    full_name: Annotated[str | None, typer.Option("--full-name", help="default: the user name")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    language: Annotated[str, typer.Option("--language", help="vi or en")] = "vi",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user of an agency with a role; the password is asked twice (hidden) or read from stdin."""
    from govops.audit.service import record_cli
    from govops.auth.service import check_new_user, create_user
    from govops.commandline import out

    with _friendly():
        name = full_name if full_name is not None else username
        if not password_stdin:
            # Complain about the rest before asking for a password twice.
            with _store() as session:
                check_new_user(
                    session=session,
                    username=username,
                    full_name=name,
                    agency=agency,
                    role=role,
                    email=email,
                    language=language,
                )
        password = _read_password(password_stdin)
        with _store() as session:
            user = create_user(
                session=session,
                username=username,
                password=password,
                full_name=name,
                agency=agency,
                role=role,
                email=email,
                language=language,
            )
            record_cli(
                session=session,
                action="user.create",
                target=user.username,
                detail={"agency": user.agency.code, "role": user.role},
            )
            summary = f"user {user.username!r} created: {user.agency.code}, {user.role}"
        out.print(summary, highlight=False)


@user_app.command("passwd")
def passwd(username: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; every session of the user ends."""
    from govops.audit.service import record_cli
    from govops.auth.service import get_user, set_password
    from govops.commandline import out
    from govops.db.base import utcnow
    from govops.notify.kinds import PASSWORD_CHANGED
    from govops.notify.service import notify

    with _friendly():
        with _store() as session:
            get_user(session=session, username=username)
        password = _read_password(password_stdin)
        with _store() as session:
            user = set_password(session=session, username=username, password=password)
            name = user.username
            record_cli(session=session, action="user.password", target=name)
            notify(
                session=session,
                recipients=[user.id],
                kind=PASSWORD_CHANGED.name,
                params={"username": name, "at": f"{utcnow():%Y-%m-%d %H:%M} UTC", "by": "govops user passwd"},
            )
        out.print(f"password of {name!r} changed; the user's sessions have ended", highlight=False)


@user_app.command("list")
def list_(
    agency: Annotated[str | None, typer.Option("--agency", help="only users of this agency")] = None,
    role: Annotated[str | None, typer.Option("--role", help="only users with this role")] = None,
) -> None:
    """List the users: user name, full name, agency, role, whether active, last sign-in."""
    from govops.auth.service import list_users
    from govops.commandline import out

    with _friendly():
        with _store() as session:
            users = list_users(session=session, agency=agency, role=role)
        table = Table("username", "full name", "agency", "role", "active", "last sign-in (UTC)", header_style="bold")
        for u in users:
            table.add_row(
                u.username,
                u.full_name,
                u.agency,
                u.role.value,
                "yes" if u.active else "no",
                f"{u.last_sign_in_at:%Y-%m-%d %H:%M}" if u.last_sign_in_at else "never",
            )
        out.print(table)
        out.print(f"{len(users)} user(s)", highlight=False)


@user_app.command("disable")
def disable(username: str) -> None:
    """Disable a user: sign-in is refused and every session ends."""
    _set_active(username, active=False)


@user_app.command("enable")
def enable(username: str) -> None:
    """Enable a disabled user again."""
    _set_active(username, active=True)


def _set_active(username: str, *, active: bool) -> None:
    from govops.audit.service import record_cli
    from govops.auth.service import get_user, set_active
    from govops.commandline import out

    with _friendly(), _store() as session:
        before = get_user(session=session, username=username).active
        user = set_active(session=session, username=username, active=active)
        name = user.username
        if before != active:
            changes = {"active": [before, active]}
            record_cli(session=session, action="user.update", target=name, detail={"changes": changes})
    out.print(f"user {name!r} {'enabled' if active else 'disabled'}", highlight=False)
