"""`govops demo` loads reporting regimes labelled demo with a deterministic, believable mix over 12 periods."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.db.engine import make_engine
from govops.demo.reporting import outcome
from govops.reporting import service
from govops.reporting.models import ExpectedReport, Regime


def test_the_demo_has_four_or_more_regimes_with_a_mix_of_every_status(demo_folder: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_folder / 'govops.db'}")
    try:
        with Session(engine) as session:
            regimes = {r.id: r for r in session.scalars(select(Regime))}
            assert len(regimes) >= 4 and all(r.demo for r in regimes.values())
            assert {v.legal_basis for r in regimes.values() for v in r.versions} >= {
                "Nghị định 09/2019/NĐ-CP",
                "Nghị định 29/2021/NĐ-CP",
            }
            counts = Counter(
                (regimes[regime_id].code, status)
                for regime_id, status in session.execute(select(ExpectedReport.regime_id, ExpectedReport.status))
            )
            for code in ("DEMO_KTXH_TINH_THANG", "DEMO_GIAI_NGAN_DTC_THANG"):
                periods = {p for (p,) in session.execute(select(ExpectedReport.period).where(
                    ExpectedReport.regime_id.in_([i for i, r in regimes.items() if r.code == code])))}  # fmt: skip
                assert len(periods) >= 12
                statuses = {s: n for (c, s), n in counts.items() if c == code}
                assert set(statuses) == {"on_time", "late", "partial", "missing", "not_due"}, statuses
                # Mostly on time, as a real regime runs.
                assert statuses["on_time"] > statuses["late"] > statuses["missing"]
            # The demo officer's province always reports, if not always on time.
            hcm = session.scalars(
                select(ExpectedReport.status).where(
                    ExpectedReport.agency_id == service.get_agency(session=session, code="PC-79").id
                )
            ).all()
            assert "missing" not in hcm and "partial" not in hcm and "on_time" in hcm
            # Separate reports whose every figure already arrives as data are abolition candidates, except that a
            # signed report remains where one is asked; regimes replaced by data already are not listed.
            candidates = [
                (c.regime.code, c.signed_report_remains) for c in service.abolition_candidates(session=session)
            ]
            assert candidates == [("DEMO_BO_NGANH_QUY", True), ("DEMO_DOANH_NGHIEP_THANG", False)]
    finally:
        engine.dispose()
    # Deterministic: the same report always has the same fate.
    assert outcome("DEMO_KTXH_TINH_THANG", "PC-46", "2026-03") == outcome("DEMO_KTXH_TINH_THANG", "PC-46", "2026-03")
