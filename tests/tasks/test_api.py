"""The tasks API over HTTP: a directive entered from its text, tasks confirmed, progress by the lead agency's
system, an extension granted by the Government Office, and the summary figures moving."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.exchange import service as exchange
from govops.paging import encode_cursor
from govops.tasks.models import Task, TaskIndicator, TaskReport

TEXT = (
    "1. Bộ Tài chính chủ trì, phối hợp với Bộ Tư pháp hoàn thiện hồ sơ dự án Luật Quản lý thuế (sửa đổi), "
    "trình Chính phủ trước ngày 30/6/2099.\n"
    "2. Bộ Công Thương theo dõi sát tình hình thị trường xăng dầu, báo cáo Thủ tướng Chính phủ hằng tháng.\n"
)


def key(session: Session, agency: str) -> dict[str, str]:
    member = exchange.create_member(session=session, agency=agency, system=f"qlvb-{agency.lower()}", name="")
    return {"Authorization": f"Bearer {exchange.issue_key(session=session, member=member).key}"}


def enter_directive(client: TestClient, office: dict[str, str]) -> list[dict[str, Any]]:
    made = client.post(
        "/api/v1/directives",
        headers=office,
        json={
            "kind": "resolution",
            "number": "01/NQ-CP-T",
            "title": "Nghị quyết phiên họp Chính phủ thường kỳ",
            "signed_on": date.today().isoformat(),
            "signer": "Thủ tướng",
        },
    )
    assert made.status_code == 201, made.text
    proposed = client.post("/api/v1/directives/extract", headers=office, json={"text": TEXT, "year": 2099})
    assert proposed.status_code == 200, proposed.text
    tasks = proposed.json()["tasks"]
    assert [(t["lead"], t["coordinating"], t["deadline"], t["recurrence"]) for t in tasks] == [
        ("MOF", ["MOJ"], "2099-06-30", "once"),
        ("MOIT", [], None, "monthly"),
    ]
    confirmed = []
    for task in tasks:
        body = {
            "directive": "01/NQ-CP-T",
            "text": task["text"],
            "lead": task["lead"],
            "coordinating": task["coordinating"],
            "deadline": task["deadline"],
            "recurrence": task["recurrence"],
        }
        answer = client.post("/api/v1/tasks", headers=office, json=body)
        assert answer.status_code == 201, answer.text
        confirmed.append(answer.json())
    return confirmed


def test_a_directive_is_entered_from_its_text_and_its_lead_reports_and_gets_an_extension(
    session: Session, client: TestClient
) -> None:
    office, finance, industry = key(session, "GO"), key(session, "MOF"), key(session, "MOIT")
    law, fuel = enter_directive(client, office)
    assert (law["status"], fuel["status"], fuel["due_on"]) == ("open_in_time", "open_in_time", fuel["due_on"])

    refused = client.post(f"/api/v1/tasks/{law['id']}/progress", headers=industry, json={"percent": 50, "text": "x"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == f"task {law['id']} is led by MOF; MOIT may not report on it"
    reported = client.post(
        f"/api/v1/tasks/{law['id']}/progress",
        headers={**finance, "X-Govops-Source": "edoc"},
        json={"percent": 40, "text": "Đã lấy ý kiến các bộ", "health": "amber"},
    )
    assert reported.status_code == 201, reported.text
    assert (reported.json()["task"]["progress"], reported.json()["task"]["health"]) == (40.0, "amber")
    channels = session.scalars(select(TaskReport.channel).where(TaskReport.task_id == law["id"])).all()
    assert channels == ["webhook"]

    asked = client.post(
        f"/api/v1/tasks/{law['id']}/extension",
        headers=finance,
        json={"deadline": "2099-09-30", "reason": "Chờ ý kiến thẩm định của Bộ Tư pháp"},
    )
    assert asked.status_code == 201, asked.text
    decision = f"/api/v1/tasks/{law['id']}/extension/{asked.json()['id']}/decision"
    assert client.post(decision, headers=finance, json={"approve": True}).status_code == 403
    granted = client.post(decision, headers=office, json={"approve": True, "note": "Đồng ý"})
    assert granted.json()["state"] == "approved"

    detail = client.get(f"/api/v1/tasks/{law['id']}", headers=office).json()
    assert (detail["task"]["deadline"], detail["task"]["original_deadline"]) == ("2099-09-30", "2099-06-30")
    assert [e["kind"] for e in detail["timeline"]] == [
        "assigned",
        "report",
        "health",
        "extension_requested",
        "extension_approved",
    ]
    done = client.post(
        f"/api/v1/tasks/{law['id']}/progress",
        headers=finance,
        json={"percent": 100, "text": "Đã trình Chính phủ", "evidence": "Tờ trình 99/TTr-BTC", "done": True},
    )
    assert done.json()["task"]["status"] == "done_on_time"
    closed = client.post(
        f"/api/v1/tasks/{law['id']}/extension", headers=finance, json={"deadline": "2099-12-31", "reason": "r"}
    )
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "task_closed")

    evaluated = client.post(f"/api/v1/tasks/{law['id']}/evaluation", headers=office, json={"quality": 4})
    assert evaluated.json()["quality"] == 4
    feed = client.get("/api/v1/changes", headers=finance, params={"topic": "tasks"}).json()["items"]
    assert [(e["type"], e["payload"].get("state") or e["payload"].get("status")) for e in feed] == [
        ("tasks.extension", "pending"),
        ("tasks.extension", "approved"),
        ("tasks.done", "done_on_time"),
    ]
    assert client.get("/api/v1/changes", headers=industry, params={"topic": "tasks"}).json()["items"] == []
    figures = client.get("/api/v1/tasks/summary", headers=office, params={"agency": "MOF"}).json()
    assert (figures["overall"]["assigned"], figures["overall"]["done_on_time"]) == (1, 1)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("task%"))).all()
    assert "task.extension.approved" in actions


def test_a_bad_task_is_refused_with_each_field_and_nothing_stored(session: Session, client: TestClient) -> None:
    office = key(session, "GO")
    enter_directive(client, office)
    before = session.scalar(select(func.count()).select_from(Task))
    early = (date.today() - timedelta(days=3)).isoformat()
    answer = client.post(
        "/api/v1/tasks", headers=office, json={"directive": "01/NQ-CP-T", "text": "Việc", "deadline": early}
    )
    assert answer.status_code == 422
    problems = [(p["field"], p["message"]) for p in answer.json()["error"]["problems"]]
    assert problems[0] == ("lead", "a task needs a lead agency")
    assert problems[1][0] == "deadline" and "is before the directive was signed" in problems[1][1]
    assert session.scalar(select(func.count()).select_from(Task)) == before


def test_tasks_need_credentials(client: TestClient) -> None:
    answer = client.get("/api/v1/tasks")
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "unauthorized")


def test_a_province_may_not_enter_a_directive(session: Session, client: TestClient) -> None:
    answer = client.post(
        "/api/v1/directives",
        headers=key(session, "PC-01"),
        json={"kind": "decision", "number": "9/QĐ-X", "title": "t", "signed_on": "2025-01-01", "signer": "s"},
    )
    assert answer.status_code == 403
    assert "only the Government Office" in answer.json()["error"]["message"]


def test_edge_values_get_a_4xx_with_credentials(session: Session, client: TestClient) -> None:
    office = key(session, "GO")
    big = encode_cursor(2**63)
    for path, params in (
        ("/api/v1/tasks", {"cursor": big}),
        ("/api/v1/directives", {"cursor": big}),
        ("/api/v1/tasks", {"status": "\x00"}),
        ("/api/v1/tasks", {"agency": "NOPE"}),
        ("/api/v1/tasks/summary", {"period": "2025-13"}),
        (f"/api/v1/tasks/{2**63}", {}),
        ("/api/v1/tasks/0", {}),
    ):
        answer = client.get(path, headers=office, params=params)
        assert 400 <= answer.status_code < 500, (path, params, answer.text)
        assert answer.json()["error"]["code"]


def test_the_government_office_ties_a_task_to_an_indicator_target_and_nothing_else_may(
    session: Session, client: TestClient
) -> None:
    office, finance = key(session, "GO"), key(session, "MOF")
    law = enter_directive(client, office)[0]
    path = f"/api/v1/tasks/{law['id']}/indicators"
    target = {"indicator": "PI_DISBURSED", "area": "VN", "target": 50000}
    refused = client.post(path, headers=finance, json=target)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    unknown = client.post(path, headers=office, json={**target, "indicator": "NO_SUCH", "area": "99"})
    assert unknown.status_code == 422
    problems = [(p["field"], p["value"]) for p in unknown.json()["error"]["problems"]]
    assert problems == [("indicators", "NO_SUCH"), ("indicators", "99")]
    linked = client.post(path, headers=office, json=target)
    assert linked.status_code == 201, linked.text
    assert [(i["indicator"], i["target"], i["at_least"], i["reached_on"]) for i in linked.json()] == [
        ("PI_DISBURSED", 50000.0, True, None)
    ]
    again = client.post(path, headers=office, json=target)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "duplicate_indicator")
    detail = client.get(f"/api/v1/tasks/{law['id']}", headers=office).json()
    assert [i["indicator"] for i in detail["indicators"]] == ["PI_DISBURSED"]
    assert detail["timeline"][-1]["kind"] == "indicator_linked"
    assert session.scalar(select(func.count()).select_from(TaskIndicator)) == 1
