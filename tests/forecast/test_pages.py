"""The console's forecast pages: the fan chart with its model and track record, and the warnings inbox, in
Vietnamese and English."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.forecast import service
from tests.forecast.test_nowcast_api import store, store_history
from tests.forecast.test_service import MONTHS, month, retail, submit

PASSWORD = "a long enough password 1"


def sign_in(client: TestClient, username: str) -> str:
    """Signs the client in; returns the session's CSRF token."""
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/notifications").text)
    assert found
    return found.group(1)


@pytest.fixture
def signed_in(client: TestClient, session: Session) -> TestClient:
    create_user(session=session, username="reader", password=PASSWORD, full_name="Reader", agency="GO", role="analyst")
    sign_in(client, "reader")
    return client


def test_the_fan_chart_page_shows_the_model_the_bands_and_the_track_record(
    signed_in: TestClient, session: Session
) -> None:
    assert "no-forecast" in signed_in.get("/forecasts/RETAIL_SALES?area=79").text
    submit(session, [("79", month(i), retail("79", i, 9e4)) for i in range(MONTHS)])
    service.run(session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t")
    submit(session, [("79", month(MONTHS), 3 * retail("79", MONTHS, 9e4))])
    service.run(session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t")
    session.commit()
    page = signed_in.get("/forecasts/RETAIL_SALES?area=79&lang=vi")
    assert page.status_code == 200
    assert 'data-testid="fan-chart"' in page.text and '"kind": "fan"' in page.text
    assert "Dải 95%" in page.text and "Kết quả dự báo đã qua" in page.text
    assert re.search(r"<td>2024-12</td><td>[^<]+</td><td>2025-01</td>", page.text), "the past vintage is scored"
    english = signed_in.get("/forecasts/RETAIL_SALES?area=79&lang=en")
    assert "Track record" in english.text and "95% band" in english.text
    inbox = signed_in.get("/forecasts/warnings?lang=vi")
    assert inbox.status_code == 200 and "2025-01" in inbox.text and "Cảnh báo sớm" in inbox.text


def test_the_nowcast_page_shows_the_news_and_follows_a_monthly_release(signed_in: TestClient, session: Session) -> None:
    said = signed_in.get("/nowcast?lang=en")
    assert (
        said.status_code == 200
        and 'data-testid="nowcast-problem"' in said.text
        and "has no quarterly series for VN" in said.text
    )
    level = store_history(session)
    session.commit()
    page = signed_in.get("/nowcast?lang=vi")
    assert page.status_code == 200
    assert "Quý 2025Q1" in page.text and "Tin mới của kỳ công bố gần nhất" in page.text
    assert re.search(r'<tr data-indicator="(IIP|EXPORTS)"><td><a href="/explorer/\1">', page.text)
    assert "<td>2025-02</td>" in page.text
    # March's industrial production comes out strong: the page's news is now that release, and it lifts the nowcast.
    store(session, [("IIP", "2025-03", round(float(level[-1]) * 1.08, 3))])
    session.commit()
    after = signed_in.get("/nowcast?lang=en")
    rows = re.findall(
        r'<tr data-indicator="(\w+)">.*?<td>(\d{4}-\d\d)</td>.*?<td class="(\w*)">([^<]+)</td>', after.text, re.S
    )
    assert rows and rows[0][:3] == ("IIP", "2025-03", "good"), rows
    assert "News of the latest release" in after.text and "Moved by" in after.text
