"""Series: an indicator at an area over time, aggregated by the indicator's own rules.

Values at each area come from the stored roll-ups (warehouse.rollup) or, for a moment in the past
or while the roll-ups are being recomputed, from adding up the observations (warehouse.aggregation).
They are then combined into coarser periods by the indicator's time rule, except where a figure was
reported for the coarser period itself (an official annual figure of a monthly indicator): that
figure wins, and its point's source says "reported". Derived indicators are computed from the series
of the indicators their formula names. Every aggregated point says how complete it is.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy.orm import Session

from govops.catalog.dimensions import dim_key
from govops.catalog.formulas import parse_formula
from govops.catalog.models import Indicator
from govops.catalog.snapshot import CatalogueSnapshot, catalogue_snapshot
from govops.errors import GovopsError, NotFound
from govops.periods import Freq, Period, PeriodError
from govops.warehouse import rollup
from govops.warehouse.aggregation import AreaAggregator, Point, Share, Weights, combine, load_values, worst
from govops.warehouse.areas import AreaTree
from govops.warehouse.schemas import Completeness, PointSource, Series, SeriesPoint


def _to_freq(ind: Indicator, base: Freq, target: Freq, points: Mapping[Period, Point]) -> dict[Period, Point]:
    """The points at `target`: base periods added up by the time rule, except where a figure was reported for the
    `target` period itself (an official annual figure of a monthly indicator), which wins over adding up.

    `points` holds the base periods and any periods reported at a coarser frequency; the latter only show at
    their own frequency (a reported year leaves the quarters and months as they are).
    """
    at_base = {p: point for p, point in points.items() if p.freq is base}
    if target == base:
        return at_base
    rule = ind.time_aggregation
    out: dict[Period, Point] = {}
    for coarse in sorted({p.to_freq(target) for p in at_base}, key=_START):
        subs = coarse.subperiods(base)
        present = [at_base[s] for s in subs if s in at_base]
        value = combine(rule, [p.value for p in present])
        if value is None:
            continue
        out[coarse] = Point(
            value=value,
            status=worst([p.status for p in present]),
            source="aggregated",
            periods=Share(len(present), len(subs)),
        )
    if len(at_base) < len(points):
        out.update((p, point) for p, point in points.items() if p.freq is target)
    return out


def _bounds(start: str | None, end: str | None) -> tuple[Period | None, Period | None]:
    try:
        first = Period.parse(start) if start else None
        last = Period.parse(end) if end else None
    except PeriodError as exc:
        exc.where = "start/end"
        raise
    return first, last


class PointView(NamedTuple):
    """A point of a series as pages keep it: plain values, which Python's garbage collector need not visit."""

    period: str
    value: float | None
    status: str | None
    source: PointSource
    areas: Share | None
    periods: Share | None


class SeriesView(NamedTuple):
    indicator: str
    area: str
    area_name_vi: str
    freq: str
    dims: dict[str, str]
    unit: str
    as_of: datetime | None
    points: tuple[PointView, ...]


@dataclass(frozen=True)
class SeriesQuery:
    """Which series: an indicator at some areas, at a frequency, between two periods, for one breakdown.

    Hashable, so that it is also the key of computed answers (series_cache). `view` is what each point says:
    the level, the change on a year earlier (`yoy`, see `change_kind`) or the year to date (`ytd`, see
    `ytd_rule`); kept with the answers, so that a page never recomputes a view per request.
    """

    indicator: str
    areas: tuple[str, ...]
    freq: str | None = None
    start: str | None = None
    end: str | None = None
    dims: tuple[tuple[str, str], ...] = ()
    view: str = "level"

    @classmethod
    def of(
        cls,
        indicator: str,
        areas: Sequence[str],
        *,
        freq: str | None = None,
        start: str | None = None,
        end: str | None = None,
        dims: Mapping[str, str] | None = None,
        view: str = "level",
    ) -> SeriesQuery:
        return cls(indicator, tuple(areas), freq, start, end, tuple(sorted((dims or {}).items())), view)

    def at(self, areas: tuple[str, ...]) -> SeriesQuery:
        """The same query at other areas: a page asks it per series, where `dataclasses.replace` took ten times
        as long."""
        return SeriesQuery(self.indicator, areas, self.freq, self.start, self.end, self.dims, self.view)


def build_series(*, session: Session, query: SeriesQuery, as_of: datetime | None = None) -> list[Series]:
    """The series of the query's indicator at each of its areas, as the API answers them."""
    views = compute_series(session=session, query=query, as_of=as_of)
    return [
        Series(
            indicator=v.indicator,
            area=v.area,
            area_name_vi=v.area_name_vi,
            freq=v.freq,
            dims=v.dims,
            unit=v.unit,
            as_of=v.as_of,
            points=[
                SeriesPoint(
                    period=p.period,
                    value=p.value,
                    status=p.status,
                    source=p.source,
                    areas=Completeness(have=p.areas.have, expected=p.areas.expected) if p.areas else None,
                    periods=Completeness(have=p.periods.have, expected=p.periods.expected) if p.periods else None,
                )
                for p in v.points
            ],
        )
        for v in views
    ]


VIEWS = ("level", "yoy", "ytd")
PERCENT_UNITS = frozenset({"PCT", "PCT_PA"})


def change_kind(ind: Indicator) -> str:
    """How a change of the indicator is told: `ratio` (% change), `points` (difference of two percentages, in
    percentage points) or `difference` (in its own unit, for a balance that can cross zero)."""
    if ind.crosses_zero:
        return "difference"
    return "points" if ind.unit.code in PERCENT_UNITS else "ratio"


def change(ind: Indicator, now: float, before: float | None) -> float | None:
    """The change from `before` to `now`, told as `change_kind` says; None where it means nothing."""
    if before is None:
        return None
    kind = change_kind(ind)
    if kind == "ratio":
        # A ratio against zero or a negative base is no growth rate anyone could read.
        return (now / before - 1.0) * 100.0 if before > 0 else None
    return now - before


def ytd_rule(catalogue: CatalogueSnapshot, ind: Indicator) -> str | None:
    """How the year to date of the indicator is made, or None if it has none.

    `sum` (flows: exports, revenue), `mean` (indices: CPI, and rates), `last` (stocks: the latest value is the
    year to date), `level` (a formula that already cumulates with ytd()), `formula` (the formula applied to its
    inputs' years to date: the trade balance of the exports and imports so far, the CPI's year-on-year change
    of its average so far, as a monthly report states them).
    """
    if ind.formula is None:
        return ind.time_aggregation if ind.time_aggregation in ("sum", "mean", "last") else None
    formula = parse_formula(ind.formula)
    calls = {n.func.id for n in ast.walk(formula.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    if "ytd" in calls:
        return "level"
    if calls & {"pop", "lag"}:
        return None  # a change on the previous period has no year to date
    inputs = [catalogue.indicators.get(code) for code in formula.references]
    rules = {ytd_rule(catalogue, i) if i is not None else None for i in inputs}
    if rules & {None, "level"}:
        return None
    # Over stocks only (credit growth from the stock of credit) the year to date is the level itself.
    return "last" if rules == {"last"} else "formula"


# What a page's series computed on the way, by kind (level points or year to date), indicator, areas, breakdown,
# first day and frequency: a balance and its exports, a change and its index, a year to date and its level.
Worked = tuple[str, int, tuple[int, ...], tuple[tuple[str, str], ...], date | None, Freq]


@dataclass
class Shared:
    """What several series computed for one page share: the catalogue and area tree read for it, the stored
    points read so far (current values only), by indicator, dimension key, areas and first day, and the points
    worked out from them (current values only; never changed once made)."""

    catalogue: CatalogueSnapshot
    tree: AreaTree
    # Indicator id -> the signature of its stored roll-ups, when read with the data versions (else read per use).
    signatures: Mapping[int, str] | None = None
    stored: dict[tuple[int, str, tuple[int, ...], date | None], dict[int, dict[Period, Point]] | None] = field(
        default_factory=dict
    )
    worked: dict[Worked, dict[int, dict[Period, Point]]] = field(default_factory=dict)


def compute_series(
    *, session: Session, query: SeriesQuery, as_of: datetime | None = None, shared: Shared | None = None
) -> list[SeriesView]:
    indicator, areas, freq, start, end = query.indicator, query.areas, query.freq, query.start, query.end
    if shared is None:
        shared = Shared(catalogue_snapshot(session), AreaTree.cached(session))
    catalogue, tree = shared.catalogue, shared.tree
    ind = catalogue.indicator(indicator)
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
    if query.view not in VIEWS:
        raise GovopsError(f"unknown view {query.view!r}", code="invalid_view", hint="use one of " + ", ".join(VIEWS))
    first, last = _bounds(start, end)
    dims = dict(query.dims)
    reader = _Reader(session, shared, target, as_of)
    since = _first_day(catalogue, ind, query, first, target)
    ids = [n.id for n in nodes]
    if query.view == "ytd":
        per_area = reader.year_to_date(ind, ids, dims, since)
    else:
        per_area = reader.points(ind, ids, dims, since)
    if query.view == "yoy":
        per_area = {area_id: _on_a_year_earlier(ind, points) for area_id, points in per_area.items()}
    out = []
    after, before = first.start if first is not None else date.min, last.end if last is not None else date.max
    for node in nodes:
        points = per_area[node.id]
        wanted = [p for p in sorted(points, key=_START) if p.end >= after and p.start <= before]
        filled = Period.range(wanted[0], wanted[-1]) if wanted else []
        out.append(
            SeriesView(
                indicator=ind.code,
                area=node.code,
                area_name_vi=node.name_vi,
                freq=target.value,
                dims=dims,
                unit=ind.unit.code,
                as_of=as_of,
                points=tuple(_point_out(p, points.get(p)) for p in filled),
            )
        )
    return out


def _first_day(
    catalogue: CatalogueSnapshot, ind: Indicator, query: SeriesQuery, first: Period | None, target: Freq
) -> date | None:
    """The first day of data a query reads: old data is skipped, but a formula gets the years before `start`
    that its yoy, pop and lag reach into, and a change on a year earlier the year before."""
    back = _years_back(catalogue, ind) + (1 if query.view == "yoy" else 0)
    return date(first.start.year - back, 1, 1) if first is not None and not (target.years or 0) > 1 else None


def stored_reads(query: SeriesQuery, shared: Shared) -> list[rollup.Read]:
    """The reads of stored points `compute_series` makes for `query` (current values), so that a page can make
    those of all its series in a few statements first (`rollup.read_many` into `shared.stored`). A query
    compute_series would refuse plans nothing: it is refused there, as before."""
    catalogue, tree = shared.catalogue, shared.tree
    ind = catalogue.indicators.get(query.indicator)
    nodes = [tree.by_code.get(code) for code in query.areas]
    if ind is None or None in nodes:
        return []
    try:
        target = Freq(query.freq) if query.freq else Freq(ind.periodicity)
        first, _last = _bounds(query.start, query.end)
    except (ValueError, PeriodError):
        return []
    since = _first_day(catalogue, ind, query, first, target)
    area_ids = tuple(node.id for node in nodes if node is not None)
    out: list[rollup.Read] = []

    def leaves(ind: Indicator, dims: dict[str, str]) -> None:
        if ind.formula:
            for code in sorted(parse_formula(ind.formula).references):
                comp = catalogue.indicators.get(code)
                if comp is not None:
                    leaves(comp, {k: v for k, v in dims.items() if k in comp.dimension_codes})
        elif not set(dims) - set(ind.dimension_codes):
            out.append(rollup.Read(ind, dim_key(tuple(ind.dimension_codes), dims), area_ids, since))

    leaves(ind, dict(query.dims))
    return out


def _on_a_year_earlier(ind: Indicator, points: Mapping[Period, Point]) -> dict[Period, Point]:
    out = {}
    for period, point in points.items():
        try:
            before = points.get(period.same_period_last_year())
        except PeriodError:
            continue
        value = change(ind, point.value, before.value if before is not None else None)
        if value is not None:
            out[period] = Point(value, point.status, point.source, point.areas, point.periods)
    return out


def _cumulated(rule: str, points: Mapping[Period, Point]) -> dict[Period, Point]:
    """Each period's year to date by `rule`, where every period of its year up to it is known."""
    out = {}
    # Per frequency and year: the ordinal of its first period, and the values and the worst status so far.
    years: dict[tuple[Freq, int], tuple[int, list[float], list[str | None]]] = {}
    for period in sorted(points, key=_START):
        point = points[period]
        if period.freq.years:
            out[period] = point  # a year is its own year to date
            continue
        key = (period.freq, period.year)
        year = years.get(key)
        if year is None:
            year = years[key] = (period.year_to_date()[0].ordinal, [], [None])
        first, values, status = year
        values.append(point.value)
        status[0] = worst((status[0], point.status))
        # Sorted and one point a period: as many known as periods since the year began means none is missing.
        if len(values) < period.ordinal - first + 1:
            continue
        value = combine(rule, values)
        if value is not None:
            out[period] = Point(value, status[0], "aggregated", point.areas, point.periods or Share(1, 1))
    return out


def _years_back(catalogue: CatalogueSnapshot, ind: Indicator) -> int:
    if not ind.formula:
        return 0
    return parse_formula(ind.formula).years_back(lambda code: _years_back(catalogue, catalogue.indicator(code)))


_START = attrgetter("start")


def _point_out(period: Period, point: Point | None) -> PointView:
    if point is None:
        return PointView(str(period), None, None, "missing", None, None)
    return PointView(str(period), round(point.value, 6), point.status, point.source, point.areas, point.periods)


class _Reader:
    """Reads the points of indicators at some areas, at one frequency, for one request."""

    def __init__(self, session: Session, shared: Shared, target: Freq, as_of: datetime | None) -> None:
        self.session, self.shared, self.target, self.as_of = session, shared, target, as_of
        self.catalogue, self.tree = shared.catalogue, shared.tree

    def _once(
        self,
        kind: str,
        work: Callable[[Indicator, list[int], dict[str, str], date | None], dict[int, dict[Period, Point]]],
        ind: Indicator,
        area_ids: list[int],
        dims: dict[str, str],
        since: date | None,
    ) -> dict[int, dict[Period, Point]]:
        """`work`'s answer, worked out once per page for current values (see Shared.worked)."""
        if self.as_of is not None:
            return work(ind, area_ids, dims, since)
        key = (kind, ind.id, tuple(area_ids), tuple(sorted(dims.items())), since, self.target)
        found = self.shared.worked.get(key)
        if found is None:
            found = self.shared.worked[key] = work(ind, area_ids, dims, since)
        return found

    def year_to_date(
        self, ind: Indicator, area_ids: list[int], dims: dict[str, str], since: date | None
    ) -> dict[int, dict[Period, Point]]:
        return self._once("ytd", self._year_to_date, ind, area_ids, dims, since)

    def points(
        self, ind: Indicator, area_ids: list[int], dims: dict[str, str], since: date | None
    ) -> dict[int, dict[Period, Point]]:
        return self._once("points", self._points, ind, area_ids, dims, since)

    def _year_to_date(
        self, ind: Indicator, area_ids: list[int], dims: dict[str, str], since: date | None
    ) -> dict[int, dict[Period, Point]]:
        rule = ytd_rule(self.catalogue, ind)
        if rule is None:
            raise GovopsError(
                f"{ind.code} has no year-to-date figure", code="invalid_view", hint="ask for view=level or view=yoy"
            )
        if rule == "formula":
            return self.derived(ind, area_ids, dims, since, cumulated=True)
        points = self.points(ind, area_ids, dims, since)
        if rule == "level":
            return points
        return {area_id: _cumulated(rule, by_period) for area_id, by_period in points.items()}

    def _points(
        self, ind: Indicator, area_ids: list[int], dims: dict[str, str], since: date | None
    ) -> dict[int, dict[Period, Point]]:
        session, tree, target, as_of = self.session, self.tree, self.target, self.as_of
        base = Freq(ind.periodicity)
        if ind.formula:
            return self.derived(ind, area_ids, dims, since, cumulated=False)
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
        key = dim_key(tuple(ind.dimension_codes), dims)
        if as_of is None:
            memo = rollup.Read(ind, key, tuple(area_ids), since).memo
            if memo in self.shared.stored:
                stored = self.shared.stored[memo]
            else:
                signatures = self.shared.signatures
                stored = rollup.read(
                    session,
                    ind=ind,
                    tree=tree,
                    key=key,
                    area_ids=area_ids,
                    since=since,
                    signature_now=signatures.get(ind.id) if signatures is not None else None,
                    knows_signature=signatures is not None,
                )
                self.shared.stored[memo] = stored
            if stored is not None:
                return {area_id: _to_freq(ind, base, target, points) for area_id, points in stored.items()}
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
            key=key,
            as_of=as_of,
            area_ids=wanted,
            first=since,
        )
        weights = None
        if ind.area_aggregation == "weighted" and ind.area_weight_id is not None:
            weights = Weights(
                load_values(session, indicator_id=ind.area_weight_id, key="", as_of=as_of, area_ids=wanted)
            )
        aggregator = AreaAggregator(ind, tree, data, weights)
        every = {Period.parse(p) for _, p in data}
        periods = sorted((p for p in every if p.freq is base), key=_START)
        # Figures reported for longer periods are not added up over areas; each area shows its own (as rollup.read).
        longer = [p for p in every if p.freq is not base]
        out: dict[int, dict[Period, Point]] = {}
        for area_id in area_ids:
            points = {p: pt for p in periods if (pt := aggregator.value(area_id, p)) is not None}
            for p in longer:
                if (own := data.get((area_id, str(p)))) is not None:
                    points[p] = Point(value=own[0], status=own[1], source="reported")
            out[area_id] = _to_freq(ind, base, target, points)
        return out

    def derived(
        self, ind: Indicator, area_ids: list[int], dims: dict[str, str], since: date | None, *, cumulated: bool
    ) -> dict[int, dict[Period, Point]]:
        """The formula's value at each period; over its inputs' years to date if `cumulated`."""
        formula = parse_formula(ind.formula or "")
        parts: dict[str, dict[int, dict[Period, Point]]] = {}
        rules: dict[str, str] = {}
        for code in sorted(formula.references):
            comp = self.catalogue.indicator(code)
            comp_dims = {k: v for k, v in dims.items() if k in comp.dimension_codes}
            read = self.year_to_date if cumulated else self.points
            parts[code] = read(comp, area_ids, comp_dims, since)
            rules[code] = comp.time_aggregation
        out: dict[int, dict[Period, Point]] = {}
        for area_id in area_ids:
            series = {code: parts[code][area_id] for code in parts}
            periods = sorted({p for s in series.values() for p in s}, key=_START)
            points: dict[Period, Point] = {}

            def get(code: str, period: Period, series: dict[str, dict[Period, Point]] = series) -> float | None:
                point = series[code].get(period)
                return None if point is None else point.value

            evaluate = _compile(formula.tree, get, rules)
            for period in periods:
                value = evaluate(period)
                if value is not None:
                    statuses = [s[period].status for s in series.values() if period in s]
                    points[period] = Point(value=value, status=worst(statuses), source="derived")
            out[area_id] = points
        return out


def _divided(a: float, b: float) -> float | None:
    return a / b if b else None


_ARITHMETIC: dict[type[ast.operator], Callable[[float, float], float | None]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}
Evaluator = Callable[[Period], float | None]
Getter = Callable[[str, Period], float | None]


def _compile(node: ast.expr, get: Getter, rules: Mapping[str, str]) -> Evaluator:
    """The formula as nested functions of the period, built once per series instead of walking the syntax tree
    at every period (most of a derived series' time went there). A missing input or an undefined period gives
    None."""
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)
        constant = float(node.value)
        return lambda p: constant
    if isinstance(node, ast.Name):
        code = node.id
        return lambda p: get(code, p)
    if isinstance(node, ast.UnaryOp):
        inner = _compile(node.operand, get, rules)
        if not isinstance(node.op, ast.USub):
            return inner

        def negated(p: Period) -> float | None:
            value = inner(p)
            return None if value is None else -value

        return negated
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left, get, rules), _compile(node.right, get, rules)
        op = _ARITHMETIC.get(type(node.op), _divided)

        def arithmetic(p: Period) -> float | None:
            a = left(p)
            if a is None:
                return None
            b = right(p)
            return None if b is None else op(a, b)

        return arithmetic
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    arg_node = node.args[0]
    arg = _compile(arg_node, get, rules)
    name = node.func.id
    if name == "lag":
        lag_node = node.args[1]
        assert isinstance(lag_node, ast.Constant) and isinstance(lag_node.value, int)
        lag = lag_node.value

        def lagged(p: Period) -> float | None:
            try:
                earlier = p - lag
            except PeriodError:
                return None
            return arg(earlier)

        return lagged
    if name == "ytd":
        rule = rules.get(arg_node.id, "sum") if isinstance(arg_node, ast.Name) else "sum"

        def year_to_date(p: Period) -> float | None:
            try:
                periods = p.year_to_date()
            except PeriodError:
                return None
            values = []
            for q in periods:
                value = arg(q)
                if value is None:
                    return None
                values.append(value)
            return combine(rule, values)

        return year_to_date
    a_year = name == "yoy"

    def changed(p: Period) -> float | None:
        try:
            earlier = p.same_period_last_year() if a_year else p.previous()
        except PeriodError:
            return None
        now = arg(p)
        if now is None:
            return None
        before = arg(earlier)
        if not before:
            return None
        return (now / before - 1.0) * 100.0

    return changed
