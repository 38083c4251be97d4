"""The audit trail in the console: /admin/audit, for administrators only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.audit.service import record

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)">', html)]


def next_link(html: str) -> str | None:
    found = re.search(r'rel="next" data-testid="audit-next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def fill(session: Session) -> list[int]:
    """Sixty entries, an hour apart from 1 July 2025 08:00 UTC, in place of any others; their ids."""
    session.execute(delete(AuditEntry))
    for i in range(60):
        record(
            session=session,
            action="confidential.read" if i % 2 else "observations.write",
            actor_kind="user",
            actor="nguyen.van.a" if i % 3 else "tran.thi.c",
            agency="NSO",
            target="GDP_FLASH" if i % 2 else "CPI",
            detail={"i": i},
            ip="10.1.2.3",
            at=T0 + timedelta(hours=i),
        )
    return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_a_viewer_may_not_see_the_audit_trail(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    page = web.get("/admin/audit")
    assert page.status_code == 403 and "Bạn không có quyền xem trang này" in page.text
    assert sign_in("analyst").get("/admin/audit").status_code == 403


def test_anonymous_visitors_are_asked_to_sign_in(client: TestClient) -> None:
    assert client.get("/admin/audit").status_code == 401


def test_administration_links_to_the_audit_trail(sign_in: Callable[[str], TestClient]) -> None:
    page = sign_in("administrator").get("/admin")
    assert 'href="/admin/audit"' in page.text and "Nhật ký kiểm toán" in page.text


def test_the_trail_newest_first_filtered_and_paged(sign_in: Callable[[str], TestClient], session: Session) -> None:
    web = sign_in("administrator")
    ids = fill(session)
    page = web.get("/admin/audit")
    assert page.status_code == 200 and "<html" in page.text and "Nhật ký kiểm toán" in page.text
    shown = rows(page.text)
    assert shown == ids[::-1][:50]
    assert "{&#34;i&#34;:59}" in page.text and "10.1.2.3" in page.text
    link = next_link(page.text)
    assert link is not None and "cursor=" in link
    older = web.get(link)
    assert rows(older.text) == ids[::-1][50:] and next_link(older.text) is None
    assert "Mục mới nhất" in older.text  # back to the first page

    reads = web.get("/admin/audit", params={"action": "confidential.read", "actor": "tran.thi.c"})
    table = reads.text.split("<tbody>")[1]
    assert len(rows(table)) == 10  # i odd and a multiple of 3: 3, 9, ..., 57
    assert table.count("<td>tran.thi.c</td>") == 10 and table.count("<td>GDP_FLASH</td>") == 10
    assert "nguyen.van.a" not in table and "observations.write" not in table

    by_target = web.get("/admin/audit", params={"target": "CPI", "action": "observations"})
    assert len(rows(by_target.text)) == 30
    # From and to are days of the reader's clock (Asia/Ho_Chi_Minh, UTC+7), both included:
    # 2 July 00:00 to 23:00 there is 1 July 17:00 to 2 July 16:00 UTC, i = 9 ... 32.
    window = web.get("/admin/audit", params={"from": "2025-07-02", "to": "2025-07-02"})
    assert rows(window.text) == ids[32:8:-1]
    assert 'value="2025-07-02"' in window.text
    none = web.get("/admin/audit", params={"actor": "nobody"})
    assert rows(none.text) == [] and "Không có mục nào khớp với bộ lọc." in none.text


def test_htmx_gets_only_the_table(sign_in: Callable[[str], TestClient], session: Session) -> None:
    web = sign_in("administrator")
    fill(session)
    fragment = web.get("/admin/audit", params={"action": "observations.write"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'data-testid="audit-filters"' not in fragment.text
    assert len(rows(fragment.text)) == 30 and 'data-testid="audit-entries"' in fragment.text
    full = web.get("/admin/audit")
    assert 'hx-target="#audit-table"' in full.text and '<div id="audit-table">' in full.text
    paged = web.get("/admin/audit", headers={"HX-Request": "true"})
    link = next_link(paged.text)
    assert link is not None and f'hx-get="{link.replace("&", "&amp;")}"' in paged.text


def test_bad_filters_are_explained(sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("administrator")
    bad_date = web.get("/admin/audit", params={"from": "01/07/2025"})
    assert bad_date.status_code == 400 and "không phải là một ngày" in bad_date.text
    assert web.get("/admin/audit", params={"cursor": "nonsense!"}).status_code == 400


def test_the_page_is_in_english_too(sign_in: Callable[[str], TestClient]) -> None:
    page = sign_in("administrator").get("/admin/audit", params={"lang": "en"})
    assert "Audit trail" in page.text and "auth.sign_in" in page.text


def test_entries_read_as_labels_in_local_time_with_the_person_and_the_system(
    sign_in: Callable[[str], TestClient], session: Session
) -> None:
    session.execute(delete(AuditEntry))
    record(session=session, action="auth.sign_in", actor_kind="user", actor="nguyen.van.a", agency="PC-79",
           target="", detail={}, ip="10.1.2.3", at=T0)  # fmt: skip
    record(session=session, action="submission.accepted", actor_kind="user", actor="hcm.officer", agency="PC-79",
           target="sub-1", detail={"member": "PC-79/console"}, ip="10.1.2.3", at=T0)  # fmt: skip
    record(session=session, action="submission.rejected", actor_kind="member", actor="PC-79/ioc", agency="PC-79",
           target="sub-2", detail={}, ip="10.1.2.3", at=T0)  # fmt: skip
    web = sign_in("administrator")
    table = web.get("/admin/audit").text
    assert "Đăng nhập <small><code>auth.sign_in</code></small>" in table
    assert "Tiếp nhận số liệu gửi" in table and "Từ chối số liệu gửi" in table
    # 08:00 UTC is 15:00 in Hồ Chí Minh City, and the page says which clock it reads.
    assert table.count("2025-07-01 15:00:00 GMT+7") == 3 and "08:00:00" not in table
    assert "<td>hcm.officer <small>(qua PC-79/console)</small></td>" in table
    assert "<td>hệ thống PC-79/ioc</td>" in table
