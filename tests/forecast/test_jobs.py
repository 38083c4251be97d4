"""The refresh job: after a release, the series with values past their latest vintage are forecast again, a
bounded number per run, and a run with nothing new says so."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from govops.catalog.service import load_reference
from govops.db.engine import make_session_factory, transaction
from govops.db.migrate import upgrade
from govops.forecast import jobs
from govops.forecast.models import Forecast
from govops.jobs.registry import JobContext
from govops.settings import Settings
from tests.db.test_migrations import fresh_engine
from tests.forecast.test_service import MONTHS, month, retail, submit

__all__ = ["fresh_engine"]


def context(engine: Engine) -> JobContext:
    return JobContext(engine=engine, settings=Settings(), due_at=datetime.now(UTC), attempt=1, manual=True)


def test_the_job_forecasts_what_is_new_in_bounded_runs(fresh_engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    upgrade(fresh_engine)
    with transaction(fresh_engine) as session:
        load_reference(session=session)
        submit(session, [(area, month(i), retail(area, i, 5e4)) for i in range(MONTHS) for area in ("01", "79")])
    monkeypatch.setattr(jobs, "PER_RUN", 2)
    said = jobs.refresh_forecasts(context(fresh_engine))
    assert said.startswith("2 series forecast again") and "1 left" in said  # 01, 79 and the nation
    assert jobs.refresh_forecasts(context(fresh_engine)).startswith("1 series forecast again")
    assert jobs.refresh_forecasts(context(fresh_engine)) == "every forecast is up to date"
    with transaction(fresh_engine) as session:
        submit(session, [("79", month(MONTHS), retail("79", MONTHS, 5e4))])
    again = jobs.refresh_forecasts(context(fresh_engine))
    assert again.startswith("2 series forecast again")  # the city and the nation it adds up into
    with make_session_factory(fresh_engine)() as session:
        assert session.scalar(select(func.count()).select_from(Forecast)) == 5
