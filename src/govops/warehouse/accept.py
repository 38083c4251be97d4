"""The one way observations are accepted, whoever sends them: the API, `govops ingest`, a console upload,
an agency's file submission or the demo loader.

    rows (already parsed by a reader) -> checked against the catalogue -> authorised (the sender's rights)
    -> rules (checks that domains register) -> written in the caller's transaction -> outcome

Nothing is written unless every row passes the catalogue, the rights and every blocking rule; a warning
rule lets the batch through and its problems travel on the receipt. The caller owns the transaction
and the audit entry (what it records differs: a member's submission, an operator's file).

Parsing stays with the readers (`warehouse.formats`, `interop.readers`): they hand over numbered rows,
a row they could not read as a Problem, so that the same bad row gives the same problem list by
whichever entry point it came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from govops.errors import Problem, Rejected
from govops.warehouse import plausibility
from govops.warehouse.schemas import WriteSummary
from govops.warehouse.service import write_observations
from govops.warehouse.validation import CatalogIndex, RawRow, ValidRow, check_rows


class Rights(Protocol):
    """What the sender may write (the exchange's member rights, for instance); an operator has none to check."""

    @property
    def source_id(self) -> int | None:
        """The source agency of rows that name none."""

    def problems(self, rows: Sequence[ValidRow]) -> list[Problem]:
        """A problem for each row the sender may not write."""


@dataclass(frozen=True)
class Batch:
    """What a rule sees: the rows as they would be stored, and the catalogue they were checked against."""

    session: Session
    rows: Sequence[ValidRow]
    index: CatalogIndex
    submission_id: str | None = None
    recorded_by: str | None = None
    # What a rule's check found, kept for its `written` step, so that it need not read the store again.
    memo: dict[str, Any] = field(default_factory=dict)


RuleCheck = Callable[[Batch], Iterable[Problem]]
# After the batch is written (in the same transaction): what a rule does with what it found (a flag to follow up).
WrittenStep = Callable[[Batch, WriteSummary], None]


@dataclass(frozen=True)
class Rule:
    name: str
    check: RuleCheck
    # A blocking rule's problems reject the whole batch; otherwise they are warnings on the receipt.
    blocking: bool = False
    written: WrittenStep | None = None


_rules: dict[str, Rule] = {}


def register_rule(name: str, check: RuleCheck, *, blocking: bool = False, written: WrittenStep | None = None) -> Rule:
    """Add a check that every accepted batch goes through (a domain calls this when it is imported); `written`,
    if given, runs after a batch is written (never after a dry run or a rejection), in its transaction.

    Registering a name again replaces the earlier rule, so that reloading a domain does not run it twice.
    """
    rule = Rule(name=name, check=check, blocking=blocking, written=written)
    _rules[name] = rule
    return rule


def unregister_rule(name: str) -> None:
    _rules.pop(name, None)


def registered_rules() -> list[Rule]:
    return list(_rules.values())


def _order(problems: Iterable[Problem]) -> list[Problem]:
    """By row, then field: the order a person fixes a file in, and the same whichever reader found them."""
    return sorted(problems, key=lambda p: (p.row or 0, p.field or ""))


@dataclass
class Outcome:
    """What became of a batch: written (summary) or rejected (problems), with any warnings."""

    received: int
    valid: list[ValidRow]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    summary: WriteSummary | None = None  # None when nothing was written: rejected, or a dry run

    @property
    def accepted(self) -> bool:
        return not self.problems


def accept(
    *,
    session: Session,
    rows: Iterable[tuple[int, RawRow]],
    recorded_by: str | None,
    rights: Rights | None = None,
    index: CatalogIndex | None = None,
    submission_id: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    rules: bool = True,
) -> Outcome:
    """Check, authorise and rule on `rows`, then write them all (flushed, not committed) or none.

    Row numbers are those the reader gave; problems come ordered by row and field. `rules=False` skips the
    registered rules: for a trusted bulk load of history (the demo's made-up years), which nothing is judged against.
    """
    index = index or CatalogIndex(session)
    materialised = list(rows)
    default_source = rights.source_id if rights is not None else None
    valid, problems = check_rows(index, materialised, progress=progress, default_source=default_source)
    if rights is not None:
        # Normalised first, then authorised: rights are judged on the rows as they would be stored.
        problems += rights.problems(valid)
    outcome = Outcome(received=len(materialised), valid=valid)
    if problems:
        outcome.problems = _order(problems)
        return outcome
    batch = Batch(session=session, rows=valid, index=index, submission_id=submission_id, recorded_by=recorded_by)
    blocking: list[Problem] = []
    warnings: list[Problem] = []
    applied = registered_rules() if rules else []
    for rule in applied:
        # Each problem names its rule, so that a client can tell one check's findings from another's.
        found = [p if p.code.startswith("rule.") else replace(p, code=f"rule.{rule.name}") for p in rule.check(batch)]
        (blocking if rule.blocking else warnings).extend(found)
    outcome.warnings = _order(warnings)
    if blocking:
        outcome.problems = _order(blocking)
        return outcome
    if not dry_run:
        outcome.summary = write_observations(
            session=session, rows=valid, recorded_by=recorded_by, now=now, submission_id=submission_id, index=index
        )
        for rule in applied:
            if rule.written is not None:
                rule.written(batch, outcome.summary)
    return outcome


def ingest(
    *,
    session: Session,
    rows: Iterable[tuple[int, RawRow]],
    recorded_by: str | None = None,
    where: str | None = None,
    index: CatalogIndex | None = None,
    submission_id: str | None = None,
    rules: bool = True,
) -> WriteSummary:
    """`accept` for a trusted writer (an operator, the demo loader): written, or Rejected with every problem."""
    materialised = list(rows)
    outcome = accept(
        session=session,
        rows=materialised,
        recorded_by=recorded_by,
        index=index,
        submission_id=submission_id,
        rules=rules,
    )
    if outcome.problems:
        raise Rejected(outcome.problems, where=where, total=len(materialised))
    assert outcome.summary is not None
    return outcome.summary


# The warehouse's own warnings, given alike by every entry point (see `govops.warehouse.plausibility`).
register_rule("warehouse.negative_value", plausibility.negative_values)
register_rule("warehouse.far_from_history", plausibility.far_from_history)
