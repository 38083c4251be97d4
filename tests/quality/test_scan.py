"""The scan of the whole store: it finds what arrived without being judged, raises each flag once however often it
runs, and is a scheduled job of the worker (nightly and after each reporting deadline)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.assembly import every_job
from govops.jobs.schedule import At, Daily
from govops.quality import service
from govops.quality.models import QualityFlag
from govops.settings import Settings
from govops.warehouse.accept import ingest
from tests.cli.conftest import Govops, govops, initialised_store
from tests.quality.conftest import FIRST, MONTHS, seasonal

__all__ = ["govops", "initialised_store"]


def _unjudged(session: Session) -> None:
    """Six years of exports of Hồ Chí Minh City with a frozen run and a sign error, loaded without the checks."""
    values = [seasonal(2100.0, m) for m in range(MONTHS)]
    values[60:64] = [values[59]] * 4  # 2024-01..2024-04 repeat December's figure
    values[66] = -values[66]  # 2024-07
    rows = [(m + 1, {"indicator": "EXPORTS", "area": "79", "period": str(FIRST + m), "value": v, "source": "PC-79"})
            for m, v in enumerate(values)]  # fmt: skip
    ingest(session=session, rows=rows, recorded_by="test", rules=False)


def test_the_scan_flags_what_arrived_unjudged_once_however_often_it_runs(session: Session) -> None:
    _unjudged(session)
    first = service.scan(session=session, since=date(2023, 1, 1))
    assert (first.series, first.found, first.raised) == (1, 5, 5)
    flags = session.execute(select(QualityFlag.period, QualityFlag.method).order_by(QualityFlag.period)).all()
    assert [tuple(f) for f in flags] == [
        ("2024-01", "frozen"), ("2024-02", "frozen"), ("2024-03", "frozen"), ("2024-04", "frozen"),
        ("2024-07", "sign_error"),
    ]  # fmt: skip
    again = service.scan(session=session, since=date(2023, 1, 1))
    assert (again.found, again.raised) == (5, 0)
    assert session.scalar(select(func.count()).select_from(QualityFlag)) == 5
    # Judged from `since` on only: the values before are history.
    assert service.scan(session=session, since=date(2024, 5, 1)).found == 1


def test_the_scan_is_a_nightly_job_and_runs_after_each_reporting_deadline(tmp_path: Path) -> None:
    jobs = {job.name: job for job in every_job(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))}
    assert isinstance(jobs["quality.nightly-scan"].schedule, Daily)
    assert isinstance(jobs["quality.after-deadlines"].schedule, At)


def test_rules_import_export_and_the_scan_from_the_command_line(govops: Govops, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {code: BUDGET_PARTS, name_vi: Thu nội địa và thu từ hải quan không vượt tổng thu,"
        " name_en: Domestic and customs revenue within the total, left: DOMESTIC_REVENUE + TRADE_REVENUE,"
        " operator: '<=', right: BUDGET_REVENUE, tolerance: 0.01}\n",
        encoding="utf-8",
    )
    done = govops("quality", "rules", "import", str(rules))
    assert done.code == 0, done.err
    assert "rules.yaml: 1 rules saved" in done.out
    exported = govops("quality", "rules", "export")
    assert "code: BUDGET_PARTS" in exported.out and "right: BUDGET_REVENUE" in exported.out
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {code: X, name_vi: x, name_en: x, left: NOPE, operator: '==', right: CPI}\n")
    refused = govops("quality", "rules", "import", str(bad))
    assert refused.code == 1
    said = " ".join((refused.out + refused.err).split())
    assert "bad.yaml[1] X.left" in said and "NOPE, which is not in the catalogue" in said
    scanned = govops("quality", "scan")
    assert scanned.code == 0, scanned.err
    assert "0 new flags" in scanned.out
