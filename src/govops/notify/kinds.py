"""The kinds of notification: each one's subject and body, in English here, Vietnamese in the Babel catalogue.

A domain adds its own kinds with `register` at import time (its module imported by the app and the
worker). Texts are message ids of the console's catalogue (`_` below only marks them for extraction;
the translation happens when a notification is shown or e-mailed, in the reader's language) and take
their params as ``%(name)s``. Run scripts/update_translations.py after adding one, and translate it. A param
that reads differently by language (a name the sender has in Vietnamese and English) is given once more per
language, as ``name.en``: the reader of that language sees it in place of ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass


def _(message: str) -> str:
    """Marks a message for the catalogue; it is translated when shown, in the reader's language."""
    return message


@dataclass(frozen=True)
class Kind:
    name: str
    subject: str
    body: str
    # Every param the texts name: notify() refuses a notification that lacks one.
    params: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Adds a kind; registering the same name again with other texts is a programming error."""
    known = KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"notification kind {kind.name!r} is already registered with other texts")
    KINDS[kind.name] = kind
    return kind


# What a notification of a kind this process does not know (a domain since removed) reads as.
UNKNOWN = Kind("unknown", subject=_("Notification"), body=_("This notification (%(kind)s) can no longer be shown."))


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"no notification kind {name!r}; known: {', '.join(sorted(KINDS))}") from None


# --- kinds the platform sends now, and those the next domains will send ---------------------------

PASSWORD_CHANGED = register(
    Kind(
        "password_changed",
        subject=_("Your password was changed"),
        body=_(
            "The password of your account %(username)s was changed at %(at)s by %(by)s. Every other signed-in "
            "browser was signed out. If you did not ask for this, tell an administrator at once."
        ),
        params=("username", "at", "by"),
    )
)
REPORT_DUE = register(
    Kind(
        "report_due",
        subject=_("Report due: %(report)s"),
        body=_("The report %(report)s of %(agency)s for %(period)s is due on %(due)s."),
        params=("report", "agency", "period", "due"),
    )
)
VALUE_FLAGGED = register(
    Kind(
        "value_flagged",
        subject=_("A value was flagged: %(indicator)s"),
        body=_(
            "The value of %(indicator)s for %(area)s, %(period)s was flagged by the check %(rule)s. "
            "Check it, and correct it or explain it."
        ),
        params=("indicator", "area", "period", "rule"),
    )
)
TASK_OVERDUE = register(
    Kind(
        "task_overdue",
        subject=_("Task overdue: %(task)s"),
        body=_("The task %(task)s was due on %(due)s and is not done. Report its progress."),
        params=("task", "due"),
    )
)
ALERT_RAISED = register(
    Kind(
        "alert_raised",
        subject=_("Alert: %(alert)s"),
        body=_("An alert was raised: %(alert)s, in %(area)s."),
        params=("alert", "area"),
    )
)
