"""The demo's early-warning thresholds: the National Assembly's CPI ceilings for 2025 and 2026 (cited), and levels
made up to show the other kinds (labelled DEMO in their names and sources). Forecasts themselves are made by the
forecast refresh job once the worker runs."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.forecast import service
from govops.forecast.models import ForecastThreshold

DEMO_RECORDER = "demo"


def loaded(*, session: Session) -> bool:
    return session.scalar(select(ForecastThreshold.id).limit(1)) is not None


def load(*, session: Session) -> int:
    """The shipped thresholds; how many."""
    text = files("govops.forecast").joinpath("thresholds.yaml").read_text(encoding="utf-8")
    return len(service.import_thresholds(session=session, text=text, where="thresholds.yaml", by=DEMO_RECORDER))
