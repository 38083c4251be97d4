"""What the quality checks find, on a batch about to be written or over the whole store: the detectors on each
series a value belongs to, and the validation rules at each area and period its values reach.

Reads only: turning findings into flags, notifications and events is `govops.quality.service`'s. A batch's series
are read once per indicator (all its areas in a few statements), from DETECTOR_YEARS before its earliest row.
"""

from __future__ import annotations

import ast
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.periods import Freq, Period, PeriodError
from govops.quality import detectors
from govops.quality.expressions import Evaluator, Expression, parse_expression, stored_indicators
from govops.quality.facts import Facts, indicator_facts
from govops.quality.models import QualityRule
from govops.warehouse.areas import AreaTree
from govops.warehouse.models import Observation
from govops.warehouse.plausibility import cannot_be_negative
from govops.warehouse.service import batched
from govops.warehouse.validation import CatalogIndex, IndicatorInfo, ValidRow

DETECTOR_YEARS = 6  # the history a new value is judged against
_CHUNK = 500
SEASONS = {Freq.M: 12, Freq.Q: 4, Freq.S: 2}


@dataclass(frozen=True)
class Found:
    """A suspicious value, ready to become a flag."""

    indicator_id: int
    area_id: int
    dim_key: str
    period: str
    period_start: date
    value: float
    method: str
    severity: str
    source_agency_id: int | None
    score: float | None = None
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    likely: float | None = None
    rule_id: int | None = None
    rule_code: str | None = None
    blocking: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)
    row: int | None = None  # the batch row it is about


# --- series -------------------------------------------------------------------------------------------------------


def season_of(freq: Freq) -> int:
    return SEASONS.get(freq, 1)


@dataclass
class Series:
    """One series' known values of one frequency, by period, to be laid out on consecutive periods."""

    values: dict[Period, float] = field(default_factory=dict)

    def laid_out(self) -> tuple[Period, np.ndarray[Any, np.dtype[np.float64]], NDArray[np.int64] | None]:
        periods = list(self.values)
        years = periods[0].freq.years
        if not years or years == 1:
            # One frequency per series: its periods' ordinals are consecutive numbers, read in one pass.
            ordinals = np.fromiter((p.ordinal for p in periods), dtype=np.int64, count=len(periods))
            lowest = int(ordinals.argmin())
            first, offsets = periods[lowest], ordinals - ordinals[lowest]
        else:
            first = min(periods, key=lambda p: p.ordinal)
            offsets = np.array([self.offset(p, first) for p in periods], dtype=np.int64)
        out = np.full(int(offsets.max()) + 1, math.nan)
        out[offsets] = np.fromiter(self.values.values(), dtype=np.float64, count=len(periods))
        seasons = None
        if first.freq is Freq.M:
            seasons = detectors.consecutive_month_seasons(first.year, first.start.month, out.size)
        return first, out, seasons

    @staticmethod
    def offset(period: Period, first: Period) -> int:
        """How many periods after `first` (ordinals count periods, except a multi-year plan's: its start year)."""
        years = period.freq.years
        return period.ordinal - first.ordinal if not years or years == 1 else period - first


def judge_series(
    series: Series,
    *,
    wanted: Iterable[Period] | None,
    counted: bool,
    key: tuple[int, int, str],
    source_of: Mapping[Period, int | None],
    rows: Mapping[Period, int] | None = None,
) -> list[Found]:
    """The detectors' findings on one series at the `wanted` periods (all when None)."""
    if not series.values:
        return []
    first, values, seasons = series.laid_out()
    at = None if wanted is None else sorted({Series.offset(p, first) for p in wanted if p in series.values})
    found = detectors.judge(values, season_of(first.freq), at=at, counted=counted, seasons=seasons)
    indicator_id, area_id, dim_key = key
    out = []
    for f in found:
        period = first + f.index
        out.append(
            Found(
                indicator_id=indicator_id,
                area_id=area_id,
                dim_key=dim_key,
                period=str(period),
                period_start=period.start,
                value=float(values[f.index]),
                method=f.method,
                severity=f.severity,
                source_agency_id=source_of.get(period),
                score=None if f.score == 0 or not math.isfinite(f.score) else round(f.score, 2),
                expected=f.expected,
                low=f.low,
                high=f.high,
                likely=f.likely,
                row=(rows or {}).get(period),
            )
        )
    return out


# --- rules ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    rule_id: int
    code: str
    operator: str
    tolerance: float
    missing: str
    severity: str
    blocking: bool
    area_level: str
    freq: Freq
    left: Evaluator
    right: Evaluator
    reads: Mapping[str, Facts]  # the stored indicators it reads, by code
    uses_children: bool
    years_back: int


def compile_rule(rule: QualityRule, indicators: Mapping[str, Facts]) -> CompiledRule | None:
    """The rule ready to judge; None when the catalogue changed under it (an indicator it names is gone)."""
    left = parse_expression(rule.left, side="left")
    right = parse_expression(rule.right, side="right")
    if any(code not in indicators for code in left.references | right.references):
        return None
    reads = stored_indicators(left, indicators) | stored_indicators(right, indicators)
    return CompiledRule(
        rule_id=rule.id,
        code=rule.code,
        operator=rule.operator,
        tolerance=rule.tolerance,
        missing=rule.missing,
        severity=rule.importance,
        blocking=rule.blocking,
        area_level=rule.area_level,
        freq=Freq(rule.periodicity),
        left=Evaluator(left, indicators),
        right=Evaluator(right, indicators),
        reads=reads,
        uses_children=_calls(left, "children") or _calls(right, "children"),
        years_back=max(_years_back(left), _years_back(right)),
    )


def _calls(expression: Expression, name: str) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
        for n in ast.walk(expression.tree)
    )


def _years_back(expression: Expression) -> int:
    back = 0
    for node in ast.walk(expression.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("yoy", "pop"):
                back = max(back, 1)
            elif node.func.id == "lag" and isinstance(lag := node.args[1], ast.Constant) and isinstance(lag.value, int):
                back = max(back, 1 + lag.value // 4)
    return back


def active_rules(session: Session, *, blocking: bool | None = None) -> list[CompiledRule]:
    stmt = select(QualityRule).where(QualityRule.active.is_(True)).order_by(QualityRule.code)
    if blocking is not None:
        stmt = stmt.where(QualityRule.blocking.is_(blocking))
    indicators = indicator_facts(session)
    compiled = (compile_rule(rule, indicators) for rule in session.scalars(stmt))
    return [rule for rule in compiled if rule is not None]


@dataclass
class Values:
    """Stored totals (and a batch's rows over them) in their quantity's base unit, for reading rules."""

    factors: Mapping[str, float]
    by_key: dict[tuple[str, int, Period], float] = field(default_factory=dict)
    sources: dict[tuple[str, int, Period], int | None] = field(default_factory=dict)

    def put(self, code: str, area_id: int, period: Period, value: float, source: int | None) -> None:
        self.by_key[(code, area_id, period)] = value * self.factors.get(code, 1.0)
        self.sources[(code, area_id, period)] = source

    def get(self, code: str, area_id: int, period: Period) -> float | None:
        return self.by_key.get((code, area_id, period))


def _factors(indicators: Mapping[str, Facts]) -> dict[str, float]:
    return {code: ind.factor for code, ind in indicators.items()}


def _agrees(rule: CompiledRule, left: float, right: float) -> bool:
    allowed = rule.tolerance * max(abs(left), abs(right))
    op = rule.operator
    if op == "==":
        return abs(left - right) <= allowed
    if op == "!=":
        return abs(left - right) > allowed
    if op == "<":
        return left - right < allowed if allowed else left < right
    if op == "<=":
        return left - right <= allowed
    if op == ">":
        return right - left < allowed if allowed else left > right
    return right - left <= allowed


def judge_rule(
    rule: CompiledRule, area_id: int, period: Period, values: Values, tree: AreaTree
) -> dict[str, float | None] | None:
    """The rule's reading where it is breached (both sides' values), or None where it holds or is not judged."""
    node = tree.nodes[area_id]
    if (rule.area_level == "nation" and node.parent_id is not None) or (
        rule.area_level == "province" and node.level != "province"
    ):
        return None

    def children(code: str, area: int, when: Period) -> float | None:
        total = 0.0
        below = [c for c in tree.children.get(area, []) if tree.nodes[c].current]
        for child in below:
            found = values.get(code, child, when)
            if found is None:
                return None  # a partial sum says nothing
            total += found
        return total if below else None

    zero = rule.missing != "skip_if_any_missing"
    left = rule.left.at(area_id, period, values.get, children, zero_for_missing=zero)
    right = rule.right.at(area_id, period, values.get, children, zero_for_missing=zero)
    if rule.operator in ("compulsory_pair", "exclusive_pair"):
        has_left, has_right = left.missing == 0 and left.present > 0, right.missing == 0 and right.present > 0
        breached = has_left != has_right if rule.operator == "compulsory_pair" else has_left and has_right
        return (
            {"left": left.value if has_left else None, "right": right.value if has_right else None}
            if breached
            else None
        )
    if rule.missing == "skip_if_any_missing" and (left.missing or right.missing):
        return None
    if rule.missing == "skip_if_all_missing" and not (left.present or right.present):
        return None
    if left.value is None or right.value is None or _agrees(rule, left.value, right.value):
        return None
    return {"left": left.value, "right": right.value}


def _read_values(
    session: Session,
    rule: CompiledRule,
    area_ids: set[int] | None,
    first: date,
    last: date,
    values: Values,
) -> None:
    ids = {ind.id: code for code, ind in rule.reads.items()}
    o = Observation
    stmt = select(o.indicator_id, o.area_id, o.period, o.value, o.source_agency_id).where(
        o.indicator_id.in_(list(ids)), o.dim_key == "", o.period_start >= first, o.period_start <= last
    )
    chunks: Iterable[Sequence[int] | None] = [None] if area_ids is None else batched(sorted(area_ids), _CHUNK)
    for chunk in chunks:
        query = stmt if chunk is None else stmt.where(o.area_id.in_(chunk))
        for indicator_id, area_id, period, value, source in session.execute(query):
            try:
                parsed = Period.parse(period)
            except PeriodError:
                continue
            if parsed.freq is rule.freq:
                values.put(ids[indicator_id], area_id, parsed, value, source)


# --- a batch -------------------------------------------------------------------------------------------------------


def batch_findings(
    *, session: Session, rows: Sequence[ValidRow], index: CatalogIndex, rules: Sequence[CompiledRule], detect: bool
) -> tuple[list[Found], dict[tuple[int, int, str, str], tuple[float, str]]]:
    """What the detectors (when `detect`) and `rules` find on a batch judged against the stored history, and the
    stored value and status each row replaces (for the follow-up of a correction)."""
    found: list[Found] = []
    replaced: dict[tuple[int, int, str, str], tuple[float, str]] = {}
    by_indicator: dict[int, list[ValidRow]] = defaultdict(list)
    for row in rows:
        by_indicator[row.indicator_id].append(row)
    for indicator_id, own in by_indicator.items():
        info = index.indicators_by_id[indicator_id]
        if info.derived:
            continue
        history = _history(session, indicator_id, own)
        for (area_id, key, _freq), stored in history.items():
            for period, (value, status) in stored.items():
                replaced[(indicator_id, area_id, key, str(period))] = (value, status)
        if not detect:
            continue
        counted = cannot_be_negative(info, index.units.get(info.unit, ("", 1.0))[0])
        grouped: dict[tuple[int, str, Freq], list[ValidRow]] = defaultdict(list)
        for row in own:
            grouped[(row.area_id, row.dim_key, Period.parse(row.period).freq)].append(row)
        for (area_id, key, freq), series_rows in grouped.items():
            stored = history.get((area_id, key, freq), {})
            series = Series({p: v for p, (v, _status) in stored.items()})
            rows_at: dict[Period, int] = {}
            sources: dict[Period, int | None] = {}
            for row in series_rows:
                period = Period.parse(row.period)
                series.values[period] = row.value
                rows_at[period] = row.row
                sources[period] = row.source_agency_id
            found += judge_series(
                series, wanted=rows_at, counted=counted, key=(indicator_id, area_id, key), source_of=sources,
                rows=rows_at,
            )  # fmt: skip
            for period, row_number in rows_at.items():
                before = stored.get(period)
                new = series.values[period]
                if before is not None and before[1] == "final" and detectors.large_revision(before[0], new):
                    found.append(
                        Found(
                            indicator_id,
                            area_id,
                            key,
                            str(period),
                            period.start,
                            new,
                            "revision",
                            "medium",
                            sources[period],
                            expected=before[0],
                            row=row_number,
                        )
                    )
    if rules:
        found += _batch_rules(session, rows, index, rules)
    return found, replaced


def _history(
    session: Session, indicator_id: int, rows: Sequence[ValidRow]
) -> dict[tuple[int, str, Freq], dict[Period, tuple[float, str]]]:
    """The stored values of the rows' series, from DETECTOR_YEARS before the earliest row to the latest."""
    o = Observation
    first = min(row.period_start for row in rows)
    first = first.replace(year=first.year - DETECTOR_YEARS, day=1)
    last = max(row.period_start for row in rows)
    keys = {row.dim_key for row in rows}
    out: dict[tuple[int, str, Freq], dict[Period, tuple[float, str]]] = defaultdict(dict)
    for areas in batched(sorted({row.area_id for row in rows}), _CHUNK):
        stmt = select(o.area_id, o.dim_key, o.period, o.value, o.status).where(
            o.indicator_id == indicator_id, o.area_id.in_(areas), o.period_start >= first, o.period_start <= last
        )
        if len(keys) == 1:
            stmt = stmt.where(o.dim_key == next(iter(keys)))
        for area_id, key, period, value, status in session.execute(stmt):
            parsed = Period.parse(period)
            out[(area_id, key, parsed.freq)][parsed] = (value, status)
    return out


def _batch_rules(
    session: Session, rows: Sequence[ValidRow], index: CatalogIndex, rules: Sequence[CompiledRule]
) -> list[Found]:
    tree = AreaTree.cached(session)
    indicators = indicator_facts(session)
    codes = {info.id: code for code, info in index.indicators.items()}
    totals = [row for row in rows if row.dim_key == ""]
    out: list[Found] = []
    for rule in rules:
        ids = {ind.id for ind in rule.reads.values()}
        touching = [(row, Period.parse(row.period)) for row in totals if row.indicator_id in ids]
        touching = [(row, p) for row, p in touching if p.freq is rule.freq]
        if not touching:
            continue
        # Where it is judged: the rows' areas, and the areas above them when it adds children up.
        triggers: dict[tuple[int, Period], ValidRow] = {}
        for row, period in sorted(touching, key=lambda rp: rp[0].row):
            triggers.setdefault((row.area_id, period), row)
            parent = tree.nodes[row.area_id].parent_id
            if rule.uses_children and parent is not None:
                triggers.setdefault((parent, period), row)
        areas = {area for area, _ in triggers}
        if rule.uses_children:
            areas |= {c for area in list(areas) for c in tree.children.get(area, [])}
        periods = [p for _, p in triggers]
        first = min(periods).start.replace(year=min(periods).year - rule.years_back, month=1, day=1)
        values = Values(_factors(indicators))
        _read_values(session, rule, areas, first, max(p.start for p in periods), values)
        for row, period in touching:
            values.put(codes[row.indicator_id], row.area_id, period, row.value, row.source_agency_id)
        for (area_id, period), row in triggers.items():
            reading = judge_rule(rule, area_id, period, values, tree)
            if reading is None:
                continue
            out.append(
                Found(
                    indicator_id=row.indicator_id,
                    area_id=row.area_id,
                    dim_key="",
                    period=str(period),
                    period_start=period.start,
                    value=row.value,
                    method="rule",
                    severity=rule.severity,
                    source_agency_id=row.source_agency_id,
                    rule_id=rule.rule_id,
                    rule_code=rule.code,
                    blocking=rule.blocking,
                    detail={"rule": rule.code, "area": tree.nodes[area_id].code, **reading},
                    row=row.row,
                )
            )
    return out


# --- the whole store -----------------------------------------------------------------------------------------------


@dataclass
class ScanCount:
    observations: int = 0
    series: int = 0


def scan_findings(
    *, session: Session, since: date, rules: Sequence[CompiledRule], count: ScanCount | None = None
) -> list[Found]:
    """What the detectors find on every stored series at its periods from `since` on (judged against all its
    history), and the rules at every area and period from `since` on."""
    count = count if count is not None else ScanCount()
    indicators = indicator_facts(session)
    out: list[Found] = []
    o = Observation
    periods: dict[str, Period] = {}
    for ind in sorted(indicators.values(), key=lambda i: i.id):
        if ind.formula:
            continue
        counted = _counted(ind)
        stmt = (
            select(o.area_id, o.dim_key, o.period, o.value, o.source_agency_id)
            .where(o.indicator_id == ind.id)
            .order_by(o.area_id, o.dim_key, o.period_start)
        )
        current: tuple[int, str] | None = None
        series: dict[Freq, Series] = {}
        sources: dict[Period, int | None] = {}
        for area_id, key, period, value, source in session.execute(stmt):
            count.observations += 1
            parsed = periods.get(period) or periods.setdefault(period, Period.parse(period))
            if (area_id, key) != current:
                if current is not None:
                    out += _judge_all(ind.id, current, series, sources, since, counted, count)
                current, series, sources = (area_id, key), {}, {}
            one = series.get(parsed.freq)
            if one is None:
                one = series[parsed.freq] = Series()
            one.values[parsed] = value
            sources[parsed] = source
        if current is not None:
            out += _judge_all(ind.id, current, series, sources, since, counted, count)
    out += _scan_rules(session, rules, since, indicators)
    return out


def _counted(ind: Facts) -> bool:
    info = IndicatorInfo(
        id=ind.id,
        code=ind.code,
        periodicity=Freq(ind.periodicity),
        adds_up_over_time=ind.time_aggregation == "sum",
        dimensions=(),
        unit=ind.unit,
        owner_id=ind.owner_id,
        derived=bool(ind.formula),
        classification=ind.classification,
    )
    return cannot_be_negative(info, ind.quantity)


def _first_judged(freq: Freq, since: date) -> int:
    """The ordinal of the first period of `freq` the scan judges: the one holding `since`, or the next."""
    holding = Period.from_date(since, freq)
    return holding.ordinal if holding.start >= since else holding.ordinal + 1


def _judge_all(
    indicator_id: int,
    key: tuple[int, str],
    series: Mapping[Freq, Series],
    sources: Mapping[Period, int | None],
    since: date,
    counted: bool,
    count: ScanCount,
) -> list[Found]:
    out = []
    for freq, one in series.items():
        count.series += 1
        first = _first_judged(freq, since)
        wanted = [p for p in one.values if p.ordinal >= first]
        if wanted:
            out += judge_series(
                one, wanted=wanted, counted=counted, key=(indicator_id, key[0], key[1]), source_of=sources
            )
    return out


def _scan_rules(
    session: Session, rules: Sequence[CompiledRule], since: date, indicators: Mapping[str, Facts]
) -> list[Found]:
    tree = AreaTree.cached(session)
    out: list[Found] = []
    for rule in rules:
        values = Values(_factors(indicators))
        first = since.replace(year=since.year - rule.years_back, month=1, day=1)
        _read_values(session, rule, None, first, date.max, values)
        first_code = sorted(rule.reads)[0]
        ind = rule.reads[first_code]
        points = {(area, period) for (code, area, period) in values.by_key if period.start >= since}
        for area_id, period in sorted(points, key=lambda ap: (ap[0], ap[1].start)):
            reading = judge_rule(rule, area_id, period, values, tree)
            if reading is None:
                continue
            # On the first value the rule reads at that area: the agency that sent it follows the flag up.
            own = next(
                (
                    (code, v)
                    for code in sorted(rule.reads)
                    if (v := values.by_key.get((code, area_id, period))) is not None
                ),
                None,
            )
            code = own[0] if own else first_code
            ind = rule.reads[code]
            stored = values.by_key.get((code, area_id, period))
            out.append(
                Found(
                    indicator_id=ind.id,
                    area_id=area_id,
                    dim_key="",
                    period=str(period),
                    period_start=period.start,
                    value=(stored or 0.0) / (ind.factor or 1.0),
                    method="rule",
                    severity=rule.severity,
                    source_agency_id=values.sources.get((code, area_id, period)),
                    rule_id=rule.rule_id,
                    rule_code=rule.code,
                    detail={"rule": rule.code, "area": tree.nodes[area_id].code, **reading},
                )
            )
    return out
