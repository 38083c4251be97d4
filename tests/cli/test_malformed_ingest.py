"""`govops ingest` of malformed files found by attack: a clear message and exit status 1, never a traceback,
and not even the good rows before the bad one are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Govops
from tests.cli.test_main import observations

GOOD = '{"indicator": "BUDGET_REVENUE", "area": "VN", "period": "2026-08", "value": 1}'


def _row(value: str = "1", *, indicator: str = "BUDGET_REVENUE", dims: str = "{}") -> str:
    return f'{{"indicator": "{indicator}", "area": "VN", "period": "2026-09", "value": {value}, "dims": {dims}}}'


DEEP_DIMS = '{"a": ' * 1000 + '"x"' + "}" * 1000
CSV = "indicator,area,period,value\nBUDGET_REVENUE,VN,2026-08,1\n"

# name: (file name, content, what stderr says)
ATTACKS = {
    "json nested 1,000 deep": (
        "deep.json",
        '{"observations": [' + GOOD + ", " + "[" * 1000 + "]" * 1000 + "]}",
        "deep.json: the JSON is nested too deeply to read",
    ),
    "dims nested 1,000 deep": (
        "deep.jsonl",
        GOOD + "\n" + _row(dims=DEEP_DIMS) + "\n",
        "deep.jsonl, line 2: the JSON is nested too deeply to read",
    ),
    "a 5,000-digit integer": (
        "digits.json",
        "[" + GOOD + ", " + _row("9" * 5000) + "]",
        "digits.json: a number in the JSON has 5,000 digits",
    ),
    "a lone surrogate": (
        "surrogate.json",
        "[" + GOOD + ", " + _row(indicator="BUDGET_REVENUE\\ud800") + "]",
        "the text holds a lone surrogate",
    ),
    "a csv field over 131,072 bytes": (
        "long.csv",
        CSV + 'BUDGET_REVENUE,VN,2026-09,"' + "1" * 140_000 + "\n",
        "long.csv, line 3: the CSV cannot be read: field larger than field limit (131072)",
    ),
    "1e400": ("huge.jsonl", GOOD + "\n" + _row("1e400") + "\n", "value must be a finite number"),
    "NaN": ("nan.jsonl", GOOD + "\n" + _row("NaN") + "\n", "value must be a finite number"),
    "-Infinity in a csv": ("inf.csv", CSV + "BUDGET_REVENUE,VN,2026-09,-Infinity\n", "value must be a finite number"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_ingest_of_a_malformed_file_says_what_is_wrong_and_writes_nothing(
    govops: Govops, tmp_path: Path, attack: str
) -> None:
    name, content, says = ATTACKS[attack]
    data = tmp_path / name
    data.write_text(content, encoding="utf-8")
    before = observations(govops.store)
    result = govops("ingest", str(data))
    assert result.code == 1, result.err
    assert "Traceback" not in result.err + result.out
    assert says in " ".join(result.err.split()), result.err
    assert observations(govops.store) == before
