"""The inbox in the console and over the API: one's own notifications only, unread count in the header."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.notify import service
from govops.notify.models import Notification

DUE = {"report": "BC-01", "agency": "Sở Tài chính", "period": "2026-02", "due": "2026-03-10"}


def due(session: Session, user: User, report: str = "BC-01", link: str | None = "/submit") -> int:
    (made,) = service.notify(
        session=session, recipients=[user.id], kind="report_due", params={**DUE, "report": report}, link=link
    )
    return made.id


def shown_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="(?:un)?read" data-id="(\d+)">', html)]


def read_at(session: Session, notification_id: int) -> object:
    session.expire_all()
    return session.scalar(select(Notification.read_at).where(Notification.id == notification_id))


def test_the_header_counts_unread_and_the_inbox_lists_them_in_vietnamese(
    client: TestClient, session: Session, person: Callable[..., User], signed_in: Callable[[User], str]
) -> None:
    lan = person("lan")
    signed_in(lan)
    home = client.get("/")
    assert 'data-testid="inbox-link"' in home.text and "Hộp thư" in home.text
    assert 'data-testid="unread-count"' not in home.text  # nothing unread: no badge
    first, second = due(session, lan, "BC-01"), due(session, lan, "BC-02")
    home = client.get("/")
    assert re.search(r'data-testid="unread-count">2</span><span class="visually-hidden"> chưa đọc', home.text)
    page = client.get("/notifications")
    assert page.status_code == 200 and page.headers["content-language"] == "vi"
    assert "<h1>Thông báo</h1>" in page.text and "Đến hạn báo cáo: BC-02" in page.text
    assert "Báo cáo BC-01 của Sở Tài chính kỳ 2026-02 đến hạn nộp ngày 2026-03-10." in page.text
    assert shown_ids(page.text) == [second, first] and page.text.count('class="unread"') == 2
    assert "Đánh dấu tất cả là đã đọc" in page.text and "Report due" not in page.text
    english = client.get("/notifications?lang=en")
    assert "Report due: BC-02" in english.text and "Mark all as read" in english.text
    assert "Đến hạn" not in english.text


def test_mark_one_read_then_open_its_page_and_mark_all(
    client: TestClient, session: Session, person: Callable[..., User], signed_in: Callable[[User], str]
) -> None:
    lan = person("lan")
    csrf = signed_in(lan)
    first, second, third = due(session, lan, "A"), due(session, lan, "B", link=None), due(session, lan, "C")
    done = client.post(f"/notifications/{second}/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/notifications"
    assert read_at(session, second) is not None and read_at(session, first) is None
    page = client.get("/notifications")
    assert f'<li class="read" data-id="{second}">' in page.text
    assert re.search(r'data-testid="unread-count">2<', page.text)
    opened = client.post(f"/notifications/{third}/read", data={"csrf_token": csrf, "open": "1"}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/submit"
    # Only the unread ones, then mark all.
    assert shown_ids(client.get("/notifications?unread=true").text) == [first]
    everything = client.post("/notifications/read-all", data={"csrf_token": csrf}, follow_redirects=False)
    assert everything.status_code == 303 and read_at(session, first) is not None
    page = client.get("/notifications?unread=true")
    assert "Không có thông báo chưa đọc." in page.text and 'data-testid="unread-count"' not in page.text


def test_a_viewer_may_mark_their_own_read_but_not_without_the_token(
    client: TestClient, session: Session, person: Callable[..., User], signed_in: Callable[[User], str]
) -> None:
    lan = person("lan", role="viewer")
    signed_in(lan)
    mine = due(session, lan)
    refused = client.post(f"/notifications/{mine}/read", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert read_at(session, mine) is None
    stale = client.post(f"/notifications/{mine}/read", data={"csrf_token": "x" * 43}, follow_redirects=False)
    assert stale.status_code == 403 and read_at(session, mine) is None


def test_no_one_reads_or_marks_another_persons_notifications(
    client: TestClient, session: Session, person: Callable[..., User], signed_in: Callable[[User], str]
) -> None:
    lan, minh = person("lan"), person("minh", role="administrator")
    hers = due(session, lan, "SECRET-REPORT")
    csrf = signed_in(minh)  # even an administrator
    assert "SECRET-REPORT" not in client.get("/notifications").text
    assert client.get("/api/v1/notifications").json() == {"items": [], "next_cursor": None}
    page = client.post(f"/notifications/{hers}/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert page.status_code == 404 and "Bạn không có thông báo nào mang số này." in page.text
    api = client.post(f"/api/v1/notifications/{hers}/read", headers={"X-CSRF-Token": csrf})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert f"you have no notification {hers}" in api.json()["error"]["message"]
    assert read_at(session, hers) is None


def test_anonymous_callers_are_asked_to_sign_in(
    client: TestClient, session: Session, person: Callable[..., User]
) -> None:
    hers = due(session, person("lan"))
    assert client.get("/notifications").status_code == 401
    listed = client.get("/api/v1/notifications")
    assert listed.status_code == 401 and listed.json()["error"]["code"] == "sign_in_required"
    marked = client.post(f"/api/v1/notifications/{hers}/read")
    assert marked.status_code == 401 and read_at(session, hers) is None


def test_the_api_pages_newest_first_in_the_accounts_language(
    client: TestClient, session: Session, person: Callable[..., User], signed_in: Callable[[User], str]
) -> None:
    tom = person("tom", language="en")
    ids = [due(session, tom, f"R-{i}") for i in range(5)]
    csrf = signed_in(tom)
    first = client.get("/api/v1/notifications", params={"limit": 3}).json()
    assert [n["id"] for n in first["items"]] == ids[::-1][:3]
    assert first["items"][0]["subject"] == "Report due: R-4" and first["items"][0]["read_at"] is None
    rest = client.get("/api/v1/notifications", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [n["id"] for n in rest["items"]] == ids[::-1][3:] and rest["next_cursor"] is None
    marked = client.post(f"/api/v1/notifications/{ids[0]}/read", headers={"X-CSRF-Token": csrf})
    assert marked.status_code == 200 and marked.json()["read_at"] is not None and marked.json()["id"] == ids[0]
    unread = client.get("/api/v1/notifications", params={"unread": "true"}).json()
    assert ids[0] not in [n["id"] for n in unread["items"]] and len(unread["items"]) == 4
    no_token = client.post(f"/api/v1/notifications/{ids[1]}/read")
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf_failed"
    bad = client.get("/api/v1/notifications", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    assert client.get("/api/v1/notifications", params={"limit": 0}).status_code == 422


def test_an_administrators_password_reset_tells_the_person(
    client: TestClient, session: Session, person: Callable[..., User], signed_in: Callable[[User], str]
) -> None:
    lan = person("lan", email="lan@vpcp.gov.vn")
    minh = person("minh", role="administrator")
    csrf = signed_in(minh)
    new = "another horse battery"
    done = client.post(
        "/admin/users/lan/password",
        data={"csrf_token": csrf, "password": new, "password_again": new},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (told,) = service.inbox(session=session, user=lan).items
    assert told.kind == "password_changed" and told.subject == "Mật khẩu của bạn đã được đổi"
    assert "Mật khẩu của tài khoản lan đã được đổi lúc" in told.body and "do minh thực hiện" in told.body
    session.expire_all()
    assert session.scalar(select(Notification.email_state).where(Notification.id == told.id)) == "pending"
    # The administrator is not told about someone else's password.
    assert service.inbox(session=session, user=minh).items == []
