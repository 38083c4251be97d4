"""Every foreign key is indexed: deleting or re-keying a parent row never scans the whole child table."""

from __future__ import annotations

from sqlalchemy import Engine, inspect


def unindexed_foreign_keys(engine: Engine) -> list[str]:
    """`table(columns) -> referred table` for each foreign key whose columns lead no index or primary key."""
    inspector = inspect(engine)
    missing = []
    for table in inspector.get_table_names():
        leading = [tuple(inspector.get_pk_constraint(table)["constrained_columns"])]
        leading += [tuple(c for c in index["column_names"] if c) for index in inspector.get_indexes(table)]
        leading += [tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)]
        for key in inspector.get_foreign_keys(table):
            columns = tuple(key["constrained_columns"])
            if not any(found[: len(columns)] == columns for found in leading):
                missing.append(f"{table}({', '.join(columns)}) -> {key['referred_table']}")
    return sorted(missing)


def test_every_foreign_key_of_the_migrated_store_is_indexed(engine: Engine) -> None:
    assert unindexed_foreign_keys(engine) == []


def test_the_check_sees_a_foreign_key_without_an_index(engine: Engine) -> None:
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

    scratch = MetaData()
    Table("fk_check_parent", scratch, Column("id", Integer, primary_key=True))
    Table(
        "fk_check_child",
        scratch,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("fk_check_parent.id")),
    )
    scratch.create_all(engine)
    try:
        found = [f for f in unindexed_foreign_keys(engine) if f.startswith("fk_check_")]
        assert found == ["fk_check_child(parent_id) -> fk_check_parent"]
    finally:
        scratch.drop_all(engine)
