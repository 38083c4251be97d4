"""`govops quality ...`: the validation rules as YAML, the store's scan, the flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

quality_app = typer.Typer(
    help="Data quality: validation rules (YAML), the store's scan, the flags.", no_args_is_help=True
)
rules_app = typer.Typer(help="Validation rules: import and export as YAML.", no_args_is_help=True)
quality_app.add_typer(rules_app, name="rules")


@rules_app.command("import")
def import_rules(file: Annotated[Path, typer.Argument(help="the rules (.yaml), a list under `rules:`")]) -> None:
    """Create or update rules by code: all of them, or none if one is wrong (named by rule and field)."""
    from govops.audit.service import record_cli
    from govops.commandline import friendly_errors, out, writing_session
    from govops.errors import GovopsError
    from govops.quality import service

    with friendly_errors():
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GovopsError(f"cannot read {file}: {exc}", code="unreadable", where=str(file)) from None
        with writing_session() as session:
            saved = service.import_rules(session=session, text=text, where=file.name, by="cli")
            record_cli(session=session, action="quality.rules.saved", target=file.name, detail={"rules": len(saved)})
    out.print(f"{escape(file.name)}: {len(saved)} rules saved")


@rules_app.command("export")
def export_rules(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write here (default: print)")] = None,
) -> None:
    """Every rule as YAML, as `govops quality rules import` reads it."""
    from govops.commandline import friendly_errors, out, writing_session
    from govops.quality import service

    with friendly_errors(), writing_session() as session:
        text = service.export_rules(session=session)
    if output is None:
        out.print(text, markup=False, highlight=False, end="")
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"{escape(str(output))} written")


@quality_app.command("scan")
def scan(
    since: Annotated[
        str | None, typer.Option(help="judge values from this month on (YYYY-MM); default 24 months")
    ] = None,
) -> None:
    """Judge the whole store now (the worker does it nightly and after each reporting deadline)."""
    from govops.commandline import friendly_errors, out, writing_session
    from govops.periods import Freq, Period
    from govops.quality import service

    with friendly_errors(), writing_session() as session:
        start = Period.parse(since, expected=Freq.M).start if since else None
        result = service.scan(session=session, since=start)
    out.print(
        f"{result.observations} observations in {result.series} series judged: "
        f"{result.found} findings, {result.raised} new flags"
    )


@quality_app.command("flags")
def flags(
    agency: Annotated[str | None, typer.Option(help="the source agency's code")] = None,
    status: Annotated[str | None, typer.Option(help="open, confirmed, corrected, dismissed")] = "open",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """The flags, newest first."""
    from govops.commandline import friendly_errors, out, writing_session
    from govops.quality import service

    with friendly_errors(), writing_session() as session:
        page = service.list_flags(
            session=session, where=service.FlagFilter(agency=agency, status=status or None), limit=limit
        )
    table = Table("flag", "indicator", "area", "period", "value", "check", "severity", "agency", "status")
    for f in page.items:
        table.add_row(str(f.id), f.indicator, f.area, f.period, f"{f.value:g}", f.rule or f.method, f.severity,
                      f.agency or "", f.status)  # fmt: skip
    out.print(table)
