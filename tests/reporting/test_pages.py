"""The console's compliance board, agency page and regime page, in Vietnamese and English."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from govops.periods import Freq, Period
from govops.reporting import service
from govops.reporting.models import ExpectedReport
from govops.reporting.regimes import import_regimes
from tests.reporting.conftest import REGIME_FILE, sign_in_as, submit, token_of, utc

NOW = utc(2025, 10, 20, 3)


def _store(session: Session) -> None:
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=NOW)
    submit(session, utc(2025, 9, 11, 2), [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")])
    submit(session, utc(2025, 10, 16, 2), [("CPI", "01", "2025-09"), ("RETAIL_SALES", "01", "2025-09")])
    submit(session, utc(2025, 9, 1, 2), [("CPI", "46", "2025-08"), ("RETAIL_SALES", "46", "2025-08")])
    submit(session, utc(2025, 9, 1, 2), [("CPI", "46", "2025-09")])
    service.ensure_expected(session=session, now=NOW)


def _statuses(html: str, agency: str) -> list[str]:
    row = html.split(f'data-agency="{agency}"')[1].split("</tr>")[0]
    return re.findall(r'data-status="(\w+)"', row)


def test_the_board_shows_agencies_by_period_worst_first_with_colour_and_symbol(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    _store(session)
    assert client.get("/reporting", follow_redirects=False).status_code in (303, 401)
    sign_in("analyst")
    page = client.get("/reporting", params={"regime": "TEST_MONTHLY"})
    assert page.status_code == 200
    html = page.text
    assert "Tình hình chấp hành chế độ báo cáo" in html and "Reporting compliance" not in html
    order = re.findall(r'<tr data-agency="([^"]+)"', html)
    assert len(order) == 34 and order[-1] == "PC-01" and order.index("PC-46") > order.index("PC-79")
    assert _statuses(html, "PC-01") == ["on_time", "late", "not_due"]
    assert _statuses(html, "PC-46") == ["on_time", "partial", "not_due"]
    assert _statuses(html, "PC-79") == ["missing", "missing", "not_due"]
    assert 'class="rs rs-missing"' in html and "✗" in html and "Chưa nộp" in html
    # Filtered to ministries, only the Ministry of Finance's quarterly report is left.
    ministries = client.get("/reporting", params={"kind": "ministry"}).text
    assert re.findall(r'<tr data-agency="([^"]+)"', ministries) == ["MOF"]
    english = client.get("/reporting", params={"lang": "en", "regime": "TEST_MONTHLY"}).text
    assert "Reporting compliance" in english and "Missing" in english


def test_agency_and_regime_pages(client: TestClient, session: Session, sign_in: Callable[[str], TestClient]) -> None:
    _store(session)
    sign_in("analyst")
    agency = client.get("/reporting/agencies/PC-01").text
    assert "Ủy ban nhân dân Thành phố Hà Nội" in agency
    assert 'data-testid="ranking">Xếp thứ 1 trên 34' in agency
    assert "trễ 4 ngày" in agency
    regime = client.get("/reporting/regimes/TEST_MONTHLY").text
    assert "Báo cáo tháng thử nghiệm" in regime and "Test monthly report" not in regime
    assert "Nghị định 09/2019/NĐ-CP (2019-01-24)" in regime and 'data-testid="demo-label"' in regime
    assert "ngày 12 tháng sau kỳ báo cáo" in regime and "ngày 14 tháng cuối kỳ" in regime
    english = client.get("/reporting/regimes/TEST_MONTHLY", params={"lang": "en"}).text
    assert "day 12 of the month after the period" in english and "Test monthly report" in english
    missing = client.get("/reporting/regimes/NOPE", params={"lang": "vi"})
    assert missing.status_code == 404 and "Không có chế độ báo cáo &#39;NOPE&#39;." in missing.text
    nobody = client.get("/reporting/agencies/PC-99", params={"lang": "en"})
    assert nobody.status_code == 404 and "There is no agency &#39;PC-99&#39;." in nobody.text
    unowed = client.get("/reporting/reports/TEST_MONTHLY/MOF/2025-08", params={"lang": "vi"}).text
    assert "MOF không phải nộp báo cáo TEST_MONTHLY kỳ 2025-08." in unowed


LAST_MONTH = str(Period.from_date(date.today(), Freq.M) - 1)
DUE_FILE = f"""\
regimes:
  - code: DUE_FIGURES
    versions:
      - {{from: "{LAST_MONTH}", name_vi: Báo cáo số liệu tháng, name_en: Monthly figures report,
         legal_basis: Nghị định 09/2019/NĐ-CP, frequency: M, deadline: 40 days after the period,
         indicators: [CPI, RETAIL_SALES], reporters: {{agencies: [PC-79, PC-01], coverage: own_area}}}}
  - code: DUE_SIGNED
    versions:
      - {{from: "{LAST_MONTH}", name_vi: Báo cáo công nghiệp có chữ ký, name_en: Signed industry report,
         legal_basis: Nghị định 09/2019/NĐ-CP, frequency: M, deadline: 40 days after the period,
         replaced_by_data: false, requires_document: true, indicators: [IIP],
         reporters: {{agencies: [PC-79], coverage: own_area}}}}
"""


def _row(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"')[1].split("</tr>")[0]


def test_the_data_officer_sees_what_the_regimes_ask_of_the_agency_where_they_upload(
    client: TestClient, session: Session
) -> None:
    import_regimes(session=session, text=DUE_FILE, where="regimes.yaml")
    submit(session, datetime.now(UTC), [("CPI", "79", LAST_MONTH)])
    service.ensure_expected(session=session)
    service.recompute(session=session)
    officer = sign_in_as(client, session, "hcm.officer", role="data_officer", agency="PC-79")
    # The upload page holds the reporting domain's list, loaded in place.
    upload = officer.get("/submit").text
    assert 'hx-get="/reporting/due"' in upload and 'href="/reporting/due"' in upload
    due = officer.get("/reporting/due").text
    assert "<html" in due and "Báo cáo Ủy ban nhân dân Thành phố Hồ Chí Minh phải nộp" in due
    assert "2 trên 2 báo cáo chưa đủ." in due
    figures = _row(due, f"due-DUE_FIGURES-{LAST_MONTH}")
    assert "Báo cáo số liệu tháng" in figures and "1/2" in figures and 'data-status="not_due"' in figures
    assert "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng (RETAIL_SALES)" in figures
    assert "Chỉ số giá" not in figures and 'href="/submit"' in figures
    signed = _row(due, f"due-DUE_SIGNED-{LAST_MONTH}")
    assert "Chỉ số sản xuất công nghiệp (IIP); báo cáo có chữ ký (PDF)" in signed
    assert f'href="/reporting/reports/DUE_SIGNED/PC-79/{LAST_MONTH}#document"' in signed
    # HTMX asks for the part alone; in English, the regime's and the indicators' English names.
    part = officer.get("/reporting/due", params={"lang": "en"}, headers={"HX-Request": "true"}).text
    assert "<html" not in part and part.lstrip().startswith('<section class="panel" id="due"')
    assert "Monthly figures report" in part and "Retail sales of goods and consumer service revenue" in part
    # Complete, a report moves to the reports already in.
    submit(session, datetime.now(UTC), [("RETAIL_SALES", "79", LAST_MONTH)])
    service.recompute(session=session)
    due = officer.get("/reporting/due", params={"lang": "vi"}).text
    assert "1 trên 2 báo cáo chưa đủ." in due
    done = due.split("Đã nộp đủ: 1 báo cáo")[1]
    assert f'data-testid="due-DUE_FIGURES-{LAST_MONTH}"' in done and 'data-status="on_time"' in done
    # Another agency's officer sees their own agency's list whatever they ask; an analyst may choose one.
    other = sign_in_as(client, session, "hn.officer", role="data_officer", agency="PC-01")
    hanoi = other.get("/reporting/due", params={"agency": "PC-79"}).text
    assert "Ủy ban nhân dân Thành phố Hà Nội" in hanoi and "DUE_SIGNED" not in hanoi and "0/2" in hanoi
    analyst = sign_in_as(client, session, "go.analyst", role="analyst", agency="GO")
    assert 'data-testid="due-none"' in analyst.get("/reporting/due").text
    assert f"due-DUE_SIGNED-{LAST_MONTH}" in analyst.get("/reporting/due", params={"agency": "PC-79"}).text


PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REPORT = "/reporting/reports/TEST_QUARTERLY_MINISTRY/MOF/2025-Q3"


def _file(client: TestClient, name: str, content: bytes) -> Response:
    page = client.get(REPORT).text
    return client.post(
        f"{REPORT}/document",
        data={"csrf_token": token_of(page)},
        files={"file": (name, content, "application/pdf")},
        follow_redirects=False,
    )


def test_the_ministry_officer_files_the_signed_pdf_on_the_console_and_only_those_who_may_read_it(
    client: TestClient, session: Session
) -> None:
    _store(session)
    officer = sign_in_as(client, session, "mof.officer", role="data_officer", agency="MOF")
    page = officer.get(REPORT).text
    assert "Báo cáo có chữ ký (PDF)" in page and "Chưa nộp báo cáo có chữ ký." in page
    assert 'data-testid="document-form"' in page
    # Not a PDF: refused on the page in the reader's language, nothing stored.
    refused = _file(officer, "bao-cao.docx", b"PK\x03\x04 a word file")
    assert refused.status_code == 415
    assert (
        "Tệp &#39;bao-cao.docx&#39; không phải văn bản PDF." in refused.text
        and "Chưa có số liệu nào được lưu." in refused.text
    )
    assert service.report_out(session=session, report=_mof(session)).documents == []
    done = _file(officer, "Báo cáo quý 3 đã ký.pdf", PDF)
    assert done.status_code == 303 and done.headers["location"] == f"{REPORT}#document"
    (document,) = service.report_out(session=session, report=_mof(session)).documents
    assert (document.filename, document.uploaded_by) == ("Báo cáo quý 3 đã ký.pdf", "mof.officer")
    assert _mof(session).missing == ["BUDGET_REVENUE/VN"]  # the document counts at once
    link = f"/reporting/documents/{document.id}"
    assert f'href="{link}"' in officer.get(REPORT).text
    back = officer.get(link)
    assert back.status_code == 200 and back.content == PDF
    assert back.headers["content-disposition"] == (
        'attachment; filename="Bao-cao-quy-3-da-ky.pdf"; '
        "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20qu%C3%BD%203%20%C4%91%C3%A3%20k%C3%BD.pdf"
    )
    # Rights on the stored report, not on the address: another agency's officer and a viewer may not read it.
    readers = [("hn.officer", "data_officer", "PC-01", 403), ("go.viewer", "viewer", "GO", 403),
               ("go.analyst", "analyst", "GO", 200)]  # fmt: skip
    for username, role, agency, status in readers:
        reader = sign_in_as(client, session, username, role=role, agency=agency)
        assert reader.get(link).status_code == status, username
        page = reader.get(REPORT).text
        assert ('data-testid="document-form"' in page) is False and (f'href="{link}"' in page) == (status == 200)
    hanoi = sign_in_as(client, session, "hn.officer2", role="data_officer", agency="PC-01")
    assert _file(hanoi, "x.pdf", PDF).status_code == 403
    assert len(service.report_out(session=session, report=_mof(session)).documents) == 1


def _mof(session: Session) -> ExpectedReport:
    return service.expected_for(session=session, regime="TEST_QUARTERLY_MINISTRY", agency="MOF", period="2025-Q3")


def test_the_report_page_lists_the_changes_after_the_lock_date(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    _store(session)
    submit(session, utc(2025, 10, 15, 2), [("RETAIL_SALES", "01", "2025-08")], value=123.4)
    sign_in("analyst")
    page = client.get("/reporting/reports/TEST_MONTHLY/PC-01/2025-08").text
    assert "1 giá trị đã bị sửa sau ngày khóa số liệu." in page
    row = page.split('data-testid="revisions"')[1].split("</tbody>")[0]
    assert "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng (RETAIL_SALES)" in row
    assert (
        ">100,00<" in row and "<strong>123,40</strong>" in row and "2025-10-15 09:00 GMT+7" in row and ">test<" in row
    )
    quiet = client.get("/reporting/reports/TEST_MONTHLY/PC-46/2025-08").text
    assert 'data-testid="no-revisions"' in quiet


def _preview(client: TestClient, text: str) -> Response:
    csrf = token_of(client.get("/reporting/regimes/import").text)
    return client.post(
        "/reporting/regimes/import",
        data={"csrf_token": csrf},
        files={"file": ("regimes.yaml", text.encode(), "application/yaml")},
    )


def _confirm(client: TestClient, preview: str) -> Response:
    text = html.unescape(preview.split('<textarea name="text" hidden>\n')[1].split("</textarea>")[0])
    digest = re.findall(r'name="digest" value="([0-9a-f]+)"', preview)[0]
    return client.post(
        "/reporting/regimes/import/confirm",
        data={"csrf_token": token_of(preview), "text": text, "digest": digest, "file_name": "regimes.yaml"},
    )


def test_an_administrator_imports_a_regime_file_on_the_console_after_a_preview(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    sign_in("administrator")
    assert 'href="/reporting/regimes/import"' in client.get("/reporting").text
    # A file with a wrong code: every problem by line and field, in Vietnamese; nothing stored.
    bad = _preview(client, REGIME_FILE.replace("[CPI,", "[NOPE,").replace("frequency: Q", "frequency: W"))
    assert bad.status_code == 422
    problems = bad.text.split('data-testid="import-problem-list"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td[^>]*>(\d+)</td><td[^>]*><span>([^<]+)</span></td>\s*<td[^>]*>([^<]+)</td>", problems)
    assert rows == [
        ("24", "regimes[1].versions[0].frequency", "Trường frequency phải là M, Q, S hoặc A, không phải &#39;W&#39;."),
    ]
    fixed_frequency = _preview(client, REGIME_FILE.replace("[CPI,", "[NOPE,"))
    problems = fixed_frequency.text.split('data-testid="import-problem-list"')[1].split("</table>")[0]
    assert ">16<" in problems and "regimes[TEST_MONTHLY].versions[0].indicators" in problems
    assert "Danh mục không có chỉ tiêu NOPE." in problems
    assert service.list_regimes(session=session) == []
    # A good file: what it would do, and nothing stored until confirmed.
    preview = _preview(client, REGIME_FILE)
    assert preview.status_code == 200 and preview.text.count("chế độ báo cáo mới") == 2
    assert service.list_regimes(session=session) == []
    done = _confirm(client, preview.text)
    assert done.status_code == 200 and 'data-testid="import-done"' in done.text
    assert "Đã tạo 2 chế độ báo cáo, thêm 2 phiên bản, 0 phiên bản không đổi" in done.text
    assert [r.code for r in service.list_regimes(session=session)] == ["TEST_MONTHLY", "TEST_QUARTERLY_MINISTRY"]
    # A change of rules from a coming period: the preview says what it changes.
    coming = str(Period.from_date(date.today(), Freq.M) + 1)
    changed = REGIME_FILE.replace(
        "        reporters: {kinds: [provincial_committee], coverage: own_area}\n",
        "        reporters: {kinds: [provincial_committee], coverage: own_area}\n"
        f'      - from: "{coming}"\n'
        "        name_vi: Báo cáo tháng thử nghiệm\n        name_en: Test monthly report\n"
        "        legal_basis: Nghị định 09/2019/NĐ-CP\n        legal_date: 2019-01-24\n        frequency: M\n"
        "        deadline: day 20 of the month after the period\n        grace_days: 1\n"
        "        indicators: [CPI, RETAIL_SALES, IIP]\n"
        "        reporters: {kinds: [provincial_committee], coverage: own_area}\n",
    )
    second = _preview(client, changed)
    table = second.text.split(f'data-testid="import-TEST_MONTHLY-{coming}"')[1].split("</table>")[0]
    assert "1 phiên bản mới" in second.text and "không đổi" in second.text
    assert "<td>Hạn báo cáo</td><td>ngày 12 tháng sau kỳ báo cáo</td><td><strong>ngày 20 tháng sau kỳ báo cáo" in table
    assert "<td>Chỉ tiêu</td><td>CPI, RETAIL_SALES</td><td><strong>CPI, RETAIL_SALES, IIP</strong>" in table
    # Stored meanwhile by someone else: confirming shows what the file would do now, and stores nothing more.
    service.import_regimes(session=session, text=changed, where="elsewhere.yaml")
    late = _confirm(client, second.text)
    assert late.status_code == 409 and 'data-testid="import-notice"' in late.text
    assert 'data-testid="import-nothing"' in late.text
    assert len(service.get_regime(session=session, code="TEST_MONTHLY").versions) == 2
    # Only administrators import.
    sign_in("analyst")
    assert client.get("/reporting/regimes/import").status_code == 403


SEPARATE = """\
  - code: TEST_SEPARATE
    versions:
      - {from: 2025-08, name_vi: Báo cáo giá riêng, name_en: Separate price report,
         legal_basis: Nghị định 09/2019/NĐ-CP, frequency: M, deadline: day 12 of the month after the period,
         replaced_by_data: false, indicators: [CPI], reporters: {agencies: [PC-01], coverage: own_area}}
"""


def test_a_separate_report_whose_figures_arrive_as_data_is_proposed_for_abolition_unless_it_is_signed(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    import_regimes(session=session, text=REGIME_FILE + SEPARATE, where="regimes.yaml", now=NOW)
    submit(session, utc(2025, 9, 5), [("CPI", "01", p) for p in ("2025-08", "2025-09", "2025-10")])
    submit(session, utc(2025, 10, 5), [("BUDGET_REVENUE", "VN", p) for p in ("2025-Q3", "2025-Q4")])
    service.ensure_expected(session=session, now=NOW)
    sign_in("analyst")
    board = client.get("/reporting", params={"lang": "en"}).text
    abolish = board.split('data-testid="candidates"')[1].split("</ul>")[0]
    signed = board.split('data-testid="candidates-signed"')[1].split("</ul>")[0]
    assert "TEST_SEPARATE" in abolish and "Separate price report" in abolish and "TEST_QUARTERLY" not in abolish
    assert "TEST_QUARTERLY_MINISTRY" in signed and "TEST_MONTHLY" not in abolish + signed
    assert "The figures can come from data; the signed report remains:" in board
    ministry = client.get("/reporting/regimes/TEST_QUARTERLY_MINISTRY", params={"lang": "vi"}).text
    candidate = ministry.split('data-testid="candidate">')[1].split("</p>")[0]
    assert candidate.startswith("Số liệu có thể lấy từ dữ liệu; báo cáo có chữ ký vẫn được giữ lại.")
    separate = client.get("/reporting/regimes/TEST_SEPARATE", params={"lang": "en"}).text
    assert "Abolition candidate: every figure" in separate.split('data-testid="candidate">')[1]
