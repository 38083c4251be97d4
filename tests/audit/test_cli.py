"""`govops audit ...` run as a user runs it: a real process on its own SQLite store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.cli.conftest import Govops


def sql(store: Path, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite:///{store}")
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def ingest(govops: Govops, tmp_path: Path, name: str, value: float) -> None:
    data = tmp_path / name
    data.write_text(f"indicator,area,period,value\nCPI,01,2025-07,{value}\nIIP,01,2025-07,101\n", encoding="utf-8")
    result = govops("ingest", str(data))
    assert result.code == 0, result.err


def test_verify_exits_0_on_an_intact_trail_and_1_naming_the_broken_entry(govops: Govops, tmp_path: Path) -> None:
    empty = govops("audit", "verify")
    assert (empty.code, empty.out.splitlines()) == (
        0,
        ["audit trail intact: 0 entries", "no checkpoints yet: write one with `govops audit checkpoint`"],
    )
    for i, value in enumerate((104.2, 104.3, 104.4)):
        ingest(govops, tmp_path, f"batch{i}.csv", value)
    intact = govops("audit", "verify")
    assert (intact.code, intact.out.splitlines()[0]) == (0, "audit trail intact: 3 entries"), intact.err
    rows = sql(govops.store, "SELECT id, action, actor_kind, actor, target, detail FROM audit_entry ORDER BY id")
    assert [r[1:5] for r in rows] == [("observations.write", "system", "system", "CPI,IIP")] * 3
    assert '"created":2' in str(rows[0][5]) and '"updated":1' in str(rows[1][5]) and '"via":"cli"' in str(rows[0][5])

    sql(
        govops.store,
        "UPDATE audit_entry SET detail = replace(detail, :was, :now) WHERE id = 2",
        was='"updated":1',
        now='"updated":0',
    )
    broken = govops("audit", "verify")
    assert broken.code == 1
    assert broken.err.strip() == "audit trail broken at entry 2: hash does not match its content"

    fresh = tmp_path / "again.db"
    (tmp_path / "again.db").write_bytes(govops.store.read_bytes())
    sql(fresh, "DELETE FROM audit_entry WHERE id = 2")
    gap = Govops(fresh, tmp_path)("audit", "verify")
    assert gap.code == 1
    assert gap.err.strip() == "audit trail broken at entry 3: prev_hash does not match the previous entry's hash"


def test_list_shows_the_newest_entries_first(govops: Govops, tmp_path: Path) -> None:
    ingest(govops, tmp_path, "data.csv", 104.2)
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text("groups:\n- {code: T_CLI, kind: report, name_vi: Nhóm, name_en: Group}\n", encoding="utf-8")
    assert govops("catalog", "import", str(catalogue)).code == 0
    listed = govops("audit", "list")
    assert listed.code == 0, listed.err
    lines = [line for line in listed.out.splitlines() if line.startswith("│")]
    assert "catalogue.import" in lines[0] and "catalogue.yaml" in lines[0]
    assert "observations.write" in lines[1] and "CPI,IIP" in lines[1]
    assert listed.out.strip().endswith("2 entries")

    only = govops("audit", "list", "--action", "observations.write", "--actor", "system", "--since", "2020-01-01")
    assert "observations.write" in only.out and "catalogue.import" not in only.out
    assert govops("audit", "list", "--since", "2999-01-01").out.strip().endswith("0 entries")
    assert "1 entries (more" in govops("audit", "list", "--limit", "1").out
    bad = govops("audit", "list", "--since", "yesterday")
    assert bad.code == 1 and "not a date or time" in bad.err


def test_user_commands_are_recorded(govops: Govops) -> None:
    def run(*args: str, password: str | None = None) -> None:
        done = govops(*args, input=None if password is None else password + "\n")
        assert done.code == 0, done.err

    run(
        "user", "create", "nguyen.van.a", "--agency", "PC-01", "--role", "viewer", "--password-stdin", password="x" * 12
    )
    run("user", "passwd", "nguyen.van.a", "--password-stdin", password="y" * 12)
    run("user", "disable", "nguyen.van.a")
    rows = sql(govops.store, "SELECT action, target, detail FROM audit_entry ORDER BY id")
    assert [r[:2] for r in rows] == [
        ("user.create", "nguyen.van.a"),
        ("user.password", "nguyen.van.a"),
        ("user.update", "nguyen.van.a"),
    ]
    assert '"role":"viewer"' in str(rows[0][2]) and "yyyy" not in str(rows[1][2])
    assert '"changes":{"active":[true,false]}' in str(rows[2][2])
    assert govops("audit", "verify").out.splitlines()[0] == "audit trail intact: 3 entries"
