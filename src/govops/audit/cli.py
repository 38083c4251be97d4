"""`govops audit ...`: verify the audit trail's hash chain and its checkpoints, write a checkpoint, list entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from govops.errors import GovopsError

audit_app = typer.Typer(
    help="The audit trail: verify its hash chain and checkpoints, write a checkpoint, list entries.",
    no_args_is_help=True,
)


@contextmanager
def _reader() -> Iterator[Session]:
    """A reading session on the configured store (CLI helpers imported late: govops.cli.main imports this)."""
    from govops.commandline import engine_of
    from govops.db.engine import make_session_factory
    from govops.settings import get_settings

    with make_session_factory(engine_of(get_settings()))() as session:
        yield session


@contextmanager
def _friendly() -> Iterator[None]:
    from govops.commandline import friendly_errors

    with friendly_errors():
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
def verify_command(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="checkpoint file to check against (default GOVOPS_AUDIT_CHECKPOINT_FILE)"),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="the server's public key (base64), e.g. a copy kept off this host"),
    ] = None,
) -> None:
    """Check the hash chain and every checkpoint: exit status 0 when intact, 1 naming each problem."""
    from govops.audit.checkpoints import existing_public_key, verify_trail
    from govops.commandline import err, out, progress_bar
    from govops.settings import get_settings

    settings = get_settings()
    checkpoint_file = file or settings.audit_checkpoint_file
    with _friendly(), _reader() as session, progress_bar() as progress:
        task = progress.add_task("verifying the audit trail", total=None)
        result = verify_trail(
            session=session,
            file=checkpoint_file,
            public_key=public_key or existing_public_key(settings.signing_key_file),
            progress=lambda n: progress.advance(task, n),
        )
    if result.broken_id is not None:
        err.print(f"audit trail broken at entry {result.broken_id}: {result.reason}", highlight=False)
    else:
        out.print(f"audit trail intact: {result.checked} entries", highlight=False)
    for problem in result.checkpoint_problems:
        where = [
            f"line {problem.line}" if problem.line else "",
            f"entry {problem.entry_id}" if problem.entry_id else "",
        ]
        if problem.checkpoint_at:
            where.append(f"checkpoint of {problem.checkpoint_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")
        err.print(
            f"checkpoint problem ({checkpoint_file}, {', '.join(w for w in where if w)}): {problem.reason}",
            highlight=False,
            soft_wrap=True,
        )
    last = result.last_checkpoint
    if last is not None:
        out.print(
            f"checkpoints: {result.checkpoints} signed, the last of {last.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC "
            f"at entry {last.last_id} ({last.entries} entries)",
            highlight=False,
        )
    elif not result.checkpoint_problems:
        out.print("no checkpoints yet: write one with `govops audit checkpoint`", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the trail's head and append it to the checkpoint file (and post it to the receiver)."""
    from govops.audit.checkpoints import write_checkpoint
    from govops.commandline import engine_of, err, out
    from govops.settings import get_settings

    settings = get_settings()
    with _friendly():
        written = write_checkpoint(engine=engine_of(settings), settings=settings)
    done = written.checkpoint
    out.print(
        f"checkpoint written: entry {done.last_id} ({done.entries} entries), "
        f"{done.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, to {written.file}",
        highlight=False,
        soft_wrap=True,
    )
    if settings.audit_checkpoint_url:
        if written.send_error:
            err.print(
                f"error: the receiver {settings.audit_checkpoint_url} did not take the checkpoint "
                f"({written.send_error}); it is in the file only",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1)
        out.print(f"sent to {settings.audit_checkpoint_url}", highlight=False, soft_wrap=True)


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
    from govops.commandline import out

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
