"""`govops reporting ...`: regimes in and out as YAML, and the compliance of a regime's period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from govops.audit.service import record_cli
from govops.commandline import out, writing_session

reporting_app = typer.Typer(help="Reporting regimes and the compliance of every agency.", no_args_is_help=True)
regimes_app = typer.Typer(help="Reporting regimes as YAML files.", no_args_is_help=True)
reporting_app.add_typer(regimes_app, name="regimes")


@regimes_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="a regime file (see `govops reporting regimes export`)")],
) -> None:
    """Add the regimes and versions of a YAML file; nothing is stored if any line is wrong."""
    from govops.reporting import service

    with writing_session() as session:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            from govops.errors import GovopsError, lazy_gettext

            raise GovopsError.of(
                "unreadable_file",
                lazy_gettext("The file cannot be read as UTF-8 text: %(reason)s."),
                lazy_gettext("Check the file's name, and save it as UTF-8."),
                where=str(file),
                reason=str(getattr(exc, "strerror", None) or exc)[:200],
            ) from None
        summary = service.import_regimes(session=session, text=text, where=str(file))
        made = service.ensure_expected(session=session)
        record_cli(
            session=session,
            action="reporting.regimes.import",
            target=str(file.name),
            detail={"regimes": summary.regimes_created, "versions": summary.versions_added},
        )
    out.print(
        f"{len(summary.regimes_created)} regime(s) created, {len(summary.versions_added)} version(s) added, "
        f"{summary.unchanged} unchanged; {len(made)} expected report(s) made"
    )


@regimes_app.command("export")
def export(
    file: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file instead of the screen")
    ] = None,
) -> None:
    """Every regime with all its versions, as YAML that `import` reads back unchanged."""
    from govops.reporting import service

    with writing_session() as session:
        text = service.export_regimes(session=session)
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        out.print(f"regimes written to {file}")


@reporting_app.command("status")
def status(
    regime: Annotated[str, typer.Option(help="regime code")],
    period: Annotated[str | None, typer.Option(help="e.g. 2025-07; default the latest period due")] = None,
) -> None:
    """Each agency's report of a regime for a period: status, arrival, days late, values present."""
    from govops.reporting import service

    with writing_session() as session:
        found = service.get_regime(session=session, code=regime)
        shown = period or service.latest_due_period(session=session, regime=found)
        if shown is None:
            out.print(f"{regime}: no period is due yet")
            return
        where = service.Filter(regime=regime, period=shown)
        rows = []
        cursor = 0
        while True:
            page = service.compliance(session=session, where=where, after_id=cursor, limit=1000)
            rows += page.items
            if page.next_cursor is None:
                break
            cursor = rows[-1].id
        rates = service.rates(session=session, where=where)
    rows.sort(key=lambda r: (service.SEVERITY[r.status], r.agency))
    table = Table("agency", "status", "received", "days late", "values", "missing", title=f"{regime} {shown}")
    for r in rows:
        table.add_row(
            r.agency,
            f"{service.SYMBOL[r.status]} {r.status}",
            f"{r.received_at:%Y-%m-%d %H:%M}" if r.received_at else "-",
            str(r.days_late or ""),
            f"{r.values_present}/{r.values_required}",
            ", ".join(r.missing[:4]) + (" ..." if len(r.missing) > 4 else ""),
        )
    out.print(table)
    expected = sum(r.EXPECTED_REPORTS for r in rates)
    actual = sum(r.ACTUAL_REPORTS for r in rates)
    on_time = sum(r.ACTUAL_REPORTS_ON_TIME for r in rates)
    if expected:
        out.print(
            f"EXPECTED_REPORTS {expected}  ACTUAL_REPORTS {actual}  ACTUAL_REPORTS_ON_TIME {on_time}  "
            f"REPORTING_RATE {100 * actual / expected:.1f}  REPORTING_RATE_ON_TIME {100 * on_time / expected:.1f}"
        )
