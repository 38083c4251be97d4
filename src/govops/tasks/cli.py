"""`govops tasks ...`: import the Government Office's task lists, list what is overdue, export, run the watch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

tasks_app = typer.Typer(
    help="Directives and tasks: import the Government Office's lists, see what is overdue, export.",
    no_args_is_help=True,
)


@contextmanager
def _reading() -> Iterator[Session]:
    """A reading session on the configured store (imported late: govops.cli.main imports this module)."""
    from govops.commandline import engine_of
    from govops.db.engine import make_session_factory
    from govops.settings import get_settings

    with make_session_factory(engine_of(get_settings()))() as session:
        yield session


@tasks_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="the task list (.xlsx): one task a row under a header row")],
    dry_run: Annotated[bool, typer.Option(help="check every row, write nothing")] = False,
) -> None:
    """Import a task list: every row or, if any row is wrong, none (each problem named by row and cell)."""
    from govops.audit.service import record_cli
    from govops.commandline import friendly_errors, out, writing_session
    from govops.errors import GovopsError, lazy_gettext
    from govops.tasks import service, spreadsheet

    with friendly_errors():
        try:
            body = file.read_bytes()
        except OSError as exc:
            raise GovopsError.of(
                "unreadable_file",
                lazy_gettext("cannot read the file: %(reason)s"),
                lazy_gettext("check its path and that you may read it"),
                where=str(file),
                reason=exc.strerror,
            ) from None
        sheet = spreadsheet.read(body, where=file.name)
    with writing_session() as session:
        who = service.caller(session=session, agency_code="GO", name="cli")
        summary = service.import_sheet(session=session, sheet=sheet, who=who, where=file.name)
        if dry_run:
            session.rollback()
            out.print(f"{escape(file.name)}: all {summary.rows} rows are valid; nothing written (--dry-run)")
            return
        record_cli(session=session, action="tasks.import", target=file.name, detail={"tasks": summary.tasks})
    out.print(
        f"{escape(file.name)}: {summary.tasks} tasks imported"
        + (f", {summary.directives} directives entered" if summary.directives else "")
    )


@tasks_app.command("overdue")
def overdue_command(
    agency: Annotated[str | None, typer.Option(help="only this lead agency's (its code)")] = None,
    days: Annotated[int, typer.Option(min=0, help="only those overdue more than this many days")] = 0,
    today: Annotated[str | None, typer.Option(help="as of this day (YYYY-MM-DD); default today")] = None,
) -> None:
    """The open tasks past their deadline, longest overdue first."""
    from govops.commandline import friendly_errors, out
    from govops.tasks import service

    with friendly_errors(), _reading() as session:
        on = date.fromisoformat(today) if today else date.today()
        rows = [t for t in service.overdue(session=session, today=on, agency=agency) if t.days_overdue > days]
    table = Table("task", "lead", "directive", "due", "days", "health", "text", header_style="bold")
    for t in rows:
        due = t.due_on.isoformat() if t.due_on else ""
        table.add_row(str(t.id), t.lead, escape(t.directive), due, str(t.days_overdue), t.health, escape(t.text[:80]))
    out.print(table)
    out.print(f"{len(rows)} tasks overdue")


@tasks_app.command("export")
def export_command(
    file: Annotated[Path, typer.Argument(help="the .xlsx file to write")],
    agency: Annotated[str | None, typer.Option(help="only this lead agency's (its code)")] = None,
) -> None:
    """Write the tasks, with their computed status, as the Government Office's list (.xlsx)."""
    from govops.commandline import friendly_errors, out
    from govops.tasks import service

    with friendly_errors(), _reading() as session:
        body = service.export_sheet(session=session, where=service.TaskFilter(agency=agency))
    file.write_bytes(body)
    out.print(f"{escape(str(file))} written")


@tasks_app.command("watch")
def watch_command() -> None:
    """Run the watch once now (the worker runs it every hour): overdue tasks, reminders, linked indicators."""
    from govops.commandline import out, writing_session
    from govops.tasks import service

    with writing_session() as session:
        found = service.watch(session=session)
    out.print(
        f"{found.overdue} turned overdue, {found.reminded} reminded, {found.closed_by_indicator} closed by their data"
    )
