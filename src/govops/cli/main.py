"""`govops`: set up a store, load data, serve the API, manage the catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine, func, select

from govops.assembly import every_job
from govops.audit.cli import audit_app
from govops.auth.cli import user_app
from govops.commandline import engine_of, err, friendly_errors, out, progress_bar
from govops.errors import GovopsError, Problem, Rejected
from govops.exchange.cli import exchange_app
from govops.forecast.cli import forecast_app
from govops.interop.cli import dhis2_app, mapping_app, template_app
from govops.jobs.cli import make_jobs_app
from govops.logging import configure_logging
from govops.quality.cli import quality_app
from govops.reporting.cli import reporting_app
from govops.settings import BadSettings, Settings, get_settings
from govops.targets.cli import targets_app
from govops.tasks.cli import tasks_app

if TYPE_CHECKING:
    from govops.catalog.service import CataloguePlan

app = typer.Typer(
    help="govops: the Government's indicator warehouse.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
catalog_app = typer.Typer(help="The indicator catalogue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(catalog_app, name="catalog")
app.add_typer(exchange_app, name="exchange")
app.add_typer(audit_app, name="audit")
app.add_typer(mapping_app, name="mapping")
app.add_typer(template_app, name="template")
app.add_typer(dhis2_app, name="dhis2")
app.add_typer(make_jobs_app(every_job), name="jobs")
app.add_typer(reporting_app, name="reporting")
app.add_typer(tasks_app, name="tasks")
app.add_typer(quality_app, name="quality")
app.add_typer(forecast_app, name="forecast")
app.add_typer(targets_app, name="targets")


def _init(engine: Engine) -> dict[str, int]:
    from govops.catalog.service import load_reference
    from govops.db.engine import transaction
    from govops.db.migrate import upgrade
    from govops.warehouse.rollup import refresh_stale

    upgrade(engine)
    with transaction(engine) as session:
        counts = load_reference(session=session)
        counts["indicators with fresh roll-ups"] = len(refresh_stale(session=session))
        return counts


@app.callback()
def _setup() -> None:
    try:
        settings = get_settings()
    except BadSettings as exc:
        # One line per bad variable, whatever the terminal's width, and no traceback: nothing ran.
        for line in exc.lines:
            err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    configure_logging(level=settings.log_level, fmt=settings.log_format)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the store's tables to the latest version."""
    from govops.db.engine import transaction
    from govops.db.migrate import current_revision, upgrade
    from govops.warehouse.rollup import refresh_stale

    with friendly_errors():
        engine = engine_of(get_settings())
        upgrade(engine)
        with transaction(engine) as session:
            rebuilt = refresh_stale(session=session)
        out.print(f"store at revision {current_revision(engine)} ({engine.dialect.name})")
        if rebuilt:
            out.print(f"roll-ups recomputed for {len(rebuilt)} indicators")


@app.command()
def worker(
    every: Annotated[float, typer.Option(help="seconds between looks for work when idle")] = 0.5,
) -> None:
    """Deliver webhooks and run the scheduled jobs until stopped (Ctrl-C). Run several against PostgreSQL."""
    from govops.assembly import shared_jobs
    from govops.exchange.worker import Worker

    with friendly_errors():
        engine = engine_of(get_settings())
        settings = get_settings()
        jobs = shared_jobs(settings)
        out.print(f"worker on {engine.dialect.name}: webhooks and {len(jobs)} scheduled jobs; Ctrl-C stops it")
        try:
            Worker.configured(engine, settings, every=every, jobs=jobs).run_forever()
        except KeyboardInterrupt:
            out.print("worker stopped")


@app.command()
def init() -> None:
    """Create the store and load the reference data: areas, agencies and the indicator catalogue."""
    with friendly_errors():
        counts = _init(engine_of(get_settings()))
        out.print("store ready: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default GOVOPS_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default GOVOPS_PORT")] = None,
) -> None:
    """Serve the API on http://HOST:PORT (the store must be initialised)."""
    import uvicorn

    from govops.app import create_app
    from govops.db.migrate import current_revision, head_revision
    from govops.web.server import uvicorn_options

    settings = get_settings()
    with friendly_errors():
        engine = engine_of(settings)
        if current_revision(engine) != head_revision(engine):
            raise GovopsError(
                "the store is not initialised or not up to date",
                code="not_initialised",
                hint="run `govops init` (or `govops db upgrade`) first",
            )
        application = create_app(settings, engine=engine)
    bind_host, bind_port = host or settings.host, port or settings.port
    out.print(f"govops console on http://{bind_host}:{bind_port}  (API docs: /docs, OpenAPI: /openapi.json)")
    # Event streams never end by themselves: on shutdown they get a few seconds, then are closed
    # (clients reconnect elsewhere with Last-Event-ID and lose nothing).
    uvicorn.run(
        application,
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=3,
        **uvicorn_options(settings),
    )


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="default GOVOPS_PORT")] = None,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="serve after loading")] = True,
) -> None:
    """Set up the store, load the demo data set (made up, for demonstration) and serve."""
    from govops.db.engine import make_session_factory, transaction
    from govops.demo import forecast as demo_forecast
    from govops.demo import quality as demo_quality
    from govops.demo import targets as demo_targets
    from govops.demo import tasks as demo_tasks
    from govops.demo.loader import DEMO_PASSWORD, default_end_month, demo_loaded, ensure_demo_users, load_demo
    from govops.demo.reporting import Plan, load_reporting_demo, provinces
    from govops.warehouse.models import Observation

    settings = get_settings()
    with friendly_errors():
        engine = engine_of(settings)
        counts = _init(engine)
        out.print("reference data: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        factory = make_session_factory(engine)
        with factory() as session:
            loaded = demo_loaded(session=session)
        if loaded:
            out.print("demo data already loaded")
        else:
            end = settings.demo_end or default_end_month()
            with progress_bar() as progress, transaction(engine) as session:
                task = progress.add_task(f"demo data 2015-01..{end}", total=None)
                plan = Plan(end, provinces(session=session))
                summary = load_demo(
                    session=session,
                    end_month=end,
                    progress=lambda n: progress.advance(task, n),
                    withheld=plan.withheld,
                )
                reports = load_reporting_demo(session=session, plan=plan)
            out.print(f"demo data loaded: {summary.created} observations, 2015-01 to {end} (DEMO: made-up figures)")
            out.print(
                f"demo reporting regimes: {reports['statuses']} expected reports computed, "
                f"{reports['documents']} signed documents filed (DEMO: made-up)"
            )
        with factory() as session:
            tasks_there = demo_tasks.loaded(session=session)
        if not tasks_there:
            with transaction(engine) as session:
                made = demo_tasks.load(session=session)
            out.print(f"demo tasks: {made.directives} directives, {made.tasks} tasks (DEMO: made up)")
        with factory() as session:
            total = session.scalar(select(func.count()).select_from(Observation))
        out.print(f"store: {settings.database_url} ({total} observations)")
        with transaction(engine) as session:
            users = ensure_demo_users(session=session)
        # After the users: the demo officer of Hồ Chí Minh City finds the flag on its data in the inbox.
        with factory() as session:
            quality_there = demo_quality.loaded(session=session)
        if not quality_there:
            with transaction(engine) as session:
                rules, raised = demo_quality.load(session=session)
            out.print(f"demo quality: {rules} validation rules, {raised} flags on values sent wrong (DEMO: made up)")
        with factory() as session:
            thresholds_there = demo_forecast.loaded(session=session)
        if not thresholds_there:
            with transaction(engine) as session:
                watched = demo_forecast.load(session=session)
            out.print(f"early-warning thresholds: {watched} (the CPI ceilings cited, the others DEMO)")
        with factory() as session:
            targets_there = demo_targets.loaded(session=session)
        if not targets_there:
            with factory() as session:
                prepared = demo_targets.prepare(session=session)
            with transaction(engine) as session:
                made_targets = demo_targets.load(session=session, prepared=prepared)
            out.print(
                f"demo targets: {made_targets.targets} targets of {made_targets.plans} plans, cascaded to the provinces"
            )
        table = Table(
            "user name", "role", "agency", "password", title="Sign in to the console with", header_style="bold"
        )
        for username, role, agency in users:
            table.add_row(username, role, agency, DEMO_PASSWORD)
        out.print(table)
        _demo_audit_checkpoint(engine, settings)
    if serve_api:
        serve(host=None, port=port)


def _demo_audit_checkpoint(engine: Engine, settings: Settings) -> None:
    """The demo's set-up ends with a signed checkpoint of the audit trail (see govops.audit.checkpoints)."""
    from govops.audit.checkpoints import write_checkpoint

    written = write_checkpoint(engine=engine, settings=settings)
    out.print(f"audit checkpoint: entry {written.checkpoint.last_id} in {written.file}", highlight=False)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, JSON lines or JSON file of observations")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or json; default from the name")] = None,
    dry_run: Annotated[bool, typer.Option(help="check every row, write nothing")] = False,
) -> None:
    """Load observations from a file: all rows or, if any row is wrong, none (exit status 1)."""
    from govops.audit.service import record_cli, targets
    from govops.catalog.models import Indicator
    from govops.db.engine import make_session_factory
    from govops.warehouse.accept import accept
    from govops.warehouse.formats import read_file

    with friendly_errors():
        rows = read_file(file, fmt)
        factory = make_session_factory(engine_of(get_settings()), writer=True)
        with factory() as session:
            with progress_bar() as progress:
                task = progress.add_task(f"checking {file.name}", total=len(rows))
                outcome = accept(
                    session=session,
                    rows=rows,
                    recorded_by=f"cli:{file.name}",
                    dry_run=dry_run,
                    progress=lambda n: progress.advance(task, n),
                )
            if outcome.problems:
                raise Rejected(outcome.problems, where=str(file), total=len(rows))
            for warning in outcome.warnings:
                out.print(f"{file}: warning: {warning_line(warning)}", highlight=False, markup=False)
            summary = outcome.summary
            if summary is None:
                out.print(f"{file}: all {len(rows)} rows are valid; nothing written (--dry-run)")
                return
            codes = dict(session.execute(select(Indicator.id, Indicator.code)).all())
            record_cli(
                session=session,
                action="observations.write",
                target=targets(codes[row.indicator_id] for row in outcome.valid),
                detail={
                    "file": str(file),
                    "received": summary.received,
                    "created": summary.created,
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                    **({"warnings": len(outcome.warnings)} if outcome.warnings else {}),
                },
            )
            session.commit()
        out.print(
            f"{file}: {summary.received} rows: {summary.created} new, {summary.updated} changed, "
            f"{summary.unchanged} unchanged"
        )


def warning_line(problem: Problem) -> str:
    """A warning as one line: where, what, and what to look at."""
    safe = problem.as_dict()  # text safe to print, whatever the input held
    place = f"row {problem.row}" if problem.row is not None else safe.get("where")
    said = f"{place}: " if place else ""
    said += f"{safe['field']}: " if "field" in safe else ""
    said += f"{safe['message']} [{problem.code}]"
    return said + (f" (how to fix: {safe['hint']})" if "hint" in safe else "")


@app.command()
def series(
    indicator: str,
    area: Annotated[str, typer.Option(help="area code")] = "VN",
    freq: Annotated[str | None, typer.Option(help="M, Q, A...")] = None,
    start: str | None = None,
    end: str | None = None,
) -> None:
    """Print a series as the API computes it."""
    from govops.db.engine import make_session_factory
    from govops.warehouse.series import SeriesQuery, build_series

    with friendly_errors():
        with make_session_factory(engine_of(get_settings()))() as session:
            result = build_series(
                session=session, query=SeriesQuery.of(indicator, [area], freq=freq, start=start, end=end)
            )[0]
        table = Table("period", "value", "status", "source", "areas", "periods", title=f"{indicator} {area}")
        for p in result.points:
            table.add_row(
                p.period,
                "" if p.value is None else f"{p.value:,.2f}",
                p.status or "",
                p.source,
                f"{p.areas.have}/{p.areas.expected}" if p.areas else "",
                f"{p.periods.have}/{p.periods.expected}" if p.periods else "",
            )
        out.print(table)


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="catalogue YAML or JSON")],
    plan: Annotated[
        bool, typer.Option("--plan", help="show what the import would add, change or remove; write nothing")
    ] = False,
) -> None:
    """Create or update units, codelists, groups and indicators from a file (all or nothing).

    Refused if it would remove a code, or change a dimension, unit, periodicity or formula, that
    stored observations use.
    """
    from govops.audit.service import record_cli
    from govops.catalog.service import import_catalogue, plan_catalogue, read_catalogue_file
    from govops.db.engine import make_session_factory, transaction
    from govops.warehouse.rollup import refresh_stale

    with friendly_errors():
        doc = read_catalogue_file(file)
        engine = engine_of(get_settings())
        if plan:
            with make_session_factory(engine)() as session:
                found = plan_catalogue(session=session, doc=doc)
            _print_catalogue_plan(found, file)
            if found.problems:
                raise GovopsError(
                    f"the import would be refused: {len(found.problems)} problem(s); nothing was written (--plan)",
                    code="rejected",
                    hint="fix the problems listed below, then run the import again",
                    where=str(file),
                    problems=found.problems,
                )
            out.print(f"{file}: the import can go ahead; nothing was written (--plan)")
            return
        with transaction(engine) as session:
            summary = import_catalogue(session=session, doc=doc, recorded_by=f"cli:{file.name}", where=str(file))
            # A changed aggregation rule makes that indicator's roll-ups stale.
            refresh_stale(session=session)
            record_cli(
                session=session,
                action="catalogue.import",
                target=file.name,
                detail={"file": str(file), **summary.as_counts(), "changes": summary.changes},
            )
        out.print(
            f"{file}: "
            + ", ".join(f"{n} {what}" for what, n in summary.as_counts().items())
            + " ("
            + ", ".join(f"{n} {what}" for what, n in summary.changes.items())
            + ")"
        )


def _print_catalogue_plan(plan: CataloguePlan, file: Path) -> None:
    if not plan.changes:
        out.print(f"{file}: the import would change nothing")
        return
    colours = {"added": "green", "changed": "yellow", "removed": "red"}
    table = Table(
        "change",
        "kind",
        "code",
        "what",
        "indicator",
        "observations",
        "verdict",
        title=f"What importing {file.name} would do",
        header_style="bold",
    )
    for change in plan.changes:
        table.add_row(
            f"[{colours[change.change.value]}]{change.change.value}[/]",
            change.kind,
            escape(change.label),
            escape(change.detail),
            escape(change.indicator or ""),
            f"{change.observations:,}" if change.indicator else "",
            "[bold red]refused[/]" if change.refused else "ok",
        )
    out.print(table)
    counts = plan.counts()
    out.print(
        f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed; "
        f"{len(plan.refused)} refused"
    )


@catalog_app.command("export")
def catalog_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file; default standard output")] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml",
) -> None:
    """Write the whole catalogue as YAML or JSON (the same shape `catalog import` reads)."""
    from govops.catalog.service import dump_catalogue, export_catalogue
    from govops.db.engine import make_session_factory

    with friendly_errors():
        if fmt not in ("yaml", "json"):
            raise GovopsError(f"unknown format {fmt!r}", code="unknown_format", hint="use yaml or json")
        with make_session_factory(engine_of(get_settings()))() as session:
            text = dump_catalogue(export_catalogue(session=session), as_json=fmt == "json")
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
            err.print(f"catalogue written to {output}")


@catalog_app.command("list")
def catalog_list(
    group: Annotated[str | None, typer.Option(help="only this group")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """List the indicators."""
    from govops.catalog.models import Indicator, IndicatorGroup
    from govops.db.engine import make_session_factory

    with friendly_errors(), make_session_factory(engine_of(get_settings()))() as session:
        stmt = select(Indicator).order_by(Indicator.code)
        if group:
            stmt = stmt.where(Indicator.groups.any(IndicatorGroup.code == group))
        rows = list(session.scalars(stmt))
        if as_json:
            out.print_json(
                json.dumps(
                    [
                        {
                            "code": i.code,
                            "name_vi": i.name_vi,
                            "name_en": i.name_en,
                            "periodicity": i.periodicity,
                            "unit": i.unit.code,
                        }
                        for i in rows
                    ]
                )
            )
            return
        table = Table("code", "name (vi)", "name (en)", "freq", "unit", header_style="bold")
        for i in rows:
            table.add_row(i.code, i.name_vi, i.name_en, i.periodicity, i.unit.code)
        out.print(table)
