"""`govops targets ...`: enter the targets of a plan from a YAML or Excel file, print a year's board."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

targets_app = typer.Typer(help="Targets of resolutions and plans: import them, print the board.", no_args_is_help=True)


@targets_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="YAML (plans: and targets:) or Excel (sheets plans and targets)")],
) -> None:
    """Enter the plans and targets of a file (a target of the same code is replaced); all or none."""
    from govops.commandline import friendly_errors, out, writing_session
    from govops.targets import files

    with friendly_errors(), writing_session() as session:
        plans, saved = files.import_file(session=session, path=file)
    out.print(f"{plans} plans and {len(saved)} targets entered from {file.name}")


@targets_app.command("board")
def board_command(
    year: Annotated[int, typer.Option(help="the year of the targets")],
    area: Annotated[str, typer.Option(help="VN, or a province's code")] = "VN",
) -> None:
    """Every target of the year: its figure so far, the probability of meeting it and its rating, worst first."""
    from govops.commandline import engine_of, friendly_errors, out
    from govops.db.engine import make_session_factory
    from govops.settings import get_settings
    from govops.targets import service

    with friendly_errors(), make_session_factory(engine_of(get_settings()))() as session:
        rows = service.board(session=session, year=year, area=area)
    table = Table("target", "goal", "so far", "as of", "expected", "probability", "rating", title=f"{area} {year}")
    for r in rows:
        goal = f"{r.comparator} {r.value:g}" if r.value is not None else "-"
        table.add_row(
            r.code + (" (demo)" if r.demo else ""),
            goal + (f"-{r.value_high:g}" if r.value_high is not None else "") + f" {r.unit}",
            "-" if r.actual is None else f"{r.actual:,.2f}",
            r.as_of or "-",
            "-" if r.projected is None else f"{r.projected:,.2f}",
            "-" if r.probability is None else f"{100 * r.probability:.0f}%",
            r.rating,
        )
    out.print(table)
