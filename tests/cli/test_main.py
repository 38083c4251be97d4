from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from tests.cli.conftest import Govops


def observations(store: Path) -> list[tuple[str, str, str, float]]:
    engine = create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.code, a.code, o.period, o.value FROM observation o JOIN indicator i ON i.id = o.indicator_id "
                "JOIN area a ON a.id = o.area_id ORDER BY i.code, a.code, o.period"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_init_is_repeatable_and_says_what_it_loaded(govops: Govops) -> None:
    result = govops("init")
    assert result.code == 0, result.err
    assert "3385 areas" in result.out and "indicators" in result.out


def test_ingest_csv_writes_every_row(govops: Govops, tmp_path: Path) -> None:
    data = tmp_path / "cpi.csv"
    data.write_text(
        "indicator,area,period,value,status,COICOP_VN\n"
        "CPI,01,2025-07,104.2,final,\n"
        "CPI,79,2025-07,103.9,final,\n"
        "CPI,79,2025-07,105.1,final,01\n",
        encoding="utf-8",
    )
    result = govops("ingest", str(data))
    assert result.code == 0, result.err
    assert "3 rows: 3 new" in result.out
    assert observations(govops.store) == [
        ("CPI", "01", "2025-07", 104.2),
        ("CPI", "79", "2025-07", 103.9),
        ("CPI", "79", "2025-07", 105.1),
    ]
    again = govops("ingest", str(data))
    assert "3 unchanged" in again.out


def test_ingest_with_bad_rows_names_them_writes_nothing_and_fails(govops: Govops, tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(
        "indicator,area,period,value\n"
        "CPI,01,2025-07,104.2\n"
        "CPI,01,2025-7-1,104.2\n"
        "CPI,99,2025-08,104.2\n"
        "CPI,01,2025-09,1.234,5\n",
        encoding="utf-8",
    )
    result = govops("ingest", str(data))
    assert result.code == 1
    assert "nothing was written" in result.err
    for line, words in (("3", "period"), ("4", "unknown area"), ("5", "cells")):
        assert any(
            row.split()[1:2] == [line] and words in row
            for row in result.err.splitlines()
            if row.strip().startswith("│")
        ), (line, result.err)
    assert observations(govops.store) == []


def test_ingest_json_lines_and_bad_header(govops: Govops, tmp_path: Path) -> None:
    data = tmp_path / "x.jsonl"
    data.write_text(
        json.dumps({"indicator": "CPI", "area": "01", "period": "2025-07", "value": 101.0}) + "\n", encoding="utf-8"
    )
    assert govops("ingest", str(data)).code == 0
    header = tmp_path / "header.csv"
    header.write_text("indicator,area,when,value\nCPI,01,2025-07,1\n", encoding="utf-8")
    result = govops("ingest", str(header))
    assert result.code == 1 and "line 1" in result.err and "period" in result.err


def test_catalogue_export_import_round_trip_and_errors(govops: Govops, tmp_path: Path) -> None:
    exported = tmp_path / "catalogue.yaml"
    assert govops("catalog", "export", "-o", str(exported)).code == 0
    doc = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert len(doc["indicators"]) >= 40
    cpi = next(i for i in doc["indicators"] if i["code"] == "CPI")
    cpi["name_en"] = "Consumer price index (all items)"
    exported.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert govops("catalog", "import", str(exported)).code == 0
    as_json = govops("catalog", "export", "--format", "json")
    again = json.loads(as_json.out)
    assert next(i for i in again["indicators"] if i["code"] == "CPI")["name_en"] == "Consumer price index (all items)"
    assert again == json.loads(json.dumps(doc, ensure_ascii=False)) | {"indicators": again["indicators"]}

    cpi["unit"] = "NO_SUCH_UNIT"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = govops("catalog", "import", str(broken))
    assert result.code == 1 and "indicators[CPI].unit" in result.err and "NO_SUCH_UNIT" in result.err


def test_series_command_prints_a_table(govops: Govops, tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text(
        "indicator,area,period,value\n" + "".join(f"CPI,VN,2025-{m:02d},{100 + m}\n" for m in range(1, 7)),
        encoding="utf-8",
    )
    assert govops("ingest", str(data)).code == 0
    result = govops("series", "CPI", "--freq", "Q")
    assert result.code == 0, result.err
    assert "2025-Q1" in result.out and "102.00" in result.out and "3/3" in result.out


def test_serve_refuses_an_uninitialised_store(tmp_path: Path) -> None:
    result = Govops(tmp_path / "empty.db", tmp_path)("serve")
    assert result.code == 1 and "govops init" in result.err


def test_help_lists_the_commands(govops: Govops) -> None:
    result = govops("--help")
    for command in ("init", "demo", "serve", "ingest", "catalog", "db"):
        assert command in result.out
