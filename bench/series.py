"""Series query time: govops' rule-driven roll-up against a bare SQL GROUP BY of the same data.

    .venv/bin/python bench/series.py [--url sqlite:///var/govops.db] [--repeat 20]

Uses a store with the demo data (`govops demo --no-serve` makes one). The query is the national
quarterly series of exports, summed from the areas' monthly figures. The baseline asks the database
for the monthly sums of each province's own figure or, where it has none, its wards' (the
10-million-observation store of bench/build_store.py holds ward data only), then adds months into
quarters in Python (a month the nation itself reported takes that figure); govops also resolves
pre-2025 units and checks completeness per point. The results must agree on every quarter both
give a value for, and there must be such quarters: an empty comparison is reported as such.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from govops.db.engine import make_engine
from govops.warehouse.series import SeriesQuery, build_series


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="sqlite:///var/govops.db")
    parser.add_argument("--indicator", default="EXPORTS")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.url)
    with Session(engine) as session:

        def ours() -> dict[str, float | None]:
            series = build_series(session=session, query=SeriesQuery.of(args.indicator, ["VN"], freq="Q"))[0]
            return {p.period: p.value for p in series.points}

        def bare() -> dict[str, float]:
            # A province's own figure, or else the sum of its wards' (the 10M store holds ward data only).
            rows = session.execute(
                text(
                    "SELECT o.period, SUM(o.value) FROM observation o "
                    "JOIN indicator i ON i.id = o.indicator_id JOIN area a ON a.id = o.area_id "
                    "WHERE i.code = :code AND o.dim_key = '' AND length(o.period) = 7 AND (a.level = 'province' "
                    "OR (a.level = 'ward' AND NOT EXISTS (SELECT 1 FROM observation p WHERE p.indicator_id = "
                    "o.indicator_id AND p.area_id = a.parent_id AND p.period = o.period AND p.dim_key = ''))) "
                    "GROUP BY o.period"
                ),
                {"code": args.indicator},
            ).all()
            months = dict(rows)
            # A figure reported for the nation itself wins over the sum, as the ministry's official one does.
            months.update(
                session.execute(
                    text(
                        "SELECT o.period, o.value FROM observation o JOIN indicator i ON i.id = o.indicator_id "
                        "JOIN area a ON a.id = o.area_id WHERE i.code = :code AND a.level = 'nation' "
                        "AND o.dim_key = '' AND length(o.period) = 7"
                    ),
                    {"code": args.indicator},
                ).all()
            )
            quarters: dict[str, float] = defaultdict(float)
            for period, total in months.items():
                year, month = period.split("-")
                quarters[f"{year}-Q{(int(month) - 1) // 3 + 1}"] += total
            return dict(quarters)

        base_time, base = timed(bare, args.repeat)
        our_time, mine = timed(ours, args.repeat)
    assert isinstance(base, dict) and isinstance(mine, dict)
    both = [q for q, v in base.items() if mine.get(q) is not None]
    differ = [q for q in both if abs((mine[q] or 0) - base[q]) >= 1e-6 * max(1.0, abs(base[q]))]
    verdict = f"agree on all {len(both)}" if both and not differ else f"DIFFER on {differ[:5]}" if both else "NONE"
    print(
        f"database: {engine.dialect.name}; {args.indicator} national, quarterly, {len(mine)} points; "
        f"quarters both computed: {verdict}"
    )
    print(f"baseline (SQL GROUP BY + months to quarters): median {base_time * 1000:.1f} ms")
    print(f"govops build_series: median {our_time * 1000:.1f} ms")
    print(f"ratio govops / baseline time: {our_time / base_time:.1f}x")


if __name__ == "__main__":
    main()
