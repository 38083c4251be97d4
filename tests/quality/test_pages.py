"""The quality console: the dashboard lists the flag, its page shows the value on its series and the check that
fired, the officer answers and the Government Office closes it from the page; the rules page refuses a bad rule
in Vietnamese with nothing stored; the league table ranks the agencies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.quality.models import QualityFlag, QualityRule
from tests.audit.conftest import PASSWORD, token_of
from tests.quality.conftest import expected, key, store_history, submit


def sign_in(client: TestClient, session: Session, username: str, agency: str, role: str) -> None:
    create_user(session=session, username=username, password=PASSWORD, full_name="Cán bộ", agency=agency, role=role)
    form = client.get("/signin")
    done = client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": token_of(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303


def _flag(session: Session, client: TestClient) -> int:
    store_history(session, "EXPORTS", {"79": 2100.0})
    slip = expected(2100.0, "2025-01") * 1000
    sent = submit(client, key(session, "PC-79", "TRADE"), {"indicator": "EXPORTS", "area": "79", "period": "2025-01",
                                                              "value": slip})  # fmt: skip
    assert sent.status_code == 201
    return int(session.scalars(select(QualityFlag.id)).one())


def test_the_officer_answers_a_flag_on_its_page_and_the_office_closes_it(session: Session, client: TestClient) -> None:
    flag_id = _flag(session, client)
    sign_in(client, session, "can.bo.hcm", "PC-79", "data_officer")
    board = client.get("/quality", params={"lang": "vi"})
    assert board.status_code == 200
    assert f'data-testid="flag-{flag_id}"' in board.text and "Nhầm đơn vị" in board.text
    page = client.get(f"/quality/flags/{flag_id}")
    assert "Kim ngạch xuất khẩu hàng hóa" in page.text and "Nhầm đơn vị" in page.text
    assert 'data-testid="answer-form"' in page.text and 'data-testid="office-form"' not in page.text
    chart = json.loads(page.text.split('id="flag-series">')[1].split("</script>")[0])
    assert [s["name"] for s in chart["series"]] == ["EXPORTS", "Mức thấp nhất dự kiến", "Mức cao nhất dự kiến"]
    assert (
        chart["series"][0]["reported"] == ["2025-01"]
        and ["2025-01", expected(2100.0, "2025-01") * 1000] in chart["series"][0]["points"]
    )
    empty = client.post(f"/quality/flags/{flag_id}/resolution",
                        data={"csrf_token": token_of(page.text), "action": "confirm", "reason": " "})  # fmt: skip
    assert empty.status_code == 400 and "hãy nêu lý do giá trị là đúng" in empty.text
    done = client.post(
        f"/quality/flags/{flag_id}/resolution",
        data={"csrf_token": token_of(page.text), "action": "confirm", "reason": "Xuất khẩu lô hàng điện tử lớn"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    client.post("/signout", data={"csrf_token": token_of(client.get("/quality").text)})
    sign_in(client, session, "chuyen.vien", "GO", "analyst")
    page = client.get(f"/quality/flags/{flag_id}")
    assert 'data-testid="office-form"' in page.text and "Xuất khẩu lô hàng điện tử lớn" in page.text
    closed = client.post(f"/quality/flags/{flag_id}/resolution",
                         data={"csrf_token": token_of(page.text), "action": "close", "reason": "Đồng ý"})  # fmt: skip
    assert closed.status_code == 200 and "đã đóng" in closed.text
    timeline = closed.text.split('data-testid="flag-timeline"')[1]
    assert timeline.index("Phát sinh") < timeline.index("Đã xác nhận giá trị") < timeline.index("Đã đóng cảnh báo")


def test_a_bad_rule_from_the_form_is_refused_in_vietnamese_and_nothing_is_stored(
    session: Session, client: TestClient
) -> None:
    sign_in(client, session, "chuyen.vien", "GO", "analyst")
    page = client.get("/quality/rules", params={"lang": "vi"})
    form = {"csrf_token": token_of(page.text), "code": "TEST", "name_vi": "Thử", "name_en": "Test", "left": "EXPORTS",
            "operator": "==", "right": "ENT_NEW", "tolerance": "0"}  # fmt: skip
    refused = client.post("/quality/rules", data=form)
    assert refused.status_code == 400
    assert "vế right so sánh hoặc cộng usd với enterprises, là hai đơn vị khác nhau" in refused.text
    assert session.scalar(select(func.count()).select_from(QualityRule)) == 0
    saved = client.post("/quality/rules", data=form | {"right": "children(EXPORTS)", "tolerance": "0.005"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert 'data-testid="rule-TEST"' in client.get("/quality/rules").text


def test_the_officer_may_not_set_rules_and_the_league_table_ranks_agencies(
    session: Session, client: TestClient
) -> None:
    _flag(session, client)
    sign_in(client, session, "can.bo.hcm", "PC-79", "data_officer")
    page = client.get("/quality/rules")
    assert 'data-testid="rule-form"' not in page.text
    league = client.get("/quality/scorecards", params={"period": "2025-01", "lang": "vi"})
    assert league.status_code == 200 and 'data-testid="card-PC-79"' in league.text
    assert "Nhất quán nội tại" in league.text
    wrong = client.get("/quality/scorecards", params={"period": "tháng 1"})
    assert wrong.status_code == 200 and 'data-testid="quality-error"' in wrong.text


def _chart(page: str) -> dict[str, Any]:
    chart: dict[str, Any] = json.loads(page.split('id="flag-series">')[1].split("</script>")[0])
    return chart


def test_the_flag_page_draws_the_band_the_check_judged_the_value_against(session: Session, client: TestClient) -> None:
    """The band drawn at the flagged month is the one stored with the flag (what the check that fired measured the
    value against), and a month of the history lies inside its own band: the slip does not widen it."""
    flag_id = _flag(session, client)
    flag = session.get(QualityFlag, flag_id)
    assert flag is not None and flag.low is not None and flag.high is not None
    sign_in(client, session, "chuyen.vien", "GO", "analyst")
    page = client.get(f"/quality/flags/{flag_id}", params={"lang": "en"})
    chart = _chart(page.text)
    values, low, high = ({p: v for p, v in s["points"]} for s in chart["series"])
    assert low["2025-01"] == pytest.approx(flag.low, rel=1e-6) and high["2025-01"] == pytest.approx(flag.high, rel=1e-6)
    assert all(low[p] < values[p] < high[p] for p in ("2024-06", "2024-12"))
    assert "the series&#39; trend and its season, with any slip put right" in page.text


def test_a_frozen_value_is_drawn_without_a_band_and_the_page_says_why(session: Session, client: TestClient) -> None:
    store_history(session, "EXPORTS", {"79": 2100.0})
    held = expected(2100.0, "2025-01")
    sent = submit(client, key(session, "PC-79", "TRADE"),
                  *({"indicator": "EXPORTS", "area": "79", "period": p, "value": held}
                    for p in ("2025-01", "2025-02", "2025-03")))  # fmt: skip
    assert sent.status_code == 201
    flag_id = session.scalars(select(QualityFlag.id).where(QualityFlag.method == "frozen")).first()
    assert flag_id is not None
    sign_in(client, session, "chuyen.vien", "GO", "analyst")
    page = client.get(f"/quality/flags/{flag_id}", params={"lang": "vi"})
    chart = _chart(page.text)
    assert [s["name"] for s in chart["series"]] == ["EXPORTS"] and chart["log"] is False
    assert "<h2>Giá trị trên chuỗi số liệu</h2>" in page.text
    assert "Giá trị đứng yên không được xét theo khoảng dự kiến" in page.text
