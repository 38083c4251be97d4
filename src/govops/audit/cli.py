"""`govops audit ...`: verify the audit trail's hash chain and list its entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from govops.errors import GovopsError

audit_app = typer.Typer(help="The audit trail: verify its hash chain, list entries.", no_args_is_help=True)


@contextmanager
def _reader() -> Iterator[Session]:
    """A reading session on the configured store (CLI helpers imported late: govops.cli.main imports this)."""
    from govops.cli.main import _engine
    from govops.db.engine import make_session_factory
    from govops.settings import get_settings

    with make_session_factory(_engine(get_settings()))() as session:
        yield session


@contextmanager
def _friendly() -> Iterator[None]:
    from govops.cli.main import _friendly_errors

    with _friendly_errors():
        yield


def parse_since(text: str) -> datetime:
    """2025-07-01 (midnight UTC) or an ISO 8601 time; without a zone, UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise GovopsError(
            f"{text!r} is not a date or time",
            code="invalid_time",
            hint="write it as 2025-07-01 or 2025-07-01T08:30:00+07:00 (UTC when no zone is given)",
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@audit_app.command("verify")
def verify_command() -> None:
    """Check the whole hash chain: exit status 0 when intact, 1 naming the first broken entry."""
    from govops.audit.service import verify
    from govops.cli.main import _progress, err, out

    with _friendly(), _reader() as session, _progress() as progress:
        task = progress.add_task("verifying the audit trail", total=None)
        result = verify(session=session, progress=lambda n: progress.advance(task, n))
    if not result.ok:
        err.print(f"audit trail broken at entry {result.broken_id}: {result.reason}", highlight=False)
        raise typer.Exit(1)
    out.print(f"audit trail intact: {result.checked} entries", highlight=False)


@audit_app.command("list")
def list_command(
    actor: Annotated[str | None, typer.Option("--actor", help="user name, member code or system")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="one action (auth.sign_in) or a family without a dot (auth)")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="indicator code, user name...")] = None,
    since: Annotated[str | None, typer.Option("--since", help="2025-07-01 or an ISO 8601 time (UTC)")] = None,
    limit: Annotated[int, typer.Option("--limit", help="at most this many entries, newest first")] = 50,
) -> None:
    """List entries, newest first."""
    from govops.audit.service import canonical_json, list_entries
    from govops.cli.main import out

    with _friendly(), _reader() as session:
        page = list_entries(
            session=session,
            actor=actor,
            action=action,
            target=target,
            since=parse_since(since) if since else None,
            limit=limit,
        )
        table = Table("id", "time (UTC)", "actor", "agency", "action", "target", "detail", "ip", header_style="bold")
        for e in page.items:
            table.add_row(
                str(e.id),
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.actor if e.actor_kind != "member" else f"{e.actor} (member)",
                e.agency or "",
                e.action,
                e.target,
                canonical_json(e.detail) if e.detail else "",
                e.ip or "",
            )
        out.print(table)
        more = " (more: narrow the filters or raise --limit)" if page.next_cursor else ""
        out.print(f"{len(page.items)} entries{more}", highlight=False)
