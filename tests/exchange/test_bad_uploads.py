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
from govops.interop.templates import template_workbook
from govops.warehouse.models import Observation, ObservationRevision
from tests.audit.conftest import PASSWORD, token_of


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


def _upload(client: TestClient, name: str, body: bytes) -> tuple[int, str]:
    page = client.get("/submit", params={"lang": "vi"})
    response = client.post(
        "/submit", data={"csrf_token": token_of(page.text)}, files={"file": (name, body, "application/octet-stream")}
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
