"""The year's targets for the demonstration console: the National Assembly's resolution on the year's plan as
published (cited in `targets.yaml`), and DEMO targets under the Government's Resolution 01/NQ-CP set from the demo
data, each cascaded to the 34 provinces with DEMO values that add up to the national one. Deterministic (one seed).

A target's value is its indicator's previous-year figure grown by the file's `growth`; each province's by a
growth drawn around it, so that some provinces run ahead and some behind, and the board shows a mix of ratings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.targets import service
from govops.targets.models import Target
from govops.targets.schemas import CascadeIn, PlanIn, TargetIn
from govops.tasks.models import Task
from govops.warehouse.series import SeriesQuery, compute_series

SEED = 17
PROVINCE_SPREAD = 0.06  # the provinces' growth targets around the national one


@dataclass
class Loaded:
    plans: int
    targets: int


def loaded(*, session: Session) -> bool:
    return session.scalar(select(Target.id).limit(1)) is not None


def _annual(session: Session, code: str, areas: list[str], year: int) -> dict[str, float]:
    views = compute_series(session=session, query=SeriesQuery.of(code, areas, freq="A", start=str(year), end=str(year)))
    return {v.area: p.value for v in views for p in v.points if p.value is not None and p.period == str(year)}


def _tasks_about(session: Session, words: str | None) -> list[int]:
    """A few demo tasks whose text is about the target's topic (they serve it)."""
    if not words:
        return []
    stmt = select(Task.id).where(Task.text.contains(words), Task.parent_id.is_(None)).order_by(Task.id).limit(3)
    return list(session.scalars(stmt))


def prepare(*, session: Session, year: int | None = None) -> tuple[list[PlanIn], list[TargetIn]]:
    """The plans and targets to enter, read from the demo data in a reading session (on SQLite, reading in the
    writing transaction would wait on itself)."""
    year = year or date.today().year
    spec: dict[str, Any] = yaml.safe_load(resources.files("govops.demo").joinpath("targets.yaml").read_text("utf-8"))
    plans = [PlanIn.model_validate(plan) for plan in spec["plans"]]
    items = [TargetIn.model_validate({**t, "period": str(year)}) for t in spec["targets"]]
    rng = random.Random(SEED)
    today = date.today()
    provinces = sorted(
        a.code for a in session.scalars(select(Area).where(Area.level == "province")) if a.valid_on(today)
    )
    for entry in spec["demo"]:
        ind = session.scalar(select(Indicator).where(Indicator.code == entry["indicator"]))
        assert ind is not None
        cascade = ind.area_aggregation == "sum"
        before = _annual(session, ind.code, ["VN", *provinces] if cascade else ["VN"], year - 1)
        if "VN" not in before:
            continue
        shares = []
        if cascade:
            for code in provinces:
                if code in before:
                    growth = entry["growth"] + rng.gauss(0, PROVINCE_SPREAD)
                    shares.append(CascadeIn(area=code, value=round(before[code] * (1 + growth), ind.decimals)))
        national = sum(s.value for s in shares) if shares else round(before["VN"] * (1 + entry["growth"]), 1)
        items.append(
            TargetIn(
                code=entry["code"],
                plan="01/NQ-CP/2026",
                name_vi=entry["name_vi"],
                name_en=entry["name_en"],
                indicator=ind.code,
                comparator="at_least",
                value=round(national, ind.decimals),
                unit=ind.unit.code,
                period=str(year),
                base_value=round(before["VN"], ind.decimals),
                base_year=year - 1,
                article="DEMO",
                note="DEMO: giá trị giả định trên dữ liệu demo, không phải giá trị của nghị quyết.",
                demo=True,
                agencies=entry["agencies"],
                tasks=_tasks_about(session, entry.get("tasks_about")),
                cascade=shares,
            )
        )
    return plans, items


def load(*, session: Session, prepared: tuple[list[PlanIn], list[TargetIn]]) -> Loaded:
    plans, items = prepared
    for plan in plans:
        service.create_plan(session=session, data=plan)
    saved = service.save_targets(session=session, items=items)
    return Loaded(plans=len(plans), targets=len(saved))
