"""audit's scheduled work: a signed checkpoint of the trail whenever it grew."""

from __future__ import annotations

from govops.audit.checkpoints import write_checkpoint_if_new
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings


def checkpoint(context: JobContext) -> str:
    written = write_checkpoint_if_new(engine=context.engine, settings=context.settings)
    if written is None:
        return "no new entries; no checkpoint"
    text = f"checkpoint at entry {written.checkpoint.last_id} ({written.checkpoint.entries} entries)"
    # In the file either way; the receiver gets the next one (each covers the whole trail).
    return text if written.send_error is None else f"{text}; not taken by the receiver: {written.send_error}"


def jobs(settings: Settings) -> list[Job]:
    if settings.audit_checkpoint_minutes <= 0:
        return []
    return [
        Job(
            name="audit.checkpoint",
            schedule=Every(settings.audit_checkpoint_minutes),
            run=checkpoint,
            summary=lazy_gettext("Write a signed checkpoint of the audit trail when it grew."),
        )
    ]
