"""Submit data in the console: a preview of what an upload would do, stored only once the officer confirms."""

from __future__ import annotations

import io
import json
import uuid

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.auth.service import create_user
from govops.catalog.models import Agency, Area, Indicator
from govops.exchange import service
from govops.exchange.models import Submission, UploadPreview
from govops.periods import Period
from govops.warehouse.accept import ingest
from govops.warehouse.models import Observation, ObservationRevision
from tests.audit.conftest import PASSWORD, token_of

# Two years of monthly new enterprises for Hồ Chí Minh City: about 3,000 a month.
HISTORY = {str(Period.parse("2023-07") + i): 3000.0 + (i % 5) * 40 for i in range(24)}


def _sign_in(client: TestClient, session: Session, username: str, agency: str = "PC-79") -> TestClient:
    create_user(session=session, username=username, password=PASSWORD, full_name="Trần Thị Bích", agency=agency,
                role="data_officer")  # fmt: skip
    form = client.get("/signin")
    done = client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": token_of(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


@pytest.fixture
def officer(client: TestClient, session: Session) -> TestClient:
    """A data officer of Hồ Chí Minh City whose console may write the enterprise group, with two years stored."""
    agency = session.scalar(select(Agency).where(Agency.code == "PC-79"))
    assert agency is not None
    member = service.console_member(session=session, agency=agency)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    rows = [
        (n, {"indicator": "ENT_NEW", "area": "79", "period": p, "value": v, "source": "PC-79"})
        for n, (p, v) in enumerate(HISTORY.items())
    ]
    ingest(session=session, rows=rows, recorded_by="tests")
    return _sign_in(client, session, "bich.officer")


def _filled(client: TestClient, year: int, values: dict[tuple[str, str], object], group: str = "ENTERPRISES") -> bytes:
    template = client.get("/submit/template", params={"group": group, "year": year})
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    for (sheet_name, period), value in values.items():
        sheet = book[sheet_name]
        header = next(r for r in sheet.iter_rows() if any(c.value == period for c in r))
        column = next(c.column for c in header if c.value == period)
        row = next(r[0].row for r in sheet.iter_rows(min_row=header[0].row + 1) if r[0].value == "79")
        sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, body: bytes, name: str = "tp-hcm.xlsx") -> tuple[int, str]:
    page = client.get("/submit", params={"lang": "vi"})
    response = client.post(
        "/submit", data={"csrf_token": token_of(page.text)}, files={"file": (name, body, "application/octet-stream")}
    )
    return response.status_code, response.text


def _token(html: str) -> str:
    return html.split('name="token" value="')[1].split('"')[0]


def _press(client: TestClient, html: str, action: str, token: str | None = None) -> tuple[int, str]:
    response = client.post(f"/submit/{action}", data={"csrf_token": token_of(html), "token": token or _token(html)})
    return response.status_code, response.text


def _stored(session: Session, code: str = "ENT_NEW") -> dict[str, float]:
    session.expire_all()
    rows = session.execute(
        select(Observation.period, Observation.value)
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .join(Area, Area.id == Observation.area_id)
        .where(Indicator.code == code, Area.code == "79")
    ).all()
    return dict(rows)


def _section(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def test_the_preview_shows_what_the_upload_would_do_and_stores_nothing_until_confirmed(
    officer: TestClient, session: Session
) -> None:
    before = _stored(session)
    filled = _filled(
        officer,
        2025,
        {
            ("ENT_NEW", "2025-05"): 3200,  # stored 3,080: changed, +3.9%
            ("ENT_NEW", "2025-06"): HISTORY["2025-06"],  # the same as stored
            ("ENT_NEW", "2025-07"): 3050,  # new, in line with its history
            ("ENT_NEW", "2025-08"): 310000,  # new, a hundred times the usual: a typo of the unit
            ("ENT_DISSOLVED", "2025-07"): -5,  # a count below zero
        },
    )
    status, text = _upload(officer, filled)
    assert status == 200, text[text.find("flash") :][:500]
    counts = text.split('data-testid="preview-counts"')[1].split("</ul>")[0]
    assert "<strong>3</strong> giá trị mới" in counts and "<strong>1</strong> giá trị thay thế" in counts
    assert "<strong>1</strong> giá trị giống số liệu đang lưu" in counts and "<strong>2</strong> cảnh báo" in counts
    changed = _section(text, "preview-changed")
    assert "Tháng 5/2025" in changed and "3.080" in changed and "3.200" in changed and "+3,9%" in changed
    new = _section(text, "preview-new")
    assert "Tháng 7/2025" in new and "3.050" in new and "310.000" in new
    warnings = _section(text, "preview-warnings")
    assert "Giá trị âm, trong khi chỉ tiêu này không thể nhỏ hơn 0." in warnings
    assert "Giá trị nằm xa mức dự kiến theo chuỗi số liệu" in warnings
    assert "trang tính ENT_NEW, ô" in warnings and "trang tính ENT_DISSOLVED, ô" in warnings
    # Nothing stored, no receipt: only the kept preview.
    assert _stored(session) == before and _stored(session, "ENT_DISSOLVED") == {}
    assert session.scalar(select(func.count()).select_from(Submission)) == 0

    status, receipt = _press(officer, text, "confirm")
    assert status == 201 and 'data-testid="receipt"' in receipt
    assert "Người gửi Trần Thị Bích (bich.officer)" in receipt
    assert _stored(session) == {**before, "2025-05": 3200.0, "2025-07": 3050.0, "2025-08": 310000.0}
    assert _stored(session, "ENT_DISSOLVED") == {"2025-07": -5.0}
    submission = session.scalars(select(Submission)).one()
    assert submission.submitted_by == "bich.officer" and submission.created == 3 and submission.updated == 1
    assert submission.unchanged == 1 and len(json.loads(submission.problems)) == 2  # the two warnings
    # The source of the figures is the province's people's committee; the audit names the person.
    sources = session.scalars(
        select(Agency.code).join(Observation, Observation.source_agency_id == Agency.id)
        .where(Observation.period == "2025-07")
    ).all()  # fmt: skip
    assert set(sources) == {"PC-79"}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "submission.accepted")).one()
    assert (entry.actor, entry.actor_kind, entry.agency) == ("bich.officer", "user", "PC-79")
    assert session.scalar(select(func.count()).select_from(UploadPreview)) == 0

    # A second click (or a reload) changes nothing and shows the same receipt.
    status, again = _press(officer, text, "confirm")
    assert status == 200 and submission.id in again
    assert session.scalar(select(func.count()).select_from(Submission)) == 1


def test_a_confirmation_after_the_store_moved_shows_the_new_plan_instead_of_writing(
    officer: TestClient, session: Session
) -> None:
    status, text = _upload(officer, _filled(officer, 2025, {("ENT_NEW", "2025-05"): 3300}))
    assert status == 200 and "3.080" in _section(text, "preview-changed")
    # Someone else revises the same figure meanwhile.
    ingest(session=session, rows=[(1, {"indicator": "ENT_NEW", "area": "79", "period": "2025-05", "value": 3111,
                                   "source": "PC-79"})])  # fmt: skip
    session.commit()
    status, again = _press(officer, text, "confirm")
    assert status == 409 and "Số liệu đang lưu đã thay đổi kể từ lúc xem trước" in again
    assert "3.111" in _section(again, "preview-changed") and _stored(session)["2025-05"] == 3111.0
    status, _receipt = _press(officer, again, "confirm")
    assert status == 201 and _stored(session)["2025-05"] == 3300.0


def test_a_cancelled_preview_cannot_be_confirmed_nor_confirmed_by_someone_else(
    officer: TestClient, client: TestClient, session: Session
) -> None:
    status, text = _upload(officer, _filled(officer, 2025, {("ENT_NEW", "2025-07"): 3050}))
    assert status == 200
    token = _token(text)
    cancelled = officer.post(
        "/submit/cancel", data={"csrf_token": token_of(text), "token": token}, follow_redirects=False
    )
    assert cancelled.status_code == 303
    status, page = _press(officer, text, "confirm", token)
    assert status == 410 and "Bản xem trước này không còn" in page and "2025-07" not in _stored(session)

    status, text = _upload(officer, _filled(officer, 2025, {("ENT_NEW", "2025-07"): 3050}))
    client.post("/signout", data={"csrf_token": token_of(text)})
    other = _sign_in(client, session, "other.officer")
    status, page = _press(other, other.get("/submit").text, "confirm", _token(text))
    assert status == 410 and "2025-07" not in _stored(session)


def test_the_group_list_offers_only_writable_groups_and_the_page_holds_the_reports_due(
    officer: TestClient, session: Session
) -> None:
    page = officer.get("/submit", params={"lang": "vi"}).text
    groups = page.split('name="group"')[1].split("</select>")[0]
    assert 'value="ENTERPRISES"' in groups and groups.count("<option") == 1
    # What is due comes from the reporting regimes: the reporting domain's list, loaded in place.
    slot = page.split('data-testid="due-slot"')[1].split("</section>")[0]
    assert 'hx-get="/reporting/due"' in slot and "Xem các báo cáo đơn vị phải nộp kỳ này" in slot


def test_an_agency_without_grants_is_told_so_and_offered_no_group(client: TestClient, session: Session) -> None:
    officer = _sign_in(client, session, "hn.officer", agency="PC-01")
    page = officer.get("/submit", params={"lang": "vi"}).text
    assert 'name="group"' not in page and "Đơn vị chưa được phép gửi nhóm chỉ tiêu nào" in page


def test_the_api_gives_the_same_warnings_and_stores_the_values(client: TestClient, session: Session) -> None:
    member = service.create_member(session=session, agency="PC-79", system="ent-registry", name="")
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    key = service.issue_key(session=session, member=member).key
    response = client.post(
        "/api/v1/submissions",
        content=json.dumps(
            {"observations": [{"indicator": "ENT_DISSOLVED", "area": "79", "period": "2025-07", "value": -5}]}
        ).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                 "Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    warnings = response.json()["warnings"]
    assert [(w["message"], w["value"]) for w in warnings] == [
        ("A negative value, for an indicator that cannot be below zero.", -5)
    ]
    assert session.scalar(select(func.count()).select_from(ObservationRevision)) == 1
