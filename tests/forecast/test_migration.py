"""Migrations 0023 and 0025 add the forecast tables (and the thresholds) and take them away again, on SQLite and
PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from govops.db.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.db.test_migrations import fresh_engine

TABLES = {"forecast_run", "forecast", "forecast_point", "forecast_warning"}

__all__ = ["fresh_engine"]


def test_the_forecast_tables_upgrade_and_downgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    assert set(inspect(fresh_engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(fresh_engine), "0022")
    assert current_revision(fresh_engine) == "0022"
    assert not TABLES & set(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision(fresh_engine)
    assert set(inspect(fresh_engine).get_table_names()) >= TABLES


def test_the_thresholds_migration_adds_its_tables_and_the_warnings_link_and_takes_them_away(
    fresh_engine: Engine,
) -> None:
    upgrade(fresh_engine, "0025")  # (0026 moves the watcher's cursor into the events' followers)
    assert {"forecast_threshold", "forecast_cursor"} <= set(inspect(fresh_engine).get_table_names())
    assert "threshold_id" in {c["name"] for c in inspect(fresh_engine).get_columns("forecast_warning")}
    command.downgrade(alembic_config(fresh_engine), "0024")
    assert not {"forecast_threshold", "forecast_cursor"} & set(inspect(fresh_engine).get_table_names())
    assert "threshold_id" not in {c["name"] for c in inspect(fresh_engine).get_columns("forecast_warning")}
    upgrade(fresh_engine)
    assert current_revision(fresh_engine) == head_revision(fresh_engine)
