"""Scheduled jobs in the console: /admin/jobs, for administrators only; "run now" asks the workers to run one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from govops.db.base import utcnow
from govops.errors import GovopsError
from govops.i18n import translations
from govops.jobs import service
from govops.jobs.registry import Job, Registry
from govops.jobs.schedule import describe
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.signin import Administrator, verify_csrf
from govops.web.templating import locale_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)

RECENT = 30


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.jobs
    return registry


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, session: SessionDep, admin: Administrator) -> HTMLResponse:
    """Each job with its schedule, last run and next due time; the most recent runs below."""
    gettext = translations(locale_of(request)).gettext
    registry = _registry(request)
    now = utcnow()
    last = service.latest_runs(session=session, jobs=registry.jobs)
    rows: list[dict[str, Any]] = [
        {
            "job": job,
            "summary": gettext(job.summary),
            "schedule": describe(job.schedule, gettext),
            "last": last.get(job.name),
            "next_due": service.upcoming(session=session, job=job, now=now),
        }
        for job in registry
    ]
    queued = request.query_params.get("queued", "")
    return render(
        request,
        "admin/jobs.html",
        {
            "rows": rows,
            "now": now,
            "runs": service.recent_runs(session=session, limit=RECENT),
            "queued": queued if queued in registry.jobs else None,
            "poll_seconds": request.app.state.settings.jobs_poll_seconds,
        },
    )


@router.post("/jobs/{name}/run", dependencies=[Depends(verify_csrf)])
def run_now(request: Request, session: WriteSessionDep, admin: Administrator, name: str) -> RedirectResponse:
    """Queue one run of `name` now: the next worker to look (within GOVOPS_JOBS_POLL_SECONDS) runs it."""
    job = _job(request, name)
    run = service.queue(session=session, job=job, requested_by=admin.username)
    record_request(session=session, request=request, action="job.run", target=job.name, detail={"run": run.id})
    return RedirectResponse(f"/admin/jobs?queued={quote(job.name)}#runs", status_code=303)


def _job(request: Request, name: str) -> Job:
    found = _registry(request).jobs.get(name)
    if found is None:
        gettext = translations(locale_of(request)).gettext
        raise GovopsError(
            gettext("There is no job named %(name)s.") % {"name": name[:100]},
            code="unknown_job",
            status=404,
            where="name",
            hint=gettext("Choose one of the jobs listed on the jobs page."),
        )
    return found


__all__ = ["router"]
