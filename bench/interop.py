"""Import speed of every submission format against the JSON path: the same observations, seven bodies, one run.

    .venv/bin/python bench/interop.py [--rows 100000] [--xml-rows N]
                                      [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_interop]

The same N observations (the six stored monthly ENT_* indicators of MOF, which have no breakdown,
at the 34 current provinces, month after month from 1990 so that nothing repeats) are written as
govops JSON (the baseline), govops CSV, SDMX-JSON 1.0, SDMX-CSV 2.0 and SDMX-ML 2.1
structure-specific data (by govops.interop.sdmx.write, read back through a stored SDMX mapping
with the structure message beside it), a DHIS2 data value set (JSON, through a stored DHIS2
mapping of made-up uids) and a filled-in Excel template (govops.interop.excel.template.build_template, filled
with openpyxl). Each body is submitted through `submissions.submit` by the member MOF/bench, which
may write the group ENTERPRISES, into a fresh copy of the store, so that every run creates the N
observations (with their revisions, roll-ups, change events, audit entry and receipt) and commits.
The parse-only time is `readers.read_body` alone, on the same body, before the submission. A
small JSON submission into a store of its own goes first and is not counted (first-use costs).

The store is a SQLite file in a temporary folder, copied for each format; with --url, the schema
`public` of that PostgreSQL database is dropped and built again for each format.
"""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openpyxl import load_workbook
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.exchange import service, submissions
from govops.interop import readers
from govops.interop.dhis2.mapping import load_mapping
from govops.interop.dhis2.write import ExportValue, write_data_value_set
from govops.interop.excel.template import TemplateArea, build_template
from govops.interop.mapping.service import get_mapping, save_mapping
from govops.interop.sdmx import write as sdmx_write
from govops.interop.templates import template_indicator
from govops.logging import configure_logging

INDICATORS = (
    "ENT_NEW",
    "ENT_NEW_CAPITAL",
    "ENT_RESUMED",
    "ENT_SUSPENDED",
    "ENT_AWAITING_DISSOLUTION",
    "ENT_DISSOLVED",
)
AGENCY, SYSTEM, GROUP = "MOF", "bench", "ENTERPRISES"
SDMX_MAPPING, DHIS2_MAPPING = "bench-sdmx", "bench-dhis2"
FIRST_YEAR = 1990


@dataclass(frozen=True)
class Obs:
    indicator: str
    area: str
    period: str
    value: float


@dataclass(frozen=True)
class Body:
    name: str
    body: bytes
    content_type: str
    mapping: str | None
    rows: int  # observations in it
    made_in: float  # seconds to write it
    note: str = ""


@dataclass(frozen=True)
class Catalogue:
    """What the writers need of the catalogue: the indicators and the provinces, with names."""

    indicators: list[Indicator]
    provinces: list[tuple[str, str]]  # (code, name_vi)


# -- the store ---------------------------------------------------------------------------------------


def build_store(url: str) -> None:
    """A new store at `url`: schema, reference data, the member MOF/bench and both mappings."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        with transaction(engine) as session:
            load_reference(session=session)
            member = service.create_member(session=session, agency=AGENCY, system=SYSTEM, name="interop bench")
            service.grant(session=session, member=member, group=GROUP, read=True, write=True)
            service.issue_key(session=session, member=member)
            cat = catalogue(session)
            save_mapping(
                session=session,
                name=SDMX_MAPPING,
                kind="sdmx",
                text=sdmx_mapping_text(),
                structure=sdmx_write.structure_message(
                    catalogue=sdmx_write.ExportCatalogue((export_flow(cat),)), prepared=datetime.now(UTC)
                ).decode(),
                by="bench",
            )
            save_mapping(session=session, name=DHIS2_MAPPING, kind="dhis2", text=dhis2_mapping_text(cat), by="bench")
    finally:
        engine.dispose()


def catalogue(session: Session) -> Catalogue:
    found = {i.code: i for i in session.scalars(select(Indicator).where(Indicator.code.in_(INDICATORS)))}
    for code in INDICATORS:
        ind = found[code]
        assert ind.periodicity == "M" and ind.formula is None and not ind.dimensions, code
    provinces = session.execute(
        select(Area.code, Area.name_vi).where(Area.level == "province", Area.valid_to.is_(None)).order_by(Area.code)
    ).all()
    assert len(provinces) == 34, len(provinces)
    return Catalogue([found[c] for c in INDICATORS], [(code, name) for code, name in provinces])


def copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


# -- the observations and their bodies ----------------------------------------------------------------


def observations(n: int, provinces: Sequence[str]) -> list[Obs]:
    """n observations: month after month from January 1990, each indicator at every province."""
    out: list[Obs] = []
    month = 0
    while len(out) < n:
        period = f"{FIRST_YEAR + month // 12}-{month % 12 + 1:02d}"
        for ind in INDICATORS:
            for area in provinces:
                if len(out) == n:
                    return out
                out.append(Obs(ind, area, period, float(1 + (len(out) * 7919) % 100_003)))
        month += 1
    return out


def timed(make: Callable[[], bytes]) -> tuple[bytes, float]:
    started = time.perf_counter()
    body = make()
    return body, time.perf_counter() - started


def json_body(data: Sequence[Obs]) -> bytes:
    rows = [{"indicator": o.indicator, "area": o.area, "period": o.period, "value": o.value} for o in data]
    return json.dumps({"observations": rows}, separators=(",", ":")).encode()


def csv_body(data: Sequence[Obs]) -> bytes:
    lines = ["indicator,area,period,value"]
    lines += [f"{o.indicator},{o.area},{o.period},{o.value!r}" for o in data]
    return ("\r\n".join(lines) + "\r\n").encode()


def export_flow(cat: Catalogue) -> sdmx_write.ExportFlow:
    units = {i.unit.code: i.unit for i in cat.indicators}
    return sdmx_write.ExportFlow(
        id=GROUP,
        name_vi="Doanh nghiệp",
        name_en="Enterprises",
        indicators=tuple(sdmx_write.ExportCode(i.code, i.name_vi, i.name_en) for i in cat.indicators),
        areas=tuple(sdmx_write.ExportCode(code, name, name) for code, name in cat.provinces),
        units=tuple(sdmx_write.ExportCode(u.code, u.name_vi, u.name_en) for u in units.values()),
    )


def export_series(cat: Catalogue, data: Sequence[Obs]) -> list[sdmx_write.ExportSeries]:
    by_key: dict[tuple[str, str], list[tuple[str, float | None, str | None]]] = {}
    for o in data:
        by_key.setdefault((o.indicator, o.area), []).append((o.period, o.value, None))
    info = {i.code: i for i in cat.indicators}
    return [
        sdmx_write.ExportSeries(
            indicator=ind,
            area=area,
            dims={},
            freq="M",
            unit=info[ind].unit.code,
            decimals=info[ind].decimals,
            observations=obs,
        )
        for (ind, area), obs in by_key.items()
    ]


def sdmx_mapping_text() -> str:
    rules = "".join(
        f"  - match: {{INDICATOR: {code}}}\n    indicator: {code}\n    area_from: REF_AREA\n" for code in INDICATORS
    )
    return f"dataflow: {GROUP}\nseries:\n{rules}"


def _uid(prefix: str, n: int) -> str:
    return f"{prefix}{n:09d}"  # DHIS2 uids are 11 letters and digits, starting with a letter


def dhis2_mapping_text(cat: Catalogue) -> str:
    org_units = "".join(f'  {_uid("ou", n)}: "{code}"\n' for n, (code, _name) in enumerate(cat.provinces))
    elements = "".join(f"  {_uid('de', n)}: {{indicator: {code}}}\n" for n, code in enumerate(INDICATORS))
    return f"org_units:\n{org_units}data_elements:\n{elements}"


def dhis2_body(cat: Catalogue, data: Sequence[Obs]) -> bytes:
    mapping = load_mapping(dhis2_mapping_text(cat))
    rows = [ExportValue(indicator=o.indicator, area=o.area, period=o.period, value=o.value) for o in data]
    return write_data_value_set(rows=rows, mapping=mapping, data_set=_uid("ds", 1))


def template_periods(data: Sequence[Obs]) -> dict[str, list[str]]:
    periods: dict[str, list[str]] = {code: [] for code in INDICATORS}
    for o in data:
        own = periods[o.indicator]
        if not own or own[-1] != o.period:
            own.append(o.period)
    return periods


def workbook_body(cat: Catalogue, data: Sequence[Obs]) -> tuple[bytes, int, float, float]:
    """The template filled in with `data`; its value cells; seconds to build it and to fill it."""
    periods = template_periods(data)
    started = time.perf_counter()
    template = build_template(
        title="Doanh nghiệp",
        agency="MOF · Bộ Tài chính",
        indicators=[template_indicator(i) for i in cat.indicators if periods[i.code]],
        areas=[TemplateArea(code, name) for code, name in cat.provinces],
        periods={code: own for code, own in periods.items() if own},
        lang="vi",
    )
    built = time.perf_counter() - started
    started = time.perf_counter()
    book = load_workbook(io.BytesIO(template))
    values = {(o.indicator, o.area, o.period): o.value for o in data}
    cells = 0
    for code, own in periods.items():
        if not own:
            continue
        sheet = book[code]
        # The header row is the one whose cells after the area code and name are the periods.
        header_row = next(r for r in range(1, 20) if sheet.cell(row=r, column=3).value == own[0])
        columns = {str(sheet.cell(row=header_row, column=c).value): c for c in range(3, 3 + len(own))}
        assert list(columns) == own, code
        row = header_row + 1
        while (area := sheet.cell(row=row, column=1).value) is not None:
            for period, col in columns.items():
                cells += 1
                value = values.get((code, str(area), period))
                if value is not None:
                    sheet.cell(row=row, column=col, value=value)
            row += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), cells, built, time.perf_counter() - started


def bodies(cat: Catalogue, data: list[Obs], xml_rows: int) -> list[Body]:
    n = len(data)
    series = export_series(cat, data)
    flow = export_flow(cat)
    now = datetime.now(UTC)
    made: list[Body] = []
    b, t = timed(lambda: json_body(data))
    made.append(Body("govops JSON", b, "application/json", None, n, t))
    b, t = timed(lambda: csv_body(data))
    made.append(Body("govops CSV", b, "text/csv", None, n, t))
    b, t = timed(lambda: sdmx_write.data_json(flow=flow, series=series, prepared=now))
    made.append(Body("SDMX-JSON 1.0", b, "application/vnd.sdmx.data+json", SDMX_MAPPING, n, t))
    b, t = timed(lambda: sdmx_write.data_csv(flow=flow, series=series))
    made.append(Body("SDMX-CSV 2.0", b, "application/vnd.sdmx.data+csv", SDMX_MAPPING, n, t))
    xml_data = data[:xml_rows]
    xml_series = series if len(xml_data) == n else export_series(cat, xml_data)
    b, t = timed(lambda: sdmx_write.data_xml(flow=flow, series=xml_series, prepared=now))
    note = "" if len(xml_data) == n else f"only the first {len(xml_data):,} observations (--xml-rows)"
    made.append(
        Body("SDMX-ML 2.1 (struct.-specific)", b, "application/vnd.sdmx.structurespecificdata+xml",
             SDMX_MAPPING, len(xml_data), t, note)
    )  # fmt: skip
    b, t = timed(lambda: dhis2_body(cat, data))
    made.append(Body("DHIS2 data value set JSON", b, "application/json", DHIS2_MAPPING, n, t))
    b, cells, built, filled = workbook_body(cat, data)
    note = (
        f"{cells:,} value cells, {n:,} filled; template built in {built:.1f} s, filled with openpyxl in {filled:.1f} s"
    )
    made.append(Body("Excel template (.xlsx)", b, readers.XLSX, None, n, built + filled, note))
    return made


# -- one run -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    body: Body
    parse: float
    submit: float


def run(engine: Engine, item: Body, server_key: Ed25519PrivateKey) -> Result:
    fmt = readers.format_of(item.content_type)
    with Session(engine) as session:
        mapping = get_mapping(session=session, name=item.mapping) if item.mapping else None
        started = time.perf_counter()
        parsed = readers.read_body(item.body, fmt=fmt, mapping=mapping, where="bench")
        parse = time.perf_counter() - started
    bad = [row for _n, row in parsed if not isinstance(row, dict)]
    assert len(parsed) == item.rows and not bad, (item.name, len(parsed), bad[:3])
    del parsed
    started = time.perf_counter()
    with transaction(engine) as session:
        member = service.get_member(session=session, code=f"{AGENCY}/{SYSTEM}")
        submission, replayed = submissions.submit(
            session=session,
            member=member,
            incoming=submissions.Incoming(
                body=item.body,
                content_type=item.content_type,
                idempotency_key=uuid.uuid4().hex,
                signature=None,
                mapping=item.mapping,
                file_name="bench.xlsx" if fmt == "xlsx" else None,
            ),
            server_key=server_key,
            max_rows=max(item.rows, 1),
        )
        status, created, problems = submission.status, submission.created, submission.problems
    elapsed = time.perf_counter() - started
    if replayed or status != "accepted" or created != item.rows:
        raise SystemExit(
            f"{item.name}: {status}, {created} created of {item.rows}; problems: {json.loads(problems)[:3]}"
        )
    return Result(item, parse, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xml-rows", type=int, default=None, help="observations in the SDMX-ML body (default: all)")
    parser.add_argument("--url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    configure_logging(level="warning")
    if args.url and any(args.url.rstrip("/").endswith("/" + db) for db in ("test", "test_main", "test_sdmx", "bench")):
        raise SystemExit("that database belongs to the tests or to other benches; use e.g. .../bench_interop")
    server_key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.db"
        base_url = args.url or f"sqlite:///{base}"
        started = time.perf_counter()
        build_store(base_url)
        setup = time.perf_counter() - started
        engine = make_engine(base_url)
        with Session(engine) as session:
            cat = catalogue(session)
        engine.dispose()
        data = observations(args.rows, [code for code, _name in cat.provinces])
        made = bodies(cat, data, args.xml_rows if args.xml_rows is not None else len(data))
        # A small JSON submission first, into a store of its own, so that what any first submission pays
        # (lazy imports, first queries) is not counted against the baseline.
        warm = data[: len(INDICATORS) * 34]
        warm_up = Body("warm-up", json_body(warm), "application/json", None, len(warm), 0.0)
        results: list[Result] = []
        for number, item in enumerate([warm_up, *made]):
            if args.url:
                build_store(args.url)
                url = args.url
            else:
                copy = Path(folder) / f"run{number}.db"
                copy_sqlite(base, copy)
                url = f"sqlite:///{copy}"
            engine = make_engine(url)
            try:
                result = run(engine, item, server_key)
            finally:
                engine.dispose()
            if not args.url:
                for leftover in Path(folder).glob(f"run{number}.db*"):
                    leftover.unlink()
            if item is not warm_up:
                results.append(result)
                print(f"  ... {item.name}: {result.submit:.1f} s", flush=True)
    report(engine.dialect.name, len(data), setup, results)


def report(dialect: str, n: int, setup: float, results: list[Result]) -> None:
    base = results[0]
    base_rate = base.body.rows / base.submit
    print(f"\ndatabase: {dialect}; {n:,} observations of {len(INDICATORS)} indicators x 34 provinces x months")
    again = "built again" if dialect == "postgresql" else "copied"
    print(f"fresh store (schema, reference data, member, mappings): {setup:.1f} s, {again} for every format")
    head = (
        f"{'format':<31} {'bytes':>11} {'rows':>8} {'made s':>7} {'parse s':>8} {'submit s':>9} "
        f"{'rows/s':>8} {'parse %':>8} {'x JSON':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        rows = r.body.rows
        # Against the JSON path's time for the same number of rows (SDMX-ML may carry fewer).
        ratio = r.submit / (rows / base_rate)
        print(
            f"{r.body.name:<31} {len(r.body.body):>11,} {rows:>8,} {r.body.made_in:>7.2f} {r.parse:>8.2f} "
            f"{r.submit:>9.2f} {rows / r.submit:>8,.0f} {100 * r.parse / r.submit:>7.0f}% {ratio:>6.2f}x"
        )
    for r in results:
        if r.body.note:
            print(f"  {r.body.name}: {r.body.note}")
    print(
        "made s: writing the body (not timed against anything); parse s: readers.read_body alone; "
        "submit s: submissions.submit and the commit, parse included; x JSON: submit time over the JSON "
        "baseline's for as many rows"
    )
    book = results[-1]
    print(f"a {book.body.rows:,}-cell workbook imports in {book.submit:.1f} s (parsing it: {book.parse:.1f} s)")


if __name__ == "__main__":
    main()
