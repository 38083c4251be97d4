"""The area tree in memory, for aggregation: current children and pre-2025 predecessors."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.catalog.version import kept_by_stamp


@dataclass(frozen=True)
class Node:
    id: int
    code: str
    name_vi: str
    level: str
    parent_id: int | None
    valid_from: date | None
    valid_to: date | None
    successor_id: int | None

    @property
    def current(self) -> bool:
        return self.valid_to is None


@dataclass
class AreaTree:
    nodes: dict[int, Node]
    by_code: dict[str, Node]
    children: dict[int, list[int]] = field(default_factory=dict)
    predecessors: dict[int, list[int]] = field(default_factory=dict)
    # Changes when the area table does; roll-ups computed under another version are stale.
    version: str = ""

    @classmethod
    def load(cls, session: Session) -> AreaTree:
        a = Area
        columns = (a.id, a.code, a.name_vi, a.level, a.parent_id, a.valid_from, a.valid_to, a.successor_id)
        # Plain rows, not ORM objects: this runs for every series request.
        nodes = {row[0]: Node(*row) for row in session.execute(select(*columns))}
        children: dict[int, list[int]] = defaultdict(list)
        predecessors: dict[int, list[int]] = defaultdict(list)
        for node in sorted(nodes.values(), key=lambda n: n.code):
            # Retired units reach the totals through their successor, never twice through their parent.
            if node.parent_id is not None and node.current:
                children[node.parent_id].append(node.id)
            if node.successor_id is not None:
                predecessors[node.successor_id].append(node.id)
        return cls(
            nodes=nodes,
            by_code={n.code: n for n in nodes.values()},
            children=dict(children),
            predecessors=dict(predecessors),
        )

    @classmethod
    def cached(cls, session: Session) -> AreaTree:
        """The tree, read again only when the catalogue changes (areas change only on a reference reload)."""
        return kept_by_stamp(session, _TREES, cls._read)

    @classmethod
    def _read(cls, session: Session) -> AreaTree:
        count, last_id = session.execute(select(func.count(), func.max(Area.id)).select_from(Area)).one()
        tree = cls.load(session)
        tree.version = f"{count}:{last_id}"
        return tree

    def subtree(self, area_id: int) -> set[int]:
        """The area, everything below it, and the retired units merged into any of them."""
        out: set[int] = set()
        stack = [area_id]
        while stack:
            current = stack.pop()
            out.add(current)
            stack.extend(self.children.get(current, ()))
            stack.extend(self.predecessors.get(current, ()))
        return out


# Trees by catalogue stamp (random, so one names a single area table whichever store it came from).
_TREES: dict[str, AreaTree] = {}
