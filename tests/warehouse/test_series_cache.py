"""Pages' answers are kept per data version and recomputed ahead of the next visitor."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.warehouse import series_cache
from govops.warehouse.series import SeriesQuery
from govops.warehouse.series_cache import Warmer, cached_series, pending, refresh_recent
from tests.warehouse.conftest import obs, put


@pytest.mark.usefixtures("catalogue")
def test_refresh_recomputes_only_what_pages_asked_for_and_whose_data_changed(session: Session) -> None:
    series_cache.clear()
    put(session, [obs("T_FLOW", "01", "2025-08", 10), obs("T_FLOW2", "01", "2025-08", 4)])
    cached_series(session=session, query=SeriesQuery.of("T_BALANCE", ["VN"]))
    flow2 = cached_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))
    assert refresh_recent(session=session) == 0
    put(session, [obs("T_FLOW", "79", "2025-08", 5)])
    assert refresh_recent(session=session) == 1  # T_BALANCE; T_FLOW2 did not change
    assert refresh_recent(session=session) == 0
    assert cached_series(session=session, query=SeriesQuery.of("T_BALANCE", ["VN"]))[0].points[0].value == 11
    assert cached_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"])) is flow2


def test_the_warmer_thread_has_the_new_answer_ready_after_a_write(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
        put(session, [obs("EXPORTS", "01", "2025-08", 100.0)])
    series_cache.clear()
    with Session(engine) as session:
        assert cached_series(session=session, query=SeriesQuery.of("EXPORTS", ["VN"]))[0].points[-1].value == 100
    warmer = Warmer(engine, every=0.05)
    warmer.start()
    try:
        with transaction(engine) as session:
            put(session, [obs("EXPORTS", "79", "2025-08", 50.0)])
        deadline = time.monotonic() + 10
        with Session(engine) as session:
            while pending(session=session) and time.monotonic() < deadline:
                time.sleep(0.05)  # the warmer has not got there yet
            # The warmer recomputed it: the page gets the new figure without computing anything.
            assert pending(session=session) == 0
            assert cached_series(session=session, query=SeriesQuery.of("EXPORTS", ["VN"]))[0].points[-1].value == 150
    finally:
        warmer.stop()
        engine.dispose()
