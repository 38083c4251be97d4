"""`govops ingest` warns of the same implausible values as a console upload and an API submission."""

from __future__ import annotations

from pathlib import Path

from govops.periods import Period
from tests.cli.conftest import Govops


def test_ingest_warns_of_a_negative_count_and_a_value_far_from_its_history_and_stores_them(
    govops: Govops, tmp_path: Path
) -> None:
    history = tmp_path / "history.csv"
    lines = ["indicator,area,period,value"]
    lines += [f"ENT_NEW,79,{Period.parse('2024-01') + i},{3000 + (i % 4) * 50}" for i in range(24)]
    history.write_text("\n".join(lines) + "\n")
    assert govops("ingest", str(history)).code == 0

    month = tmp_path / "2026-01.csv"
    month.write_text(
        "indicator,area,period,value\n"
        "ENT_NEW,79,2026-01,3100\n"  # in line with its history
        "ENT_NEW,79,2026-02,310000\n"  # a hundred times the usual
        "ENT_DISSOLVED,79,2026-01,-4\n"  # a count below zero
    )
    result = govops("ingest", str(month))
    assert result.code == 0, result.err
    said = " ".join(result.out.split())  # the terminal wraps long lines
    assert (
        "warning: row 3: value: The value is far from what its series makes expected: between 2,296 and 4,085. "
        "[rule.quality.outlier] (how to fix: Check the figure and "
        "its unit (thousands, millions) against the source document; keep it if it is right.)"
    ) in said
    assert (
        "warning: row 4: value: A negative value, for an indicator that cannot be below zero. "
        "[rule.warehouse.negative_value] (how to fix: Check "
        "the sign of the figure: a count or a flow is zero or more.)"
    ) in said
    assert said.count("warning:") == 2 and "3 rows: 3 new" in said
