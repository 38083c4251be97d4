"""Schedule arithmetic: every N minutes on the UTC grid, daily at a local time across midnight, zones and clock
changes, stored moments; and what a job and the registry accept."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

import pytest
from sqlalchemy.orm import Session

from govops.errors import GovopsError
from govops.i18n import translations
from govops.jobs.registry import Job, Registry
from govops.jobs.schedule import At, Daily, Every, describe, due_times, next_due


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def nothing(_context: object) -> None:
    return None


def test_every_n_minutes_falls_on_the_grid_from_midnight_utc() -> None:
    quarter = Every(15)
    assert quarter.latest(utc(2025, 7, 1, 8, 7, 30)) == utc(2025, 7, 1, 8, 0)
    assert quarter.latest(utc(2025, 7, 1, 8, 15)) == utc(2025, 7, 1, 8, 15)  # a due time is due at itself
    assert quarter.after(utc(2025, 7, 1, 8, 7, 30)) == utc(2025, 7, 1, 8, 15)
    assert quarter.after(utc(2025, 7, 1, 23, 59, 59)) == utc(2025, 7, 2, 0, 0)
    assert Every(90).latest(utc(2025, 7, 1, 2, 0)) == utc(2025, 7, 1, 1, 30)
    with pytest.raises(ValueError):
        Every(0)


def test_daily_at_a_local_time_counts_in_its_zone_across_midnight_utc() -> None:
    # 00:30 in Hanoi is 17:30 UTC the day before.
    half_past_midnight = Daily(time(0, 30), zone="Asia/Ho_Chi_Minh")
    assert half_past_midnight.latest(utc(2025, 7, 1, 17, 29)) == utc(2025, 6, 30, 17, 30)
    assert half_past_midnight.latest(utc(2025, 7, 1, 17, 30)) == utc(2025, 7, 1, 17, 30)
    assert half_past_midnight.after(utc(2025, 7, 1, 17, 29)) == utc(2025, 7, 1, 17, 30)
    assert half_past_midnight.after(utc(2025, 7, 1, 17, 30)) == utc(2025, 7, 2, 17, 30)
    # 23:30 in Hanoi is 16:30 UTC the same day; the year turns at 17:00 UTC on 31 December.
    late = Daily(time(23, 30), zone="Asia/Ho_Chi_Minh")
    assert late.latest(utc(2025, 12, 31, 17, 0)) == utc(2025, 12, 31, 16, 30)
    assert late.after(utc(2025, 12, 31, 17, 0)) == utc(2026, 1, 1, 16, 30)
    # The same wall-clock time in another zone is another moment.
    assert Daily(time(0, 30), zone="UTC").latest(utc(2025, 7, 1, 17, 29)) == utc(2025, 7, 1, 0, 30)


def test_daily_runs_once_a_day_through_clock_changes() -> None:
    berlin = Daily(time(2, 30), zone="Europe/Berlin")  # 02:30 does not exist on 30 March, exists twice on 26 Oct
    for start in (utc(2025, 3, 27), utc(2025, 10, 23)):
        moments, now = [], start
        for _ in range(6):
            now = berlin.after(now)
            moments.append(now)
        assert all(b > a for a, b in pairwise(moments))
        assert {m.date() for m in moments} == {(start + timedelta(days=d)).date() for d in range(6)}
        assert all(berlin.latest(m) == m for m in moments)
    assert berlin.latest(utc(2025, 7, 1, 0, 29)) == utc(2025, 6, 30, 0, 30)  # CEST: UTC+2
    assert berlin.latest(utc(2025, 12, 1, 1, 30)) == utc(2025, 12, 1, 1, 30)  # CET: UTC+1
    with pytest.raises(Exception, match="No time zone"):
        Daily(time(1), zone="Asia/Atlantis")


def test_stored_moments_are_due_within_the_catch_up_window_and_the_next_one_is_ahead(session: Session) -> None:
    stored = [utc(2025, 7, 1, 8), utc(2025, 7, 1, 9), utc(2025, 6, 20), utc(2025, 7, 3)]
    asked: list[tuple[datetime, datetime]] = []

    def deadlines(_session: Session, start: datetime, end: datetime) -> list[datetime]:
        asked.append((start, end))
        return [m for m in stored if start <= m < end]

    schedule = At(deadlines, what="reporting deadlines")
    now = utc(2025, 7, 1, 9, 30)
    assert due_times(schedule, session=session, now=now) == [utc(2025, 7, 1, 8), utc(2025, 7, 1, 9)]
    assert asked[0] == (now - timedelta(days=1), now + timedelta(seconds=1))
    assert next_due(schedule, session=session, now=now) == utc(2025, 7, 3)
    assert next_due(schedule, session=session, now=utc(2025, 7, 4)) is None


def test_schedules_read_in_both_languages() -> None:
    vi, en = translations("vi").gettext, translations("en").gettext
    daily = Daily(time(3), zone="Asia/Ho_Chi_Minh")
    assert describe(daily, en) == "daily at 03:00 (Asia/Ho_Chi_Minh)"
    assert describe(daily, vi) == "hằng ngày lúc 03:00 (Asia/Ho_Chi_Minh)"
    assert describe(Every(15), vi) == "mỗi 15 phút" and describe(Every(120), en) == "every 2 h"
    assert describe(At(lambda *_: [], what="reporting deadlines"), en) == "at stored moments: reporting deadlines"


def test_a_failed_job_waits_twice_as_long_each_time_up_to_a_limit() -> None:
    job = Job(name="t.retry", schedule=Every(5), run=nothing, summary="t", first_retry=timedelta(minutes=1))
    assert [job.retry_wait(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert job.retry_wait(12) == timedelta(hours=1)


def test_job_names_are_checked_and_unique_and_an_unknown_one_lists_the_others() -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        Job(name="purge sessions", schedule=Every(5), run=nothing, summary="t")
    registry = Registry()
    registry.add(Job(name="b.two", schedule=Every(5), run=nothing, summary="t"))
    registry.add(Job(name="a.one", schedule=Every(5), run=nothing, summary="t"))
    assert [j.name for j in registry] == ["a.one", "b.two"]
    with pytest.raises(ValueError, match=r"two jobs are named 'a\.one'"):
        registry.add(Job(name="a.one", schedule=Every(1), run=nothing, summary="t"))
    with pytest.raises(GovopsError) as caught:
        registry.get("c.three")
    assert caught.value.status == 404 and caught.value.hint == "the jobs are: a.one, b.two"
