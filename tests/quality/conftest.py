"""What the quality tests share: a seasonal history stored through the accept pipeline, agency systems' keys and
submissions, and the demo rule set."""

from __future__ import annotations

import json
import uuid
from importlib.resources import files
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.exchange import service as exchange
from govops.periods import Period
from govops.quality import service
from govops.quality.models import QualityRule
from govops.warehouse.accept import ingest

SHAPE = [0.8, 0.7, 0.9, 1.0, 1.0, 0.9, 1.1, 1.2, 1.0, 1.1, 1.3, 1.8]
NOISE = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.015, 0.985]
FIRST = Period.parse("2019-01")
MONTHS = 72  # 2019-01 .. 2024-12; the test's month is 2025-01, or later


def seasonal(level: float, month: int) -> float:
    """A believable monthly value: growth, a December rush, a little noise."""
    return round(level * 1.06 ** (month / 12) * SHAPE[month % 12] * NOISE[month % len(NOISE)], 1)


def store_history(session: Session, indicator: str, areas: dict[str, float], *, months: int = MONTHS) -> None:
    """`months` of monthly values from 2019-01 for each area (its level), through the accept pipeline."""
    rows = [
        (n, {"indicator": indicator, "area": area, "period": str(FIRST + m), "value": seasonal(level, m)})
        for n, (area, level, m) in enumerate(((a, lv, m) for a, lv in areas.items() for m in range(months)), 1)
    ]
    ingest(session=session, rows=rows, recorded_by="test")


def expected(level: float, period: str) -> float:
    return seasonal(level, Period.parse(period) - FIRST)


def key(session: Session, agency: str, *groups: str) -> dict[str, str]:
    member = exchange.create_member(session=session, agency=agency, system=f"sys-{agency.lower()}", name="")
    for group in groups:
        exchange.grant(session=session, member=member, group=group, read=True, write=True)
    return {"Authorization": f"Bearer {exchange.issue_key(session=session, member=member).key}"}


def submit(client: TestClient, headers: dict[str, str], *rows: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/submissions",
        content=json.dumps({"observations": list(rows)}).encode(),
        headers=headers | {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
    )


def demo_rules(session: Session) -> list[QualityRule]:
    text = files("govops.quality").joinpath("demo_rules.yaml").read_text(encoding="utf-8")
    return service.import_rules(session=session, text=text, where="demo_rules.yaml", by="test")
