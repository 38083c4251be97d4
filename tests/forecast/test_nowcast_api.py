"""GET /api/v1/nowcasts/{indicator} on the store's own series: GDP growth nowcast from the monthly releases, the
news naming the release that moved it; too little data said, not guessed."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.warehouse.accept import accept


def store(session: Session, rows: list[tuple[str, str, float]]) -> None:
    outcome = accept(
        session=session,
        rows=[
            (n, {"indicator": code, "area": "VN", "period": period, "value": value})
            for n, (code, period, value) in enumerate(rows, start=1)
        ],
        recorded_by="test",
    )
    assert outcome.accepted, outcome.problems


def store_history(session: Session) -> np.ndarray:
    """IIP and exports monthly to 2025-02 and GDP quarterly to 2024-Q4 whose growth follows theirs (made up for
    the tests); returns the IIP levels."""
    rng = np.random.default_rng(1)
    months = [f"{y}-{m:02d}" for y in range(2014, 2026) for m in range(1, 13)][:134]  # to 2025-02
    level = 100 * np.exp(np.cumsum(0.005 + rng.normal(0, 0.01, len(months))))
    rows = [("IIP", p, round(float(v), 3)) for p, v in zip(months, level, strict=True)]
    rows += [("EXPORTS", p, round(float(v) * 300, 1)) for p, v in zip(months, level * 1.1, strict=True)]
    growth = 100 * (level[12:] / level[:-12] - 1)
    gdp = 1e6 * np.exp(np.cumsum(0.015 + rng.normal(0, 0.002, 44)))  # 2014-Q1 .. 2024-Q4, levels
    for q in range(12, 44):  # the quarters' growth follows the months'
        gdp[q] = gdp[q - 4] * (1 + (np.mean(growth[3 * (q - 4) : 3 * (q - 4) + 3]) * 0.8 + 1) / 100)
    rows += [("GDP_CONST2010", f"{2014 + q // 4}-Q{q % 4 + 1}", round(float(gdp[q]), 1)) for q in range(44)]
    store(session, rows)
    return level


def test_the_nowcast_of_gdp_growth_and_its_news(client: TestClient, session: Session) -> None:
    assert client.get("/api/v1/nowcasts/GDP_CONST2010").status_code == 404
    store_history(session)
    session.commit()
    got = client.get("/api/v1/nowcasts/GDP_CONST2010")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["quarter"] == "2025Q1" and isinstance(body["value"], float)
    assert {n["indicator"] for n in body["news"]} == {"IIP", "EXPORTS"}
    assert sum(n["impact"] for n in body["news"]) == pytest.approx(body["value"] - body["before"], abs=1e-6)
