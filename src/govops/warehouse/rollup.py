"""Area roll-ups kept beside the observations: the aggregated values of provinces and the nation.

Adding up 3,321 wards for every month of a national chart costs seconds once a store holds
ward-level data; here each write recomputes only the periods it touched, in its own transaction,
and readers take the stored figures. The roll-up of an indicator is stored with a signature of
the rule and area tree it was computed under: when either changes, readers fall back to adding
up the observations themselves until `refresh_stale` recomputes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import NamedTuple

from sqlalchemy import BindParameter, Executable, Integer, bindparam, cast, delete, null, select, union_all, update
from sqlalchemy.orm import Session, lazyload

from govops.catalog.models import Indicator
from govops.db.dialect import is_postgres
from govops.periods import Freq, Period
from govops.warehouse.aggregation import AreaAggregator, Point, Share, Weights, load_values
from govops.warehouse.areas import AreaTree
from govops.warehouse.bulk import insert_rows
from govops.warehouse.models import AreaRollup, IndicatorState, Observation

# Bumped when the way roll-ups are computed changes, so that stored ones are recomputed.
_ALGORITHM = "1"
_CHUNK = 500
_COLUMNS = ("indicator_id", "dim_key", "area_id", "period", "period_start", "value", "status", "have", "expected")

Touched = Mapping[tuple[int, str], Iterable[str]]


def signature(ind: Indicator, tree: AreaTree) -> str:
    return f"{_ALGORITHM}|{ind.area_aggregation}|{ind.area_weight_id or ''}|{tree.version}"


def _rolls_up(ind: Indicator) -> bool:
    return ind.formula is None and ind.area_aggregation != "none"


def _lock(session: Session, indicator_ids: Iterable[int]) -> None:
    """Serialise roll-up work per indicator, so that two writers never each add up without the other's rows.

    FOR NO KEY UPDATE does not conflict with the key-share locks that inserting observations takes on
    the same indicator row; ids are locked in order so that two writers cannot wait on each other.
    """
    if not is_postgres(session):
        return  # SQLite writers already hold the database's write lock
    for indicator_id in sorted(set(indicator_ids)):
        session.execute(select(Indicator.id).where(Indicator.id == indicator_id).with_for_update(key_share=True))


def _rule_of(session: Session, indicator_id: int) -> Indicator:
    """The indicator, for its aggregation rule: without its unit, owner, dimensions and groups, which roll-ups
    do not use (they are read only if something asks for them), four queries fewer for each write."""
    ind = session.get(Indicator, indicator_id, options=[lazyload("*")])
    assert ind is not None
    return ind


def _weighted_by(session: Session, indicator_ids: Iterable[int]) -> set[int]:
    ids = set(indicator_ids)
    return set(session.scalars(select(Indicator.id).where(Indicator.area_weight_id.in_(ids)))) if ids else set()


def refresh(*, session: Session, touched: Touched) -> None:
    """Recompute the roll-ups of the (indicator, dimension key) pairs and periods just written.

    An indicator whose roll-ups are stale, or that is weighted by one just written (population),
    is recomputed whole.
    """
    if not touched:
        return
    tree = AreaTree.cached(session)
    written = {indicator_id for indicator_id, _ in touched}
    whole = _weighted_by(session, written)
    _lock(session, written | whole)
    states = _states(session, written)
    for (indicator_id, key), periods in sorted(touched.items()):
        ind = _rule_of(session, indicator_id)
        if states.get(indicator_id) != signature(ind, tree):
            whole.add(indicator_id)
        if indicator_id not in whole:
            _recompute(session, ind, tree, key, sorted(set(periods)))
    for indicator_id in sorted(whole):
        rebuild(session=session, indicator_id=indicator_id, tree=tree)
    session.execute(
        update(IndicatorState)
        .where(IndicatorState.indicator_id.in_(written))
        .values(data_version=IndicatorState.data_version + 1)
    )
    session.flush()


def _states(session: Session, indicator_ids: Iterable[int] | None = None) -> dict[int, str]:
    """The roll-up signature of each indicator (of `indicator_ids` only, when given)."""
    query = select(IndicatorState.indicator_id, IndicatorState.rollup_signature)
    if indicator_ids is not None:
        query = query.where(IndicatorState.indicator_id.in_(sorted(set(indicator_ids))))
    return {indicator_id: rollup_signature for indicator_id, rollup_signature in session.execute(query)}


def rebuild(*, session: Session, indicator_id: int, tree: AreaTree | None = None) -> int:
    """Recompute every roll-up of one indicator; returns how many points it holds."""
    tree = tree or AreaTree.cached(session)
    ind = _rule_of(session, indicator_id)
    session.execute(delete(AreaRollup).where(AreaRollup.indicator_id == indicator_id))
    count = 0
    if _rolls_up(ind):
        keys = session.scalars(
            select(Observation.dim_key).where(Observation.indicator_id == indicator_id).distinct()
        ).all()
        for key in keys:
            count += _recompute(session, ind, tree, key, None)
    state = session.get(IndicatorState, indicator_id)
    if state is None:
        session.add(
            IndicatorState(
                indicator_id=indicator_id, rollup_signature=signature(ind, tree), data_version=0, last_change_seq=0
            )
        )
    else:
        state.rollup_signature = signature(ind, tree)
    session.flush()
    return count


def refresh_stale(*, session: Session) -> list[str]:
    """Rebuild the roll-ups of every indicator whose rule or area tree changed; returns their codes."""
    tree = AreaTree.cached(session)
    states = _states(session)
    stale = [
        ind
        for ind in session.scalars(select(Indicator).order_by(Indicator.id))
        if states.get(ind.id) != signature(ind, tree)
    ]
    _lock(session, [ind.id for ind in stale])
    for ind in stale:
        rebuild(session=session, indicator_id=ind.id, tree=tree)
    return [ind.code for ind in stale]


def _recompute(session: Session, ind: Indicator, tree: AreaTree, key: str, periods: list[str] | None) -> int:
    """Replace the roll-ups of `periods` (None: all) of one indicator and dimension key."""
    r = AreaRollup
    scope = (r.indicator_id == ind.id, r.dim_key == key)
    chunks = [periods[i : i + _CHUNK] for i in range(0, len(periods), _CHUNK)] if periods is not None else [None]
    count = 0
    for chunk in chunks:
        if chunk is not None:
            session.execute(delete(r).where(*scope, r.period.in_(chunk)))
        if not _rolls_up(ind):
            continue
        data = load_values(session, indicator_id=ind.id, key=key, as_of=None, area_ids=None, periods=chunk)
        weights = None
        if ind.area_aggregation == "weighted" and ind.area_weight_id is not None:
            weights = Weights(load_values(session, indicator_id=ind.area_weight_id, key="", as_of=None, area_ids=None))
        rows = list(_aggregated(ind, tree, data, weights, key))
        insert_rows(session, r.__table__, _COLUMNS, rows)  # type: ignore[arg-type]
        count += len(rows)
    return count


def _aggregated(
    ind: Indicator,
    tree: AreaTree,
    data: Mapping[tuple[int, str], tuple[float, str]],
    weights: Weights | None,
    key: str,
) -> Iterable[tuple[object, ...]]:
    aggregator = AreaAggregator(ind, tree, data, weights)
    # Only areas with something below or merged into them can hold an aggregated value.
    upper = [a for a in aggregator.populated if a in tree.children or a in tree.predecessors]
    by_label: dict[str, Period] = {}
    for _, label in data:
        by_label.setdefault(label, Period.parse(label))
    base = Freq(ind.periodicity)
    for label, period in by_label.items():
        if period.freq is not base:
            # A figure reported for a longer period stays at its own area: the areas above add up their own
            # base periods (or report that longer period themselves), never a few children's longer figures.
            continue
        for area_id in upper:
            point = aggregator.value(area_id, period, label)
            if point is not None and point.source == "aggregated":
                assert point.areas is not None
                yield (
                    ind.id,
                    key,
                    area_id,
                    label,
                    period.start,
                    point.value,
                    point.status,
                    point.areas.have,
                    point.areas.expected,
                )


class Read(NamedTuple):
    """What one read of stored points asks for: an indicator's breakdown at some areas, from a first day."""

    indicator: Indicator
    key: str
    area_ids: tuple[int, ...]
    since: date | None

    @property
    def memo(self) -> tuple[int, str, tuple[int, ...], date | None]:
        """The read without the indicator's row: what answers it are kept under (series.Shared.stored)."""
        return self.indicator.id, self.key, self.area_ids, self.since


def read(
    session: Session,
    *,
    ind: Indicator,
    tree: AreaTree,
    key: str,
    area_ids: list[int],
    since: date | None,
    signature_now: str | None = None,
    knows_signature: bool = False,
) -> dict[int, dict[Period, Point]] | None:
    """The points of `area_ids`, or None while its roll-ups are stale.

    Points are at the indicator's own periodicity, plus the figures reported for longer periods (source reported),
    which the same indexed read of the areas' own observations brings along. A caller that read the indicator's
    stored signature already (`knows_signature`; None if it has no state) saves the look-up.
    """
    if not knows_signature:
        state = session.get(IndicatorState, ind.id)
        signature_now = state.rollup_signature if state is not None else None
    wanted = Read(ind, key, tuple(area_ids), since)
    return read_many(session, reads=[wanted], tree=tree, signatures={ind.id: signature_now}).get(wanted.memo)


def read_many(
    session: Session, *, reads: Iterable[Read], tree: AreaTree, signatures: Mapping[int, str | None]
) -> dict[tuple[int, str, tuple[int, ...], date | None], dict[int, dict[Period, Point]]]:
    """Several `read`s, in one statement for all those of the same breakdown, areas and first day: a page that
    shows twenty indicators makes a round trip, not twenty. Reads of indicators whose roll-ups are stale
    (`signatures`: each indicator's stored signature) are left out; their callers add up the observations."""
    groups: dict[tuple[str, tuple[int, ...], date | None], dict[int, Indicator]] = defaultdict(dict)
    for wanted in reads:
        ind = wanted.indicator
        if signatures.get(ind.id) == signature(ind, tree):
            groups[(wanted.key, wanted.area_ids, wanted.since)][ind.id] = ind
    labels: dict[str, Period] = {}

    def period(label: str) -> Period:
        found = labels.get(label)
        if found is None:
            found = labels[label] = Period.parse(label)
        return found

    out: dict[tuple[int, str, tuple[int, ...], date | None], dict[int, dict[Period, Point]]] = {}
    for (key, area_ids, since), indicators in groups.items():
        rolled = [ind_id for ind_id, ind in indicators.items() if _rolls_up(ind)]
        by_indicator: dict[int, dict[int, dict[Period, Point]]] = {
            ind_id: {area_id: {} for area_id in area_ids} for ind_id in indicators
        }
        params = {
            "ids": list(indicators),
            "rolled_ids": rolled,
            "key": key,
            "area_ids": list(area_ids),
            "since": since or date.min,
        }
        rows = session.execute(_READS[(bool(rolled), since is not None)], params)
        for ind_id, area_id, label, value, status, have, expected in rows:
            points = by_indicator[ind_id][area_id]
            at = period(label)
            if have is None:
                # Where a roll-up exists it is what the aggregation rules chose over the area's own figure.
                points.setdefault(at, Point(value=value, status=status, source="reported"))
            else:
                points[at] = Point(value=value, status=status, source="aggregated", areas=Share(have, expected))
        for ind_id, points_by_area in by_indicator.items():
            out[(ind_id, key, area_ids, since)] = points_by_area
    return out


def _read_statement(rolls_up: bool, has_since: bool) -> Executable:
    """One statement for the areas' own figures and their roll-ups, for several indicators (a round trip, not the
    rows, is the cost here), built once with bound parameters rather than for each read."""
    o, r = Observation, AreaRollup
    no_count = cast(null(), Integer)
    areas: BindParameter[list[int]] = bindparam("area_ids", expanding=True)
    own = select(
        o.indicator_id, o.area_id, o.period, o.value, o.status, no_count.label("have"), no_count.label("expected")
    ).where(o.indicator_id.in_(bindparam("ids", expanding=True)), o.dim_key == bindparam("key"), o.area_id.in_(areas))
    if has_since:
        own = own.where(o.period_start >= bindparam("since"))
    if not rolls_up:
        return own
    rolled = select(r.indicator_id, r.area_id, r.period, r.value, r.status, r.have, r.expected).where(
        r.indicator_id.in_(bindparam("rolled_ids", expanding=True)),
        r.dim_key == bindparam("key"),
        r.area_id.in_(areas),
    )
    if has_since:
        rolled = rolled.where(r.period_start >= bindparam("since"))
    return union_all(own, rolled)


_READS = {
    (rolls_up, has_since): _read_statement(rolls_up, has_since)
    for rolls_up in (True, False)
    for has_since in (True, False)
}


def touched_by(rows: Iterable[tuple[int, str, str]]) -> dict[tuple[int, str], set[str]]:
    """(indicator id, dimension key, period) of written rows -> the periods per indicator and key."""
    out: dict[tuple[int, str], set[str]] = defaultdict(set)
    for indicator_id, key, label in rows:
        out[(indicator_id, key)].add(label)
    return dict(out)
