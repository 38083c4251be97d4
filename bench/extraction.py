"""Precision and recall of the rule-based task extraction, against a naive baseline, in one run.

    .venv/bin/python bench/extraction.py

Reads the hand-labelled excerpts under tests/tasks/directives/ (20 texts; the lead agency, co-ordinating
agencies, action and deadline of every task each assigns). Each extracted task is paired with the unpaired
labelled task of the same excerpt whose action it overlaps most (word F1 over folded text, at least 0.3 to pair).
Then, over every excerpt:
- agency: (task, agency code, role lead/co-ordinating) triples; an extracted triple is right when its paired
  label has it. Precision = right / extracted triples, recall = right / labelled triples.
- action: a task is right when its action's word F1 with the label is at least 0.7.
- deadline: a task is right when the deadline (a date, or monthly / quarterly / regular, or none) is equal.
  Counted over tasks the label gives a deadline and the extractor proposes one.
The baseline is what a keyword search does: the first agency named in each clause as lead (no roles), the whole
clause as the action, and the first dd/mm/yyyy date as the deadline.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from govops.catalog.reference import read_agencies
from govops.tasks import extraction
from govops.tasks.schemas import ProposedTask
from govops.text import fold

FOLDER = Path(__file__).resolve().parents[1] / "tests" / "tasks" / "directives"


@dataclass(frozen=True)
class Labelled:
    lead: str
    coordinating: tuple[str, ...]
    action: str
    deadline: str | None  # ISO date, monthly, quarterly, regular, or None


@dataclass
class Tally:
    right: int = 0
    proposed: int = 0
    labelled: int = 0

    def precision(self) -> float:
        return self.right / self.proposed if self.proposed else 0.0

    def recall(self) -> float:
        return self.right / self.labelled if self.labelled else 0.0


@dataclass
class Scores:
    agency: Tally = field(default_factory=Tally)
    action: Tally = field(default_factory=Tally)
    deadline: Tally = field(default_factory=Tally)


def excerpts(folder: Path = FOLDER) -> list[tuple[str, str, int, list[Labelled]]]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        tasks = [
            Labelled(
                t["lead"],
                tuple(t.get("coordinating") or ()),
                t["action"],
                None if t.get("deadline") is None else str(t["deadline"]),
            )
            for t in doc["tasks"]
        ]
        out.append((path.name, doc["text"], int(doc["year"]), tasks))
    return out


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def word_f1(a: str, b: str) -> float:
    left, right = words(a), words(b)
    if not left or not right:
        return 0.0
    common = 0
    pool = list(right)
    for w in left:
        if w in pool:
            pool.remove(w)
            common += 1
    if common == 0:
        return 0.0
    p, r = common / len(left), common / len(right)
    return 2 * p * r / (p + r)


def deadline_of(task: ProposedTask) -> str | None:
    if task.recurrence != "once":
        return task.recurrence
    return task.deadline.isoformat() if task.deadline else None


def score(extract: Callable[[str, int], list[ProposedTask]], folder: Path = FOLDER) -> Scores:
    scores = Scores()
    for _name, text, year, labels in excerpts(folder):
        proposed = extract(text, year)
        free = list(range(len(labels)))
        pairs: list[tuple[ProposedTask, Labelled | None]] = []
        for task in proposed:
            best = max(free, key=lambda i: word_f1(task.action, labels[i].action), default=None)
            if best is not None and word_f1(task.action, labels[best].action) >= 0.3:
                free.remove(best)
                pairs.append((task, labels[best]))
            else:
                pairs.append((task, None))
        for label in labels:
            scores.agency.labelled += 1 + len(label.coordinating)
            scores.action.labelled += 1
            scores.deadline.labelled += label.deadline is not None
        for task, label in pairs:
            mine = {(task.lead, "lead")} | {(c, "co") for c in task.coordinating}
            mine.discard((None, "lead"))
            theirs = {(label.lead, "lead")} | {(c, "co") for c in label.coordinating} if label else set()
            scores.agency.proposed += len(mine)
            scores.agency.right += len(mine & theirs)
            scores.action.proposed += 1
            scores.action.right += label is not None and word_f1(task.action, label.action) >= 0.7
            found = deadline_of(task)
            if found is not None:
                scores.deadline.proposed += 1
                scores.deadline.right += label is not None and label.deadline == found
    return scores


def agencies() -> list[tuple[str, str]]:
    return [(a.code, a.name_vi) for a in read_agencies()]


def rules(text: str, year: int) -> list[ProposedTask]:
    return extraction.extract(text, agencies=agencies(), year=year)


def naive(text: str, year: int) -> list[ProposedTask]:
    names = sorted(((fold(name), code) for code, name in agencies()), key=lambda n: -len(n[0]))
    out = []
    for line in text.splitlines():
        for clause in re.split(r"(?<=\.)\s+|;\s*", line):
            folded = fold(clause)
            hits = sorted((folded.find(n), code) for n, code in names if n in folded)
            if not hits:
                continue
            found = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", clause)
            on = None
            if found:
                try:
                    on = date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
                except ValueError:
                    on = None
            out.append(
                ProposedTask(
                    text=clause,
                    action=clause,
                    lead=hits[0][1],
                    coordinating=[],
                    agency_names=[],
                    deadline=on,
                    recurrence="once",
                    deadline_text=None,
                )
            )
    return out


def report(label: str, scores: Scores) -> Iterable[str]:
    for what in ("agency", "action", "deadline"):
        tally: Tally = getattr(scores, what)
        yield (
            f"{label:9} {what:9} precision {tally.precision():.3f}  recall {tally.recall():.3f}  "
            f"({tally.right} right, {tally.proposed} proposed, {tally.labelled} labelled)"
        )


def main() -> int:
    mine, base = score(rules), score(naive)
    count = sum(len(labels) for *_, labels in excerpts())
    print(f"{len(excerpts())} excerpts, {count} labelled tasks")
    for line in (*report("rules", mine), *report("baseline", base)):
        print(line)
    for what in ("agency", "action", "deadline"):
        a: Tally = getattr(mine, what)
        b: Tally = getattr(base, what)
        print(f"{what:9} recall rules/baseline = {a.recall() / b.recall() if b.recall() else float('inf'):.2f}x")
    held = FOLDER / "heldout"
    print(f"held out (written after the rules were tuned; never tuned on): {len(excerpts(held))} excerpts")
    for line in (*report("rules", score(rules, held)), *report("baseline", score(naive, held))):
        print(line)
    worst = min(min(getattr(mine, w).precision(), getattr(mine, w).recall()) for w in ("agency", "action", "deadline"))
    print(f"goal >= 0.9 on each: {'met' if worst >= 0.9 else 'NOT met'} (lowest {worst:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
