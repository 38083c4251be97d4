"""Series: an indicator at an area over time, aggregated by the indicator's own rules.

A value at an area and period is, in this order of preference:
1. re-aggregated from pre-2025 units, when units merged into this one reported for that period
   (the continuing unit's own figure then stands for its old territory);
2. the value reported for the area itself;
3. aggregated from the area's current children (wards -> province -> nation).
Values at the indicator's own periodicity are then combined into coarser periods by its time rule,
and derived indicators are computed from the series of the indicators their formula names.
Every aggregated point says how complete it is.
"""

from __future__ import annotations

import ast
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.formulas import parse_formula
from govops.catalog.models import Indicator
from govops.catalog.service import get_indicator
from govops.errors import GovopsError, NotFound
from govops.periods import Freq, Period, PeriodError
from govops.warehouse.areas import AreaTree, Node
from govops.warehouse.models import Observation, ObservationRevision
from govops.warehouse.schemas import Completeness, Series, SeriesPoint
from govops.warehouse.validation import dim_key

_STATUS_ORDER = ("provisional", "estimated", "forecast", "final")


@dataclass(frozen=True)
class Point:
    value: float
    status: str | None
    source: str
    areas: Completeness | None = None
    periods: Completeness | None = None


def _worst(statuses: Sequence[str | None]) -> str | None:
    known = [s for s in statuses if s is not None]
    return min(known, key=_STATUS_ORDER.index) if known else None


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
    out: dict[tuple[int, str], tuple[float, str]] = {}
    if area_ids is not None and len(area_ids) > 400:
        area_ids = None  # a long IN list costs more than filtering the rows here
    if area_ids is not None:
        stmt = stmt.where(o.area_id.in_(sorted(area_ids)))
    for area_id, period, value, status in session.execute(stmt):
        out[(area_id, period)] = (value, status)
    return out


class _Weights:
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


class _AreaAggregator:
    """Values of one indicator at its own periodicity, for any area, from the loaded data."""

    def __init__(
        self,
        ind: Indicator,
        tree: AreaTree,
        data: Mapping[tuple[int, str], tuple[float, str]],
        weights: _Weights | None,
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
            value = self._combine(parts, period)
            if value is None:
                return None
            return Point(
                value=value,
                status=_worst([p.status for _, p in parts]),
                source="aggregated",
                areas=Completeness(have=len(parts), expected=len(merged) + 1),
            )
        if own is not None:
            return Point(value=own[0], status=own[1], source="reported")
        children = self.tree.children.get(area_id, [])
        if not children or self.ind.area_aggregation == "none":
            return None
        parts = [(c, p) for c in children if (p := self.value(c, period, label)) is not None]
        value = self._combine(parts, period)
        if value is None:
            return None
        return Point(
            value=value,
            status=_worst([p.status for _, p in parts]),
            source="aggregated",
            areas=Completeness(have=len(parts), expected=len(children)),
        )


def _to_freq(ind: Indicator, base: Freq, target: Freq, points: Mapping[Period, Point]) -> dict[Period, Point]:
    if target == base:
        return dict(points)
    rule = ind.time_aggregation
    out: dict[Period, Point] = {}
    for coarse in sorted({p.to_freq(target) for p in points}, key=lambda p: p.start):
        subs = coarse.subperiods(base)
        present = [points[s] for s in subs if s in points]
        value = combine(rule, [p.value for p in present])
        if value is None:
            continue
        out[coarse] = Point(
            value=value,
            status=_worst([p.status for p in present]),
            source="aggregated",
            periods=Completeness(have=len(present), expected=len(subs)),
        )
    return out


def _bounds(start: str | None, end: str | None) -> tuple[Period | None, Period | None]:
    try:
        first = Period.parse(start) if start else None
        last = Period.parse(end) if end else None
    except PeriodError as exc:
        exc.where = "start/end"
        raise
    return first, last


def build_series(
    *,
    session: Session,
    indicator: str,
    areas: Sequence[str],
    freq: str | None = None,
    start: str | None = None,
    end: str | None = None,
    dims: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
) -> list[Series]:
    ind = get_indicator(session=session, code=indicator)
    tree = AreaTree.cached(session)
    nodes = []
    for code in areas:
        node = tree.by_code.get(code)
        if node is None:
            raise NotFound(f"no area with code {code!r}", hint="use VN, a 2-digit province or a 5-digit ward code")
        nodes.append(node)
    base = Freq(ind.periodicity)
    try:
        target = Freq(freq) if freq else base
    except ValueError:
        raise GovopsError(
            f"unknown frequency {freq!r}", code="invalid_freq", hint="use one of " + ", ".join(f.value for f in Freq)
        ) from None
    first, last = _bounds(start, end)
    dims = dict(dims or {})
    # Reading from three years before `start` leaves room for yoy(ytd(...)) and lags while skipping old data.
    since = date(first.start.year - 3, 1, 1) if first is not None and not (target.years or 0) > 1 else None
    per_area = _series_points(session, ind, tree, [n.id for n in nodes], target, dims, as_of, since)
    out = []
    for node in nodes:
        points = per_area[node.id]
        wanted = [
            p
            for p in sorted(points, key=lambda p: p.start)
            if (first is None or p.end >= first.start) and (last is None or p.start <= last.end)
        ]
        filled = Period.range(wanted[0], wanted[-1]) if wanted else []
        out.append(
            Series(
                indicator=ind.code,
                area=node.code,
                area_name_vi=node.name_vi,
                freq=target.value,
                dims=dims,
                unit=ind.unit.code,
                as_of=as_of,
                points=[_point_out(p, points.get(p)) for p in filled],
            )
        )
    return out


def _point_out(period: Period, point: Point | None) -> SeriesPoint:
    if point is None:
        return SeriesPoint(period=str(period), value=None, source="missing")
    return SeriesPoint(
        period=str(period),
        value=round(point.value, 6),
        status=point.status,
        source=point.source,
        areas=point.areas,
        periods=point.periods,
    )


def _series_points(
    session: Session,
    ind: Indicator,
    tree: AreaTree,
    area_ids: list[int],
    target: Freq,
    dims: dict[str, str],
    as_of: datetime | None,
    since: date | None,
) -> dict[int, dict[Period, Point]]:
    base = Freq(ind.periodicity)
    if ind.formula:
        return _derived(session, ind, tree, area_ids, target, dims, as_of, since)
    if target.rank < base.rank:
        raise GovopsError(
            f"{ind.code} is {base.label('en').lower()}; it cannot be split into {target.value}",
            code="invalid_freq",
            hint=f"ask for freq={base.value} or coarser",
        )
    if target != base and ind.time_aggregation == "none":
        raise GovopsError(
            f"{ind.code} has no rule to add up over time", code="invalid_freq", hint=f"ask for freq={base.value}"
        )
    unknown = set(dims) - set(ind.dimension_codes)
    if unknown:
        raise GovopsError(
            f"{ind.code} has no dimension {', '.join(sorted(unknown))}",
            code="invalid_filter",
            hint=f"its dimensions: {', '.join(ind.dimension_codes) or 'none'}",
        )
    wanted: set[int] | None = set()
    for area_id in area_ids:
        if tree.nodes[area_id].parent_id is None:
            wanted = None
            break
        assert wanted is not None
        wanted |= tree.subtree(area_id)
    data = load_values(
        session,
        indicator_id=ind.id,
        key=dim_key(tuple(ind.dimension_codes), dims),
        as_of=as_of,
        area_ids=wanted,
        first=since,
    )
    weights = None
    if ind.area_aggregation == "weighted" and ind.area_weight_id is not None:
        weights = _Weights(load_values(session, indicator_id=ind.area_weight_id, key="", as_of=as_of, area_ids=wanted))
    aggregator = _AreaAggregator(ind, tree, data, weights)
    periods = sorted({Period.parse(p) for _, p in data}, key=lambda p: p.start)
    out: dict[int, dict[Period, Point]] = {}
    for area_id in area_ids:
        points = {p: pt for p in periods if (pt := aggregator.value(area_id, p)) is not None}
        out[area_id] = _to_freq(ind, base, target, points)
    return out


def _derived(
    session: Session,
    ind: Indicator,
    tree: AreaTree,
    area_ids: list[int],
    target: Freq,
    dims: dict[str, str],
    as_of: datetime | None,
    since: date | None,
) -> dict[int, dict[Period, Point]]:
    formula = parse_formula(ind.formula or "")
    parts: dict[str, dict[int, dict[Period, Point]]] = {}
    rules: dict[str, str] = {}
    for code in sorted(formula.references):
        comp = get_indicator(session=session, code=code)
        comp_dims = {k: v for k, v in dims.items() if k in comp.dimension_codes}
        parts[code] = _series_points(session, comp, tree, area_ids, target, comp_dims, as_of, since)
        rules[code] = comp.time_aggregation
    out: dict[int, dict[Period, Point]] = {}
    for area_id in area_ids:
        series = {code: parts[code][area_id] for code in parts}
        periods = sorted({p for s in series.values() for p in s}, key=lambda p: p.start)
        points: dict[Period, Point] = {}

        def get(code: str, period: Period, series: dict[str, dict[Period, Point]] = series) -> float | None:
            point = series[code].get(period)
            return None if point is None else point.value

        for period in periods:
            value = _evaluate(formula.tree, period, get, rules)
            if value is not None:
                statuses = [s[period].status for s in series.values() if period in s]
                points[period] = Point(value=value, status=_worst(statuses), source="derived")
        out[area_id] = points
    return out


def _evaluate(
    node: ast.expr, period: Period, get: Callable[[str, Period], float | None], rules: Mapping[str, str]
) -> float | None:
    def ev(n: ast.expr, p: Period) -> float | None:
        if isinstance(n, ast.Constant):
            assert isinstance(n.value, int | float)
            return float(n.value)
        if isinstance(n, ast.Name):
            return get(n.id, p)
        if isinstance(n, ast.UnaryOp):
            inner = ev(n.operand, p)
            return None if inner is None else (-inner if isinstance(n.op, ast.USub) else inner)
        if isinstance(n, ast.BinOp):
            a, b = ev(n.left, p), ev(n.right, p)
            if a is None or b is None:
                return None
            if isinstance(n.op, ast.Add):
                return a + b
            if isinstance(n.op, ast.Sub):
                return a - b
            if isinstance(n.op, ast.Mult):
                return a * b
            return a / b if b else None
        assert isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        arg = n.args[0]
        try:
            if n.func.id == "lag":
                lag = n.args[1]
                assert isinstance(lag, ast.Constant) and isinstance(lag.value, int)
                return ev(arg, p - lag.value)
            if n.func.id == "ytd":
                values = [ev(arg, q) for q in p.year_to_date()]
                if any(v is None for v in values):
                    return None
                rule = rules.get(arg.id, "sum") if isinstance(arg, ast.Name) else "sum"
                return combine(rule, [v for v in values if v is not None])
            earlier = p.same_period_last_year() if n.func.id == "yoy" else p.previous()
        except PeriodError:
            return None
        now, before = ev(arg, p), ev(arg, earlier)
        if now is None or not before:
            return None
        return (now / before - 1.0) * 100.0

    return ev(node, period)


def data_version(session: Session) -> tuple[object, ...]:
    """Changes whenever any observation or indicator does; cheap enough to ask on every page."""
    return (
        # The newest revision by id (an index look-up); ids can repeat after a rollback, its moment cannot.
        *(
            session.execute(
                select(ObservationRevision.id, ObservationRevision.recorded_at)
                .order_by(ObservationRevision.id.desc())
                .limit(1)
            ).first()
            or (None, None)
        ),
        session.scalar(select(func.max(Indicator.updated_at))),
        session.scalar(select(func.count()).select_from(Indicator)),
    )


_CACHE: dict[tuple[object, ...], list[Series]] = {}
_CACHE_LIMIT = 4096


def cached_series(
    *,
    session: Session,
    indicator: str,
    areas: Sequence[str],
    freq: str | None = None,
    start: str | None = None,
    end: str | None = None,
    dims: Mapping[str, str] | None = None,
    version: tuple[object, ...] | None = None,
) -> list[Series]:
    """build_series for pages: the same answer is reused until the data changes (current values only)."""
    version = version if version is not None else data_version(session)
    key = (
        str(session.get_bind().engine.url),
        version,
        indicator,
        tuple(areas),
        freq,
        start,
        end,
        tuple(sorted((dims or {}).items())),
    )
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = build_series(
            session=session, indicator=indicator, areas=areas, freq=freq, start=start, end=end, dims=dims
        )
    return _CACHE[key]
