from __future__ import annotations

import copy
import pickle
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govops.errors import GovopsError
from govops.periods import Freq, Period, PeriodError

P = Period.parse


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "freq", "start", "end"),
    [
        ("2025", Freq.A, date(2025, 1, 1), date(2025, 12, 31)),
        ("2025-S1", Freq.S, date(2025, 1, 1), date(2025, 6, 30)),
        ("2025-S2", Freq.S, date(2025, 7, 1), date(2025, 12, 31)),
        ("2025-Q3", Freq.Q, date(2025, 7, 1), date(2025, 9, 30)),
        ("2025-07", Freq.M, date(2025, 7, 1), date(2025, 7, 31)),
        ("2024-02", Freq.M, date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-W31", Freq.W, date(2025, 7, 28), date(2025, 8, 3)),
        ("2025-W01", Freq.W, date(2024, 12, 30), date(2025, 1, 5)),
        ("2020-W53", Freq.W, date(2020, 12, 28), date(2021, 1, 3)),
        ("2025-07-14", Freq.D, date(2025, 7, 14), date(2025, 7, 14)),
        ("2025/2026", Freq.A2, date(2025, 1, 1), date(2026, 12, 31)),
        ("2021/2025", Freq.A5, date(2021, 1, 1), date(2025, 12, 31)),
        ("2023/2027", Freq.A5, date(2023, 1, 1), date(2027, 12, 31)),
        ("2021/2030", Freq.A10, date(2021, 1, 1), date(2030, 12, 31)),
        ("1900", Freq.A, date(1900, 1, 1), date(1900, 12, 31)),
        ("2200-12-31", Freq.D, date(2200, 12, 31), date(2200, 12, 31)),
    ],
)
def test_parse_canonical(text: str, freq: Freq, start: date, end: date) -> None:
    p = P(text)
    assert p.freq is freq
    assert (p.start, p.end) == (start, end)
    assert str(p) == text
    assert repr(p) == f"Period('{text}')"
    assert Period(text) == p


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  2025-07 \n", "2025-07"),
        ("2025M07", "2025-07"),
        ("2025-M07", "2025-07"),
        ("2025-7", "2025-07"),
        ("2025M7", "2025-07"),
        ("2025Q3", "2025-Q3"),
        ("2025-q3", "2025-Q3"),
        ("2025S1", "2025-S1"),
        ("2025-H1", "2025-S1"),
        ("2025H2", "2025-S2"),
        ("2025-A1", "2025"),
        ("2025A", "2025"),
        ("2025W31", "2025-W31"),
        ("2025-W5", "2025-W05"),
        ("2025-D001", "2025-01-01"),
        ("2024D366", "2024-12-31"),
        (" 2021/2025", "2021/2025"),
    ],
)
def test_parse_aliases(text: str, canonical: str) -> None:
    assert str(P(text)) == canonical
    assert P(text) == P(canonical)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2025-13", "month 13"),
        ("2025-00", "month 0"),
        ("2025-Q5", "quarter 5"),
        ("2025-S3", "half-year 3"),
        ("2025-W54", "week 54"),
        ("2025-W00", "week 0"),
        ("2021-W53", "2021 has only 52"),
        ("2025-02-30", "no such day"),
        ("2025-D366", "no day 366"),
        ("2021/2023", "not 3"),
        ("2021/2021", "not 1"),
        ("2025/2021", "before the start"),
        ("2021-2025", "2021/2025"),
        ("1899", "year 1899"),
        ("2201-01", "year 2201"),
        ("2196/2205", "year 2205"),
        ("", None),
        ("2025-", None),
        ("25-07", None),
        ("2025-07-1", None),
        ("2025-Q03", None),
        ("\uff12\uff10\uff12\uff15", None),  # full-width digits
        ("2025/", None),
        ("July 2025", None),
    ],
)
def test_parse_rejects(text: str, why: str | None) -> None:
    with pytest.raises(PeriodError) as info:
        P(text)
    err = info.value
    assert isinstance(err, GovopsError)
    assert err.code == "invalid_period"
    assert repr(text) in err.message
    assert err.hint is not None and "2025-Q3" in err.hint and "2021/2025" in err.hint
    if why is not None:
        assert why in err.message


def test_parse_rejects_non_text() -> None:
    with pytest.raises(PeriodError, match="written as text"):
        P(2025)  # type: ignore[arg-type]


def test_parse_long_garbage_is_shortened_in_message() -> None:
    with pytest.raises(PeriodError) as info:
        P("x" * 500)
    assert len(info.value.message) < 100


def test_parse_expected_freq() -> None:
    assert P("2025-07", expected=Freq.M) == P("2025-07")
    with pytest.raises(PeriodError) as info:
        P("2025-Q3", expected=Freq.M)
    assert info.value.message == "'2025-Q3' is a quarter, but a month is expected (e.g. 2025-07)"
    assert info.value.code == "invalid_period"


# -- frequencies --------------------------------------------------------------------------------


def test_freq_rank_and_labels() -> None:
    order = [Freq.D, Freq.W, Freq.M, Freq.Q, Freq.S, Freq.A, Freq.A2, Freq.A5, Freq.A10]
    assert sorted(Freq, key=lambda f: f.rank) == order
    assert [f.rank for f in order] == list(range(9))
    assert [f.label("vi") for f in order] == [
        "Ngày",
        "Tuần",
        "Tháng",
        "Quý",
        "Nửa năm",
        "Năm",
        "2 năm",
        "5 năm",
        "10 năm",
    ]
    assert Freq.Q.label() == "Quý"
    assert Freq.S.label("en") == "Half-year"
    assert Freq("10A") is Freq.A10
    assert [Freq.A.years, Freq.A5.years, Freq.M.years] == [1, 5, None]


# -- value behaviour ----------------------------------------------------------------------------


def test_equality_hash_and_immutability() -> None:
    assert P("2025-07") == P("2025M07")
    assert hash(P("2025-07")) == hash(P("2025-7"))
    assert P("2025") != P("2025-01")
    assert P("2025-01-01") != P("2025-01")
    assert len({P("2025-Q1"), P("2025Q1"), P("2025-Q2")}) == 2
    p = P("2025-07")
    with pytest.raises(AttributeError):
        p.ordinal = 3
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.deepcopy(p) == p
    with pytest.raises(AttributeError):
        p.start = date(2025, 8, 1)


def test_one_object_per_period_however_it_was_reached() -> None:
    """Equality and hashing are the object's: every way of reaching a period must give that one object."""
    p = P("2025-07")
    reached = [
        P("2025M7"),
        Period("2025-07"),
        Period.from_date(date(2025, 7, 14), Freq.M),
        P("2025-06") + 1,
        P("2025-08").previous(),
        P("2026-07").same_period_last_year(),
        P("2025-Q3").subperiods(Freq.M)[0],
        P("2025-07").year_to_date()[-1],
        Period.range(P("2025-01"), P("2025-12"))[6],
        pickle.loads(pickle.dumps(p)),
        copy.copy(p),
        copy.deepcopy(p),
    ]
    assert all(q is p for q in reached)
    assert {q: str(q) for q in reached} == {p: "2025-07"}


def test_attributes() -> None:
    assert P("2025-07").year == 2025
    assert P("2025-W01").year == 2025  # ISO week-year, though it starts in 2024
    assert P("2020-W53").year == 2020
    assert P("2021/2025").year == 2021
    assert P("2025-07-14").year == 2025


def test_ordering_same_freq_and_type_error_across() -> None:
    assert P("2024-12") < P("2025-01") <= P("2025-01") < P("2025-02")
    assert P("2025-Q4") > P("2025-Q1")
    assert P("2026/2030") > P("2021/2025")
    assert sorted([P("2025-03"), P("2024-11"), P("2025-01")]) == [P("2024-11"), P("2025-01"), P("2025-03")]
    with pytest.raises(TypeError):
        _ = P("2025-07") < P("2025-Q3")
    with pytest.raises(TypeError):
        _ = P("2025-07") - P("2025")


# -- arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "previous", "next_"),
    [
        ("2025-01", "2024-12", "2025-02"),
        ("2025-12", "2025-11", "2026-01"),
        ("2025-Q1", "2024-Q4", "2025-Q2"),
        ("2025-S1", "2024-S2", "2025-S2"),
        ("2025", "2024", "2026"),
        ("2025-01-01", "2024-12-31", "2025-01-02"),
        ("2024-02-28", "2024-02-27", "2024-02-29"),
        ("2021-W01", "2020-W53", "2021-W02"),
        ("2020-W53", "2020-W52", "2021-W01"),
        ("2021-W52", "2021-W51", "2022-W01"),
        ("2021/2025", "2016/2020", "2026/2030"),
        ("2023/2027", "2018/2022", "2028/2032"),
        ("2025/2026", "2023/2024", "2027/2028"),
        ("2021/2030", "2011/2020", "2031/2040"),
    ],
)
def test_previous_next(text: str, previous: str, next_: str) -> None:
    p = P(text)
    assert p.previous() == P(previous)
    assert p.next() == P(next_)
    assert p - 1 == P(previous)
    assert 1 + p == P(next_)


def test_arithmetic() -> None:
    assert P("2025-07") + 6 == P("2026-01")
    assert P("2025-07") - 19 == P("2023-12")
    assert P("2026-01") - P("2025-07") == 6
    assert P("2025-Q1") - P("2025-Q3") == -2
    assert P("2031/2035") - P("2021/2025") == 2
    assert P("2025-W02") - P("2024-W52") == 2


def test_arithmetic_out_of_range() -> None:
    with pytest.raises(PeriodError, match="outside the supported years"):
        P("2200-12") + 1
    with pytest.raises(PeriodError, match="outside the supported years"):
        P("1900") - 1
    with pytest.raises(PeriodError, match="outside the supported years"):
        P("2191/2200") + 1


def test_subtracting_multi_year_off_grid() -> None:
    with pytest.raises(PeriodError, match="whole number"):
        P("2023/2027") - P("2021/2025")


def test_same_period_last_year() -> None:
    assert P("2025-07").same_period_last_year() == P("2024-07")
    assert P("2025-Q3").same_period_last_year() == P("2024-Q3")
    assert P("2025-S2").same_period_last_year() == P("2024-S2")
    assert P("2025").same_period_last_year() == P("2024")
    assert P("2025-07-14").same_period_last_year() == P("2024-07-14")
    assert P("2024-02-29").same_period_last_year() == P("2023-02-28")
    assert P("2025-W31").same_period_last_year() == P("2024-W31")
    assert P("2026-W53").same_period_last_year() == P("2025-W52")
    assert P("2021-W01").same_period_last_year() == P("2020-W01")
    with pytest.raises(PeriodError, match="does not apply"):
        P("2021/2025").same_period_last_year()
    with pytest.raises(PeriodError):
        P("1900-05").same_period_last_year()


def test_year_to_date() -> None:
    assert P("2025-Q3").year_to_date() == [P("2025-Q1"), P("2025-Q2"), P("2025-Q3")]
    assert P("2025-03").year_to_date() == [P("2025-01"), P("2025-02"), P("2025-03")]
    assert P("2025-01").year_to_date() == [P("2025-01")]
    assert P("2025-S2").year_to_date() == [P("2025-S1"), P("2025-S2")]
    assert P("2025-W02").year_to_date() == [P("2025-W01"), P("2025-W02")]
    assert P("2025-01-03").year_to_date() == [P("2025-01-01"), P("2025-01-02"), P("2025-01-03")]
    assert len(P("2024-12-31").year_to_date()) == 366
    assert len(P("2020-W53").year_to_date()) == 53
    assert P("2025").year_to_date() == [P("2025")]
    assert P("2021/2025").year_to_date() == [P("2021/2025")]


# -- changing frequency -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "freq", "expected"),
    [
        ("2025-07-14", Freq.D, "2025-07-14"),
        ("2025-07-14", Freq.W, "2025-W29"),
        ("2025-07-14", Freq.M, "2025-07"),
        ("2025-07-14", Freq.Q, "2025-Q3"),
        ("2025-07-14", Freq.S, "2025-S2"),
        ("2025-07-14", Freq.A, "2025"),
        ("2025-07-14", Freq.A5, "2021/2025"),
        ("2025-07", Freq.Q, "2025-Q3"),
        ("2025-Q2", Freq.S, "2025-S1"),
        ("2025-S2", Freq.A, "2025"),
        ("2025", Freq.A2, "2025/2026"),
        ("2026", Freq.A5, "2026/2030"),
        ("2020", Freq.A5, "2016/2020"),
        ("2030", Freq.A10, "2021/2030"),
        ("2026/2030", Freq.A10, "2021/2030"),
        ("2023/2024", Freq.A10, "2021/2030"),
        # A week belongs where its Thursday falls.
        ("2025-W01", Freq.M, "2025-01"),
        ("2025-W01", Freq.A, "2025"),
        ("2020-W53", Freq.M, "2020-12"),
        ("2020-W53", Freq.A, "2020"),
        ("2025-W27", Freq.Q, "2025-Q3"),
        ("2025-W26", Freq.Q, "2025-Q2"),
    ],
)
def test_to_freq(text: str, freq: Freq, expected: str) -> None:
    assert P(text).to_freq(freq) == P(expected)
    assert P(expected).contains(P(text))


def test_to_freq_errors() -> None:
    with pytest.raises(PeriodError, match="finer"):
        P("2025-Q3").to_freq(Freq.M)
    with pytest.raises(PeriodError, match="finer"):
        P("2025-07").to_freq(Freq.W)
    with pytest.raises(PeriodError, match="straddles '2021/2025' and '2026/2030'"):
        P("2025/2026").to_freq(Freq.A5)
    with pytest.raises(PeriodError, match="straddles"):
        P("2028/2032").to_freq(Freq.A10)


def test_subperiods() -> None:
    assert P("2025-Q3").subperiods(Freq.M) == [P("2025-07"), P("2025-08"), P("2025-09")]
    assert P("2025").subperiods(Freq.Q) == [P(f"2025-Q{q}") for q in range(1, 5)]
    assert P("2025").subperiods(Freq.S) == [P("2025-S1"), P("2025-S2")]
    assert P("2021/2025").subperiods(Freq.A) == [P(str(y)) for y in range(2021, 2026)]
    assert P("2021/2030").subperiods(Freq.A5) == [P("2021/2025"), P("2026/2030")]
    assert P("2021/2030").subperiods(Freq.A2)[-1] == P("2029/2030")
    assert P("2023/2027").subperiods(Freq.A) == [P(str(y)) for y in range(2023, 2028)]
    assert len(P("2024-02").subperiods(Freq.D)) == 29
    assert P("2025-W31").subperiods(Freq.D) == Period.range(P("2025-07-28"), P("2025-08-03"))
    assert P("2025-07").subperiods(Freq.M) == [P("2025-07")]
    # Weeks whose Thursday lies inside: 2025-W01 (Thu 2 Jan) to 2025-W05 (Thu 30 Jan).
    assert P("2025-01").subperiods(Freq.W) == Period.range(P("2025-W01"), P("2025-W05"))
    assert P("2020").subperiods(Freq.W)[-1] == P("2020-W53")
    assert len(P("2021").subperiods(Freq.W)) == 52


def test_subperiods_errors() -> None:
    with pytest.raises(PeriodError, match="coarser"):
        P("2025-07").subperiods(Freq.Q)
    with pytest.raises(PeriodError, match="exactly"):
        P("2021/2025").subperiods(Freq.A2)


def test_contains() -> None:
    assert P("2025-Q3").contains(P("2025-08"))
    assert P("2025-Q3").contains(P("2025-08-31"))
    assert not P("2025-Q3").contains(P("2025-10"))
    assert not P("2025-07").contains(P("2025-Q3"))
    assert P("2025-07").contains(P("2025-07"))
    assert P("2025-W31").contains(P("2025-08-03"))
    assert P("2025-07").contains(P("2025-W31"))  # Thursday 31 July, though it ends 3 August
    assert not P("2025-08").contains(P("2025-W31"))
    assert P("2025-07").contains(P("2025-W27"))  # Thursday 3 July, though it starts 30 June
    assert not P("2025-06").contains(P("2025-W27"))


def test_range() -> None:
    months = [P("2024-11"), P("2024-12"), P("2025-01"), P("2025-02")]
    assert Period.range(P("2024-11"), P("2025-02")) == months
    assert Period.range(P("2025-Q3"), P("2025-Q3")) == [P("2025-Q3")]
    assert Period.range(P("2021/2025"), P("2031/2035")) == [P("2021/2025"), P("2026/2030"), P("2031/2035")]
    with pytest.raises(PeriodError, match="before its start"):
        Period.range(P("2025-02"), P("2025-01"))
    with pytest.raises(PeriodError, match="same frequency"):
        Period.range(P("2025-01"), P("2025-Q4"))


def test_from_date() -> None:
    assert Period.from_date(date(2025, 7, 14), Freq.W) == P("2025-W29")
    assert Period.from_date(date(2027, 1, 1), Freq.A2) == P("2027/2028")
    assert Period.from_date(date(2019, 6, 1), Freq.A10) == P("2011/2020")
    assert Period.from_date(date(2025, 7, 14), Freq("Q")) == P("2025-Q3")
    with pytest.raises(PeriodError, match="outside the supported years"):
        Period.from_date(date(1899, 12, 31), Freq.M)


# -- properties ---------------------------------------------------------------------------------

# The widest shift each frequency may take in the property tests, about 40 years, so that periods
# drawn from 1950..2150 stay within the supported 1900..2200.
SHIFT = {
    Freq.D: 14_000,
    Freq.W: 2_000,
    Freq.M: 480,
    Freq.Q: 160,
    Freq.S: 80,
    Freq.A: 40,
    Freq.A2: 20,
    Freq.A5: 8,
    Freq.A10: 4,
}
# (finer, coarser) pairs that nest cleanly; weeks nest by their Thursday.
NESTING = [
    (Freq.D, Freq.W),
    (Freq.D, Freq.M),
    (Freq.D, Freq.Q),
    (Freq.D, Freq.S),
    (Freq.D, Freq.A),
    (Freq.W, Freq.M),
    (Freq.W, Freq.Q),
    (Freq.W, Freq.S),
    (Freq.W, Freq.A),
    (Freq.M, Freq.Q),
    (Freq.M, Freq.S),
    (Freq.M, Freq.A),
    (Freq.Q, Freq.S),
    (Freq.Q, Freq.A),
    (Freq.S, Freq.A),
    (Freq.A, Freq.A2),
    (Freq.A, Freq.A5),
    (Freq.A, Freq.A10),
    (Freq.A2, Freq.A10),
    (Freq.A5, Freq.A10),
]

dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))
freqs = st.sampled_from(list(Freq))


@st.composite
def periods(draw: st.DrawFn, freq: Freq | None = None) -> Period:
    f = draw(freqs) if freq is None else freq
    years = f.years
    if years is not None and years > 1 and draw(st.booleans()):
        # Multi-year periods may start in any year, not only on the 2021 grid.
        start = draw(st.integers(1950, 2150 - years))
        return P(f"{start}/{start + years - 1}")
    return Period.from_date(draw(dates), f)


@given(periods())
def test_roundtrip_text(p: Period) -> None:
    assert Period.parse(str(p)) == p
    assert Period.parse(f" {str(p).lower()} ") == p
    assert eval(repr(p)) == p
    assert p.start <= p.end
    assert Period.parse(str(p), expected=p.freq) == p


@given(st.data())
def test_add_subtract(data: st.DataObject) -> None:
    p = data.draw(periods())
    n = data.draw(st.integers(-SHIFT[p.freq], SHIFT[p.freq]))
    assert (p + n) - n == p
    assert (p + n) - p == n
    assert p - (p + n) == -n
    assert (p + n).freq is p.freq
    assert ((p + n) > p) == (n > 0)
    if n:
        assert (p + n).start > p.end if n > 0 else (p + n).end < p.start


@given(periods())
def test_next_previous_are_adjacent(p: Period) -> None:
    assert p.next().previous() == p
    assert p.previous().end.toordinal() + 1 == p.start.toordinal()
    assert p.end.toordinal() + 1 == p.next().start.toordinal()


@given(st.data())
def test_ordering_matches_start_dates(data: st.DataObject) -> None:
    f = data.draw(freqs)
    p, q = data.draw(periods(f)), data.draw(periods(f))
    assert (p < q) == (p.start < q.start)
    assert (p == q) == (p.start == q.start)
    assert (p <= q) == (p.start <= q.start)
    assert (p.ordinal < q.ordinal) == (p < q)


@given(st.sampled_from(NESTING), dates)
def test_nesting(pair: tuple[Freq, Freq], d: date) -> None:
    fine, coarse = pair
    p = Period.from_date(d, fine)
    outer = p.to_freq(coarse)
    assert outer.freq is coarse
    assert outer.contains(p)
    parts = outer.subperiods(fine)
    assert p in parts
    assert parts == Period.range(parts[0], parts[-1])
    assert all(outer.contains(part) for part in parts)
    assert all(part.to_freq(coarse) == outer for part in parts)
    if fine is not Freq.W:
        assert parts[0].start == outer.start and parts[-1].end == outer.end


@given(periods())
def test_year_to_date_and_last_year(p: Period) -> None:
    ytd = p.year_to_date()
    assert ytd[-1] == p
    if p.freq.years is None:
        assert all(q.year == p.year for q in ytd)
        assert ytd[0].previous().year == p.year - 1
        last = p.same_period_last_year()
        assert last.year == p.year - 1
        assert last.freq is p.freq
    elif p.freq is Freq.A:
        assert p.same_period_last_year() == p - 1
