"""forecast's scheduled work: after each release, the series with values past their latest vintage are forecast
again (a new vintage) and their new values checked against the previous vintage's bands (early warnings).

A run takes at most `PER_RUN` series, fitted outside any transaction and stored in a short one, so that a store
with thousands of series (the demo's, after its first start) is covered over a few runs without ever holding the
store's write lock while models are fitted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govops.db.engine import make_session_factory, transaction
from govops.forecast import service
from govops.jobs.registry import Job, JobContext, following, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings

REFRESH_MINUTES = 2
WATCH_MINUTES = 1
PER_RUN = 60


def _watch(session: Session) -> str:
    """Each new value against its forecast's band and its thresholds, as soon as a submission's commit wakes the
    worker (no model fitted: a few reads per series touched)."""
    read, raised = service.watch_changes(session=session)
    return f"{read} observation changes read, {raised} early warnings"


def refresh_forecasts(context: JobContext) -> str:
    with make_session_factory(context.engine)() as session:
        waiting = service.stale(session=session, series=service.store_series(session=session))
    if not waiting:
        return "every forecast is up to date"
    computed = service.compute(series=waiting[:PER_RUN])
    with transaction(context.engine) as session:
        summary = service.store(session=session, computed=computed, trigger="job")
    left = max(0, len(waiting) - PER_RUN)
    return f"{summary.forecasts} series forecast again, {summary.warnings} early warnings, {left} left for next runs"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="forecast.refresh",
            schedule=Every(REFRESH_MINUTES),
            run=refresh_forecasts,
            summary=lazy_gettext(
                "Forecast again the series that received new values, and warn of values outside their forecast's "
                "95% band."
            ),
        ),
        Job(
            name="forecast.watch",
            schedule=Every(WATCH_MINUTES),
            run=following(pending=lambda session: service.watch_pending(session=session), work=_watch),
            summary=lazy_gettext(
                "As each release arrives, warn of values outside their forecast's 95% band and of leading "
                "indicators crossing their thresholds."
            ),
            on_commit=True,
        ),
    ]
