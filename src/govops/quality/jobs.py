"""quality's scheduled work: the scan of the whole store, nightly and when a reporting deadline passes.

Each run is once per due time across workers (the job runner's rule), and a flag is raised once per check and
value (its unique fingerprint): a rerun, or two workers at once, raise nothing twice.
"""

from __future__ import annotations

from datetime import time, timedelta

from govops.audit.service import SYSTEM, record
from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import At, Daily
from govops.quality import service
from govops.reporting.service import deadlines_between
from govops.settings import Settings

NIGHTLY = time(1, 30)


def scan_store(context: JobContext) -> str:
    with transaction(context.engine) as session:
        result = service.scan(session=session)
        record(
            session=session,
            action="quality.scan",
            actor_kind=SYSTEM.kind,
            actor=SYSTEM.name,
            target="store",
            detail={"observations": result.observations, "found": result.found, "raised": result.raised},
        )
    return f"{result.observations} observations judged, {result.found} findings, {result.raised} new flags"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="quality.nightly-scan",
            schedule=Daily(NIGHTLY, zone=settings.timezone),
            run=scan_store,
            summary=lazy_gettext("Judge every stored series and rule, and flag what looks wrong."),
            lease=timedelta(hours=2),  # a large store takes a while to judge
        ),
        Job(
            name="quality.after-deadlines",
            schedule=At(deadlines_between, what=lazy_gettext("reporting deadlines")),
            run=scan_store,
            summary=lazy_gettext("When a reporting deadline passes, judge the store again and flag what looks wrong."),
        ),
    ]
