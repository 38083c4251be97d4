"""Malformed bodies found by attack: each gets a clear 4xx in the one error shape, never a 500, and nothing is stored.

A rejected submission keeps its receipt; the same request again (same Idempotency-Key) answers the same.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.exchange import service
from govops.exchange.models import Submission
from govops.warehouse.models import Observation


def _row(value: str = "1", *, indicator: str = "BUDGET_REVENUE", dims: str = "{}") -> str:
    return f'{{"indicator": "{indicator}", "area": "VN", "period": "2026-09", "value": {value}, "dims": {dims}}}'


def _doc(*rows: str) -> str:
    return '{"observations": [' + ", ".join(rows) + "]}"


DEEP = "[" * 1000 + "]" * 1000
DEEP_DIMS = '{"a": ' * 1000 + '"x"' + "}" * 1000
HUGE_INT = "9" * 5000
CSV_HEADER = "indicator,area,period,value\n"

# name: (media type, body, where the problem is, what the problem says)
ATTACKS: dict[str, tuple[str, str, str, str]] = {
    "json nested 1,000 deep": ("application/json", _doc(DEEP), "submission", "nested too deeply"),
    "dims nested 1,000 deep": ("application/json", _doc(_row(dims=DEEP_DIMS)), "submission", "nested too deeply"),
    "ndjson nested 1,000 deep": (
        "application/x-ndjson",
        _row() + "\n" + _row(dims=DEEP_DIMS) + "\n",
        "submission, line 2",
        "nested too deeply",
    ),
    "a 5,000-digit integer": ("application/json", _doc(_row(HUGE_INT)), "submission", "5,000 digits"),
    "a 5,000-digit integer in ndjson": (
        "application/x-ndjson",
        _row(HUGE_INT) + "\n",
        "submission, line 1",
        "5,000 digits",
    ),
    "a csv field over 131,072 bytes": (
        "text/csv",
        CSV_HEADER + 'BUDGET_REVENUE,VN,2026-09,"' + "1" * 140_000 + "\n",
        "submission, line 2",
        "field larger than field limit",
    ),
}

# name: (body, the value the problem shows)
NON_FINITE = {
    "1e400": (_doc(_row("1e400")), "Infinity"),
    "NaN": (_doc(_row("NaN")), "NaN"),
    "-Infinity": (_doc(_row("-Infinity")), "-Infinity"),
}


@pytest.fixture
def key(session: Session) -> str:
    member = service.create_member(session=session, agency="MOF", system="tabmis", name="")
    service.grant(session=session, member=member, group="PUBLIC_FINANCE", read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _post(client: TestClient, key: str, media: str, body: str, idem: str) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": media, "Idempotency-Key": idem}
    return client.post("/api/v1/submissions", content=body.encode(), headers=headers)


def _observations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Observation)) or 0


def _rejected_and_replayed(session: Session, client: TestClient, key: str, media: str, body: str) -> dict[str, Any]:
    """The first answer, after checking that nothing was stored and that a retry answers the same."""
    before = _observations(session)
    first = _post(client, key, media, body, "attack-1")
    assert first.status_code == 422, first.text
    assert _observations(session) == before
    again = _post(client, key, media, body, "attack-1")
    assert (again.status_code, again.json()) == (422, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    answer: dict[str, Any] = first.json()
    stored = client.get(f"/api/v1/submissions/{answer['submission']['id']}", headers={"Authorization": f"Bearer {key}"})
    assert stored.status_code == 200 and stored.json() == answer["submission"]
    return answer


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_unreadable_body_is_rejected_with_its_receipt_and_the_retry_answers_the_same(
    session: Session, client: TestClient, key: str, attack: str
) -> None:
    media, body, where, says = ATTACKS[attack]
    answer = _rejected_and_replayed(session, client, key, media, body)
    assert answer["error"]["code"] == "rejected"
    assert answer["error"]["message"] == "the body cannot be read; nothing was stored"
    [problem] = answer["error"]["problems"]
    assert problem["where"] == where and says in problem["message"], problem
    assert problem["hint"]
    assert answer["submission"]["status"] == "rejected"


@pytest.mark.parametrize("literal", list(NON_FINITE))
def test_a_value_that_is_not_a_finite_number_is_rejected_and_shown_as_text(
    session: Session, client: TestClient, key: str, literal: str
) -> None:
    body, shown = NON_FINITE[literal]
    answer = _rejected_and_replayed(session, client, key, "application/json", body)
    [problem] = answer["error"]["problems"]
    assert (problem["row"], problem["field"], problem["value"]) == (1, "value", shown)
    assert "finite number" in problem["message"]


def test_a_lone_surrogate_in_a_code_is_rejected_and_shown_escaped(
    session: Session, client: TestClient, key: str
) -> None:
    body = _doc(_row(indicator="BUDGET_REVENUE\\ud800", dims='{"\\udc00": "\\ud800"}'))
    answer = _rejected_and_replayed(session, client, key, "application/json", body)
    problems = answer["error"]["problems"]
    assert {p["field"] for p in problems} >= {"indicator"}
    indicator = next(p for p in problems if p["field"] == "indicator")
    assert indicator["value"] == "BUDGET_REVENUE\\ud800"
    assert "surrogate" in indicator["hint"]


def test_a_non_finite_value_in_a_csv_is_rejected(session: Session, client: TestClient, key: str) -> None:
    body = CSV_HEADER + "BUDGET_REVENUE,VN,2026-09,1e400\nBUDGET_REVENUE,VN,2026-08,NaN\n"
    answer = _rejected_and_replayed(session, client, key, "text/csv", body)
    assert [(p["row"], p["field"]) for p in answer["error"]["problems"]] == [(2, "value"), (3, "value")]


# POST /api/v1/observations is the same submission path: the same answers, the same receipts.


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_doc(DEEP), "nested too deeply"),
        (_doc(_row(dims=DEEP_DIMS)), "nested too deeply"),
        (_doc(_row(HUGE_INT)), "5,000 digits"),
        (_doc(_row("9" * 4000)), "valid number"),
        (_doc(_row("1e400")), "finite number"),
        (_doc(_row("NaN")), "finite number"),
        (_doc(_row("-Infinity")), "finite number"),
        (_doc(_row(indicator="X\\ud800")), "surrogate"),
    ],
    ids=["nested", "nested dims", "5,000 digits", "4,000 digits", "1e400", "NaN", "-Infinity", "surrogate"],
)
def test_a_malformed_batch_of_observations_gets_a_clear_4xx(
    session: Session, client: TestClient, key: str, body: str, says: str
) -> None:
    before = _observations(session)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Idempotency-Key": "batch-1"}
    response = client.post("/api/v1/observations", content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    # Strict JSON: no NaN or Infinity literal, no lone surrogate.
    answer = json.loads(response.content.decode("utf-8"), parse_constant=pytest.fail)
    assert answer["error"]["code"] == "rejected"
    assert any(says in p["message"] + (p["hint"] or "") for p in answer["error"]["problems"]), answer
    assert _observations(session) == before
    again = client.post("/api/v1/observations", content=body.encode(), headers=headers)
    assert (again.status_code, again.json()) == (422, answer)


def test_a_receipt_stored_with_a_non_finite_value_by_an_earlier_version_is_still_shown_and_replayed(
    session: Session, client: TestClient, key: str
) -> None:
    first = _post(client, key, "application/json", NON_FINITE["NaN"][0], "old-receipt").json()
    stored = session.get(Submission, first["submission"]["id"])
    assert stored is not None
    stored.problems = '[{"message": "value must be a finite number", "row": 1, "field": "value", "value": NaN}]'
    session.flush()
    again = client.get(f"/api/v1/submissions/{stored.id}", headers={"Authorization": f"Bearer {key}"})
    assert again.status_code == 200, again.text
    assert again.json()["problems"] == [
        {"code": "invalid", "message": "value must be a finite number", "row": 1, "where": None, "field": "value",
         "value": "NaN", "hint": None}
    ]  # fmt: skip
    replay = _post(client, key, "application/json", NON_FINITE["NaN"][0], "old-receipt")
    assert replay.status_code == 422 and replay.json()["submission"] == again.json()
