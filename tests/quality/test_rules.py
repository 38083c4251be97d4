"""Validation rules: checked against the catalogue when saved (all or none), by YAML and over the API."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.errors import GovopsError
from govops.quality import service
from govops.quality.models import QualityRule
from govops.quality.schemas import RuleIn
from tests.quality.conftest import demo_rules, key


def rule(**given: Any) -> RuleIn:
    data: dict[str, Any] = {
        "code": "TEST_RULE",
        "name_vi": "Quy tắc thử",
        "name_en": "Test rule",
        "left": "DOMESTIC_REVENUE + TRADE_REVENUE",
        "operator": "<=",
        "right": "BUDGET_REVENUE",
        "tolerance": 0.01,
    }
    data.update(given)
    return RuleIn.model_validate(data)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(QualityRule)) or 0


def test_the_demo_rule_set_loads_and_exports_as_it_was_read(session: Session) -> None:
    saved = demo_rules(session)
    assert [(r.code, r.periodicity) for r in saved][:4] == [
        ("EXPORTS_PROVINCES_SUM", "M"),
        ("IMPORTS_PROVINCES_SUM", "M"),
        ("RETAIL_PROVINCES_SUM", "M"),
        ("EMPLOYED_WITHIN_LABOUR_FORCE", "Q"),
    ]
    exported = service.export_rules(session=session)
    again = {r.code: r for r in service.parse_rule_set(exported, where="export.yaml")}
    read = files("govops.quality").joinpath("demo_rules.yaml").read_text(encoding="utf-8")
    assert again == {r.code: r for r in service.parse_rule_set(read, where="demo_rules.yaml")}
    assert (
        again["EXPORTS_PROVINCES_SUM"].right == "children(EXPORTS)"
        and again["EXPORTS_PROVINCES_SUM"].tolerance == 0.005
    )
    # Saving the same codes again updates them; nothing is doubled.
    demo_rules(session)
    assert count(session) == 4


@pytest.mark.parametrize(
    ("given", "code", "where", "message"),
    [
        (
            {"left": "EXPORTS_TOTAL"},
            "unknown_indicator",
            "rules[1] TEST_RULE.left",
            "the left side names EXPORTS_TOTAL, which is not in the catalogue",
        ),
        (
            {"right": "BUDGET_REVENUE +"},
            "invalid_expression",
            "rules[1] TEST_RULE.right",
            "the right side, BUDGET_REVENUE +, is not a formula govops can read",
        ),
        (
            {"right": "import('os')"},
            "invalid_expression",
            "rules[1] TEST_RULE.right",
            "the right side, import('os'), is not a formula govops can read",
        ),
        (
            {"right": "GDP_CURRENT"},
            "mixed_frequencies",
            "rules[1] TEST_RULE.right",
            "the rule TEST_RULE reads values of different frequencies (M, Q)",
        ),
        (
            {"left": "EXPORTS", "right": "ENT_NEW"},
            "different_units",
            "rules[1] TEST_RULE.right",
            "the right side compares or adds usd with enterprises, which are different units",
        ),
        (
            {"left": "EXPORTS + ENT_NEW"},
            "different_units",
            "rules[1] TEST_RULE.left",
            "the left side compares or adds usd with enterprises, which are different units",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_what_and_where_and_nothing_is_stored(
    session: Session, given: dict[str, Any], code: str, where: str, message: str
) -> None:
    good = rule(code="GOOD_ONE")
    with pytest.raises(GovopsError) as refused:
        service.save_rules(session=session, rules=[rule(**given), good], by="test")
    assert (refused.value.code, refused.value.where, refused.value.message) == (code, where, message)
    assert refused.value.hint
    assert count(session) == 0


def test_units_of_one_quantity_compare_and_a_pair_needs_no_unit(session: Session) -> None:
    # Billions and trillions of dong are one quantity; a compulsory pair compares presence, not values.
    saved = service.save_rules(
        session=session,
        rules=[rule(), rule(code="PAIR", left="ENT_NEW", operator="compulsory_pair", right="ENT_NEW_CAPITAL")],
        by="test",
    )
    assert [r.periodicity for r in saved] == ["M", "M"]


def test_rules_over_the_api_for_the_government_office_only(session: Session, client: TestClient) -> None:
    office, province = key(session, "GO"), key(session, "PC-79")
    body = {"rules": [rule().model_dump()]}
    refused = client.post("/api/v1/quality/rules", headers=province, json=body)
    assert refused.status_code == 403, refused.text
    assert "only the Government Office sets the quality rules" in refused.json()["error"]["message"]
    bad = client.post(
        "/api/v1/quality/rules",
        headers=office,
        json={"rules": [rule().model_dump(), rule(code="B", left="NOPE").model_dump()]},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "unknown_indicator" and bad.json()["error"]["where"] == "rules[2] B.left"
    assert count(session) == 0
    made = client.post("/api/v1/quality/rules", headers=office, json=body)
    assert made.status_code == 200, made.text
    assert made.json()[0]["code"] == "TEST_RULE" and made.json()[0]["periodicity"] == "M"
    listed = client.get("/api/v1/quality/rules", headers=province).json()
    assert [r["code"] for r in listed["items"]] == ["TEST_RULE"]
    assert client.get("/api/v1/quality/rules").status_code == 401
