"""The demo's data-quality supervision: the validation rules shipped for the reference catalogue, and a few values
sent wrong on purpose (DEMO: made up) so that the quality dashboard has flags to follow up.

Each slip is a value of the demo data sent again, wrong, by the province's people's committee through the accept
pipeline, in the last month (or quarter) of the data: the checks find it as they would a real one. The flags are
marked `demo` and the console labels them so.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.periods import Period
from govops.quality import service
from govops.quality.models import QualityFlag, QualityRule
from govops.warehouse.accept import ingest
from govops.warehouse.models import Observation

DEMO_RECORDER = "demo"


@dataclass(frozen=True)
class Slip:
    indicator: str
    area: str
    agency: str
    kind: str  # x1000, sign, swap, frozen
    periods_back: int = 0  # 0: the series' last period


# A unit slip of exports (Đà Nẵng), a sign error of new enterprises (Hồ Chí Minh City, the demo officer's), two
# digits swapped in retail sales (Hà Nội), a frozen figure of accommodation and catering revenue (Khánh Hòa).
SLIPS = (
    Slip("EXPORTS", "48", "PC-48", "x1000"),
    Slip("ENT_NEW", "79", "PC-79", "sign", periods_back=1),
    Slip("RETAIL_SALES", "01", "PC-01", "swap"),
    Slip("ACCOM_CATERING_REV", "56", "PC-56", "frozen"),
)


def loaded(*, session: Session) -> bool:
    return session.scalar(select(QualityRule.id).where(QualityRule.demo.is_(True)).limit(1)) is not None


def load(*, session: Session) -> tuple[int, int]:
    """The rule set and the slips; (rules, flags raised)."""
    text = files("govops.quality").joinpath("demo_rules.yaml").read_text(encoding="utf-8")
    rules = service.import_rules(session=session, text=text, where="demo_rules.yaml", by=DEMO_RECORDER, demo=True)
    before = session.scalar(select(func.max(QualityFlag.id))) or 0
    rows: list[tuple[int, dict[str, object]]] = []
    for slip in SLIPS:
        for period, value in _slipped(session, slip):
            rows.append(
                (
                    len(rows) + 1,
                    {"indicator": slip.indicator, "area": slip.area, "period": period, "value": value,
                     "source": slip.agency},
                )
            )  # fmt: skip
    if rows:
        ingest(session=session, rows=rows, recorded_by=DEMO_RECORDER, where="demo quality slips")
    session.execute(update(QualityFlag).where(QualityFlag.id > before).values(demo=True))
    raised = session.scalar(select(func.count()).select_from(QualityFlag).where(QualityFlag.id > before)) or 0
    return len(rules), int(raised)


def _slipped(session: Session, slip: Slip) -> list[tuple[str, float]]:
    o = Observation
    stored = session.execute(
        select(o.period, o.value)
        .join(Indicator, Indicator.id == o.indicator_id)
        .join(Area, Area.id == o.area_id)
        .where(Indicator.code == slip.indicator, Area.code == slip.area, o.dim_key == "")
        .order_by(o.period_start.desc())
        .limit(4)
    ).all()
    if len(stored) < 4:
        return []
    period, value = stored[slip.periods_back]
    if slip.kind == "x1000":
        return [(period, value * 1000)]
    if slip.kind == "sign":
        return [(period, -value)]
    if slip.kind == "swap":
        text = f"{value:.1f}"
        swapped = float(text[1] + text[0] + text[2:]) if text[0] != text[1] else value * 1.5
        return [(period, swapped)]
    # Frozen: the value of three periods back, repeated in the last three.
    first = Period.parse(stored[3][0])
    return [(str(first + step), stored[3][1]) for step in (1, 2, 3)]
