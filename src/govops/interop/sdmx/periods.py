"""SDMX time periods and govops periods, both ways: one reading for SDMX messages read through a mapping, for the
`startPeriod`/`endPeriod` of REST queries and for the TIME_PERIOD values govops writes and reads back.

Read: gYear ``2019``, reporting periods ``2019-A1``, ``2019-S1``, ``2019-Q1``, ``2019-M01`` (or ``2019-01``),
``2019-W05`` (or ``2019-W5``), ``2019-D015``, dates and date-times at midnight ``2019-01-15T00:00:00``, and time
ranges that cover exactly one govops period (``2019-04-01/P3M``, ``2019-01-28/P7D``, ``2021-01-01/P5Y``); the
govops notation itself (``2021/2025``) too. Written: the govops notation, except a multi-year plan period, which
SDMX writes as a time range.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from govops.errors import lazy_gettext
from govops.periods import Freq, Period, PeriodError

PERIOD_HINT = lazy_gettext(
    "SDMX periods govops reads: 2019, 2019-A1, 2019-S1, 2019-Q1, 2019-01, 2019-M01, 2019-W05, 2019-01-15, 2019-D015, "
    "and time ranges of one such period (2019-01-01/P1Y, 2019-04-01/P3M, 2019-01-28/P7D, 2021-01-01/P5Y)"
)
_RANGE_HINT = lazy_gettext(
    "govops periods are whole days, ISO weeks, months, quarters, half-years, years and 2, 5 or 10 years"
)


def sdmx_period(period: str) -> str:
    """The SDMX TIME_PERIOD of a govops period: itself, except multi-year ``2021/2025`` -> ``2021-01-01/P5Y``."""
    p = Period.parse(period)
    years = p.freq.years
    if years is not None and years > 1:
        return f"{p.start.isoformat()}/P{years}Y"
    return str(p)


def _reporting_day(m: re.Match[str]) -> str:
    year, day = int(m["y"]), int(m["d"])
    found = date(year, 1, 1) + timedelta(days=day - 1)
    if day < 1 or found.year != year:
        raise PeriodError(f"{m[0]!r}: {year} has no day {day}", hint=PERIOD_HINT)
    return found.isoformat()


# A date, or a date-time at midnight (an observation of a whole day), as it starts a time range or stands alone.
_DAY = r"(?P<day>\d{4}-\d{2}-\d{2})(?:T00:00(?::00(?:\.0+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
_REPORTING_FORMS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?P<y>\d{4})(?:-A1)?"), lambda m: m["y"]),
    (re.compile(r"(?P<y>\d{4})-(?P<p>S[12]|Q[1-4])"), lambda m: f"{m['y']}-{m['p']}"),
    (re.compile(r"(?P<y>\d{4})-M?(?P<m>\d{2})"), lambda m: f"{m['y']}-{m['m']}"),
    (re.compile(r"(?P<y>\d{4})-W(?P<w>\d{1,2})"), lambda m: f"{m['y']}-W{int(m['w']):02d}"),
    (re.compile(r"(?P<y>\d{4})-D(?P<d>\d{3})"), _reporting_day),
    (re.compile(_DAY), lambda m: m["day"]),
]
_TIME_RANGE = re.compile(
    _DAY + r"/P(?:(?P<y>\d{1,4})Y)?(?:(?P<m>\d{1,4})M)?(?:(?P<w>\d{1,4})W)?(?:(?P<d>\d{1,4})D)?", re.ASCII
)
# (years, months, days) of a time range -> the govops frequency whose periods last that long.
_RANGE_FREQ: dict[tuple[int, int, int], Freq] = {
    (0, 0, 1): Freq.D,
    (0, 0, 7): Freq.W,
    (0, 1, 0): Freq.M,
    (0, 3, 0): Freq.Q,
    (0, 6, 0): Freq.S,
    (0, 12, 0): Freq.A,
    (1, 0, 0): Freq.A,
    (2, 0, 0): Freq.A2,
    (5, 0, 0): Freq.A5,
    (10, 0, 0): Freq.A10,
}


def govops_period(time_period: str) -> str:
    """The govops period of an SDMX TIME_PERIOD (see the module's list of forms).

    Raises PeriodError (a GovopsError) for a value that is not exactly one govops period, saying why.
    """
    if not isinstance(time_period, str):
        raise PeriodError(f"{time_period!r} is not a time period: time periods are text", hint=PERIOD_HINT)
    text = time_period.strip()
    if m := _TIME_RANGE.fullmatch(text):
        return str(_period_of_range(text, m))
    for regex, convert in _REPORTING_FORMS:
        if m := regex.fullmatch(text):
            try:
                return str(Period.parse(convert(m)))
            except ValueError:  # a date that does not exist, e.g. 2019-02-30
                raise PeriodError(f"SDMX period {text!r} is not a real day", hint=PERIOD_HINT) from None
            except PeriodError as exc:
                raise PeriodError(f"SDMX period {text!r}: {exc.message}", hint=PERIOD_HINT) from None
    try:
        return str(Period.parse(text))
    except PeriodError as exc:
        raise PeriodError(f"SDMX period {text!r} has no govops period: {exc.message}", hint=PERIOD_HINT) from None


def _period_of_range(text: str, m: re.Match[str]) -> Period:
    try:
        start = date.fromisoformat(m["day"])
    except ValueError:
        raise PeriodError(f"{text!r} does not start on a real day", hint=_RANGE_HINT) from None
    length = (int(m["y"] or 0), int(m["m"] or 0), int(m["d"] or 0) + 7 * int(m["w"] or 0))
    freq = _RANGE_FREQ.get(length)
    if freq is None:
        raise PeriodError(f"the time range {text!r} does not last as long as any govops period", hint=_RANGE_HINT)
    if freq.years is not None and freq.years > 1:
        if (start.month, start.day) != (1, 1):
            raise PeriodError(f"the time range {text!r} does not start on 1 January", hint=_RANGE_HINT)
        return Period.parse(f"{start.year}/{start.year + freq.years - 1}")
    p = Period.from_date(start, freq)
    if p.start != start:
        raise PeriodError(
            f"the time range {text!r} does not start where a {freq.label('en').lower()} period starts",
            hint=f"start it on {p.start.isoformat()} or {p.next().start.isoformat()}",
        )
    return p
