"""Reporting periods, written the SDMX/ISO way.

One immutable value type, :class:`Period`, covers every frequency::

    2025        year              2025-W31    ISO week (ISO week-year)
    2025-S1     half-year         2025-07-14  day
    2025-Q3     quarter           2021/2025   multi-year (2, 5 or 10 years, inclusive)
    2025-07     month

A period is a frequency plus an integer ``ordinal`` that counts periods of that frequency, so
ordering and arithmetic are integer operations; each period is one object, so equality and hashing
are those of the object. Multi-year periods are the exception: their ordinal is the start year,
because any start year is allowed (a plan may run 2023/2027), so ``p + 1`` moves a multi-year
period by its whole length.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal, overload

from govops.errors import GovopsError

MIN_YEAR = 1900
MAX_YEAR = 2200
# Multi-year blocks line up with the national five-year plans (2021/2025, 2026/2030, ...).
PLAN_BASE_YEAR = 2021
VALID_FORMS = "write 2025, 2025-S1, 2025-Q3, 2025-07, 2025-W31, 2025-07-14 or 2021/2025"


class PeriodError(GovopsError):
    """A period that cannot be read, or an operation that makes no sense for it."""

    def __init__(self, message: str, *, hint: str | None = VALID_FORMS, where: str | None = None) -> None:
        super().__init__(message, code="invalid_period", hint=hint, where=where)


class Freq(StrEnum):
    """Frequency of a period, from finest (D) to coarsest (10A); see :attr:`rank`."""

    D = "D"
    W = "W"
    M = "M"
    Q = "Q"
    S = "S"
    A = "A"
    A2 = "2A"
    A5 = "5A"
    A10 = "10A"

    @property
    def rank(self) -> int:
        """Position from finest (D = 0) to coarsest (10A = 8); StrEnum's own ``<`` compares text."""
        return _RANK[self]

    @property
    def years(self) -> int | None:
        """Length in years for annual and multi-year frequencies; None for sub-annual ones."""
        return _YEARS.get(self)

    @property
    def example(self) -> str:
        return _EXAMPLE[self]

    def label(self, lang: Literal["vi", "en"] = "vi") -> str:
        return _LABELS[lang][self]


_RANK = {f: i for i, f in enumerate(Freq)}
_YEARS = {Freq.A: 1, Freq.A2: 2, Freq.A5: 5, Freq.A10: 10}
_MULTI = {2: Freq.A2, 5: Freq.A5, 10: Freq.A10}
_EXAMPLE = {
    Freq.D: "2025-07-14",
    Freq.W: "2025-W31",
    Freq.M: "2025-07",
    Freq.Q: "2025-Q3",
    Freq.S: "2025-S1",
    Freq.A: "2025",
    Freq.A2: "2025/2026",
    Freq.A5: "2021/2025",
    Freq.A10: "2021/2030",
}
_NOUN = {
    Freq.D: "a day",
    Freq.W: "an ISO week",
    Freq.M: "a month",
    Freq.Q: "a quarter",
    Freq.S: "a half-year",
    Freq.A: "a year",
    Freq.A2: "a 2-year period",
    Freq.A5: "a 5-year period",
    Freq.A10: "a 10-year period",
}
_LABELS: dict[str, dict[Freq, str]] = {
    "vi": {
        Freq.D: "Ngày",
        Freq.W: "Tuần",
        Freq.M: "Tháng",
        Freq.Q: "Quý",
        Freq.S: "Nửa năm",
        Freq.A: "Năm",
        Freq.A2: "2 năm",
        Freq.A5: "5 năm",
        Freq.A10: "10 năm",
    },
    "en": {
        Freq.D: "Day",
        Freq.W: "Week",
        Freq.M: "Month",
        Freq.Q: "Quarter",
        Freq.S: "Half-year",
        Freq.A: "Year",
        Freq.A2: "2 years",
        Freq.A5: "5 years",
        Freq.A10: "10 years",
    },
}
# Months per period for the month-aligned frequencies; multi-year ones are handled by _YEARS.
_MONTHS = {Freq.M: 1, Freq.Q: 3, Freq.S: 6, Freq.A: 12}
_PER_YEAR = {Freq.M: 12, Freq.Q: 4, Freq.S: 2, Freq.A: 1}


def _week_key(year: int, week: int) -> int:
    # date.toordinal() is 1 on Monday 0001-01-01, so (ordinal - 1) // 7 numbers the ISO weeks.
    jan4 = date(year, 1, 4)
    return (jan4.toordinal() - jan4.weekday() - 1) // 7 + week - 1


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def _step(freq: Freq) -> int:
    years = _YEARS.get(freq)
    return 1 if years is None or freq is Freq.A else years


_BOUNDS: dict[Freq, tuple[int, int]] = {
    Freq.D: (date(MIN_YEAR, 1, 1).toordinal(), date(MAX_YEAR, 12, 31).toordinal()),
    Freq.W: (_week_key(MIN_YEAR, 1), _week_key(MAX_YEAR, _weeks_in(MAX_YEAR))),
    Freq.M: (MIN_YEAR * 12, MAX_YEAR * 12 + 11),
    Freq.Q: (MIN_YEAR * 4, MAX_YEAR * 4 + 3),
    Freq.S: (MIN_YEAR * 2, MAX_YEAR * 2 + 1),
    Freq.A: (MIN_YEAR, MAX_YEAR),
    Freq.A2: (MIN_YEAR, MAX_YEAR - 1),
    Freq.A5: (MIN_YEAR, MAX_YEAR - 4),
    Freq.A10: (MIN_YEAR, MAX_YEAR - 9),
}


def _make(freq: Freq, ordinal: int) -> Period:
    """The one period of `freq` and `ordinal` (see Period: one object per period)."""
    key = (freq, ordinal)
    found = _PERIODS.get(key)
    if found is not None:
        return found
    p = object.__new__(Period)
    object.__setattr__(p, "freq", freq)
    object.__setattr__(p, "ordinal", ordinal)
    for name, value in (("_text", p._label()), ("year", p._year()), ("start", p._start()), ("end", p._end())):
        object.__setattr__(p, name, value)
    # Two threads may make the same period at once: the first one kept is the one both hand out.
    return _PERIODS.setdefault(key, p)


# Every period made so far: at most some 110,000 days, 15,000 weeks and a few thousand longer periods.
_PERIODS: dict[tuple[Freq, int], Period] = {}


def _checked(freq: Freq, ordinal: int, what: str) -> Period:
    lo, hi = _BOUNDS[freq]
    if not lo <= ordinal <= hi:
        raise PeriodError(
            f"{what} gives {_NOUN[freq]} outside the supported years {MIN_YEAR}..{MAX_YEAR}",
            hint=f"periods must lie within {MIN_YEAR}..{MAX_YEAR}",
        )
    return _make(freq, ordinal)


def _key_for(d: date, freq: Freq) -> int:
    if freq is Freq.D:
        return d.toordinal()
    if freq is Freq.W:
        return (d.toordinal() - 1) // 7
    if freq is Freq.M:
        return d.year * 12 + d.month - 1
    if freq is Freq.Q:
        return d.year * 4 + (d.month - 1) // 3
    if freq is Freq.S:
        return d.year * 2 + (d.month - 1) // 6
    if freq is Freq.A:
        return d.year
    n = _YEARS[freq]
    return PLAN_BASE_YEAR + (d.year - PLAN_BASE_YEAR) // n * n


def _month_start(index: int) -> date:
    y, m = divmod(index, 12)
    return date(y, m + 1, 1)


class Period:
    """One reporting period. Build it with ``Period("2025-07")``, :meth:`parse` or :meth:`from_date`.

    There is one object per period in a process, made once with its text, year and bounds: periods key the
    dictionaries of every series, and a page's series look the same few hundred periods up many thousand
    times, so equality and hashing are those of the object, without a call into Python.
    """

    __slots__ = ("_text", "end", "freq", "ordinal", "start", "year")
    freq: Freq
    # Counts periods of ``freq``; for multi-year periods it is the start year. Only meaningful
    # as a sort key among periods of the same freq.
    ordinal: int
    _text: str
    # Year of the start; for weeks the ISO week-year.
    year: int
    # First and last day, inclusive.
    start: date
    end: date

    def __new__(cls, text: str) -> Period:
        return _parse(text)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, *, expected: Freq | None = None, or_coarser: bool = False) -> Period:
        """Read a period; with `expected`, of that frequency or, with `or_coarser`, of one made of whole such periods.

        An official annual figure of a monthly indicator is such a coarser period (``2025`` for ``M``); a finer
        one (``2025-07`` for ``Q``) is refused, and so is one the expected periods do not add up to exactly
        (``2021/2025`` for ``2A``).
        """
        p = _parse(text)
        if expected is None or p.freq == expected:
            return p
        want = Freq(expected)
        if or_coarser and p.freq.rank > want.rank:
            try:
                p.subperiods(want)
            except PeriodError:
                raise PeriodError(
                    f"{_quote(text)} is {_NOUN[p.freq]}, and {_NOUN[want]} (e.g. {want.example}) does not divide it "
                    "exactly",
                    hint=f"write {_NOUN[want]} like {want.example}, or a longer period made of whole ones",
                ) from None
            return p
        raise PeriodError(
            f"{_quote(text)} is {_NOUN[p.freq]}, but {_NOUN[want]} is expected (e.g. {want.example})",
            hint=f"write {_NOUN[want]} like {want.example}" + (" or a longer period" if or_coarser else ""),
        )

    @classmethod
    def from_date(cls, d: date, freq: Freq) -> Period:
        """The period of ``freq`` containing ``d``; multi-year blocks are aligned on 2021."""
        freq = Freq(freq)
        return _checked(freq, _key_for(d, freq), f"date {d.isoformat()}")

    @staticmethod
    def range(first: Period, last: Period) -> list[Period]:
        """Every period from ``first`` to ``last`` inclusive."""
        if first.freq is not last.freq:
            raise PeriodError(
                f"cannot list periods from {_quote(str(first))} to {_quote(str(last))}: "
                f"{_NOUN[first.freq]} and {_NOUN[last.freq]}",
                hint="give both ends of a range in the same frequency",
            )
        if last.ordinal < first.ordinal:
            raise PeriodError(
                f"range end {_quote(str(last))} is before its start {_quote(str(first))}",
                hint="put the earlier period first",
            )
        count = last - first
        step = _step(first.freq)
        return [_make(first.freq, first.ordinal + i * step) for i in range(count + 1)]

    # -- value behaviour ----------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Period is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Period is immutable")

    def __reduce__(self) -> tuple[type[Period], tuple[str]]:
        return (Period, (str(self),))

    def _other_ordinal(self, other: Period, op: str) -> int:
        if other.freq is not self.freq:
            raise TypeError(
                f"cannot {op} {_NOUN[self.freq]} ({self}) and {_NOUN[other.freq]} ({other}); "
                "convert one with to_freq() first"
            )
        return other.ordinal

    def __lt__(self, other: Period) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.ordinal < self._other_ordinal(other, "compare")

    def __le__(self, other: Period) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.ordinal <= self._other_ordinal(other, "compare")

    def __gt__(self, other: Period) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.ordinal > self._other_ordinal(other, "compare")

    def __ge__(self, other: Period) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.ordinal >= self._other_ordinal(other, "compare")

    def __str__(self) -> str:
        return self._text

    def _label(self) -> str:
        f, k = self.freq, self.ordinal
        if f is Freq.M:
            y, m = divmod(k, 12)
            return f"{y}-{m + 1:02d}"
        if f is Freq.A:
            return str(k)
        if f is Freq.Q:
            y, q = divmod(k, 4)
            return f"{y}-Q{q + 1}"
        if f is Freq.D:
            return date.fromordinal(k).isoformat()
        if f is Freq.W:
            iso = self._thursday().isocalendar()
            return f"{iso[0]}-W{iso[1]:02d}"
        if f is Freq.S:
            y, s = divmod(k, 2)
            return f"{y}-S{s + 1}"
        return f"{k}/{k + _YEARS[f] - 1}"

    def __repr__(self) -> str:
        return f"Period('{self}')"

    # -- calendar -----------------------------------------------------------------------------

    def _thursday(self) -> date:
        # ISO 8601 assigns a week to the year (and month, quarter...) holding its Thursday.
        return date.fromordinal(7 * self.ordinal + 4)

    def _months(self) -> tuple[int, int]:
        """First month index (year * 12 + month - 1) and length in months, for M and coarser."""
        f = self.freq
        months = _MONTHS.get(f)
        if months is not None:
            return self.ordinal * months, months
        return self.ordinal * 12, 12 * _YEARS[f]

    def _start(self) -> date:
        if self.freq is Freq.D:
            return date.fromordinal(self.ordinal)
        if self.freq is Freq.W:
            return date.fromordinal(7 * self.ordinal + 1)
        return _month_start(self._months()[0])

    def _end(self) -> date:
        if self.freq is Freq.D:
            return date.fromordinal(self.ordinal)
        if self.freq is Freq.W:
            return date.fromordinal(7 * self.ordinal + 7)
        first, months = self._months()
        return _month_start(first + months) - timedelta(days=1)

    def _year(self) -> int:
        if self.freq is Freq.D:
            return date.fromordinal(self.ordinal).year
        if self.freq is Freq.W:
            return self._thursday().year
        return self._months()[0] // 12

    # -- arithmetic ---------------------------------------------------------------------------

    def __add__(self, n: int) -> Period:
        if not isinstance(n, int):
            return NotImplemented
        what = f"{self} {'-' if n < 0 else '+'} {abs(n)}"
        return _checked(self.freq, self.ordinal + n * _step(self.freq), what)

    __radd__ = __add__

    @overload
    def __sub__(self, other: int) -> Period: ...

    @overload
    def __sub__(self, other: Period) -> int: ...

    def __sub__(self, other: int | Period) -> Period | int:
        if isinstance(other, Period):
            diff = self.ordinal - self._other_ordinal(other, "subtract")
            step = _step(self.freq)
            if diff % step:
                raise PeriodError(
                    f"{_quote(str(self))} and {_quote(str(other))} do not start a whole number of "
                    f"{step}-year periods apart",
                    hint="compare multi-year periods that follow on from each other",
                )
            return diff // step
        if isinstance(other, int):
            return self + (-other)
        return NotImplemented

    def next(self) -> Period:
        return self + 1

    def previous(self) -> Period:
        return self - 1

    def same_period_last_year(self) -> Period:
        """The matching period a year earlier (Feb 29 -> Feb 28; week 53 -> week 52 if need be)."""
        f = self.freq
        what = f"the year before {self}"
        if f is Freq.D:
            d = self.start
            try:
                before = d.replace(year=d.year - 1)
            except ValueError:
                before = date(d.year - 1, 2, 28)
            return _checked(f, before.toordinal(), what)
        if f is Freq.W:
            y = self.year
            week = self.ordinal - _week_key(y, 1) + 1
            return _checked(f, _week_key(y - 1, min(week, _weeks_in(y - 1))), what)
        per_year = _PER_YEAR.get(f)
        if per_year is None:
            raise PeriodError(
                f"{_quote(str(self))} is {_NOUN[f]}; 'same period last year' does not apply to it",
                hint="compare with the previous period instead (p - 1)",
            )
        return _checked(f, self.ordinal - per_year, what)

    def year_to_date(self) -> list[Period]:
        """Periods of this frequency from the first one of this period's year up to this one."""
        f = self.freq
        if f in _YEARS:
            return [self]
        first = _week_key(self.year, 1) if f is Freq.W else _key_for(date(self.year, 1, 1), f)
        return [_make(f, k) for k in range(first, self.ordinal + 1)]

    # -- changing frequency -------------------------------------------------------------------

    def to_freq(self, freq: Freq) -> Period:
        """The period of the coarser (or same) ``freq`` that contains this one."""
        return _to_freq(self, Freq(freq))

    def _to_freq(self, freq: Freq) -> Period:
        if freq is self.freq:
            return self
        if freq.rank < self.freq.rank:
            raise PeriodError(
                f"cannot convert {_quote(str(self))} ({_NOUN[self.freq]}) to the finer frequency "
                f"{freq.value} ({freq.label('en').lower()})",
                hint="use subperiods() to split a period into finer ones",
            )
        if self.freq is Freq.W:
            return Period.from_date(self._thursday(), freq)
        out = Period.from_date(self.start, freq)
        if out.end < self.end:
            raise PeriodError(
                f"{_quote(str(self))} does not fit inside one {freq.label('en').lower()} period: "
                f"it straddles {_quote(str(out))} and {_quote(str(out + 1))}",
                hint=f"{freq.value} periods are aligned on {PLAN_BASE_YEAR} (e.g. {freq.example})",
            )
        return out

    def subperiods(self, freq: Freq) -> list[Period]:
        """The periods of the finer (or same) ``freq`` making up this one; weeks by their Thursday."""
        return list(_subperiods(self, Freq(freq)))

    def _subperiods(self, freq: Freq) -> tuple[Period, ...]:
        if freq is self.freq:
            return (self,)
        if freq.rank > self.freq.rank:
            raise PeriodError(
                f"cannot split {_quote(str(self))} ({_NOUN[self.freq]}) into the coarser frequency "
                f"{freq.value} ({freq.label('en').lower()})",
                hint="use to_freq() to find the coarser period containing this one",
            )
        start, end = self.start, self.end
        first, last = _key_for(start, freq), _key_for(end, freq)
        if freq is Freq.W:
            if 7 * first + 4 < start.toordinal():
                first += 1
            if 7 * last + 4 > end.toordinal():
                last -= 1
        elif _make(freq, first).start != start or _make(freq, last).end != end:
            raise PeriodError(
                f"{_quote(str(self))} cannot be split exactly into {freq.label('en').lower()} periods",
                hint=f"{freq.value} periods are aligned on {PLAN_BASE_YEAR} (e.g. {freq.example})",
            )
        return tuple(_make(freq, k) for k in range(first, last + 1, _step(freq)))

    def contains(self, other: Period) -> bool:
        """Whether ``other`` lies inside this period (a week by its Thursday, when this is coarser)."""
        if other.freq is Freq.W and self.freq.rank > Freq.W.rank:
            return self.start <= other._thursday() <= self.end
        return self.start <= other.start and other.end <= self.end


# -- parsing ----------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _bad(text: str, why: str | None = None) -> PeriodError:
    return PeriodError(f"{_quote(text)} is not a valid period" + (f": {why}" if why else ""))


def _year(text: str, y: int) -> int:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise _bad(text, f"year {y} is outside {MIN_YEAR}..{MAX_YEAR}")
    return y


def _month(text: str, y: int, m: int) -> Period:
    if not 1 <= m <= 12:
        raise _bad(text, f"month {m} is not 01..12")
    return _make(Freq.M, _year(text, y) * 12 + m - 1)


def _quarter(text: str, y: int, q: int) -> Period:
    if not 1 <= q <= 4:
        raise _bad(text, f"quarter {q} is not Q1..Q4")
    return _make(Freq.Q, _year(text, y) * 4 + q - 1)


def _half(text: str, y: int, s: int) -> Period:
    if not 1 <= s <= 2:
        raise _bad(text, f"half-year {s} is not S1 or S2")
    return _make(Freq.S, _year(text, y) * 2 + s - 1)


def _week(text: str, y: int, w: int) -> Period:
    _year(text, y)
    weeks = _weeks_in(y)
    if not 1 <= w <= weeks:
        why = f"{y} has only {weeks} ISO weeks" if w == 53 else f"week {w} is not W01..W53"
        raise _bad(text, why)
    return _make(Freq.W, _week_key(y, w))


def _day(text: str, y: int, m: int, d: int) -> Period:
    _year(text, y)
    try:
        return _make(Freq.D, date(y, m, d).toordinal())
    except ValueError:
        raise _bad(text, "no such day") from None


def _day_of_year(text: str, y: int, j: int) -> Period:
    first = date(_year(text, y), 1, 1).toordinal()
    if not 1 <= j <= date(y, 12, 31).toordinal() - first + 1:
        raise _bad(text, f"{y} has no day {j:03d}")
    return _make(Freq.D, first + j - 1)


def _multi(text: str, y1: int, y2: int) -> Period:
    _year(text, y1)
    _year(text, y2)
    if y2 < y1:
        raise _bad(text, "the end year is before the start year")
    freq = _MULTI.get(y2 - y1 + 1)
    if freq is None:
        raise _bad(text, f"a multi-year period spans 2, 5 or 10 years, not {y2 - y1 + 1}")
    return _make(freq, y1)


def _parse_canonical(s: str, text: str) -> Period | None:
    """The canonical forms, checked by shape before any regex: the warehouse loads mostly these."""
    n = len(s)
    if not s.isascii() or n < 4 or not s[:4].isdigit():
        return None
    if n == 7 and s[4] == "-":
        c, d = s[5], s[6]
        if d.isdigit():
            if c.isdigit():
                return _month(text, int(s[:4]), int(s[5:]))
            if c == "Q":
                return _quarter(text, int(s[:4]), int(d))
            if c == "S":
                return _half(text, int(s[:4]), int(d))
        return None
    if n == 4:
        return _make(Freq.A, _year(text, int(s)))
    if n == 10 and s[4] == "-" and s[7] == "-" and s[5:7].isdigit() and s[8:].isdigit():
        return _day(text, int(s[:4]), int(s[5:7]), int(s[8:]))
    if n == 8 and s[4:6] == "-W" and s[6:].isdigit():
        return _week(text, int(s[:4]), int(s[6:]))
    if n == 9 and s[4] == "/" and s[5:].isdigit():
        return _multi(text, int(s[:4]), int(s[5:]))
    return None


_ALIAS = re.compile(
    r"""(?P<y>\d{4})(?:
        (?:A|-?A1)
      | -?[SH](?P<s>\d)
      | -?Q(?P<q>\d)
      | (?:-?M|-)(?P<m>\d{1,2})
      | -?W(?P<w>\d{1,2})
      | -(?P<dm>\d{2})-(?P<dd>\d{2})
      | -?D(?P<j>\d{3})
      | /(?P<y2>\d{4})
    )""",
    re.ASCII | re.VERBOSE,
)


def _parse(text: str) -> Period:
    # Spreadsheet loaders hand over ints and floats; say so rather than fail on hashing or len().
    if not isinstance(text, str):
        raise PeriodError(f"{text!r} is not a period: periods are written as text")
    return _parse_text(text)


@lru_cache(maxsize=65536)
def _parse_text(text: str) -> Period:
    p = _parse_canonical(text, text)
    if p is not None:
        return p
    s = text.strip().upper()
    if s != text:
        p = _parse_canonical(s, text)
        if p is not None:
            return p
    m = _ALIAS.fullmatch(s)
    if m is None:
        if len(s) == 9 and s[4] == "-" and s[:4].isdigit() and s[5:].isdigit():
            raise _bad(text, f"multi-year periods are written with '/', e.g. {s[:4]}/{s[5:]}")
        raise _bad(text)
    y = int(m["y"])
    if m["s"] is not None:
        return _half(text, y, int(m["s"]))
    if m["q"] is not None:
        return _quarter(text, y, int(m["q"]))
    if m["m"] is not None:
        return _month(text, y, int(m["m"]))
    if m["w"] is not None:
        return _week(text, y, int(m["w"]))
    if m["dm"] is not None:
        return _day(text, y, int(m["dm"]), int(m["dd"]))
    if m["j"] is not None:
        return _day_of_year(text, y, int(m["j"]))
    if m["y2"] is not None:
        return _multi(text, y, int(m["y2"]))
    return _make(Freq.A, _year(text, y))


# Periods are values: their calendar arithmetic is worked out once. Aggregating ten years of 35 areas
# asks the same few hundred periods for their bounds and quarters many thousand times.
_to_freq = lru_cache(maxsize=1 << 16)(Period._to_freq)
_subperiods = lru_cache(maxsize=1 << 14)(Period._subperiods)
