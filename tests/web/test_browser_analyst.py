"""The analyst's morning in a real browser, in Vietnamese, on an operations-room screen and on a phone: the national
overview without scrolling, CPI against a year earlier on the chart, the map and the ranking, the year to date, and
the export. Screenshots land in the test's temporary folder."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page

from tests.web.test_browser import browser, console, signed_in  # noqa: F401 (fixtures)

WALL = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
# Words of an English sentence that no Vietnamese page should carry (codes and unit symbols such as CPI or USD are
# shared by both languages, so they are not counted).
ENGLISH = re.compile(r"\b(the|of|and|is|with|from|year|change|level|rank|average|total|months?)\b", re.I)


def fits(page: Page) -> dict[str, int]:
    size: dict[str, int] = page.evaluate(
        """() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
                   scrollHeight: document.documentElement.scrollHeight, innerHeight: window.innerHeight})"""
    )
    assert size["scrollWidth"] <= size["innerWidth"], f"{page.url} is wider than the screen: {size}"
    return size


def no_english(page: Page) -> None:
    text = page.locator("main").inner_text()
    found = ENGLISH.findall(text)
    assert not found, f"English on a Vietnamese page {page.url}: {found[:5]}"


def choose_view(page: Page, view: str) -> None:
    with page.expect_response(lambda r: "/explorer/" in r.url and f"view={view}" in r.url):
        page.select_option("[data-testid=view]", view)
    page.wait_for_function("document.querySelector('[data-testid=chart] canvas') !== null")


@pytest.mark.parametrize("screen", ["wall", "phone"])
def test_the_analysts_morning(browser: Browser, console: str, screen: str, tmp_path: Path) -> None:  # noqa: F811
    viewport = WALL if screen == "wall" else PHONE
    page = signed_in(browser, console, "analyst", viewport=viewport, accept_downloads=True)
    page.goto(f"{console}/")
    size = fits(page)
    tiles = page.locator("[data-testid^=tile-]")
    assert tiles.count() >= 20
    if screen == "wall":
        # The whole national picture on one screen: no scrolling, every tile in view.
        assert size["scrollHeight"] <= size["innerHeight"], size
        last = tiles.last.bounding_box()
        assert last is not None and last["y"] + last["height"] <= viewport["height"]
    else:
        # A list on a phone: one tile a row, each as wide as the screen allows.
        first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
        assert first is not None and second is not None and second["y"] > first["y"]
    assert re.search(r"Lũy kế \d+ tháng", page.locator("[data-testid=tile-EXPORTS]").inner_text())
    no_english(page)
    page.screenshot(path=str(tmp_path / f"overview-{screen}.png"), full_page=True)

    # CPI against a year earlier: the chart, the map and the ranking all say so.
    page.goto(f"{console}/explorer/CPI")
    choose_view(page, "yoy")
    ranking = page.locator("[data-testid=ranking]")
    assert "So với cùng kỳ năm trước (%)" in ranking.inner_text()
    assert "Hạng 1 là giá trị cao nhất" in page.locator("[data-testid=rank-note]").inner_text()
    # A CPI change on a year earlier is a few per cent, not an index level around 100.
    first_value = ranking.locator("tbody tr").first.locator("td").nth(2).inner_text()
    assert abs(float(first_value.replace(".", "").replace(",", "."))) < 50
    page.wait_for_function("document.querySelector('[data-testid=map] canvas') !== null")
    fits(page)
    no_english(page)
    page.screenshot(path=str(tmp_path / f"cpi-yoy-{screen}.png"), full_page=True)

    # Exports so far this year, and the export of it with the periods as columns.
    page.goto(f"{console}/explorer/EXPORTS")
    choose_view(page, "ytd")
    assert "Lũy kế từ đầu năm" in page.locator("[data-testid=ranking]").inner_text()
    fits(page)
    no_english(page)
    page.screenshot(path=str(tmp_path / f"exports-ytd-{screen}.png"), full_page=True)
    with page.expect_download() as download:
        page.click("[data-testid=download-xlsx-wide]")
    saved = tmp_path / "exports-ytd.xlsx"
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Mã địa bàn", "Địa bàn", "Đơn vị tính"] and str(header[-1]).startswith("Tháng ")
