"""SDMX time periods read into govops periods and written from them: one reading for messages, mappings and REST."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govops.errors import GovopsError
from govops.interop.sdmx.periods import govops_period, sdmx_period
from govops.periods import Freq, Period, PeriodError


@pytest.mark.parametrize(
    ("sdmx_period", "govops"),
    [
        ("2019", "2019"),
        ("2019-A1", "2019"),
        ("2019-S2", "2019-S2"),
        ("2019-Q1", "2019-Q1"),
        ("1999-01", "1999-01"),
        ("1999-M01", "1999-01"),
        ("2019-W05", "2019-W05"),
        ("2019-W5", "2019-W05"),
        ("2019-01-15", "2019-01-15"),
        ("2013-01-18T00:00:00", "2013-01-18"),
        ("2019-D032", "2019-02-01"),
        ("2019-01-01/P1Y", "2019"),
        ("2019-04-01/P3M", "2019-Q2"),
        ("2019-07-01/P6M", "2019-S2"),
        ("2019-02-01/P1M", "2019-02"),
        ("2021-01-01/P5Y", "2021/2025"),
        ("2019-01-28/P7D", "2019-W05"),
        ("2019-01-15T00:00:00Z/P1D", "2019-01-15"),
    ],
)
def test_sdmx_reporting_periods_and_ranges_map_to_govops_periods(sdmx_period: str, govops: str) -> None:
    assert govops_period(sdmx_period) == govops


@pytest.mark.parametrize(
    "sdmx_period",
    ["2019-T1", "2019-13", "2019-02-30", "2019-W54", "2019-02-01/P2M", "2019-01-02/P1Y", "2019-Q5", "M01", "1850", ""],
)
def test_sdmx_periods_without_a_govops_period_raise(sdmx_period: str) -> None:
    with pytest.raises(PeriodError):
        govops_period(sdmx_period)


@pytest.mark.parametrize(
    ("govops", "sdmx_text"),
    [
        ("2025", "2025"),
        ("2025-S1", "2025-S1"),
        ("2025-Q3", "2025-Q3"),
        ("2025-07", "2025-07"),
        ("2025-W31", "2025-W31"),
        ("2025-07-14", "2025-07-14"),
        ("2025/2026", "2025-01-01/P2Y"),
        ("2021/2025", "2021-01-01/P5Y"),
        ("2021/2030", "2021-01-01/P10Y"),
    ],
)
def test_sdmx_period_and_back(govops: str, sdmx_text: str) -> None:
    assert sdmx_period(govops) == sdmx_text
    assert govops_period(sdmx_text) == govops


@pytest.mark.parametrize(
    ("sdmx_text", "govops"),
    [
        ("2025-A1", "2025"),
        ("2025-M07", "2025-07"),
        ("2025-D195", "2025-07-14"),
        ("2025-01-01/P1Y", "2025"),
        ("2025-07-01/P3M", "2025-Q3"),
        ("2025-07-01/P6M", "2025-S2"),
        ("2025-07-01T00:00:00/P1M", "2025-07"),
        ("2025-07-28/P7D", "2025-W31"),
        ("2025-07-14/P1D", "2025-07-14"),
        ("2023-01-01/P5Y", "2023/2027"),
    ],
)
def test_govops_period_reads_other_sdmx_spellings(sdmx_text: str, govops: str) -> None:
    assert govops_period(sdmx_text) == govops


@pytest.mark.parametrize(
    ("sdmx_text", "message"),
    [
        ("2025-02-01/P3M", "does not start where a quarter period starts"),
        ("2021-03-01/P5Y", "does not start on 1 January"),
        ("2025-01-01/P4Y", "does not last as long as any govops period"),
        ("2025-02-30/P1D", "does not start on a real day"),
        ("2025-T1", "is not a valid period"),
    ],
)
def test_govops_period_refuses_what_govops_has_no_period_for(sdmx_text: str, message: str) -> None:
    with pytest.raises(GovopsError, match=message):
        govops_period(sdmx_text)


@st.composite
def govops_periods(draw: st.DrawFn) -> Period:
    freq = draw(st.sampled_from(list(Freq)))
    years = freq.years
    if years is not None and years > 1:
        start = draw(st.integers(min_value=1900, max_value=2201 - years))
        return Period(f"{start}/{start + years - 1}")
    return Period.from_date(draw(st.dates(min_value=date(1900, 1, 4), max_value=date(2200, 12, 28))), freq)


@settings(max_examples=300, deadline=None)
@given(govops_periods())
def test_periods_round_trip_through_sdmx(period: Period) -> None:
    text = sdmx_period(str(period))
    assert govops_period(text) == str(period)
    assert Period.parse(govops_period(text)) == period


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"\d{4}-\d{2}-\d{2}(T00:00:00)?/P(\d{1,3}Y)?(\d{1,3}M)?(\d{1,3}D)?", fullmatch=True),
        st.from_regex(r"\d{4}-?[AQSMWD]?\d{0,3}", fullmatch=True),
    )
)
def test_govops_period_raises_only_govops_errors(text: str) -> None:
    try:
        result = govops_period(text)
    except GovopsError as e:
        assert e.message
    else:
        assert str(Period.parse(result)) == result
