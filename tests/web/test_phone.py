"""Every page of the console on a 390 px phone, for every role, in Debian's Chromium: nothing wider than the
screen, a menu that reaches every item, tables that scroll in their own box with a cue, and a searchable
chooser for multiple choices. Screenshots at 390 and 1920 px land in the test's temporary folder."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page

from govops.audit.pages import router as audit_pages
from govops.auth.pages import router as signin_pages
from govops.catalog.pages import router as admin_pages
from govops.exchange.pages import router as exchange_pages
from govops.exchange.submit.pages import router as submit_pages
from govops.forecast.pages import router as forecast_pages
from govops.interop.mapping.pages import router as mapping_pages
from govops.jobs.pages import router as jobs_pages
from govops.notify.pages import router as notify_pages
from govops.periods import Freq, Period
from govops.quality.pages import router as quality_pages
from govops.reporting.pages import router as reporting_pages
from govops.targets.pages import router as targets_pages
from govops.tasks.pages import router as tasks_pages
from govops.warehouse.pages import router as warehouse_pages
from tests.web.test_browser import browser, console, open_settled, signed_in  # noqa: F401  (fixtures shared with this module)

PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}
ROLES = ["admin", "analyst", "officer", "viewer"]
PAGE_ROUTERS: list[APIRouter] = [
    warehouse_pages, submit_pages, admin_pages, audit_pages, jobs_pages, exchange_pages, mapping_pages,
    notify_pages, signin_pages, reporting_pages, tasks_pages, quality_pages, forecast_pages, targets_pages,
]  # fmt: skip
# What to open for a page whose path has a part to fill in (a page added without one here fails the test).
SAMPLES: dict[str, list[str]] = {
    "/explorer": ["/explorer", "/explorer?q=l%E1%BA%A1m+ph%C3%A1t"],
    "/explorer/{code}": ["/explorer/CPI", "/explorer/EXPORTS?freq=Q&area=VN&area=79&area=01"],
    "/provinces/{code}": ["/provinces/79"],
    "/forecasts/{indicator}": ["/forecasts/CPI", "/forecasts/RETAIL_SALES?area=79"],
    "/admin/indicators/{code}": ["/admin/indicators/CPI", "/admin/indicators/new"],
    "/admin/users/{username}": ["/admin/users/officer"],
    "/admin/exchange/members/{member_id}": ["/admin/exchange/members/1"],
    "/reporting/agencies/{code}": ["/reporting/agencies/PC-79"],
    "/reporting/regimes/{code}": ["/reporting/regimes/DEMO_KTXH_TINH_THANG"],
    "/reporting/reports/{regime}/{agency}/{period}": [
        "/reporting/reports/DEMO_KTXH_TINH_THANG/PC-79/" + str(Period.from_date(date.today(), Freq.M) - 2),
        "/reporting/reports/DEMO_BO_NGANH_QUY/MOF/" + str(Period.from_date(date.today(), Freq.Q) - 1),
    ],
    "/tasks/calendar": ["/tasks/calendar", "/tasks/calendar?status=open_overdue&agency=MOF"],
    "/tasks/{task_id}": ["/tasks/1", "/tasks/2"],
    "/directives/{directive_id}": ["/directives/1"],
    "/quality/flags/{flag_id}": ["/quality/flags/1", "/quality/flags/4"],
    # A qualitative target, a national one cascaded to the provinces (its chart and league table), a province's.
    "/targets/{target_id}": ["/targets/4", "/targets/7", "/targets/8"],
    "/targets/provinces/{area}": ["/targets/provinces/79"],
}
NOT_FOUND = "/explorer/NO_SUCH_INDICATOR"

# The element reaching furthest past the right edge of the screen, named as a selector a person can find.
WIDEST = """() => {
  const edge = document.documentElement.clientWidth; let worst = null, right = edge;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > right + 0.5) { right = r.right; worst = el; }
  }
  if (!worst) return 'nothing visible: a hidden element or a margin';
  const id = worst.id ? '#' + worst.id : '';
  const cls = typeof worst.className === 'string' && worst.className.trim()
    ? '.' + worst.className.trim().split(/\\s+/).join('.') : '';
  const test = worst.dataset && worst.dataset.testid ? `[data-testid=${worst.dataset.testid}]` : '';
  return `${worst.tagName.toLowerCase()}${id}${cls}${test} reaching ${Math.round(right)} px`;
}"""


def console_pages() -> list[str]:
    """Every HTML page the console serves (GET), with its samples."""
    paths: list[str] = []
    missing: list[str] = []
    for router in PAGE_ROUTERS:
        for route in router.routes:
            if (
                not isinstance(route, APIRoute)
                or "GET" not in route.methods
                or route.response_class is not HTMLResponse
            ):
                continue
            if route.path in SAMPLES:
                paths += SAMPLES[route.path]
            elif "{" in route.path:
                missing.append(route.path)
            else:
                paths.append(route.path)
    assert not missing, f"add sample paths to SAMPLES for {missing}"
    return [*dict.fromkeys(paths), NOT_FOUND]


def width_problem(page: Page, path: str, width: int) -> str | None:
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width <= width:
        return None
    return f"{path}: {scroll_width} px wide, widest: {page.evaluate(WIDEST)}"


def visit(page: Page, console: str, path: str) -> None:  # noqa: F811
    response = open_settled(page, f"{console}{path}")
    assert response is not None and response.status < 500, path


@pytest.fixture(scope="module")
def pages() -> list[str]:
    return console_pages()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_a_phone_for_every_role(
    browser: Browser,  # noqa: F811
    console: str,  # noqa: F811
    pages: list[str],
    role: str,
    tmp_path: Path,
) -> None:
    page = signed_in(browser, console, role, viewport=PHONE)
    problems = []
    for path in pages:
        visit(page, console, path)
        problem = width_problem(page, path, PHONE["width"])
        if problem:
            problems.append(problem)
        # One role's screenshots show every page; the others' only where they break, as each costs a rendering.
        if problem or role == "admin":
            page.screenshot(path=str(tmp_path / f"{role}{re.sub(r'[^A-Za-z0-9]+', '_', path)}-390.png"))
    page.context.close()
    assert not problems, f"{role} at 390 px:\n" + "\n".join(problems)


def test_every_page_fits_a_wall_screen_and_the_sign_in_page_a_phone(
    browser: Browser,  # noqa: F811
    console: str,  # noqa: F811
    pages: list[str],
    tmp_path: Path,
) -> None:
    page = signed_in(browser, console, "admin", viewport=WALL)
    problems = []
    for path in pages:
        visit(page, console, path)
        if problem := width_problem(page, path, WALL["width"]):
            problems.append(problem)
        page.screenshot(path=str(tmp_path / f"admin{re.sub(r'[^A-Za-z0-9]+', '_', path)}-1920.png"))
    page.context.close()
    anonymous = browser.new_context(viewport=PHONE).new_page()
    visit(anonymous, console, "/signin")
    problems.append(width_problem(anonymous, "/signin", PHONE["width"]) or "")
    anonymous.context.close()
    assert not [p for p in problems if p], "\n".join(problems)


def test_the_phone_menu_reaches_every_item_by_touch_and_by_keyboard(
    browser: Browser,  # noqa: F811
    console: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = signed_in(browser, console, "officer", viewport=PHONE)
    submit = page.get_by_role("link", name="Gửi số liệu")
    assert not submit.is_visible()  # folded away: the bar holds the brand, the inbox and the menu button
    toggle = page.locator("[data-testid=menu-toggle]")
    assert toggle.is_visible() and toggle.inner_text().endswith("Danh mục")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    items = page.locator("nav.main a")
    names = [
        "Toàn cảnh quốc gia",
        "Tra cứu chỉ tiêu",
        "Địa phương",
        "Báo cáo",
        "Nhiệm vụ",
        "Mục tiêu",
        "Chất lượng",
        "Dự báo",
        "Gửi số liệu",
    ]
    assert items.all_inner_texts() == names
    for item in items.all():
        box = item.bounding_box()
        assert item.is_visible() and box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.locator("[data-testid=language-switch]").is_visible()
    page.screenshot(path=str(tmp_path / "menu-open-390.png"))
    # Escape folds it again and gives the focus back to the button; Enter on the button opens it.
    page.keyboard.press("Escape")
    assert not submit.is_visible() and page.evaluate("() => document.activeElement.dataset.testid") == "menu-toggle"
    page.keyboard.press("Enter")
    assert submit.is_visible()
    submit.click()
    page.wait_for_url(f"{console}/submit")
    assert page.locator("h1").inner_text() == "Gửi số liệu"
    page.context.close()
    # On a wide screen there is no menu button: every item is in the bar.
    wide = signed_in(browser, console, "officer", viewport=WALL)
    assert not wide.locator("[data-testid=menu-toggle]").is_visible()
    assert wide.get_by_role("link", name="Gửi số liệu").is_visible()
    wide.context.close()


def test_a_wide_table_scrolls_in_its_own_box_with_a_hint(
    browser: Browser,  # noqa: F811
    console: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = signed_in(browser, console, "admin", viewport=PHONE)
    visit(page, console, "/admin/audit")
    box = page.locator("main .table-scroll").first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # wider than the phone: it scrolls, the page does not
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    hint = page.locator("main .scroll-hint").first
    assert hint.is_visible() and hint.inner_text().endswith("Vuốt ngang để xem hết bảng")
    assert "more-right" in (box.get_attribute("class") or "")
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; b.dispatchEvent(new Event('scroll')); }")
    assert "more-left" in (box.get_attribute("class") or "") and "more-right" not in (box.get_attribute("class") or "")
    page.screenshot(path=str(tmp_path / "audit-table-390.png"))
    page.context.close()
    # On a wall screen the same table fits: no hint.
    wide = signed_in(browser, console, "admin", viewport=WALL)
    visit(wide, console, "/admin/audit")
    assert not wide.locator("main .scroll-hint").first.is_visible()
    wide.context.close()


def test_a_multiple_choice_is_a_searchable_chooser_that_shows_what_is_chosen(
    browser: Browser,  # noqa: F811
    console: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = signed_in(browser, console, "admin", viewport=PHONE)
    visit(page, console, "/admin/indicators/CPI")
    select = page.locator("select[name=groups]")
    assert not select.is_visible()
    chooser = page.locator(".chooser").first
    chosen = chooser.locator(".chosen button")
    before = set(select.evaluate("s => [...s.selectedOptions].map(o => o.value)"))
    assert "PRICES" in before and len(before) == chosen.count()
    assert any(text.startswith("PRICES ·") for text in chosen.all_inner_texts())
    # Typing without tone marks narrows the list; ticking a box chooses it, and the chip shows it.
    chooser.locator("input[type=search]").fill("du lich")
    shown = chooser.locator("li:not([hidden])")
    assert shown.count() == 1 and "TOURISM" in shown.inner_text()
    shown.locator("input[type=checkbox]").check()
    assert any(text.startswith("TOURISM ·") for text in chosen.all_inner_texts())
    after = set(select.evaluate("s => [...s.selectedOptions].map(o => o.value)"))
    assert after == before | {"TOURISM"}
    # A chip's button takes the choice back.
    chosen.filter(has_text="TOURISM").click()
    assert set(select.evaluate("s => [...s.selectedOptions].map(o => o.value)")) == before
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    chooser.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "chooser-390.png"))
    page.context.close()
