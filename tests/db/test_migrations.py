from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, bindparam, inspect, select, text
from sqlalchemy.engine import make_url

from govops.catalog.service import load_reference
from govops.db.base import UTCDateTime
from govops.db.engine import make_engine, transaction
from govops.db.migrate import alembic_config, current_revision, head_revision, upgrade
from govops.events.models import DomainEvent
from govops.events.service import Event, Interest, ReadRule, emit, read
from govops.tables import metadata


# SQLite cannot read an index on an expression back, so it is left out of the comparison there (it is made on
# PostgreSQL only, and compared there).
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index 'ix_task_open_due'")
def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_sqlite_store_runs_in_wal_mode_with_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


@pytest.fixture
def fresh_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty store of the same kind as the suite's, for migrating by hand."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    else:
        name = f"{url.database}_migrations"
        server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    yield engine
    engine.dispose()


def test_stored_change_events_become_domain_events_with_their_ids(fresh_engine: Engine) -> None:
    engine = fresh_engine
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
    command.downgrade(alembic_config(engine), "0010")
    # Changes as the old table held them, ids with gaps (as a sequence leaves them), one with a breakdown.
    with engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT code, id FROM indicator WHERE code IN ('CPI', 'TREASURY_CASH')")).all())
        area = conn.scalar(text("SELECT id FROM area WHERE code = '79'"))
        at = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
        for obs_id, code, key in ((1, "CPI", "COICOP_VN=01"), (2, "TREASURY_CASH", "")):
            conn.execute(
                text(
                    "INSERT INTO observation (id, indicator_id, area_id, period, period_start, dim_key, value, status,"
                    " version, updated_at) VALUES (:id, :ind, :area, '2026-08', :start, :key, 1, 'final', 2, :at)"
                ).bindparams(bindparam("at", type_=UTCDateTime())),
                {"id": obs_id, "ind": ids[code], "area": area, "start": date(2026, 8, 1), "key": key, "at": at},
            )
        for event_id, obs_id, code, key, value, version in (
            (5, 1, "CPI", "COICOP_VN=01", 100.5, 1), (9, 2, "TREASURY_CASH", "", 7.0, 1),
            (12, 1, "CPI", "COICOP_VN=01", 101.0, 2),
        ):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO change_event (id, indicator_id, seq, observation_id, area_id, period, dim_key, value,"
                    " status, version, recorded_at, recorded_by, submission_id) VALUES (:id, :ind, :seq, :obs, :area,"
                    " '2026-08', :key, :value, 'final', :version, :at, 'tester', 'sub-1')"
                ).bindparams(bindparam("at", type_=UTCDateTime())),
                {"id": event_id, "ind": ids[code], "seq": version, "obs": obs_id, "area": area, "key": key,
                 "value": value, "version": version, "at": at},
            )  # fmt: skip
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    with transaction(engine) as session:
        moved = session.scalars(
            select(DomainEvent).where(DomainEvent.type == "observation.changed").order_by(DomainEvent.id)
        ).all()
        assert [(e.id, e.subject, e.read_classification, e.read_indicator) for e in moved] == [
            (5, "CPI/79/2026-08/COICOP_VN=01", "public", "CPI"),
            (9, "TREASURY_CASH/79/2026-08", "confidential", "TREASURY_CASH"),
            (12, "CPI/79/2026-08/COICOP_VN=01", "public", "CPI"),
        ]
        assert Event.of(moved[2]).as_json() == {
            "id": 12, "topic": "observations", "type": "observation.changed", "subject": "CPI/79/2026-08/COICOP_VN=01",
            "recorded_at": "2026-09-01T03:00:00Z", "indicator": "CPI", "seq": 2, "area": "79", "period": "2026-08",
            "dims": {"COICOP_VN": "01"}, "value": 101.0, "status": "final", "version": 2, "submission": "sub-1",
        }  # fmt: skip
        assert (moved[0].recorded_by, moved[0].cause) == ("tester", "sub-1")
        # A cursor kept from before goes on where it was, under the same rights.
        found = read(session=session, after_id=5, limit=10, interest=Interest(frozenset({"public"})))
        assert [e.id for e in found.items] == [12]
        # New events follow the moved ones.
        new = emit(session=session, topic="t", type="t.x", subject="s", payload={}, rule=ReadRule("public"))
        assert new.id > 12


def test_the_reporting_board_indexes_go_up_and_down(fresh_engine: Engine) -> None:
    def indexes() -> set[str]:
        return {i["name"] for i in inspect(fresh_engine).get_indexes("reporting_expected") if i["name"]}

    upgrade(fresh_engine)
    board = {"ix_reporting_expected_period_start", "ix_reporting_expected_period_agency_status"}
    assert board <= indexes() and "ix_reporting_expected_period_status" not in indexes()
    command.downgrade(alembic_config(fresh_engine), "0019")
    assert not board & indexes() and "ix_reporting_expected_period_status" in indexes()
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision(fresh_engine) and board <= indexes()


def test_the_index_of_open_tasks_by_due_date_comes_and_goes_with_its_migration(fresh_engine: Engine) -> None:
    engine = fresh_engine
    postgres = engine.dialect.name == "postgresql"

    def indexes() -> set[str]:
        with engine.connect() as conn:
            if postgres:
                return set(conn.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'task'")))
            return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task'")))

    upgrade(engine)
    assert ("ix_task_open_due" in indexes()) == postgres
    command.downgrade(alembic_config(engine), "0020")
    assert "ix_task_open_due" not in indexes() and "ix_task_closed_deadline" in indexes()
    upgrade(engine)
    assert ("ix_task_open_due" in indexes()) == postgres
    assert current_revision(engine) == head_revision(engine)
