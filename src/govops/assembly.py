"""Puts the parts together above the domains: every domain's scheduled jobs, for the worker, the `govops jobs`
command and the console. A domain adds its work in its own `jobs.py`; the list of those modules is here."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from govops.audit import jobs as audit_jobs
from govops.auth import jobs as auth_jobs
from govops.forecast import jobs as forecast_jobs
from govops.jobs import jobs as jobs_jobs
from govops.jobs.registry import Registry
from govops.quality import jobs as quality_jobs
from govops.reporting import jobs as reporting_jobs
from govops.settings import Settings
from govops.targets import jobs as targets_jobs
from govops.tasks import jobs as tasks_jobs
from govops.warehouse.jobs import page_cache_job


def every_job(settings: Settings, *, warm_up: Callable[[Session], None] | None = None) -> Registry:
    """Every job. `warm_up`: what this process computes ahead for its pages (a process that serves no pages runs
    no per-process job: see `shared_jobs`)."""
    registry = Registry()
    for domain in (
        auth_jobs,
        audit_jobs,
        jobs_jobs,
        reporting_jobs,
        tasks_jobs,
        quality_jobs,
        forecast_jobs,
        targets_jobs,
    ):
        registry.add(*domain.jobs(settings))
    registry.add(page_cache_job(settings, warm_up=warm_up))
    return registry


def shared_jobs(settings: Settings) -> Registry:
    """The jobs on the store only, for a worker that serves no pages (`govops worker`)."""
    registry = Registry()
    registry.add(*(job for job in every_job(settings) if not job.per_process))
    return registry
