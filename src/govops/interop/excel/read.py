"""Reading filled-in govops Excel templates (see `govops.interop.excel.template`) back into observations.

The reader finds everything through the template's hidden ``_govops`` sheet: for each indicator
sheet the header row and what each header cell must say, the period of each value column and the
area and breakdown of each data row. It trusts that layout, not the visible sheet, and checks the
visible header, codes and periods against it, so a moved header, an edited period or area, a
deleted or renamed sheet is reported instead of being read into the wrong place.

Every filled value cell becomes ``{"indicator", "area", "period", "value", "dims"}``; empty cells
are skipped. Text, Excel errors (#DIV/0!...), formulas saved without a computed value, dates,
merged cells and figures typed outside the table are Problems naming the sheet and cell, all of
them, not just the first. A file that cannot be read at all raises GovopsError with ``where`` =
the file name and one of these codes: ``too_large``, ``not_xlsx`` (an .xls, .ods, .xlsb, .csv...:
the message says which), ``corrupt_file``, ``not_a_template``, ``damaged_template``.

Values are read with python-calamine (about 0.4 s for 100,000 values), which is fast but turns
Excel error cells and formulas without a cached value into empty strings, and aborts the whole
process (a Rust allocation failure, not an exception) when a sheet's farthest cell would need a
huge dense grid or the shared-string table declares a huge count. So before calamine opens the
file, the worksheet XML is scanned here with byte regexes (no second XML parse) to measure each
sheet and find error and formula cells, and the shared-string count is checked.
"""

from __future__ import annotations

import io
import json
import math
import posixpath
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from python_calamine import CalamineWorkbook

from govops.errors import GovopsError, Problem, lazy_gettext
from govops.interop.excel.template import (
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_ROWS,
    LAYOUT_MAGIC,
    LAYOUT_SHEET,
    NOTES_SHEET,
    TEMPLATE_VERSION,
)
from govops.periods import Period, PeriodError
from govops.warehouse.formats import Row

MAX_WORKBOOK_BYTES = 50 * 1024 * 1024
# A zip may unpack to far more than it weighs (a zip bomb: 200 KB of zeros unpack to 200 MB). Sheet
# XML packs about 10:1, so a workbook may unpack to UNPACKED_RATIO times its size, at least
# MIN_UNPACKED_BYTES (a tiny file packs its boilerplate well) and at most MAX_UNPACKED_BYTES; the
# server takes the two limits from settings (GOVOPS_XLSX_MAX_UNPACKED_RATIO and _BYTES).
UNPACKED_RATIO = 100
MIN_UNPACKED_BYTES = 8 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
_INFLATE_STEP = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length
# calamine holds a sheet as a dense grid from A1 to its farthest cell; one stray value at XFD1048576
# would ask for 17 billion cells and abort the process, so sheets are measured first.
MAX_SHEET_CELLS = 5_000_000

GET_TEMPLATE = "download a template from the govops console or with `govops template xlsx`"
NEW_TEMPLATE = "download a new template and copy the figures into it"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_NS_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_NS_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

_P = rb"(?:[\w.-]+:)?"  # an optional namespace prefix on a tag
_SPECIAL_HINT = re.compile(rb"\bt\s*=\s*[\"']e[\"']|<" + _P + rb"f[\s>/]")
_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*?)(?:/>|>(.*?)</" + _P + rb"c>)", re.S)
# Every cell tag, with its reference when it has one (an empty pair when it has not).
_CELL_REF = re.compile(rb"<" + _P + rb"c\b(?:[^>]*?\br\s*=\s*[\"']([A-Za-z]*)([0-9]*)([^\"']*)[\"'])?")
_ROW_OR_CELL_TAG = re.compile(rb"<" + _P + rb"(row|c)\b([^>]*?)/?>")
_ATTR_R = re.compile(rb"\br\s*=\s*[\"']([^\"']*)[\"']")
_UNIQUE_COUNT = re.compile(rb"<" + _P + rb"sst\b[^>]*?\buniqueCount\s*=\s*[\"']\s*([0-9]+)")
_REF_PARTS = re.compile(rb"([A-Za-z]*)([0-9]*)")
_ATTR_T = re.compile(rb"\bt\s*=\s*[\"']([A-Za-z]+)[\"']")
_VALUE = re.compile(rb"<" + _P + rb"v(?:\s[^>]*)?>(.*?)</" + _P + rb"v>", re.S)
_FORMULA = re.compile(rb"<" + _P + rb"f\b[^>]*?(?:/>|>(.*?)</" + _P + rb"f>)", re.S)

_ERROR_MEANING = {
    "#DIV/0!": "division by zero",
    "#N/A": "a value that is not available",
    "#VALUE!": "an argument of the wrong type",
    "#REF!": "a reference to a cell that was deleted",
    "#NAME?": "an unknown function or name",
    "#NUM!": "an impossible number",
    "#NULL!": "ranges that do not intersect",
    "#SPILL!": "a result that cannot spill",
    "#CALC!": "a calculation Excel cannot do",
    "#GETTING_DATA": "data still being fetched",
}

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_COMMA_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+")
_VIETNAMESE = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?|[+-]?\d{1,3}(\.\d{3})*,\d+")
_ENGLISH_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+\.\d+")

Cell = Any  # what calamine gives for a cell: str, float, int, bool, date, datetime, time or timedelta
Merged = list[tuple[tuple[int, int], tuple[int, int]]]  # calamine's merged ranges, counted from 0
T = TypeVar("T")


@dataclass
class _SheetLayout:
    """One indicator sheet as the template made it, read back from ``_govops``."""

    sheet: str
    indicator: str = ""
    header_row: int = 0
    first_data_row: int = 0
    # column -> (kind, text the header cell must hold); kinds: area, name, dim, period
    columns: dict[int, tuple[str, str]] = field(default_factory=dict)
    # (row, area code, dims)
    rows: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[tuple[int, str]]:
        return sorted((col, text) for col, (k, text) in self.columns.items() if k == kind)

    @property
    def area_column(self) -> int:
        return self.of_kind("area")[0][0]

    @property
    def last_column(self) -> int:
        return max(self.columns)

    @property
    def last_row(self) -> int:
        return max(row for row, _area, _dims in self.rows)


def read_workbook(
    body: bytes,
    *,
    where: str = "workbook.xlsx",
    max_bytes: int = MAX_WORKBOOK_BYTES,
    unpacked_ratio: int = UNPACKED_RATIO,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
) -> list[Row]:
    """Observations and Problems of a filled-in govops template, numbered from 1 in reading order.

    The workbook may unpack to ``unpacked_ratio`` times its size (at least MIN_UNPACKED_BYTES) and
    never more than ``max_unpacked_bytes``; a larger one is refused before anything is inflated.
    """
    if len(body) > max_bytes:
        raise GovopsError.of(
            "too_large",
            lazy_gettext("the workbook is %(size)s; the limit is %(limit)s"),
            lazy_gettext("split the figures over several templates (fewer indicators or periods each)"),
            status=413,
            where=where,
            size=_mb(len(body)),
            limit=_mb(max_bytes),
        )
    _refuse_other_formats(body, where=where)
    max_unpacked = min(max(len(body) * unpacked_ratio, MIN_UNPACKED_BYTES), max_unpacked_bytes)
    archive = _open_zip(body, where=where, max_unpacked=max_unpacked)
    parts = _sheet_parts(archive, where=where)
    # Every worksheet part is measured before calamine opens anything (see _check_extent).
    sheet_xml = _worksheet_xml(archive, parts, where=where)
    book = _calamine(lambda: CalamineWorkbook.from_object(io.BytesIO(body)), where=where)
    names = _calamine(lambda: [m.name for m in book.sheets_metadata], where=where)
    if LAYOUT_SHEET not in names:
        error = GovopsError.of(
            "not_a_template",
            lazy_gettext("this workbook was not made from a govops template (it has no %(sheet)s sheet)"),
            lazy_gettext(
                "download the template of the group on this page, copy the figures into it and upload that file"
            ),
            where=where,
            sheet=LAYOUT_SHEET,
        )
        error.hint = f"{GET_TEMPLATE}, copy the figures into it and send that file"  # read by the CLI and the API too
        raise error
    layout_grid, _merged = _grid(book, LAYOUT_SHEET, where=where)
    layouts = _read_layout(layout_grid, where=f"{where}, sheet {LAYOUT_SHEET}")

    out: list[dict[str, Any] | Problem] = []
    strangers = [n for n in names if n != LAYOUT_SHEET and n not in layouts and n not in NOTES_SHEET.values()]
    for layout in layouts.values():
        if layout.sheet not in names:
            out.append(_missing_sheet(layout, strangers))
            continue
        grid, merged = _grid(book, layout.sheet, where=where)
        xml = sheet_xml.get(parts.get(layout.sheet, ""), b"")
        out.extend(_read_sheet(layout, grid=grid, xml=xml, merged=merged))
    # A Problem also carries its running number, as the other readers' Problems carry their line.
    return [(n, replace(item, row=n) if isinstance(item, Problem) else item) for n, item in enumerate(out, start=1)]


# -- the file ----------------------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _not_xlsx(what: str, *, where: str, hint: str | None = None) -> GovopsError:
    """`what` the file is (a catalogue message), and how to make it a template."""
    return GovopsError.of(
        "not_xlsx",
        what,
        hint or lazy_gettext("download the template on this page, fill it in and save it as Excel Workbook (.xlsx)"),
        where=where,
        status=415,
    )


def _refuse_other_formats(body: bytes, *, where: str) -> None:
    if body.startswith(_OLE_MAGIC):
        if _ENCRYPTED_MARK in body:
            raise _not_xlsx(
                lazy_gettext("this is a password-protected (encrypted) workbook, not one govops can read"),
                where=where,
                hint=lazy_gettext(
                    "remove the password (File > Info > Protect Workbook > Encrypt with Password) and upload it again"
                ),
            )
        raise _not_xlsx(
            lazy_gettext("this is an old Excel 97-2003 workbook (.xls), not an Excel Workbook (.xlsx)"),
            where=where,
            hint=lazy_gettext("open it in Excel and save it as Excel Workbook (.xlsx), or fill in a new template"),
        )
    if body.startswith(b"PK\x03\x04") or body.startswith(b"PK\x05\x06"):
        return
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not body.strip():
        raise _not_xlsx(lazy_gettext("the file is empty"), where=where)
    if head.startswith(b"%pdf"):
        raise _not_xlsx(lazy_gettext("this is a PDF document, not an Excel workbook (.xlsx)"), where=where)
    if head.startswith(b"<!doctype html") or b"<html" in head or b"<table" in head:
        raise _not_xlsx(
            lazy_gettext("this is a web page (HTML) saved with a spreadsheet name, not an Excel workbook (.xlsx)"),
            where=where,
        )
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise _not_xlsx(
            lazy_gettext("this is an Excel 2003 XML spreadsheet, not an Excel workbook (.xlsx)"), where=where
        )
    if b"\x00" not in head and _is_text(head):
        raise _not_xlsx(
            lazy_gettext("this is a text file (CSV or similar) named as an Excel workbook (.xlsx)"), where=where
        )
    raise _not_xlsx(
        lazy_gettext("this file is not an Excel workbook (.xlsx) nor any spreadsheet govops knows"), where=where
    )


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the 4096-byte window is still text.
        return exc.start >= len(head) - 3
    return True


def _corrupt(detail: str, *, where: str) -> GovopsError:
    return GovopsError(
        f"the workbook is damaged and cannot be read ({detail})",
        code="corrupt_file",
        where=where,
        hint="the file may have been cut short in transfer: save it again from Excel and send the new file",
    )


def _open_zip(body: bytes, *, where: str, max_unpacked: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        infos = archive.infolist()
        names = {info.filename for info in infos}
        mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except Exception as exc:  # zipfile raises BadZipFile, OSError, ValueError, EOFError... on damaged input
        raise _corrupt(f"not a readable zip archive: {exc}", where=where) from None
    if b"opendocument.spreadsheet" in mimetype:
        raise _not_xlsx(
            lazy_gettext("this is an OpenDocument spreadsheet (.ods), not an Excel workbook (.xlsx)"),
            where=where,
            hint=lazy_gettext("in LibreOffice use File > Save As > Excel 2007-365 (.xlsx), or fill in a new template"),
        )
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        raise _not_xlsx(lazy_gettext("this is an OpenDocument file, not an Excel workbook (.xlsx)"), where=where)
    if "xl/workbook.bin" in names:
        raise _not_xlsx(
            lazy_gettext("this is an Excel binary workbook (.xlsb), not an Excel workbook (.xlsx)"),
            where=where,
            hint=lazy_gettext("open it in Excel and save it as Excel Workbook (.xlsx)"),
        )
    if "xl/workbook.xml" not in names:
        what = (
            lazy_gettext("this is a Word document (.docx), not an Excel workbook (.xlsx)")
            if "word/document.xml" in names
            else lazy_gettext("this is a PowerPoint presentation (.pptx), not an Excel workbook (.xlsx)")
            if "ppt/presentation.xml" in names
            else lazy_gettext("this is a zip archive, not an Excel workbook (.xlsx)")
        )
        raise _not_xlsx(what, where=where)
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max_unpacked:
        raise _unpacks_too_large(f"unpacks to {_mb(unpacked)}", body=body, max_unpacked=max_unpacked, where=where)
    # The directory's sizes are the sender's word; calamine inflates each part to the end of its
    # stream, whatever they say. So every part is inflated here first, a step at a time and
    # without keeping it, and refused as soon as it holds more than declared.
    for info in infos:
        _check_unpacked_size(body, info, where=where)
    _check_shared_strings(archive, infos, where=where)
    return archive


def _unpacks_too_large(what: str, *, body: bytes, max_unpacked: int, where: str) -> GovopsError:
    return GovopsError(
        f"the workbook {what}; a workbook of {_mb(len(body))} may unpack to at most {_mb(max_unpacked)}",
        code="too_large",
        status=413,
        where=where,
        hint="this is not a workbook Excel saves: fill in a new template, or split the figures over several templates",
    )


def _check_unpacked_size(body: bytes, info: zipfile.ZipInfo, *, where: str) -> None:
    """Refuse a part whose data inflates to more than the size the zip directory declares for it."""
    if info.compress_type == zipfile.ZIP_STORED:
        return  # stored as is: its data is compress_size bytes, read as such
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise _corrupt(f"part {info.filename} is packed with method {info.compress_type}, not deflate", where=where)
    start = info.header_offset
    header = body[start : start + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or _LOCAL_HEADER.unpack(header)[0] != b"PK\x03\x04":
        raise _corrupt(f"part {info.filename} has no local header", where=where)
    _signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    start += _LOCAL_HEADER.size + name_length + extra_length
    data = memoryview(body)[start : start + info.compress_size]
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = 0
    try:
        for offset in range(0, len(data), _INFLATE_STEP):
            pending = bytes(data[offset : offset + _INFLATE_STEP])
            while pending and not inflater.eof:
                inflated += len(inflater.decompress(pending, _INFLATE_STEP))
                if inflated > info.file_size:
                    raise _corrupt(
                        f"part {info.filename} unpacks to more than the {info.file_size:,} bytes it declares",
                        where=where,
                    )
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error as exc:
        raise _corrupt(f"part {info.filename}: {exc}", where=where) from None


def _check_shared_strings(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], *, where: str) -> None:
    """calamine reserves room for the uniqueCount the table declares: a false huge one aborts the process."""
    for info in infos:
        if not info.filename.lower().endswith("sharedstrings.xml"):
            continue
        try:
            with archive.open(info) as part:
                head = part.read(4096)
        except Exception as exc:  # zip and zlib errors on a damaged member
            raise _corrupt(f"part {info.filename}: {exc}", where=where) from None
        declared = _UNIQUE_COUNT.search(head)
        # Every string takes at least five bytes of XML (<si/>): more strings than that is a lie.
        if declared is not None and (len(declared.group(1)) > 12 or int(declared.group(1)) > info.file_size // 5):
            raise _corrupt(
                f"part {info.filename} declares {declared.group(1)[:20].decode()} strings in {info.file_size} bytes",
                where=where,
            )


def _xml_root(archive: zipfile.ZipFile, name: str, *, where: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(name))
    except Exception as exc:  # KeyError (missing part), zip and zlib errors, ET.ParseError
        raise _corrupt(f"part {name}: {exc}", where=where) from None


def _sheet_parts(archive: zipfile.ZipFile, *, where: str) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, through workbook.xml and its relationships."""
    workbook = _xml_root(archive, "xl/workbook.xml", where=where)
    rels = _xml_root(archive, "xl/_rels/workbook.xml.rels", where=where)
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{_NS_PKG_REL}}}Relationship") if rel.get("Id")
    }
    parts: dict[str, str] = {}
    for ns in _NS_MAIN:
        for sheet in workbook.iter(f"{{{ns}}}sheet"):
            rel_id = next((sheet.get(f"{{{r}}}id") for r in _NS_REL if sheet.get(f"{{{r}}}id")), None)
            target = targets.get(rel_id)
            name = sheet.get("name")
            if name is None or not target:
                continue
            parts[name] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return parts


def _worksheet_xml(archive: zipfile.ZipFile, parts: dict[str, str], *, where: str) -> dict[str, bytes]:
    """Part name -> XML of every worksheet, each checked by _check_extent; named by its sheet where known."""
    names = {part: sheet for sheet, part in parts.items()}
    wanted = set(parts.values()) | {n for n in archive.namelist() if "worksheets/" in n.lower() and n.endswith(".xml")}
    out = {}
    for part in sorted(wanted):
        try:
            xml = archive.read(part)
        except Exception as exc:  # KeyError, BadZipFile (CRC), zlib.error, EOFError...
            raise _corrupt(f"part {part}: {exc}", where=where) from None
        _check_extent(xml, sheet=names.get(part, part), where=where)
        out[part] = xml
    return out


def _calamine(call: Callable[[], T], *, where: str) -> T:
    try:
        return call()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and pyo3's PanicException, which is a BaseException
        raise _corrupt(f"{type(exc).__name__}: {exc}", where=where) from None


def _check_extent(xml: bytes, *, sheet: str, where: str) -> None:
    """calamine holds a sheet as a dense grid up to its farthest cell: refuse what would not fit in memory."""
    try:
        rows, cols = _extent(xml)
    except ValueError as exc:
        raise _corrupt(f"sheet {sheet}: {exc}", where=where) from None
    if rows > EXCEL_MAX_ROWS or cols > EXCEL_MAX_COLUMNS:
        raise _corrupt(f"sheet {sheet} has a cell beyond XFD1048576, the last cell Excel has", where=where)
    if rows * cols > MAX_SHEET_CELLS:
        raise GovopsError(
            f"sheet {sheet} reaches cell {_ref(rows, cols)}: {rows * cols:,} cells to read, "
            f"more than the {MAX_SHEET_CELLS:,} a template may span",
            code="too_large",
            status=413,
            where=f"{where}, sheet {sheet}",
            hint="delete the rows and columns after the table (select them, right-click, Delete), save and send again",
        )


def _grid(book: CalamineWorkbook, sheet: str, *, where: str) -> tuple[list[list[Cell]], Merged]:
    """The sheet's cells from A1 to its farthest cell, and its merged ranges."""
    loaded = _calamine(lambda: book.get_sheet_by_name(sheet), where=where)
    grid = _calamine(lambda: loaded.to_python(skip_empty_area=False), where=where)
    return grid, _calamine(lambda: loaded.merged_cell_ranges, where=where) or []


def _extent(xml: bytes) -> tuple[int, int]:
    """Rows and columns from A1 to the farthest cell tag; ValueError for a reference that is no cell."""
    refs = _CELL_REF.findall(xml)
    if not refs:
        return 0, 0
    letters, digits, rest = (set(part) for part in zip(*refs, strict=True))
    if rest != {b""}:
        raise ValueError(f"cell reference ending in {min(rest - {b''})[:20]!r} is not a cell")
    if b"" in letters or b"" in digits:
        return _extent_without_refs(xml)
    return max(_row_number(d) for d in digits), max(_column_number(c) for c in letters)


def _extent_without_refs(xml: bytes) -> tuple[int, int]:
    """Cells and rows may leave out ``r`` (each then follows the previous one): walk them in order."""
    max_row = max_col = row = col = 0
    for match in _ROW_OR_CELL_TAG.finditer(xml):
        raw = _ATTR_R.search(match.group(2))
        ref = _REF_PARTS.fullmatch(raw.group(1)) if raw else None
        if raw and not ref:
            raise ValueError(f"reference {raw.group(1)[:20]!r} is not a cell")
        letters, digits = (ref.group(1), ref.group(2)) if ref else (b"", b"")
        if match.group(1) == b"row":
            row = _row_number(digits) if digits else row + 1
            col = 0
        else:
            col = _column_number(letters) if letters else col + 1
            row = _row_number(digits) if digits else row
            max_row, max_col = max(max_row, row), max(max_col, col)
    return max_row, max_col


def _row_number(digits: bytes) -> int:
    # Past seven digits it is beyond Excel's last row anyway; int() of a huge string would be slow.
    return int(digits) if len(digits) <= 7 else EXCEL_MAX_ROWS + 1


# -- the layout ----------------------------------------------------------------------------------


def _damaged(message: str, *, where: str) -> GovopsError:
    return GovopsError(
        f"the template's hidden {LAYOUT_SHEET} sheet is damaged: {message}",
        code="damaged_template",
        where=where,
        hint=NEW_TEMPLATE,
    )


def _read_layout(grid: list[list[Cell]], *, where: str) -> dict[str, _SheetLayout]:
    first = grid[0] if grid else []
    if len(first) < 2 or first[0] != LAYOUT_MAGIC:
        raise _damaged(f"cell A1 should say {LAYOUT_MAGIC}", where=where)
    version = _as_int(first[1])
    if version is None or version < 1:
        raise _damaged("cell B1 should hold the template version", where=where)
    if version > TEMPLATE_VERSION:
        raise GovopsError(
            f"the template is version {version}; this govops reads version {TEMPLATE_VERSION} and older",
            code="damaged_template",
            where=where,
            hint="the template comes from a newer govops: send it to a govops of that version, or use a template "
            "downloaded from this one",
        )
    layouts: dict[str, _SheetLayout] = {}
    for number, record in enumerate(grid[2:], start=3):
        cells = [*record, "", "", "", "", "", ""][:6]
        if all(c == "" for c in cells):
            continue
        try:
            _add_record(layouts, cells)
        except RecursionError:  # a breakdown cell holding JSON nested thousands deep
            raise _damaged(f"row {number}: the breakdown is nested too deeply to read", where=where) from None
        except (ValueError, KeyError, TypeError, PeriodError) as exc:
            raise _damaged(f"row {number}: {exc}", where=where) from None
    if not layouts:
        raise _damaged("it describes no sheet", where=where)
    for layout in layouts.values():
        _check_layout(layout, where=where)
    return layouts


def _add_record(layouts: dict[str, _SheetLayout], cells: list[Cell]) -> None:
    kind, sheet, row_cell, col_cell, value, dims = cells
    if not isinstance(sheet, str) or not sheet:
        raise ValueError("no sheet name")
    layout = layouts.setdefault(sheet, _SheetLayout(sheet))
    text = value if isinstance(value, str) else _display(value)
    if kind == "indicator":
        if not text:
            raise ValueError("no indicator code")
        layout.indicator = text
    elif kind == "header_row":
        layout.header_row = _position(row_cell, EXCEL_MAX_ROWS, "row")
    elif kind == "first_data_row":
        layout.first_data_row = _position(row_cell, EXCEL_MAX_ROWS, "row")
    elif kind in ("area_column", "name_column", "dim_column", "period_column"):
        row = _position(row_cell, EXCEL_MAX_ROWS, "row")
        col = _position(col_cell, EXCEL_MAX_COLUMNS, "column")
        if row != layout.header_row:
            raise ValueError(f"header cell on row {row}, not on the header row {layout.header_row}")
        if col in layout.columns:
            raise ValueError(f"column {col} described twice")
        if kind == "period_column":
            text = str(Period.parse(text))
        layout.columns[col] = (kind.removesuffix("_column"), text)
    elif kind == "data_row":
        decoded = json.loads(dims) if isinstance(dims, str) and dims else {}
        if not isinstance(decoded, dict) or not all(isinstance(v, str) for v in decoded.values()):
            raise ValueError("dims is not an object of codes")
        if not text:
            raise ValueError("no area code")
        layout.rows.append((_position(row_cell, EXCEL_MAX_ROWS, "row"), text, decoded))
    else:
        raise ValueError(f"unknown record {kind!r}")


def _check_layout(layout: _SheetLayout, *, where: str) -> None:
    def fail(message: str) -> GovopsError:
        return _damaged(f"sheet {layout.sheet}: {message}", where=where)

    if not layout.indicator:
        raise fail("no indicator")
    if not layout.header_row or not layout.columns:
        raise fail("no header")
    if len(layout.of_kind("area")) != 1 or not layout.of_kind("period"):
        raise fail("the header needs one area column and at least one period column")
    if not layout.rows:
        raise fail("no data rows")
    rows = [row for row, _area, _dims in layout.rows]
    if len(set(rows)) != len(rows) or min(rows) != layout.first_data_row or layout.first_data_row <= layout.header_row:
        raise fail("the data rows do not follow the header")
    dim_codes = {text for _col, text in layout.of_kind("dim")}
    if any(set(dims) != dim_codes for _row, _area, dims in layout.rows):
        raise fail("a data row's breakdown does not match the dimension columns")


def _position(cell: Cell, limit: int, what: str) -> int:
    number = _as_int(cell)
    if number is None or not 1 <= number <= limit:
        raise ValueError(f"{what} number {cell!r} is not between 1 and {limit}")
    return number


def _as_int(cell: Cell) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str) and cell.strip().isdigit() and len(cell.strip()) < 10:
        return int(cell.strip())
    return None


# -- one indicator sheet ------------------------------------------------------------------------


def _missing_sheet(layout: _SheetLayout, strangers: list[str]) -> Problem:
    message = (
        lazy_gettext(
            "sheet %(sheet)s of the template is missing: it was deleted or renamed; the workbook has sheet(s) the "
            "template did not make: %(strangers)s"
        )
        if strangers
        else lazy_gettext("sheet %(sheet)s of the template is missing: it was deleted or renamed")
    )
    return Problem.of(
        "template.sheet_missing",
        message,
        lazy_gettext("rename the sheet back to %(sheet)s, or download a new template and copy the figures into it"),
        where=f"sheet {layout.sheet}",
        field="sheet",
        value=layout.sheet,
        sheet=layout.sheet,
        strangers=", ".join(strangers),
    )


def _read_sheet(
    layout: _SheetLayout,
    *,
    grid: list[list[Cell]],
    xml: bytes,
    merged: Merged,
) -> list[dict[str, Any] | Problem]:
    name = layout.sheet
    moved = _moved_header(layout, grid)
    if moved is not None:
        # Every value would be read from the wrong row or column: report the move alone.
        return [moved]
    out: list[dict[str, Any] | Problem] = []
    for col, (kind, expected) in sorted(layout.columns.items()):
        found = _cell(grid, layout.header_row, col)
        if _display(found) != expected:
            out.append(_header_problem(name, layout.header_row, col, kind=kind, expected=expected, found=found))
    out.extend(_merged_problems(layout, merged))
    special = _special_cells(xml) if _SPECIAL_HINT.search(xml) else {}
    dim_columns = layout.of_kind("dim")
    periods = layout.of_kind("period")
    for row, area, dims in sorted(layout.rows):
        out.extend(_identity_problems(name, row, layout.area_column, dim_columns, area=area, dims=dims, grid=grid))
        line = grid[row - 1] if row - 1 < len(grid) else []
        for col, period in periods:
            found = line[col - 1] if col - 1 < len(line) else ""
            odd = special.get((row, col)) if special else None
            # The common cases first, without building a cell reference: a number, or nothing.
            if odd is None and type(found) is float and math.isfinite(found):
                value: float | Problem | None = found
            elif odd is None and found == "":
                continue
            else:
                value = _value(found, special=odd, sheet=name, row=row, col=col)
            if isinstance(value, Problem):
                out.append(value)
            elif value is not None:
                # `_where` lets the submission name the cell when the catalogue or the rights refuse the value.
                out.append(
                    {
                        "indicator": layout.indicator,
                        "area": area,
                        "period": period,
                        "value": value,
                        "dims": dict(dims),
                        "_where": f"sheet {name}, cell {_ref(row, col)}",
                    }
                )
    out.extend(_outside_problems(layout, grid))
    return out


def _cell(grid: list[list[Cell]], row: int, col: int) -> Cell:
    if 0 < row <= len(grid) and col > 0:
        line = grid[row - 1]
        if col - 1 < len(line):
            return line[col - 1]
    return ""


def _moved_header(layout: _SheetLayout, grid: list[list[Cell]]) -> Problem | None:
    """The header found elsewhere when it is not where the template put it (a row or column inserted)."""
    area_col = layout.area_column
    label = layout.columns[area_col][1]
    found = _cell(grid, layout.header_row, area_col)
    if _display(found) == label:
        return None
    expected = _ref(layout.header_row, area_col)
    for row, line in enumerate(grid[: layout.header_row + 50], start=1):
        for col, value in enumerate(line[: area_col + 50], start=1):
            if (
                value == label
                and (row, col) != (layout.header_row, area_col)
                and _header_matches(layout, grid, row, col)
            ):
                return Problem(
                    f"the header of sheet {layout.sheet} moved: {label!r} belongs in cell {expected}, "
                    f"which holds {_shown(found)}, and is now in cell {_ref(row, col)}; rows or columns were "
                    "inserted or deleted above or left of the table",
                    where=f"sheet {layout.sheet}, cell {expected}",
                    field="header",
                    value=found,
                    hint=f"delete the inserted rows or columns so the header is on row {layout.header_row} again, "
                    f"or {NEW_TEMPLATE}",
                )
    return None


def _header_matches(layout: _SheetLayout, grid: list[list[Cell]], row: int, col: int) -> bool:
    shift = col - layout.area_column
    expected = sorted(layout.columns.items())
    hits = sum(_display(_cell(grid, row, c + shift)) == text for c, (_kind, text) in expected)
    return hits * 2 > len(expected)


def _header_problem(sheet: str, row: int, col: int, *, kind: str, expected: str, found: Cell) -> Problem:
    what = {"period": "period", "dim": "breakdown code list", "area": "area code label", "name": "area name label"}
    hint = f"put {expected} back" + (f"; for another period {NEW_TEMPLATE}" if kind == "period" else "")
    return Problem(
        f"header cell {_ref(row, col)} was edited: the template put the {what[kind]} {expected!r} there, "
        f"it now holds {_shown(found)}; the column is read as {expected}",
        where=f"sheet {sheet}, cell {_ref(row, col)}",
        field="period" if kind == "period" else "header",
        value=found,
        hint=hint,
    )


def _identity_problems(
    sheet: str,
    row: int,
    area_col: int,
    dim_columns: list[tuple[int, str]],
    *,
    area: str,
    dims: dict[str, str],
    grid: list[list[Cell]],
) -> list[Problem]:
    expected_cells = [
        (area_col, area, "area", "area code"),
        *((c, dims[cl], "dims", f"{cl} code") for c, cl in dim_columns),
    ]
    out = []
    for col, expected, field_name, what in expected_cells:
        found = _cell(grid, row, col)
        if _display(found) != expected:
            out.append(
                Problem(
                    f"cell {_ref(row, col)} was edited: the template put the {what} {expected!r} there, it now "
                    f"holds {_shown(found)}; the row's figures are read for {expected}",
                    where=f"sheet {sheet}, cell {_ref(row, col)}",
                    field=field_name,
                    value=found,
                    hint=f"put {expected} back; for other areas or breakdowns {NEW_TEMPLATE}",
                )
            )
    return out


def _merged_problems(layout: _SheetLayout, merged: Merged) -> list[Problem]:
    out = []
    for (top, left), (bottom, right) in sorted(merged):
        # calamine counts from 0; the table spans the header row to the last data row.
        if bottom + 1 < layout.header_row or top + 1 > layout.last_row or left + 1 > layout.last_column:
            continue
        cells = f"{_ref(top + 1, left + 1)}:{_ref(bottom + 1, right + 1)}"
        out.append(
            Problem(
                f"cells {cells} are merged inside the table; every cell of the table must stay a cell of its own",
                where=f"sheet {layout.sheet}, cells {cells}",
                field="value",
                value=cells,
                hint="select the cells and unmerge them (Home > Merge & Center), then type each figure in its own cell",
            )
        )
    return out


def _value(found: Cell, *, special: tuple[str, str] | None, sheet: str, row: int, col: int) -> float | Problem | None:
    """The number in a value cell, None for an empty cell, or the Problem with what it holds."""
    ref = _ref(row, col)
    where = f"sheet {sheet}, cell {ref}"
    if special is not None and special[0] == "error":
        error = special[1]
        meaning = _ERROR_MEANING.get(error, "an error")
        return Problem(
            f"cell {ref} shows the Excel error {error} ({meaning}), not a number",
            where=where,
            field="value",
            value=error,
            hint="correct the formula or type the figure; leave the cell empty when there is no figure",
            code="value.excel_error",
            template=lazy_gettext("cell %(cell)s shows the Excel error %(error)s, not a number"),
            hint_template=lazy_gettext(
                "correct the formula or type the figure; leave the cell empty when there is no figure"
            ),
            params={"cell": ref, "error": error},
        )
    if special is not None and found == "":
        return Problem.of(
            "value.formula_not_computed",
            lazy_gettext(
                "cell %(cell)s holds the formula %(formula)s but no computed value: the file was saved by a program "
                "that does not calculate formulas"
            ),
            lazy_gettext(
                "open the file in Excel or LibreOffice and save it again, or paste the values instead of formulas"
            ),
            where=where,
            field="value",
            value=f"={special[1]}",
            cell=ref,
            formula=f"={special[1]}",
        )
    if isinstance(found, bool):
        return Problem.of(
            "value.not_a_number",
            lazy_gettext("cell %(cell)s holds %(text)s, not a number"),
            lazy_gettext("type the figure; leave the cell empty when there is no figure"),
            where=where,
            field="value",
            value=found,
            cell=ref,
            text=str(found).upper(),
        )
    if isinstance(found, int | float):
        if not math.isfinite(found):
            return Problem.of(
                "value.not_finite",
                lazy_gettext("cell %(cell)s holds %(text)s, not a finite number"),
                lazy_gettext("type the figure; leave the cell empty when there is no figure"),
                where=where,
                field="value",
                value=found,
                cell=ref,
                text=str(found),
            )
        return float(found)
    if isinstance(found, str):
        return None if not found.strip() else _text_problem(found, ref=ref, where=where)
    if isinstance(found, date | time | timedelta):
        return Problem.of(
            "value.not_a_number",
            lazy_gettext("cell %(cell)s holds a date or time (%(text)s), not a number"),
            lazy_gettext("format the cell as Number (Home > Number Format) and type the figure"),
            where=where,
            field="value",
            value=_display(found),
            cell=ref,
            text=_display(found),
        )
    return Problem.of(
        "value.not_a_number",
        lazy_gettext("cell %(cell)s holds %(text)s, not a number"),
        lazy_gettext("type the figure; leave the cell empty when there is no figure"),
        where=where,
        field="value",
        value=repr(found),
        cell=ref,
        text=repr(found),
    )


def _text_problem(text: str, *, ref: str, where: str) -> Problem:
    stripped = text.strip().replace("\u00a0", "").replace(" ", "")
    params: dict[str, Any] = {"cell": ref, "text": text, "number": stripped}
    hint = lazy_gettext("type the figure as a number; leave the cell empty when there is no figure")
    if _PLAIN_NUMBER.fullmatch(stripped):
        message = lazy_gettext("cell %(cell)s holds the number %(number)s stored as text")
        hint = lazy_gettext("convert it to a number (the warning triangle > Convert to Number) or type it again")
    elif _ENGLISH_GROUPED.fullmatch(stripped):
        params["plain"] = stripped.replace(",", "")
        message = lazy_gettext("cell %(cell)s holds the text '%(text)s' with thousands separators, meant as %(plain)s")
        hint = lazy_gettext("type %(plain)s as a number; Excel shows the separators itself")
    elif _COMMA_THOUSANDS.fullmatch(stripped):
        params["thousands"], params["decimals"] = stripped.replace(",", ""), stripped.replace(",", ".")
        message = lazy_gettext(
            "cell %(cell)s holds the text '%(text)s': a comma can mean thousands (%(thousands)s) "
            "or decimals (%(decimals)s)"
        )
        hint = lazy_gettext("type the figure as a number, with the decimal mark Excel's settings use")
    elif _COMMA_DECIMAL.fullmatch(stripped):
        params["plain"] = stripped.replace(",", ".")
        message = lazy_gettext(
            "cell %(cell)s holds the text '%(text)s' with a comma as the decimal mark, meant as %(plain)s"
        )
        hint = lazy_gettext(
            "type %(plain)s as a number (or set Excel's decimal separator to the comma and type it again)"
        )
    elif _VIETNAMESE.fullmatch(stripped):
        params["plain"] = stripped.replace(".", "").replace(",", ".")
        message = lazy_gettext(
            "cell %(cell)s holds the text '%(text)s' written the Vietnamese way "
            "(dot for thousands, comma for decimals), meant as %(plain)s"
        )
        hint = lazy_gettext("type %(plain)s as a number; Excel shows separators by its own settings")
    elif stripped.upper() in _ERROR_MEANING:
        message = lazy_gettext("cell %(cell)s holds the text '%(text)s', an Excel error typed in, not a number")
    else:
        message = lazy_gettext("cell %(cell)s holds the text '%(text)s', not a number")
    return Problem.of("value.not_a_number", message, hint, where=where, field="value", value=text, **params)


def _outside_problems(layout: _SheetLayout, grid: list[list[Cell]]) -> list[Problem]:
    """Figures typed outside the table would be silently ignored: name them instead."""
    out = []
    last_row, last_col = layout.last_row, layout.last_column
    table = f"{_ref(layout.first_data_row, min(c for c, _p in layout.of_kind('period')))}:{_ref(last_row, last_col)}"
    for row, line in enumerate(grid[layout.header_row - 1 :], start=layout.header_row):
        start = 0 if row > last_row else last_col
        for col, value in enumerate(line[start:], start=start + 1):
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append(
                    Problem(
                        f"cell {_ref(row, col)} holds {_display(value)} outside the template's table ({table}); "
                        "it is not read",
                        where=f"sheet {layout.sheet}, cell {_ref(row, col)}",
                        field="value",
                        value=value,
                        hint=f"figures go in the table only; for other periods or areas {NEW_TEMPLATE}",
                    )
                )
    return out


# -- cells the XML shows and calamine hides -----------------------------------------------------------


def _special_cells(xml: bytes) -> dict[tuple[int, int], tuple[str, str]]:
    """(row, col) -> ("error", "#DIV/0!") or ("formula", text) for error cells and formulas."""
    out: dict[tuple[int, int], tuple[str, str]] = {}
    for match in _CELL.finditer(xml):
        attrs, content = match.group(1), match.group(2) or b""
        raw = _ATTR_R.search(attrs)
        ref = _REF_PARTS.fullmatch(raw.group(1)) if raw else None
        if ref is None or not ref.group(1) or not ref.group(2):
            continue  # no reference: such a cell can only be found by its place, and _extent allowed it
        position = (_row_number(ref.group(2)), _column_number(ref.group(1)))
        kind = _ATTR_T.search(attrs)
        if kind and kind.group(1) == b"e":
            value = _VALUE.search(content)
            out[position] = ("error", _xml_text(value.group(1)) if value else "#VALUE!")
            continue
        formula = _FORMULA.search(content)
        value = _VALUE.search(content)
        # A formula whose result is text may rightly have cached an empty string (t="str").
        computed = (value is not None and value.group(1).strip()) or (kind and kind.group(1) == b"str")
        if formula is not None and not computed:
            out[position] = ("formula", _xml_text(formula.group(1) or b""))
    return out


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text.strip()


# -- small helpers ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _column_number(letters: bytes | str) -> int:
    if len(letters) > 3:
        return EXCEL_MAX_COLUMNS + 1
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        number = number * 26 + ord(char) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _ref(row: int, col: int) -> str:
    return f"{_column_letters(col)}{row}"


def _display(value: Cell) -> str:
    """A cell as text for comparing with the layout: 2025.0 -> "2025", a date -> ISO."""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip() if isinstance(value, str) else str(value)


def _shown(value: Cell) -> str:
    return "nothing" if value == "" else repr(_display(value))
