"""A provincial data officer's month in a real browser (Debian's Chromium), in Vietnamese, on an operations-room
screen and on a phone: see what is due, download the template, fill it in, upload it, check the preview, confirm,
read the receipt and find the values stored. No page is wider than the screen. Screenshots land in the test's
temporary folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page

from govops.periods import Freq, Period
from tests.web.test_browser import browser, console, signed_in

__all__ = ["browser", "console"]

SCREENS = {"wall": {"width": 1920, "height": 1080}, "phone": {"width": 390, "height": 844}}


def _fits(page: Page, width: int, what: str) -> None:
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width, what


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_officers_month_from_due_list_to_stored_values(
    browser: Browser, console: str, tmp_path: Path, screen: str
) -> None:
    viewport = SCREENS[screen]
    width = viewport["width"]
    page = signed_in(browser, console, "officer", viewport=viewport)
    page.goto(f"{console}/submit")
    assert page.locator("h1").inner_text() == "Gửi số liệu"
    # The reporting regimes' list of what the province owes, loaded in place, with a way to each report.
    page.wait_for_selector("[data-testid=due]")
    due = page.locator("[data-testid=due]")
    assert "Báo cáo Ủy ban nhân dân Thành phố Hồ Chí Minh phải nộp" in due.inner_text()
    assert due.locator("[data-testid^=due-DEMO_]").count() >= 1
    _fits(page, width, "submit page")
    page.screenshot(path=str(tmp_path / f"{screen}-1-due.png"), full_page=False)

    last_month = Period.from_date(date.today(), Freq.M).previous()
    page.select_option("select[name=group]", "ENTERPRISES")
    page.fill("input[name=year]", str(last_month.year))
    with page.expect_download() as download:
        page.click("[data-testid=download-template]")
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    assert template.name == f"govops-ENTERPRISES-PC-79-{last_month.year}.xlsx"

    # Filled in as in Excel: the last month and the one before, for Hồ Chí Minh City (a figure per screen, so
    # that each walk changes what the other stored).
    figures = {str(last_month): 4321.0 + width, str(last_month - 1): 3999.0 + width}
    book = openpyxl.load_workbook(template)
    sheet = book["ENT_NEW"]
    header = next(r for r in sheet.iter_rows() if any(c.value == str(last_month) for c in r))
    columns = {c.value: c.column for c in header}
    row = next(r[0].row for r in sheet.iter_rows(min_row=header[0].row + 1) if r[0].value == "79")
    for period, value in figures.items():
        sheet.cell(row=row, column=columns[period], value=value)
    filled = tmp_path / f"tp-hcm-{screen}.xlsx"
    book.save(filled)

    page.set_input_files("[data-testid=upload-file]", str(filled))
    page.click("[data-testid=upload]")
    page.wait_for_selector("[data-testid=preview]")
    preview = page.locator("[data-testid=preview]").inner_text()
    assert "Kiểm tra trước khi lưu" in preview and "Chưa lưu gì" in preview
    shown = page.locator("[data-testid=preview-changed], [data-testid=preview-new]").all_inner_texts()
    assert any(f"Tháng {last_month.start.month}/{last_month.year}" in table for table in shown)
    _fits(page, width, "preview")
    page.screenshot(path=str(tmp_path / f"{screen}-2-preview.png"), full_page=True)
    page.locator("[data-testid=preview]").screenshot(path=str(tmp_path / f"{screen}-2-preview-panel.png"))
    stored = page.request.get(
        f"{console}/api/v1/observations?indicator=ENT_NEW&area=79&start={last_month - 1}&end={last_month}"
    )
    assert {o["value"] for o in stored.json()["items"] if not o["dims"]}.isdisjoint(figures.values())

    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=receipt]")
    receipt = page.locator("[data-testid=receipt]").inner_text()
    assert "Đã tiếp nhận" in receipt and f"tp-hcm-{screen}.xlsx: 2 giá trị đã nhận" in receipt
    assert "Người gửi" in receipt and "(officer)" in receipt
    _fits(page, width, "receipt")
    page.screenshot(path=str(tmp_path / f"{screen}-3-receipt.png"), full_page=True)
    page.locator("[data-testid=receipt]").screenshot(path=str(tmp_path / f"{screen}-3-receipt-panel.png"))
    stored = page.request.get(
        f"{console}/api/v1/observations?indicator=ENT_NEW&area=79&start={last_month - 1}&end={last_month}"
    )
    assert {o["period"]: o["value"] for o in stored.json()["items"] if not o["dims"]} == figures
    page.goto(f"{console}/explorer/ENT_NEW")
    _fits(page, width, "explorer")
    page.context.close()
