"""The Government Office's task lists as spreadsheets (.xlsx): read in, written out.

The first sheet holds one task a row under a header row. Columns are found by their header, in Vietnamese as the
Office's lists write them or in English: see COLUMNS. A file whose headers lack a required column, or name one
twice, is refused before any row is read, naming the column; each row's problems name the row and the cell.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from govops.errors import GovopsError, lazy_gettext
from govops.text import fold


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]  # folded
    required: bool
    shown: str  # the header written on export


COLUMNS = (
    Column("directive", ("so van ban", "so hieu van ban", "van ban", "directive"), True, "Số văn bản"),
    Column("signed_on", ("ngay ban hanh", "ngay van ban", "signed on"), False, "Ngày ban hành"),
    Column("title", ("trich yeu", "ten van ban", "title"), False, "Trích yếu"),
    Column("text", ("noi dung nhiem vu", "nhiem vu", "noi dung", "task"), True, "Nội dung nhiệm vụ"),
    Column("lead", ("co quan chu tri", "chu tri", "lead"), True, "Cơ quan chủ trì"),
    Column("coordinating", ("co quan phoi hop", "phoi hop", "coordinating"), False, "Cơ quan phối hợp"),
    Column("deadline", ("thoi han", "han hoan thanh", "deadline"), False, "Thời hạn"),
    Column("priority", ("muc do uu tien", "uu tien", "priority"), False, "Ưu tiên"),
    Column("category", ("linh vuc", "category"), False, "Lĩnh vực"),
)
_IGNORED = ("stt", "tt", "ghi chu", "note", "notes", "tinh trang", "status", "ket qua")


@dataclass
class Row:
    number: int  # the row's number in the sheet
    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # key -> "D7"


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[Row]


def _header_key(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text).strip().strip(":*").strip())


def read(body: bytes, *, where: str) -> Sheet:
    """The rows of the first sheet, by column key; a file that is not a readable .xlsx is refused."""
    from openpyxl import load_workbook  # openpyxl (and numpy) load on use: every `govops` command imports this module
    from openpyxl.utils import get_column_letter

    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise GovopsError.of(
            "not_xlsx",
            lazy_gettext("%(file)s is not an Excel workbook (.xlsx) that can be read"),
            lazy_gettext("save the list as .xlsx (Excel Workbook) and import it again"),
            where=where,
            file=where,
        ) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise GovopsError.of(
            "empty_sheet",
            lazy_gettext("the sheet %(sheet)s is empty"),
            lazy_gettext("put the column headers in its first row and one task a row below"),
            where=where,
            sheet=sheet.title,
        )
    positions = _columns(header, sheet=sheet.title, where=where)
    out: list[Row] = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row = Row(number)
        for key, index in positions.items():
            value = values[index] if index < len(values) else None
            row.values[key] = value.strip() if isinstance(value, str) else value
            row.cells[key] = f"{get_column_letter(index + 1)}{number}"
        out.append(row)
    book.close()
    return Sheet(sheet.title, out)


def _columns(header: Sequence[Any], *, sheet: str, where: str) -> dict[str, int]:
    from openpyxl.utils import get_column_letter

    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        name = _header_key(str(cell))
        found = next((c for c in COLUMNS if name in c.headers), None)
        letter = get_column_letter(index + 1)
        if found is None:
            if name in _IGNORED:
                continue
            raise GovopsError.of(
                "unknown_column",
                lazy_gettext("column %(column)s of sheet %(sheet)s is headed %(header)s: not a column of a task list"),
                lazy_gettext("use the headers %(headers)s (or leave the column out)"),
                where=f"{where}, {sheet}!{letter}1",
                column=letter,
                sheet=sheet,
                header=str(cell),
                headers=", ".join(c.shown for c in COLUMNS),
            )
        if found.key in positions:
            raise GovopsError.of(
                "duplicate_column",
                lazy_gettext("columns %(first)s and %(second)s of sheet %(sheet)s are both %(header)s"),
                lazy_gettext("keep one of them"),
                where=f"{where}, {sheet}!{letter}1",
                first=get_column_letter(positions[found.key] + 1),
                second=letter,
                sheet=sheet,
                header=found.shown,
            )
        positions[found.key] = index
    missing = [c.shown for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        raise GovopsError.of(
            "missing_column",
            lazy_gettext("sheet %(sheet)s has no column %(columns)s"),
            lazy_gettext("add a column headed %(columns)s in the first row"),
            where=f"{where}, {sheet}!1:1",
            sheet=sheet,
            columns=", ".join(missing),
        )
    return positions


def as_date(value: Any) -> date | None:
    """A cell as a date: a date cell, or text written 30/6/2025 or 2025-06-30; None when it is neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        try:
            if match:
                return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def write(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> bytes:
    """A workbook of one sheet: the headers, then the rows."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Nhiem vu"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
