"""`govops targets import` and `govops targets board` as an operator runs them: a YAML file and an Excel file
(the cascade as rows naming their national target) entered, a file that cannot hold refused with each problem
named by its place and nothing written, the board printed."""

from __future__ import annotations

from pathlib import Path

import yaml
from openpyxl import Workbook

from tests.cli.conftest import Govops, govops, initialised_store
from tests.targets.test_walk import TARGETS

__all__ = ["govops", "initialised_store"]


def test_a_yaml_file_and_an_excel_file_are_imported_and_the_board_printed(govops: Govops, tmp_path: Path) -> None:
    file = tmp_path / "targets.yaml"
    file.write_text(yaml.safe_dump(TARGETS, allow_unicode=True), encoding="utf-8")
    done = govops("targets", "import", str(file))
    assert done.code == 0, done.err
    assert "1 plans and 1 targets entered from targets.yaml" in done.out

    book = Workbook()
    plans = book.active
    assert plans is not None
    plans.title = "plans"
    plans.append(["code", "kind", "title_vi", "title_en", "issuer"])
    plans.append(["T-02/2026", "decision", "Quyết định thử", "A test decision", "Thủ tướng Chính phủ"])
    sheet = book.create_sheet("targets")
    sheet.append(
        [
            "code",
            "plan",
            "name_vi",
            "name_en",
            "indicator",
            "comparator",
            "value",
            "unit",
            "period",
            "agencies",
            "parent",
            "area",
        ]
    )
    sheet.append(
        [
            "RET-2026",
            "T-02/2026",
            "Bán lẻ 2026",
            "Retail 2026",
            "RETAIL_SALES",
            "at_least",
            3000,
            "BN_VND",
            2026,
            "MOIT, MOF",
            None,
            None,
        ]
    )
    sheet.append([None, None, None, None, None, None, 1000, None, None, None, "RET-2026", "01"])
    sheet.append([None, None, None, None, None, None, 2000, None, None, None, "RET-2026", "79"])
    book.save(tmp_path / "targets.xlsx")
    done = govops("targets", "import", str(tmp_path / "targets.xlsx"))
    assert done.code == 0, done.err
    assert "1 plans and 1 targets entered from targets.xlsx" in done.out

    board = govops("targets", "board", "--year", "2026")
    assert board.code == 0, board.err
    assert "EXP-2026" in board.out and "RET-2026" in board.out and "no_data" in board.out
    again = govops("jobs", "run", "targets.refresh")
    assert again.code == 0, again.err
    assert "6 targets computed again" in again.out + again.err
    province = govops("targets", "board", "--year", "2026", "--area", "79")
    assert "RET-2026.79" in province.out and "EXP-2026.79" in province.out


def test_a_file_that_cannot_hold_is_refused_naming_each_problem_and_nothing_is_entered(
    govops: Govops, tmp_path: Path
) -> None:
    wrong = {
        "plans": [],
        "targets": [
            {**TARGETS["targets"][0], "plan": "NO/SUCH", "unit": "PCT"},
            {**TARGETS["targets"][0], "code": "X-2026", "period": "2026-W10", "plan": "NO/SUCH", "cascade": []},
        ],
    }
    file = tmp_path / "wrong.yaml"
    file.write_text(yaml.safe_dump(wrong, allow_unicode=True), encoding="utf-8")
    refused = govops("targets", "import", str(file))
    assert refused.code != 0
    text = refused.err + refused.out
    assert "wrong.yaml" in text and "no plan NO/SUCH" in text
    assert "the target is in PCT but EXPORTS is measured in MN_USD" in text
    assert "EXPORTS has no figure for 2026-W10" in text
    assert "EXP-2026" not in govops("targets", "board", "--year", "2026").out
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    said = govops("targets", "import", str(broken))
    assert said.code != 0 and "broken.xlsx cannot be read" in said.err + said.out
