from __future__ import annotations

from pathlib import Path

import pytest

from govops.errors import GovopsError, Problem
from govops.warehouse.formats import read_file, read_text


def test_csv_rows_carry_their_line_numbers_and_dimension_columns() -> None:
    rows = read_text(
        "indicator,area,period,value,status,COICOP_VN\n\nCPI,01,2025-07,104.2,final,01\nCPI,01,2025-07,104.0,,\n",
        "csv",
        where="x.csv",
    )
    assert rows == [
        (
            3,
            {
                "indicator": "CPI",
                "area": "01",
                "period": "2025-07",
                "value": "104.2",
                "status": "final",
                "dims": {"COICOP_VN": "01"},
            },
        ),
        (4, {"indicator": "CPI", "area": "01", "period": "2025-07", "value": "104.0", "dims": {}}),
    ]


def test_csv_with_a_byte_order_mark_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("indicator,area,period,value\nCPI,01,2025-07,1\n".encode("utf-8-sig"))
    assert read_file(path)[0][1]["indicator"] == "CPI"


@pytest.mark.parametrize(
    ("text", "fmt", "words"),
    [
        ("", "csv", "empty"),
        ("indicator,area,value\n", "csv", "lacks period"),
        ("indicator,area,period,value,area\n", "csv", "repeated"),
        ('{"observations": [}', "json", "not valid JSON"),
        ('{"rows": []}', "json", '{"observations"'),
        ('{"indicator": "CPI"}\n{broken\n', "jsonl", "line 2"),
    ],
)
def test_unreadable_files_fail_as_a_whole_with_the_place(text: str, fmt: str, words: str) -> None:
    with pytest.raises(GovopsError) as caught:
        read_text(text, fmt, where="in.file")
    assert words in str(caught.value)


def test_a_short_row_or_a_non_object_is_a_problem_of_that_row_only() -> None:
    rows = read_text("indicator,area,period,value\nCPI,01\n", "csv", where="x.csv")
    assert isinstance(rows[0][1], Problem) and rows[0][1].row == 2
    items = read_text('[{"indicator": "CPI"}, 5]', "json", where="x.json")
    assert isinstance(items[1][1], Problem) and items[1][1].row == 2


def test_unknown_extension_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(GovopsError, match="cannot tell the format"):
        read_file(tmp_path / "data.txt")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("indicator,area,period,value\nCPI,01,2025-07,1\nĐ".encode("cp1258"))
    with pytest.raises(GovopsError, match="UTF-8"):
        read_file(latin)
