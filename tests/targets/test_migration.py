"""Migration 0024 adds the targets' tables to a store at 0023 and takes them away again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from govops.db.migrate import alembic_config, current_revision, upgrade
from tests.db.test_migrations import fresh_engine

__all__ = ["fresh_engine"]
TABLES = {"target_plan", "target", "target_agency", "target_task", "target_progress", "target_rating"}


def test_the_targets_tables_come_with_0024_and_go_with_its_downgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0023")
    assert TABLES.isdisjoint(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine, "0024")
    assert current_revision(fresh_engine) == "0024"
    assert set(inspect(fresh_engine).get_table_names()) >= TABLES | {"indicator", "task"}
    command.downgrade(alembic_config(fresh_engine), "0023")
    assert TABLES.isdisjoint(inspect(fresh_engine).get_table_names())
    assert current_revision(fresh_engine) == "0023"
