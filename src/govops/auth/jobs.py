"""auth's scheduled work: sessions and sign-in failures that can no longer matter are deleted."""

from __future__ import annotations

from govops.auth.service import purge
from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings


def purge_sessions(context: JobContext) -> str:
    with transaction(context.engine) as session:
        gone = purge(session=session)
    return f"{gone['sessions']} sessions, {gone['failures']} sign-in failures deleted"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="auth.purge-sessions",
            schedule=Every(settings.session_purge_minutes),
            run=purge_sessions,
            summary=lazy_gettext("Delete expired, idle and signed-out sessions and old sign-in failures."),
        )
    ]
