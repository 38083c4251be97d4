"""The console's target pages: the national board (rating, probability, sparkline), a target's page (its chart,
the provinces' league table, the shortfall's provinces, its linked tasks), a province's board matching the
cascade, in Vietnamese and English."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.targets import service
from tests.forecast.test_pages import signed_in
from tests.targets.test_service import exports, history, submit, target

__all__ = ["history", "signed_in"]


def test_the_board_the_target_page_and_the_province_board(
    signed_in: TestClient, session: Session, history: None
) -> None:
    [saved] = service.save_targets(session=session, items=[target()])
    submit(session, [("79", "2026-09", 200.0), ("01", "2026-09", exports(1000, 2026, 9))])
    service.follow_changes(session=session)  # as the worker does once the submission's commit wakes it
    session.commit()

    board = signed_in.get("/targets?year=2026")
    assert board.status_code == 200
    row = re.search(r'<tr data-target="EXP-2026" data-rating="(\w+)">(.*?)</tr>', board.text, re.S)
    assert row is not None and row.group(1) in ("at_risk", "off_track")
    assert "Khả năng đạt" in board.text and "<polyline" in row.group(2)

    page = signed_in.get(f"/targets/{saved.id}")
    assert page.status_code == 200
    assert 'data-testid="target-chart"' in page.text and 'data-testid="cascade-map"' in page.text
    drivers = re.findall(r'<li data-area="(\d+)">', page.text)
    assert drivers[:1] == ["79"]
    league = re.findall(r'<tr data-area="(\d+)">', page.text)
    assert league == ["79", "01"]  # worst first

    province = signed_in.get("/targets?year=2026&area=79")
    assert province.status_code == 200
    assert re.findall(r'<tr data-target="([\w.-]+)"', province.text) == ["EXP-2026.79"]
    by_path = signed_in.get("/targets/provinces/79?year=2026")
    assert re.findall(r'<tr data-target="([\w.-]+)"', by_path.text) == ["EXP-2026.79"]

    signed_in.cookies.set("govops_lang", "en")
    english = signed_in.get(f"/targets/{saved.id}")
    assert "Probability of meeting it" in english.text
    assert signed_in.get("/targets/999999").status_code == 404
