"""The console's Submit data page: a province officer downloads a template, fills it in, uploads it."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.models import Agency, Area, Indicator
from govops.exchange import service
from govops.warehouse.models import Observation
from tests.audit.conftest import PASSWORD, sign_in, token_of
from tests.conftest import shared_file
from tests.interop.dhis2_sample import load_dhis2_sample

__all__ = ["sign_in"]


@pytest.fixture
def officer(client: TestClient, session: Session) -> TestClient:
    """A data officer of Hồ Chí Minh City's people's committee, signed in."""
    create_user(session=session, username="hcm.officer", password=PASSWORD, full_name="HCM", agency="PC-79",
                role="data_officer")  # fmt: skip
    form = client.get("/signin")
    done = client.post(
        "/signin",
        data={"username": "hcm.officer", "password": PASSWORD, "csrf_token": token_of(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


def _fill(template: bytes, values: dict[str, object]) -> bytes:
    """What an officer does in Excel: type into the cells under the periods, on the row of area 79."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["ENT_NEW"]
    header = next(r for r in sheet.iter_rows() if any(c.value == "2026-01" for c in r))
    columns = {c.value: c.column for c in header}
    row = next(r[0].row for r in sheet.iter_rows(min_row=header[0].row + 1) if r[0].value == "79")
    for period, value in values.items():
        sheet.cell(row=row, column=columns[period], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, body: bytes, name: str = "ho-chi-minh.xlsx") -> tuple[int, str]:
    page = client.get("/submit", params={"lang": "en"})
    response = client.post(
        "/submit",
        data={"csrf_token": token_of(page.text)},
        files={"file": (name, body, "application/octet-stream")},
    )
    return response.status_code, response.text


def _confirm(client: TestClient, preview: str) -> tuple[int, str]:
    """The officer's click on "Confirm and store" under a preview."""
    token = preview.split('name="token" value="')[1].split('"')[0]
    response = client.post("/submit/confirm", data={"csrf_token": token_of(preview), "token": token})
    return response.status_code, response.text


def _stored(session: Session) -> dict[str, float]:
    rows = session.execute(
        select(Observation.period, Observation.value)
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .join(Area, Area.id == Observation.area_id)
        .where(Indicator.code == "ENT_NEW", Area.code == "79", Observation.period.like("2026-%"))
    ).all()
    return {period: value for period, value in rows}


def test_a_province_officer_downloads_fills_in_and_uploads_a_template(officer: TestClient, session: Session) -> None:
    page = officer.get("/submit", params={"lang": "en"})
    assert page.status_code == 200 and "Download a template" in page.text
    download = officer.get("/submit/template", params={"group": "ENTERPRISES", "year": 2026})
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="govops-ENTERPRISES-PC-79-2026.xlsx"'
    template = download.content
    book = openpyxl.load_workbook(io.BytesIO(template))
    assert "ENT_NEW" in book.sheetnames and book["_govops"].sheet_state == "veryHidden"

    filled = _fill(template, {"2026-01": 3120, "2026-02": 2875.0, "2026-03": 3410})
    status, text = _upload(officer, filled)
    # The console member has no write grant yet: refused whole, each value named by its cell.
    assert status == 422 and "PC-79/console may not submit ENT_NEW" in text, text[text.find("flash") :][:600]
    assert "sheet ENT_NEW, cell" in text
    assert _stored(session) == {}

    member = service.get_member(session=session, code="PC-79/console")
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    status, text = _upload(officer, filled)
    assert status == 200 and 'data-testid="preview"' in text and _stored(session) == {}
    status, text = _confirm(officer, text)
    assert status == 201 and 'data-testid="receipt"' in text and "Accepted" in text
    assert _stored(session) == {"2026-01": 3120.0, "2026-02": 2875.0, "2026-03": 3410.0}

    status, text = _upload(officer, filled)
    assert status == 200 and "this file was already submitted" in text
    recent = officer.get("/submit", params={"lang": "en"}).text.split('data-testid="recent-submissions"')[1]
    assert recent.count("ho-chi-minh.xlsx") == 2  # the rejected upload and the accepted one


def test_bad_cells_are_named_and_nothing_is_stored(officer: TestClient, session: Session) -> None:
    agency = session.scalar(select(Agency).where(Agency.code == "PC-79"))
    assert agency is not None
    member = service.console_member(session=session, agency=agency)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    template = officer.get("/submit/template", params={"group": "ENTERPRISES", "year": 2026}).content
    status, text = _upload(officer, _fill(template, {"2026-01": 10, "2026-02": "12,5", "2026-03": "#DIV/0!"}))
    assert status == 422
    problems = text.split('data-testid="receipt-problems"')[1]
    assert "12,5" in problems and "#DIV/0!" in problems and problems.count("sheet ENT_NEW, cell") == 2
    assert _stored(session) == {}

    status, text = _upload(officer, b"not a workbook", name="notes.xlsx")
    assert status == 422 and "notes.xlsx" in text


def test_only_officers_and_administrators_submit(client: TestClient, sign_in: Callable[[str], TestClient]) -> None:
    assert sign_in("viewer").get("/submit").status_code == 403


def test_an_administrator_edits_mappings_and_a_broken_one_is_not_saved(
    client: TestClient, sign_in: Callable[[str], TestClient], session: Session
) -> None:
    admin = sign_in("administrator")
    page = admin.get("/admin/mappings", params={"lang": "en"})
    assert page.status_code == 200 and "No mapping yet." in page.text
    token = token_of(page.text)
    broken = admin.post(
        "/admin/mappings", data={"csrf_token": token, "name": "ecb", "kind": "sdmx", "text": "series: [\n  - {"}
    )
    assert broken.status_code == 400 and "The mapping was not saved." in broken.text and "line" in broken.text
    good = "dataflow: EXR\nseries:\n  - match: {CURRENCY: USD}\n    indicator: EXPORTS\n    area: VN\n"
    saved = admin.post(
        "/admin/mappings",
        data={"csrf_token": token, "name": "ecb", "kind": "sdmx", "text": good},
        files={"structure": ("structure.xml", b"", "application/xml")},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    listed = admin.get("/admin/mappings", params={"lang": "en", "name": "ecb"})
    assert "EXPORTS" in listed.text and ">ecb<" in listed.text
    assert sign_in("analyst").get("/admin/mappings").status_code == 403


def test_an_upload_through_a_mapping_says_what_it_left_out_and_an_unreadable_file_says_so(
    officer: TestClient, session: Session
) -> None:
    load_dhis2_sample(session)
    agency = session.scalar(select(Agency).where(Agency.code == "PC-79"))
    assert agency is not None
    member = service.console_member(session=session, agency=agency)
    service.grant(session=session, member=member, group="SOCIAL", read=True, write=True)

    page = officer.get("/submit", params={"lang": "vi"})
    payload = shared_file("dhis2", "dataValues_bulk.json").read_bytes()
    response = officer.post(
        "/submit",
        data={"csrf_token": token_of(page.text), "mapping": "moh-dhis2"},
        files={"file": ("dataValues_bulk.json", payload, "application/json")},
    )
    assert response.status_code == 200 and 'data-testid="preview"' in response.text
    status, text = _confirm(officer, response.text)
    receipt = text.split('data-testid="receipt"')[1]
    # 231 values: 222 numbers stored, the 9 of BOOLEAN data elements left out by the mapping.
    assert status == 201 and "222 giá trị đã nhận" in receipt and "9 bị ánh xạ bỏ qua" in receipt

    broken = officer.post(
        "/submit",
        data={"csrf_token": token_of(page.text), "mapping": "moh-dhis2"},
        files={"file": ("cut-short.json", payload[:500], "application/json")},
    )
    receipt = broken.text.split('data-testid="receipt"')[1]
    assert broken.status_code == 422 and "không đọc được tệp" in receipt
    assert "cut-short.json, dòng" in receipt  # the problem: not valid JSON, where it stops
