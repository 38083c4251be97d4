"""Errors and problems stay strict JSON and printable UTF-8 whatever the input held; the readers fail only with them."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govops.errors import GovopsError, Problem
from govops.warehouse.formats import read_text

# Text as json.loads gives it: any code point, lone surrogates included.
any_text = st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]) | st.characters(),
    max_size=300,
)
any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**250, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
    st.recursive(st.lists(st.integers()), lambda inner: st.dictionaries(st.text(max_size=3), inner), max_leaves=5),
)


def _strict(document: Any) -> None:
    """What a response and the store need: JSON without NaN or Infinity, encodable as UTF-8."""
    json.dumps(document, allow_nan=False, ensure_ascii=False).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(message=any_text, where=st.none() | any_text, hint=st.none() | any_text, value=any_value)
def test_a_problem_and_an_error_are_strict_json_whatever_they_carry(
    message: str, where: str | None, hint: str | None, value: Any
) -> None:
    problem = Problem(message, field=where, row=3, hint=hint, value=value, where=where)
    shown = problem.as_dict()
    _strict(shown)
    assert shown["row"] == 3
    if isinstance(value, float) and not math.isfinite(value):
        assert shown["value"] in ("NaN", "Infinity", "-Infinity")
    elif isinstance(value, str):
        assert len(shown["value"]) <= 200
    _strict(GovopsError(message, where=where, hint=hint, problems=[problem]).as_dict())


def test_a_lone_surrogate_is_shown_as_its_escape() -> None:
    shown = Problem("unknown area \ud800", value="A\udfff").as_dict()
    assert shown == {"code": "invalid", "message": "unknown area \\ud800", "value": "A\\udfff"}


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet='{}[]",:\n0123456789eE.-+NaInfity\\ud800 ', max_size=400))
def test_the_readers_fail_only_with_a_govops_error(fmt: str, text: str) -> None:
    try:
        rows = read_text(text, fmt, where="data")
    except GovopsError as exc:
        _strict(exc.as_dict())
        return
    for _number, row in rows:
        if isinstance(row, Problem):
            _strict(row.as_dict())
