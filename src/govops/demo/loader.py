"""Loading the made-up demonstration data set into a store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.demo.generator import generate
from govops.periods import Freq, Period
from govops.warehouse.accept import ingest
from govops.warehouse.areas import AreaTree
from govops.warehouse.models import Observation
from govops.warehouse.schemas import WriteSummary
from govops.warehouse.validation import CatalogIndex

DEMO_RECORDER = "demo"


def default_end_month(today: date | None = None) -> str:
    """The last month with data: the one before the current month, as statistics are published."""
    return str(Period.from_date(today or date.today(), Freq.M).previous())


def demo_loaded(*, session: Session) -> bool:
    cpi = session.scalar(select(Indicator.id).where(Indicator.code == "CPI"))
    return (
        cpi is not None
        and session.scalar(select(Observation.id).where(Observation.indicator_id == cpi).limit(1)) is not None
    )


def predecessors(*, session: Session) -> dict[str, list[str]]:
    """Each current province and the pre-2025 provinces merged into it (itself included)."""
    tree = AreaTree.load(session)
    out: dict[str, list[str]] = {}
    for area in session.scalars(select(Area).where(Area.level == "province", Area.valid_to.is_(None))):
        merged = tree.predecessors.get(area.id, [])
        if merged:
            out[area.code] = sorted([area.code, *(tree.nodes[m].code for m in merged)])
    return out


def load_demo(
    *,
    session: Session,
    end_month: str | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 20_000,
    withheld: Callable[[str, str, str], bool] | None = None,
) -> WriteSummary:
    """Write the demo data through the same checks as any submission (the caller commits). `withheld`
    (indicator, area, period) keeps back the values the demo's reporting plan says never arrived."""
    index = CatalogIndex(session)
    total = WriteSummary()
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        # Made-up history is judged against nothing: the rules (quality checks among them) are for arriving data.
        summary = ingest(
            session=session, rows=batch, recorded_by=DEMO_RECORDER, index=index, where="demo data", rules=False
        )
        total.received += summary.received
        total.created += summary.created
        total.updated += summary.updated
        total.unchanged += summary.unchanged
        total.recorded_at = summary.recorded_at
        if progress:
            progress(len(batch))
        batch.clear()

    observations = generate(end_month=end_month or default_end_month(), predecessors=predecessors(session=session))
    for number, obs in enumerate(observations, start=1):
        if withheld is not None and not obs.dims and withheld(obs.indicator, obs.area, obs.period):
            continue
        batch.append(
            (
                number,
                {
                    "indicator": obs.indicator,
                    "area": obs.area,
                    "period": obs.period,
                    "value": obs.value,
                    "dims": obs.dims,
                    "status": obs.status,
                },
            )
        )
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    return total


DEMO_PASSWORD = "govops-demo"
DEMO_USERS = (
    ("admin", "administrator", "GO", "Quản trị hệ thống (demo)"),
    ("analyst", "analyst", "GO", "Chuyên viên phân tích, Văn phòng Chính phủ (demo)"),
    ("officer", "data_officer", "PC-79", "Cán bộ dữ liệu, UBND TP. Hồ Chí Minh (demo)"),
    ("viewer", "viewer", "MOF", "Người xem, Bộ Tài chính (demo)"),
)


def ensure_demo_users(*, session: Session) -> list[tuple[str, str, str]]:
    """One user per role, created once; returns (username, role, agency) for the sign-in instructions."""
    from govops.auth.models import User
    from govops.auth.service import create_user

    existing = set(session.scalars(select(User.username)))
    for username, role, agency, full_name in DEMO_USERS:
        if username not in existing:
            create_user(
                session=session,
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                agency=agency,
                role=role,
            )
    _ensure_console_grants(session)
    return [(username, role, agency) for username, role, agency, _ in DEMO_USERS]


# What the demo officer's agency may submit from the console's Submit data page.
DEMO_CONSOLE_GRANTS = {"PC-79": ("ENTERPRISES", "TRADE", "PUBLIC_FINANCE")}


def _ensure_console_grants(session: Session) -> None:
    from govops.catalog.models import Agency
    from govops.exchange import service

    for code, groups in DEMO_CONSOLE_GRANTS.items():
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            continue
        member = service.console_member(session=session, agency=agency)
        for group in groups:
            service.grant(session=session, member=member, group=group, read=True, write=True)
