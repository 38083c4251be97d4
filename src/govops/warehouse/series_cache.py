"""Series as pages ask for them: computed once per data version, kept, and recomputed ahead of the next visitor.

Answers are kept per area. A write to one indicator at one area changes the data of that area and of every
area it adds up into (its province, the nation, the province a retired unit was merged into), for that
indicator and the indicators computed from it, so only those answers are computed again: after a province
writes its exports, the national figure and the province's own are recomputed, not the 33 other provinces'.
The areas a write touched are read from its change events (one per written value, numbered per indicator);
when they cannot all be found, every answer of the indicator is computed again.

A warmer thread recomputes the answers pages asked for recently as soon
as their data changes, and the national overview and the province table when the server starts, so that
a visitor seldom waits for them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from govops.catalog.formulas import parse_formula
from govops.catalog.models import Indicator
from govops.catalog.snapshot import catalogue_snapshot
from govops.events.models import DomainEvent
from govops.warehouse import rollup
from govops.warehouse.areas import AreaTree
from govops.warehouse.changes import TOPIC as CHANGE_TOPIC
from govops.warehouse.changes import TYPE as CHANGE_TYPE
from govops.warehouse.models import IndicatorState
from govops.warehouse.series import SeriesQuery, SeriesView, Shared, compute_series, stored_reads

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DataVersions:
    """What the answers pages compute depend on: the catalogue, the area tree and each indicator's data per area.

    Asked once per page (or warm-up pass), it also carries what that page's computations share: the catalogue and
    the area tree as read for it, and the stored points already read (a tile's level and year to date, a balance
    and its exports and imports, read once rather than once per series).
    """

    catalogue: tuple[object, ...]
    # Code -> how many times all its answers were made stale; code -> area code -> writes seen at or below it.
    epochs: Mapping[str, int]
    touched: Mapping[str, Mapping[str, int]]
    # Code -> the codes whose data its series is computed from (itself, its formula's, its weights').
    inputs: Mapping[str, frozenset[str]]
    shared: Shared | None = field(default=None, compare=False)

    def at(self, code: str) -> Callable[[str], tuple[object, ...]]:
        """The version of `code`'s data at an area: what an answer for that area was computed from."""
        counts = [(c, self.epochs.get(c, 0), self.touched.get(c, _NONE)) for c in sorted(self.inputs.get(code, {code}))]
        return lambda area: (self.catalogue, *((c, epoch, touched.get(area, 0)) for c, epoch, touched in counts))


_NONE: Mapping[str, int] = {}


@dataclass
class _Seen:
    """What this process last saw of one store's indicators, and the writes it has counted per area since."""

    # Code -> (data version, last change seq) as last read.
    states: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The newest change event id as last read: a later write's events have larger ids.
    last_event: int = 0
    looked: bool = False
    epochs: dict[str, int] = field(default_factory=dict)
    # Replaced, never changed in place, per indicator: a DataVersions handed out keeps its own.
    touched: dict[str, dict[str, int]] = field(default_factory=dict)


# More than this many changes to one indicator since the last look: all its answers are computed again.
_MOST_EVENTS = 2_000


def data_versions(session: Session) -> DataVersions:
    """Cheap enough to ask on every page: a write leaves every other indicator's, and other areas', answers."""
    tree = AreaTree.cached(session)
    catalogue = (
        tree.version,
        *session.execute(select(func.max(Indicator.updated_at), func.count()).select_from(Indicator)).one(),
    )
    # In one statement, so that the newest event id is read as of the same moment as the states.
    newest = select(func.coalesce(func.max(DomainEvent.id), 0)).scalar_subquery()
    states = session.execute(
        select(
            Indicator.id,
            Indicator.code,
            IndicatorState.data_version,
            IndicatorState.last_change_seq,
            IndicatorState.rollup_signature,
            newest,
        ).join(IndicatorState, IndicatorState.indicator_id == Indicator.id)
    ).all()
    signatures = {indicator_id: signature for indicator_id, _, _, _, signature, _ in states}
    url = _store(session)
    key = (url, catalogue)
    inputs = _INPUTS.get(key)
    if inputs is None:
        _INPUTS.clear()
        inputs = _INPUTS[key] = _inputs(session)
    now = {code: (version, seq) for _, code, version, seq, _, _ in states}
    last_event = states[0][5] if states else 0
    epochs, touched = _follow(session, url, tree, now, last_event)
    return DataVersions(
        catalogue=catalogue,
        epochs=epochs,
        touched=touched,
        inputs=inputs,
        shared=Shared(catalogue_snapshot(session), tree, signatures),
    )


def _follow(
    session: Session, url: str, tree: AreaTree, now: dict[str, tuple[int, int]], last_event: int
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Count the writes since the last look against the areas they reach; returns copies for a DataVersions."""
    with _LOCK:
        seen = _SEEN.setdefault(url, _Seen())
        first_look = not seen.looked
        changed = {
            code: (seen.states.get(code), state) for code, state in now.items() if seen.states.get(code) != state
        }
        since = seen.last_event
    # Indicator code -> the seqs of the writes to find, read outside the lock.
    wanted: dict[str, range] = {}
    for code, (before, after) in changed.items():
        if before is not None and after[1] > before[1] and after[1] - before[1] <= _MOST_EVENTS:
            wanted[code] = range(before[1] + 1, after[1] + 1)
    found = _written_areas(session, wanted, since) if wanted and not first_look else {}
    with _LOCK:
        # Another page may have counted these writes meanwhile: only what it has not seen is counted.
        if not seen.looked:
            seen.states, seen.looked = dict(now), True
            seen.last_event = max(seen.last_event, last_event)
        else:
            for code, (before, after) in changed.items():
                if seen.states.get(code) != before:
                    continue
                areas = found.get(code)
                if areas is None:
                    seen.epochs[code] = seen.epochs.get(code, 0) + 1
                else:
                    counts = dict(seen.touched.get(code, {}))
                    for area in _reached(tree, areas):
                        counts[area] = counts.get(area, 0) + 1
                    seen.touched[code] = counts
                seen.states[code] = after
            seen.last_event = max(seen.last_event, last_event)
        return dict(seen.epochs), dict(seen.touched)


def _written_areas(session: Session, wanted: Mapping[str, range], since: int) -> dict[str, set[str]]:
    """The areas written by each indicator's changes numbered `wanted[code]`, from the change events after event
    `since`; an indicator some of whose changes are not found there is left out (all its answers go stale)."""
    rows = session.execute(
        select(DomainEvent.read_indicator, DomainEvent.payload).where(
            DomainEvent.topic == CHANGE_TOPIC,
            DomainEvent.type == CHANGE_TYPE,
            DomainEvent.id > since,
            DomainEvent.read_indicator.in_(sorted(wanted)),
        )
    ).all()
    seqs: dict[str, set[int]] = {}
    areas: dict[str, set[str]] = {}
    for code, payload in rows:
        assert code is not None
        change = json.loads(payload)
        if change["seq"] in wanted[code]:
            seqs.setdefault(code, set()).add(change["seq"])
            areas.setdefault(code, set()).add(change["area"])
    return {code: areas[code] for code, numbers in wanted.items() if seqs.get(code, set()) == set(numbers)}


def _reached(tree: AreaTree, written: Iterable[str]) -> set[str]:
    """The areas whose figures include those of `written`: each one, the areas above it, and the unit a retired
    one was merged into (and that unit's own)."""
    out: set[str] = set()
    stack = [tree.by_code[code].id for code in written if code in tree.by_code]
    while stack:
        node = tree.nodes[stack.pop()]
        if node.code in out:
            continue
        out.add(node.code)
        stack.extend(i for i in (node.parent_id, node.successor_id) if i is not None and i in tree.nodes)
    # An area the tree does not know (removed since): every answer for it is read from the store anyway.
    out.update(code for code in written if code not in tree.by_code)
    return out


def _inputs(session: Session) -> dict[str, frozenset[str]]:
    rows = session.execute(select(Indicator.id, Indicator.code, Indicator.formula, Indicator.area_weight_id)).all()
    code_of = {ind_id: code for ind_id, code, _, _ in rows}
    direct = {
        code: (parse_formula(formula).references if formula else set())
        | ({code_of[weight]} if weight in code_of else set())
        for _, code, formula, weight in rows
    }
    out: dict[str, frozenset[str]] = {}
    for code in direct:
        seen, stack = {code}, [code]
        while stack:
            for used in direct.get(stack.pop(), ()):
                if used not in seen:
                    seen.add(used)
                    stack.append(used)
        out[code] = frozenset(seen)
    return out


_INPUTS: dict[tuple[object, ...], dict[str, frozenset[str]]] = {}
_SEEN: dict[str, _Seen] = {}
# (store, query without its areas, area) -> the version of the data it was computed from, and the answer; one per
# area. Least recently used answers go first; an answer computed again replaces the stale one.
_CACHE: OrderedDict[tuple[str, SeriesQuery, str], tuple[tuple[object, ...], SeriesView]] = OrderedDict()
_CACHE_LIMIT = 8_192
_RECIPES_LIMIT = 512
# What pages asked for (without the data version) and when, for the warmer to recompute when data changes.
_RECIPES: OrderedDict[tuple[str, SeriesQuery], float] = OrderedDict()
_LOCK = threading.Lock()


def cached_series(*, session: Session, query: SeriesQuery, versions: DataVersions | None = None) -> list[SeriesView]:
    """build_series for pages: the same answer is reused until the data it comes from changes (current values)."""
    versions = versions if versions is not None else data_versions(session)
    # Computed first: a query that fails (an unknown area or indicator) is never handed to the warmer.
    found = _answer(session, query, versions)
    recipe = (_store(session), query)
    with _LOCK:
        _RECIPES[recipe] = time.monotonic()
        _RECIPES.move_to_end(recipe)
        if len(_RECIPES) > _RECIPES_LIMIT:
            _RECIPES.popitem(last=False)
    return found


def _shape(query: SeriesQuery) -> SeriesQuery:
    """The query without its areas: with an area, the key of one kept answer."""
    return query.at(())


def _store(session: Session) -> str:
    """The store's URL as answers are kept under it, written once per engine rather than at every look-up."""
    engine = session.get_bind().engine
    text = _STORES.get(engine)
    if text is None:
        text = _STORES[engine] = str(engine.url)
    return text


_STORES: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def _missing(versions: DataVersions, url: str, query: SeriesQuery) -> tuple[str, ...]:
    """The areas of `query` with no answer for their current data (under the lock)."""
    version, shape = versions.at(query.indicator), _shape(query)
    out = []
    for area in query.areas:
        kept = _CACHE.get((url, shape, area))
        if kept is None or kept[0] != version(area):
            out.append(area)
    return tuple(dict.fromkeys(out))


def _answer(session: Session, query: SeriesQuery, versions: DataVersions) -> list[SeriesView]:
    url, version, shape = _store(session), versions.at(query.indicator), _shape(query)
    found: dict[str, SeriesView] = {}
    with _LOCK:
        for area in query.areas:
            key = (url, shape, area)
            kept = _CACHE.get(key)
            if kept is not None and kept[0] == version(area):
                _CACHE.move_to_end(key)
                found[area] = kept[1]
    missing = tuple(dict.fromkeys(a for a in query.areas if a not in found))
    if missing:
        computed = compute_series(session=session, query=query.at(missing), shared=versions.shared)
        with _LOCK:
            for view in computed:
                found[view.area] = view
                key = (url, shape, view.area)
                _CACHE[key] = (version(view.area), view)
                _CACHE.move_to_end(key)
            while len(_CACHE) > _CACHE_LIMIT:
                _CACHE.popitem(last=False)
    return [found[area] for area in query.areas]


def prefetch(*, session: Session, queries: Iterable[SeriesQuery | None], versions: DataVersions) -> None:
    """Read ahead, in a statement or two, the stored points of the `queries` not answered yet, which their
    computation would otherwise read one by one: for a page that shows many series, such as the overview."""
    shared = versions.shared
    if shared is None or shared.signatures is None:
        return
    url = _store(session)
    with _LOCK:
        missing = [q.at(areas) for q in queries if q is not None if (areas := _missing(versions, url, q))]
    reads = {read.memo: read for query in missing for read in stored_reads(query, shared)}
    wanted = [read for memo, read in reads.items() if memo not in shared.stored]
    if wanted:
        shared.stored.update(rollup.read_many(session, reads=wanted, tree=shared.tree, signatures=shared.signatures))


def refresh_recent(*, session: Session, within: float = 900.0) -> int:
    """Recompute the answers pages asked for in the last `within` seconds whose data has changed since."""
    versions = data_versions(session)
    stale = _stale(session, versions, within)
    done = 0
    for query in stale:
        try:
            # In a savepoint: a query the database refuses leaves the session usable for the next one.
            with session.begin_nested():
                _answer(session, query, versions)
        except Exception:
            # Logged once and forgotten: the next page that asks for it gets the error itself.
            log.exception("page warm-up failed; dropped", indicator=query.indicator, query=repr(query))
            forget(session=session, query=query)
        else:
            done += 1
    return done


def waiting(*, session: Session) -> list[SeriesQuery]:
    """The queries the warmer keeps computed for this store, most recently asked for last."""
    url = _store(session)
    with _LOCK:
        return [query for at, query in _RECIPES if at == url]


def forget(*, session: Session, query: SeriesQuery) -> None:
    with _LOCK:
        _RECIPES.pop((_store(session), query), None)


def pending(*, session: Session, within: float = 900.0) -> int:
    """How many recently asked-for answers are out of date (the warmer's backlog)."""
    return len(_stale(session, data_versions(session), within))


def _stale(session: Session, versions: DataVersions, within: float) -> list[SeriesQuery]:
    url = _store(session)
    now = time.monotonic()
    with _LOCK:
        recent = [query for (at, query), used in _RECIPES.items() if at == url and now - used <= within]
        return [q for q in recent if _missing(versions, url, q)]


def clear() -> None:
    with _LOCK:
        _CACHE.clear()
        _RECIPES.clear()
        _SEEN.clear()


class Warmer:
    """A daemon thread that keeps recently seen pages' answers computed for the current data."""

    def __init__(self, engine: Engine, *, warm_up: Callable[[Session], None] | None = None, every: float = 0.5) -> None:
        self.engine, self.warm_up, self.every = engine, warm_up, every
        self.turns = 0  # how many times it looked for stale answers (for monitoring and tests)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="govops-page-warmer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        if self.warm_up is not None and not self._stop.is_set():
            try:
                with Session(self.engine) as session:
                    self.warm_up(session)
            except Exception:
                # Once: pages compute what they need themselves; retrying would only repeat the error.
                log.exception("warm-up at start failed; not retried", warm_up=getattr(self.warm_up, "__name__", "?"))
        failing = False
        while not self._stop.is_set():
            try:
                with Session(self.engine) as session:
                    refresh_recent(session=session)
                failing = False
            except Exception:
                if not failing:  # once per outage of the store, not twice a second
                    log.exception("page warmer cannot read the store; trying again quietly")
                failing = True
            self.turns += 1
            self._stop.wait(self.every)
