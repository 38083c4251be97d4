"""The console's compliance board, agency page and regime page, in Vietnamese and English."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.reporting import service
from govops.reporting.regimes import import_regimes
from tests.reporting.conftest import REGIME_FILE, submit, utc

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
