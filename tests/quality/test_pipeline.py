"""The checks on every submission: a value 1000 times too large warns on the receipt and becomes a flag for the
province's data officers; a blocking rule rejects the batch; a corrected value closes the agency's part."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.models import Area
from govops.events.models import DomainEvent
from govops.notify.models import Notification
from govops.quality.models import QualityFlag, QualityFlagEvent
from govops.warehouse.accept import ingest, registered_rules
from govops.warehouse.models import Observation
from tests.exchange.test_submit_preview import _filled, _press, _section, _upload, officer
from tests.quality.conftest import demo_rules, expected, key, store_history, submit

__all__ = ["officer"]

PROVINCES = {"79": 2100.0, "01": 1500.0}


def test_the_quality_checks_take_the_place_of_the_far_from_history_warning() -> None:
    names = [rule.name for rule in registered_rules()]
    assert "quality.checks" in names and "quality.rules" in names
    assert "warehouse.far_from_history" not in names and "warehouse.negative_value" in names


def test_exports_a_thousand_times_too_large_warn_on_the_receipt_and_flag_the_provinces_officers(
    session: Session, client: TestClient
) -> None:
    store_history(session, "EXPORTS", PROVINCES)
    officer = create_user(session=session, username="can.bo.hcm", password="a-long-password-1", full_name="Cán bộ",
                          agency="PC-79", role="data_officer")  # fmt: skip
    create_user(session=session, username="can.bo.hn", password="a-long-password-1", full_name="Cán bộ",
                agency="PC-01", role="data_officer")  # fmt: skip
    hcm = key(session, "PC-79", "TRADE")
    right = expected(PROVINCES["79"], "2025-01")
    sent = submit(
        client,
        hcm,
        {"indicator": "EXPORTS", "area": "79", "period": "2025-01", "value": right * 1000},
        {"indicator": "EXPORTS", "area": "79", "period": "2025-02", "value": expected(PROVINCES["79"], "2025-02")},
    )
    assert sent.status_code == 201, sent.text
    receipt = sent.json()
    assert receipt["status"] == "accepted"
    (warning,) = receipt["warnings"]
    assert warning["code"] == "rule.quality.unit_slip" and warning["row"] == 1
    assert warning["message"].startswith("The value looks like a unit slip: about ")
    assert f"{right:,.0f} would fit" in warning["message"]
    # Stored as sent, with a flag to follow up.
    assert session.scalar(select(func.count()).select_from(Observation).where(Observation.period == "2025-01")) == 1
    (flag,) = session.scalars(select(QualityFlag)).all()
    assert (flag.method, flag.severity, flag.status, flag.period, flag.value) == (
        "unit_slip", "high", "open", "2025-01", right * 1000
    )  # fmt: skip
    assert flag.likely == right and flag.low is not None and flag.low < right < (flag.high or 0)
    assert flag.submission_id == receipt["id"]
    # Hồ Chí Minh City's officer is told, Hà Nội's is not.
    notes = session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind, n.link) for n in notes] == [(officer.id, "value_flagged", f"/quality/flags/{flag.id}")]
    assert notes[0].params == {"indicator": "EXPORTS", "area": "Thành phố Hồ Chí Minh", "period": "2025-01",
                               "rule": "unit_slip"}  # fmt: skip
    (event,) = session.scalars(select(DomainEvent).where(DomainEvent.topic == "quality")).all()
    assert (event.type, event.subject) == ("quality.flag_raised", "EXPORTS/79/2025-01")
    # The same value sent again raises no second flag.
    again = submit(client, hcm, {"indicator": "EXPORTS", "area": "79", "period": "2025-01", "value": right * 1000})
    assert again.status_code == 201 and again.json()["warnings"][0]["code"] == "rule.quality.unit_slip"
    assert session.scalar(select(func.count()).select_from(QualityFlag)) == 1
    # The corrected value is judged fine and closes the agency's part of the flag.
    fixed = submit(client, hcm, {"indicator": "EXPORTS", "area": "79", "period": "2025-01", "value": right})
    assert fixed.status_code == 201 and fixed.json()["warnings"] == []
    session.refresh(flag)
    assert flag.status == "corrected" and flag.resolved_at is not None
    steps = session.scalars(select(QualityFlagEvent.action).order_by(QualityFlagEvent.id)).all()
    assert steps == ["raised", "corrected"]


def test_the_preview_of_an_upload_shows_the_warning_and_the_confirmed_upload_raises_the_flag(
    officer: TestClient, session: Session
) -> None:
    filled = _filled(officer, 2025, {("ENT_NEW", "2025-08"): 3_100_000})  # about 3,100 a month
    status, text = _upload(officer, filled)
    assert status == 200, text
    warnings = _section(text, "preview-warnings")
    assert "Giá trị có vẻ nhầm đơn vị: dự kiến khoảng" in warnings and "trang tính ENT_NEW, ô" in warnings
    assert session.scalar(select(func.count()).select_from(QualityFlag)) == 0  # a preview stores nothing
    status, receipt = _press(officer, text, "confirm")
    assert status == 201 and "Giá trị có vẻ nhầm đơn vị" in receipt
    (flag,) = session.scalars(select(QualityFlag)).all()
    assert (flag.method, flag.period, flag.value) == ("unit_slip", "2025-08", 3_100_000)


def test_a_blocking_rule_rejects_the_batch_and_nothing_is_written(session: Session, client: TestClient) -> None:
    demo_rules(session)
    nso = key(session, "NSO", "LABOUR")
    before = session.scalar(select(func.count()).select_from(Observation))
    sent = submit(
        client,
        nso,
        {"indicator": "LABOUR_FORCE", "area": "VN", "period": "2025-Q1", "value": 53000},
        {"indicator": "EMPLOYED", "area": "VN", "period": "2025-Q1", "value": 54000},
    )
    assert sent.status_code == 422, sent.text
    (problem,) = sent.json()["submission"]["problems"]
    assert problem["code"] == "rule.quality.rule" and problem["row"] == 1
    assert "EMPLOYED_WITHIN_LABOUR_FORCE" in problem["message"]
    assert session.scalar(select(func.count()).select_from(Observation)) == before
    assert session.scalar(select(func.count()).select_from(QualityFlag)) == 0
    fine = submit(
        client,
        nso,
        {"indicator": "LABOUR_FORCE", "area": "VN", "period": "2025-Q1", "value": 53000},
        {"indicator": "EMPLOYED", "area": "VN", "period": "2025-Q1", "value": 52000},
    )
    assert fine.status_code == 201, fine.text


def test_a_province_out_of_line_with_the_national_figure_breaks_the_sum_rule(
    session: Session, client: TestClient
) -> None:
    demo_rules(session)
    provinces = session.scalars(select(Area.code).where(Area.level == "province", Area.valid_to.is_(None))).all()
    rows = [(n, {"indicator": "EXPORTS", "area": code, "period": "2025-03", "value": 100.0})
            for n, code in enumerate(provinces, 1)]  # fmt: skip
    rows.append(
        (len(rows) + 1, {"indicator": "EXPORTS", "area": "VN", "period": "2025-03", "value": 100.0 * len(provinces)})
    )
    ingest(session=session, rows=rows, recorded_by="test")
    hcm = key(session, "PC-79", "TRADE")
    within = submit(client, hcm, {"indicator": "EXPORTS", "area": "79", "period": "2025-03", "value": 110.0})
    assert within.status_code == 201 and within.json()["warnings"] == []  # 0.3% off the national figure
    sent = submit(client, hcm, {"indicator": "EXPORTS", "area": "79", "period": "2025-03", "value": 150.0})
    (warning,) = sent.json()["warnings"]
    assert warning["code"] == "rule.quality.rule"
    assert warning["message"] == (
        f"The values break the check EXPORTS_PROVINCES_SUM (VN): one side is {100e6 * len(provinces):,.0f}, "
        f"the other {(100.0 * (len(provinces) - 1) + 150) * 1e6:,.0f}."
    )
    flag = session.scalars(select(QualityFlag).where(QualityFlag.method == "rule")).one()
    assert flag.detail["rule"] == "EXPORTS_PROVINCES_SUM" and flag.source_agency_id is not None
