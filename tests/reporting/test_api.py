"""The reporting API as an agency's system and the Government Office's staff use it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.exchange import service as exchange
from govops.reporting import service
from govops.reporting.regimes import import_regimes
from tests.audit.conftest import token_of
from tests.reporting.conftest import REGIME_FILE, submit, utc

NOW = utc(2025, 10, 20, 3)
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _key(session: Session, agency: str) -> dict[str, str]:
    member = exchange.create_member(session=session, agency=agency, system="reports", name="reports")
    return {"Authorization": f"Bearer {exchange.issue_key(session=session, member=member).key}"}


def _store(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    submit(session, utc(2025, 9, 11, 2), [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")])
    submit(session, utc(2025, 10, 16, 2), [("CPI", "01", "2025-09"), ("RETAIL_SALES", "01", "2025-09")])
    service.ensure_expected(session=session, now=NOW)


def test_staff_read_every_agency_paged_and_the_dhis2_rates(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    _store(session)
    assert client.get("/api/v1/reporting/compliance").status_code == 401
    sign_in("analyst")
    regimes = client.get("/api/v1/reporting/regimes").json()
    assert [r["code"] for r in regimes["items"]] == ["TEST_MONTHLY", "TEST_QUARTERLY_MINISTRY"]
    assert regimes["items"][0]["versions"][0]["deadline"] == "day 12 of the month after the period"
    first = client.get(
        "/api/v1/reporting/compliance", params={"regime": "TEST_MONTHLY", "period": "2025-09", "limit": 30}
    )
    assert first.status_code == 200, first.text
    rest = client.get("/api/v1/reporting/compliance", params={"regime": "TEST_MONTHLY", "period": "2025-09",
                                                              "cursor": first.json()["next_cursor"]})  # fmt: skip
    rows = {r["agency"]: r for r in first.json()["items"] + rest.json()["items"]}
    assert len(rows) == 34 and rest.json()["next_cursor"] is None
    hanoi = rows["PC-01"]
    assert (hanoi["status"], hanoi["days_late"], hanoi["values_present"], hanoi["values_required"]) == ("late", 4, 2, 2)
    assert hanoi["received_at"] == "2025-10-16T02:00:00Z" and hanoi["deadline"] == "2025-10-12T16:59:59Z"
    assert rows["PC-79"]["missing"] == ["CPI/79", "RETAIL_SALES/79"]
    summary = client.get("/api/v1/reporting/compliance/summary", params={"regime": "TEST_MONTHLY"}).json()
    assert summary[-1]["agency"] == "PC-01"  # worst first: the one agency that reported comes last
    assert {k: summary[-1][k] for k in ("EXPECTED_REPORTS", "ACTUAL_REPORTS", "ACTUAL_REPORTS_ON_TIME",
                                         "REPORTING_RATE", "REPORTING_RATE_ON_TIME")} == {
        "EXPECTED_REPORTS": 2, "ACTUAL_REPORTS": 2, "ACTUAL_REPORTS_ON_TIME": 1,
        "REPORTING_RATE": 100.0, "REPORTING_RATE_ON_TIME": 50.0,
    }  # fmt: skip
    bad = client.get("/api/v1/reporting/compliance", params={"period": "July"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_period"
    vietnamese = client.get("/api/v1/reporting/compliance", params={"period": "July"},
                            headers={"Accept-Language": "vi"})  # fmt: skip
    assert vietnamese.json()["error"]["message"] == "Không đọc được kỳ 'July'."
    # A report's page in the API lists the changes to its values after the lock date, not only their number.
    submit(session, utc(2025, 10, 15, 2), [("CPI", "01", "2025-08")], value=104.5)
    service.recompute(session=session, now=NOW)
    report = client.get("/api/v1/reporting/reports/TEST_MONTHLY/PC-01/2025-08").json()
    assert (report["status"], report["revisions_after_lock"], report["lock_at"]) == (
        "on_time",
        1,
        "2025-10-12T16:59:59Z",
    )
    assert report["revisions"] == [{"indicator": "CPI", "area": "01", "old": 100.0, "new": 104.5, "status": "final",
                                    "recorded_at": "2025-10-15T02:00:00Z", "recorded_by": "test"}]  # fmt: skip
    assert report["regime_name_en"] == "Test monthly report" and report["documents"] == []
    missing = client.get("/api/v1/reporting/reports/TEST_MONTHLY/PC-01/2024-01")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == (
        "PC-01 owes no report of TEST_MONTHLY for 2024-01."
    )


def test_an_agency_system_reads_its_own_compliance_only_and_files_its_signed_pdf(
    client: TestClient, session: Session
) -> None:
    _store(session)
    key = _key(session, "MOF")
    own = client.get("/api/v1/reporting/compliance", headers=key).json()["items"]
    assert {r["agency"] for r in own} == {"MOF"}
    refused = client.get("/api/v1/reporting/compliance", params={"agency": "PC-01"}, headers=key)
    assert refused.status_code == 403 and refused.json()["error"] == {
        "code": "forbidden", "message": "Your key reads the compliance of MOF only.", "where": "agency",
        "hint": "Ask for agency=MOF, or leave agency out.",
    }  # fmt: skip
    in_vietnamese = client.get("/api/v1/reporting/compliance", params={"agency": "PC-01"},
                               headers=key | {"Accept-Language": "vi"})  # fmt: skip
    assert in_vietnamese.json()["error"]["message"] == "Khóa của bạn chỉ xem được tình hình chấp hành của MOF."
    url = "/api/v1/reporting/reports/TEST_QUARTERLY_MINISTRY/MOF/2025-Q3/document"
    not_pdf = client.put(url, content=b"PK\x03\x04 a zip", headers=key | {"X-Filename": "report.docx"})
    assert not_pdf.status_code == 415 and not_pdf.json()["error"]["code"] == "document_not_pdf"
    assert "'report.docx' is not a PDF" in not_pdf.json()["error"]["message"]
    too_large = client.put(url, content=b"%PDF-" + b"0" * service.MAX_DOCUMENT_BYTES, headers=key)
    assert too_large.status_code == 413
    others = client.put("/api/v1/reporting/reports/TEST_MONTHLY/PC-01/2025-09/document", content=PDF, headers=key)
    assert others.status_code == 403 and others.json()["error"]["code"] == "forbidden"
    filed = client.put(url, content=PDF, headers=key | {"X-Filename": "bao-cao-quy-3.pdf"})
    assert filed.status_code == 201, filed.text
    assert filed.json()["filename"] == "bao-cao-quy-3.pdf" and filed.json()["size"] == len(PDF)
    row = client.get("/api/v1/reporting/compliance", params={"regime": "TEST_QUARTERLY_MINISTRY"}, headers=key)
    assert row.json()["items"][0]["missing"] == ["BUDGET_REVENUE/VN"]
    # The filed document is listed on the report, and read back by the agency's own system only.
    report = client.get("/api/v1/reporting/reports/TEST_QUARTERLY_MINISTRY/MOF/2025-Q3", headers=key).json()
    (document,) = report["documents"]
    assert (document["filename"], document["size"], document["uploaded_by"]) == ("bao-cao-quy-3.pdf", len(PDF),
                                                                                 "MOF/reports")  # fmt: skip
    back = client.get(f"/api/v1/reporting/documents/{document['id']}", headers=key)
    assert back.status_code == 200 and back.content == PDF and back.headers["content-type"] == "application/pdf"
    assert back.headers["content-disposition"].startswith('attachment; filename="bao-cao-quy-3.pdf"')
    hanoi = _key(session, "PC-01")
    refused = client.get(f"/api/v1/reporting/documents/{document['id']}", headers=hanoi)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/reporting/reports/TEST_QUARTERLY_MINISTRY/MOF/2025-Q3", headers=hanoi).status_code == 403
    assert client.get(f"/api/v1/reporting/documents/{document['id']}").status_code == 401


def test_administrators_import_a_regime_file_all_or_nothing(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    sign_in("administrator")
    csrf = token_of(client.get("/notifications").text)
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/yaml"}
    bad = client.post("/api/v1/reporting/regimes", content=REGIME_FILE.replace("[CPI,", "[NOPE,"), headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0] | {"message": ""} == {
        "code": "reporting.unknown_code", "message": "", "row": 16, "value": "NOPE",
        "field": "regimes[TEST_MONTHLY].versions[0].indicators",
        "hint": "Use a code the catalogue lists (govops catalog export), or add it to the catalogue first.",
    }  # fmt: skip
    assert client.get("/api/v1/reporting/regimes").json()["items"] == []
    done = client.post("/api/v1/reporting/regimes", content=REGIME_FILE, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["regimes_created"] == ["TEST_MONTHLY", "TEST_QUARTERLY_MINISTRY"]
    assert done.json()["expected_reports_made"] > 34
