"""The console's warehouse pages, as a signed-in person of each role gets them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.text import collation_key
from tests.warehouse.conftest import PASSWORD, obs, put


@pytest.fixture
def data(session: Session) -> None:
    rows = [
        obs("EXPORTS", code, f"{y}-{m:02d}", 100.0 * (i + 1) + y - 2024 + m)
        for i, code in enumerate(["01", "79", "48"])
        for y in (2025, 2026)
        for m in range(1, 13)
        if (y, m) <= (2026, 9)
    ]
    rows += [
        obs("CPI", "VN", f"{y}-{m:02d}", 110.0 + (y - 2025) * 4 + m * 0.3)
        for y in (2025, 2026)
        for m in range(1, 13)
        if (y, m) <= (2026, 9)
    ]
    rows += [obs("GDP_FLASH", "VN", "2026-Q3", 7.1)]
    put(session, rows)


@pytest.mark.parametrize("page", ["/", "/explorer", "/provinces/79"])
def test_the_sign_out_button_works_from_any_page(sign_in: Callable[[str], TestClient], page: str) -> None:
    client = sign_in("viewer")
    form = client.get(page)
    token = re.search(r'action="/signout".*?name="csrf_token" value="([^"]*)"', form.text, re.S)
    assert token and token.group(1), "the sign-out form carries no token"
    response = client.post("/signout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/explorer").status_code == 401


def test_pages_ask_for_sign_in_with_a_page_not_a_stack_trace(client: TestClient) -> None:
    response = client.get("/explorer/CPI")
    assert response.status_code == 401
    assert "Vui lòng đăng nhập" in response.text and 'href="/signin?next=' in response.text
    english = client.get("/explorer/CPI", params={"lang": "en"})
    assert "Please sign in" in english.text


@pytest.mark.usefixtures("data")
def test_overview_shows_latest_value_changes_and_sparkline(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("analyst")
    page = web.get("/")
    assert page.status_code == 200
    tile = page.text[page.text.index('data-testid="tile-EXPORTS"') :]
    tile = tile[: tile.index("</a>")]
    assert "Tháng 9/2026" in tile and "triệu USD" in tile
    # 2026-09 sum of three provinces: 100+2+9 + 200+2+9 + 300+2+9 = 633 against 630 in August: +0,5%
    assert "633" in tile and "+0,5%" in tile and "<polyline" in tile
    english = web.get("/?lang=en")
    assert "National overview" in english.text and "Sep 2026" in english.text
    assert "govops_lang=en" in english.headers["set-cookie"]


@pytest.mark.usefixtures("data")
def test_explorer_page_has_chart_map_ranking_and_downloads(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/explorer/EXPORTS", params={"freq": "Q", "area": ["VN", "79"]})
    assert page.status_code == 200
    assert 'data-testid="chart"' in page.text and 'id="map-data"' in page.text
    ranking = page.text[page.text.index('data-testid="ranking"') :]
    assert ranking.index("Hồ Chí Minh") < ranking.index("Hà Nội")
    fragment = web.get("/explorer/EXPORTS", params={"freq": "A"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="chart-data"' in fragment.text
    download = web.get("/explorer/EXPORTS/download.csv", params={"freq": "Q", "area": ["VN", "79"]})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Mã chỉ tiêu", "Chỉ tiêu", "Mã địa bàn", "Địa bàn", "Kỳ"]
    assert rows[-1][:5] == ["EXPORTS", "Kim ngạch xuất khẩu hàng hóa", "79", "Thành phố Hồ Chí Minh", "Quý III/2026"]
    xlsx = web.get("/explorer/EXPORTS/download.xlsx", params={"area": ["01"]})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 1 + 21 and sheet["C2"].value == "01"


@pytest.mark.usefixtures("data")
def test_search_finds_indicators_with_or_without_tone_marks(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    for q in ("giá tiêu dùng", "gia tieu dung", "consumer price"):
        assert "/explorer/CPI" in web.get("/explorer", params={"q": q}, headers={"HX-Request": "true"}).text


def test_the_explorer_ranks_what_is_typed_best_first(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    for q in ("lạm phát", "lam fat", "inflation"):
        page = web.get("/explorer", params={"q": q}, headers={"HX-Request": "true"}).text
        shown = re.findall(r'href="/explorer/([A-Z0-9_]+)"', page)
        assert set(shown[:4]) == {"CPI", "CPI_MOM", "CPI_YOY", "CPI_AVG_YOY"} and shown[4] == "CORE_INFLATION", q
    nothing = web.get("/explorer", params={"q": "qwxz"}).text
    assert "Không có chỉ tiêu nào khớp" in nothing


def test_the_explorer_lists_indicators_under_report_groups_by_vietnamese_name(
    sign_in: Callable[[str], TestClient],
) -> None:
    page = sign_in("viewer").get("/explorer").text
    sections = re.findall(r'data-testid="group-([A-Z_]+)">\s*<h2>([^<]+)</h2>(.*?)</section>', page, re.S)
    assert [code for code, _name, _body in sections][:3] == ["MACRO", "AGRICULTURE", "INDUSTRY"]
    names = {
        code: (name, re.findall(r'href="/explorer/[A-Z0-9_]+">([^<]+)<small>', body)) for code, name, body in sections
    }
    assert names["PRICES"][0] == "Giá cả và lạm phát"
    prices = names["PRICES"][1]
    # "Chỉ số giá đô la Mỹ" before "Chỉ số giá tiêu dùng" (d before t) and "Giá bán lẻ xăng" after every "Chỉ số";
    # "Lạm phát cơ bản" after "Giá" (g before l), whatever the codes.
    assert prices.index("Chỉ số giá đô la Mỹ") < prices.index("Chỉ số giá tiêu dùng") < prices.index("Chỉ số giá vàng")
    assert (
        prices.index("Chỉ số giá vàng")
        < prices.index("Giá bán lẻ xăng RON 95-III bình quân")
        < prices.index("Lạm phát cơ bản")
    )
    enterprises = names["ENTERPRISES"][1]
    assert enterprises == sorted(enterprises, key=collation_key)
    assert "GDP_FLASH" not in page  # a viewer's list holds no confidential indicator


@pytest.mark.usefixtures("data")
def test_a_viewer_never_sees_a_confidential_indicator(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    hidden = web.get("/explorer/GDP_FLASH")
    assert hidden.status_code == 404 and "Không tìm thấy" in hidden.text
    assert "GDP_FLASH" not in web.get("/explorer").text
    assert web.get("/api/v1/series/GDP_FLASH").status_code == 404


@pytest.mark.usefixtures("data")
def test_an_analyst_sees_confidential_data(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("analyst")
    assert web.get("/explorer/GDP_FLASH").status_code == 200
    assert web.get("/api/v1/series/GDP_FLASH").json()[0]["points"][0]["value"] == 7.1


@pytest.mark.usefixtures("data")
def test_province_page_ranks_against_the_others(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/provinces/79")
    assert page.status_code == 200 and "Thành phố Hồ Chí Minh" in page.text
    row = page.text[page.text.index("/explorer/EXPORTS?") :]
    assert "2/3" in row[: row.index("</tr>")]
    assert web.get("/provinces/74").status_code == 404


def test_sign_in_errors_and_csrf(client: TestClient, session: Session) -> None:
    create_user(session=session, username="t.someone", password=PASSWORD, full_name="T", agency="GO", role="viewer")
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    wrong = client.post("/signin", data={"username": "t.someone", "password": "nope", "csrf_token": token.group(1)})
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
    forged = client.post("/signin", data={"username": "t.someone", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403
    outside = client.post(
        "/signin",
        data={
            "username": "t.someone",
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert outside.status_code == 303 and outside.headers["location"] == "/"
    assert "httponly" in outside.headers["set-cookie"].lower()


def test_unknown_page_is_a_page_in_the_users_language(client: TestClient) -> None:
    client.cookies.set("govops_lang", "en")
    response = client.get("/no/such/page", headers={"Accept-Language": "vi"})
    assert response.status_code == 404 and "Not found" in response.text and "Traceback" not in response.text


@pytest.mark.usefixtures("data")
def test_a_year_still_under_way_is_not_drawn_as_a_collapse(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/explorer/EXPORTS", params={"freq": "A"})
    chart = page.text[page.text.index('id="chart-data">') :]
    assert '["2026", null]' in chart and '["2025", ' in chart and '["2025", null]' not in chart
    assert '<option value="2025" selected>' in page.text  # the map shows the last complete year
    rows = web.get("/explorer/EXPORTS/download.csv", params={"freq": "A"}).content.decode("utf-8-sig")
    # Nor is it downloaded as if it were the year's figure (the API gives it, with its completeness).
    assert ",VN,Cả nước,Năm 2025," in rows and "Năm 2026" not in rows


@pytest.mark.usefixtures("data")
def test_the_explorer_marks_an_official_annual_figure_in_the_annual_chart(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    put(session, [obs("CPI", "VN", "2025", 113.1, status="final")])
    web = sign_in("viewer")
    page = web.get("/explorer/CPI", params={"freq": "A"})
    assert page.status_code == 200
    assert 'data-reported-label="số liệu báo cáo, không cộng dồn từ các kỳ ngắn hơn"' in page.text
    chart = page.text[page.text.index('id="chart-data">') :]
    assert '["2025", 113.1]' in chart and '"reported": ["2025"]' in chart
    english = web.get("/explorer/CPI", params={"freq": "A", "lang": "en"})
    assert 'data-reported-label="reported figure, not added up from shorter periods"' in english.text
    # At the indicator's own frequency every point is reported: nothing is marked.
    monthly = web.get("/explorer/CPI", params={"freq": "M"}).text
    assert '"reported": []' in monthly and '"reported": ["' not in monthly
