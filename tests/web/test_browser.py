"""The console in a real browser (Debian's Chromium driven by Playwright) against `govops serve`
over a store made by `govops demo`. Screenshots land in the test's temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, Response, Route, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "govops-demo"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, demo_folder: Path) -> Iterator[str]:
    # Each module gets its own copy of the demo store (made once per test process), so its writes stay its own.
    folder = tmp_path_factory.mktemp("console")
    shutil.copytree(demo_folder, folder, dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVOPS_")}
    env["GOVOPS_DATABASE_URL"] = f"sqlite:///{folder / 'govops.db'}"
    # The walks open a few provinces, not all 34: computing every page ahead would cost each server seconds of CPU.
    env["GOVOPS_PAGE_WARMER"] = "false"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "govops", "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (make test and .ci/run install it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def signed_in(browser: Browser, console: str, username: str, **context: object) -> Page:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.goto(f"{console}/explorer")
    assert "/signin" in page.url or page.locator("text=Đăng nhập").count() > 0
    page.goto(f"{console}/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console}/")
    return page


def open_settled(page: Page, url: str, quiet_ms: int = 60) -> Response | None:
    """Open `url` and wait until it has loaded and no request (HTMX partials, the map's shapes) has been in flight
    for `quiet_ms`: Playwright's "networkidle" waits a fixed 500 ms, which a walk over every page pays each time."""
    in_flight: set[object] = set()

    def started(request: object) -> None:
        in_flight.add(request)

    def ended(request: object) -> None:
        in_flight.discard(request)

    handlers = {"request": started, "requestfinished": ended, "requestfailed": ended}
    for name, handler in handlers.items():
        page.on(name, handler)  # type: ignore[call-overload]
    try:
        response = page.goto(url)
        quiet = 0
        for _ in range(250):
            page.wait_for_timeout(20)
            quiet = quiet + 20 if not in_flight else 0
            if quiet >= quiet_ms:
                break
    finally:
        for name, handler in handlers.items():
            page.remove_listener(name, handler)
    return response


def canvas_is_drawn(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(sel) => { const c = document.querySelector(sel + ' canvas'); if (!c) return false;
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             const seen = new Set();
             for (let i = 0; i < d.length; i += 4 * 97) seen.add([d[i], d[i + 1], d[i + 2], d[i + 3]].join());
             return seen.size > 3; }""",
            selector,
        )
    )


@pytest.mark.parametrize("username", ["admin", "analyst", "officer", "viewer"])
def test_every_role_signs_in_and_sees_the_overview(
    browser: Browser, console: str, username: str, tmp_path: Path
) -> None:
    page = signed_in(browser, console, username)
    assert page.locator("h1").inner_text() == "Toàn cảnh quốc gia"
    assert page.locator("[data-testid^=tile-]").count() >= 15
    assert page.locator(f"text=Đăng xuất ({username})").count() == 1
    gdp_flash = page.request.get(f"{console}/explorer/GDP_FLASH")
    assert gdp_flash.status == (200 if username in ("admin", "analyst") else 404)
    page.screenshot(path=str(tmp_path / f"overview-{username}.png"))
    page.context.close()


def test_explorer_draws_the_chart_and_the_map_and_downloads_csv(browser: Browser, console: str, tmp_path: Path) -> None:
    page = signed_in(browser, console, "analyst")
    page.click("[data-testid=tile-EXPORTS]")
    page.wait_for_selector("[data-testid=map][data-drawn=true]")
    page.wait_for_timeout(600)
    assert canvas_is_drawn(page, "[data-testid=chart]") and canvas_is_drawn(page, "[data-testid=map]")
    page.select_option("[data-testid=freq]", "Q")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=freq]').value === 'Q'"
        " && document.querySelector('#chart-data').textContent.includes('-Q')"
    )
    page.wait_for_selector("[data-testid=chart][data-drawn=true]")
    assert canvas_is_drawn(page, "[data-testid=chart]")
    with page.expect_download() as download:
        page.click("[data-testid=download-csv]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith("Mã chỉ tiêu,Chỉ tiêu,Mã địa bàn") and "EXPORTS," in text and "Quý" in text
    page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
    page.context.close()


def test_language_switch_and_keyboard_focus(browser: Browser, console: str) -> None:
    page = signed_in(browser, console, "viewer")
    page.click("[data-testid=language-switch]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "National overview"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.goto(f"{console}/explorer/CPI")
    assert page.locator("text=Download CSV").count() == 1
    page.context.close()


def test_phone_viewport_has_no_sideways_scrolling(browser: Browser, console: str, tmp_path: Path) -> None:
    page = signed_in(browser, console, "viewer", viewport={"width": 390, "height": 844})
    for path in ("/", "/explorer/CPI", "/provinces/79"):
        open_settled(page, f"{console}{path}")
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390, path
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=False)
    page.context.close()


def test_an_administrator_runs_a_job_now_from_a_phone(browser: Browser, console: str, tmp_path: Path) -> None:
    page = signed_in(browser, console, "admin", viewport={"width": 390, "height": 844})
    page.goto(f"{console}/admin")
    page.click("[data-testid=jobs-link]")
    page.wait_for_url(f"{console}/admin/jobs")
    assert page.locator("h1").inner_text() == "Tác vụ định kỳ"
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    page.click("[data-testid='run-auth.purge-sessions']")
    page.wait_for_url(f"{console}/admin/jobs?queued=auth.purge-sessions#runs")
    assert "auth.purge-sessions đã được xếp hàng" in page.locator("[data-testid=queued]").inner_text()
    # The worker inside `govops serve` takes the queued run up within a few seconds.
    for _ in range(100):
        # Other jobs (the page caches) may have run since, so the queued run is looked for by name.
        rows = page.locator("[data-testid=job-runs] tbody tr", has_text="auth.purge-sessions")
        row = rows.first.inner_text() if rows.count() else ""
        if "thành công" in row:
            break
        time.sleep(0.3)
        page.reload()
    assert "auth.purge-sessions" in row and "chạy thủ công: admin" in row and "thành công" in row
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "jobs-phone.png"), full_page=True)


def test_a_password_reset_reaches_the_persons_inbox_on_a_phone(browser: Browser, console: str, tmp_path: Path) -> None:
    # The administrator sets the viewer's password (to the same one: later tests still sign in with it).
    admin = signed_in(browser, console, "admin")
    admin.goto(f"{console}/admin/users/viewer")
    admin.fill("input[name=password]", PASSWORD)
    admin.fill("input[name=password_again]", PASSWORD)
    admin.click("[data-testid=set-password]")
    admin.wait_for_selector("[data-testid=saved]")
    admin.context.close()

    page = signed_in(browser, console, "viewer", viewport={"width": 390, "height": 844})
    assert page.locator("[data-testid=unread-count]").inner_text() == "1"
    page.click("[data-testid=inbox-link]")
    page.wait_for_url(f"{console}/notifications")
    assert page.locator("h1").inner_text() == "Thông báo"
    item = page.locator("[data-testid=inbox] li.unread")
    assert item.count() == 1 and "Mật khẩu của bạn đã được đổi" in item.inner_text()
    assert "do admin thực hiện" in item.inner_text()
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "inbox-phone.png"), full_page=True)
    page.click("text=Đánh dấu đã đọc")
    page.wait_for_selector("[data-testid=inbox] li.read")
    assert page.locator("[data-testid=unread-count]").count() == 0
    page.context.close()


def test_the_api_documentation_renders_its_operations_without_internet(
    browser: Browser, console: str, tmp_path: Path
) -> None:
    page = browser.new_context().new_page()
    refused: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(f"{console}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{console}/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/observations" in paths and "/api/v1/indicators" in paths
    page.screenshot(path=str(tmp_path / "api-docs.png"))
    assert refused == []
    page.context.close()
