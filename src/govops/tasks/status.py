"""A task's status, computed from its deadline, its closing day and today; never typed by anyone.

The four classes of the Government Office's reports (done on time, done late, open in time, open overdue)
cover every task once; `due_soon` marks an open task within DUE_SOON_DAYS of its deadline. The same rule is
written twice, here only: in Python for one task, and as SQL for the figures and lists over many.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, case, func, literal
from sqlalchemy.sql.elements import ColumnElement

from govops.tasks.models import HEALTHS, Task

DUE_SOON_DAYS = 7
STATUSES = ("done_on_time", "done_late", "open_in_time", "open_overdue")


def due_on(task: Task) -> date | None:
    """The date the task is judged against: its deadline, or a recurring task's next report date."""
    return task.deadline if task.deadline is not None else task.next_due_on


def status_of(task: Task, today: date) -> str:
    due = due_on(task)
    if task.closed_on is not None:
        return "done_on_time" if due is None or task.closed_on <= due else "done_late"
    return "open_overdue" if due is not None and due < today else "open_in_time"


def due_soon(task: Task, today: date) -> bool:
    due = due_on(task)
    return task.closed_on is None and due is not None and today <= due <= today + timedelta(days=DUE_SOON_DAYS)


def days_overdue(task: Task, today: date) -> int:
    due = due_on(task)
    if task.closed_on is not None or due is None:
        return 0
    return max((today - due).days, 0)


def due_column() -> ColumnElement[Any]:
    return func.coalesce(Task.deadline, Task.next_due_on)


def status_column(today: date) -> ColumnElement[str]:
    """`status_of` as SQL, for counting and filtering many tasks at once."""
    due = due_column()
    on = literal(today, type_=Date)
    return case(
        (Task.closed_on.is_not(None) & (due.is_(None) | (Task.closed_on <= due)), "done_on_time"),
        (Task.closed_on.is_not(None), "done_late"),
        (due.is_not(None) & (due < on), "open_overdue"),
        else_="open_in_time",
    )


def overdue_clause(today: date) -> ColumnElement[bool]:
    """`status_of(...) == "open_overdue"` as a WHERE clause an index on the open tasks' due date can serve."""
    due = due_column()
    return Task.closed_on.is_(None) & (due < today)


def due_soon_clause(today: date) -> ColumnElement[bool]:
    """`due_soon` as a WHERE clause."""
    due = due_column()
    return Task.closed_on.is_(None) & (due >= today) & (due <= today + timedelta(days=DUE_SOON_DAYS))


def lowered(health: str, steps: int = 1) -> str:
    """The rating `steps` worse (never past red)."""
    return HEALTHS[min(HEALTHS.index(health) + steps, len(HEALTHS) - 1)]


def period_end(recurrence: str, day: date) -> date | None:
    """The last day of the month or quarter holding `day`: when a recurring task's report for it is due."""
    if recurrence == "monthly":
        month = day.month
    elif recurrence == "quarterly":
        month = ((day.month - 1) // 3 + 1) * 3
    else:
        return None
    return date(day.year, month, calendar.monthrange(day.year, month)[1])


def next_due(recurrence: str, reported_on: date) -> date | None:
    """A recurring task's next report date once it has reported on `reported_on`: the end of the next period."""
    end = period_end(recurrence, reported_on)
    return None if end is None else period_end(recurrence, end + timedelta(days=1))
