"""Targets of the Government's resolutions and plans: entering them (with their cascade to provinces and
ministries), and what the data say of each one, recomputed whenever data arrive (`follow_changes`, run by the
worker as soon as a commit with observation changes wakes it, outside the submitter's transaction) and by the
refresh job: the figure so far, the trajectory to the target, the gap, the expected value at the period's end and
the probability of meeting the target (from the stored forecasts of the remaining periods, or else from the past
years' path), the rating and its history, and the provinces pulling it down. When the probability falls below a
target's threshold, or its rating worsens, an alert goes on the outbox (webhooks, SSE, change feed) and to the
responsible agencies' people, naming the provinces and the overdue linked tasks.

Keyword-only functions taking a session; they flush, never commit (the caller owns the transaction).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.formulas import parse_formula
from govops.catalog.models import Agency, Area, Indicator
from govops.catalog.snapshot import CatalogueSnapshot, catalogue_for_writer
from govops.db.base import utcnow
from govops.errors import GovopsError, Problem, Rejected, lazy_gettext
from govops.events.service import Event, Follower, ReadRule, emit, follow, newest_id, pending
from govops.forecast import service as forecasts
from govops.notify.kinds import Kind, register
from govops.notify.service import notify
from govops.periods import Freq, Period, PeriodError
from govops.targets import progress as pg
from govops.targets.models import (
    COMPARATORS,
    LEVELS,
    PLAN_KINDS,
    RATINGS,
    Target,
    TargetAgency,
    TargetPlan,
    TargetProgress,
    TargetRating,
    TargetTask,
)
from govops.targets.schemas import BoardRow, CascadeIn, PathPoint, PlanIn, TargetIn, TargetOut
from govops.tasks import service as tasks
from govops.warehouse.aggregation import combine
from govops.warehouse.areas import AreaTree
from govops.warehouse.changes import TOPIC as OBSERVATIONS
from govops.warehouse.changes import TYPE as OBSERVATION_CHANGED
from govops.warehouse.series import PERCENT_UNITS, SeriesQuery, Shared, compute_series, ytd_rule

TOPIC = "targets"
HISTORY_YEARS = 6
WARNED_ROLES = ("analyst",)
MAX_DRIVERS = 3
_SHARED = "govops.targets.shared"
YOY = re.compile(r"^\s*yoy\(\s*(?:ytd\(\s*)?([A-Z][A-Z0-9_]*)\s*\)?\s*\)\s*$")

TARGET_ALERT = register(
    Kind(
        "target_alert",
        subject=lazy_gettext("Target at risk: %(target)s"),
        body=lazy_gettext(
            "%(target)s (%(area)s, %(period)s): the probability of meeting it is now %(probability)s (it was "
            "%(before)s), rated %(rating)s. Contributing most to the shortfall: %(drivers)s. Overdue tasks that "
            "serve it: %(tasks)s."
        ),
        params=("target", "area", "period", "probability", "before", "rating", "drivers", "tasks"),
    )
)


# --- entering plans and targets ----------------------------------------------------------------------


def _problem(code: str, message: str, hint: str, *, where: str, row: int | None = None, **params: Any) -> Problem:
    return Problem.of(code, message, hint, row=row, field=where, where=where, **params)


def create_plan(*, session: Session, data: PlanIn) -> TargetPlan:
    if data.kind not in PLAN_KINDS:
        raise GovopsError.of(
            "target_bad_plan_kind",
            lazy_gettext("no kind of plan '%(kind)s'"),
            lazy_gettext("write resolution, decision, five_year_plan or programme"),
            where="kind",
            kind=data.kind,
        )
    found = session.scalar(select(TargetPlan).where(TargetPlan.code == data.code.strip()))
    if found is not None:
        for key, value in data.model_dump().items():
            setattr(found, key, value.strip() if isinstance(value, str) else value)
        session.flush()
        return found
    plan = TargetPlan(**{k: v.strip() if isinstance(v, str) else v for k, v in data.model_dump().items()})
    session.add(plan)
    session.flush()
    return plan


@dataclass
class _Checked:
    data: TargetIn
    plan: TargetPlan
    indicator: Indicator | None
    area: Area
    agency: Agency | None
    agencies: list[Agency]
    cascade: list[tuple[CascadeIn, Area | None, Agency | None, list[Agency]]] = field(default_factory=list)


def _unit_problem(ind: Indicator, data: TargetIn, row: int | None) -> Problem | None:
    unit = data.unit.strip().upper()
    if unit and unit != ind.unit.code:
        return _problem(
            "target_unit_mismatch",
            lazy_gettext("the target is in %(unit)s but %(indicator)s is measured in %(expected)s"),
            lazy_gettext("state the value in %(expected)s, or choose the indicator the target is about"),
            where="unit",
            row=row,
            unit=unit,
            indicator=ind.code,
            expected=ind.unit.code,
        )
    percent = ind.unit.code in PERCENT_UNITS
    if percent and data.value is not None and abs(data.value) > 1000:
        return _problem(
            "target_unit_mismatch",
            lazy_gettext("%(figure)s is no percentage: %(indicator)s is measured in %(expected)s"),
            lazy_gettext("write the value as a percentage (10 for 10%%)"),
            where="value",
            row=row,
            figure=data.value,
            indicator=ind.code,
            expected=ind.unit.code,
        )
    amount = not percent and not ind.unit.code.startswith("INDEX") and not ind.crosses_zero
    if amount and data.value is not None and data.value < 0:
        return _problem(
            "target_unit_mismatch",
            lazy_gettext("%(indicator)s in %(expected)s cannot be %(figure)s"),
            lazy_gettext(
                "a count or an amount is never negative; a target on its growth goes on a growth indicator in %%"
            ),
            where="value",
            row=row,
            figure=data.value,
            indicator=ind.code,
            expected=ind.unit.code,
        )
    return None


def _period_problem(ind: Indicator | None, text: str, row: int | None) -> Problem | None:
    try:
        period = Period.parse(text)
    except PeriodError:
        return _problem(
            "target_bad_period",
            lazy_gettext("'%(period)s' is not a period"),
            lazy_gettext("write a year (2026), a quarter (2026-Q2) or a plan's years (2026/2030)"),
            where="period",
            row=row,
            period=text,
        )
    if ind is None:
        return None
    base = Freq(ind.periodicity)
    if period.freq.rank < base.rank or (
        period.freq != base and ind.time_aggregation == "none" and ind.formula is None and not period.freq.years
    ):
        return _problem(
            "target_period_not_in_indicator",
            lazy_gettext("%(indicator)s has no figure for %(period)s: its periods are like %(example)s"),
            lazy_gettext("set the target for a period the indicator has (a year, or its own periods)"),
            where="period",
            row=row,
            indicator=ind.code,
            period=text,
            example=base.example,
        )
    return None


def _agencies(
    session: Session, codes: Sequence[str], where: str, row: int | None, problems: list[Problem]
) -> list[Agency]:
    found = []
    for code in codes:
        agency = session.scalar(select(Agency).where(Agency.code == code.strip().upper()))
        if agency is None:
            problems.append(
                _problem(
                    "target_unknown_agency",
                    lazy_gettext("no agency with the code %(agency)s"),
                    lazy_gettext("use an agency code of the catalogue (GET /api/v1/agencies)"),
                    where=where,
                    row=row,
                    agency=code,
                )
            )
        else:
            found.append(agency)
    return found


def check_target(session: Session, data: TargetIn, *, row: int | None = None) -> tuple[_Checked | None, list[Problem]]:
    """Every problem with one target (and its cascade), each saying where and how to fix it."""
    problems: list[Problem] = []
    plan = session.scalar(select(TargetPlan).where(TargetPlan.code == data.plan.strip()))
    if plan is None:
        problems.append(
            _problem(
                "target_unknown_plan",
                lazy_gettext("no plan %(plan)s"),
                lazy_gettext("enter the plan (the document) first, or list it in the file's plans"),
                where="plan",
                row=row,
                plan=data.plan,
            )
        )
    ind: Indicator | None = None
    if data.indicator:
        ind = session.scalar(select(Indicator).where(Indicator.code == data.indicator.strip().upper()))
        if ind is None:
            problems.append(
                _problem(
                    "target_unknown_indicator",
                    lazy_gettext("no indicator %(indicator)s"),
                    lazy_gettext("see `govops catalog list` for the codes, or leave it out for a qualitative target"),
                    where="indicator",
                    row=row,
                    indicator=data.indicator,
                )
            )
    if data.comparator not in COMPARATORS:
        problems.append(
            _problem(
                "target_bad_comparator",
                lazy_gettext("no comparator '%(comparator)s'"),
                lazy_gettext("write at_least, at_most, between or about"),
                where="comparator",
                row=row,
                comparator=data.comparator,
            )
        )
    if ind is not None and data.value is None:
        problems.append(
            _problem(
                "target_no_value",
                lazy_gettext("a target on %(indicator)s needs a value"),
                lazy_gettext("give the value to reach"),
                where="value",
                row=row,
                indicator=ind.code,
            )
        )
    if data.comparator == "between" and (data.value is None or data.value_high is None or data.value_high < data.value):
        problems.append(
            _problem(
                "target_bad_band",
                lazy_gettext("'between' needs a value and a higher value_high"),
                lazy_gettext("write the band's two ends: value 5400, value_high 5500"),
                where="value_high",
                row=row,
            )
        )
    if ind is not None and (found := _unit_problem(ind, data, row)) is not None:
        problems.append(found)
    if (found := _period_problem(ind, data.period, row)) is not None:
        problems.append(found)
    area = session.scalar(select(Area).where(Area.code == data.area.strip()))
    if area is None:
        problems.append(
            _problem(
                "target_unknown_area",
                lazy_gettext("no area %(area)s"),
                lazy_gettext("give VN or a province's code"),
                where="area",
                row=row,
                area=data.area,
            )
        )
    agency = None
    if data.agency:
        got = _agencies(session, [data.agency], "agency", row, problems)
        agency = got[0] if got else None
    agencies = _agencies(session, data.agencies, "agencies", row, problems)
    for task_id in data.tasks:
        try:
            tasks.get_task(session=session, task_id=task_id)
        except GovopsError:
            problems.append(
                _problem(
                    "target_unknown_task",
                    lazy_gettext("no task %(task)s"),
                    lazy_gettext("give the id of a task entered under its directive"),
                    where="tasks",
                    row=row,
                    task=task_id,
                )
            )
    checked = None
    if plan is not None and area is not None:
        checked = _Checked(data, plan, ind, area, agency, agencies)
    for n, part in enumerate(data.cascade, start=1):
        where = f"cascade[{n}]"
        part_area = part_agency = None
        if (part.area is None) == (part.agency is None):
            problems.append(
                _problem(
                    "target_bad_cascade",
                    lazy_gettext("each share of the cascade names a province or a ministry"),
                    lazy_gettext("give area: (a province's code) or agency: (a ministry's code)"),
                    where=where,
                    row=row,
                )
            )
            continue
        if part.area is not None:
            part_area = session.scalar(select(Area).where(Area.code == part.area.strip()))
            if part_area is None or part_area.level != "province":
                problems.append(
                    _problem(
                        "target_unknown_area",
                        lazy_gettext("no area %(area)s"),
                        lazy_gettext("give a province's code"),
                        where=where,
                        row=row,
                        area=part.area,
                    )
                )
        else:
            assert part.agency is not None
            got = _agencies(session, [part.agency], where, row, problems)
            part_agency = got[0] if got else None
        owners = _agencies(session, part.agencies, where, row, problems)
        if checked is not None:
            checked.cascade.append((part, part_area, part_agency, owners))
    if ind is not None and data.value is not None and checked is not None:
        problems += _cascade_sum_problems(session, ind, data, checked, row)
    return (checked if not problems else None), problems


def _cascade_sum_problems(
    session: Session, ind: Indicator, data: TargetIn, checked: _Checked, row: int | None
) -> list[Problem]:
    """Where the indicator adds up over the provinces, the provinces' values must be able to make the national one."""
    shares = [(part, area) for part, area, _, _ in checked.cascade if area is not None]
    if ind.area_aggregation != "sum" or not shares or data.value is None:
        return []
    total = sum(part.value for part, _ in shares)
    provinces = _current_provinces(session)
    whole = {a.code for _, a in shares if a is not None} >= provinces
    short = data.comparator == "at_least" and whole and total < data.value * (1 - 1e-9)
    over = data.comparator == "at_most" and total > data.value * (1 + 1e-9)
    if not (short or over):
        return []
    return [
        _problem(
            "target_cascade_does_not_add_up",
            lazy_gettext(
                "the provinces' values add up to %(total)s, which cannot make the national %(comparator)s %(national)s "
                "of %(indicator)s (it adds up over provinces)"
            ),
            lazy_gettext("raise the provinces' values (or lower the national one) so that their sum reaches it"),
            where="cascade",
            row=row,
            total=f"{total:,.2f}",
            comparator=data.comparator,
            national=f"{data.value:,.2f}",
            indicator=ind.code,
        )
    ]


def _current_provinces(session: Session) -> set[str]:
    today = date.today()
    return {a.code for a in session.scalars(select(Area).where(Area.level == "province")) if a.valid_on(today)}


def save_targets(*, session: Session, items: Sequence[TargetIn]) -> list[Target]:
    """Enter (or replace, by code) targets; every problem of every one is found first, and nothing is written
    unless there is none."""
    checked: list[_Checked] = []
    problems: list[Problem] = []
    for row, data in enumerate(items, start=1):
        found, wrong = check_target(session, data, row=row if len(items) > 1 else None)
        problems += wrong
        if found is not None:
            checked.append(found)
    if problems:
        raise Rejected(problems, total=len(items))
    saved = [_store(session, c) for c in checked]
    session.flush()
    refresh(session=session, target_ids=[t.id for t in saved], alert=False)
    return saved


def _level_of(area: Area, agency: Agency | None) -> str:
    if agency is not None and agency.kind == "ministry":
        return "ministry"
    return "nation" if area.level == "nation" else "province"


def _store(session: Session, c: _Checked) -> Target:
    d = c.data
    target = session.scalar(select(Target).where(Target.code == d.code))
    if target is None:
        target = Target(code=d.code)
        session.add(target)
    values = {
        "plan_id": c.plan.id,
        "parent_id": None,
        "name_vi": d.name_vi.strip(),
        "name_en": d.name_en.strip(),
        "indicator_id": c.indicator.id if c.indicator is not None else None,
        "comparator": d.comparator,
        "value": d.value,
        "value_high": d.value_high,
        "tolerance": d.tolerance,
        "unit": c.indicator.unit.code if c.indicator is not None else d.unit.strip(),
        "period": str(Period.parse(d.period)),
        "base_value": d.base_value,
        "base_year": d.base_year,
        "level": _level_of(c.area, c.agency),
        "area_id": c.area.id,
        "agency_id": c.agency.id if c.agency is not None else None,
        "article": d.article,
        "note": d.note,
        "alert_below": d.alert_below,
        "demo": d.demo,
    }
    for key, value in values.items():
        setattr(target, key, value)
    session.flush()
    _set_links(session, target, c.agencies, d.tasks)
    keep = set()
    for part, area, agency, owners in c.cascade:
        suffix = area.code if area is not None else (agency.code if agency is not None else "")
        code = f"{d.code}.{suffix}"[:60]
        keep.add(code)
        child = session.scalar(select(Target).where(Target.code == code))
        if child is None:
            child = Target(code=code)
            session.add(child)
        for key, value in values.items():
            setattr(child, key, value)
        child.parent_id = target.id
        child.value, child.value_high = part.value, part.value_high
        child.area_id = area.id if area is not None else c.area.id
        child.agency_id = agency.id if agency is not None else None
        child.level = "province" if area is not None else "ministry"
        child.base_value = None
        session.flush()
        if not owners and area is not None:
            owners = list(
                session.scalars(select(Agency).where(Agency.area_id == area.id, Agency.kind == "provincial_committee"))
            )
        _set_links(session, child, owners, [])
    for old in session.scalars(select(Target).where(Target.parent_id == target.id)):
        if old.code not in keep:
            session.delete(old)
    return target


def _set_links(session: Session, target: Target, agencies: Sequence[Agency], task_ids: Sequence[int]) -> None:
    session.execute(delete(TargetAgency).where(TargetAgency.target_id == target.id))
    session.execute(delete(TargetTask).where(TargetTask.target_id == target.id))
    session.add_all([TargetAgency(target_id=target.id, agency_id=a.id) for a in {a.id: a for a in agencies}.values()])
    session.add_all([TargetTask(target_id=target.id, task_id=t) for t in dict.fromkeys(task_ids)])


def link_task(*, session: Session, target_id: int, task_id: int) -> None:
    target = get_target(session=session, target_id=target_id)
    tasks.get_task(session=session, task_id=task_id)
    if session.get(TargetTask, (target.id, task_id)) is None:
        session.add(TargetTask(target_id=target.id, task_id=task_id))
        session.flush()


# --- reading -----------------------------------------------------------------------------------------


def get_target(*, session: Session, target_id: int) -> Target:
    found = session.get(Target, target_id) if 0 < target_id < 2**31 else None
    if found is None:
        raise GovopsError.of(
            "target_not_found",
            lazy_gettext("no target %(target)s"),
            lazy_gettext("list the targets with GET /api/v1/targets"),
            status=404,
            target=target_id,
        )
    return found


def list_targets(
    *,
    session: Session,
    year: int | None = None,
    plan: str | None = None,
    level: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Target]:
    stmt = select(Target).order_by(Target.id).limit(limit)
    if year is not None:
        stmt = stmt.where(Target.period.like(f"{year}%") | Target.period.like(f"%/{year}"))
    if plan is not None:
        stmt = stmt.join(TargetPlan, TargetPlan.id == Target.plan_id).where(TargetPlan.code == plan)
    if level is not None:
        if level not in LEVELS:
            raise GovopsError.of(
                "target_bad_level",
                lazy_gettext("no level '%(level)s'"),
                lazy_gettext("write nation, province or ministry"),
                level=level,
            )
        stmt = stmt.where(Target.level == level)
    if after_id is not None:
        stmt = stmt.where(Target.id > after_id)
    return list(session.scalars(stmt))


def progress_row(session: Session, target_id: int) -> TargetProgress | None:
    return session.get(TargetProgress, target_id)


def rating_history(*, session: Session, target_id: int, limit: int = 50) -> list[TargetRating]:
    stmt = select(TargetRating).where(TargetRating.target_id == target_id).order_by(TargetRating.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def children(*, session: Session, target_id: int) -> list[Target]:
    return list(session.scalars(select(Target).where(Target.parent_id == target_id).order_by(Target.code)))


def agencies_of(session: Session, target_id: int) -> list[Agency]:
    stmt = (
        select(Agency)
        .join(TargetAgency, TargetAgency.agency_id == Agency.id)
        .where(TargetAgency.target_id == target_id)
    )
    return list(session.scalars(stmt.order_by(Agency.code)))


def task_ids_of(session: Session, target_id: int) -> list[int]:
    stmt = select(TargetTask.task_id).where(TargetTask.target_id == target_id).order_by(TargetTask.task_id)
    return list(session.scalars(stmt))


def linked_tasks(*, session: Session, target_id: int, today: date | None = None) -> list[Any]:
    """The tasks serving the target, as the tasks domain shows them (with their status)."""
    found = [tasks.get_task(session=session, task_id=t) for t in task_ids_of(session, target_id)]
    return tasks.tasks_out(session, found, today or date.today())


def target_out(session: Session, target: Target) -> TargetOut:
    row = progress_row(session, target.id)
    parent = session.get(Target, target.parent_id) if target.parent_id is not None else None
    return TargetOut(
        id=target.id,
        code=target.code,
        plan=target.plan.code,
        name_vi=target.name_vi,
        name_en=target.name_en,
        indicator=target.indicator.code if target.indicator is not None else None,
        comparator=target.comparator,
        value=target.value,
        value_high=target.value_high,
        unit=target.unit,
        period=target.period,
        base_value=target.base_value,
        base_year=target.base_year,
        level=target.level,
        area=target.area.code,
        agency=target.agency.code if target.agency is not None else None,
        parent=parent.code if parent is not None else None,
        article=target.article,
        demo=target.demo,
        agencies=[a.code for a in agencies_of(session, target.id)],
        tasks=task_ids_of(session, target.id),
        rating=row.rating if row is not None else "no_data",
        probability=row.probability if row is not None else None,
    )


def board(*, session: Session, year: int, area: str = "VN") -> list[BoardRow]:
    """Every target of the year for an area (the nation's, or a province's own share), worst first."""
    place = session.scalar(select(Area).where(Area.code == area))
    if place is None:
        raise GovopsError.of(
            "target_unknown_area",
            lazy_gettext("no area %(area)s"),
            lazy_gettext("give VN or a province's code"),
            status=404,
            area=area,
        )
    stmt = select(Target).where(Target.area_id == place.id, Target.agency_id.is_(None))
    found = [t for t in session.scalars(stmt) if _in_year(t.period, year)]
    rows = []
    for t in found:
        p = progress_row(session, t.id)
        rows.append(
            BoardRow(
                id=t.id,
                code=t.code,
                name_vi=t.name_vi,
                name_en=t.name_en,
                plan=t.plan.code,
                indicator=t.indicator.code if t.indicator is not None else None,
                comparator=t.comparator,
                value=t.value,
                value_high=t.value_high,
                unit=t.unit,
                period=t.period,
                area=place.code,
                actual=p.actual if p else None,
                as_of=p.as_of if p else None,
                projected=p.projected if p else None,
                probability=p.probability if p else None,
                rating=p.rating if p else (t.assessed_rating or "no_data"),
                demo=t.demo,
                sparkline=[PathPoint.model_validate(x) for x in (p.path if p else [])],
            )
        )
    order = {r: i for i, r in enumerate(RATINGS)}
    rows.sort(key=lambda r: (-order[r.rating] if r.rating != "no_data" else 1, r.probability or 0, r.code))
    return rows


def _in_year(period: str, year: int) -> bool:
    try:
        p = Period.parse(period)
    except PeriodError:
        return False
    return p.start.year <= year <= p.end.year


# --- progress ----------------------------------------------------------------------------------------


@dataclass
class Computed:
    as_of: str | None = None
    actual: float | None = None
    actual_kind: str = "latest"
    required: float | None = None
    gap: float | None = None
    projected: float | None = None
    probability: float | None = None
    method: str = "none"
    category: str | None = None
    growth_ratio: float | None = None
    status_index: float | None = None
    anticipated_index: float | None = None
    rating: str = "no_data"
    path: list[dict[str, Any]] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Year:
    """An indicator's year-to-date figures (or levels) at one area, by sub-period, for the target's year and the
    years before it."""

    labels: list[str]
    current: list[float | None]
    past: list[list[float | None]]


def _goal(t: Target) -> pg.Goal | None:
    if t.value is None:
        return None
    return pg.Goal(t.comparator, t.value, t.value_high, t.tolerance)


def reading(session: Session) -> Shared:
    """What the series of one refresh share: the catalogue and the area tree, read in the caller's session (it
    may be a writing one: see `catalogue_for_writer`)."""
    return Shared(catalogue_for_writer(session), AreaTree.cached(session))


def _series(
    session: Session, ind: Indicator, areas: Sequence[str], start: str, end: str, view: str, freq: str | None = None
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    query = SeriesQuery.of(ind.code, areas, start=start, end=end, view=view, freq=freq)
    shared = session.info.get(_SHARED)
    if not isinstance(shared, Shared):
        shared = session.info[_SHARED] = reading(session)
    for v in compute_series(session=session, query=query, shared=Shared(shared.catalogue, shared.tree)):
        # A coarser period only once all its periods are in (a year of eight months is no year's figure).
        out[v.area] = {
            p.period: p.value
            for p in v.points
            if p.value is not None and (p.periods is None or p.periods.have >= p.periods.expected)
        }
    return out


def _years(
    session: Session, catalogue: CatalogueSnapshot, ind: Indicator, areas: Sequence[str], year: int
) -> tuple[dict[str, _Year], bool]:
    """Each area's year-to-date path (by the indicator's time rule, or its level where it has none) for `year`
    and the HISTORY_YEARS before it; True when it is a year to date."""
    rule = ytd_rule(catalogue, ind)
    view = "ytd" if rule is not None else "level"
    base = Freq(ind.periodicity)
    values = _series(session, ind, areas, str(year - HISTORY_YEARS), str(year), view)
    out = {}
    for area in areas:
        by = values.get(area, {})
        years = []
        for y in range(year - HISTORY_YEARS, year + 1):
            subs = Period.parse(str(y)).subperiods(base) if base != Freq.A else [Period.parse(str(y))]
            years.append(([str(s) for s in subs], [by.get(str(s)) for s in subs]))
        out[area] = _Year(years[-1][0], years[-1][1], [v for _, v in years[:-1] if any(x is not None for x in v)])
    return out, rule is not None


def _driver_series(catalogue: CatalogueSnapshot, ind: Indicator) -> tuple[Indicator, bool] | None:
    """The stored series whose forecasts say where the target's indicator ends the year: the indicator itself,
    or X of a growth indicator yoy(X) / yoy(ytd(X)); True for the latter."""
    if ind.formula is None:
        return (ind, False) if ind.time_aggregation in ("sum", "mean", "last") else None
    match = YOY.match(ind.formula)
    if match is None:
        return None
    inner = catalogue.indicators.get(match.group(1))
    if inner is None or inner.formula is not None or inner.time_aggregation not in ("sum", "mean", "last"):
        return None
    return inner, True


def _forecast_path(
    session: Session, catalogue: CatalogueSnapshot, ind: Indicator, areas: Mapping[str, int], year: int
) -> dict[str, list[pg.Outlook | None]]:
    """Per area, the outlook of the year-to-date figure at each sub-period of `year` from the stored forecasts of
    the periods not yet known (None where there is no forecast covering them)."""
    found = _driver_series(catalogue, ind)
    if found is None:
        return {}
    inner, growth = found
    base = Freq(inner.periodicity)
    if base == Freq.A or Freq(ind.periodicity) != base:
        return {}
    levels = _series(session, inner, list(areas), str(year - 1), str(year), "level")
    rule = inner.time_aggregation
    out: dict[str, list[pg.Outlook | None]] = {}
    for area, area_id in areas.items():
        latest = forecasts.latest(session=session, indicator_id=inner.id, area_id=area_id)
        if latest is None:
            continue
        points = {p.period: p for p in forecasts.points_of(session=session, forecast_id=latest.id)}
        by = levels.get(area, {})
        subs = [str(s) for s in Period.parse(str(year)).subperiods(base)]
        before = [by.get(str(Period.parse(s).same_period_last_year())) for s in subs]
        observed = [by.get(s) for s in subs]
        path: list[pg.Outlook | None] = []
        for j in range(1, len(subs) + 1):
            known = observed[:j]
            k = pg.latest_index(known) or 0
            if k == j:
                path.append(None)
                continue
            wanted = subs[k:j]
            if any(s not in points for s in wanted) or any(v is None for v in known[:k]):
                path.append(None)
                continue
            means = [points[s].mean for s in wanted]
            sds = [pg.sd_of_band(points[s].lo80, points[s].hi80) or 0.0 for s in wanted]
            outlook = pg.forecast_outlook(known[:k], means, sds, rule)
            if outlook is not None and growth:
                last = [b for b in before[:j] if b is not None]
                prior = combine(rule, last) if len(last) == j else None
                outlook = (
                    pg.Outlook(100 * (outlook.mean / prior - 1), 100 * outlook.sd / prior, "forecast")
                    if prior
                    else None
                )
            path.append(outlook)
        out[area] = path
    return out


def _compute(
    t: Target,
    data: _Year | None,
    fan: Sequence[pg.Outlook | None] | None,
    multiplicative: bool,
    ytd: bool,
    today: date,
) -> Computed:
    """One target's progress within a year, from its indicator's year-to-date path and any forecast path."""
    goal = _goal(t)
    result = Computed(actual_kind="ytd" if ytd else "latest")
    if goal is None or data is None:
        result.rating = t.assessed_rating or "no_data"
        return result
    n = len(data.current)
    k = pg.latest_index(data.current)
    required = pg.trajectory(data.past, n, goal.aim, multiplicative)
    fan = fan or []
    outlooks: list[pg.Outlook | None] = []
    for j in range(1, n + 1):
        chosen = fan[j - 1] if j - 1 < len(fan) and fan[j - 1] is not None else None
        if chosen is None and k is not None and j > k:
            chosen = pg.history_outlook(data.past, data.current, multiplicative, end=j)
        outlooks.append(chosen)
    for j, label in enumerate(data.labels, start=1):
        point: dict[str, Any] = {"period": label, "actual": data.current[j - 1], "required": required[j - 1]}
        o = outlooks[j - 1]
        if k is not None and j > k and o is not None:
            point |= {
                "mean": o.mean,
                "lo80": o.mean - pg.Z80 * o.sd,
                "hi80": o.mean + pg.Z80 * o.sd,
                "lo95": o.mean - 1.959964 * o.sd,
                "hi95": o.mean + 1.959964 * o.sd,
            }
        result.path.append(point)
    if k is None:
        return result
    actual = data.current[k - 1]
    assert actual is not None
    result.as_of, result.actual, result.required = data.labels[k - 1], actual, required[k - 1]
    if result.required is not None:
        result.gap = goal.gap(actual, result.required)
    final = k == n
    outlook = pg.Outlook(actual, 0.0, "final") if final else outlooks[-1]
    if outlook is not None:
        result.projected, result.method = outlook.mean, outlook.method
        result.probability = goal.probability(outlook.mean, outlook.sd)
    met = goal.met(actual) if final else None
    result.rating = pg.rating(probability=result.probability, final=final, met=met)
    # Open SDG: the change so far (this year's figure so far on the same point of the year before) against the
    # change the target requires (on the year before's final figure).
    last_year = data.past[-1] if data.past and len(data.past[-1]) == n else None
    if last_year is not None and last_year[k - 1] is not None and last_year[-1] is not None:
        before_now, before_end = last_year[k - 1], last_year[-1]
        assert before_now is not None and before_end is not None
        observed = pg.growth(before_now, actual, 1, multiplicative)
        needed = pg.growth(t.base_value if t.base_value is not None else before_end, goal.aim, 1, multiplicative)
        result.category, result.growth_ratio = pg.category(observed=observed, required=needed, met=bool(met))
    elif met:
        result.category = "achieved"
    return result


def _compute_multi_year(t: Target, annual: Mapping[str, float], multiplicative: bool) -> Computed:
    """A target over several years (2026/2030): judged on the value of its last year, with ESCAP's indices."""
    goal = _goal(t)
    result = Computed(actual_kind="latest")
    if goal is None:
        result.rating = t.assessed_rating or "no_data"
        return result
    period = Period.parse(t.period)
    first, last = period.start.year, period.end.year
    values = sorted((int(p), v) for p, v in annual.items() if p.isdigit())
    if not values:
        return result
    base_year = t.base_year or first - 1
    base = t.base_value if t.base_value is not None else dict(values).get(base_year)
    year, actual = values[-1]
    result.as_of, result.actual = str(year), actual
    for y, v in values:
        if y >= base_year:
            result.path.append({"period": str(y), "actual": v})
    if base is None:
        return result
    span = last - base_year
    result.required = base + (goal.aim - base) * (year - base_year) / span if span > 0 else goal.aim
    result.gap = goal.gap(actual, result.required)
    status, anticipated, outlook = pg.escap(
        base=base,
        base_year=base_year,
        target=goal.aim,
        target_year=last,
        values=[(y, v) for y, v in values],
        multiplicative=multiplicative,
    )
    result.status_index, result.anticipated_index = status, anticipated
    final = year >= last
    if final:
        outlook = pg.Outlook(dict(values)[last], 0.0, "final")
    if outlook is not None:
        result.projected, result.method = outlook.mean, outlook.method
        result.probability = goal.probability(outlook.mean, outlook.sd)
    met = goal.met(dict(values)[last]) if final else None
    result.rating = pg.rating(probability=result.probability, final=final, met=met)
    observed = pg.growth(base, actual, year - base_year, multiplicative)
    needed = pg.growth(base, goal.aim, span, multiplicative)
    result.category, result.growth_ratio = pg.category(observed=observed, required=needed, met=bool(met))
    return result


def _family(session: Session, root: Target, catalogue: CatalogueSnapshot, today: date) -> dict[int, Computed]:
    """The progress of a target and its cascade, read together."""
    members = [root, *children(session=session, target_id=root.id)]
    ind = root.indicator
    if ind is None:
        return {m.id: _compute(m, None, None, False, False, today) for m in members}
    areas: dict[str, int] = {}
    for m in members:
        areas.setdefault(m.area.code, m.area.id)
    period = Period.parse(root.period)
    unit_percent = ind.unit.code in PERCENT_UNITS
    if period.freq.years and period.freq.years > 1:
        annual = _series(
            session, ind, list(areas), str(period.start.year - HISTORY_YEARS), str(period.end.year), "level", freq="A"
        )
        out = {}
        for m in members:
            by = annual.get(m.area.code, {})
            mult = pg.multiplicative_fits(list(by.values()), unit_percent, ind.crosses_zero)
            out[m.id] = _compute_multi_year(m, by, mult)
        return out
    year = period.year
    data, ytd = _years(session, catalogue, ind, list(areas), year)
    if period.freq != Freq.A:
        # A target for part of a year is judged on that part's figure, once it is known.
        return {m.id: _part_of_year(session, m, ind) for m in members}
    fans = _forecast_path(session, catalogue, ind, areas, year)
    out = {}
    for m in members:
        d = data.get(m.area.code)
        values = [*(d.current if d else []), *(v for y in (d.past if d else []) for v in y)]
        mult = pg.multiplicative_fits(values, unit_percent, ind.crosses_zero)
        out[m.id] = _compute(m, d, fans.get(m.area.code), mult, ytd, today)
    return out


def _part_of_year(session: Session, t: Target, ind: Indicator) -> Computed:
    goal = _goal(t)
    result = Computed()
    if goal is None:
        return result
    period = Period.parse(t.period)
    values = _series(session, ind, [t.area.code], str(period), str(period), "level", freq=period.freq.value)
    value = values.get(t.area.code, {}).get(str(period))
    if value is None:
        return result
    met = goal.met(value)
    result.as_of, result.actual, result.projected, result.method = str(period), value, value, "final"
    result.probability = 1.0 if met else 0.0
    result.rating = "met" if met else "off_track"
    return result


def _drivers(session: Session, root: Target, computed: Mapping[int, Computed]) -> list[dict[str, Any]]:
    """The cascaded targets furthest behind their own trajectory, with their share of the shortfall (in the
    indicator's unit where it adds up over provinces, else relative to each one's trajectory)."""
    ind = root.indicator
    sums = ind is not None and ind.area_aggregation == "sum"
    behind = []
    for child in children(session=session, target_id=root.id):
        c = computed.get(child.id)
        if c is None or c.gap is None or c.gap >= 0:
            continue
        size = -c.gap if sums else -c.gap / max(abs(c.required or 0), 1e-9)
        name = child.area.name_vi if child.agency is None else child.agency.name_vi
        code = child.area.code if child.agency is None else child.agency.code
        behind.append((code, name, c.gap, size))
    total = sum(size for *_, size in behind)
    if total <= 0:
        return []
    ranked = sorted(behind, key=lambda item: -item[3])[:MAX_DRIVERS]
    return [{"area": code, "name": name, "gap": gap, "share": size / total} for code, name, gap, size in ranked]


def refresh(
    *,
    session: Session,
    target_ids: Iterable[int] | None = None,
    indicator_ids: Iterable[int] | None = None,
    alert: bool = True,
    now: datetime | None = None,
) -> int:
    """Recompute the progress of the targets given (with their whole cascade), of those whose indicator reads
    the indicators given, or of every target; alert on those that crossed their threshold or worsened.
    Returns how many targets were computed."""
    now = now or utcnow()
    today = now.date()
    session.info[_SHARED] = shared = reading(session)
    catalogue = shared.catalogue
    roots: dict[int, Target] = {}
    if target_ids is None and indicator_ids is None:
        wanted = list(session.scalars(select(Target).where(Target.parent_id.is_(None))))
    else:
        wanted = []
        if target_ids is not None:
            ids = list(target_ids)
            wanted += list(session.scalars(select(Target).where(Target.id.in_(ids)))) if ids else []
        if indicator_ids is not None:
            found = _targets_reading(session, catalogue, set(indicator_ids))
            wanted += list(session.scalars(select(Target).where(Target.id.in_(found)))) if found else []
    for t in wanted:
        root = t
        while root.parent_id is not None:
            parent = session.get(Target, root.parent_id)
            assert parent is not None
            root = parent
        roots[root.id] = root
    done = 0
    try:
        done = _refresh_roots(session, roots, catalogue, today, alert=alert, now=now)
    finally:
        session.info.pop(_SHARED, None)
    session.flush()
    return done


def _refresh_roots(
    session: Session,
    roots: Mapping[int, Target],
    catalogue: CatalogueSnapshot,
    today: date,
    *,
    alert: bool,
    now: datetime,
) -> int:
    done = 0
    for root in sorted(roots.values(), key=lambda r: r.id):
        computed = _family(session, root, catalogue, today)
        if root.id in computed:
            computed[root.id].drivers = _drivers(session, root, computed)
        for target_id, c in computed.items():
            target = session.get(Target, target_id)
            assert target is not None
            _save(session, target, c, alert=alert, now=now)
            done += 1
    return done


def _reads(catalogue: CatalogueSnapshot, code: str, seen: set[str] | None = None) -> set[str]:
    """The codes an indicator's figures are made of: itself, and what its formula reads, all the way down."""
    seen = seen if seen is not None else set()
    if code in seen:
        return seen
    seen.add(code)
    ind = catalogue.indicators.get(code)
    if ind is not None and ind.formula:
        for ref in parse_formula(ind.formula).references:
            _reads(catalogue, ref, seen)
    return seen


def _targets_reading(session: Session, catalogue: CatalogueSnapshot, indicator_ids: set[int]) -> list[int]:
    codes = {ind.code for ind in catalogue.indicators.values() if ind.id in indicator_ids}
    rows = session.execute(select(Target.id, Indicator.code).join(Indicator, Indicator.id == Target.indicator_id)).all()
    return [tid for tid, code in rows if _reads(catalogue, code) & codes]


def _worse(before: str, after: str) -> bool:
    if "no_data" in (before, after):
        return False
    return RATINGS.index(after) > RATINGS.index(before)


def _save(session: Session, target: Target, c: Computed, *, alert: bool, now: datetime) -> None:
    row = session.get(TargetProgress, target.id)
    before_rating = row.rating if row is not None else None
    before_p = row.probability if row is not None else None
    if row is None:
        row = TargetProgress(target_id=target.id)
        session.add(row)
    for key in (
        "as_of",
        "actual",
        "actual_kind",
        "required",
        "gap",
        "projected",
        "probability",
        "method",
        "category",
        "growth_ratio",
        "status_index",
        "anticipated_index",
        "rating",
        "path",
        "drivers",
    ):
        value = getattr(c, key)
        setattr(row, key, _clean(value))
    row.computed_at = now
    crossed = before_p is not None and c.probability is not None and before_p >= target.alert_below > c.probability
    worsened = before_rating is not None and _worse(before_rating, c.rating)
    alerting = alert and (crossed or worsened)
    if before_rating != c.rating or alerting:
        session.add(
            TargetRating(
                target_id=target.id,
                at=now,
                as_of=c.as_of,
                rating=c.rating,
                probability=c.probability,
                alerted=alerting,
            )
        )
    if alerting:
        raise_alert(session=session, target=target, computed=c, before=before_p, before_rating=before_rating, now=now)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _percent(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.0f}%"


def raise_alert(
    *,
    session: Session,
    target: Target,
    computed: Computed,
    before: float | None,
    before_rating: str | None,
    now: datetime,
) -> None:
    """The alert: an event on the outbox, and a notification to the responsible agencies' officers and the
    analysts, naming the provinces behind the shortfall and the overdue tasks that serve the target."""
    drivers = computed.drivers
    if not drivers and target.parent_id is None:
        drivers = []
    overdue = [
        t for t in linked_tasks(session=session, target_id=target.id, today=now.date()) if t.status == "open_overdue"
    ]
    ind = target.indicator
    payload = {
        "target": target.id,
        "code": target.code,
        "name": target.name_vi,
        "indicator": ind.code if ind is not None else None,
        "area": target.area.code,
        "period": target.period,
        "as_of": computed.as_of,
        "rating": computed.rating,
        "rating_before": before_rating,
        "probability": computed.probability,
        "probability_before": before,
        "threshold": target.alert_below,
        "provinces": drivers,
        "overdue_tasks": [
            {"id": t.id, "text": t.text, "lead": t.lead, "days_overdue": t.days_overdue} for t in overdue
        ],
    }
    emit(
        session=session,
        topic=TOPIC,
        type="targets.alert",
        subject=target.code,
        payload=payload,
        rule=ReadRule(
            classification=ind.classification if ind is not None else "public",
            indicator=ind.code if ind is not None else None,
        ),
        recorded_by="system",
        now=now,
    )
    people: list[int] = []
    for agency in agencies_of(session, target.id):
        people += tasks.officers_of(session, agency.id)
    people += list(
        session.scalars(select(User.id).where(User.active.is_(True), User.role.in_(WARNED_ROLES)).order_by(User.id))
    )
    people = list(dict.fromkeys(people))
    if not people:
        return
    named = ", ".join(f"{d['name']} ({100 * float(d['share']):.0f}%)" for d in drivers) or "-"
    notify(
        session=session,
        recipients=people,
        kind=TARGET_ALERT.name,
        params={
            "target": target.name_vi,
            "target.en": target.name_en,
            "area": target.area.name_vi,
            "period": target.period,
            "probability": _percent(computed.probability),
            "before": _percent(before),
            "rating": computed.rating,
            "drivers": named,
            "tasks": ", ".join(f"#{t.id}" for t in overdue) or "-",
        },
        link=f"/targets/{target.id}",
        now=now,
    )


# --- following the data: progress recomputed as data arrive ------------------------------------------------


def _follow_start(session: Session) -> int:
    """The follower starts from the oldest of the targets' last computations on (each target's progress is computed
    when it is entered, and by the refresh job): what arrived before it is in every target's figures."""
    return newest_id(session=session, before=session.scalar(select(func.min(TargetProgress.computed_at))))


FOLLOWER = Follower(
    name="targets.follow-changes",
    topic=OBSERVATIONS,
    types=frozenset({OBSERVATION_CHANGED}),
    start=_follow_start,
)


def changes_pending(*, session: Session) -> bool:
    """Whether observation changes arrived that the targets' follower has not read (a read, no lock)."""
    return pending(session=session, follower=FOLLOWER)


def follow_changes(*, session: Session, now: datetime | None = None, batch: int = 5000) -> tuple[int, int]:
    """Recompute the targets whose indicators (their formulas' inputs included) received data since the follower
    last read the observation change events, and alert on those that crossed their threshold or worsened.
    Returns the events read and the targets computed."""
    indicators: set[str] = set()

    def collect(session: Session, events: Sequence[Event]) -> None:
        indicators.update(e.rule.indicator for e in events if e.rule.indicator is not None)

    # The indicators of every batch first, then each target once: a bulk load is many batches of few indicators.
    read = follow(session=session, follower=FOLLOWER, handle=collect, batch=batch, now=now)
    if not indicators or session.scalar(select(Target.id).limit(1)) is None:
        return read, 0
    ids = session.scalars(select(Indicator.id).where(Indicator.code.in_(sorted(indicators)))).all()
    return read, refresh(session=session, indicator_ids=ids, now=now)


def _group_rows(rows: Iterable[TargetIn]) -> list[TargetIn]:
    return list(rows)


def by_plan(session: Session) -> dict[str, list[Target]]:
    out: dict[str, list[Target]] = defaultdict(list)
    for t in session.scalars(select(Target).where(Target.parent_id.is_(None)).order_by(Target.id)):
        out[t.plan.code].append(t)
    return out
