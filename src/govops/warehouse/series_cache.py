"""Series as pages ask for them: computed once per data version, kept, and recomputed ahead of the next visitor.

A write to one indicator changes its data version (and that of the indicators computed from it), so only
those answers are computed again. A warmer thread recomputes the answers pages asked for recently as soon
as their data changes, and the national overview and the province table when the server starts, so that
a visitor seldom waits for them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from govops.catalog.formulas import parse_formula
from govops.catalog.models import Indicator
from govops.catalog.snapshot import catalogue_snapshot
from govops.warehouse import rollup
from govops.warehouse.areas import AreaTree
from govops.warehouse.models import IndicatorState
from govops.warehouse.series import SeriesQuery, SeriesView, Shared, compute_series, stored_reads

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DataVersions:
    """What the answers pages compute depend on: the catalogue, the area tree and each indicator's data.

    Asked once per page (or warm-up pass), it also carries what that page's computations share: the catalogue and
    the area tree as read for it, and the stored points already read (a tile's level and year to date, a balance
    and its exports and imports, read once rather than once per series).
    """

    catalogue: tuple[object, ...]
    by_indicator: Mapping[str, int]
    # Code -> the codes whose data its series is computed from (itself, its formula's, its weights').
    inputs: Mapping[str, frozenset[str]]
    shared: Shared | None = field(default=None, compare=False)

    def of(self, code: str) -> tuple[object, ...]:
        used = sorted(self.inputs.get(code, frozenset({code})))
        return (self.catalogue, *((c, self.by_indicator.get(c, 0)) for c in used))


def data_versions(session: Session) -> DataVersions:
    """Cheap enough to ask on every page: a write to one indicator leaves every other's answers reusable."""
    tree = AreaTree.cached(session)
    catalogue = (
        tree.version,
        *session.execute(select(func.max(Indicator.updated_at), func.count()).select_from(Indicator)).one(),
    )
    # The roll-ups' signatures with the versions: the roll-up readers need not look each one up.
    states = session.execute(
        select(Indicator.id, Indicator.code, IndicatorState.data_version, IndicatorState.rollup_signature).join(
            IndicatorState, IndicatorState.indicator_id == Indicator.id
        )
    ).all()
    versions = [(code, version) for _, code, version, _ in states]
    signatures = {indicator_id: signature for indicator_id, _, _, signature in states}
    key = (str(session.get_bind().engine.url), catalogue)
    inputs = _INPUTS.get(key)
    if inputs is None:
        _INPUTS.clear()
        inputs = _INPUTS[key] = _inputs(session)
    return DataVersions(
        catalogue=catalogue,
        by_indicator={code: version for code, version in versions},
        inputs=inputs,
        shared=Shared(catalogue_snapshot(session), tree, signatures),
    )


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
# Least recently used answers go first; a stale one is never asked for again, so it ages out.
_CACHE: OrderedDict[tuple[tuple[object, ...], str, SeriesQuery], list[SeriesView]] = OrderedDict()
_CACHE_LIMIT = 512
# What pages asked for (without the data version) and when, for the warmer to recompute when data changes.
_RECIPES: OrderedDict[tuple[str, SeriesQuery], float] = OrderedDict()
_LOCK = threading.Lock()


def cached_series(*, session: Session, query: SeriesQuery, versions: DataVersions | None = None) -> list[SeriesView]:
    """build_series for pages: the same answer is reused until the data it comes from changes (current values)."""
    versions = versions if versions is not None else data_versions(session)
    # Computed first: a query that fails (an unknown area or indicator) is never handed to the warmer.
    found = _answer(session, query, versions)
    recipe = (str(session.get_bind().engine.url), query)
    with _LOCK:
        _RECIPES[recipe] = time.monotonic()
        _RECIPES.move_to_end(recipe)
        if len(_RECIPES) > _CACHE_LIMIT:
            _RECIPES.popitem(last=False)
    return found


def _answer(session: Session, query: SeriesQuery, versions: DataVersions) -> list[SeriesView]:
    key = (versions.of(query.indicator), str(session.get_bind().engine.url), query)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    found = compute_series(session=session, query=query, shared=versions.shared)
    with _LOCK:
        _CACHE[key] = found
        if len(_CACHE) > _CACHE_LIMIT:
            _CACHE.popitem(last=False)
    return found


def prefetch(*, session: Session, queries: Iterable[SeriesQuery | None], versions: DataVersions) -> None:
    """Read ahead, in a statement or two, the stored points of the `queries` not answered yet, which their
    computation would otherwise read one by one: for a page that shows many series, such as the overview."""
    shared = versions.shared
    if shared is None or shared.signatures is None:
        return
    url = str(session.get_bind().engine.url)
    with _LOCK:
        missing = [q for q in queries if q is not None and (versions.of(q.indicator), url, q) not in _CACHE]
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
    url = str(session.get_bind().engine.url)
    with _LOCK:
        return [query for at, query in _RECIPES if at == url]


def forget(*, session: Session, query: SeriesQuery) -> None:
    with _LOCK:
        _RECIPES.pop((str(session.get_bind().engine.url), query), None)


def pending(*, session: Session, within: float = 900.0) -> int:
    """How many recently asked-for answers are out of date (the warmer's backlog)."""
    return len(_stale(session, data_versions(session), within))


def _stale(session: Session, versions: DataVersions, within: float) -> list[SeriesQuery]:
    url = str(session.get_bind().engine.url)
    now = time.monotonic()
    with _LOCK:
        recent = [query for (at, query), used in _RECIPES.items() if at == url and now - used <= within]
        return [q for q in recent if (versions.of(q.indicator), url, q) not in _CACHE]


def clear() -> None:
    with _LOCK:
        _CACHE.clear()
        _RECIPES.clear()


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
