"""The small grammar of deadline and cut-off rules, and the moments they give for a period.

    day 12 of the month after the period      the 12th of the month following the period's last month
    day 20 of the 2nd month after the period  two months on (Q1 -> 20 May)
    20 days after the period                  the period's last day + 20 days ("the quarter", "the month",
                                              "the half-year" and "the year" read as "the period")
    day 14 of the last month of the period    a cut-off inside the period

A day is the Government's working day in Asia/Ho_Chi_Minh: a deadline is met by anything that arrives before
that day ends there. A day past the month's end (31 in February) is the month's last day.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from govops.errors import GovopsError, lazy_gettext
from govops.periods import Period

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
_PERIOD_WORDS = r"(?:period|month|quarter|half-year|half|year)"
_ORDINAL = r"(?:(\d{1,2})(?:st|nd|rd|th) )?"
_DAY_OF_MONTH_AFTER = re.compile(rf"^day (\d{{1,2}}) of the {_ORDINAL}month after the {_PERIOD_WORDS}$")
_DAYS_AFTER = re.compile(rf"^(\d{{1,3}}) days? after the {_PERIOD_WORDS}$")
_DAY_OF_LAST_MONTH = re.compile(rf"^day (\d{{1,2}}) of the last month of the {_PERIOD_WORDS}$")
EXAMPLES = "day 12 of the month after the period; 20 days after the period; day 14 of the last month of the period"


@dataclass(frozen=True)
class DayRule:
    """A parsed rule: `months_after` months after the period's last month (0: in it) on `day`, or the period's
    last day plus `days`."""

    text: str
    day: int | None = None
    months_after: int = 0
    days: int | None = None

    def day_for(self, period: Period) -> date:
        end = period.end
        if self.days is not None:
            return end + timedelta(days=self.days)
        assert self.day is not None
        index = end.year * 12 + end.month - 1 + self.months_after
        year, month = divmod(index, 12)
        month += 1
        return date(year, month, min(self.day, calendar.monthrange(year, month)[1]))

    def moment(self, period: Period) -> datetime:
        """The last instant of the rule's day, Vietnam time, in UTC."""
        return end_of_day(self.day_for(period))


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZONE).astimezone(UTC)


def parse_rule(text: str, *, field: str = "deadline", where: str | None = None) -> DayRule:
    """The rule written in `text`; a GovopsError naming the field, and the forms it may take, otherwise."""
    cleaned = " ".join(str(text).strip().lower().split())
    if m := _DAY_OF_MONTH_AFTER.match(cleaned):
        day, months = int(m.group(1)), int(m.group(2) or 1)
        if 1 <= day <= 31 and 1 <= months <= 12:
            return DayRule(cleaned, day=day, months_after=months)
    elif m := _DAYS_AFTER.match(cleaned):
        days = int(m.group(1))
        if 0 <= days <= 366:
            return DayRule(cleaned, days=days)
    elif m := _DAY_OF_LAST_MONTH.match(cleaned):
        day = int(m.group(1))
        if 1 <= day <= 31:
            return DayRule(cleaned, day=day, months_after=0)
    raise GovopsError.of(
        "invalid_rule",
        lazy_gettext("The %(field)s rule %(rule)s cannot be read."),
        lazy_gettext("Write it like: %(examples)s."),
        where=where or field,
        field=field,
        rule=repr(str(text)[:120]),
        examples=EXAMPLES,
    )


def describe(text: str, gettext: Callable[[str], str]) -> str:
    """A stored rule in the reader's language (the files keep the English grammar)."""
    rule = parse_rule(text)
    if rule.days is not None:
        return gettext(lazy_gettext("%(days)s days after the end of the period")) % {"days": rule.days}
    if rule.months_after == 0:
        return gettext(lazy_gettext("day %(day)s of the period's last month")) % {"day": rule.day}
    if rule.months_after == 1:
        return gettext(lazy_gettext("day %(day)s of the month after the period")) % {"day": rule.day}
    return gettext(lazy_gettext("day %(day)s of the month %(months)s months after the period")) % {
        "day": rule.day,
        "months": rule.months_after,
    }
