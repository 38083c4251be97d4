"""SDMX series keys: one reading for REST data queries and for the key: rules of an SDMX mapping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govops.errors import GovopsError
from govops.interop.sdmx.keys import key_parts, parse_key

DIMENSIONS = ("FREQ", "INDICATOR", "REF_AREA", "COICOP_VN")


def test_parse_key_reads_codes_alternatives_and_wildcards() -> None:
    assert parse_key("M.CPI.79+01.", dimensions=DIMENSIONS) == {
        "FREQ": frozenset({"M"}),
        "INDICATOR": frozenset({"CPI"}),
        "REF_AREA": frozenset({"79", "01"}),
    }
    assert parse_key("...03", dimensions=DIMENSIONS) == {"COICOP_VN": frozenset({"03"})}
    assert parse_key("...", dimensions=DIMENSIONS) == {}
    assert parse_key("", dimensions=DIMENSIONS) == {}
    assert parse_key("all", dimensions=DIMENSIONS) == {}
    assert parse_key("A+A5.GDP_GROWTH.VN._T", dimensions=DIMENSIONS)["FREQ"] == frozenset({"A", "A5"})


def test_parse_key_of_the_wrong_length_names_the_dimensions() -> None:
    with pytest.raises(GovopsError) as caught:
        parse_key("M.CPI.79", dimensions=DIMENSIONS)
    assert caught.value.code == "invalid_key"
    assert "has 3 part(s), but this dataflow's key has 4: FREQ.INDICATOR.REF_AREA.COICOP_VN" in caught.value.message
    assert caught.value.hint and "'all'" in caught.value.hint


@pytest.mark.parametrize("key", ["M.CPI.79+.", "M.CPI.+79.", "M.C PI..", "M.CPI.79/01.", "M.CPI.Hà Nội."])
def test_parse_key_refuses_parts_that_are_not_codes(key: str) -> None:
    with pytest.raises(GovopsError, match="is not a code"):
        parse_key(key, dimensions=DIMENSIONS)


codes = st.from_regex(r"[A-Za-z0-9_@$\-]{1,6}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.frozensets(codes, max_size=3), min_size=1, max_size=6))
def test_parse_key_gives_back_the_codes_a_key_was_built_from(parts: list[frozenset[str]]) -> None:
    dimensions = [f"D{i}" for i in range(len(parts))]
    key = ".".join("+".join(sorted(p)) for p in parts)
    if key == "all":
        return
    assert parse_key(key, dimensions=dimensions) == {d: p for d, p in zip(dimensions, parts, strict=True) if p}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.lists(st.text(min_size=1, max_size=8), max_size=5))
def test_parse_key_raises_only_govops_errors(key: str, dimensions: list[str]) -> None:
    try:
        wanted = parse_key(key, dimensions=dimensions)
    except GovopsError as e:
        assert e.message
    else:
        assert set(wanted) <= set(dimensions)


def test_a_mapping_key_takes_any_code_for_an_empty_part_or_a_star() -> None:
    assert key_parts("M.USD+JPY.*..A") == [frozenset({"M"}), frozenset({"USD", "JPY"}), None, None, frozenset({"A"})]


def test_a_bad_part_of_a_mapping_key_is_named_by_its_position() -> None:
    with pytest.raises(GovopsError, match="'' in the key part for dimension 2 is not a code"):
        key_parts("M.USD+.EUR")
