"""The tasks console over HTTP: the leader's view, the board, the scorecard, a task's page with its forms, and a
directive entered from its text; Vietnamese by default, English on request."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.auth.service import create_user
from govops.tasks import service
from govops.tasks.models import Directive, Task
from govops.tasks.schemas import ProgressIn
from tests.tasks.conftest import task_in
from tests.web.language import english_sentences

PASSWORD = "correct horse battery"
TEXT = (
    "1. Bộ Tài chính chủ trì, phối hợp với Bộ Tư pháp hoàn thiện hồ sơ dự án Luật, trình Chính phủ trước ngày "
    "30/6/2099.\n2. Bộ Y tế tổng hợp số ca bệnh, báo cáo hằng tháng.\n"
)


@pytest.fixture
def sign_in(client: TestClient, session: Session) -> Callable[[str, str, str], TestClient]:
    def as_user(username: str, agency: str, role: str) -> TestClient:
        create_user(session=session, username=username, password=PASSWORD, full_name=username, agency=agency, role=role)
        client.cookies.clear()
        page = client.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        answer = client.post(
            "/signin",
            data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return client

    return as_user


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_leader_sees_overdue_tasks_first_in_vietnamese_and_english(
    session: Session, directive: Directive, office: service.Caller, sign_in: Callable[[str, str, str], TestClient]
) -> None:
    today = date.today()
    late = service.create_task(session=session, data=task_in(deadline=today - timedelta(days=40)), who=office)
    later = service.create_task(session=session, data=task_in(deadline=today + timedelta(days=90)), who=office)
    web = sign_in("pm.office", "GO", "viewer")
    page = web.get("/tasks/leader")
    assert page.status_code == 200
    assert "Quá hạn" in page.text or "quá hạn" in page.text
    assert page.text.index(f'data-testid="task-{late.id}"') < page.text.index(f'data-testid="task-{later.id}"')
    assert "40 ngày quá hạn" in page.text
    english = web.get("/tasks/leader?lang=en")
    assert "Open, overdue" in english.text and "40 days overdue" in english.text
    board = web.get("/tasks", params={"status": "open_overdue"})
    assert f'data-testid="task-{late.id}"' in board.text and f'data-testid="task-{later.id}"' not in board.text
    card = web.get("/tasks/scorecard", params={"agency": "MOF"})
    assert card.status_code == 200 and 'data-testid="ranking"' in card.text and "MOF" in card.text
    export = web.get("/tasks/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_an_officer_reports_on_their_own_task_and_not_on_others(
    session: Session, directive: Directive, office: service.Caller, sign_in: Callable[[str, str, str], TestClient]
) -> None:
    task = service.create_task(session=session, data=task_in(deadline=date.today() + timedelta(days=30)), who=office)
    web = sign_in("btc.officer", "MOF", "data_officer")
    page = web.get(f"/tasks/{task.id}")
    assert 'data-testid="report-form"' in page.text
    sent = web.post(
        f"/tasks/{task.id}/report",
        data={"csrf_token": csrf(page.text), "percent": "60", "text": "Đã gửi lấy ý kiến", "health": "amber"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    after = web.get(f"/tasks/{task.id}")
    assert "60%" in after.text and "Đã gửi lấy ý kiến" in after.text
    # Audited as the API's report is, naming the person.
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "task.progress")).all()
    assert [(a.target, a.actor) for a in audited] == [(str(task.id), "btc.officer")]
    other = sign_in("bct.officer", "MOIT", "data_officer")
    page = other.get(f"/tasks/{task.id}")
    assert 'data-testid="report-form"' not in page.text
    refused = other.post(
        f"/tasks/{task.id}/report",
        data={"csrf_token": csrf(page.text), "percent": "90", "text": "x"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert f"nhiệm vụ {task.id} do MOF chủ trì; MOIT không được báo cáo" in refused.text
    assert len(service.reports(session=session, task_id=task.id)) == 1
    # A value the form never offers: the page again, the field named in Vietnamese, nothing stored.
    mine = sign_in("btc.officer2", "MOF", "data_officer")
    page = mine.get(f"/tasks/{task.id}")
    odd = mine.post(
        f"/tasks/{task.id}/report",
        data={"csrf_token": csrf(page.text), "percent": "70", "text": "x", "health": "purple"},
    )
    assert odd.status_code == 422 and "trường Mức độ chưa hợp lệ" in odd.text
    assert len(service.reports(session=session, task_id=task.id)) == 1


def test_a_directive_is_entered_from_its_text_and_its_tasks_confirmed(
    session: Session, sign_in: Callable[[str, str, str], TestClient]
) -> None:
    web = sign_in("vpcp.analyst", "GO", "analyst")
    form = web.get("/directives/new")
    fields = {
        "csrf_token": csrf(form.text),
        "kind": "resolution",
        "number": "77/NQ-CP-T",
        "signed_on": date.today().isoformat(),
        "signer": "Thủ tướng",
        "title": "Nghị quyết thử",
        "text": TEXT,
    }
    preview = web.post("/directives/new", data={**fields, "action": "preview"})
    assert preview.status_code == 200
    assert 'value="MOF"' in preview.text and 'value="MOJ"' in preview.text and 'value="2099-06-30"' in preview.text
    assert session.scalar(select(Directive).where(Directive.number == "77/NQ-CP-T")) is None
    confirmed = web.post(
        "/directives/new",
        data={
            **fields,
            "action": "confirm",
            "take_0": "1",
            "lead_0": "MOF",
            "coordinating_0": "MOJ",
            "deadline_0": "2099-06-30",
            "recurrence_0": "once",
        },
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    stored = session.scalar(select(Directive).where(Directive.number == "77/NQ-CP-T"))
    assert stored is not None
    tasks = session.scalars(select(Task).where(Task.directive_id == stored.id)).all()
    assert [(t.lead.code, t.deadline) for t in tasks] == [("MOF", date(2099, 6, 30))]
    audited = session.execute(
        select(AuditEntry.action, AuditEntry.target).where(AuditEntry.actor == "vpcp.analyst").order_by(AuditEntry.id)
    ).all()
    assert [tuple(a) for a in audited if a[0] != "auth.sign_in"] == [
        ("directive.created", "77/NQ-CP-T"),
        ("task.created", str(tasks[0].id)),
    ]
    page = web.get(confirmed.headers["location"])
    assert "77/NQ-CP-T" in page.text and 'data-testid="directive-tasks"' in page.text
    missing = web.get("/directives/999999")
    assert missing.status_code == 404 and "không có văn bản chỉ đạo 999999" in missing.text
    no_task = web.get("/tasks/999999")
    assert no_task.status_code == 404 and "không có nhiệm vụ 999999" in no_task.text
    bad_filter = web.get("/tasks", params={"status": "lost"})
    assert "không có trạng thái lost" in bad_filter.text and "unknown status" not in bad_filter.text


def test_a_directive_form_with_a_field_left_empty_names_it_in_vietnamese_and_stores_nothing(
    session: Session, sign_in: Callable[[str, str, str], TestClient]
) -> None:
    web = sign_in("vpcp.analyst", "GO", "analyst")
    form = web.get("/directives/new")
    refused = web.post(
        "/directives/new",
        data={
            "csrf_token": csrf(form.text),
            "kind": "resolution",
            "number": "",
            "signed_on": date.today().isoformat(),
            "signer": "Thủ tướng",
            "title": "Nghị quyết thử",
            "text": TEXT,
            "action": "confirm",
        },
    )
    assert refused.status_code == 422
    assert "trường Số hiệu chưa hợp lệ" in refused.text and "not accepted" not in refused.text
    assert session.scalar(select(Directive).where(Directive.title == "Nghị quyết thử")) is None


def test_the_calendar_puts_each_task_on_its_day_coloured_by_status_and_keeps_the_filters(
    session: Session,
    directive: Directive,
    office: service.Caller,
    finance: service.Caller,
    sign_in: Callable[[str, str, str], TestClient],
) -> None:
    today = date.today()
    first = today.replace(day=1)
    late = service.create_task(session=session, data=task_in(deadline=first), who=office)
    coming = service.create_task(session=session, data=task_in(deadline=first + timedelta(days=40)), who=office)
    crowded = [
        service.create_task(session=session, data=task_in(lead="MOIT", text=f"Việc {i}", deadline=first), who=office)
        for i in range(5)
    ]
    done = ProgressIn(percent=100, text="xong", evidence="CV 1/BTC", done=True)
    service.report_progress(session=session, task_id=late.id, data=done, who=finance)
    web = sign_in("vpcp.viewer", "GO", "viewer")
    page = web.get("/tasks/calendar")
    assert page.status_code == 200
    assert f"Tháng {first.month}/{first.year}" in page.text and "Lịch thời hạn nhiệm vụ" in page.text
    day = page.text.split(f'data-day="{first.isoformat()}"')[1].split('<li class="day')[0]
    # The closed task is shown after the open ones, and only four a day: the rest behind a link to the list.
    assert f'data-testid="cal-task-{crowded[0].id}"' in day and f'data-testid="cal-task-{late.id}"' not in day
    assert day.count('class="cal-task"') == 4 and "+2 nhiệm vụ khác" in day
    assert f"due_from={first.isoformat()}&amp;due_to={first.isoformat()}" in day
    assert f'data-testid="cal-task-{coming.id}"' not in page.text  # next month's
    assert "6 nhiệm vụ đến hạn trong tháng này." in page.text
    # One agency's tasks: the filter holds on the month's links.
    mof = web.get("/tasks/calendar", params={"agency": "MOF", "month": first.strftime("%Y-%m")})
    assert f'data-testid="cal-task-{late.id}" ' not in mof.text and 'data-status="done_on_time"' in mof.text
    assert f'data-testid="cal-task-{crowded[0].id}"' not in mof.text
    following = f"{(first + timedelta(days=40)).strftime('%Y-%m')}"
    assert f'href="/tasks/calendar?agency=MOF&amp;month={following}"' in mof.text
    ahead = web.get(f"/tasks/calendar?agency=MOF&month={following}")
    assert f'data-testid="cal-task-{coming.id}"' in ahead.text and 'data-status="open_in_time"' in ahead.text
    # The board links to the calendar with its filters, the calendar back to the list of the month.
    board = web.get("/tasks", params={"agency": "MOF", "status": "open_in_time"})
    assert 'href="/tasks/calendar?agency=MOF&amp;status=open_in_time"' in board.text
    empty = web.get("/tasks/calendar", params={"agency": "MOF", "month": "2001-01"})
    assert "Không có nhiệm vụ nào đến hạn trong tháng này" in empty.text
    english = web.get("/tasks/calendar", params={"month": first.strftime("%Y-%m"), "lang": "en"})
    assert "Calendar of deadlines" in english.text and "Mon" in english.text and "+2 more" in english.text
    wrong = web.get("/tasks/calendar", params={"month": "2025-13", "lang": "vi"})
    assert wrong.status_code == 400 and "2025-13 không phải là một tháng" in wrong.text


def test_every_tasks_page_reads_in_vietnamese_with_data_in_every_state_and_on_every_refusal(
    session: Session,
    directive: Directive,
    office: service.Caller,
    finance: service.Caller,
    sign_in: Callable[[str, str, str], TestClient],
) -> None:
    today = date.today()
    slipped = service.create_task(
        session=session,
        data=task_in(deadline=today - timedelta(days=3), indicators=[{"indicator": "CPI", "target": 4.0}]),
        who=office,
        today=today - timedelta(days=10),
    )
    service.report_progress(
        session=session,
        task_id=slipped.id,
        data=ProgressIn(percent=30, text="Đang thực hiện", evidence="CV 1/BTC", health="amber"),
        who=finance,
        channel="webhook",
    )
    service.watch(session=session)
    asked = service.request_extension(
        session=session, task_id=slipped.id, deadline=today + timedelta(days=20), reason="Chờ ý kiến", who=finance
    )
    done = service.create_task(session=session, data=task_in(deadline=today + timedelta(days=9)), who=office)
    service.report_progress(
        session=session,
        task_id=done.id,
        data=ProgressIn(percent=100, text="Xong", evidence="CV 2/BTC", done=True),
        who=finance,
    )
    service.evaluate(session=session, task_id=done.id, quality=4, note="Tốt", who=office)
    web = sign_in("vpcp.analyst", "GO", "analyst")
    pages = [
        "/tasks/leader",
        "/tasks",
        "/tasks?status=due_soon",
        "/tasks/calendar",
        "/tasks/scorecard",
        "/tasks/scorecard?agency=MOF",
        f"/tasks/{slipped.id}",
        f"/tasks/{done.id}",
        "/directives",
        f"/directives/{directive.id}",
        "/directives/new",
        # Refusals, worded by the catalogue.
        "/tasks?agency=NOPE",
        "/tasks/calendar?month=2025-13",
        "/tasks/scorecard?period=2025-13",
        "/tasks/999999",
        "/directives/999999",
    ]
    for path in pages:
        page = web.get(path)
        assert page.status_code < 500, path
        assert english_sentences(page.text) == [], path
    task_page = web.get(f"/tasks/{slipped.id}").text
    for kind in ("assigned", "report", "health", "overdue", "extension_requested"):
        assert f'data-kind="{kind}"' in task_page
    # A form refused: the problem in Vietnamese, in the page.
    form = web.get("/directives/new")
    preview = web.post("/directives/new", data={"csrf_token": csrf(form.text), "text": TEXT, "action": "preview"})
    assert english_sentences(preview.text) == []
    refused = web.post(
        f"/tasks/{slipped.id}/extension/{asked.id}",
        data={"csrf_token": csrf(task_page), "approve": "yes"},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    again = web.post(
        f"/tasks/{slipped.id}/extension/{asked.id}", data={"csrf_token": csrf(task_page), "approve": "yes"}
    )
    assert again.status_code == 409 and english_sentences(again.text) == []
    wrong = web.post(
        f"/tasks/{slipped.id}/indicators",
        data={"csrf_token": csrf(task_page), "indicator": "NO_SUCH", "area": "99", "target": "1"},
    )
    assert wrong.status_code == 422 and "Không có chỉ tiêu mã &#39;NO_SUCH&#39;" in wrong.text
    assert english_sentences(wrong.text) == []
