"""targets' scheduled work: every target's progress computed again, so that new forecasts, a period that ended
and data that came in a way the accept pipeline does not see (a bulk load) all show; alerts as ever, once per
crossing."""

from __future__ import annotations

from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings
from govops.targets import service

REFRESH_MINUTES = 15


def refresh_targets(context: JobContext) -> str:
    with transaction(context.engine) as session:
        done = service.refresh(session=session)
    return f"{done} targets computed again"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="targets.refresh",
            schedule=Every(REFRESH_MINUTES),
            run=refresh_targets,
            summary=lazy_gettext(
                "Compute again every target's progress and probability of meeting it, and alert on those that "
                "fell below their threshold or worsened."
            ),
        )
    ]
