"""Adding up one indicator over the area tree: the rules every aggregated value follows.

A value at an area and period is, in this order of preference:
1. re-aggregated from pre-2025 units, when units merged into this one reported for that period
   (the continuing unit's own figure then stands for its old territory);
2. the value reported for the area itself;
3. aggregated from the area's current children (wards -> province -> nation).

These rules apply at the indicator's own periodicity. A figure reported for a longer period (the official
annual figure of a monthly indicator) is not added up over areas: it stands for its own area and period,
where it wins over adding up the area's months (warehouse.series); the areas above add up their own months,
or report the longer period themselves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Indicator
from govops.periods import Period
from govops.warehouse.areas import AreaTree, Node
from govops.warehouse.models import Observation, ObservationRevision
from govops.warehouse.schemas import PointSource

_STATUS_ORDER = ("provisional", "estimated", "forecast", "final")
_STATUS_RANK = {status: rank for rank, status in enumerate(_STATUS_ORDER)}


class Share(NamedTuple):
    """How complete an aggregated value is: how many of the parts it adds up had data."""

    have: int
    expected: int


class Point(NamedTuple):
    """A value of an indicator at an area and period: a named tuple, because a page computes tens of thousands."""

    value: float
    status: str | None
    source: PointSource
    areas: Share | None = None
    periods: Share | None = None


def worst(statuses: Sequence[str | None]) -> str | None:
    found: str | None = None
    for status in statuses:
        if status is not None and (found is None or _STATUS_RANK[status] < _STATUS_RANK[found]):
            found = status
    return found


def combine(rule: str, values: Sequence[float], weights: Sequence[float] | None = None) -> float | None:
    result = _combine(rule, values, weights)
    # A sum past the range of a double is no number a reader could use.
    return result if result is None or math.isfinite(result) else None


def _combine(rule: str, values: Sequence[float], weights: Sequence[float] | None) -> float | None:
    if not values:
        return None
    if rule == "sum":
        return sum(values)
    if rule == "mean":
        return sum(values) / len(values)
    if rule == "last":
        return values[-1]
    if rule == "weighted" and weights is not None:
        total = sum(weights)
        return sum(v * w for v, w in zip(values, weights, strict=True)) / total if total else None
    return None


def load_values(
    session: Session,
    *,
    indicator_id: int,
    key: str,
    as_of: datetime | None,
    area_ids: set[int] | None,
    first: date | None = None,
    last: date | None = None,
    periods: Sequence[str] | None = None,
) -> dict[tuple[int, str], tuple[float, str]]:
    """(area id, period) -> (value, status), current or as they stood at `as_of`."""
    o, r = Observation, ObservationRevision
    if as_of is None:
        stmt = select(o.area_id, o.period, o.value, o.status)
    else:
        latest = (
            select(r.observation_id, func.max(r.version).label("version"))
            .join(o, o.id == r.observation_id)
            .where(r.recorded_at <= as_of, o.indicator_id == indicator_id, o.dim_key == key)
            .group_by(r.observation_id)
            .subquery()
        )
        stmt = (
            select(o.area_id, o.period, r.value, r.status)
            .join(latest, latest.c.observation_id == o.id)
            .join(r, (r.observation_id == o.id) & (r.version == latest.c.version))
        )
    stmt = stmt.where(o.indicator_id == indicator_id, o.dim_key == key)
    if first is not None:
        stmt = stmt.where(o.period_start >= first)
    if last is not None:
        stmt = stmt.where(o.period_start <= last)
    if periods is not None:
        stmt = stmt.where(o.period.in_(periods))
    out: dict[tuple[int, str], tuple[float, str]] = {}
    if area_ids is not None and len(area_ids) > 400:
        area_ids = None  # a long IN list costs more than filtering the rows here
    if area_ids is not None:
        stmt = stmt.where(o.area_id.in_(sorted(area_ids)))
    for area_id, period, value, status in session.execute(stmt):
        out[(area_id, period)] = (value, status)
    return out


class Weights:
    """Weights (e.g. population) per area for a period's year; the nearest earlier year if missing."""

    def __init__(self, data: Mapping[tuple[int, str], tuple[float, str]]) -> None:
        self._by_area: dict[int, list[tuple[date, float]]] = defaultdict(list)
        for (area_id, period), (value, _status) in data.items():
            self._by_area[area_id].append((Period.parse(period).start, value))
        for series in self._by_area.values():
            series.sort()

    def get(self, area_id: int, period: Period) -> float | None:
        series = self._by_area.get(area_id)
        if not series:
            return None
        chosen = series[0][1]
        for start, value in series:
            if start > period.end:
                break
            chosen = value
        return chosen


def _existed_through(node: Node, period: Period) -> bool:
    return node.valid_to is not None and period.end <= node.valid_to


class AreaAggregator:
    """Values of one indicator at its own periodicity, for any area, from the loaded data."""

    def __init__(
        self,
        ind: Indicator,
        tree: AreaTree,
        data: Mapping[tuple[int, str], tuple[float, str]],
        weights: Weights | None,
    ) -> None:
        self.ind, self.tree, self.data, self.weights = ind, tree, data, weights
        self.memo: dict[tuple[int, str], Point | None] = {}
        # Areas with data at or below them: the only ones worth descending into (not 3,321 empty wards).
        self.populated: set[int] = set()
        for area_id in {a for a, _ in data}:
            node: Node | None = tree.nodes.get(area_id)
            while node is not None and node.id not in self.populated:
                self.populated.add(node.id)
                up = node.successor_id if node.successor_id is not None else node.parent_id
                node = tree.nodes.get(up) if up is not None else None

    def value(self, area_id: int, period: Period, label: str | None = None) -> Point | None:
        key = (area_id, label or str(period))
        if key not in self.memo:
            self.memo[key] = self._compute(area_id, period, key[1]) if area_id in self.populated else None
        return self.memo[key]

    def _combine(self, parts: list[tuple[int, Point]], period: Period) -> float | None:
        rule = self.ind.area_aggregation
        if rule != "weighted":
            return combine(rule, [p.value for _, p in parts])
        assert self.weights is not None
        pairs = [(p.value, w) for area_id, p in parts if (w := self.weights.get(area_id, period)) is not None]
        return combine(rule, [v for v, _ in pairs], [w for _, w in pairs])

    def _compute(self, area_id: int, period: Period, label: str) -> Point | None:
        own = self.data.get((area_id, label))
        merged = [p for p in self.tree.predecessors.get(area_id, ()) if _existed_through(self.tree.nodes[p], period)]
        if merged and any((p, label) in self.data for p in merged):
            parts = [
                (p, Point(*self.data[(p, label)], source="reported"))
                for p in [area_id, *merged]
                if (p, label) in self.data
            ]
            return self._aggregated(parts, len(merged) + 1, period)
        if own is not None:
            return Point(value=own[0], status=own[1], source="reported")
        children = self.tree.children.get(area_id, [])
        if not children or self.ind.area_aggregation == "none":
            return None
        parts = [(c, p) for c in children if (p := self.value(c, period, label)) is not None]
        return self._aggregated(parts, len(children), period)

    def _aggregated(self, parts: list[tuple[int, Point]], expected: int, period: Period) -> Point | None:
        value = self._combine(parts, period)
        if value is None:
            return None
        return Point(
            value=value,
            status=worst([p.status for _, p in parts]),
            source="aggregated",
            areas=Share(have=len(parts), expected=expected),
        )
