"""Pages' answers are kept per data version and recomputed ahead of the next visitor."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from govops.auth.service import create_user
from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.warehouse import series_cache
from govops.warehouse.series import SeriesQuery, SeriesView, compute_series
from govops.warehouse.series_cache import (
    Warmer,
    cached_series,
    data_versions,
    pending,
    prefetch,
    refresh_recent,
)
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
    assert cached_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))[0] is flow2[0]


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


def _signed_in_viewer(client: TestClient, session: Session) -> TestClient:
    create_user(
        session=session, username="t.warm", password="correct horse battery", full_name="T", agency="GO", role="viewer"
    )
    form = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    signed = client.post(
        "/signin",
        data={"username": "t.warm", "password": "correct horse battery", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return client


def test_a_page_for_an_unknown_area_is_not_kept_warm(client: TestClient, session: Session) -> None:
    series_cache.clear()
    web = _signed_in_viewer(client, session)
    assert web.get("/explorer/EXPORTS", params={"area": "79"}).status_code == 200
    unknown = web.get("/explorer/EXPORTS", params={"area": "99"})
    assert unknown.status_code == 404 and "99" in unknown.text
    assert web.get("/explorer/NO_SUCH_INDICATOR").status_code == 404
    kept = series_cache.waiting(session=session)
    assert SeriesQuery.of("EXPORTS", ["79"], freq="M") in kept
    assert not [q for q in kept if "99" in q.areas or q.indicator == "NO_SUCH_INDICATOR"]


@pytest.mark.usefixtures("catalogue")
def test_a_failing_warm_up_is_logged_once_and_dropped(session: Session) -> None:
    series_cache.clear()
    good = SeriesQuery.of("T_FLOW", ["VN"])
    cached_series(session=session, query=good)
    # A query that worked when a page asked for it and fails now (say, its area was retired since).
    broken = SeriesQuery.of("T_FLOW", ["99"])
    with series_cache._LOCK:
        series_cache._RECIPES[(str(session.get_bind().engine.url), broken)] = time.monotonic()
    put(session, [obs("T_FLOW", "01", "2025-08", 10)])
    with capture_logs() as logs:
        assert refresh_recent(session=session) == 1
        assert refresh_recent(session=session) == 0
    failures = [e for e in logs if e["log_level"] == "error"]
    assert len(failures) == 1 and failures[0]["indicator"] == "T_FLOW" and "99" in failures[0]["query"]
    assert series_cache.waiting(session=session) == [good]


def test_the_warmer_tries_a_failing_warm_up_at_start_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    calls = []

    def failing(session: Session) -> None:
        calls.append(1)
        raise RuntimeError("the overview asks for an indicator the catalogue lost")

    warmer = Warmer(engine, warm_up=failing, every=0.01)
    with capture_logs() as logs:
        warmer.start()
        try:
            deadline = time.monotonic() + 10
            while warmer.turns < 5 and time.monotonic() < deadline:
                time.sleep(0.01)  # the warmer's turns
        finally:
            warmer.stop()
            engine.dispose()
    assert warmer.turns >= 5 and calls == [1]
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["warm-up at start failed; not retried"]


@pytest.mark.usefixtures("catalogue")
def test_reading_ahead_gives_the_same_series_in_fewer_statements(session: Session) -> None:
    """A page's series read ahead together (`prefetch`) are those computed one by one, from a few statements."""
    rows = [
        obs(code, area, f"2025-{month:02d}", value * month)
        for code, value in (("T_FLOW", 10), ("T_FLOW2", 4), ("T_STOCK", 7), ("T_MEAN", 101))
        for area in ("01", "79", "25747")
        for month in range(1, 13)
        if area != "25747" or month >= 7  # the ward exists from July 2025 (the merger)
    ]
    put(session, [*rows, obs("T_NONE", "VN", "2025-03", 2.5), obs("T_POP", "79", "2025", 9_000_000)])
    areas = ["VN", "01", "79", "25747"]
    queries = [
        SeriesQuery.of(code, areas, start="2025-02", view=view)
        for code, views in (
            ("T_FLOW", ("level", "ytd", "yoy")),
            ("T_FLOW2", ("level", "ytd")),
            ("T_STOCK", ("level",)),
            ("T_MEAN", ("level", "ytd")),
            ("T_NONE", ("level",)),
            ("T_BALANCE", ("level", "ytd")),
            ("T_YTD", ("level",)),
            ("T_Q", ("level",)),
        )
        for view in views
    ]
    statements: list[str] = []

    def computed(read_ahead: bool) -> list[list[SeriesView]]:
        series_cache.clear()
        versions = data_versions(session)
        statements.clear()
        if read_ahead:
            prefetch(session=session, queries=queries, versions=versions)
        return [cached_series(session=session, query=q, versions=versions) for q in queries]

    engine = session.get_bind().engine
    listen = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        one_by_one = computed(read_ahead=False)
        by_one = len(statements)
        ahead = computed(read_ahead=True)
        together = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert ahead == one_by_one
    # And both are what adding up the observations themselves gives (the path of a past moment, no roll-ups).
    now = datetime.now(UTC) + timedelta(minutes=1)
    added_up = [compute_series(session=session, query=q, as_of=now) for q in queries]
    assert [[(s.area, s.points) for s in found] for found in ahead] == [
        [(s.area, s.points) for s in found] for found in added_up
    ]
    assert any(p.value for s in ahead[0] for p in s.points)  # the test compares figures, not empty series
    assert together <= 3 < by_one, (together, by_one)


@pytest.mark.usefixtures("catalogue")
def test_a_pages_series_sharing_their_inputs_are_each_what_it_is_alone(session: Session) -> None:
    """A page's series work out each input once and share it (a balance and its flows, a change and its level, a
    year to date and its months): each series is still what it is when computed alone, whatever the page asked
    for before it, at another frequency, breakdown, first period or set of areas."""
    rows = [
        obs(code, area, f"{year}-{month:02d}", value * month * (year - 2020), **extra)
        for code, value, extra in (
            ("T_FLOW", 10, {}),
            ("T_FLOW", 3, {"dims": {"T_SECTOR": "AGR"}}),
            ("T_FLOW2", 4, {}),
        )
        for area in ("01", "79")
        for year in (2024, 2025)
        for month in range(1, 13)
    ]
    put(session, [*rows, obs("T_POP", "79", "2024", 9_000_000), obs("T_POP", "79", "2025", 9_100_000)])
    areas = ["VN", "01", "79"]
    queries = [
        SeriesQuery.of("T_BALANCE", areas, start="2025-02", view="ytd"),
        SeriesQuery.of("T_BALANCE", areas, start="2025-02"),
        SeriesQuery.of("T_BALANCE", ["79", "VN"], start="2025-02", view="yoy"),
        SeriesQuery.of("T_FLOW", areas, start="2025-02"),
        SeriesQuery.of("T_FLOW", areas, start="2025-02", view="yoy"),
        SeriesQuery.of("T_FLOW", areas, start="2025-02", view="ytd"),
        SeriesQuery.of("T_FLOW", areas, start="2025-02", dims={"T_SECTOR": "AGR"}),
        SeriesQuery.of("T_FLOW", areas, freq="Q"),
        SeriesQuery.of("T_FLOW", areas, freq="Q", view="ytd"),
        SeriesQuery.of("T_FLOW", areas, freq="A", view="yoy"),
        SeriesQuery.of("T_YTD", areas, start="2025-02"),
        SeriesQuery.of("T_PER_HEAD", ["79"], freq="A"),
        SeriesQuery.of("T_FLOW2", areas),
    ]
    versions = data_versions(session)
    assert versions.shared is not None
    prefetch(session=session, queries=queries, versions=versions)
    together = [compute_series(session=session, query=q, shared=versions.shared) for q in queries]
    assert versions.shared.worked  # they did share what they worked out
    alone = [compute_series(session=session, query=q) for q in queries]
    assert together == alone
    empty = [q for q, found in zip(queries, together, strict=True) if not any(p.value for s in found for p in s.points)]
    assert empty == []  # the test compares figures, not empty series
    # In the reverse order too: what a later series worked out first is no different.
    versions = data_versions(session)
    backwards = [compute_series(session=session, query=q, shared=versions.shared) for q in reversed(queries)]
    assert backwards[::-1] == alone


@pytest.mark.usefixtures("catalogue")
def test_a_write_recomputes_only_the_areas_it_adds_up_into(session: Session) -> None:
    """A province's write recomputes that province and the nation, a ward's its province too, a retired unit's the
    province it was merged into; the other provinces' answers are kept. Each answer equals one computed afresh."""
    series_cache.clear()
    put(session, [obs(code, area, "2025-08", 10) for code in ("T_FLOW", "T_FLOW2") for area in ("01", "79", "48")])
    areas = ["VN", "01", "79", "48"]
    query = SeriesQuery.of("T_FLOW", areas)
    balance = SeriesQuery.of("T_BALANCE", areas)  # computed from T_FLOW and T_FLOW2

    def answers() -> dict[tuple[str, str], SeriesView]:
        return {(v.indicator, v.area): v for q in (query, balance) for v in cached_series(session=session, query=q)}

    def fresh() -> dict[tuple[str, str], tuple[object, ...]]:
        return {
            (v.indicator, v.area): v.points for q in (query, balance) for v in compute_series(session=session, query=q)
        }

    def recomputed(now: dict[tuple[str, str], SeriesView], then: dict[tuple[str, str], SeriesView]) -> set[str]:
        return {f"{code}@{area}" for (code, area), view in now.items() if view is not then[(code, area)]}

    before = answers()
    put(session, [obs("T_FLOW", "79", "2025-08", 25)])
    after = answers()
    touched = {"T_FLOW@VN", "T_FLOW@79", "T_BALANCE@VN", "T_BALANCE@79"}
    assert recomputed(after, before) == touched
    assert after[("T_FLOW", "79")].points[-1].value == 25 and after[("T_FLOW", "VN")].points[-1].value == 45
    assert after[("T_BALANCE", "79")].points[-1].value == 15
    assert {key: v.points for key, v in after.items()} == fresh()

    put(session, [obs("T_FLOW", "25747", "2025-08", 5)])  # a ward of province 79
    again = answers()
    assert recomputed(again, after) == touched

    put(session, [obs("T_FLOW", "77", "2025-05", 7)])  # Bà Rịa - Vũng Tàu, merged into 79 in July 2025
    merged = answers()
    assert recomputed(merged, again) == touched
    assert {key: v.points for key, v in merged.items()} == fresh()

    # Another indicator's write leaves these answers as they are.
    put(session, [obs("T_STOCK", "01", "2025-08", 3)])
    assert recomputed(answers(), merged) == set()
