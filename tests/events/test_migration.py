"""Migration 0026 moves the compliance follower's and the forecast watcher's cursors into the one table of event
followers and drops their own tables; its downgrade moves them back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, inspect, text

from govops.db.migrate import alembic_config, current_revision, upgrade
from tests.db.test_migrations import fresh_engine

__all__ = ["fresh_engine"]
OWN_TABLES = {"reporting_cursor", "forecast_cursor"}
MOVED_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _rows(engine: Engine, table: str) -> set[tuple[str, int]]:
    with engine.connect() as conn:
        return {(name, last) for name, last in conn.execute(text(f"SELECT name, last_event_id FROM {table}"))}


def test_the_followers_cursors_move_into_one_table_and_back(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0025")
    with fresh_engine.begin() as conn:
        for table, name, last in (("reporting_cursor", "observations", 1200), ("forecast_cursor", "watch", 1150)):
            conn.execute(
                text(f"INSERT INTO {table} (name, last_event_id, moved_at) VALUES (:name, :last, :at)"),
                {"name": name, "last": last, "at": MOVED_AT},
            )
    upgrade(fresh_engine, "0026")
    assert current_revision(fresh_engine) == "0026"
    assert OWN_TABLES.isdisjoint(inspect(fresh_engine).get_table_names())
    assert _rows(fresh_engine, "event_follower") == {("reporting.follow-changes", 1200), ("forecast.watch", 1150)}

    command.downgrade(alembic_config(fresh_engine), "0025")
    assert "event_follower" not in inspect(fresh_engine).get_table_names()
    assert _rows(fresh_engine, "reporting_cursor") == {("observations", 1200)}
    assert _rows(fresh_engine, "forecast_cursor") == {("watch", 1150)}
    upgrade(fresh_engine, "0026")
    assert _rows(fresh_engine, "event_follower") == {("reporting.follow-changes", 1200), ("forecast.watch", 1150)}
