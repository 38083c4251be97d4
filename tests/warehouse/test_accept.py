"""The accept pipeline: one list of problems whichever way rows come in, rules that domains register,
and nothing written unless the whole batch passes."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.models import Agency
from govops.errors import Problem
from govops.events.models import DomainEvent
from govops.exchange import service, submissions
from govops.exchange.models import Submission
from govops.warehouse import accept
from govops.warehouse.models import Observation, ObservationRevision
from tests.audit.conftest import PASSWORD, token_of
from tests.cli.conftest import Govops, initialised_store
from tests.web.language import english_sentences

__all__ = ["initialised_store"]

# A CSV as an agency would send it: the header is line 1, so the rows are numbered 2 to 7.
BAD_CSV = (
    "indicator,area,period,value\n"
    "ENT_NEW,79,2026-09,4100\n"
    "ENT_NEW,99999,2026-09,1\n"
    "ENT_NEW,79,2026-13,1\n"
    "NO_SUCH,79,2026-09,1\n"
    "ENT_NEW,79,2026-10,abc\n"
    "ENT_NEW,79,2026-09,5\n"
)
GOOD_CSV = "indicator,area,period,value\nENT_NEW,79,2026-09,4100\nENT_NEW,79,2026-10,4200\n"


def _shape(problems: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(p.get("row"), p.get("field"), p["code"], p["message"], p.get("hint")) for p in problems]


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Observation)) or 0,
        session.scalar(select(func.count()).select_from(ObservationRevision)) or 0,
        session.scalar(select(func.count()).select_from(DomainEvent)) or 0,
    )


def _member_key(session: Session) -> str:
    member = service.create_member(session=session, agency="PC-79", system="ioc", name="", public_key=None)
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _officer(client: TestClient, session: Session) -> TestClient:
    create_user(session=session, username="hcm.officer", password=PASSWORD, full_name="HCM", agency="PC-79",
                role="data_officer")  # fmt: skip
    agency = session.scalars(select(Agency).where(Agency.code == "PC-79")).one()
    console = service.console_member(session=session, agency=agency)
    service.grant(session=session, member=console, group="ENTERPRISES", read=True, write=True)
    form = client.get("/signin")
    done = client.post(
        "/signin",
        data={"username": "hcm.officer", "password": PASSWORD, "csrf_token": token_of(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


@pytest.fixture
def rules() -> Iterator[None]:
    """Rules registered by a test are gone after it."""
    before = {rule.name for rule in accept.registered_rules()}
    yield
    for rule in accept.registered_rules():
        if rule.name not in before:
            accept.unregister_rule(rule.name)


def _large_values(batch: accept.Batch) -> list[Problem]:
    return [
        Problem(f"{row.value:g} is above 4,150", row=row.row, field="value", hint="check the figure with its source")
        for row in batch.rows
        if row.value > 4150
    ]


def test_the_same_bad_rows_give_the_same_problems_by_every_entry_point(
    client: TestClient, session: Session, tmp_path: Path, initialised_store: Path
) -> None:
    before = _counts(session)
    key = _member_key(session)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
    by_api = client.post("/api/v1/observations", content=BAD_CSV.encode(), headers=auth)
    assert by_api.status_code == 422
    expected = _shape(by_api.json()["error"]["problems"])
    # Every bad row is named, by row, field and a code a program can act on, and the good first row is not.
    assert [(row, field, code) for row, field, code, _, _ in expected] == [
        (3, "area", "area.unknown"),
        (4, "period", "period.invalid"),
        (5, "indicator", "indicator.unknown"),
        (6, "value", "value.not_a_number"),
        (7, "period", "row.repeated"),
    ]

    by_submission = client.post(
        "/api/v1/submissions", content=BAD_CSV.encode(), headers={**auth, "Idempotency-Key": "same-bad-rows"}
    )
    assert by_submission.status_code == 422
    assert _shape(by_submission.json()["error"]["problems"]) == expected

    officer = _officer(client, session)
    page = officer.get("/submit", params={"lang": "en"})
    upload = officer.post(
        "/submit",
        data={"csrf_token": token_of(page.text)},
        files={"file": ("september.csv", BAD_CSV.encode(), "text/csv")},
    )
    assert upload.status_code == 422
    stored = session.scalars(select(Submission).where(Submission.file_name == "september.csv")).one()
    assert _shape(submissions.receipt(stored)["problems"]) == expected
    for _, _, _, message, _ in expected:
        assert message.replace("'", "&#39;") in upload.text

    # govops ingest, as an operator runs it on a store of its own.
    folder = tmp_path / "cli"
    folder.mkdir()
    store = folder / "govops.db"
    store.write_bytes(initialised_store.read_bytes())
    (folder / "september.csv").write_text(BAD_CSV)
    run = Govops(store, folder)("ingest", "september.csv")
    assert run.code == 1
    # The problem table the operator reads: row, field, code, problem, how to fix.
    cells: list[list[str]] = []
    for line in run.err.splitlines():
        if "│" not in line:
            continue
        parts = [cell.strip() for cell in line.split("│")[1:-1]]
        if parts[0] or not cells:
            cells.append(parts)
        else:  # a cell the terminal's width wrapped onto the next line
            cells[-1] = [f"{a} {b}".strip() for a, b in zip(cells[-1], parts, strict=True)]
    assert [(int(row), field, code, message, hint) for row, field, code, message, hint in cells] == expected, run.err

    assert _counts(session) == before  # nothing written by any of them


def test_a_blocking_rule_rejects_the_batch_and_nothing_is_written(
    client: TestClient, session: Session, rules: None
) -> None:
    accept.register_rule("test.large_values", _large_values, blocking=True)
    auth = {"Authorization": f"Bearer {_member_key(session)}", "Content-Type": "text/csv"}
    before = _counts(session)
    answer = client.post("/api/v1/observations", content=GOOD_CSV.encode(), headers=auth)
    assert answer.status_code == 422, answer.text
    assert _shape(answer.json()["error"]["problems"]) == [
        (3, "value", "rule.test.large_values", "4200 is above 4,150", "check the figure with its source")
    ]
    assert answer.json()["submission"]["status"] == "rejected"
    assert _counts(session) == before


def test_a_warning_rule_lets_the_batch_through_with_its_warnings_on_the_receipt(
    client: TestClient, session: Session, rules: None
) -> None:
    accept.register_rule("test.large_values", _large_values)
    key = _member_key(session)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
    before = _counts(session)
    answer = client.post("/api/v1/observations", content=GOOD_CSV.encode(), headers=auth)
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert (receipt["created"], receipt["problems"]) == (2, [])
    assert _shape(receipt["warnings"]) == [
        (3, "value", "rule.test.large_values", "4200 is above 4,150", "check the figure with its source")
    ]
    assert _counts(session) == (before[0] + 2, before[1] + 2, before[2] + 2)
    # The receipt fetched again says the same.
    again = client.get(f"/api/v1/submissions/{receipt['id']}", headers={"Authorization": f"Bearer {key}"})
    assert again.json()["warnings"] == receipt["warnings"]


def test_warnings_are_shown_on_the_console_receipt(client: TestClient, session: Session, rules: None) -> None:
    accept.register_rule("test.large_values", _large_values)
    officer = _officer(client, session)
    page = officer.get("/submit", params={"lang": "vi"})
    upload = officer.post(
        "/submit",
        data={"csrf_token": token_of(page.text)},
        files={"file": ("september.csv", GOOD_CSV.encode(), "text/csv")},
    )
    # The preview shows the warning first; the receipt, once confirmed, shows it again.
    assert upload.status_code == 200, upload.text
    assert 'data-testid="preview-warnings"' in upload.text and "4200 is above 4,150" in upload.text
    token = re.search(r'name="token" value="([^"]+)"', upload.text)
    assert token is not None
    stored = officer.post("/submit/confirm", data={"csrf_token": token_of(page.text), "token": token.group(1)})
    assert stored.status_code == 201, stored.text
    assert 'data-testid="receipt-warnings"' in stored.text and "4200 is above 4,150" in stored.text
    assert "Stored, with warnings" not in stored.text  # the page speaks Vietnamese


def test_a_rule_sees_the_rows_as_they_would_be_stored(session: Session, rules: None) -> None:
    seen: list[tuple[str, str, float]] = []

    def remember(batch: accept.Batch) -> list[Problem]:
        codes = {info.id: code for code, info in batch.index.indicators.items()}
        seen.extend((codes[row.indicator_id], row.period, row.value) for row in batch.rows)
        return []

    accept.register_rule("test.remember", remember)
    rows = [(1, {"indicator": " ENT_NEW ", "area": "79", "period": "2026-09", "value": "4100"})]
    outcome = accept.accept(session=session, rows=rows, recorded_by="test", dry_run=True)
    assert outcome.accepted and outcome.summary is None
    assert seen == [("ENT_NEW", "2026-09", 4100.0)]


# A small world of data points, so that batches often repeat, change or leave alone what is stored.
_points = st.tuples(
    st.sampled_from(["ENT_NEW", "EXPORTS"]),
    st.sampled_from(["79", "01", "48"]),
    st.sampled_from(["2026-07", "2026-08"]),
)
_batch = st.dictionaries(_points, st.sampled_from([1.0, 2.5, 3.0]), min_size=1, max_size=12)


def _stored_state(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    o, r = Observation, ObservationRevision
    key = (o.indicator_id, o.area_id, o.period, o.dim_key)
    current = session.execute(select(*key, o.value, o.version).order_by(*key)).all()
    history = session.execute(
        select(*key, r.version, r.value).join(o, o.id == r.observation_id).order_by(*key, r.version)
    ).all()
    payloads = [
        json.loads(p)
        for p in session.scalars(
            select(DomainEvent.payload).where(DomainEvent.type == "observation.changed").order_by(DomainEvent.id)
        )
    ]
    events = sorted((p["indicator"], p["seq"], p["area"], p["period"], p["value"], p["version"]) for p in payloads)
    return [tuple(x) for x in current], [tuple(x) for x in history], events


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(_batch, min_size=1, max_size=3))
def test_batches_and_single_rows_store_the_same(session: Session, batches: list[dict[Any, float]]) -> None:
    """Accepting batches whole gives the same observations, history and events as accepting their rows one by one."""

    def rows(batch: dict[Any, float]) -> list[tuple[int, dict[str, Any]]]:
        return [
            (n, {"indicator": i, "area": a, "period": p, "value": v, "status": "final"})
            for n, ((i, a, p), v) in enumerate(batch.items(), start=1)
        ]

    def applied(one_by_one: bool) -> tuple[list[tuple[Any, ...]], ...]:
        nested = session.begin_nested()
        try:
            for batch in batches:
                for part in [[row] for row in rows(batch)] if one_by_one else [rows(batch)]:
                    outcome = accept.accept(session=session, rows=part, recorded_by="test")
                    assert outcome.accepted, outcome.problems
            session.flush()
            return _stored_state(session)
        finally:
            nested.rollback()

    assert applied(one_by_one=False) == applied(one_by_one=True)


# govops ingest with one rule more, registered as a domain registers its rules: when its module is imported.
_INGEST_WITH_A_RULE = """
import sys
from govops.errors import Problem
from govops.warehouse import accept

def large(batch):
    hint = "check the figure with its source"
    return [Problem(f"{row.value:g} is above 4,150", row=row.row, field="value", hint=hint)
            for row in batch.rows if row.value > 4150]

accept.register_rule("test.large_values", large, blocking=sys.argv[1] == "blocking")
from govops.cli.main import app
app(prog_name="govops", args=sys.argv[2:])
"""


@pytest.mark.parametrize("blocking", [False, True])
def test_govops_ingest_prints_warnings_and_stops_at_a_blocking_rule(
    tmp_path: Path, initialised_store: Path, blocking: bool
) -> None:
    store = tmp_path / "govops.db"
    store.write_bytes(initialised_store.read_bytes())
    (tmp_path / "september.csv").write_text(GOOD_CSV)
    govops = Govops(store, tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", _INGEST_WITH_A_RULE, "blocking" if blocking else "warning", "ingest", "september.csv"],
        cwd=tmp_path, env=govops.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    said = "row 3: value: 4200 is above 4,150 [rule.test.large_values] (how to fix: check the figure with its source)"
    if blocking:
        assert run.returncode == 1, run.stderr
        assert "1 problem(s) in 2 row(s); nothing was written" in run.stderr
        assert re.search(
            r"│ 3\s+│ value\s+│ rule.test.large_values\s+│ 4200 is above 4,150\s+│ check the figure with its source",
            run.stderr,
        )
        assert _stored_rows(store) == 0
    else:
        assert run.returncode == 0, run.stderr
        assert f"september.csv: warning: {said}" in run.stdout
        assert "september.csv: 2 rows: 2 new, 0 changed, 0 unchanged" in run.stdout
        assert _stored_rows(store) == 2


def _stored_rows(store: Path) -> int:
    with closing(sqlite3.connect(store)) as db:
        return int(db.execute("SELECT count(*) FROM observation").fetchone()[0])


def _filled_template(officer: TestClient, edit: Callable[[openpyxl.Workbook], None]) -> bytes:
    """The province's template of the group, downloaded from the console and edited as a person would."""
    got = officer.get("/submit/template", params={"group": "ENTERPRISES", "year": 2026})
    assert got.status_code == 200, got.text
    book = openpyxl.load_workbook(io.BytesIO(got.content))
    edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_in_a_value_cell(book: openpyxl.Workbook) -> None:
    sheet = book["ENT_NEW"]
    header = next(r for r in sheet.iter_rows() if any(c.value == "2026-01" for c in r))
    column = next(c.column for c in header if c.value == "2026-01")
    row = next(r[0].row for r in sheet.iter_rows(min_row=header[0].row + 1) if r[0].value == "79")
    sheet.cell(row=row, column=column, value="chưa có")


def _renamed_sheet(book: openpyxl.Workbook) -> None:
    book["ENT_NEW"].title = "Doanh nghiệp"


# Each bad file an officer can upload: its name, its bytes (or how to make it from the template), the answer,
# the problem's code, and words the Vietnamese page must say.
BAD_FILES: list[tuple[str, Any, int, str, str]] = [
    ("bao-cao.pdf", b"%PDF-1.4 a report\n", 415, "unsupported_media_type", "Hệ thống không đọc được tệp bao-cao.pdf"),
    ("empty.xlsx", b"", 400, "empty_file", "Tệp empty.xlsx trống (0 byte)"),
    ("empty.csv", b"", 400, "empty_file", "Tệp empty.csv trống (0 byte)"),
    ("so-lieu.xlsx", _text_in_a_value_cell, 422, "value.not_a_number", "chứa chữ &#39;chưa có&#39;, không phải là số"),
    ("doi-ten.xlsx", _renamed_sheet, 422, "template.sheet_missing", "Thiếu trang tính ENT_NEW"),
    ("dia-ban.csv", b"indicator,area,period,value\nENT_NEW,99999,2026-09,1\n", 422, "area.unknown",
     "Không có địa bàn mã &#39;99999&#39;"),
    ("chi-tieu.csv", b"indicator,area,period,value\nNO_SUCH,79,2026-09,1\n", 422, "indicator.unknown",
     "Không có chỉ tiêu mã &#39;NO_SUCH&#39;"),
    ("tinh-khac.csv", b"indicator,area,period,value\nENT_NEW,01,2026-09,1\n", 422, "area.not_writable",
     "chỉ gửi số liệu của tỉnh 79"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "status", "code", "said"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_each_bad_file_is_refused_in_vietnamese_with_its_place_and_nothing_is_stored(
    client: TestClient, session: Session, name: str, content: Any, status: int, code: str, said: str
) -> None:
    officer = _officer(client, session)
    body = content if isinstance(content, bytes) else _filled_template(officer, content)
    before = _counts(session)
    page = officer.get("/submit", params={"lang": "vi"})
    upload = officer.post(
        "/submit", data={"csrf_token": token_of(page.text)}, files={"file": (name, body, "application/octet-stream")}
    )
    assert upload.status_code == status, upload.text
    assert said in upload.text
    assert english_sentences(upload.text) == []
    assert _counts(session) == before
    stored = session.scalars(select(Submission).where(Submission.file_name == name)).all()
    if status == 422:  # the file was received and refused: its receipt carries the code
        codes = {p.code for p in submissions.stored_entries(stored[0])[0]}
        assert codes == {code}, codes
    if code == "value.not_a_number":
        assert "trang tính ENT_NEW, ô" in upload.text  # the place, in the reader's words
    if code == "unsupported_media_type":
        assert ".xlsx" in upload.text and "application/vnd" not in upload.text


def test_an_api_reader_who_asks_for_vietnamese_gets_the_same_codes_in_vietnamese(
    client: TestClient, session: Session
) -> None:
    auth = {"Authorization": f"Bearer {_member_key(session)}", "Content-Type": "text/csv"}
    english = client.post("/api/v1/observations", content=BAD_CSV.encode(), headers=auth).json()["error"]
    vietnamese = client.post(
        "/api/v1/observations", content=BAD_CSV.encode(), headers={**auth, "Accept-Language": "vi"}
    ).json()["error"]
    assert [(p["row"], p["field"], p["code"]) for p in vietnamese["problems"]] == [
        (p["row"], p["field"], p["code"]) for p in english["problems"]
    ]
    by_code = {p["code"]: p for p in vietnamese["problems"]}
    assert by_code["area.unknown"]["message"] == "Không có địa bàn mã '99999'"
    assert by_code["indicator.unknown"]["hint"].startswith("Dùng mã chỉ tiêu")
    assert english["problems"][0]["message"] == "unknown area '99999'"
