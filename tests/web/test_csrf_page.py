"""A console form refused for its security token answers a page that says what happened and how to go on."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.auth.service import create_user, get_user
from govops.catalog.service import get_indicator

PASSWORD = "correct horse battery"


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def visible_text(html: str) -> str:
    main = html.split('data-testid="error-page"', 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def test_a_stale_sign_in_form_is_explained_in_vietnamese_with_a_way_back(client: TestClient) -> None:
    client.get("/signin")
    refused = client.post(
        "/signin",
        data={"username": "lan", "password": PASSWORD, "csrf_token": "from-a-page-opened-yesterday"},
        headers={"Referer": "http://testserver/signin?next=/explorer"},
    )
    assert refused.status_code == 403
    text = visible_text(refused.text)
    assert "Chưa gửi được biểu mẫu" in text
    assert "Mã bảo vệ của biểu mẫu đã hết hiệu lực" in text and "Chưa có gì được lưu." in text
    assert "Hãy tải lại biểu mẫu, điền lại và gửi lần nữa." in text
    assert '<a class="primary" href="/signin?next=/explorer">Tải lại biểu mẫu</a>' in refused.text
    # No English sentence, and not the raw message the API gives.
    assert "security token" not in refused.text and "You may not see" not in text and "Bạn không có quyền" not in text


def test_an_administrators_stale_form_is_explained_in_english_and_nothing_is_saved(
    client: TestClient, session: Session
) -> None:
    create_user(
        session=session,
        username="t.admin",
        password=PASSWORD,
        full_name="Admin",
        agency="GO",
        role="administrator",
        language="en",
    )
    form = client.get("/signin")
    client.post("/signin", data={"username": "t.admin", "password": PASSWORD, "csrf_token": token_of(form.text)})
    page = client.get("/admin/indicators/CPI")
    assert page.status_code == 200
    before = get_indicator(session=session, code="CPI").name_en
    refused = client.post(
        "/admin/indicators/CPI",
        data={"csrf_token": token_of(page.text) + "x", "name_en": "Renamed by a forged form"},
        headers={"Referer": "http://testserver/admin/indicators/CPI"},
    )
    assert refused.status_code == 403
    text = visible_text(refused.text)
    assert "This form could not be sent" in text and "Nothing was saved." in text
    assert "Reload the form, fill it in again and send it." in text
    assert '<a class="primary" href="/admin/indicators/CPI">Reload the form</a>' in refused.text
    assert "Chưa gửi được" not in text
    session.expire_all()
    assert get_indicator(session=session, code="CPI").name_en == before
    assert get_user(session=session, username="t.admin").language == "en"


def test_a_referer_from_another_site_is_not_offered_as_the_way_back(client: TestClient) -> None:
    client.get("/signin")
    refused = client.post(
        "/signin",
        data={"username": "lan", "password": PASSWORD, "csrf_token": "forged"},
        headers={"Referer": "https://evil.example/signin"},
    )
    assert refused.status_code == 403
    assert '<a class="primary" href="/">Tải lại biểu mẫu</a>' in refused.text and "evil.example" not in refused.text
