"""`govops forecast ...`: score the engine on any series file; forecast the store's series."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session


@contextmanager
def _reading() -> Iterator[Session]:
    """A reading session on the configured store (imported late: govops.cli.main imports this module)."""
    from govops.commandline import engine_of
    from govops.db.engine import make_session_factory
    from govops.settings import get_settings

    with make_session_factory(engine_of(get_settings()))() as session:
        yield session


forecast_app = typer.Typer(
    help="Forecasts: score the engine against statsforecast's baselines, forecast the store's series.",
    no_args_is_help=True,
)


@forecast_app.command("evaluate")
def evaluate_command(
    input_file: Annotated[Path, typer.Option("--input", help="CSV in the long layout unique_id,ds,y")],
    freq: Annotated[str, typer.Option(help="M, Q or A (also D, W)")],
    horizon: Annotated[int, typer.Option(help="the last H points of each series are held out and forecast")],
    output: Annotated[Path | None, typer.Option(help="write each series' scores per method to this CSV")] = None,
    dask: Annotated[
        str | None, typer.Option(help="fan out on Dask: 'local' for a LocalCluster, or a scheduler's address")
    ] = None,
    baselines: Annotated[bool, typer.Option(help="also run statsforecast's AutoETS, Theta and ensemble")] = True,
) -> None:
    """Hold out the last H points of each series; print sMAPE, MASE and 80/95% coverage for govops and, side by
    side, statsforecast's AutoETS, DynamicOptimizedTheta and their median ensemble."""
    from govops.commandline import err, friendly_errors, out
    from govops.forecast import evaluation
    from govops.forecast.fanout import DaskFanOut

    with friendly_errors():
        series = evaluation.read_long_csv(input_file, freq=freq.upper(), horizon=horizon)
        err.print(f"{input_file.name}: {len(series)} series, holding out the last {horizon} of each")
        if dask:
            with DaskFanOut(None if dask == "local" else dask) as fan_out:
                scores = evaluation.evaluate(
                    series, freq=freq.upper(), horizon=horizon, fit_many=fan_out, baselines=baselines
                )
        else:
            scores = evaluation.evaluate(series, freq=freq.upper(), horizon=horizon, baselines=baselines)
    table = Table(
        "method", "sMAPE", "MASE", "80% coverage", "95% coverage", "ms/series", title=f"{input_file.name}, h={horizon}"
    )
    for method, smape, mase, c80, c95, ms in scores.summary():
        table.add_row(method, f"{smape:.3f}", f"{mase:.3f}", f"{c80:.1f}", f"{c95:.1f}", f"{ms:.1f}")
    out.print(table)
    out.print("govops models chosen: " + ", ".join(f"{name} {n}" for name, n in sorted(scores.models.items())))
    if output is not None:
        evaluation.write_scores(scores, output)
        err.print(f"scores per series written to {output}")


@forecast_app.command("run")
def run_command(
    indicator: Annotated[str | None, typer.Option(help="only this indicator's series (its code)")] = None,
    area: Annotated[str | None, typer.Option(help="only this area's series (its code)")] = None,
    dask: Annotated[
        str | None, typer.Option(help="fan out on Dask: 'local' for a LocalCluster, or a scheduler's address")
    ] = None,
) -> None:
    """Forecast the store's series (every one, or those of an indicator or area) and store them as a new vintage;
    values that arrived since the last vintage and fall outside its 95% band raise early warnings."""
    from govops.commandline import friendly_errors, out, progress_bar, writing_session
    from govops.forecast import service
    from govops.forecast.fanout import DaskFanOut

    with friendly_errors():
        with _reading() as session:
            series = service.store_series(session=session, indicator=indicator, area=area)
        # The models are fitted outside any transaction; the vintages are then written in one.
        with progress_bar() as progress:
            task = progress.add_task(f"forecasting {len(series)} series", total=len(series))
            if dask:
                with DaskFanOut(None if dask == "local" else dask) as fan_out:
                    computed = service.compute(
                        series=series, progress=lambda n: progress.advance(task, n), fit_many=fan_out
                    )
            else:
                computed = service.compute(series=series, progress=lambda n: progress.advance(task, n))
    with writing_session() as session:
        summary = service.store(session=session, computed=computed, trigger="cli")
    out.print(
        f"run {summary.run_id}: {summary.forecasts} series forecast ({summary.fallbacks} with a fall-back), "
        f"{summary.warnings} early warnings raised"
    )


thresholds_app = typer.Typer(
    help="Levels the Government cares about: a forecast or a leading indicator crossing one raises a warning.",
    no_args_is_help=True,
)
forecast_app.add_typer(thresholds_app, name="thresholds")


@thresholds_app.command("import")
def import_thresholds(
    file: Annotated[Path, typer.Argument(help="the thresholds (.yaml), a list under `thresholds:`")],
) -> None:
    """Create or update thresholds by code: all of them, or none if one is wrong (named by threshold and field)."""
    from govops.audit.service import record_cli
    from govops.commandline import friendly_errors, out, writing_session
    from govops.errors import lazy_gettext
    from govops.forecast import evaluation, service

    with friendly_errors():
        text = evaluation.read_text(file, hint=lazy_gettext("give a UTF-8 YAML file with a list under `thresholds:`"))
        with writing_session() as session:
            saved = service.import_thresholds(session=session, text=text, where=file.name, by="cli")
            record_cli(
                session=session, action="forecast.thresholds.saved", target=file.name, detail={"thresholds": len(saved)}
            )
    out.print(f"{file.name}: {len(saved)} thresholds saved")


@thresholds_app.command("list")
def list_thresholds() -> None:
    """Every threshold: its series, measure, level, year and legal source."""
    from govops.commandline import friendly_errors, out
    from govops.forecast import service

    with friendly_errors(), _reading() as session:
        rows = service.thresholds_page(session=session, limit=10_000)
        table = Table("code", "kind", "series", "measure", "level", "year", "source", title="thresholds")
        for row in rows:
            series = service.series_label(session=session, indicator_id=row.indicator_id, area_id=row.area_id)
            table.add_row(
                row.code,
                row.kind,
                series + (f" [{row.dim_key}]" if row.dim_key else ""),
                row.measure,
                f"{'>' if row.direction == 'above' else '<'} {row.level:g}",
                str(row.year or "every"),
                row.source,
            )
    out.print(table)


@thresholds_app.command("delete")
def delete_threshold(code: Annotated[str, typer.Argument(help="the threshold's code")]) -> None:
    """Delete a threshold and the warnings it raised."""
    from govops.audit.service import record_cli
    from govops.commandline import friendly_errors, out, writing_session
    from govops.forecast import service

    with friendly_errors(), writing_session() as session:
        service.delete_threshold(session=session, code=code)
        record_cli(session=session, action="forecast.threshold.deleted", target=code)
    out.print(f"threshold {code} deleted")
