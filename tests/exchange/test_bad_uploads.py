"""Every bad file a data officer can upload gets a Vietnamese answer that names the place and the fix, and nothing
is stored: no value, no revision, no kept preview."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.models import Agency
from govops.exchange import service
from govops.exchange.models import UploadPreview
from govops.i18n import translations
from govops.interop.mapping.service import save_mapping
from govops.interop.templates import template_workbook
from govops.warehouse.models import Observation, ObservationRevision
from tests.audit.conftest import PASSWORD, token_of
from tests.conftest import shared_file
from tests.web.language import english_sentences


@pytest.fixture
def officer(client: TestClient, session: Session) -> TestClient:
    agency = session.scalar(select(Agency).where(Agency.code == "PC-79"))
    assert agency is not None
    member = service.console_member(session=session, agency=agency)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    create_user(session=session, username="hcm.officer", password=PASSWORD, full_name="HCM", agency="PC-79",
                role="data_officer")  # fmt: skip
    form = client.get("/signin")
    client.post("/signin", data={"username": "hcm.officer", "password": PASSWORD, "csrf_token": token_of(form.text)})
    return client


def _nothing_stored(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Observation, ObservationRevision, UploadPreview)
    )


def _upload(client: TestClient, name: str, body: bytes, mapping: str = "") -> tuple[int, str]:
    page = client.get("/submit", params={"lang": "vi"})
    response = client.post(
        "/submit",
        data={"csrf_token": token_of(page.text), "mapping": mapping},
        files={"file": (name, body, "application/octet-stream")},
    )
    return response.status_code, response.text


def _template(session: Session, agency: str = "PC-79") -> openpyxl.Workbook:
    body, _name = template_workbook(session=session, group="ENTERPRISES", agency=agency, year=2026, lang="vi")
    return openpyxl.load_workbook(io.BytesIO(body))


def _saved(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(book: openpyxl.Workbook, sheet: str, period: str, area: str) -> str:
    """The coordinate of the value cell of `area` and `period` on `sheet`, as Excel names it."""
    rows = list(book[sheet].iter_rows())
    header = next(r for r in rows if any(c.value == period for c in r))
    column = next(c.column_letter for c in header if c.value == period)
    row = next(r[0].row for r in rows if r[0].value == area)
    return f"{column}{row}"


def _fill(book: openpyxl.Workbook, sheet: str, values: dict[str, object], area: str = "79") -> list[str]:
    cells = []
    for period, value in values.items():
        cell = _cell(book, sheet, period, area)
        book[sheet][cell] = value
        cells.append(cell)
    return cells


def _problems(text: str) -> str:
    return text.split('data-testid="receipt-problems"')[1].split("</table>")[0]


def _refusal(text: str) -> str:
    return text.split('data-testid="upload-problem"')[1].split("</div>")[0]


def _text_in_number_cells(session: Session) -> tuple[str, bytes, list[str]]:
    book = _template(session)
    cells = _fill(book, "ENT_NEW", {"2026-01": "ba nghìn", "2026-02": "#DIV/0!", "2026-03": "12,5 DN"})
    return "so-lieu.xlsx", _saved(book), [f"trang tính ENT_NEW, ô {cell}" for cell in cells]


def _renamed_sheet(session: Session) -> tuple[str, bytes, list[str]]:
    book = _template(session)
    _fill(book, "ENT_NEW", {"2026-01": 3000})
    book["ENT_NEW"].title = "Doanh nghiệp mới"
    return "doi-ten.xlsx", _saved(book), ["ENT_NEW"]


def _another_provinces_codes(session: Session) -> tuple[str, bytes, list[str]]:
    book = _template(session, agency="PC-01")  # Hà Nội's template, filled in by Hồ Chí Minh City's officer
    cells = _fill(book, "ENT_NEW", {"2026-01": 3000}, area="01")
    return "ha-noi.xlsx", _saved(book), [f"trang tính ENT_NEW, ô {cells[0]}", "01"]


def _not_a_template(session: Session) -> tuple[str, bytes, list[str]]:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["Chỉ tiêu", "Tháng 1"])
    book.active.append(["Doanh nghiệp mới", 3000])
    return "tu-lam.xlsx", _saved(book), ["tu-lam.xlsx"]


@pytest.mark.parametrize(
    "make",
    [_text_in_number_cells, _renamed_sheet, _another_provinces_codes, _not_a_template],
    ids=["text in number cells", "renamed sheet", "another province's codes", "not a govops template"],
)
def test_a_bad_workbook_is_rejected_whole_naming_each_place(
    officer: TestClient, session: Session, make: Callable[[Session], tuple[str, bytes, list[str]]]
) -> None:
    name, body, places = make(session)
    before = _nothing_stored(session)
    status, text = _upload(officer, name, body)
    assert status == 422, text[text.find("flash") :][:600]
    assert translations("vi").gettext("Rejected: nothing was stored") in text
    problems = _problems(text)
    for place in places:
        assert place in problems, (place, problems)
    assert _nothing_stored(session) == before


@pytest.mark.parametrize(
    ("name", "body", "status", "message", "fix"),
    [
        pytest.param("bao-cao.pdf", b"%PDF-1.7\n", 415, "Hệ thống không đọc được tệp bao-cao.pdf",
                     "Tải mẫu biểu ở trên, chép số liệu vào", id="a PDF"),
        pytest.param("bao-cao.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 415, "Hệ thống không đọc được tệp bao-cao.xls",
                     "lưu lại dưới dạng Excel Workbook (.xlsx)", id="an old Excel file"),
        pytest.param("trong.xlsx", b"", 400, "Tệp trong.xlsx trống (0 byte).", "Lưu lại mẫu biểu đã điền",
                     id="an empty file"),
    ],
)  # fmt: skip
def test_a_file_of_the_wrong_kind_is_refused_in_vietnamese_with_the_fix(
    officer: TestClient, session: Session, name: str, body: bytes, status: int, message: str, fix: str
) -> None:
    before = _nothing_stored(session)
    answer, text = _upload(officer, name, body)
    refusal = _refusal(text)
    assert answer == status and message in refusal and fix in refusal and "Chưa có số liệu nào được lưu." in refusal
    assert _nothing_stored(session) == before


def test_a_file_over_the_limit_is_refused_with_the_limit_and_the_fix(officer: TestClient, session: Session) -> None:
    before = _nothing_stored(session)
    limit = 20  # MB, GOVOPS_MAX_SUBMISSION_BYTES's default
    status, text = _upload(officer, "ca-nam.xlsx", bytes(50 * 1024 * 1024))
    refusal = _refusal(text)
    assert status == 413 and f"Tệp lớn hơn {limit} MB, mức tối đa của một lần gửi." in refusal
    assert "Chia số liệu thành nhiều tệp" in refusal
    assert _nothing_stored(session) == before


# -- SDMX and DHIS2 files, read through a stored mapping ---------------------------------------------------------

# ECB's exchange-rate test messages (dataflow ECB_EXR_NG): every series is monthly, so a rule for annual series
# covers none of them.
ANNUAL_ONLY = "dataflow: ECB_EXR_NG\nseries:\n  - match: {FREQ: A}\n    indicator: ENT_NEW\n    area: '79'\n"
# A DHIS2 mapping that knows the org unit and the default combo of the real data value set, and one data element.
ONE_ELEMENT = "org_units: {O6uvpzGd5pu: '79'}\ndata_elements:\n  FRbgzTZ74Hh: skip\n"


def _sdmx(session: Session) -> str:
    save_mapping(session=session, name="ecb-annual", kind="sdmx", text=ANNUAL_ONLY, by="test")
    return "ecb-annual"


def _structure_instead_of_data(session: Session) -> tuple[str, bytes, str, list[str]]:
    body = shared_file("sdmx", "ECB_EXR", "ng-structure-full.xml").read_bytes()
    return "cau-truc.xml", body, _sdmx(session), [
        "cau-truc.xml", "Đây là thông điệp cấu trúc SDMX, không phải thông điệp dữ liệu",
        "Gửi thông điệp dữ liệu, kèm theo thông điệp cấu trúc này",
    ]  # fmt: skip


def _malformed_sdmx_ml(session: Session) -> tuple[str, bytes, str, list[str]]:
    body = shared_file("sdmx", "ECB_EXR", "ng-ts.xml").read_bytes()[:2000]  # cut short, as a failed download is
    return "ty-gia.xml", body, _sdmx(session), [
        "ty-gia.xml, dòng ", "Tệp XML sai cú pháp: tệp bị thiếu phần cuối",
        "Gửi nguyên vẹn thông điệp như đơn vị cung cấp đã xuất",
    ]  # fmt: skip


def _series_no_rule_covers(session: Session) -> tuple[str, bytes, str, list[str]]:
    body = shared_file("sdmx", "ECB_EXR", "ng-ts.xml").read_bytes()
    return "ty-gia.xml", body, _sdmx(session), [
        "chuỗi M.CHF.EUR.SP00.E", "Chuỗi M.CHF.EUR.SP00.E không khớp quy tắc nào của bảng ánh xạ",
        "Chuỗi M.JPY.EUR.SP00.E không khớp quy tắc nào", "hoặc đặt unmatched: skip để bỏ qua các chuỗi như vậy",
    ]  # fmt: skip


def _unknown_data_element(session: Session) -> tuple[str, bytes, str, list[str]]:
    save_mapping(session=session, name="dhis2-one", kind="dhis2", text=ONE_ELEMENT, by="test")
    body = shared_file("dhis2", "dataValues_bulk.json").read_bytes()
    return "dhis2.json", body, "dhis2-one", [
        "dhis2.json, giá trị 1 (phần tử dữ liệu tpz77FcntKx, đơn vị tổ chức O6uvpzGd5pu, kỳ 2018)",
        "Phần tử dữ liệu tpz77FcntKx chưa có trong bảng ánh xạ",
        "Thêm tpz77FcntKx: {indicator: MÃ} (hoặc skip) vào mục data_elements: của bảng ánh xạ",
        "Tổ hợp phương án phân loại bWFxj7MF1qR chưa có trong bảng ánh xạ",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [_structure_instead_of_data, _malformed_sdmx_ml, _series_no_rule_covers, _unknown_data_element],
    ids=["SDMX structure instead of data", "malformed SDMX-ML", "series no rule covers", "unknown data element"],
)
def test_a_bad_sdmx_or_dhis2_file_is_rejected_in_vietnamese_naming_the_place_and_the_code(
    officer: TestClient, session: Session, make: Callable[[Session], tuple[str, bytes, str, list[str]]]
) -> None:
    name, body, mapping, says = make(session)
    before = _nothing_stored(session)
    status, text = _upload(officer, name, body, mapping)
    assert status == 422, text[text.find("flash") :][:600]
    assert translations("vi").gettext("Rejected: nothing was stored") in text
    problems = _problems(text)
    for words in says:
        assert words in problems, (words, problems[:2000])
    assert english_sentences(text) == []
    assert _nothing_stored(session) == before


def _key(session: Session) -> str:
    member = service.create_member(session=session, agency="PC-79", system="his", name="his")
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _send(client: TestClient, key: str, body: bytes, mapping: str, language: str) -> dict[str, object]:
    """The first problem of the submission's receipt, as the API gives it in `language`."""
    response = client.post(
        "/api/v1/submissions",
        params={"mapping": mapping},
        content=body,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": language, "Content-Type": "application/xml",
                 "Accept-Language": language},
    )  # fmt: skip
    assert response.status_code == 422, response.text
    problems: list[dict[str, object]] = response.json()["submission"]["problems"]
    return {key: value for key, value in problems[0].items() if value is not None}


def test_the_api_words_an_sdmx_problem_in_vietnamese_when_asked_and_keeps_its_english(
    client: TestClient, session: Session
) -> None:
    body = shared_file("sdmx", "ECB_EXR", "ng-structure-full.xml").read_bytes()
    key, before = _key(session), _nothing_stored(session)
    assert _send(client, key, body, _sdmx(session), "vi") == {
        "code": "sdmx.structure_message",
        "message": "Đây là thông điệp cấu trúc SDMX, không phải thông điệp dữ liệu",
        "where": "submission",
        "hint": "Gửi thông điệp dữ liệu, kèm theo thông điệp cấu trúc này",
    }
    english = _send(client, key, body + b"\n", "ecb-annual", "en")  # another body: not the same submission
    assert english == {
        "code": "sdmx.structure_message",
        "message": "this is an SDMX structure message, not a data message",
        "where": "submission",
        "hint": "send the data message, and this structure message beside it",
    }
    assert _nothing_stored(session) == before
