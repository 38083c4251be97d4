"""`govops catalog import` as a user runs it, on a store holding observations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.cli.conftest import Govops, govops, initialised_store  # noqa: F401  (the CLI's fixtures)


def stored(store: Path) -> tuple[list[tuple[Any, ...]], list[str]]:
    """CPI's observations and the codes of COICOP_VN."""
    engine = create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        observations = conn.execute(
            text(
                "SELECT a.code, o.period, o.dim_key, o.value FROM observation o "
                "JOIN indicator i ON i.id = o.indicator_id JOIN area a ON a.id = o.area_id "
                "WHERE i.code = 'CPI' ORDER BY o.id"
            )
        ).all()
        codes = conn.execute(
            text(
                "SELECT c.code FROM code_item c JOIN codelist l ON l.id = c.codelist_id "
                "WHERE l.code = 'COICOP_VN' ORDER BY c.position"
            )
        ).scalars()
        result = [tuple(r) for r in observations], list(codes)
    engine.dispose()
    return result


@pytest.fixture
def cpi_by_group(govops: Govops, tmp_path: Path) -> Path:  # noqa: F811
    """A store with CPI observations of food and catering (01) and of all items; returns its exported catalogue."""
    data = tmp_path / "cpi.csv"
    data.write_text(
        "indicator,area,period,value,COICOP_VN\nCPI,01,2025-07,104.1,01\nCPI,79,2025-07,103.2,01\nCPI,01,2025-07,102.5,\n",
        encoding="utf-8",
    )
    assert govops("ingest", str(data)).code == 0
    exported = tmp_path / "catalogue.yaml"
    assert govops("catalog", "export", "-o", str(exported)).code == 0
    return exported


def edit(path: Path, target: Path, change: Any) -> Path:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    target.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return target


def drop_food(doc: dict[str, Any]) -> None:
    coicop = next(c for c in doc["codelists"] if c["code"] == "COICOP_VN")
    coicop["codes"] = [c for c in coicop["codes"] if c["code"] != "01"]


def table_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("│ ").split("│")] for line in text.splitlines() if "│" in line]


def test_an_import_removing_a_used_code_is_refused_and_the_store_is_unchanged(
    govops: Govops,  # noqa: F811
    cpi_by_group: Path,
    tmp_path: Path,
) -> None:
    before = stored(govops.store)
    assert before[1][0] == "01" and len(before[0]) == 3
    without_food = edit(cpi_by_group, tmp_path / "without-food.yaml", drop_food)
    result = govops("catalog", "import", str(without_food))
    assert result.code == 1
    assert "code 01 of COICOP_VN is used by 2 observations of CPI" in result.err
    assert "delete those observations first" in result.err and "nothing was written" in result.err
    assert stored(govops.store) == before


def test_plan_lists_the_removal_and_its_observations_and_writes_nothing(
    govops: Govops,  # noqa: F811
    cpi_by_group: Path,
    tmp_path: Path,
) -> None:
    before = stored(govops.store)
    without_food = edit(cpi_by_group, tmp_path / "without-food.yaml", drop_food)
    result = govops("catalog", "import", "--plan", str(without_food))
    assert result.code == 1, result.err
    rows = table_rows(result.out)
    assert ["removed", "code", "COICOP_VN=01", "Food and catering services", "CPI", "2", "refused"] in rows, result.out
    assert "1 removed; 1 refused" in result.out
    assert "would be refused" in result.err and "code 01 of COICOP_VN is used by 2 observations" in result.err
    assert stored(govops.store) == before


def test_an_import_that_only_adds_goes_through_and_its_plan_says_so(
    govops: Govops,  # noqa: F811
    cpi_by_group: Path,
    tmp_path: Path,
) -> None:
    def add_gold(doc: dict[str, Any]) -> None:
        coicop = next(c for c in doc["codelists"] if c["code"] == "COICOP_VN")
        coicop["codes"].append({"code": "12", "name_vi": "Vàng", "name_en": "Gold"})

    with_gold = edit(cpi_by_group, tmp_path / "with-gold.yaml", add_gold)
    plan = govops("catalog", "import", "--plan", str(with_gold))
    assert plan.code == 0, plan.err
    assert ["added", "code", "COICOP_VN=12", "Gold", "", "", "ok"] in table_rows(plan.out), plan.out
    assert "the import can go ahead; nothing was written" in plan.out
    assert stored(govops.store)[1][-1] == "11"

    imported = govops("catalog", "import", str(with_gold))
    assert imported.code == 0, imported.err
    assert "(1 added, 0 changed, 0 removed)" in imported.out
    observations, codes = stored(govops.store)
    assert codes[0] == "01" and codes[-1] == "12" and len(observations) == 3
    assert "would change nothing" in govops("catalog", "import", "--plan", str(with_gold)).out


def catalogue_events(store: Path) -> list[tuple[str, str, str]]:
    """The stored catalogue events: type, subject and who made the change, oldest first."""
    engine = create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, subject, recorded_by FROM domain_event WHERE topic = 'catalog' ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_catalogue_events_say_who_made_the_change(
    govops: Govops,  # noqa: F811
    cpi_by_group: Path,
    tmp_path: Path,
) -> None:
    loaded = catalogue_events(govops.store)
    # `govops init` loaded the reference catalogue: the system created every indicator.
    assert loaded and {(kind, by) for kind, _, by in loaded} == {("indicator.created", "system")}

    def rename_cpi(doc: dict[str, Any]) -> None:
        next(i for i in doc["indicators"] if i["code"] == "CPI")["name_en"] = "Consumer prices"

    renamed = edit(cpi_by_group, tmp_path / "renamed.yaml", rename_cpi)
    assert govops("catalog", "import", str(renamed)).code == 0
    assert catalogue_events(govops.store)[len(loaded) :] == [("indicator.updated", "CPI", "cli:renamed.yaml")]
