"""Excel uploads that unpack to far more than they weigh (zip bombs) are refused before anything is inflated.

The attack seen: 225 KB that unpacks to 200 MB of sheet XML (a run of zeros packs about 1000:1). The
bombs here keep the ratio but unpack to 20 MB, so that building them stays fast.
"""

from __future__ import annotations

import io
import tracemalloc
import uuid
import zipfile

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.errors import GovopsError
from govops.exchange import service
from govops.interop.excel import read as excel_read
from govops.interop.readers import XLSX
from govops.warehouse.models import Observation
from tests.interop.excel.test_read import fill, make_template
from tests.interop.test_pages import _upload, officer

__all__ = ["officer"]

SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024


def _bomb(unpacked_mb: int = 20, *, declared: int | None = None) -> bytes:
    """A zip with a workbook's parts whose sheet XML is a long run of zeros; ``declared`` lies about its size."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="CPI" r:id="rId1"/></sheets></workbook>')
        with archive.open(SHEET, "w") as part:
            zeros = b"0" * MB
            for _ in range(unpacked_mb):
                part.write(zeros)
    body = bytearray(out.getvalue())
    if declared is not None:
        # The directory's word for the sheet's size, in its local header and in the central directory.
        info = zipfile.ZipFile(io.BytesIO(bytes(body))).getinfo(SHEET)
        body[info.header_offset + 22 : info.header_offset + 26] = declared.to_bytes(4, "little")
        central = body.rindex(b"PK\x01\x02")
        assert body[central + 46 : central + 46 + len(SHEET)] == SHEET.encode()
        body[central + 24 : central + 28] = declared.to_bytes(4, "little")
    return bytes(body)


def _refusal(body: bytes, **limits: int) -> GovopsError:
    with pytest.raises(GovopsError) as caught:
        excel_read.read_workbook(body, where="bomb.xlsx", **limits)
    return caught.value


def test_a_workbook_that_unpacks_to_more_than_its_ratio_allows_is_refused_from_its_directory() -> None:
    body = _bomb(20)
    assert len(body) < 100 * 1024
    tracemalloc.start()
    try:
        error = _refusal(body)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (error.code, error.status, error.where) == ("too_large", 413, "bomb.xlsx")
    assert error.message.startswith("the workbook unpacks to 20.0 MB; a workbook of ")
    assert error.message.endswith("may unpack to at most 8.0 MB")
    assert peak < 2 * MB  # nothing was inflated


def test_a_part_that_inflates_past_its_declared_size_is_refused_while_inflating() -> None:
    body = _bomb(20, declared=1000)
    tracemalloc.start()
    try:
        error = _refusal(body)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (error.code, error.where) == ("corrupt_file", "bomb.xlsx")
    assert f"part {SHEET} unpacks to more than the 1,000 bytes it declares" in error.message
    assert peak < 8 * MB  # inflated a step at a time, and stopped at the first step past 1,000 bytes


def test_the_limits_are_a_ratio_of_the_upload_and_an_absolute_cap() -> None:
    book = openpyxl.Workbook()
    book.active.append(["area", "2025-01"])  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    plain = out.getvalue()
    unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(plain)).infolist())
    # Within the defaults it is read (and found not to be a template).
    assert _refusal(plain).code == "not_a_template"
    capped = _refusal(plain, max_unpacked_bytes=unpacked - 1)
    assert capped.code == "too_large" and f"may unpack to at most {unpacked - 1} bytes" in capped.message
    # The ratio makes room for at least MIN_UNPACKED_BYTES: under it, a bomb is opened (and lacks a workbook's parts).
    assert _refusal(_bomb(4), unpacked_ratio=1).code == "corrupt_file"
    assert _refusal(_bomb(9), unpacked_ratio=1).code == "too_large"


def _observations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Observation)) or 0


def test_a_zip_bomb_submitted_over_the_api_is_rejected_and_the_retry_answers_the_same(
    session: Session, client: TestClient
) -> None:
    member = service.create_member(session=session, agency="PC-79", system="ioc", name="")
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    key = service.issue_key(session=session, member=member).key
    headers = {"Authorization": f"Bearer {key}", "Content-Type": XLSX, "Idempotency-Key": uuid.uuid4().hex}
    before = _observations(session)
    body = _bomb(20)
    first = client.post("/api/v1/submissions", content=body, headers=headers)
    assert first.status_code == 422, first.text
    [problem] = first.json()["error"]["problems"]
    assert problem["where"] == "submission" and "may unpack to at most 8.0 MB" in problem["message"]
    assert first.json()["submission"]["status"] == "rejected"
    assert _observations(session) == before
    again = client.post("/api/v1/submissions", content=body, headers=headers)
    assert (again.status_code, again.json()) == (422, first.json())


def test_a_zip_bomb_uploaded_on_the_console_is_refused_and_nothing_is_stored(
    officer: TestClient, session: Session
) -> None:
    before = _observations(session)
    status, page = _upload(officer, _bomb(20, declared=1000), name="bomb.xlsx")
    assert status == 422
    assert "bomb.xlsx: the file cannot be read. Correct it and upload it again." in page
    assert "unpacks to more than the 1,000 bytes it declares" in page
    assert _observations(session) == before


def test_a_breakdown_nested_thousands_deep_in_a_template_layout_is_refused() -> None:
    deep = '{"COICOP_VN": ' * 1000 + '"01"' + "}" * 1000
    error = _refusal(fill(make_template(), {"_govops": {"F11": deep}}))
    assert (error.code, error.where) == ("damaged_template", "bomb.xlsx, sheet _govops")
    assert "row 11: the breakdown is nested too deeply to read" in error.message
