"""Markup stored in the catalogue (a unit symbol, area names) stays text in a real browser (Debian's Chromium
driven by Playwright) against `govops serve`, and the Content-Security-Policy never has to stop the console's
own scripts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page
from sqlalchemy import select, update

from govops.auth.service import create_user
from govops.catalog.models import Area, Indicator, Unit
from govops.db.engine import make_engine, transaction
from tests.cli.conftest import Govops, initialised_store, serving
from tests.web.test_browser import browser, canvas_is_drawn, open_settled

__all__ = ["browser", "initialised_store"]

PASSWORD = "correct horse battery"
PROVINCES = ["01", "04", "08", "11", "12", "14", "15", "19"]
# Each payload would set a window flag if the browser ever ran it (a unit symbol holds 32 characters at most).
UNIT_PAYLOAD = "<img src=x onerror=__u=1>"
NAME_PAYLOAD = '"><img src=x onerror="window.__n=1">'
INDICATOR_PAYLOAD = "<script>window.__i=1</script><img src=x onerror=__i=1>"


@pytest.fixture(scope="module")
def console(initialised_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("xss-console")
    shutil.copy(initialised_store, folder / "govops.db")
    govops = Govops(folder / "govops.db", folder)
    rows = ["indicator,area,period,value"] + [
        f"RETAIL_SALES,{area},2024-{month:02d},{1000 + 10 * i + month}"
        for i, area in enumerate(PROVINCES)
        for month in range(1, 7)
    ]
    (folder / "retail.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ingested = govops("ingest", "retail.csv")
    assert ingested.code == 0, ingested.err + ingested.out
    engine = make_engine(govops.env["GOVOPS_DATABASE_URL"])
    with transaction(engine) as session:
        create_user(
            session=session, username="analyst", password=PASSWORD, full_name="Analyst", agency="GO", role="analyst"
        )
        unit_code = session.scalars(select(Indicator).where(Indicator.code == "RETAIL_SALES")).one().unit.code
        session.execute(update(Unit).where(Unit.code == unit_code).values(symbol=UNIT_PAYLOAD, name_en=UNIT_PAYLOAD))
        for code in PROVINCES:
            payload = f"{NAME_PAYLOAD} {code}"
            session.execute(
                update(Area)
                .where(Area.code == code)
                .values(short_vi=payload, short_ascii=payload, name_vi=payload, name_ascii=payload)
            )
        session.execute(
            update(Indicator)
            .where(Indicator.code == "RETAIL_SALES")
            .values(name_vi=INDICATOR_PAYLOAD, name_en=INDICATOR_PAYLOAD)
        )
    engine.dispose()
    with serving(govops) as base:
        yield base


@dataclass
class Watched:
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def policy_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]

    def assert_nothing_ran(self) -> None:
        ran = self.page.evaluate("() => [window.__u, window.__n, window.__i].filter((v) => v !== undefined)")
        assert ran == [], "a stored payload ran"
        assert self.page.locator("img[src=x]").count() == 0, "a stored payload became an element"
        assert self.policy_violations() == []
        assert self.errors == []


def watched(browser: Browser, console: str, **context: object) -> Watched:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    seen = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        seen.console.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.goto(f"{console}/signin")
    page.fill("#username", "analyst")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console}/")
    return seen


def show_tooltips(page: Page) -> tuple[str, str]:
    """Hovers the map and the chart (by mouse, then through ECharts for a named province); returns what each
    tooltip shows."""
    page.wait_for_selector("[data-testid=map][data-drawn=true]")
    page.wait_for_selector("[data-testid=chart][data-drawn=true]")
    for selector in ("[data-testid=map]", "[data-testid=chart]"):
        box = page.locator(selector).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    texts = []
    for selector, action in (
        ("[data-testid=map]", "{type: 'showTip', seriesIndex: 0, name: '01'}"),
        ("[data-testid=chart]", "{type: 'showTip', seriesIndex: 0, dataIndex: 3}"),
    ):
        page.evaluate(f"() => echarts.getInstanceByDom(document.querySelector('{selector}')).dispatchAction({action})")
        page.wait_for_function(
            "(sel) => [...document.querySelectorAll(sel + ' div')].some((d) => d.innerText.includes('<img'))",
            arg=selector,
            timeout=10_000,
        )
        texts.append(page.locator(selector).inner_text())
    return texts[0], texts[1]


def test_stored_markup_shows_as_text_in_the_map_and_chart_tooltips(browser: Browser, console: str) -> None:
    seen = watched(browser, console)
    page = seen.page
    page.goto(f"{console}/explorer/RETAIL_SALES?freq=M&area=01&area=04")
    map_tip, chart_tip = show_tooltips(page)
    # Shown as the characters they are: the province's name and the unit symbol in the map's tooltip...
    assert f"{NAME_PAYLOAD} 01" in map_tip and UNIT_PAYLOAD in map_tip
    # ...and the provinces compared, in the chart's.
    assert f"{NAME_PAYLOAD} 01" in chart_tip
    assert canvas_is_drawn(page, "[data-testid=map]") and canvas_is_drawn(page, "[data-testid=chart]")
    assert INDICATOR_PAYLOAD in page.locator("h1").inner_text()
    seen.assert_nothing_ran()

    # In English the unit is its English name: the same payload, the same outcome.
    page.goto(f"{console}/explorer/RETAIL_SALES?freq=M&area=01&lang=en")
    map_tip, _ = show_tooltips(page)
    assert UNIT_PAYLOAD in map_tip
    # An HTMX swap (another month on the map) redraws both without any script being refused.
    page.select_option("[data-testid=period]", "2024-03")
    page.wait_for_function("() => document.querySelector('#map-data')?.textContent.includes('\"2024-03\"')")
    show_tooltips(page)
    seen.assert_nothing_ran()

    for path in ("/", "/provinces", "/provinces/01", "/explorer?q=RETAIL"):
        open_settled(page, f"{console}{path}")
        seen.assert_nothing_ran()
    page.context.close()


def test_the_console_s_own_scripts_run_under_the_policy(browser: Browser, console: str) -> None:
    seen = watched(browser, console)
    page = seen.page
    # The theme switch (console.js) and the theme kept across pages (theme.js, before the page is drawn).
    page.click("#theme-toggle")
    page.goto(f"{console}/provinces")
    chosen = page.evaluate("() => document.documentElement.dataset.theme")
    assert chosen in ("light", "dark")
    # A sortable table (console.js) on the explorer page.
    page.goto(f"{console}/explorer/RETAIL_SALES?freq=M")
    page.click("[data-testid=ranking] th:nth-child(3) button")
    assert page.locator("[data-testid=ranking] th:nth-child(3)").get_attribute("aria-sort") == "ascending"
    assert seen.policy_violations() == [] and seen.errors == []
    page.context.close()
