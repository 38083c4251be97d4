"""Administration pages: administrators edit the catalogue and users from the console."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User, UserSession
from govops.auth.service import create_user, get_user
from govops.catalog.service import get_indicator
from govops.events.models import DomainEvent

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
    assert "lạm phát" in cpi.keywords_vi and "inflation" in cpi.keywords_en  # kept too: not in this form
    assert "Chỉ số giá tiêu dùng (CPI)" in web.get("/explorer/CPI").text
    # The catalogue event says which administrator made the change.
    event = session.execute(
        select(DomainEvent.type, DomainEvent.recorded_by)
        .where(DomainEvent.subject == "CPI")
        .order_by(DomainEvent.id.desc())
    ).first()
    assert event is not None and tuple(event) == ("indicator.updated", "user:t.administrator")
    # The search words are edited as a list separated by commas, and the search finds the indicator by them.
    form = web.get("/admin/indicators/CPI")
    assert 'name="keywords_vi" value="CPI, lạm phát, giá cả, giá tiêu dùng"' in form.text
    fields |= {"csrf_token": token_of(form.text), "keywords_vi": " giá cả ,, rổ hàng hóa ", "keywords_en": ""}
    assert web.post("/admin/indicators/CPI", data=fields, follow_redirects=False).status_code == 303
    session.expire_all()
    cpi = get_indicator(session=session, code="CPI")
    assert (cpi.keywords_vi, cpi.keywords_en) == (["giá cả", "rổ hàng hóa"], [])
    found = web.get("/api/v1/indicators", params={"q": "ro hang hoa"}).json()["items"]
    assert [i["code"] for i in found] == ["CPI"]


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


# --- editing users ----------------------------------------------------------------------------


def make_user(session: Session, username: str, *, role: str = "viewer", agency: str = "PC-01") -> None:
    create_user(session=session, username=username, password=PASSWORD, full_name="Lê Thị B", agency=agency, role=role)
    session.commit()  # as if made earlier: a route's rollback must not undo it


def browser_of(web: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """A second browser (its own cookies) on the same console, signed in as `username`."""
    other = TestClient(web.app)
    form = other.get("/signin")
    answer = other.post(
        "/signin",
        data={"username": username, "password": password, "csrf_token": token_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return other


def user_fields(token: str, **changes: str) -> dict[str, str]:
    fields = {
        "csrf_token": token,
        "full_name": "Lê Thị B",
        "agency": "PC-01",
        "role": "viewer",
        "language": "vi",
        "active": "true",
    }
    return {**fields, **changes}


def stored(session: Session, username: str) -> tuple[str, str, str, str, bool]:
    session.expire_all()
    user = get_user(session=session, username=username)
    return user.full_name, user.agency.code, user.role, user.language, user.active


def test_administrator_changes_a_users_role_and_agency(sign_in: Callable[[str], TestClient], session: Session) -> None:
    make_user(session, "le.thi.b")
    web = sign_in("administrator")
    assert 'href="/admin/users/le.thi.b"' in web.get("/admin").text
    form = web.get("/admin/users/le.thi.b")
    assert form.status_code == 200
    assert 'value="le.thi.b" readonly' in form.text and 'value="Lê Thị B"' in form.text
    assert "Lần đăng nhập gần nhất" in form.text and "chưa đăng nhập lần nào" in form.text
    fields = user_fields(
        token_of(form.text), full_name="Lê Thị Bình", agency="MOF", role="analyst", language="en", active="true"
    )
    saved = web.post("/admin/users/le.thi.b", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/users/le.thi.b?saved=user"
    assert "Đã lưu người dùng." in web.get(saved.headers["location"]).text
    assert stored(session, "le.thi.b") == ("Lê Thị Bình", "MOF", "analyst", "en", True)
    row = next(r for r in web.get("/admin").text.split("<tr") if "/admin/users/le.thi.b" in r)
    assert "Lê Thị Bình" in row and "MOF" in row and "chuyên viên phân tích" in row and "đang hoạt động" in row


def test_a_disabled_user_is_signed_out_and_shown_as_disabled(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    make_user(session, "second.admin", role="administrator", agency="GO")
    web = sign_in("administrator")
    theirs = browser_of(web, "second.admin")
    assert theirs.get("/admin").status_code == 200
    form = web.get("/admin/users/second.admin")
    fields = user_fields(token_of(form.text), agency="GO", role="administrator", active="false")
    assert web.post("/admin/users/second.admin", data=fields, follow_redirects=False).status_code == 303
    assert stored(session, "second.admin")[4] is False
    assert all(
        s.revoked_at is not None
        for s in session.scalars(select(UserSession).join(UserSession.user).where(User.username == "second.admin"))
    )
    gone = theirs.get("/admin")
    assert gone.status_code == 401 and "Vui lòng đăng nhập" in gone.text
    row = next(r for r in web.get("/admin").text.split("<tr") if "/admin/users/second.admin" in r)
    assert "đã bị khóa" in row
    assert "đã bị khóa" in web.get("/admin/users/second.admin").text
    again = TestClient(web.app)
    refused = again.post(
        "/signin",
        data={"username": "second.admin", "password": PASSWORD, "csrf_token": token_of(again.get("/signin").text)},
    )
    assert refused.status_code == 403 and "Tài khoản đã bị khóa" in refused.text


def test_administrator_sets_a_password_the_user_then_signs_in_with(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    make_user(session, "le.thi.b")
    web = sign_in("administrator")
    theirs = browser_of(web, "le.thi.b")
    token = token_of(web.get("/admin/users/le.thi.b").text)
    differ = web.post(
        "/admin/users/le.thi.b/password",
        data={"csrf_token": token, "password": "a brand new password", "password_again": "a brand new pasword"},
    )
    assert differ.status_code == 422 and "Hai mật khẩu không giống nhau." in differ.text
    short = web.post(
        "/admin/users/le.thi.b/password", data={"csrf_token": token, "password": "short", "password_again": "short"}
    )
    assert short.status_code == 422 and "Mật khẩu chưa được đổi." in short.text and "too short" in short.text
    changed = web.post(
        "/admin/users/le.thi.b/password",
        data={"csrf_token": token, "password": "a brand new password", "password_again": "a brand new password"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert "Đã đổi mật khẩu." in web.get(changed.headers["location"]).text
    assert 'action="/signout"' not in theirs.get("/").text  # the old session has ended
    assert browser_of(web, "le.thi.b", "a brand new password").get("/").status_code == 200
    old = TestClient(web.app)
    refused = old.post(
        "/signin",
        data={"username": "le.thi.b", "password": PASSWORD, "csrf_token": token_of(old.get("/signin").text)},
    )
    assert refused.status_code == 401


def test_only_administrators_may_edit_users(sign_in: Callable[[str], TestClient], session: Session) -> None:
    make_user(session, "le.thi.b")
    web = sign_in("analyst")
    assert web.get("/admin/users/le.thi.b").status_code == 403
    # The analyst's own session token: no page of theirs has an administration form to take it from.
    token = session.scalars(
        select(UserSession.csrf_token).join(UserSession.user).where(User.username == "t.analyst")
    ).one()
    forbidden = web.post("/admin/users/le.thi.b", data=user_fields(token, role="administrator"))
    assert forbidden.status_code == 403 and "Bạn không có quyền xem trang này" in forbidden.text
    own = web.post("/admin/users/t.analyst", data=user_fields(token, role="administrator", agency="GO"))
    assert own.status_code == 403
    password = web.post(
        "/admin/users/le.thi.b/password",
        data={"csrf_token": token, "password": "a brand new password", "password_again": "a brand new password"},
    )
    assert password.status_code == 403
    assert stored(session, "le.thi.b")[2] == "viewer" and stored(session, "t.analyst")[2] == "analyst"


def test_editing_a_user_needs_the_forms_security_token(sign_in: Callable[[str], TestClient], session: Session) -> None:
    make_user(session, "le.thi.b")
    web = sign_in("administrator")
    fields = user_fields("", role="analyst")
    del fields["csrf_token"]
    assert web.post("/admin/users/le.thi.b", data=fields).status_code == 403
    assert web.post("/admin/users/le.thi.b", data={**fields, "csrf_token": "forged"}).status_code == 403
    no_token = web.post(
        "/admin/users/le.thi.b/password",
        data={"password": "a brand new password", "password_again": "a brand new password"},
    )
    assert no_token.status_code == 403
    assert stored(session, "le.thi.b")[2] == "viewer"
    assert browser_of(web, "le.thi.b").get("/").status_code == 200  # the old password still works


def test_an_unknown_user_is_not_found(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("administrator")
    page = web.get("/admin/users/nobody.here")
    assert page.status_code == 404 and "Không tìm thấy" in page.text and "nobody.here" in page.text
    token = token_of(web.get("/admin").text)
    assert web.post("/admin/users/nobody.here", data=user_fields(token)).status_code == 404
    password = web.post(
        "/admin/users/nobody.here/password",
        data={"csrf_token": token, "password": "a brand new password", "password_again": "a brand new password"},
    )
    assert password.status_code == 404


def test_administrators_cannot_lock_themselves_out(sign_in: Callable[[str], TestClient], session: Session) -> None:
    web = sign_in("administrator")
    token = token_of(web.get("/admin/users/t.administrator").text)
    mine = {"agency": "GO", "role": "administrator", "full_name": "administrator"}
    disable = web.post("/admin/users/t.administrator", data=user_fields(token, **{**mine, "active": "false"}))
    assert disable.status_code == 422
    assert "Bạn không thể khóa tài khoản của chính mình." in disable.text
    demote = web.post("/admin/users/t.administrator", data=user_fields(token, **{**mine, "role": "viewer"}))
    assert demote.status_code == 422
    assert "Bạn không thể bỏ vai trò quản trị viên của chính mình." in demote.text
    assert stored(session, "t.administrator") == ("administrator", "GO", "administrator", "vi", True)
    assert web.get("/admin").status_code == 200  # still signed in, still an administrator
    renamed = web.post("/admin/users/t.administrator", data=user_fields(token, **{**mine, "full_name": "Trần Văn A"}))
    assert renamed.status_code == 200 and stored(session, "t.administrator")[0] == "Trần Văn A"


def test_a_bad_role_or_agency_changes_nothing(sign_in: Callable[[str], TestClient], session: Session) -> None:
    make_user(session, "le.thi.b")
    web = sign_in("administrator")
    token = token_of(web.get("/admin/users/le.thi.b").text)
    before = stored(session, "le.thi.b")
    bad_role = web.post("/admin/users/le.thi.b", data=user_fields(token, full_name="Someone Else", role="boss"))
    assert bad_role.status_code == 422
    assert "Người dùng chưa được lưu." in bad_role.text and "unknown role" in bad_role.text and "boss" in bad_role.text
    assert 'value="Someone Else"' in bad_role.text  # the form keeps what was typed...
    assert (
        '<option value="viewer" selected>người xem</option>' in bad_role.text
    )  # ...but offers the stored role, not the first one
    bad_agency = web.post("/admin/users/le.thi.b", data=user_fields(token, agency="NOWHERE", active="false"))
    assert bad_agency.status_code == 422 and "no agency with code" in bad_agency.text
    assert stored(session, "le.thi.b") == before
    assert browser_of(web, "le.thi.b").get("/").status_code == 200  # not disabled either
