from __future__ import annotations

import pytest

from govops.catalog.formulas import parse_formula
from govops.errors import GovopsError


def test_references_are_the_indicator_codes() -> None:
    assert parse_formula("100 * ytd(PI_DISBURSED) / PI_PLAN").references == {"PI_DISBURSED", "PI_PLAN"}
    assert parse_formula("yoy(EXPORTS - IMPORTS)").references == {"EXPORTS", "IMPORTS"}
    assert parse_formula("lag(CPI, 12)").references == {"CPI"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("CPI +", "not a valid expression"),
        ("__import__('os').system('x')", "unknown function"),
        ("CPI ** 2", "not allowed"),
        ("CPI.real", "not allowed"),
        ("yoy(CPI, 2)", "takes 1 argument"),
        ("lag(CPI, -1)", "positive whole number"),
        ("lag(CPI, X)", "positive whole number"),
        ("yoy", "is a function"),
        ("'text'", "not allowed"),
        ("CPI if GDP else 1", "not allowed"),
    ],
)
def test_anything_but_arithmetic_and_the_four_functions_is_refused(text: str, words: str) -> None:
    with pytest.raises(GovopsError) as caught:
        parse_formula(text)
    assert words in caught.value.message
    assert caught.value.code == "invalid_formula" and "yoy(X)" in (caught.value.hint or "")
