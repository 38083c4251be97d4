"""Migration 0022 adds the quality tables to a store at 0021 and takes them away again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from govops.db.migrate import alembic_config, current_revision, upgrade
from tests.db.test_migrations import fresh_engine

__all__ = ["fresh_engine"]
TABLES = {"quality_rule", "quality_flag", "quality_flag_event"}


def test_quality_tables_come_with_0022_and_go_with_its_downgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0021")
    assert TABLES.isdisjoint(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine, "0022")
    assert current_revision(fresh_engine) == "0022"
    assert set(inspect(fresh_engine).get_table_names()) >= TABLES | {"observation"}
    indexes = {i["name"] for i in inspect(fresh_engine).get_indexes("quality_flag")}
    assert {"ix_quality_flag_agency_status", "ix_quality_flag_series"} <= indexes
    command.downgrade(alembic_config(fresh_engine), "0021")
    assert TABLES.isdisjoint(inspect(fresh_engine).get_table_names())
    assert current_revision(fresh_engine) == "0021"
