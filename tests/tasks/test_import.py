"""The Government Office's task lists (.xlsx): imported whole or not at all, each problem named by row and cell."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.errors import GovopsError, Rejected
from govops.tasks import service, spreadsheet
from govops.tasks.models import Directive, Task
from tests.cli.conftest import Govops

HEADERS = [
    "STT",
    "Số văn bản",
    "Ngày ban hành",
    "Trích yếu",
    "Nội dung nhiệm vụ",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời hạn",
]


def workbook(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "DS nhiem vu"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = [
    [
        1,
        "15/NQ-CP-T",
        date(2025, 3, 1),
        "Nghị quyết phiên họp tháng 2",
        "Hoàn thiện Đề án",
        "Bộ Tài chính",
        "Bộ Tư pháp, MOIT",
        date(2025, 6, 30),
    ],
    [2, "15/NQ-CP-T", date(2025, 3, 1), "Nghị quyết phiên họp tháng 2", "Báo cáo giải ngân", "MOF", "", "hằng tháng"],
    [
        3,
        "15/NQ-CP-T",
        date(2025, 3, 1),
        "Nghị quyết phiên họp tháng 2",
        "Sơ kết",
        "UBND Thành phố Hà Nội",
        None,
        "30/9/2025",
    ],
]


def test_a_list_is_imported_with_its_directive_and_agencies_by_name_or_code(
    session: Session, office: service.Caller
) -> None:
    sheet = spreadsheet.read(workbook(GOOD), where="ds.xlsx")
    found = service.import_sheet(session=session, sheet=sheet, who=office, where="ds.xlsx", today=date(2025, 3, 5))
    assert (found.rows, found.tasks, found.directives) == (3, 3, 1)
    directive = session.scalar(select(Directive).where(Directive.number == "15/NQ-CP-T"))
    assert directive is not None and directive.kind == "resolution"
    page = service.list_tasks(session=session, where=service.TaskFilter(directive="15/NQ-CP-T"), today=date(2025, 3, 5))
    assert [(t.lead, t.coordinating, t.deadline, t.recurrence) for t in reversed(page.items)] == [
        ("MOF", ["MOIT", "MOJ"], date(2025, 6, 30), "once"),
        ("MOF", [], None, "monthly"),
        ("PC-01", [], date(2025, 9, 30), "once"),
    ]


def test_bad_rows_are_named_by_row_and_cell_and_nothing_is_stored(session: Session, office: service.Caller) -> None:
    rows = [
        *GOOD[:1],
        [2, "15/NQ-CP-T", date(2025, 3, 1), "t", "Việc không có chủ trì", "", "", date(2025, 6, 30)],
        [3, "15/NQ-CP-T", date(2025, 3, 1), "t", "Việc", "Bộ Không Có", "", date(2024, 6, 30)],
        [4, "15/NQ-CP-T", date(2025, 3, 1), "t", "Việc", "MOF", "", "sớm"],
    ]
    sheet = spreadsheet.read(workbook(rows), where="ds.xlsx")
    with pytest.raises(Rejected) as caught:
        service.import_sheet(session=session, sheet=sheet, who=office, where="ds.xlsx")
    assert [(p.row, p.where, p.message) for p in caught.value.problems] == [
        (3, "DS nhiem vu!F3", "a task needs a lead agency"),
        (4, "DS nhiem vu!F4", "no agency named Bộ Không Có"),
        (4, "DS nhiem vu!H4", "the deadline 2024-06-30 is before the directive was signed (2025-03-01)"),
        (5, "DS nhiem vu!H5", "sớm is not a deadline"),
    ]
    assert session.scalar(select(func.count()).select_from(Task)) == 0
    assert session.scalar(select(func.count()).select_from(Directive)) == 0


def test_a_sheet_with_wrong_columns_is_refused_naming_the_column() -> None:
    wrong = ["STT", "Số văn bản", "Nội dung nhiệm vụ", "Đơn vị", "Thời hạn"]
    with pytest.raises(GovopsError) as caught:
        spreadsheet.read(workbook([[1, "1/NQ-CP", "x", "MOF", "30/6/2025"]], wrong), where="ds.xlsx")
    assert (caught.value.code, caught.value.where) == ("unknown_column", "ds.xlsx, DS nhiem vu!D1")
    missing = ["Số văn bản", "Nội dung nhiệm vụ", "Thời hạn"]
    with pytest.raises(GovopsError) as caught:
        spreadsheet.read(workbook([], missing), where="ds.xlsx")
    assert caught.value.message == "sheet DS nhiem vu has no column Cơ quan chủ trì"
    with pytest.raises(GovopsError) as caught:
        spreadsheet.read(b"STT,Noi dung\n1,x\n", where="ds.xlsx")
    assert caught.value.code == "not_xlsx"


def test_the_commands_import_a_list_and_show_what_is_overdue(govops: Govops, tmp_path: Path) -> None:
    good = tmp_path / "ds.xlsx"
    good.write_bytes(workbook(GOOD))
    imported = govops("tasks", "import", str(good))
    assert imported.code == 0, imported.err
    assert "3 tasks imported, 1 directives entered" in imported.out
    late = govops("tasks", "overdue", "--today", "2025-07-15")
    assert late.code == 0, late.err
    assert "Hoàn thiện Đề án" in late.out and "1 tasks overdue" in late.out
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([[1, "16/NQ-CP-T", date(2025, 3, 1), "t", "Việc", "", "", "30/6/2025"]]))
    refused = govops("tasks", "import", str(bad))
    assert refused.code == 1
    assert "nothing was written" in refused.err
    assert "│ 2   │ Cơ quan chủ trì │ invalid_row │ a task needs a lead agency" in refused.err
