"""Administration pages: administrators edit the catalogue and users from the console."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.service import get_indicator

PASSWORD = "correct horse battery"


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def sign_in(client: TestClient, session: Session) -> Callable[[str], TestClient]:
    def as_role(role: str) -> TestClient:
        create_user(session=session, username=f"t.{role}", password=PASSWORD, full_name=role, agency="GO", role=role)
        form = client.get("/signin")
        client.post("/signin", data={"username": f"t.{role}", "password": PASSWORD, "csrf_token": token_of(form.text)})
        return client

    return as_role


def test_only_administrators_may_open_administration(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("analyst")
    page = web.get("/admin")
    assert page.status_code == 403 and "Bạn không có quyền xem trang này" in page.text


def test_administrator_edits_an_indicator_and_the_console_shows_it(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    web = sign_in("administrator")
    form = web.get("/admin/indicators/CPI")
    assert form.status_code == 200 and "Chỉ số giá tiêu dùng" in form.text
    fields = {
        "csrf_token": token_of(form.text),
        "name_vi": "Chỉ số giá tiêu dùng (CPI)",
        "name_en": "CPI",
        "definition_vi": "Định nghĩa",
        "definition_en": "Definition",
        "unit": "INDEX_2019",
        "periodicity": "M",
        "area_aggregation": "weighted",
        "area_weight": "POP",
        "time_aggregation": "mean",
        "owner": "NSO",
        "groups": ["PRICES"],
        "classification": "public",
        "higher_is_better": "false",
        "decimals": "2",
    }
    saved = web.post("/admin/indicators/CPI", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/explorer/CPI"
    session.expire_all()
    cpi = get_indicator(session=session, code="CPI")
    assert (cpi.name_vi, cpi.higher_is_better, [g.code for g in cpi.groups]) == (
        "Chỉ số giá tiêu dùng (CPI)",
        False,
        ["PRICES"],
    )
    assert cpi.dimension_codes == ["COICOP_VN"]  # kept: the form does not touch dimensions
    assert "Chỉ số giá tiêu dùng (CPI)" in web.get("/explorer/CPI").text


def test_a_bad_indicator_form_is_shown_again_with_the_problems(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("administrator")
    form = web.get("/admin/indicators/new")
    fields = {
        "csrf_token": token_of(form.text),
        "code": "NEW_THING",
        "name_vi": "Mới",
        "name_en": "New",
        "unit": "PCT",
        "periodicity": "M",
        "area_aggregation": "weighted",
        "area_weight": "",
        "time_aggregation": "mean",
        "owner": "NSO",
        "classification": "public",
        "decimals": "1",
        "formula": "EXPORTS - NOPE",
    }
    answer = web.post("/admin/indicators/new", data=fields)
    assert answer.status_code == 422
    assert "area_weight" in answer.text and "NOPE" in answer.text and 'value="NEW_THING"' in answer.text
    fields.update(area_aggregation="sum", formula="EXPORTS - IMPORTS")
    assert web.post("/admin/indicators/new", data=fields, follow_redirects=False).status_code == 303
    assert web.get("/explorer/NEW_THING").status_code == 200


def test_administrator_creates_a_user_and_a_group(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("administrator")
    page = web.get("/admin")
    token = token_of(page.text)
    created = web.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "le.thi.b",
            "full_name": "Lê Thị B",
            "agency": "PC-01",
            "role": "data_officer",
            "password": "a long password",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert "le.thi.b" in web.get("/admin").text
    group = web.post(
        "/admin/groups",
        data={"csrf_token": token, "code": "DIRECTION", "kind": "report", "name_vi": "Chỉ đạo", "name_en": "Direction"},
        follow_redirects=False,
    )
    assert group.status_code == 303 and "DIRECTION" in web.get("/admin").text
    forged = web.post(
        "/admin/users",
        data={
            "csrf_token": "forged",
            "username": "x.y",
            "full_name": "X",
            "agency": "GO",
            "role": "viewer",
            "password": "a long password",
        },
    )
    assert forged.status_code == 403
