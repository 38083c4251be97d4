"""`govops demo` sets data quality up: the rule set, four values sent wrong on purpose (labelled demo), their
flags on the dashboard, and the demo officer of Hồ Chí Minh City told of the one on its data."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.models import Indicator
from govops.db.engine import make_engine
from govops.notify.models import Notification
from govops.quality.models import QualityFlag, QualityRule


def test_the_demo_loads_the_rules_and_flags_four_values_sent_wrong(demo_folder: Path) -> None:
    assert "demo quality: 4 validation rules, 7 flags on values sent wrong (DEMO: made up)" in " ".join(
        (demo_folder / "demo.out").read_text(encoding="utf-8").split()
    )
    engine = make_engine(f"sqlite:///{demo_folder / 'govops.db'}")
    with Session(engine) as session:
        rules = session.scalars(select(QualityRule)).all()
        assert len(rules) == 4 and all(r.demo for r in rules)
        flags = session.execute(
            select(Indicator.code, QualityFlag.method, QualityFlag.demo).join(
                Indicator, Indicator.id == QualityFlag.indicator_id
            )
        ).all()
        assert {(code, method) for code, method, _ in flags} == {
            ("EXPORTS", "unit_slip"), ("EXPORTS", "rule"), ("ENT_NEW", "sign_error"), ("RETAIL_SALES", "digit_swap"),
            ("ACCOM_CATERING_REV", "frozen"),
        }  # fmt: skip
        assert all(demo for _, _, demo in flags)
        officer = session.scalars(select(User).where(User.username == "officer")).one()
        told = session.scalars(select(Notification.link).where(Notification.user_id == officer.id)).all()
        assert any(link and link.startswith("/quality/flags/") for link in told)
    engine.dispose()
