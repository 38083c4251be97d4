"""targets' scheduled work: progress follows the data as it arrives (`targets.follow-changes`, run as soon as a
submission's commit wakes the worker, and every minute as the safety net), and every target's progress is computed
again every 15 minutes (`targets.refresh`), so that new forecasts and a period that ended show too; alerts as ever,
once per crossing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, following, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings
from govops.targets import service

REFRESH_MINUTES = 15
FOLLOW_MINUTES = 1


def _recompute_touched(session: Session) -> str:
    read, computed = service.follow_changes(session=session)
    return f"{read} observation changes read, {computed} targets computed again"


def refresh_targets(context: JobContext) -> str:
    with transaction(context.engine) as session:
        done = service.refresh(session=session)
    return f"{done} targets computed again"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="targets.follow-changes",
            schedule=Every(FOLLOW_MINUTES),
            run=following(pending=lambda session: service.changes_pending(session=session), work=_recompute_touched),
            summary=lazy_gettext(
                "As data arrive, compute again the progress of the targets they touch, and alert on those that fell "
                "below their threshold or worsened."
            ),
            on_commit=True,
        ),
        Job(
            name="targets.refresh",
            schedule=Every(REFRESH_MINUTES),
            run=refresh_targets,
            summary=lazy_gettext(
                "Compute again every target's progress and probability of meeting it, and alert on those that "
                "fell below their threshold or worsened."
            ),
        ),
    ]
