"""Rows read without the model (the plain ones of a large batch) are read exactly as the model reads them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from govops.warehouse.schemas import ObservationIn
from govops.warehouse.validation import already_clean

_text = st.one_of(
    st.sampled_from(
        [
            "ENT_NEW",
            "79",
            "2026-07",
            "",
            " 79",
            "79 ",
            "Ho\u0302",
            "Hô",
            "x" * 64,
            "x" * 65,
            "01\t",
            "79\ud800",
            "\udc00",
        ]
    ),
    st.text(max_size=70),
    st.integers(-5, 100),
    st.none(),
    st.floats(),
    st.booleans(),
)
_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from(["12", "-3.5", "1,234.5", " 7", "1e3", "007", "0.000000000000001", "nan", "", "1_000"]),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)
_row = st.fixed_dictionaries(
    {"indicator": _text, "area": _text, "period": _text, "value": _value},
    optional={
        "status": st.one_of(st.sampled_from(["final", "provisional", "estimated", "forecast", "FINAL", " final"]),
                            st.integers(), st.none()),
        "dims": st.one_of(st.dictionaries(st.sampled_from(["SEX", " SEX", "AGE"]),
                                          st.sampled_from(["F", "_T", " M", "", "Y15T64", "\ud800"]), max_size=2),
                          st.lists(st.text(), max_size=1), st.none()),
        "unit": st.one_of(st.none(), _text),
        "source": st.one_of(st.none(), _text),
        "extra": st.integers(),
    },
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(raw=_row)
def test_a_plain_row_is_read_as_the_model_reads_it(raw: dict[str, Any]) -> None:
    quick = already_clean(raw)
    try:
        model = ObservationIn.model_validate(raw)
    except ValidationError:
        assert quick is None  # the model's problems, and only the model's, are said of a bad row
        return
    if quick is not None:
        assert {name: getattr(quick, name) for name in ObservationIn.model_fields} == model.model_dump()
        assert type(quick.value) is float and type(quick.status) is type(model.status)


def test_the_usual_rows_are_read_without_the_model() -> None:
    for raw in (
        {"indicator": "ENT_NEW", "area": "79", "period": "2026-07", "value": 4100.0, "status": "final"},
        {"indicator": "ENT_NEW", "area": "79", "period": "2026-07", "value": "4100.5"},
        {"indicator": "LABOUR", "area": "01", "period": "2026", "value": 3, "dims": {"SEX": "F"}, "unit": "PERSON"},
    ):
        assert already_clean(raw) is not None, raw
