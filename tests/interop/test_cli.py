"""`govops mapping`, `govops template` and `govops dhis2` as an operator runs them, in real processes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import yaml

from tests.cli.conftest import Govops, govops, initialised_store
from tests.conftest import shared_file

__all__ = ["govops", "initialised_store"]

ECB_MAPPING = "dataflow: EXR\nseries:\n  - match: {CURRENCY: USD}\n    indicator: EXPORTS\n    area: VN\n"


def test_a_mapping_is_checked_stored_listed_and_shown(govops: Govops, tmp_path: Path) -> None:
    good = tmp_path / "ecb.yaml"
    good.write_text(ECB_MAPPING, encoding="utf-8")
    structure = shared_file("sdmx", "ECB_EXR", "1", "structure-full.xml")
    saved = govops("mapping", "put", "ecb-exr", str(good), "--kind", "sdmx", "--structure", str(structure))
    assert saved.code == 0, saved.err
    assert "mapping ecb-exr (sdmx) saved; submit with ?mapping=ecb-exr" in saved.out
    listed = govops("mapping", "list")
    assert "ecb-exr" in listed.out and "yes" in listed.out
    assert govops("mapping", "show", "ecb-exr").out.strip() == ECB_MAPPING.strip()

    bad = tmp_path / "bad.yaml"
    bad.write_text("dataflow: EXR\nseries: [\n", encoding="utf-8")
    refused = govops("mapping", "put", "broken", str(bad))
    assert refused.code == 1 and "line" in refused.err
    assert "broken" not in govops("mapping", "list").out


def test_a_template_is_written_for_an_agency_and_a_year(govops: Govops, tmp_path: Path) -> None:
    out = tmp_path / "hcm.xlsx"
    made = govops(
        "template", "xlsx", "--group", "ENTERPRISES", "--agency", "PC-79", "--year", "2026", "--wards", "-o", str(out)
    )
    assert made.code == 0, made.err
    book = openpyxl.load_workbook(out)
    sheet = book["ENT_NEW"]
    codes = [row[0].value for row in sheet.iter_rows() if isinstance(row[0].value, str) and row[0].value.isdigit()]
    # Hồ Chí Minh City itself, then its wards (5-digit codes).
    assert codes[0] == "79" and len(codes) > 100 and all(len(c) == 5 for c in codes[1:])
    periods = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:5] == "2026-"]
    assert periods == [f"2026-{m:02d}" for m in range(1, 13)]

    nothing = govops("template", "xlsx", "--group", "ENTERPRISES", "--agency", "MOH", "--year", "2026")
    assert nothing.code == 1 and "MOH submits no indicator of group ENTERPRISES" in nothing.err


def test_dhis2_metadata_becomes_a_catalogue_and_a_mapping_that_load(govops: Govops, tmp_path: Path) -> None:
    catalogue, mapping = tmp_path / "catalogue.yaml", tmp_path / "mapping.yaml"
    made = govops(
        "dhis2", "catalogue", str(shared_file("dhis2", "aggregate_metadata.json")),
        "--owner", "MOH", "--unit", "CASES", "--group", "SOCIAL", "--org-unit", "O6uvpzGd5pu=79",
        "-o", str(catalogue), "--mapping-output", str(mapping),
    )  # fmt: skip
    assert made.code == 0, made.err
    assert len(yaml.safe_load(catalogue.read_text(encoding="utf-8"))["indicators"]) == 64
    imported = govops("catalog", "import", str(catalogue))
    assert imported.code == 0, imported.err
    saved = govops("mapping", "put", "moh", str(mapping), "--kind", "dhis2")
    assert saved.code == 0, saved.err
