"""Views that mean what they say: the map, the ranking and the downloads follow the chosen view (level, change on
a year earlier, year to date); ranks honour whether a rise is good news; balances change by differences."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.warehouse.conftest import obs, put

PROVINCES = ("01", "79", "48")


@pytest.fixture
def data(session: Session) -> None:
    # Exports of three provinces, 2025-01 to 2026-09: province i has 100*(i+1) + (year-2024) + month.
    rows = [
        obs("EXPORTS", code, f"{y}-{m:02d}", 100.0 * (i + 1) + y - 2024 + m)
        for i, code in enumerate(PROVINCES)
        for y in (2025, 2026)
        for m in range(1, 13)
        if (y, m) <= (2026, 9)
    ]
    # National imports: the trade balance is a deficit of 20 in August 2026 and a surplus of 33 in September.
    rows += [obs("IMPORTS", "VN", f"2026-{m:02d}", {8: 650.0, 9: 600.0}.get(m, 600.0 + 3 * m)) for m in range(1, 10)]
    rows += [obs("CPI", "VN", f"2026-{m:02d}", 100.0 + m) for m in range(1, 10)]
    # Traffic deaths: fewer is better; Ho Chi Minh City has the fewest here.
    rows += [obs("TRAFFIC_DEATHS", code, "2026-09", deaths) for code, deaths in (("01", 50), ("79", 20), ("48", 35))]
    put(session, rows)


def _json(page: str, element: str) -> dict[str, object]:
    found = re.search(rf'id="{element}">(.*?)</script>', page, re.S)
    assert found, element
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


def _map_values(page: str) -> dict[str, float | None]:
    data = _json(page, "map-data")["data"]
    assert isinstance(data, list)
    return {row["name"]: row["value"] for row in data}


def _ranking(page: str) -> list[str]:
    table = page[page.index('data-testid="ranking"') :]
    table = table[: table.index("</table>")]
    return re.findall(r'<a href="/provinces/(\d+)">', table)


@pytest.mark.usefixtures("data")
def test_map_and_ranking_follow_the_change_on_a_year_earlier(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/explorer/EXPORTS", params={"view": "yoy"}).text
    values = _map_values(page)
    # September 2026 against September 2025: 111/110, 211/210, 311/310.
    assert values["01"] == pytest.approx(100 / 110, abs=1e-4)
    assert values["79"] == pytest.approx(100 / 210, abs=1e-4)
    assert _ranking(page)[:3] == ["01", "79", "48"]  # the fastest growth first: a rise of exports is good news
    assert "So với cùng kỳ năm trước (%)" in page and "Hạng 1 là tốt nhất: giá trị cao nhất." in page
    chart = _json(page, "chart-data")
    assert chart["unit"] == "%"


@pytest.mark.usefixtures("data")
def test_the_year_to_date_adds_up_flows_and_averages_indices(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/explorer/EXPORTS", params={"view": "ytd"}).text
    assert '<option value="ytd" selected>Lũy kế từ đầu năm</option>' in page
    # Ha Noi, January to September 2026: (102 + 1) + ... + (102 + 9).
    assert _map_values(page)["01"] == pytest.approx(9 * 102 + 45)
    assert _ranking(page)[0] == "48"
    cpi = web.get("/explorer/CPI", params={"view": "ytd", "area": "VN"}).text
    points = dict(_json(cpi, "chart-data")["series"][0]["points"])  # type: ignore[index]
    assert points["2026-09"] == pytest.approx(105.0)  # the average of 101..109
    # A change on the previous month has no year to date: the view is not offered, and asking for it shows the level.
    mom = web.get("/explorer/CPI_MOM", params={"view": "ytd"}).text
    assert 'value="ytd"' not in mom and '<option value="level" selected>' in mom


@pytest.mark.usefixtures("data")
def test_rank_one_is_the_best_when_a_rise_is_bad_news(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/explorer/TRAFFIC_DEATHS").text
    assert _ranking(page)[:3] == ["79", "48", "01"]
    assert "Hạng 1 là tốt nhất: giá trị thấp nhất." in page
    province = web.get("/provinces/79").text
    row = province[province.index("/explorer/TRAFFIC_DEATHS?") :]
    assert "1/3 <small>1 = tốt nhất, thấp nhất</small>" in row[: row.index("</tr>")]
    hanoi = web.get("/provinces/01").text
    row = hanoi[hanoi.index("/explorer/TRAFFIC_DEATHS?") :]
    assert "3/3" in row[: row.index("</tr>")]


@pytest.mark.usefixtures("data")
def test_a_comparison_takes_twelve_areas_and_says_when_more_were_asked(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    areas = ["VN", "01", "79", "48", "31", "92", "75", "56", "66", "68", "82", "86", "91", "96"]
    page = web.get("/explorer/EXPORTS", params={"area": areas}).text
    assert len(_json(page, "chart-data")["series"]) == 12  # type: ignore[arg-type]
    assert "Biểu đồ so sánh tối đa 12 địa bàn: đang hiển thị 12 địa bàn đầu tiên trong 14 địa bàn đã chọn." in page
    twelve = web.get("/explorer/EXPORTS", params={"area": areas[:12]}).text
    assert len(_json(twelve, "chart-data")["series"]) == 12  # type: ignore[arg-type]
    assert 'data-testid="compare-limit"' not in twelve


@pytest.mark.usefixtures("data")
def test_the_overview_shows_a_balance_change_as_a_difference_and_the_year_to_date(
    sign_in: Callable[[str], TestClient],
) -> None:
    web = sign_in("analyst")
    page = web.get("/").text

    def tile(code: str) -> str:
        found = page[page.index(f'data-testid="tile-{code}"') :]
        return found[: found.index("</a>")]

    balance = tile("TRADE_BALANCE")
    # September: 633 - 600 = 33, against a deficit of 20 in August: +53 million USD, not "-265%".
    assert "33,0" in balance and "+53,0 triệu USD" in balance and "%" not in balance
    exports = tile("EXPORTS")
    # The nation adds up the three provinces: 606 + 3m a month, January to September 2026.
    assert "Lũy kế 9 tháng: <strong>5.589,0</strong>" in exports
    english = web.get("/?lang=en").text
    assert "Total of 9 months" in english


@pytest.mark.usefixtures("data")
def test_downloads_carry_the_views_unit_rounded_values_and_the_readers_words(
    sign_in: Callable[[str], TestClient],
) -> None:
    web = sign_in("viewer")
    yoy = web.get("/explorer/EXPORTS/download.csv", params={"view": "yoy", "area": ["01"]})
    rows = list(csv.reader(io.StringIO(yoy.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Mã chỉ tiêu", "Chỉ tiêu", "Mã địa bàn", "Địa bàn", "Kỳ", "Cách xem", "Giá trị", "Đơn vị tính",
        "Trạng thái", "Nguồn",
    ]  # fmt: skip
    last = rows[-1]
    assert last[4:] == ["Tháng 9/2026", "So với cùng kỳ năm trước", "0.9", "%", "sơ bộ", "báo cáo"]
    english = web.get("/explorer/EXPORTS/download.csv", params={"view": "yoy", "area": ["01"], "lang": "en"})
    assert (
        english.content.decode("utf-8-sig")
        .splitlines()[-1]
        .endswith("Sep 2026,Change on a year earlier,0.9,%,provisional,reported")
    )
    wide = web.get("/explorer/EXPORTS/download.xlsx", params={"view": "ytd", "area": ["VN", "01"], "layout": "wide"})
    sheet = load_workbook(io.BytesIO(wide.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Mã địa bàn", "Địa bàn", "Đơn vị tính", "Tháng 1/2025"] and header[-1] == "Tháng 9/2026"
    assert [c.value for c in sheet["A"]][1:] == ["VN", "01"]
    assert sheet.cell(row=3, column=len(header)).value == 9 * 102 + 45
    assert sheet.cell(row=3, column=len(header)).number_format == "#,##0.0"
