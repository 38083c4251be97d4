"""Migration 0027 indexes a store's roll-ups at 0026 as pages read them, and takes the index away again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from govops.db.migrate import alembic_config, current_revision, upgrade
from tests.db.test_migrations import fresh_engine

__all__ = ["fresh_engine"]


def _rollup_indexes(engine: Engine) -> dict[str, list[str | None]]:
    """Index name -> its key columns, then (PostgreSQL) the columns it carries."""
    return {
        ix["name"]: [*ix["column_names"], *ix.get("dialect_options", {}).get("postgresql_include", [])]
        for ix in inspect(engine).get_indexes("area_rollup")
        if ix["name"]
    }


def test_the_rollups_series_index_comes_with_0027_and_goes_with_its_downgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0026")
    assert "ix_area_rollup_series" not in _rollup_indexes(fresh_engine)
    upgrade(fresh_engine, "0027")
    assert current_revision(fresh_engine) == "0027"
    carried = ["period", "value", "status", "have", "expected"] if fresh_engine.dialect.name == "postgresql" else []
    keys = ["indicator_id", "dim_key", "area_id", "period_start"]
    assert _rollup_indexes(fresh_engine)["ix_area_rollup_series"] == keys + carried
    command.downgrade(alembic_config(fresh_engine), "0026")
    assert "ix_area_rollup_series" not in _rollup_indexes(fresh_engine)
    assert current_revision(fresh_engine) == "0026"
