"""Excel reporting templates that ministries and provinces fill in and send back.

One workbook holds:

- a notes sheet ("Ghi chú" / "Notes") first: per indicator its code, name, unit, definition,
  periodicity and the periods asked for, then how to fill the template in;
- one sheet per indicator, named by the indicator code (cut to Excel's 31 characters, made unique
  with ~2, ~3 when needed; the layout keeps the full code): a title block (report title, indicator,
  unit, reporting agency, how to fill in), then a header row ``area code | area name |
  one column per dimension (its code list code) | one column per period (govops notation, 2025-07)``
  and one row per area, times every combination of dimension codes when the indicator has a
  breakdown. Value cells are the only unlocked cells; they carry a decimal data validation and the
  indicator's number format;
- a ``_govops`` sheet, very hidden (Excel's user interface cannot unhide it), holding the layout
  the reader needs to find every value again. One record per row, columns
  ``kind | sheet | row | column | value | dims``::

      govops-template | 1 (version) | vi (language) | title | agency     <- row 1
      indicator       | CPI | .  | .  | CPI
      header_row      | CPI | 7  | .  | .
      first_data_row  | CPI | 8  | .  | .
      area_column     | CPI | 7  | 1  | Mã địa bàn      <- header cell and the text expected in it
      name_column     | CPI | 7  | 2  | Tên địa bàn
      dim_column      | CPI | 7  | 3  | COICOP_VN
      period_column   | CPI | 7  | 4  | 2025-07
      data_row        | CPI | 8  | .  | 79 | {"COICOP_VN": "01"}

Sheets are protected without a password (Review > Unprotect Sheet lifts it): the protection only
stops a code, a name or the header being overwritten by mistake, it is no security. The workbook
structure is locked the same way so that a sheet is not renamed or deleted by accident.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from govops.errors import GovopsError
from govops.periods import Freq, Period

Lang = Literal["vi", "en"]

TEMPLATE_VERSION = 1
LAYOUT_SHEET = "_govops"
LAYOUT_MAGIC = "govops-template"
LAYOUT_COLUMNS = ("kind", "sheet", "row", "column", "value", "dims")
# Sheet protection carries no password on purpose (see the module docstring); kept as a name so the
# notes sheet and the lead's documentation say the same thing.
SHEET_PASSWORD: str | None = None

MAX_SHEET_NAME = 31
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# Characters Excel refuses in a sheet name.
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# Values typed into a cell are checked against this range; it stands for "any number".
_ANY_NUMBER = ("-1E+300", "1E+300")
_TITLE_ROWS = 6  # title, indicator, unit, agency, how to fill in, a blank spacer

NOTES_SHEET: dict[Lang, str] = {"vi": "Ghi chú", "en": "Notes"}

_LABELS: dict[Lang, dict[str, str]] = {
    "vi": {
        "area_code": "Mã địa bàn",
        "area_name": "Tên địa bàn",
        "indicator": "Chỉ tiêu",
        "unit": "Đơn vị tính",
        "agency": "Đơn vị báo cáo",
        "decimals": "số chữ số thập phân",
        "fill_in": "Nhập số liệu vào các ô màu trắng; để trống ô không có số liệu. "
        "Không chèn, xóa, di chuyển hay gộp hàng, cột.",
        "error_title": "Số liệu không hợp lệ",
        "error": "Ô này chỉ nhận một con số (ví dụ 101,25 hoặc 101.25 theo cài đặt của Excel). "
        "Để trống nếu không có số liệu.",
        "notes_title": "Ghi chú và hướng dẫn điền biểu",
        "code": "Mã chỉ tiêu",
        "name": "Tên chỉ tiêu",
        "definition": "Định nghĩa",
        "periodicity": "Kỳ báo cáo",
        "periods": "Các kỳ trong biểu",
        "breakdown": "Phân tổ",
        "none": "Không",
        "how_to": "Hướng dẫn",
        "template": "Mẫu biểu govops phiên bản",
    },
    "en": {
        "area_code": "Area code",
        "area_name": "Area name",
        "indicator": "Indicator",
        "unit": "Unit",
        "agency": "Reporting agency",
        "decimals": "decimal places",
        "fill_in": "Enter figures in the white cells; leave a cell empty when there is no figure. "
        "Do not insert, delete, move or merge rows or columns.",
        "error_title": "Not a number",
        "error": "This cell takes a number only (for example 101.25, as Excel's settings write it). "
        "Leave it empty when there is no figure.",
        "notes_title": "Notes and how to fill in this template",
        "code": "Indicator code",
        "name": "Indicator name",
        "definition": "Definition",
        "periodicity": "Periodicity",
        "periods": "Periods asked for",
        "breakdown": "Breakdown",
        "none": "None",
        "how_to": "How to fill in",
        "template": "govops template version",
    },
}

_HOW_TO: dict[Lang, tuple[str, ...]] = {
    "vi": (
        "Mỗi chỉ tiêu có một trang tính riêng, tên trang là mã chỉ tiêu.",
        "Chỉ nhập số vào các ô màu trắng, mỗi hàng là một địa bàn (và một phân tổ nếu có), mỗi cột là một kỳ.",
        "Để trống ô không có số liệu; không ghi chữ, ký hiệu (như -, x, ...) hay công thức báo lỗi (#DIV/0!, #N/A).",
        "Không chèn, xóa, di chuyển, gộp hàng hoặc cột; không đổi tên hay xóa trang tính. "
        "Cần địa bàn hoặc kỳ khác thì tải mẫu biểu mới.",
        "Các trang được khóa không đặt mật khẩu (Xem lại > Bỏ bảo vệ trang tính) "
        "chỉ để tránh sửa nhầm mã, tên và tiêu đề.",
        "Lưu tệp ở định dạng Excel Workbook (.xlsx), không lưu thành .xls, .ods hay .csv, rồi nộp qua govops.",
    ),
    "en": (
        "Each indicator has its own sheet, named by the indicator code.",
        "Enter numbers in the white cells only: one row per area (and breakdown, if any), one column per period.",
        "Leave a cell empty when there is no figure; do not type words, symbols (-, x, ...) "
        "or formulas that show errors (#DIV/0!, #N/A).",
        "Do not insert, delete, move or merge rows or columns, nor rename or delete sheets. "
        "For other areas or periods, download a new template.",
        "Sheets are protected without a password (Review > Unprotect Sheet) only to stop codes, names "
        "and headers being overwritten by mistake.",
        "Save the file as an Excel Workbook (.xlsx), not .xls, .ods or .csv, and submit it through govops.",
    ),
}

_DASH = " \u2013 "  # an en dash between a code and a name, or the first and last period
_NAVY = "1F3864"
_GREY = "EDEDED"
_LIGHT = "F7F9FC"
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor=_NAVY)
_LOCKED_FILL = PatternFill("solid", fgColor=_GREY)
_HEADER_FONT = Font(name="Arial", size=10, bold=True, color="FFFFFF")
_BODY_FONT = Font(name="Arial", size=10)
_TITLE_FONT = Font(name="Arial", size=14, bold=True, color=_NAVY)
_SUBTITLE_FONT = Font(name="Arial", size=11, bold=True)
_NOTE_FONT = Font(name="Arial", size=9, italic=True, color="595959")
_UNLOCKED = Protection(locked=False)
# Cells of the table take named styles: one assignment per cell instead of four, which matters at
# 100,000 cells, and Excel lists them under Cell Styles.
_HEADER_STYLE = "govops header"
_CODE_STYLE = "govops code"


@dataclass(frozen=True)
class TemplateIndicator:
    """What a template sheet needs to know of one indicator; plain values, no database."""

    code: str
    name_vi: str
    name_en: str
    definition_vi: str
    definition_en: str
    unit_code: str
    unit_name_vi: str
    unit_name_en: str
    decimals: int
    # (code list code, codes) per breakdown; a row is made for every combination of codes.
    dims: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def name(self, lang: Lang) -> str:
        return self.name_vi if lang == "vi" else self.name_en

    def definition(self, lang: Lang) -> str:
        return self.definition_vi if lang == "vi" else self.definition_en

    def unit_name(self, lang: Lang) -> str:
        return self.unit_name_vi if lang == "vi" else self.unit_name_en


@dataclass(frozen=True)
class TemplateArea:
    code: str
    name: str


@dataclass(frozen=True)
class _SheetPlan:
    """Where everything goes on one indicator sheet; the same plan is written to ``_govops``."""

    sheet: str
    indicator: TemplateIndicator
    periods: tuple[str, ...]
    rows: tuple[tuple[TemplateArea, tuple[tuple[str, str], ...]], ...]
    header_row: int = _TITLE_ROWS + 1

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_data_row(self) -> int:
        return self.header_row + len(self.rows)

    @property
    def dim_codes(self) -> tuple[str, ...]:
        return tuple(code_list for code_list, _codes in self.indicator.dims)

    @property
    def first_period_column(self) -> int:
        return 3 + len(self.indicator.dims)

    @property
    def last_column(self) -> int:
        return self.first_period_column + len(self.periods) - 1


def build_template(
    *,
    title: str,
    agency: str,
    indicators: Sequence[TemplateIndicator],
    areas: Sequence[TemplateArea],
    periods: Sequence[str] | Mapping[str, Sequence[str]],
    lang: Lang = "vi",
) -> bytes:
    """An .xlsx reporting template for ``indicators`` x ``areas`` x ``periods``, labelled in ``lang``.

    ``periods`` is one list for every indicator, or a mapping from indicator code to its own list
    (monthly CPI next to quarterly GDP). Raises GovopsError for input that cannot make a template.
    """
    if lang not in _LABELS:
        raise GovopsError(f"unknown language {lang!r}", code="invalid_template", hint="use vi or en")
    plans = _plans(indicators=indicators, areas=areas, periods=periods)
    book = Workbook()
    _add_styles(book, decimals=[plan.indicator.decimals for plan in plans])
    notes = book.active
    assert notes is not None  # a new Workbook always has one sheet
    notes.title = NOTES_SHEET[lang]
    _write_notes(notes, plans=plans, title=title, agency=agency, lang=lang)
    for plan in plans:
        _write_indicator_sheet(book.create_sheet(plan.sheet), plan=plan, title=title, agency=agency, lang=lang)
    layout = book.create_sheet(LAYOUT_SHEET)
    _write_layout(layout, plans=plans, title=title, agency=agency, lang=lang)
    layout.sheet_state = "veryHidden"
    book.active = 0
    book.security = WorkbookProtection(lockStructure=True)
    book.properties.title = title
    book.properties.creator = "govops"
    book.properties.subject = agency
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- planning (and checking the request) ----------------------------------------------------------


def _invalid(message: str, hint: str) -> GovopsError:
    return GovopsError(message, code="invalid_template", hint=hint)


def _plans(
    *,
    indicators: Sequence[TemplateIndicator],
    areas: Sequence[TemplateArea],
    periods: Sequence[str] | Mapping[str, Sequence[str]],
) -> list[_SheetPlan]:
    if not indicators:
        raise _invalid("a template needs at least one indicator", "choose one or more indicators")
    if not areas:
        raise _invalid("a template needs at least one area", "choose one or more areas")
    _check_unique([a.code for a in areas], what="area code")
    _check_unique([i.code for i in indicators], what="indicator code")
    for area in areas:
        if not area.code.strip():
            raise _invalid("an area has an empty code", "give every area its official code")
    plans = []
    for sheet, indicator in zip(_sheet_names([i.code for i in indicators]), indicators, strict=True):
        _check_indicator(indicator)
        own = _periods_of(indicator.code, periods)
        combos = list(itertools.product(*(tuple((cl, c) for c in codes) for cl, codes in indicator.dims)))
        rows = tuple((area, combo) for area in areas for combo in combos)
        plan = _SheetPlan(sheet=sheet, indicator=indicator, periods=own, rows=rows)
        if plan.last_data_row > EXCEL_MAX_ROWS or plan.last_column > EXCEL_MAX_COLUMNS:
            raise _invalid(
                f"{indicator.code} needs {len(rows)} rows and {plan.last_column} columns; "
                f"a sheet holds {EXCEL_MAX_ROWS} rows and {EXCEL_MAX_COLUMNS} columns",
                "ask for fewer areas, breakdowns or periods",
            )
        plans.append(plan)
    return plans


def _check_unique(values: Sequence[str], *, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise _invalid(f"{what} {value!r} is given twice", "list each one once")
        seen.add(value)


def _sheet_names(codes: Sequence[str]) -> list[str]:
    """The indicator code as sheet name, cut to Excel's 31 characters and made unique (Excel ignores case).

    The layout keeps the full code, so a cut or suffixed name loses nothing.
    """
    taken = {LAYOUT_SHEET.casefold(), *(name.casefold() for name in NOTES_SHEET.values())}
    names = []
    for code in codes:
        name, number = code[:MAX_SHEET_NAME], 1
        while name.casefold() in taken:
            number += 1
            suffix = f"~{number}"
            name = code[: MAX_SHEET_NAME - len(suffix)] + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


def _check_indicator(indicator: TemplateIndicator) -> None:
    code = indicator.code
    if not code.strip() or _BAD_SHEET_CHARS.search(code) or code.startswith("'") or code.endswith("'"):
        raise _invalid(
            f"indicator code {code!r} cannot name a sheet",
            "a sheet name has no [ ] : * ? / \\ and does not start or end with an apostrophe",
        )
    if not 0 <= indicator.decimals <= 10:
        raise _invalid(f"{code}: {indicator.decimals} decimal places", "use 0 to 10 decimal places")
    _check_unique([cl for cl, _codes in indicator.dims], what=f"{code}: code list")
    for code_list, codes in indicator.dims:
        if not codes:
            raise _invalid(f"{code}: code list {code_list} has no codes", "give the codes of the breakdown")
        _check_unique(list(codes), what=f"{code}: {code_list} code")


def _periods_of(code: str, periods: Sequence[str] | Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    if isinstance(periods, Mapping):
        if code not in periods:
            raise _invalid(f"no periods given for {code}", "give periods for every indicator, or one list for all")
        own = tuple(periods[code])
    else:
        own = tuple(periods)
    if not own:
        raise _invalid(f"no periods given for {code}", "give at least one period such as 2025-07")
    normalised = tuple(str(Period.parse(p)) for p in own)
    _check_unique(normalised, what=f"{code}: period")
    return normalised


# -- the sheets ------------------------------------------------------------------------------------


def _write_notes(sheet: Worksheet, *, plans: Sequence[_SheetPlan], title: str, agency: str, lang: Lang) -> None:
    labels = _LABELS[lang]
    sheet["A1"] = title
    sheet["A1"].font = _TITLE_FONT
    sheet["A2"] = f"{labels['agency']}: {agency}"
    sheet["A2"].font = _SUBTITLE_FONT
    sheet["A3"] = labels["notes_title"]
    sheet["A3"].font = _SUBTITLE_FONT
    heads = ("code", "name", "unit", "definition", "periodicity", "periods", "breakdown")
    header_row = 5
    for col, key in enumerate(heads, start=1):
        _header_cell(sheet, row=header_row, col=col, text=labels[key])
    for offset, plan in enumerate(plans, start=1):
        ind = plan.indicator
        freqs = sorted({Period.parse(p).freq for p in plan.periods}, key=lambda f: Freq(f).rank)
        span = plan.periods[0] if len(plan.periods) == 1 else f"{plan.periods[0]}{_DASH}{plan.periods[-1]}"
        values = (
            ind.code,
            ind.name(lang),
            f"{ind.unit_name(lang)} ({ind.unit_code})",
            ind.definition(lang),
            ", ".join(Freq(f).label(lang) for f in freqs),
            f"{span} ({len(plan.periods)})",
            "; ".join(f"{cl} ({len(codes)})" for cl, codes in ind.dims) or labels["none"],
        )
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=header_row + offset, column=col, value=value)
            cell.font = _BODY_FONT
            cell.border = _BOX
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    row = header_row + len(plans) + 2
    sheet.cell(row=row, column=1, value=labels["how_to"]).font = _SUBTITLE_FONT
    for number, line in enumerate(_HOW_TO[lang], start=1):
        cell = sheet.cell(row=row + number, column=1, value=f"{number}. {line}")
        cell.font = _BODY_FONT
    sheet.cell(
        row=row + len(_HOW_TO[lang]) + 2, column=1, value=f"{labels['template']} {TEMPLATE_VERSION}"
    ).font = _NOTE_FONT
    for col, width in enumerate((16, 36, 22, 60, 14, 24, 22), start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _protect(sheet)


def _write_indicator_sheet(sheet: Worksheet, *, plan: _SheetPlan, title: str, agency: str, lang: Lang) -> None:
    labels = _LABELS[lang]
    ind = plan.indicator
    sheet["A1"] = title
    sheet["A1"].font = _TITLE_FONT
    sheet["A2"] = f"{labels['indicator']}: {ind.code}{_DASH}{ind.name(lang)}"
    sheet["A2"].font = _SUBTITLE_FONT
    sheet["A3"] = f"{labels['unit']}: {ind.unit_name(lang)} ({ind.unit_code}); {ind.decimals} {labels['decimals']}"
    sheet["A4"] = f"{labels['agency']}: {agency}"
    for ref in ("A3", "A4"):
        sheet[ref].font = _BODY_FONT
    sheet["A5"] = labels["fill_in"]
    sheet["A5"].font = _NOTE_FONT

    header = [labels["area_code"], labels["area_name"], *plan.dim_codes, *plan.periods]
    for col, text in enumerate(header, start=1):
        _header_cell(sheet, row=plan.header_row, col=col, text=text)
    sheet.row_dimensions[plan.header_row].height = 20

    value_style = _value_style(ind.decimals)
    first_value_col = plan.first_period_column
    for offset, (area, combo) in enumerate(plan.rows):
        row = plan.first_data_row + offset
        for col, value in enumerate((area.code, area.name, *(code for _cl, code in combo)), start=1):
            sheet.cell(row=row, column=col, value=value).style = _CODE_STYLE
        for col in range(first_value_col, plan.last_column + 1):
            sheet.cell(row=row, column=col).style = value_style

    values_range = (
        f"{get_column_letter(first_value_col)}{plan.first_data_row}:"
        f"{get_column_letter(plan.last_column)}{plan.last_data_row}"
    )
    validation = DataValidation(
        type="decimal",
        operator="between",
        formula1=_ANY_NUMBER[0],
        formula2=_ANY_NUMBER[1],
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=labels["error_title"],
        error=labels["error"],
    )
    validation.add(values_range)
    sheet.add_data_validation(validation)

    sheet.freeze_panes = f"{get_column_letter(first_value_col)}{plan.first_data_row}"
    sheet.column_dimensions["A"].width = 12
    longest_name = max(len(area.name) for area, _combo in plan.rows)
    sheet.column_dimensions["B"].width = min(max(16, longest_name + 2), 40)
    for index, (code_list, codes) in enumerate(ind.dims):
        widest = max(len(code_list) + 1, *(len(c) for c in codes))
        sheet.column_dimensions[get_column_letter(3 + index)].width = min(max(10, widest + 2), 30)
    value_width = max(11, len(max(plan.periods, key=len)) + 3, 8 + ind.decimals)
    for col in range(first_value_col, plan.last_column + 1):
        sheet.column_dimensions[get_column_letter(col)].width = value_width

    sheet.print_title_rows = f"{plan.header_row}:{plan.header_row}"
    sheet.print_title_cols = f"A:{get_column_letter(first_value_col - 1)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    _protect(sheet)


def _header_cell(sheet: Worksheet, *, row: int, col: int, text: str) -> None:
    sheet.cell(row=row, column=col, value=text).style = _HEADER_STYLE


def _value_style(decimals: int) -> str:
    return f"govops value {decimals}"


def _add_styles(book: Workbook, *, decimals: Iterable[int]) -> None:
    book.add_named_style(
        NamedStyle(
            _HEADER_STYLE,
            font=_HEADER_FONT,
            fill=_HEADER_FILL,
            border=_BOX,
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
            number_format="@",
        )
    )
    # Codes are text so that 01 keeps its leading zero.
    book.add_named_style(NamedStyle(_CODE_STYLE, font=_BODY_FONT, fill=_LOCKED_FILL, border=_BOX, number_format="@"))
    for places in sorted(set(decimals)):
        number_format = "#,##0" + ("." + "0" * places if places else "")
        book.add_named_style(
            NamedStyle(
                _value_style(places), font=_BODY_FONT, border=_BOX, number_format=number_format, protection=_UNLOCKED
            )
        )


def _protect(sheet: Worksheet) -> None:
    protection = sheet.protection
    protection.sheet = True
    if SHEET_PASSWORD is not None:
        protection.password = SHEET_PASSWORD
    # A person may still widen columns and rows to read long names.
    protection.formatColumns = False
    protection.formatRows = False


def _write_layout(sheet: Worksheet, *, plans: Sequence[_SheetPlan], title: str, agency: str, lang: Lang) -> None:
    sheet.append([LAYOUT_MAGIC, TEMPLATE_VERSION, lang, title, agency])
    sheet.append(list(LAYOUT_COLUMNS))
    for plan in plans:
        name = plan.sheet
        labels = _LABELS[lang]
        sheet.append(["indicator", name, None, None, plan.indicator.code])
        sheet.append(["header_row", name, plan.header_row])
        sheet.append(["first_data_row", name, plan.first_data_row])
        sheet.append(["area_column", name, plan.header_row, 1, labels["area_code"]])
        sheet.append(["name_column", name, plan.header_row, 2, labels["area_name"]])
        for index, code_list in enumerate(plan.dim_codes):
            sheet.append(["dim_column", name, plan.header_row, 3 + index, code_list])
        for index, period in enumerate(plan.periods):
            sheet.append(["period_column", name, plan.header_row, plan.first_period_column + index, period])
        for offset, (area, combo) in enumerate(plan.rows):
            dims = json.dumps(dict(combo), ensure_ascii=False, sort_keys=True)
            sheet.append(["data_row", name, plan.first_data_row + offset, None, area.code, dims])
    _protect(sheet)
