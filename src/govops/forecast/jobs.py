"""forecast's scheduled work: after each release, the series with new values are forecast again (a new vintage)
and their new values checked against the previous vintage's bands (early warnings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from govops.db.engine import transaction
from govops.forecast import service
from govops.forecast.models import ForecastRun
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings

REFRESH_MINUTES = 10


def refresh_forecasts(context: JobContext) -> str:
    with transaction(context.engine) as session:
        since: datetime | None = session.scalar(select(func.max(ForecastRun.started_at)))
        series = service.store_series(session=session, since=since)
        if not series:
            return "no new values since the last run"
        summary = service.run(session=session, series=series, trigger="job")
    return f"{summary.forecasts} series forecast again, {summary.warnings} early warnings"


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
        )
    ]
