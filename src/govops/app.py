"""The application factory: the API (and, as it grows, the console) over one store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from govops import __version__
from govops.assembly import every_job, shared_jobs
from govops.audit.pages import router as audit_pages
from govops.auth.pages import router as signin_pages
from govops.catalog.api import router as catalog_router
from govops.catalog.pages import router as admin_pages
from govops.db.engine import make_engine
from govops.exchange.api import router as exchange_router
from govops.exchange.pages import router as exchange_pages
from govops.exchange.submit.pages import router as submit_pages
from govops.exchange.worker import Worker
from govops.forecast.api import router as forecast_router
from govops.forecast.pages import router as forecast_pages
from govops.interop.dhis2.api import router as dhis2_router
from govops.interop.mapping.pages import router as mapping_pages
from govops.interop.sdmx.api import router as sdmx_router
from govops.jobs.pages import router as jobs_pages
from govops.notify.api import router as notify_router
from govops.notify.pages import router as notify_pages
from govops.quality.api import router as quality_router
from govops.quality.pages import router as quality_pages
from govops.reporting.api import router as reporting_router
from govops.reporting.pages import router as reporting_pages
from govops.settings import Settings, get_settings
from govops.targets.api import router as targets_router
from govops.targets.pages import router as targets_pages
from govops.tasks.api import router as tasks_router
from govops.tasks.pages import router as tasks_pages
from govops.warehouse.api import router as warehouse_router
from govops.warehouse.overview import warm_up
from govops.warehouse.pages import router as warehouse_pages
from govops.warehouse.series_cache import Warmer
from govops.warehouse.stream import ChangeHub
from govops.warehouse.validation import load_catalogue
from govops.web.access import ReaderLookups, WriteGuard
from govops.web.api_docs import router as api_docs_page
from govops.web.contacts import ContactStamps
from govops.web.deps import make_web_session_factories
from govops.web.errors import ERROR_RESPONSES, install_error_handlers
from govops.web.middleware import RefuseNul, RequestId
from govops.web.security import install_security
from govops.web.signin import install_auth

log = structlog.get_logger(__name__)

_YOUNG_COLLECTION_EVERY = 10_000


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything alive once the app is up (modules, the catalogue of routes, templates) lives as long as the
    # process; leaving it out of the garbage collector's full passes keeps those pauses out of page times.
    gc.collect()
    gc.freeze()
    # A page computed from nothing makes some hundred thousand small tuples that live on in the page cache; at
    # the interpreter's default (a collection every 700 new containers) collecting took a third of its time.
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    app.state.change_hub = ChangeHub(app.state.engine)
    app.state.contact_stamps.start()
    # The catalogue submissions are checked against, read now rather than during the first one.
    await run_in_threadpool(_load_catalogue, app)
    worker = None
    if app.state.settings.worker:
        settings = app.state.settings
        # This process serves pages: it also keeps their charts computed (a per-process job), unless told not to.
        jobs = every_job(settings, warm_up=warm_up) if settings.page_warmer else shared_jobs(settings)
        worker = Worker.configured(app.state.engine, settings, jobs=jobs)
        worker.start()
    warmer = None
    if app.state.settings.page_warmer:
        warmer = Warmer(app.state.engine, warm_up=warm_up)
        warmer.start()
    try:
        yield
    finally:
        await app.state.change_hub.stop()
        app.state.contact_stamps.stop()
        if worker is not None:
            worker.stop()
        if warmer is not None:
            warmer.stop()


def _load_catalogue(app: FastAPI) -> None:
    try:
        with app.state.session_factory() as session:
            load_catalogue(session)
    except SQLAlchemyError as exc:  # only time is lost: the first batch reads it
        log.warning("catalogue not loaded at start", error=str(exc))


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    app = FastAPI(
        title="govops",
        version=__version__,
        description="Indicator warehouse of the Government: catalogue, areas, observations and series.",
        openapi_url="/openapi.json",
        # Served by govops.web.api_docs from vendored files: FastAPI's own pages load them from a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # No write without credentials: every route, present and future, unless marked @public_write.
        dependencies=[WriteGuard],
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.session_factory, app.state.write_session_factory = make_web_session_factories(engine)
    # Reads note who came in memory and never write; these write the notes, and answer streams' lookups.
    app.state.contact_stamps = ContactStamps(engine, every=settings.contact_flush_seconds)
    app.state.reader_lookups = ReaderLookups.for_engine(engine)
    app.state.jobs = every_job(settings)  # as the jobs page lists them
    install_error_handlers(app)

    # Inside the error handlers, outside the routes: every request is checked and tagged before any route runs.
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestId)

    @app.get("/healthz", tags=["operations"], responses={503: ERROR_RESPONSES[503]})
    def healthz() -> dict[str, Any]:
        """Alive and able to reach the store."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    app.include_router(catalog_router)
    app.include_router(warehouse_router)
    app.include_router(exchange_router)
    app.include_router(sdmx_router)
    app.include_router(dhis2_router)
    app.include_router(api_docs_page)
    app.include_router(signin_pages)
    app.include_router(warehouse_pages)
    app.include_router(admin_pages)
    app.include_router(exchange_pages)
    app.include_router(submit_pages)
    app.include_router(mapping_pages)
    app.include_router(audit_pages)
    app.include_router(jobs_pages)
    app.include_router(notify_router)
    app.include_router(notify_pages)
    app.include_router(reporting_router)
    app.include_router(reporting_pages)
    app.include_router(tasks_router)
    app.include_router(tasks_pages)
    app.include_router(quality_router)
    app.include_router(quality_pages)
    app.include_router(forecast_router)
    app.include_router(forecast_pages)
    app.include_router(targets_router)
    app.include_router(targets_pages)
    app.mount("/static", StaticFiles(packages=[("govops.web", "static")]), name="static")
    install_auth(app)
    # Last, so outermost: headers on every response, and every layer sees the real client address.
    install_security(app, trusted_proxies=settings.trusted_proxies)
    return app
