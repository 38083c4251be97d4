"""SDMX import on the ECB and OECD messages of the sdmx1 test corpus (shared/data/sdmx).

What the files hold (read once with lxml and json to write these tests):
- ``ECB_EXR/1/M.USD.EUR.SP00.A.xml``: generic, one series M.USD.EUR.SP00.A, 252 monthly values 1999-01..2019-12,
  DSD ECB:ECB_EXR1(1.0) in ``1/structure-full.xml`` (with the dataflow EXR).
- ``ECB_EXR/ng-ts.xml``, ``ng-xs.xml``, ``ng-flat.xml``: generic, DSD ECB:ECB_EXR_NG(1.0) (``ng-structure-full.xml``),
  4 series M.{CHF,GBP,JPY,USD}.EUR.SP00.E x 2010-08..2010-10 = 12 observations in each layout.
- ``ECB_EXR/ts.json``, ``xs.json``, ``flat.json``: SDMX-JSON, dataflow ECB/EXR, 2 series D.{NZD,RUB}.EUR.SP00.A x
  2013-01-18, 2013-01-21 = 4 observations in each layout (not the same data as the XML files).
- ``OECD/data-PART2-all-all.json``: SDMX-JSON, dataflow PART2, 7 observations, no time dimension.
The corpus has no structure-specific message, so the tests make them (and SDMX-CSV) from the generic ones.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import sdmx
import sdmx.model.v21
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from govops.errors import GovopsError, Problem
from govops.interop.sdmx.read import SdmxMapping, detect, load_mapping, read_sdmx
from govops.interop.tally import Tally
from govops.warehouse.formats import Row
from tests.conftest import shared_file

GEN = "{http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic}"
MES = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
SS_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

NG_KEY = ("FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_VAR")
NG_MAPPING = """
dataflow: ECB_EXR_NG
series:
  - match: {FREQ: M, CURRENCY_DENOM: EUR}
    indicator: FX_RATE
    area: VN
    dims_from: {FREQ: FREQ, CURRENCY: CURRENCY, CURRENCY_DENOM: CURRENCY_DENOM, EXR_TYPE: EXR_TYPE, EXR_VAR: EXR_VAR}
    status_from: OBS_STATUS
    unit_from: UNIT_MEASURE
"""


def ecb(*parts: str) -> bytes:
    return shared_file("sdmx", "ECB_EXR", *parts).read_bytes()


def oecd() -> bytes:
    return shared_file("sdmx", "OECD", "data-PART2-all-all.json").read_bytes()


def rows_of(result: list[Row]) -> list[dict[str, Any]]:
    out = [item for _, item in result if isinstance(item, dict)]
    assert len(out) == len(result), [item for _, item in result if isinstance(item, Problem)]
    return out


def problems_of(result: list[Row]) -> list[Problem]:
    return [item for _, item in result if isinstance(item, Problem)]


def triples(result: list[Row], key: tuple[str, ...]) -> set[tuple[str, str, float, str | None, str | None]]:
    """(series key, period, value, status, unit) of every row; the mapping copies the key into dims."""
    return {
        (".".join(row["dims"][d] for d in key), row["period"], row["value"], row.get("status"), row.get("unit"))
        for row in rows_of(result)
    }


# -- messages made from the corpus ------------------------------------------------------------------


def structure_specific(generic: bytes) -> bytes:
    """The same data as a structure-specific message: keys, values and attributes become XML attributes."""
    root = etree.fromstring(generic)
    kind = "StructureSpecificTimeSeriesData" if etree.QName(root).localname.endswith("TimeSeriesData") else None
    out = etree.Element(f"{{{MES}}}{kind or 'StructureSpecificData'}", nsmap={"message": MES, "ss": SS_NS, "xsi": XSI})
    header, data = root[0], root[1]
    out.append(header)  # with its structure reference and dimensionAtObservation
    dim_at_obs = out[0].find(f"{{{MES}}}Structure").get("dimensionAtObservation")
    dataset = etree.SubElement(out, f"{{{MES}}}DataSet", {f"{{{SS_NS}}}structureRef": "STR1"})

    def values(parent: etree._Element | None, tag: str) -> dict[str, str]:
        found = None if parent is None else parent.find(f"{GEN}{tag}")
        return {} if found is None else {v.get("id"): v.get("value") for v in found}

    def obs(element: etree._Element) -> dict[str, str]:
        attrs = {**values(element, "ObsKey"), **values(element, "Attributes")}
        dim = element.find(f"{GEN}ObsDimension")
        if dim is not None:
            attrs[dim.get("id") or dim_at_obs] = dim.get("value")
        attrs["OBS_VALUE"] = element.find(f"{GEN}ObsValue").get("value")
        return attrs

    for child in data:
        if etree.QName(child).localname == "Series":
            series = etree.SubElement(dataset, "Series", {**values(child, "SeriesKey"), **values(child, "Attributes")})
            for o in child.findall(f"{GEN}Obs"):
                etree.SubElement(series, "Obs", obs(o))
        else:
            etree.SubElement(dataset, "Obs", obs(child))
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def sdmx_csv(generic_flat: bytes, *, labels: bool = False) -> bytes:
    """SDMX-CSV 1.0 of a generic flat message (one observation a line); labels=both when asked."""
    root = etree.fromstring(generic_flat)
    head = ["DATAFLOW", *NG_KEY, "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "UNIT_MEASURE"]
    lines = [",".join(f"{h}: {h.title()}" if labels and h != "DATAFLOW" else h for h in head)]
    for o in root[1]:
        key = {v.get("id"): v.get("value") for v in o.find(f"{GEN}ObsKey")}
        attrs = {v.get("id"): v.get("value") for v in o.find(f"{GEN}Attributes")}
        cells = [key[d] for d in NG_KEY]
        if labels:
            cells = [f"{c}: label of {c}" for c in cells]
        value = o.find(f"{GEN}ObsValue").get("value")
        lines.append(
            ",".join(
                ["ECB:ECB_EXR_NG(1.0)", *cells, key["TIME_PERIOD"], value, attrs["OBS_STATUS"], attrs["UNIT_MEASURE"]]
            )
        )
    return ("\n".join(lines) + "\n").encode()


def sdmx1_csv(generic: bytes, *, labels: str = "id") -> bytes:
    """SDMX-CSV 2.0 of an ECB message as sdmx1 writes it (TIME_PERIOD first, then the key, every attribute)."""
    dsd = sdmx.read_sdmx(io.BytesIO(ecb("ng-structure-full.xml"))).structure["ECB_EXR_NG"]
    [dataset] = sdmx.read_sdmx(io.BytesIO(generic), structure=dsd).data
    dataset.described_by = sdmx.model.v21.DataflowDefinition(
        id="ECB_EXR_NG", maintainer=dsd.maintainer, version="1.0", structure=dsd
    )
    # With rtype=str sdmx1 2.28 gives the frame as a table to print, so the frame is written here.
    frame = sdmx.to_csv(dataset, rtype=pd.DataFrame, attributes="dsgo", labels=labels)
    return frame.to_csv(index=False).encode()


def csv_message(*lines: str) -> bytes:
    head = "DATAFLOW,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS"
    return "\n".join([head, *lines]).encode()


EXR_MAPPING = load_mapping(
    """
dataflow: EXR
series:
  - key: M.USD.EUR.SP00.A
    indicator: FX_USD_EUR
    area: VN
    status_from: OBS_STATUS
"""
)


# -- detection ----------------------------------------------------------------------------------


def test_detect_tells_the_three_forms_and_refuses_other_documents() -> None:
    for name in ("ng-ts.xml", "ng-xs.xml", "ng-flat.xml", "ng-structure-full.xml"):
        assert detect(ecb(name)) == "sdmx-ml"
    assert detect(structure_specific(ecb("ng-ts.xml"))) == "sdmx-ml"
    for name in ("ts.json", "xs.json", "flat.json"):
        assert detect(ecb(name)) == "sdmx-json"
    assert detect(oecd()) == "sdmx-json"
    assert detect(sdmx_csv(ecb("ng-flat.xml"))) == "sdmx-csv"
    assert detect(sdmx1_csv(ecb("ng-ts.xml"))) == "sdmx-csv"
    assert detect(b"indicator,area,period,value\nCPI,79,2025-07,101.2\n") is None
    assert detect(b'{"observations": [{"indicator": "CPI"}]}') is None
    assert detect(b"<html><body>not found</body></html>") is None
    assert detect(b"") is None


# -- the monthly USD series: 252 exact values -----------------------------------------------------


def xml_values(body: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(body)
    return [
        (o.find(f"{GEN}ObsDimension").get("value"), o.find(f"{GEN}ObsValue").get("value"))
        for o in root.iter(f"{GEN}Obs")
    ]


def test_monthly_usd_series_gives_252_exact_rows_in_order() -> None:
    body = ecb("1", "M.USD.EUR.SP00.A.xml")
    result = read_sdmx(
        body, mapping=EXR_MAPPING, structures=[ecb("1", "structure-full.xml")], where="usd.xml", with_places=True
    )
    rows = rows_of(result)
    assert len(rows) == 252
    assert [n for n, _ in result] == list(range(1, 253))
    months = [f"{y}-{m:02d}" for y in range(1999, 2020) for m in range(1, 13)]
    assert [r["period"] for r in rows] == months
    expected = xml_values(body)
    assert [p for p, _ in expected] == months
    assert [r["value"] for r in rows] == [float(v) for _, v in expected]
    # As written in the XML text.
    assert rows[0]["value"] == 1.16078
    assert rows[73]["period"] == "2005-02" and rows[73]["value"] == float(expected[73][1])
    by_period = {r["period"]: r["value"] for r in rows}
    assert by_period["2015-03"] == 1.083768181818182
    assert by_period["2016-01"] == 1.085965
    assert by_period["2019-01"] == 1.141640909090909
    assert rows[-1]["value"] == 1.111345
    assert rows[0] == {
        "indicator": "FX_USD_EUR",
        "area": "VN",
        "period": "1999-01",
        "value": 1.16078,
        "dims": {},
        "status": "final",
        # Where the observation is, for the problems the catalogue check may find with it.
        "_where": "series M.USD.EUR.SP00.A, period 1999-01",
    }


def test_monthly_usd_series_reads_without_its_structure_under_its_dsd_id() -> None:
    mapping = EXR_MAPPING.model_copy(update={"dataflow": "ECB_EXR1"})
    rows = rows_of(read_sdmx(ecb("1", "M.USD.EUR.SP00.A.xml"), mapping=mapping))
    assert len(rows) == 252 and rows[0]["value"] == 1.16078 and rows[-1]["period"] == "2019-12"


# -- the same data in every layout ----------------------------------------------------------------

NG_EXPECTED = {
    (f"M.{cur}.EUR.SP00.E", period, value, "final", cur)
    for cur, values in {
        "CHF": (1.3413, 1.3089, 1.3452),
        "GBP": (0.82363, 0.83987, 0.87637),
        "JPY": (110.04, 110.26, 113.67),
        "USD": (1.2894, 1.3067, 1.3898),
    }.items()
    for period, value in zip(("2010-08", "2010-09", "2010-10"), values, strict=True)
}


@pytest.mark.parametrize(
    ("name", "make", "with_structure"),
    [
        ("ng-ts.xml", None, False),
        ("ng-ts.xml", None, True),
        ("ng-xs.xml", None, False),
        ("ng-xs.xml", None, True),
        ("ng-flat.xml", None, False),
        ("ng-flat.xml", None, True),
        ("ng-ts.xml", structure_specific, True),
        ("ng-xs.xml", structure_specific, True),
        ("ng-flat.xml", structure_specific, True),
        ("ng-flat.xml", sdmx_csv, False),
        ("ng-flat.xml", lambda body: sdmx_csv(body, labels=True), False),
        ("ng-ts.xml", sdmx1_csv, False),
        ("ng-xs.xml", lambda body: sdmx1_csv(body, labels="both"), False),
    ],
)
def test_every_layout_of_the_ecb_messages_gives_the_same_observations(
    name: str, make: Callable[[bytes], bytes] | None, with_structure: bool
) -> None:
    body = ecb(name) if make is None else make(ecb(name))
    if make is structure_specific:
        assert etree.QName(etree.fromstring(body)).localname.startswith("StructureSpecific")
        assert b"/data/generic" not in body
    structures = [ecb("ng-structure-full.xml")] if with_structure else []
    result = read_sdmx(body, mapping=load_mapping(NG_MAPPING), structures=structures)
    assert len(result) == 12
    assert triples(result, NG_KEY) == NG_EXPECTED


@pytest.mark.parametrize("make", [lambda b: b, structure_specific])
def test_series_keys_follow_the_dsd_order_in_a_cross_section(make: Callable[[bytes], bytes]) -> None:
    # The cross-section puts CURRENCY at the observation; its DSD puts it second in the key.
    mapping = load_mapping(
        "dataflow: ECB_EXR_NG\nseries:\n  - key: M.USD.EUR.SP00.E\n    indicator: FX\n    area: VN\n"
    )
    result = read_sdmx(make(ecb("ng-xs.xml")), mapping=mapping, structures=[ecb("ng-structure-full.xml")])
    assert [item["value"] for _, item in result if isinstance(item, dict)] == [1.2894, 1.3067, 1.3898]
    assert sorted(p.message for p in problems_of(result)) == [
        f"series M.{cur}.EUR.SP00.E matches no rule of the mapping" for cur in ("CHF", "GBP", "JPY")
    ]


JSON_MAPPING = """
dataflow: EXR
series:
  - match: {FREQ: D, CURRENCY: [NZD, RUB]}
    indicator: FX_RATE
    area: VN
    dims_from:
      {FREQ: FREQ, CURRENCY: CURRENCY, CURRENCY_DENOM: CURRENCY_DENOM, EXR_TYPE: EXR_TYPE, EXR_SUFFIX: EXR_SUFFIX}
    status_from: OBS_STATUS
    unit_from: TITLE
    unit_codes: {"New Zealand dollar (NZD)": NZD, "Russian rouble (RUB)": RUB}
"""
JSON_KEY = ("FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX")


def sdmx1_triples(body: bytes) -> set[tuple[str, str, float]]:
    """(series key, period, value) as the sdmx1 library reads the message, to check the reader against."""
    message = sdmx.read_sdmx(io.BytesIO(body))
    out = set()
    for o in message.data[0].obs:
        key = {kv.id: str(kv.value) for kv in o.key.values.values()}
        out.add((".".join(key[d] for d in JSON_KEY), key["TIME_PERIOD"], float(o.value)))
    return out


@pytest.mark.parametrize("name", ["ts.json", "xs.json", "flat.json"])
def test_every_layout_of_the_json_messages_gives_the_same_observations(name: str) -> None:
    result = read_sdmx(ecb(name), mapping=load_mapping(JSON_MAPPING))
    expected = {
        ("D.NZD.EUR.SP00.A", "2013-01-18", 1.5931, "final", "NZD"),
        ("D.NZD.EUR.SP00.A", "2013-01-21", 1.5925, "final", "NZD"),
        ("D.RUB.EUR.SP00.A", "2013-01-18", 40.3426, "final", "RUB"),
        ("D.RUB.EUR.SP00.A", "2013-01-21", 40.3, "final", "RUB"),
    }
    assert triples(result, JSON_KEY) == expected
    assert {t[:3] for t in expected} == sdmx1_triples(ecb(name))
    assert [n for n, _ in result] == [1, 2, 3, 4]


def test_oecd_json_without_time_dimension_reads_its_7_observations() -> None:
    mapping = load_mapping(
        """
dataflow: PART2
series:
  - match: {MSR: [MN, SE, IND]}
    indicator: TALIS_INNOVATION
    area_from: LOCATION
    period: 2018
    dims_from: {IND: IND, PER: PER}
"""
    )
    result = read_sdmx(oecd(), mapping=mapping, where="PART2.json")
    rows = rows_of(result)
    assert len(rows) == 7
    doc = json.loads(oecd())
    values = [cells[0] for cells in doc["dataSets"][0]["observations"].values()]
    assert [r["value"] for r in rows] == values
    assert rows[0]["value"] == 11.963615756565 and rows[-1]["value"] == 22.0969285714286
    assert [r["area"] for r in rows] == ["AUS", "HUN", "HUN", "NZL", "NZL", "NOR", "OME"]
    assert {r["period"] for r in rows} == {"2018"}
    assert rows[1]["dims"] == {"IND": "5CLAT", "PER": "CHG"}


def test_oecd_status_codes_outside_the_default_table_are_problems_until_mapped() -> None:
    base = (
        "dataflow: PART2\nseries:\n"
        "  - indicator: T\n    area_from: LOCATION\n    period: 2018\n    status_from: OBS_STATUS\n"
    )
    problems = problems_of(read_sdmx(oecd(), mapping=load_mapping(base)))
    assert [(p.row, p.value) for p in problems] == [(2, "x"), (4, "w"), (6, "y")]
    assert problems[0].message == "OBS_STATUS 'x' has no govops status"
    assert "status_codes" in (problems[0].hint or "")
    mapped = load_mapping(base + "status_codes: {x: estimated, w: provisional, y: final}\n")
    rows = rows_of(read_sdmx(oecd(), mapping=mapped))
    assert [r.get("status") for r in rows] == [None, "estimated", None, "provisional", None, "final", None]


# -- mapping features ---------------------------------------------------------------------------


def test_first_matching_rule_wins_and_area_codes_translate() -> None:
    mapping = load_mapping(
        """
dataflow: ECB_EXR_NG
series:
  - key: M.USD+JPY.EUR..
    indicator: FX_MAJOR
    area_from: CURRENCY
    area_codes: {USD: US, JPY: JP}
  - match: {}
    indicator: FX_OTHER
    area: VN
    scale: 0.5
"""
    )
    rows = rows_of(read_sdmx(ecb("ng-ts.xml"), mapping=mapping))
    assert [(r["indicator"], r["area"]) for r in rows[::3]] == [
        ("FX_OTHER", "VN"),
        ("FX_OTHER", "VN"),
        ("FX_MAJOR", "JP"),
        ("FX_MAJOR", "US"),
    ]
    assert rows[0]["value"] == 1.3413 * 0.5


def test_translated_codes_and_unit_multiplier() -> None:
    mapping = load_mapping(
        """
dataflow: POP
series:
  - match: {FREQ: A}
    indicator: POPULATION
    area_from: REF_AREA
    area_codes: {704: VN}
    dims_from:
      SEX: {from: SEX, codes: {M: MALE, F: FEMALE}}
    scale_from: UNIT_MULT
    unit: PERSON
"""
    )
    body = (
        b"DATAFLOW,FREQ,REF_AREA,SEX,TIME_PERIOD,OBS_VALUE,UNIT_MULT\n"
        b"UN:POP(1.0),A,704,M,2019-A1,48.5,6\n"
        b"UN:POP(1.0),A,704,X,2019,48.9,6\n"
        b"UN:POP(1.0),A,418,F,2019,3.6,6\n"
    )
    result = read_sdmx(body, mapping=mapping)
    assert result[0] == (
        1,
        {
            "indicator": "POPULATION",
            "area": "VN",
            "period": "2019",
            "value": 48.5e6,
            "dims": {"SEX": "MALE"},
            "unit": "PERSON",
        },
    )
    assert [(n, p.field, p.message) for n, p in result[1:]] == [
        (2, "dims.SEX", "SEX 'X' is not in the codes of dims_from SEX"),
        (3, "area", "REF_AREA '418' is not in area_codes"),
    ]


def test_unmatched_series_is_one_problem_naming_its_key_unless_skipped() -> None:
    text = "dataflow: ECB_EXR_NG\nseries:\n  - match: {CURRENCY: USD}\n    indicator: FX\n    area: VN\n"
    result = read_sdmx(ecb("ng-ts.xml"), mapping=load_mapping(text), where="ng-ts.xml")
    problems = problems_of(result)
    assert [p.message for p in problems] == [
        f"series M.{c}.EUR.SP00.E matches no rule of the mapping" for c in ("CHF", "GBP", "JPY")
    ]
    assert problems[2].row == 7 and problems[2].where == "series M.JPY.EUR.SP00.E"
    assert "unmatched: skip" in (problems[0].hint or "")
    skipped = read_sdmx(ecb("ng-ts.xml"), mapping=load_mapping(text + "unmatched: skip\n"), tally=(tally := Tally()))
    assert [(n, r["period"]) for n, r in skipped] == [(10, "2010-08"), (11, "2010-09"), (12, "2010-10")]
    assert (tally.values, tally.skipped, tally.unreported) == (12, 9, 0)
    read_sdmx(ecb("ng-ts.xml"), mapping=load_mapping(text), tally=(reported := Tally()))
    # One problem per unmatched series; its other two observations are rejected with it.
    assert (reported.values, reported.skipped, reported.unreported) == (12, 0, 6)


def test_value_problems_and_missing_values() -> None:
    body = csv_message(
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-01,1.1416,A",
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-02,,A",
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-03,NaN,A",
        'ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-04,"1,5",A',
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-05,1.1185,Z",
    )
    result = read_sdmx(body, mapping=EXR_MAPPING, where="exr.csv")
    assert rows_of(result[:1])[0] == {
        "indicator": "FX_USD_EUR",
        "area": "VN",
        "period": "2019-01",
        "value": 1.1416,
        "dims": {},
        "status": "final",
    }
    problems = problems_of(result)
    assert [(p.row, p.field, p.message) for p in problems] == [
        (2, "value", "the observation has no value"),
        (3, "value", "the observation has no value"),
        (4, "value", "the value '1,5' is not a number"),
        (5, "status", "OBS_STATUS 'Z' has no govops status"),
    ]
    assert problems[0].where == "series M.USD.EUR.SP00.A, period 2019-02, line 3"
    tally = Tally()
    skipped = read_sdmx(body, mapping=EXR_MAPPING.model_copy(update={"missing": "skip"}), tally=tally)
    assert [n for n, item in skipped if isinstance(item, dict)] == [1]
    assert [n for n, item in skipped if isinstance(item, Problem)] == [4, 5]
    # Two of the five observations have no value and are left out: the receipt counts them.
    assert (tally.values, tally.skipped, tally.received) == (5, 2, 3)


def test_unknown_period_form_is_a_problem_naming_series_and_period() -> None:
    body = csv_message(
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-T2,1.1,A",
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-13,1.2,A",
        "ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-M02,1.3,A",
    )
    result = read_sdmx(body, mapping=EXR_MAPPING)
    problems = problems_of(result)
    assert [(p.row, p.where, p.value) for p in problems] == [
        (1, "series M.USD.EUR.SP00.A, period 2019-T2, line 2", "2019-T2"),
        (2, "series M.USD.EUR.SP00.A, period 2019-13, line 3", "2019-13"),
    ]
    assert problems[0].message == "SDMX period '2019-T2' has no govops period: '2019-T2' is not a valid period"
    assert [item["period"] for _, item in result if isinstance(item, dict)] == ["2019-02"]


# -- errors that stop the whole message ------------------------------------------------------------


def test_malformed_xml_names_the_line() -> None:
    body = ecb("ng-ts.xml")[:2000]
    with pytest.raises(GovopsError) as caught:
        read_sdmx(body, mapping=load_mapping(NG_MAPPING), where="ng-ts.xml")
    assert caught.value.code == "unparseable"
    assert caught.value.message.startswith("not well-formed XML")
    assert caught.value.where is not None and caught.value.where.startswith("ng-ts.xml, line ")


def test_malformed_json_names_line_and_column() -> None:
    body = ecb("ts.json").replace(b'"dataSets"', b'"dataSets" "', 1)
    with pytest.raises(GovopsError) as caught:
        read_sdmx(body, mapping=load_mapping(JSON_MAPPING), where="ts.json")
    assert caught.value.code == "unparseable"
    assert caught.value.message.startswith("not valid JSON")
    assert caught.value.where is not None and "line" in caught.value.where and "column" in caught.value.where


def test_json_with_an_index_beyond_its_values_is_unreadable() -> None:
    doc = json.loads(ecb("flat.json"))
    doc["dataSets"][0]["observations"]["5:0"] = [1.0, 0, 0]
    with pytest.raises(GovopsError) as caught:
        read_sdmx(json.dumps(doc).encode(), mapping=load_mapping(JSON_MAPPING))
    assert "index '5' for CURRENCY, which has 2 value(s)" in caught.value.message


def test_structure_specific_message_without_its_structure_is_refused_with_the_structure_named() -> None:
    body = structure_specific(ecb("ng-ts.xml"))
    with pytest.raises(GovopsError) as caught:
        read_sdmx(body, mapping=load_mapping(NG_MAPPING), where="ss.xml")
    assert caught.value.code == "structure_missing"
    assert "ECB:ECB_EXR_NG(1.0)" in caught.value.message
    assert caught.value.hint is not None and "structure message" in caught.value.hint
    with pytest.raises(GovopsError) as wrong:
        read_sdmx(body, mapping=load_mapping(NG_MAPPING), structures=[ecb("1", "structure-full.xml")])
    assert wrong.value.code == "structure_missing"
    assert "ECB:ECB_EXR_NG(1.0)" in wrong.value.message and "ECB:ECB_EXR1(1.0)" in wrong.value.message


def test_a_structure_message_given_as_data_or_data_given_as_structure_is_refused() -> None:
    with pytest.raises(GovopsError, match="structure message, not a data message"):
        read_sdmx(ecb("ng-structure-full.xml"), mapping=load_mapping(NG_MAPPING))
    with pytest.raises(GovopsError, match="structure 1 is not an SDMX-ML structure message"):
        read_sdmx(ecb("ng-ts.xml"), mapping=load_mapping(NG_MAPPING), structures=[ecb("ng-flat.xml")])


def test_mapping_for_another_dataflow_is_refused() -> None:
    with pytest.raises(GovopsError) as caught:
        read_sdmx(ecb("ts.json"), mapping=load_mapping(NG_MAPPING))
    assert caught.value.code == "dataflow_mismatch"
    assert caught.value.message == "the mapping is for dataflow ECB_EXR_NG, but the message is dataflow EXR"
    with pytest.raises(GovopsError) as usd:
        read_sdmx(ecb("1", "M.USD.EUR.SP00.A.xml"), mapping=EXR_MAPPING)  # EXR is named only by the structure
    assert usd.value.code == "dataflow_mismatch" and "ECB_EXR1" in (usd.value.hint or "")


def test_mapping_naming_a_dimension_the_message_lacks_is_refused() -> None:
    mapping = load_mapping("dataflow: EXR\nseries:\n  - match: {REF_AREA: VN}\n    indicator: FX\n    area: VN\n")
    with pytest.raises(GovopsError) as caught:
        read_sdmx(ecb("ts.json"), mapping=mapping)
    assert caught.value.code == "mapping_mismatch"
    assert (
        caught.value.message
        == "rule 1 of the mapping matches on REF_AREA, which is not a series dimension of the message"
    )
    assert "FREQ.CURRENCY.CURRENCY_DENOM.EXR_TYPE.EXR_SUFFIX" in (caught.value.hint or "")


def test_a_doctype_is_refused_so_no_entity_is_expanded() -> None:
    body = ecb("ng-ts.xml").replace(
        b"<message:GenericTimeSeriesData",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<message:GenericTimeSeriesData',
        1,
    )
    with pytest.raises(GovopsError, match="DOCTYPE"):
        read_sdmx(body, mapping=load_mapping(NG_MAPPING))


def test_documents_that_are_not_sdmx_are_refused() -> None:
    with pytest.raises(GovopsError, match="not an SDMX data message"):
        read_sdmx(b"indicator,area,period,value\n", mapping=load_mapping(NG_MAPPING))


# -- the mapping file ---------------------------------------------------------------------------


def test_mapping_yaml_error_names_its_line() -> None:
    text = "dataflow: EXR\nseries:\n  - key: M.USD.EUR.SP00.A\n     indicator: FX\n"
    with pytest.raises(GovopsError) as caught:
        load_mapping(text, where="exr.yaml")
    assert caught.value.code == "unparseable"
    assert caught.value.where == "exr.yaml, line 4 column 15"


def test_mapping_shape_errors_name_field_and_line() -> None:
    text = (
        "dataflow: EXR\nseries:\n"
        "  - key: M.USD.EUR.SP00.A\n    area: VN\n"
        "  - match: {FREQ: M}\n    indicator: FX\n    area: VN\n    area_from: REF_AREA\n"
        "  - match: {FREQ: M}\n    indicator: FX\n    area: VN\n    colour: red\n"
    )
    with pytest.raises(GovopsError) as caught:
        load_mapping(text, where="exr.yaml")
    assert caught.value.code == "invalid_mapping"
    found = {(p.field, p.where) for p in caught.value.problems}
    # A rule without an indicator (neither indicator: nor indicator_from:) is refused where it starts.
    assert ("series.0", "exr.yaml, line 3") in found
    assert ("series.1", "exr.yaml, line 5") in found
    assert ("series.2.colour", "exr.yaml, line 12") in found
    assert [p.message for p in caught.value.problems if p.field == "series.1"] == [
        "give either area: CODE or area_from: DIMENSION"
    ]
    assert [p.message for p in caught.value.problems if p.field == "series.0"] == [
        "give either indicator: CODE or indicator_from: DIMENSION"
    ]


def test_mapping_keeps_codes_as_written() -> None:
    mapping = load_mapping(
        "dataflow: EXR\nseries:\n  - match: {CURRENCY: NO}\n    indicator: FX\n    area: '01'\n    dims: {COICOP: 01}\n"
        "    scale: 1e3\n"
    )
    rule = mapping.series[0]
    assert rule.match == {"CURRENCY": "NO"} and rule.area == "01" and rule.dims == {"COICOP": "01"}
    assert rule.scale == 1000.0
    assert isinstance(mapping, SdmxMapping)


# -- nothing but GovopsError escapes ------------------------------------------------------------------


def corpus() -> list[tuple[bytes, list[bytes]]]:
    ng = ecb("ng-structure-full.xml")
    return [
        (ecb("ng-ts.xml"), []),
        (ecb("ng-xs.xml"), [ng]),
        (ecb("ng-flat.xml"), []),
        (structure_specific(ecb("ng-ts.xml")), [ng]),
        (structure_specific(ecb("ng-flat.xml")), [ng]),
        (ecb("ts.json"), []),
        (ecb("xs.json"), []),
        (oecd(), []),
        (sdmx_csv(ecb("ng-flat.xml")), []),
    ]


LOOSE = load_mapping(
    "dataflow: ECB_EXR_NG\nseries:\n  - indicator: FX\n    area_from: CURRENCY\n    status_from: OBS_STATUS\n"
    "    period: 2018\n    scale_from: UNIT_MULT\nunmatched: skip\n"
)


def survives(body: bytes, structures: list[bytes]) -> None:
    for mapping in (LOOSE, load_mapping(NG_MAPPING)):
        try:
            result = read_sdmx(body, mapping=mapping, structures=structures)
        except GovopsError:
            continue
        assert all(isinstance(n, int) and isinstance(item, dict | Problem) for n, item in result)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_raise_only_govops_error(body: bytes) -> None:
    survives(body, [])
    survives(b"<" + body, [])
    survives(b"{" + body, [])
    survives(b"DATAFLOW," + body, [])


@FUZZ
@given(st.data())
def test_mutated_messages_raise_only_govops_error(data: st.DataObject) -> None:
    body, structures = data.draw(st.sampled_from(corpus()))
    how = data.draw(st.sampled_from(["truncate", "flip", "delete"]))
    if how == "truncate":
        body = body[: data.draw(st.integers(0, len(body)))]
    elif how == "flip":
        changed = bytearray(body)
        for _ in range(data.draw(st.integers(1, 8))):
            changed[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
        body = bytes(changed)
    elif body.lstrip().startswith(b"<"):
        root = etree.fromstring(body)
        elements = list(root.iter())[1:]
        victim = elements[data.draw(st.integers(0, len(elements) - 1))]
        victim.getparent().remove(victim)
        body = etree.tostring(root)
    else:
        lines = body.split(b"\n")
        del lines[data.draw(st.integers(0, len(lines) - 1))]
        body = b"\n".join(lines)
    survives(body, structures)


@FUZZ
@given(st.text(max_size=300))
def test_random_mapping_text_raises_only_govops_error(text: str) -> None:
    with contextlib.suppress(GovopsError):
        load_mapping(text)


# -- SDMX-CSV 2.0 -------------------------------------------------------------------------------------


def test_csv_2_0_names_its_line_and_refuses_a_delete_action() -> None:
    body = sdmx1_csv(ecb("ng-ts.xml")).decode().splitlines()
    assert body[0].startswith("STRUCTURE,STRUCTURE_ID,ACTION,")
    body[2] = body[2].replace(",I,", ",D,", 1)
    result = read_sdmx("\n".join(body).encode(), mapping=load_mapping(NG_MAPPING), where="ecb.csv")
    problems = [(n, item) for n, item in result if isinstance(item, Problem)]
    assert [(n, p.where, p.field, p.value) for n, p in problems] == [(2, "line 3", "ACTION", "D")]
    assert "delete" in problems[0][1].message and len(result) == 12


def test_csv_2_0_with_columns_govops_does_not_read_is_refused_naming_the_column() -> None:
    body = b"STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,FREQ,TIME_PERIOD,OBS_VALUE\n"
    with pytest.raises(GovopsError) as refused:
        read_sdmx(body + b"dataflow,ECB:EXR(1.0),Rates,I,M,2025-01,1.1\n", mapping=EXR_MAPPING, where="exr.csv")
    assert refused.value.where == "exr.csv, line 1" and "STRUCTURE_NAME" in refused.value.message
    with pytest.raises(GovopsError) as unknown:
        read_sdmx(b"STRUCTURE,FREQ,TIME_PERIOD,OBS_VALUE\ndataflow,M,2025-01,1.1\n", mapping=EXR_MAPPING)
    assert "SDMX-CSV 2.0" in (unknown.value.hint or "")


# -- SDMX-ML 3.0 ----------------------------------------------------------------------------------------


def sdmx_ml_3(generic: bytes) -> bytes:
    """The structure-specific form of an ECB message in SDMX-ML 3.0: its namespaces, its header's structure URN."""
    text = structure_specific(generic).decode()
    text = text.replace("StructureSpecificTimeSeriesData", "StructureSpecificData").replace("/v2_1/", "/v3_0/")
    ref = '<Ref agencyID="ECB" id="ECB_EXR_NG" version="1.0"/>'
    urn = "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=ECB:ECB_EXR_NG(1.0)"
    start, end = text.index("<common:Structure>"), text.index("</common:Structure>")
    assert ref in text[start:end]
    return (text[:start] + f"<common:Structure>{urn}" + text[end:]).encode()


def test_sdmx_ml_3_0_structure_specific_data_gives_the_same_observations() -> None:
    body = sdmx_ml_3(ecb("ng-ts.xml"))
    assert b"/schemas/v3_0/message" in body and b"/v2_1/" not in body
    assert detect(body) == "sdmx-ml"
    result = read_sdmx(body, mapping=load_mapping(NG_MAPPING), structures=[ecb("ng-structure-full.xml")])
    assert triples(result, NG_KEY) == NG_EXPECTED


def test_sdmx_ml_3_0_attribute_with_several_values_is_a_problem_not_a_guess() -> None:
    one = '<Obs OBS_STATUS="A" CONF_STATUS_OBS="F" TIME_PERIOD="2010-08" OBS_VALUE="1.3413"/>'
    several = (
        '<Obs CONF_STATUS_OBS="F" TIME_PERIOD="2010-08" OBS_VALUE="1.3413">'
        '<Comp id="OBS_STATUS"><Value>A</Value><Value>F</Value></Comp></Obs>'
    )
    body = sdmx_ml_3(ecb("ng-ts.xml")).decode()
    assert one in body
    result = read_sdmx(
        body.replace(one, several).encode(), mapping=load_mapping(NG_MAPPING), structures=[ecb("ng-structure-full.xml")]
    )
    [problem] = problems_of(result)
    assert (problem.row, problem.field, problem.where) == (1, "OBS_STATUS", "series M.CHF.EUR.SP00.E, period 2010-08")
    assert "several values" in problem.message and "rule 1" in (problem.hint or "")
    assert len(rows_of(result[1:])) == 11


def test_a_malformed_message_read_first_does_not_stop_sdmx_ml_3_0_for_the_process() -> None:
    # A fresh interpreter: what happens to the first messages a server reads.
    script = f"""
import sys
from govops.errors import GovopsError
from govops.interop.sdmx.read import load_mapping, read_sdmx
ng = open({str(shared_file("sdmx", "ECB_EXR", "ng-ts.xml"))!r}, "rb").read()
structure = open({str(shared_file("sdmx", "ECB_EXR", "ng-structure-full.xml"))!r}, "rb").read()
mapping = load_mapping({NG_MAPPING!r})
bad = ng.replace(b"www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic", b"www.-dmx.org/v2_1/generic")
try:
    read_sdmx(bad, mapping=mapping, structures=[structure])
except GovopsError:
    pass
print(len(read_sdmx(sys.stdin.buffer.read(), mapping=mapping, structures=[structure])))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], input=sdmx_ml_3(ecb("ng-ts.xml")), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.strip() == b"12"


def test_eurostat_csv_last_update_column_is_not_part_of_the_series_key() -> None:
    # Eurostat's SDMX-CSV 1.0 puts LAST UPDATE between DATAFLOW and the dimensions.
    body = (
        b"DATAFLOW,LAST UPDATE,freq,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
        b"ESTAT:PRC_HICP_MIDX(1.0),15/01/25 23:00:00,M,I15,VN,2024-11,127.5,\n"
        b"ESTAT:PRC_HICP_MIDX(1.0),16/01/25 23:00:00,M,I15,VN,2024-12,127.9,p\n"
    )
    mapping = load_mapping(
        "dataflow: PRC_HICP_MIDX\nseries:\n  - key: M.I15.VN\n    indicator: CPI\n    area_from: geo\n"
        "    status_from: OBS_FLAG\nstatus_codes: {p: provisional}\n"
    )
    assert [(r["period"], r["value"], r.get("status")) for r in rows_of(read_sdmx(body, mapping=mapping))] == [
        ("2024-11", 127.5, None),
        ("2024-12", 127.9, "provisional"),
    ]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda body: body.replace(b'"dataSets"', b'"x": ' + b"9" * 5000 + b', "dataSets"', 1), "4,300 digits"),
        (lambda body: body.replace(b'"dataSets"', b'"x": ' + b"[" * 5000 + b"]" * 5000 + b', "dataSets"', 1), "deep"),
    ],
    ids=["5,000 digits", "nested 5,000 deep"],
)
def test_json_python_cannot_hold_is_unreadable_and_says_why(change: Callable[[bytes], bytes], says: str) -> None:
    with pytest.raises(GovopsError) as caught:
        read_sdmx(change(ecb("ts.json")), mapping=load_mapping(JSON_MAPPING), where="ts.json")
    assert caught.value.code == "unparseable" and says in caught.value.message
    assert caught.value.where == "ts.json"
