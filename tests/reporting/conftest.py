"""A small regime file, and data written as an agency's system would, at chosen arrival times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.warehouse.accept import accept
from tests.audit.conftest import PASSWORD, sign_in, token_of
from tests.cli.conftest import govops, initialised_store

__all__ = ["govops", "initialised_store", "sign_in", "sign_in_as", "submit", "token_of", "utc"]

REGIME_FILE = """\
regimes:
  - code: TEST_MONTHLY
    demo: true
    versions:
      - from: 2025-08
        name_vi: Báo cáo tháng thử nghiệm
        name_en: Test monthly report
        legal_basis: Nghị định 09/2019/NĐ-CP
        legal_date: 2019-01-24
        frequency: M
        deadline: day 12 of the month after the period
        cutoff: day 14 of the last month of the period
        grace_days: 1
        lock_days: 30
        replaced_by_data: true
        indicators: [CPI, RETAIL_SALES]
        reporters: {kinds: [provincial_committee], coverage: own_area}
  - code: TEST_QUARTERLY_MINISTRY
    versions:
      - from: 2025-Q3
        name_vi: Báo cáo quý của Bộ
        name_en: Quarterly ministry report
        legal_basis: Nghị định 09/2019/NĐ-CP
        frequency: Q
        deadline: 20 days after the quarter
        replaced_by_data: false
        requires_document: true
        indicators: [BUDGET_REVENUE]
        reporters: {agencies: [MOF], coverage: nation}
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def submit(session: Session, at: datetime, cells: Iterable[tuple[str, str, str]], value: float = 100.0) -> None:
    """Store a value for each (indicator, area, period) as arriving at `at`, through the accept pipeline."""
    rows = [
        (n, {"indicator": i, "area": a, "period": p, "value": value, "status": "final"})
        for n, (i, a, p) in enumerate(cells, start=1)
    ]
    outcome = accept(session=session, rows=rows, recorded_by="test", now=at)
    assert outcome.accepted, outcome.problems


def sign_in_as(client: TestClient, session: Session, username: str, *, role: str, agency: str) -> TestClient:
    """Create `username` with `role` in `agency` and sign the test client in as them (signing out whoever was)."""
    create_user(session=session, username=username, password=PASSWORD, full_name=username, agency=agency, role=role)
    client.cookies.clear()
    form = client.get("/signin")
    done = client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": token_of(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client
