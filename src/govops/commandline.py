"""What every `govops` subcommand shares: its two consoles, errors printed with what, where and how to fix,
a progress bar, and a session on the configured store.

The root command (`govops.cli`) and each domain's `cli.py` import these; a domain never reaches into the root
command, which stands above every domain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govops.errors import GovopsError
from govops.settings import Settings, get_settings

out = Console()
err = Console(stderr=True)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """A GovopsError raised in the block is printed (with its problems) and ends the command with status 1."""
    try:
        yield
    except GovopsError as exc:
        shown = exc.as_dict()  # text safe to print, whatever the input held
        where = shown.get("where")
        err.print(f"[bold red]error:[/] {where + ': ' if where else ''}{shown['message']}", highlight=False)
        if exc.hint:
            err.print(f"  [yellow]how to fix:[/] {shown['hint']}", highlight=False)
        if exc.problems:
            print_problems(exc)
        raise typer.Exit(1) from None


def print_problems(exc: GovopsError, shown: int = 50) -> None:
    table = Table("row", "field", "code", "problem", "how to fix", show_lines=False, header_style="bold")
    for p in exc.problems[:shown]:
        safe = p.as_dict()
        table.add_row(str(p.row or ""), safe.get("field", ""), p.code, safe["message"], safe.get("hint", ""))
    err.print(table)
    if len(exc.problems) > shown:
        err.print(f"... and {len(exc.problems) - shown} more problem(s)")


def engine_of(settings: Settings) -> Engine:
    from govops.db.engine import make_engine

    return make_engine(settings.database_url)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


@contextmanager
def writing_session() -> Iterator[Session]:
    """A writing session on the configured store, committed when the block ends; errors printed as above."""
    from govops.db.engine import transaction

    with friendly_errors(), transaction(engine_of(get_settings())) as session:
        yield session
