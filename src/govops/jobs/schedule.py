"""When a job falls due: every N minutes, daily at a local time, or at moments a domain stores.

Every schedule answers two questions about a moment `now`: which due times have come (the runner runs
each one it has no run for), and which is the next one (for people). Due times are UTC, to the second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

# The Government's clock; GOVOPS_TIMEZONE changes it for every daily job that does not name its own.
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How far ahead `next_due` looks for a stored moment.
HORIZON = timedelta(days=400)

# (session, start, end) -> the stored moments in [start, end), e.g. reporting deadlines.
Moments = Callable[[Session, datetime, datetime], Iterable[datetime]]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a due time needs a time zone")
    return moment.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Every:
    """Every N minutes, on the minute grid counted from midnight UTC (every 15: :00, :15, :30, :45)."""

    minutes: float

    def __post_init__(self) -> None:
        if not self.minutes > 0:
            raise ValueError("a job runs every so many minutes, more than 0")

    @property
    def period(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def latest(self, now: datetime) -> datetime:
        """The last due time at or before `now`."""
        slots = (_utc(now) - _EPOCH) // self.period
        return _utc(_EPOCH + slots * self.period)

    def after(self, moment: datetime) -> datetime:
        return _utc(self.latest(moment) + self.period)


@dataclass(frozen=True)
class Daily:
    """Once a day at a wall-clock time of a zone; a time a clock change skips or repeats counts once."""

    at: time
    zone: str = DEFAULT_ZONE

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)  # an unknown zone fails here, when the job is registered, not at its first run

    def _on(self, day: datetime) -> datetime:
        local = datetime.combine(day.date(), self.at.replace(tzinfo=None), tzinfo=ZoneInfo(self.zone))
        return _utc(local)

    def latest(self, now: datetime) -> datetime:
        today = _utc(now).astimezone(ZoneInfo(self.zone))
        due = self._on(today)
        return due if due <= _utc(now) else self._on(today - timedelta(days=1))

    def after(self, moment: datetime) -> datetime:
        local = self.latest(moment).astimezone(ZoneInfo(self.zone))
        return self._on(local + timedelta(days=1))


@dataclass(frozen=True)
class At:
    """At the moments a domain stores (a reporting deadline...): `moments` reads them from the store.

    A moment missed while no worker ran is still run if it is at most `catch_up` old.
    """

    moments: Moments
    what: str  # what the moments are, for people: "reporting deadlines"
    catch_up: timedelta = timedelta(days=1)


Schedule = Every | Daily | At


def due_times(schedule: Schedule, *, session: Session, now: datetime) -> list[datetime]:
    """The due times that have come by `now` and that a worker should have run: the latest one of a
    periodic schedule (missed earlier ones fold into it), every stored moment within the catch-up window."""
    if isinstance(schedule, At):
        start, end = _utc(now) - schedule.catch_up, _utc(now) + timedelta(seconds=1)  # a moment is due at itself
        return sorted({_utc(m) for m in schedule.moments(session, start, end) if m <= now})
    return [schedule.latest(now)]


def next_due(schedule: Schedule, *, session: Session, now: datetime) -> datetime | None:
    """The first due time after `now` (None: no stored moment ahead)."""
    if isinstance(schedule, At):
        start = _utc(now) + timedelta(seconds=1)
        ahead = [_utc(m) for m in schedule.moments(session, start, start + HORIZON)]
        return min(ahead, default=None)
    return schedule.after(now)


def describe(schedule: Schedule, gettext: Callable[[str], str]) -> str:
    """The schedule in the reader's language."""
    if isinstance(schedule, Every):
        minutes = schedule.minutes
        if minutes % 60 == 0:
            return gettext("every %(hours)s h") % {"hours": f"{minutes / 60:g}"}
        return gettext("every %(minutes)s min") % {"minutes": f"{minutes:g}"}
    if isinstance(schedule, Daily):
        return gettext("daily at %(time)s (%(zone)s)") % {"time": schedule.at.strftime("%H:%M"), "zone": schedule.zone}
    return gettext("at stored moments: %(what)s") % {"what": gettext(schedule.what)}
