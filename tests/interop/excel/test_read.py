"""Excel templates: built by govops, filled in with openpyxl as a person in Excel would, read back with calamine."""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from govops.errors import GovopsError, Problem
from govops.interop.excel import read as excel_read
from govops.interop.excel.read import MAX_WORKBOOK_BYTES
from govops.interop.excel.template import TemplateArea, TemplateIndicator, build_template
from govops.periods import Period
from govops.warehouse.formats import Row

CPI = TemplateIndicator(
    code="CPI",
    name_vi="Chỉ số giá tiêu dùng",
    name_en="Consumer price index",
    definition_vi="Chỉ số phản ánh xu hướng và mức độ biến động giá của hàng hoá, dịch vụ tiêu dùng.",
    definition_en="Change in the prices of consumer goods and services.",
    unit_code="IDX_2019",
    unit_name_vi="Chỉ số (2019 = 100)",
    unit_name_en="Index (2019 = 100)",
    decimals=2,
    dims=(("COICOP_VN", ("01", "02")),),
)
IIP = TemplateIndicator(
    code="IIP",
    name_vi="Chỉ số sản xuất công nghiệp",
    name_en="Industrial production index",
    definition_vi="Chỉ số khối lượng sản xuất công nghiệp so với kỳ gốc.",
    definition_en="Volume of industrial production against the base period.",
    unit_code="PCT",
    unit_name_vi="%",
    unit_name_en="%",
    decimals=1,
)
AREAS = (TemplateArea("01", "Thành phố Hà Nội"), TemplateArea("79", "Thành phố Hồ Chí Minh"))
PERIODS = {"CPI": ["2025-06", "2025-07"], "IIP": ["2025-Q1", "2025-Q2"]}
TITLE = "Báo cáo kinh tế - xã hội tháng 7/2025"
AGENCY = "Cục Thống kê"

# The layout these settings give: a title block on rows 1-6, the header on row 7, data from row 8.
# CPI: A code, B name, C COICOP_VN, D 2025-06, E 2025-07; rows 8-11 = 01/01, 01/02, 79/01, 79/02.
# IIP: A code, B name, C 2025-Q1, D 2025-Q2; rows 8-9 = 01, 79.


def read_workbook(body: bytes, **options: Any) -> list[Row]:
    """The reader's rows with each cell reference (`_where`) taken out, as the submission takes it out."""
    rows = excel_read.read_workbook(body, **options)
    for _, item in rows:
        if isinstance(item, dict):
            item.pop("_where")
    return rows


def make_template(lang: str = "vi") -> bytes:
    return build_template(
        title=TITLE,
        agency=AGENCY,
        indicators=[CPI, IIP],
        areas=AREAS,
        periods=PERIODS,
        lang="en" if lang == "en" else "vi",
    )


@pytest.fixture(scope="module")
def template() -> bytes:
    return make_template()


def fill(body: bytes, cells: dict[str, dict[str, Any]], edit: Callable[[Workbook], None] | None = None) -> bytes:
    """The template as a person leaves it: openpyxl stands in for Excel (it keeps protection and hidden sheets)."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    for sheet, values in cells.items():
        for ref, value in values.items():
            book[sheet][ref] = value
    if edit is not None:
        edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems(rows: list[tuple[int, Any]]) -> list[Problem]:
    return [item for _n, item in rows if isinstance(item, Problem)]


def observations(rows: list[tuple[int, Any]]) -> list[dict[str, Any]]:
    return [item for _n, item in rows if not isinstance(item, Problem)]


def sheet(book: Workbook, name: str) -> Worksheet:
    found = book[name]
    assert isinstance(found, Worksheet)
    return found


def test_each_value_names_its_cell_for_problems_found_later(template: bytes) -> None:
    rows = excel_read.read_workbook(fill(template, {"CPI": {"D8": 1.0, "E11": 2.0}, "IIP": {"C8": 3.0}}))
    assert [item["_where"] for _, item in rows if isinstance(item, dict)] == [
        "sheet CPI, cell D8", "sheet CPI, cell E11", "sheet IIP, cell C8"
    ]  # fmt: skip


# -- the template ---------------------------------------------------------------------------------


def test_template_sheets_header_and_rows(template: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(template))
    assert book.sheetnames == ["Ghi chú", "CPI", "IIP", "_govops"]
    assert [s.sheet_state for s in book.worksheets] == ["visible", "visible", "visible", "veryHidden"]
    cpi = sheet(book, "CPI")
    assert cpi["A1"].value == TITLE
    assert cpi["A2"].value == "Chỉ tiêu: CPI \u2013 Chỉ số giá tiêu dùng"
    assert cpi["A3"].value == "Đơn vị tính: Chỉ số (2019 = 100) (IDX_2019); 2 số chữ số thập phân"
    assert cpi["A4"].value == "Đơn vị báo cáo: Cục Thống kê"
    assert [c.value for c in cpi[7]] == ["Mã địa bàn", "Tên địa bàn", "COICOP_VN", "2025-06", "2025-07"]
    assert [[c.value for c in row[:3]] for row in cpi.iter_rows(min_row=8, max_row=cpi.max_row)] == [
        ["01", "Thành phố Hà Nội", "01"],
        ["01", "Thành phố Hà Nội", "02"],
        ["79", "Thành phố Hồ Chí Minh", "01"],
        ["79", "Thành phố Hồ Chí Minh", "02"],
    ]
    iip = sheet(book, "IIP")
    assert [c.value for c in iip[7]] == ["Mã địa bàn", "Tên địa bàn", "2025-Q1", "2025-Q2"]
    assert iip.max_row == 9
    notes = sheet(book, "Ghi chú")
    assert [c.value for c in notes[5]] == [
        "Mã chỉ tiêu",
        "Tên chỉ tiêu",
        "Đơn vị tính",
        "Định nghĩa",
        "Kỳ báo cáo",
        "Các kỳ trong biểu",
        "Phân tổ",
    ]
    assert [c.value for c in notes[6]] == [
        "CPI",
        "Chỉ số giá tiêu dùng",
        "Chỉ số (2019 = 100) (IDX_2019)",
        CPI.definition_vi,
        "Tháng",
        "2025-06 \u2013 2025-07 (2)",
        "COICOP_VN (2)",
    ]
    assert [c.value for c in notes[7]][4:] == ["Quý", "2025-Q1 \u2013 2025-Q2 (2)", "Không"]


def test_template_protection_validation_formats_and_panes(template: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(template))
    assert book.security is not None and book.security.lockStructure
    cpi = sheet(book, "CPI")
    assert cpi.protection.sheet and cpi.protection.password is None
    assert all(cpi[ref].protection.locked for ref in ("A7", "D7", "A8", "B8", "C11", "A1"))
    assert not any(cpi[ref].protection.locked for ref in ("D8", "E8", "D11", "E11"))
    assert cpi["F8"].protection.locked and cpi["D12"].protection.locked
    assert cpi["D8"].number_format == "#,##0.00"
    assert cpi["A8"].number_format == "@"
    assert sheet(book, "IIP")["C8"].number_format == "#,##0.0"
    [validation] = cpi.data_validations.dataValidation
    assert validation.type == "decimal"
    assert str(validation.sqref) == "D8:E11"
    assert validation.showErrorMessage and validation.allow_blank
    assert validation.error is not None and validation.error.startswith("Ô này chỉ nhận một con số")
    assert validation.errorTitle == "Số liệu không hợp lệ"
    assert str(sheet(book, "IIP").data_validations.dataValidation[0].sqref) == "C8:D9"
    assert cpi.freeze_panes == "D8"
    assert sheet(book, "IIP").freeze_panes == "C8"
    widths = {col: cpi.column_dimensions[col].width for col in "ABCDE"}
    assert widths["B"] >= len("Thành phố Hồ Chí Minh")
    assert all(width >= 10 for width in widths.values())
    assert sheet(book, "Ghi chú").protection.sheet


def test_english_template() -> None:
    book = openpyxl.load_workbook(io.BytesIO(make_template("en")))
    assert book.sheetnames == ["Notes", "CPI", "IIP", "_govops"]
    cpi = sheet(book, "CPI")
    assert [c.value for c in cpi[7]][:2] == ["Area code", "Area name"]
    assert cpi["A2"].value == "Indicator: CPI \u2013 Consumer price index"
    error = cpi.data_validations.dataValidation[0].error
    assert error is not None and error.startswith("This cell takes a number only")
    assert sheet(book, "Notes")["E7"].value == "Quarter"
    rows = read_workbook(fill(make_template("en"), {"IIP": {"D9": 98.7}}))
    assert rows == [(1, {"indicator": "IIP", "area": "79", "period": "2025-Q2", "value": 98.7, "dims": {}})]


def test_layout_sheet_records_and_survives_an_openpyxl_save(template: bytes) -> None:
    def layout_rows(body: bytes) -> list[tuple[Any, ...]]:
        book = openpyxl.load_workbook(io.BytesIO(body))
        assert sheet(book, "_govops").sheet_state == "veryHidden"
        return list(sheet(book, "_govops").iter_rows(values_only=True))

    rows = layout_rows(template)
    assert rows[0][:5] == ("govops-template", 1, "vi", TITLE, AGENCY)
    cpi = [row[:6] for row in rows if row[1] == "CPI"]
    assert cpi[:6] == [
        ("indicator", "CPI", None, None, "CPI", None),
        ("header_row", "CPI", 7, None, None, None),
        ("first_data_row", "CPI", 8, None, None, None),
        ("area_column", "CPI", 7, 1, "Mã địa bàn", None),
        ("name_column", "CPI", 7, 2, "Tên địa bàn", None),
        ("dim_column", "CPI", 7, 3, "COICOP_VN", None),
    ]
    assert ("period_column", "CPI", 7, 5, "2025-07", None) in cpi
    assert ("data_row", "CPI", 11, None, "79", '{"COICOP_VN": "02"}') in cpi
    resaved = fill(template, {})
    assert layout_rows(resaved) == rows
    assert read_workbook(resaved) == []


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"indicators": [CPI, IIP, CPI]}, "indicator code 'CPI' is given twice"),
        ({"periods": ["2025-13"]}, None),
        ({"periods": {"CPI": ["2025-06"]}}, "no periods given for IIP"),
        ({"areas": []}, "at least one area"),
        ({"indicators": [TemplateIndicator("CPI[1]", "", "", "", "", "U", "", "", 0)]}, "cannot name a sheet"),
    ],
)
def test_template_refuses_bad_requests(change: dict[str, Any], hint: str | None) -> None:
    args: dict[str, Any] = {"title": TITLE, "agency": AGENCY, "indicators": [CPI, IIP], "areas": AREAS}
    args["periods"] = PERIODS
    args.update(change)
    with pytest.raises(GovopsError) as caught:
        build_template(**args)
    if hint is not None:
        assert hint in caught.value.message


def test_long_and_clashing_codes_get_sheet_names_and_keep_their_code() -> None:
    long_code = "GRDP_PER_CAPITA_CURRENT_PRICES_X"  # 32 characters, the catalogue's longest
    codes = [long_code, long_code[:-1] + "Y", "_GOVOPS"]
    indicators = [TemplateIndicator(code, code, code, "", "", "U", "u", "u", 0) for code in codes]
    body = build_template(title="t", agency="a", indicators=indicators, areas=AREAS[:1], periods=["2025"])
    names = openpyxl.load_workbook(io.BytesIO(body)).sheetnames
    assert names == ["Ghi chú", long_code[:31], long_code[:29] + "~2", "_GOVOPS~2", "_govops"]
    filled = fill(body, {long_code[:29] + "~2": {"C8": 1}, "_GOVOPS~2": {"C8": 2}})
    assert [item["indicator"] for _n, item in read_workbook(filled)] == [codes[1], "_GOVOPS"]


# -- reading what a person filled in ---------------------------------------------------------------


def test_error_cells_are_empty_strings_to_calamine() -> None:
    """Why the reader scans the sheet XML itself: calamine turns #DIV/0! into ''."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws["A1"] = "#DIV/0!"
    ws["B1"] = "=1/0"
    ws["C1"] = 1.5
    assert (ws["A1"].data_type, ws["B1"].data_type) == ("e", "f")
    out = io.BytesIO()
    book.save(out)
    cells = CalamineWorkbook.from_object(io.BytesIO(out.getvalue())).get_sheet_by_name(ws.title).to_python()
    assert cells == [["", "", 1.5]]


def test_read_filled_template_exact_rows_and_problems(template: bytes) -> None:
    body = fill(
        template,
        {
            "CPI": {
                "D8": 101.25,
                "E8": 101.5,
                "D9": "12,5",
                "E9": "#DIV/0!",
                "D10": "=1/0",
                "E10": 0,
                "D11": "1.234,5",
                "E11": -3,
            },
            "IIP": {"C8": 105.2, "D9": "  "},
        },
    )
    rows = read_workbook(body, where="ha-noi.xlsx")
    assert [n for n, _item in rows] == list(range(1, 10))
    assert observations(rows) == [
        {"indicator": "CPI", "area": "01", "period": "2025-06", "value": 101.25, "dims": {"COICOP_VN": "01"}},
        {"indicator": "CPI", "area": "01", "period": "2025-07", "value": 101.5, "dims": {"COICOP_VN": "01"}},
        {"indicator": "CPI", "area": "79", "period": "2025-07", "value": 0.0, "dims": {"COICOP_VN": "01"}},
        {"indicator": "CPI", "area": "79", "period": "2025-07", "value": -3.0, "dims": {"COICOP_VN": "02"}},
        {"indicator": "IIP", "area": "01", "period": "2025-Q1", "value": 105.2, "dims": {}},
    ]
    found = [(p.row, p.where, p.field, p.value, p.message) for p in problems(rows)]
    assert found == [
        (
            3,
            "sheet CPI, cell D9",
            "value",
            "12,5",
            "cell D9 holds the text '12,5' with a comma as the decimal mark, meant as 12.5",
        ),
        (
            4,
            "sheet CPI, cell E9",
            "value",
            "#DIV/0!",
            "cell E9 shows the Excel error #DIV/0! (division by zero), not a number",
        ),
        (
            5,
            "sheet CPI, cell D10",
            "value",
            "=1/0",
            "cell D10 holds the formula =1/0 but no computed value: "
            "the file was saved by a program that does not calculate formulas",
        ),
        (
            7,
            "sheet CPI, cell D11",
            "value",
            "1.234,5",
            "cell D11 holds the text '1.234,5' written the Vietnamese way "
            "(dot for thousands, comma for decimals), meant as 1234.5",
        ),
    ]
    assert all(p.hint for p in problems(rows))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.5", "cell C8 holds the number 12.5 stored as text"),
        ("1,234", "cell C8 holds the text '1,234': a comma can mean thousands (1234) or decimals (1.234)"),
        ("1,234.5", "cell C8 holds the text '1,234.5' with thousands separators, meant as 1234.5"),
        ("n/a", "cell C8 holds the text 'n/a', not a number"),
        # openpyxl, like Excel, turns a typed #N/A into an error cell.
        ("#N/A", "cell C8 shows the Excel error #N/A (a value that is not available), not a number"),
        (True, "cell C8 holds TRUE, not a number"),
        (date(2025, 7, 1), "cell C8 holds a date or time (2025-07-01"),
    ],
)
def test_what_is_not_a_number(template: bytes, typed: Any, message: str) -> None:
    cell = {"C8": typed}
    rows = read_workbook(fill(template, {"IIP": cell}))
    [problem] = problems(rows)
    assert problem.message.startswith(message)
    assert problem.where == "sheet IIP, cell C8"
    assert observations(rows) == []


def test_cached_formula_error_as_excel_saves_it(template: bytes) -> None:
    """Excel saves a failing formula with its error as the cached value: <c t="e"><f>..</f><v>#N/A</v></c>."""
    body = fill(template, {"IIP": {"D8": "=1/0"}})
    patched = rezip(body, "xl/worksheets/sheet3.xml", lambda xml: xml.replace(b'<c r="D8" s=', b'<c t="e" r="D8" s='))
    patched = rezip(patched, "xl/worksheets/sheet3.xml", lambda xml: re.sub(b"<v></v>|<v/>", b"<v>#N/A</v>", xml))
    [problem] = problems(read_workbook(patched))
    assert problem.message == "cell D8 shows the Excel error #N/A (a value that is not available), not a number"


def test_moved_header_is_named_and_the_sheet_skipped(template: bytes) -> None:
    body = fill(template, {"CPI": {"D8": 101.0}, "IIP": {"C8": 105.2}}, edit=lambda b: sheet(b, "CPI").insert_rows(1))
    rows = read_workbook(body)
    [moved] = problems(rows)
    assert moved.where == "sheet CPI, cell A7"
    assert moved.message == (
        "the header of sheet CPI moved: 'Mã địa bàn' belongs in cell A7, which holds nothing, and is now in cell A8; "
        "rows or columns were inserted or deleted above or left of the table"
    )
    assert observations(rows) == [
        {"indicator": "IIP", "area": "01", "period": "2025-Q1", "value": 105.2, "dims": {}},
    ]


def test_moved_columns_are_detected(template: bytes) -> None:
    body = fill(template, {}, edit=lambda b: sheet(b, "IIP").insert_cols(1))
    [moved] = problems(read_workbook(body))
    assert moved.where == "sheet IIP, cell A7"
    assert "is now in cell B7" in moved.message


def test_edited_period_area_and_code_cells(template: bytes) -> None:
    body = fill(template, {"CPI": {"E7": "2025-08", "A10": "80", "C11": "03", "D10": 99.5}})
    rows = read_workbook(body)
    assert [(p.where, p.field, p.value, p.message) for p in problems(rows)] == [
        (
            "sheet CPI, cell E7",
            "period",
            "2025-08",
            "header cell E7 was edited: the template put the period '2025-07' there, it now holds '2025-08'; "
            "the column is read as 2025-07",
        ),
        (
            "sheet CPI, cell A10",
            "area",
            "80",
            "cell A10 was edited: the template put the area code '79' there, it now holds '80'; "
            "the row's figures are read for 79",
        ),
        (
            "sheet CPI, cell C11",
            "dims",
            "03",
            "cell C11 was edited: the template put the COICOP_VN code '02' there, it now holds '03'; "
            "the row's figures are read for 02",
        ),
    ]
    assert observations(rows) == [
        {"indicator": "CPI", "area": "79", "period": "2025-06", "value": 99.5, "dims": {"COICOP_VN": "01"}},
    ]


def test_merged_cells_in_the_table(template: bytes) -> None:
    body = fill(template, {"CPI": {"D9": 100.0}}, edit=lambda b: sheet(b, "CPI").merge_cells("D9:E10"))
    rows = read_workbook(body)
    [merged] = problems(rows)
    assert merged.where == "sheet CPI, cells D9:E10"
    assert merged.message.startswith("cells D9:E10 are merged inside the table")
    # The top-left cell keeps its figure, as in Excel; the batch is rejected for the Problem anyway.
    assert observations(rows) == [
        {"indicator": "CPI", "area": "01", "period": "2025-06", "value": 100.0, "dims": {"COICOP_VN": "02"}},
    ]


def test_deleted_and_renamed_sheets(template: bytes) -> None:
    def rename(book: Workbook) -> None:
        sheet(book, "IIP").title = "IIP 2025"

    [renamed] = problems(read_workbook(fill(template, {}, edit=rename)))
    assert renamed.where == "sheet IIP"
    assert renamed.message == (
        "sheet IIP of the template is missing: it was deleted or renamed; "
        "the workbook has sheet(s) the template did not make: IIP 2025"
    )

    def delete(book: Workbook) -> None:
        del book["CPI"]

    body = fill(template, {"IIP": {"D9": 7}}, edit=delete)
    rows = read_workbook(body)
    assert [p.message for p in problems(rows)] == ["sheet CPI of the template is missing: it was deleted or renamed"]
    assert observations(rows) == [{"indicator": "IIP", "area": "79", "period": "2025-Q2", "value": 7.0, "dims": {}}]


def test_figures_outside_the_table_are_reported(template: bytes) -> None:
    found = problems(read_workbook(fill(template, {"CPI": {"G9": 42, "A20": 7.5, "B3": 1}})))
    # The title block above the header is not the table: B3 is neither read nor reported.
    assert [p.where for p in found] == ["sheet CPI, cell G9", "sheet CPI, cell A20"]
    assert found[0].message == "cell G9 holds 42 outside the template's table (D8:E11); it is not read"


# -- whole-file errors ------------------------------------------------------------------------------


def raises(body: bytes, code: str, **kwargs: Any) -> GovopsError:
    with pytest.raises(GovopsError) as caught:
        read_workbook(body, where="bao-cao.xlsx", **kwargs)
    assert caught.value.code == code, caught.value
    assert caught.value.where is not None and caught.value.where.startswith("bao-cao.xlsx")
    return caught.value


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def rezip(body: bytes, member: str, change: Callable[[bytes], bytes] | None) -> bytes:
    """The workbook with one member changed, or left out when ``change`` is None."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    if change is None:
        del members[member]
    else:
        members[member] = change(members[member])
    return zip_of(members)


def test_too_big_is_refused_before_opening(template: bytes) -> None:
    error = raises(template, "too_large", max_bytes=len(template) - 1)
    assert error.where == "bao-cao.xlsx"
    assert error.message == f"the workbook is {len(template)} bytes; the limit is {len(template) - 1} bytes"
    assert MAX_WORKBOOK_BYTES == 50 * 1024 * 1024
    # Refused by size alone: even bytes that are no workbook at all.
    raises(b"x" * 2000, "too_large", max_bytes=1000)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "this is an old Excel 97-2003 workbook (.xls)"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64) + "EncryptedPackage".encode("utf-16-le"),
            "this is a password-protected (encrypted) workbook",
        ),
        (
            zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
            "this is an OpenDocument spreadsheet (.ods)",
        ),
        (zip_of({"word/document.xml": b"<w/>"}), "this is a Word document (.docx)"),
        (zip_of({"xl/workbook.bin": b"\x00"}), "this is an Excel binary workbook (.xlsb)"),
        (zip_of({"hello.txt": b"hi"}), "this is a zip archive"),
        (b"indicator,area,period,value\nCPI,79,2025-07,101.2\n", "this is a text file (CSV or similar)"),
        (b"<html><table><tr><td>1</td></tr></table></html>", "this is a web page (HTML)"),
        (b"%PDF-1.7\n", "this is a PDF document"),
        (b"", "the file is empty"),
        (bytes(range(256)) * 4, "this file is not an Excel workbook (.xlsx) nor any spreadsheet"),
    ],
)
def test_not_an_xlsx_says_what_it_is(body: bytes, what: str) -> None:
    error = raises(body, "not_xlsx")
    assert error.message.startswith(what)
    assert error.where == "bao-cao.xlsx"


def test_corrupt_zip(template: bytes) -> None:
    raises(template[: len(template) // 2], "corrupt_file")
    raises(rezip(template, "xl/worksheets/sheet2.xml", lambda xml: xml[: len(xml) // 2]), "corrupt_file")
    raises(rezip(template, "xl/_rels/workbook.xml.rels", None), "corrupt_file")


def test_workbook_not_made_from_a_template() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["indicator", "area", "period", "value"])
    out = io.BytesIO()
    book.save(out)
    error = raises(out.getvalue(), "not_a_template")
    assert error.message == "this workbook was not made from a govops template (it has no _govops sheet)"
    assert error.hint is not None and "govops template xlsx" in error.hint


def test_damaged_or_newer_layout(template: bytes) -> None:
    error = raises(fill(template, {"_govops": {"A1": "something"}}), "damaged_template")
    assert error.where == "bao-cao.xlsx, sheet _govops"
    error = raises(fill(template, {"_govops": {"B1": 2}}), "damaged_template")
    assert error.message == "the template is version 2; this govops reads version 1 and older"
    error = raises(fill(template, {"_govops": {"C6": "seven"}}), "damaged_template")
    assert error.message.startswith("the template's hidden _govops sheet is damaged: row 6:")


def test_a_far_away_cell_is_refused_not_allocated(template: bytes) -> None:
    """calamine would allocate a dense grid to XFD1048576 (and abort the process): refuse it first."""
    error = raises(fill(template, {"CPI": {"XFD1048576": 1}}), "too_large")
    assert error.where == "bao-cao.xlsx, sheet CPI"
    assert error.message.startswith("sheet CPI reaches cell XFD1048576")


@pytest.mark.parametrize(
    "cells",
    [
        b'<row r="30"><c r="ZZZZZZZZ30" t="n"><v>1</v></c></row>',
        b'<row r="30"><c r="A99999999999" t="n"><v>1</v></c></row>',
        b'<row r="99999999999"><c t="n"><v>1</v></c></row>',
        b'<row r="30"><c r="C30x" t="n"><v>1</v></c></row>',
    ],
)
def test_cell_references_beyond_excel_are_refused(template: bytes, cells: bytes) -> None:
    """Each of these makes calamine allocate tens of gigabytes and abort the whole process."""
    body = rezip(
        template, "xl/worksheets/sheet3.xml", lambda xml: xml.replace(b"</sheetData>", cells + b"</sheetData>")
    )
    error = raises(body, "corrupt_file")
    assert error.message.startswith("the workbook is damaged and cannot be read (sheet IIP")


def test_a_shared_string_table_that_lies_about_its_size(template: bytes) -> None:
    """calamine reserves room for uniqueCount strings before reading one (another abort)."""
    table = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="1" uniqueCount="4294967295"><si><t>12,5</t></si></sst>'
    )
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["xl/sharedStrings.xml"] = table
    error = raises(zip_of(members), "corrupt_file")
    assert f"xl/sharedStrings.xml declares 4294967295 strings in {len(table)} bytes" in error.message
    members["xl/sharedStrings.xml"] = table.replace(b"4294967295", b"1")
    # C8 of IIP points at string 0 of the table, as Excel writes text.
    members["xl/worksheets/sheet3.xml"] = re.sub(
        rb'<c r="C8" s="(\d+)" t="n"></c>', rb'<c r="C8" s="\1" t="s"><v>0</v></c>', members["xl/worksheets/sheet3.xml"]
    )
    [problem] = problems(read_workbook(zip_of(members)))
    assert problem.where == "sheet IIP, cell C8" and problem.value == "12,5"


# -- fuzzing: nothing but GovopsError ---------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(template: bytes) -> bytes:
    return fill(template, {"CPI": {"D8": 101.25, "E9": "12,5", "D10": "#DIV/0!"}, "IIP": {"C8": 3.5}})


def read_or_govops_error(body: bytes) -> None:
    try:
        rows = read_workbook(body)
    except GovopsError:
        return
    assert all(isinstance(item, dict | Problem) for _n, item in rows)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(body: bytes) -> None:
    read_or_govops_error(body)
    read_or_govops_error(b"PK\x03\x04" + body)


@FUZZ
@given(st.data())
def test_fuzz_truncated_and_flipped(filled: bytes, data: st.DataObject) -> None:
    body = bytearray(filled[: data.draw(st.integers(1, len(filled)), label="cut")])
    for _ in range(data.draw(st.integers(0, 8), label="flips")):
        position = data.draw(st.integers(0, len(body) - 1))
        body[position] ^= data.draw(st.integers(1, 255))
    read_or_govops_error(bytes(body))


_ELEMENT = re.compile(rb"<([A-Za-z:]+)\b[^>]*?(?:/>|>.*?</\1>)", re.S)


@FUZZ
@given(st.data())
def test_fuzz_mutated_parts(filled: bytes, data: st.DataObject) -> None:
    """Mutations inside the zip, where the XML is still readable: deleted elements, flipped or cut bytes."""
    with zipfile.ZipFile(io.BytesIO(filled)) as archive:
        names = sorted(archive.namelist())
    member = data.draw(st.sampled_from(names), label="member")
    ways = ["drop element", "flip", "cut", "delete member", "swap digits", "grow a number"]
    how = data.draw(st.sampled_from(ways), label="how")
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))

    def mutate(xml: bytes) -> bytes:
        if how == "drop element":
            found = list(_ELEMENT.finditer(xml))
            if not found:
                return xml
            match = rng.choice(found)
            return xml[: match.start()] + xml[match.end() :]
        if how == "flip" and xml:
            copy = bytearray(xml)
            for _ in range(rng.randint(1, 4)):
                copy[rng.randrange(len(copy))] = rng.randrange(256)
            return bytes(copy)
        if how == "grow a number":
            numbers = list(re.finditer(rb"\d+", xml))
            if not numbers:
                return xml
            end = rng.choice(numbers).end()
            return xml[:end] + str(rng.randrange(10 ** rng.randint(1, 12))).encode() + xml[end:]
        if how == "swap digits":
            return re.sub(rb"\d", lambda _m: str(rng.randrange(10)).encode(), xml, count=rng.randint(1, 50))
        return xml[: rng.randrange(len(xml) + 1)]

    read_or_govops_error(rezip(filled, member, None if how == "delete member" else mutate))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([f"{col}{row}" for col in "ABCDEF" for row in range(1, 40)]),
    st.one_of(
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False),
        st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=30),
        st.none(),
    ),
)
def test_fuzz_edited_layout_sheet(template: bytes, cell: str, value: Any) -> None:
    """Whatever is typed into the hidden sheet, the reader answers with rows or a GovopsError."""
    read_or_govops_error(fill(template, {"_govops": {cell: value}}))


# -- speed --------------------------------------------------------------------------------------------


def test_hundred_thousand_values_read_whole() -> None:
    """34 areas x 200 months x 15 sheets = 102,000 values."""
    indicators = [
        TemplateIndicator(f"IND{i:02d}", f"Chỉ tiêu {i}", f"Indicator {i}", "", "", "PCT", "%", "%", 1)
        for i in range(15)
    ]
    areas = [TemplateArea(f"{i:02d}", f"Tỉnh {i}") for i in range(1, 35)]
    periods = [str(p) for p in Period.range(Period("2009-01"), Period("2025-08"))]
    template = build_template(title="t", agency="a", indicators=indicators, areas=areas, periods=periods)
    book = openpyxl.load_workbook(io.BytesIO(template))
    for indicator in indicators:
        ws = sheet(book, indicator.code)
        for row in range(8, 8 + len(areas)):
            for col in range(3, 3 + len(periods)):
                ws.cell(row=row, column=col, value=row * 1000 + col / 10)
    out = io.BytesIO()
    book.save(out)
    rows = read_workbook(out.getvalue())  # bench/interop.py measures how fast
    assert len(rows) == 102_000
    assert rows[-1] == (
        102_000,
        {"indicator": "IND14", "area": "34", "period": "2025-08", "value": 41000 + 20.2, "dims": {}},
    )
