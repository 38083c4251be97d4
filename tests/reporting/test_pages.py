"""The console's compliance board, agency page and regime page, in Vietnamese and English."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.periods import Freq, Period
from govops.reporting import service
from govops.reporting.regimes import import_regimes
from tests.reporting.conftest import REGIME_FILE, sign_in_as, submit, utc

NOW = utc(2025, 10, 20, 3)


def _store(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    submit(session, utc(2025, 9, 11, 2), [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")])
    submit(session, utc(2025, 10, 16, 2), [("CPI", "01", "2025-09"), ("RETAIL_SALES", "01", "2025-09")])
    submit(session, utc(2025, 9, 1, 2), [("CPI", "46", "2025-08"), ("RETAIL_SALES", "46", "2025-08")])
    submit(session, utc(2025, 9, 1, 2), [("CPI", "46", "2025-09")])
    service.ensure_expected(session=session, now=NOW)


def _statuses(html: str, agency: str) -> list[str]:
    row = html.split(f'data-agency="{agency}"')[1].split("</tr>")[0]
    return re.findall(r'data-status="(\w+)"', row)


def test_the_board_shows_agencies_by_period_worst_first_with_colour_and_symbol(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    _store(session)
    assert client.get("/reporting", follow_redirects=False).status_code in (303, 401)
    sign_in("analyst")
    page = client.get("/reporting", params={"regime": "TEST_MONTHLY"})
    assert page.status_code == 200
    html = page.text
    assert "Tình hình chấp hành chế độ báo cáo" in html and "Reporting compliance" not in html
    order = re.findall(r'<tr data-agency="([^"]+)"', html)
    assert len(order) == 34 and order[-1] == "PC-01" and order.index("PC-46") > order.index("PC-79")
    assert _statuses(html, "PC-01") == ["on_time", "late", "not_due"]
    assert _statuses(html, "PC-46") == ["on_time", "partial", "not_due"]
    assert _statuses(html, "PC-79") == ["missing", "missing", "not_due"]
    assert 'class="rs rs-missing"' in html and "✗" in html and "Chưa nộp" in html
    # Filtered to ministries, only the Ministry of Finance's quarterly report is left.
    ministries = client.get("/reporting", params={"kind": "ministry"}).text
    assert re.findall(r'<tr data-agency="([^"]+)"', ministries) == ["MOF"]
    english = client.get("/reporting", params={"lang": "en", "regime": "TEST_MONTHLY"}).text
    assert "Reporting compliance" in english and "Missing" in english


def test_agency_and_regime_pages(client: TestClient, session: Session, sign_in: Callable[[str], TestClient]) -> None:
    _store(session)
    sign_in("analyst")
    agency = client.get("/reporting/agencies/PC-01").text
    assert "Ủy ban nhân dân Thành phố Hà Nội" in agency
    assert 'data-testid="ranking">Xếp thứ 1 trên 34' in agency
    assert "trễ 4 ngày" in agency
    regime = client.get("/reporting/regimes/TEST_MONTHLY").text
    assert "Báo cáo tháng thử nghiệm" in regime and "Test monthly report" not in regime
    assert "Nghị định 09/2019/NĐ-CP (2019-01-24)" in regime and 'data-testid="demo-label"' in regime
    assert "ngày 12 tháng sau kỳ báo cáo" in regime and "ngày 14 tháng cuối kỳ" in regime
    english = client.get("/reporting/regimes/TEST_MONTHLY", params={"lang": "en"}).text
    assert "day 12 of the month after the period" in english and "Test monthly report" in english
    assert client.get("/reporting/regimes/NOPE").status_code == 404


LAST_MONTH = str(Period.from_date(date.today(), Freq.M) - 1)
DUE_FILE = f"""\
regimes:
  - code: DUE_FIGURES
    versions:
      - {{from: "{LAST_MONTH}", name_vi: Báo cáo số liệu tháng, name_en: Monthly figures report,
         legal_basis: Nghị định 09/2019/NĐ-CP, frequency: M, deadline: 40 days after the period,
         indicators: [CPI, RETAIL_SALES], reporters: {{agencies: [PC-79, PC-01], coverage: own_area}}}}
  - code: DUE_SIGNED
    versions:
      - {{from: "{LAST_MONTH}", name_vi: Báo cáo công nghiệp có chữ ký, name_en: Signed industry report,
         legal_basis: Nghị định 09/2019/NĐ-CP, frequency: M, deadline: 40 days after the period,
         replaced_by_data: false, requires_document: true, indicators: [IIP],
         reporters: {{agencies: [PC-79], coverage: own_area}}}}
"""


def _row(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"')[1].split("</tr>")[0]


def test_the_data_officer_sees_what_the_regimes_ask_of_the_agency_where_they_upload(
    client: TestClient, session: Session
) -> None:
    import_regimes(session=session, text=DUE_FILE, where="regimes.yaml")
    submit(session, datetime.now(UTC), [("CPI", "79", LAST_MONTH)])
    service.ensure_expected(session=session)
    service.recompute(session=session)
    officer = sign_in_as(client, session, "hcm.officer", role="data_officer", agency="PC-79")
    # The upload page holds the reporting domain's list, loaded in place.
    upload = officer.get("/submit").text
    assert 'hx-get="/reporting/due"' in upload and 'href="/reporting/due"' in upload
    due = officer.get("/reporting/due").text
    assert "<html" in due and "Báo cáo Ủy ban nhân dân Thành phố Hồ Chí Minh phải nộp" in due
    assert "2 trên 2 báo cáo chưa đủ." in due
    figures = _row(due, f"due-DUE_FIGURES-{LAST_MONTH}")
    assert "Báo cáo số liệu tháng" in figures and "1/2" in figures and 'data-status="not_due"' in figures
    assert "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng (RETAIL_SALES)" in figures
    assert "Chỉ số giá" not in figures and 'href="/submit"' in figures
    signed = _row(due, f"due-DUE_SIGNED-{LAST_MONTH}")
    assert "Chỉ số sản xuất công nghiệp (IIP); báo cáo có chữ ký (PDF)" in signed
    assert f'href="/reporting/reports/DUE_SIGNED/PC-79/{LAST_MONTH}#document"' in signed
    # HTMX asks for the part alone; in English, the regime's and the indicators' English names.
    part = officer.get("/reporting/due", params={"lang": "en"}, headers={"HX-Request": "true"}).text
    assert "<html" not in part and part.lstrip().startswith('<section class="panel" id="due"')
    assert "Monthly figures report" in part and "Retail sales of goods and consumer service revenue" in part
    # Complete, a report moves to the reports already in.
    submit(session, datetime.now(UTC), [("RETAIL_SALES", "79", LAST_MONTH)])
    service.recompute(session=session)
    due = officer.get("/reporting/due", params={"lang": "vi"}).text
    assert "1 trên 2 báo cáo chưa đủ." in due
    done = due.split("Đã nộp đủ: 1 báo cáo")[1]
    assert f'data-testid="due-DUE_FIGURES-{LAST_MONTH}"' in done and 'data-status="on_time"' in done
    # Another agency's officer sees their own agency's list whatever they ask; an analyst may choose one.
    other = sign_in_as(client, session, "hn.officer", role="data_officer", agency="PC-01")
    hanoi = other.get("/reporting/due", params={"agency": "PC-79"}).text
    assert "Ủy ban nhân dân Thành phố Hà Nội" in hanoi and "DUE_SIGNED" not in hanoi and "0/2" in hanoi
    analyst = sign_in_as(client, session, "go.analyst", role="analyst", agency="GO")
    assert 'data-testid="due-none"' in analyst.get("/reporting/due").text
    assert f"due-DUE_SIGNED-{LAST_MONTH}" in analyst.get("/reporting/due", params={"agency": "PC-79"}).text
