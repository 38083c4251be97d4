"""The quality checks in the accept pipeline: every batch, by whichever way it comes, is judged against its stored
history and the validation rules before it is written.

Two rules are registered: `quality.rules`, the blocking validation rules (a breach rejects the batch), and
`quality.checks`, the detectors and the other rules (warnings on the receipt and in an upload's preview). Once the
batch is written, what they found becomes flags for the source agency to follow up, and open flags on values it
replaced are marked corrected. They take over the warehouse's own "far from its history" warning: the same values
are judged, against their season, and told as what they most likely are (a unit slip, a sign error...).
"""

from __future__ import annotations

from collections.abc import Sequence

from govops.errors import Problem, lazy_gettext
from govops.quality import checks, flags
from govops.quality.checks import Found
from govops.warehouse import accept, plausibility
from govops.warehouse.schemas import WriteSummary

_FOUND = "quality.found"
_REPLACED = "quality.replaced"

MESSAGES: dict[str, tuple[str, str]] = {
    "unit_slip": (
        lazy_gettext("The value looks like a unit slip: about %(expected)s was expected, and %(likely)s would fit."),
        lazy_gettext("Check the unit (thousands, millions) against the source document."),
    ),
    "sign_error": (
        lazy_gettext("The value looks like a sign error: about %(expected)s was expected."),
        lazy_gettext("Check the sign of the figure."),
    ),
    "digit_swap": (
        lazy_gettext(
            "The value looks like two digits swapped: about %(expected)s was expected, and %(likely)s would fit."
        ),
        lazy_gettext("Check the digits against the source document."),
    ),
    "outlier": (
        lazy_gettext("The value is far from what its series makes expected: between %(low)s and %(high)s."),
        plausibility.FAR_HINT,
    ),
    "frozen": (
        lazy_gettext("The same figure is repeated period after period."),
        lazy_gettext("Check that the figure was brought up to date for this period."),
    ),
    "level_shift": (
        lazy_gettext("The series' level steps here and stays."),
        lazy_gettext("Check for a change of method, coverage or unit, and say so when confirming."),
    ),
    "revision": (
        lazy_gettext("A final figure is revised by more than a tenth (it was %(expected)s)."),
        lazy_gettext("Check the figure, and give the reason for the revision."),
    ),
    "rule": (
        lazy_gettext("The values break the check %(rule)s (%(area)s): one side is %(left)s, the other %(right)s."),
        lazy_gettext("Check the figures the check compares, and correct the one that is wrong."),
    ),
}


def shown(value: float | None) -> str:
    """A figure as a sentence shows it: whole above a thousand, four significant digits below."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def problem(found: Found) -> Problem:
    message, hint = MESSAGES[found.method]
    return Problem.of(
        f"rule.quality.{found.method}",
        message,
        hint,
        row=found.row,
        field="value",
        value=found.value,
        expected=shown(found.expected),
        likely=shown(found.likely),
        low=shown(found.low),
        high=shown(found.high),
        rule=found.rule_code or "",
        area=str(found.detail.get("area", "")),
        left=shown(found.detail.get("left")),
        right=shown(found.detail.get("right")),
    )


def _problems(found: Sequence[Found]) -> list[Problem]:
    # A negative count is the warehouse's own warning already; it is only followed up here, as a flag.
    return [problem(f) for f in found if f.method != "negative"]


def check_blocking(batch: accept.Batch) -> list[Problem]:
    rules = checks.active_rules(batch.session, blocking=True)
    if not rules:
        return []
    found, _ = checks.batch_findings(
        session=batch.session, rows=batch.rows, index=batch.index, rules=rules, detect=False
    )
    batch.memo.setdefault(_FOUND, []).extend(found)
    return _problems(found)


def check(batch: accept.Batch) -> list[Problem]:
    rules = checks.active_rules(batch.session, blocking=False)
    found, replaced = checks.batch_findings(
        session=batch.session, rows=batch.rows, index=batch.index, rules=rules, detect=True
    )
    batch.memo.setdefault(_FOUND, []).extend(found)
    batch.memo[_REPLACED] = replaced
    return _problems(found)


def written(batch: accept.Batch, summary: WriteSummary) -> None:
    """Flags for what was found, and open flags on the values this batch replaced marked corrected."""
    by = batch.recorded_by or "submission"
    replaced = batch.memo.get(_REPLACED, {})
    changed = [
        (row.indicator_id, row.area_id, row.dim_key, row.period, row.value)
        for row in batch.rows
        if (before := replaced.get((row.indicator_id, row.area_id, row.dim_key, row.period))) is not None
        and before[0] != row.value
    ]
    flags.follow_corrections(session=batch.session, written=changed, by=by)
    flags.raise_flags(
        session=batch.session, found=batch.memo.get(_FOUND, []), by="submission", submission_id=batch.submission_id
    )


accept.register_rule("quality.rules", check_blocking, blocking=True)
accept.register_rule("quality.checks", check, written=written)
accept.unregister_rule("warehouse.far_from_history")
