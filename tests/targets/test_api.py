"""The targets API over HTTP: the Government Office enters a target with its cascade (a province's system may
not), a target that cannot hold is refused with its problems in the reader's language and nothing written; the
list, the board (national and a province's) and a target's progress read back."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.targets.models import Target
from tests.targets.test_service import history, target
from tests.tasks.test_api import key

__all__ = ["history"]


def body(**changes: object) -> dict[str, object]:
    return target(**changes).model_dump(mode="json")


def test_the_government_office_enters_a_target_and_the_board_and_progress_read_it_back(
    session: Session, client: TestClient, history: None
) -> None:
    office, city = key(session, "GO"), key(session, "PC-79")
    assert client.post("/api/v1/targets", json=body()).status_code == 401
    refused = client.post("/api/v1/targets", headers=city, json=body())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    made = client.post("/api/v1/targets", headers=office, json=body())
    assert made.status_code == 201, made.text
    [national] = made.json()
    assert (national["code"], national["level"], national["agencies"], national["rating"]) == (
        "EXP-2026",
        "nation",
        ["MOIT"],
        "on_track",
    )

    listed = client.get("/api/v1/targets", params={"year": 2026, "limit": 2}).json()
    assert [t["code"] for t in listed["items"]] == ["EXP-2026", "EXP-2026.01"] and listed["next_cursor"]
    more = client.get("/api/v1/targets", params={"year": 2026, "cursor": listed["next_cursor"]}).json()
    assert [t["code"] for t in more["items"]] == ["EXP-2026.79"]
    assert more["items"][0]["parent"] == "EXP-2026" and more["items"][0]["agencies"] == ["PC-79"]

    board = client.get("/api/v1/targets/board", params={"year": 2026}).json()
    assert [(r["code"], r["rating"], r["as_of"]) for r in board] == [("EXP-2026", "on_track", "2026-08")]
    assert len(board[0]["sparkline"]) == 12 and board[0]["sparkline"][-1]["required"] == national["value"]
    province = client.get("/api/v1/targets/board", params={"year": 2026, "area": "79"}).json()
    assert [r["code"] for r in province] == ["EXP-2026.79"]

    progress = client.get(f"/api/v1/targets/{national['id']}/progress").json()
    assert progress["method"] == "history" and progress["actual_kind"] == "ytd"
    assert progress["probability"] > 0.9 and progress["category"] in ("on_track", "acceleration_needed")
    assert progress["history"][0]["rating"] == "on_track"
    assert client.get("/api/v1/targets/999999/progress").status_code == 404


def test_a_target_that_cannot_hold_is_refused_in_the_reader_s_language_and_nothing_is_written(
    session: Session, client: TestClient, history: None
) -> None:
    office = key(session, "GO")
    before = session.scalar(select(func.count()).select_from(Target))
    wrong = client.post(
        "/api/v1/targets",
        headers=office | {"Accept-Language": "vi"},
        json=[body(code="A-2026"), body(code="B-2026", unit="PCT", period="2026-W10")],
    )
    assert wrong.status_code == 422, wrong.text
    problems = wrong.json()["error"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "unit"), (2, "period")]
    assert "đo bằng MN_USD" in next(p["message"] for p in problems if p["field"] == "unit")
    english = client.post("/api/v1/targets", headers=office, json=body(unit="PCT"))
    assert english.json()["error"]["problems"][0]["message"] == (
        "the target is in PCT but EXPORTS is measured in MN_USD"
    )
    assert session.scalar(select(func.count()).select_from(Target)) == before
