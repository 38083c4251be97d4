"""SDMX export: what govops writes, read back by sdmx1 (and by the csv module) to the same values."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

import pandas as pd
import pytest
import sdmx
from hypothesis import given, settings
from hypothesis import strategies as st

from govops.catalog.reference import read_areas
from govops.catalog.service import reference_catalogue
from govops.errors import GovopsError
from govops.interop.sdmx.periods import sdmx_period
from govops.interop.sdmx.write import (
    SDMX_FREQ,
    SDMX_STATUS,
    ExportCatalogue,
    ExportCode,
    ExportCodelist,
    ExportFlow,
    ExportSeries,
    data_csv,
    data_json,
    data_xml,
    structure_message,
)
from govops.periods import Period
from tests.conftest import shared_file

PREPARED = datetime(2025, 8, 6, 9, 30, tzinfo=UTC)


# -- the shipped catalogue as the lead exports it: one flow per indicator group ---------------


@cache
def reference_export() -> ExportCatalogue:
    doc = reference_catalogue()
    areas = tuple(ExportCode(a.code, a.name_vi, a.name_ascii, a.parent_code) for a in read_areas())
    units = tuple(ExportCode(u.code, u.name_vi, u.name_en) for u in doc.units)
    codelists = {
        c.code: ExportCodelist(
            c.code, c.name_vi, c.name_en, tuple(ExportCode(k.code, k.name_vi, k.name_en) for k in c.codes)
        )
        for c in doc.codelists
    }
    flows = []
    for group in doc.groups:
        members = [i for i in doc.indicators if group.code in i.groups]
        breakdowns = dict.fromkeys(d for i in members for d in i.dimensions)
        flows.append(
            ExportFlow(
                id=group.code,
                name_vi=group.name_vi,
                name_en=group.name_en,
                indicators=tuple(ExportCode(i.code, i.name_vi, i.name_en) for i in members),
                areas=areas,
                units=units,
                breakdowns=tuple(codelists[d] for d in breakdowns),
            )
        )
    return ExportCatalogue(tuple(flows))


def flow_named(flow_id: str) -> ExportFlow:
    return next(f for f in reference_export().flows if f.id == flow_id)


# APX_ECONOMY holds monthly CPI by COICOP group, quarterly GDP, annual public debt.
ECONOMY_SERIES = [
    ExportSeries(
        indicator="CPI",
        area="79",
        dims={"COICOP_VN": "03"},
        freq="M",
        unit="INDEX_2019",
        decimals=2,
        observations=[("2025-06", 104.37, "final"), ("2025-07", 0.1 + 0.2, "provisional"), ("2025-08", 1 / 3, None)],
    ),
    ExportSeries(
        indicator="CPI",
        area="VN",
        dims={},
        freq="M",
        unit="INDEX_2019",
        decimals=2,
        observations=[("2025-07", 103.99999999999999, "final")],
    ),
    ExportSeries(
        indicator="GDP_CURRENT",
        area="VN",
        dims={},
        freq="Q",
        unit="BN_VND",
        decimals=0,
        observations=[("2025-Q1", 2_759_136.1234567891, "final"), ("2025-Q2", 3_117_962.5, "estimated")],
    ),
    ExportSeries(
        indicator="PUBLIC_DEBT",
        area="VN",
        dims={},
        freq="A",
        unit="PCT",
        decimals=1,
        observations=[("2023", 37.0, "final"), ("2024", 1e-300, "forecast")],
    ),
    ExportSeries(
        indicator="GDP_GROWTH",
        area="VN",
        dims={},
        freq="5A",
        unit="PCT",
        decimals=2,
        observations=[("2021/2025", 6.25, "estimated"), ("2026/2030", 10.0, "forecast")],
    ),
    ExportSeries(
        indicator="ENT_NEW",
        area="00430",  # a ward of Ha Noi
        dims={},
        freq="M",
        unit="ENTERPRISES",
        decimals=0,
        observations=[("2025-07", 12.0, "final")],
    ),
]


def expected_observations(series: list[ExportSeries], flow: ExportFlow) -> dict[tuple[str, ...], float]:
    """(FREQ, INDICATOR, REF_AREA, <breakdowns>..., TIME_PERIOD) -> value, as the export should say."""
    out: dict[tuple[str, ...], float] = {}
    for s in series:
        key = (SDMX_FREQ[s.freq], s.indicator, s.area, *(s.dims.get(b.code, "_T") for b in flow.breakdowns))
        for period, value, _status in s.observations:
            assert value is not None
            out[(*key, sdmx_period(period))] = value
    return out


def read_back(document: bytes, structure: Any = None) -> Any:
    """What sdmx1 makes of a message (typed Any: its Message type does not name .data)."""
    return sdmx.read_sdmx(io.BytesIO(document), structure=structure)


def pandas_observations(data: pd.Series | pd.DataFrame, flow: ExportFlow) -> dict[tuple[str, ...], Any]:
    """The same mapping, from sdmx.to_pandas; index levels put back in the flow's dimension order."""
    frame = data.reset_index()
    order = [*flow.key_dimensions, "TIME_PERIOD"]
    return {tuple(str(row[d]) for d in order): row["value"] for _, row in frame.iterrows()}


# -- structure message ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def structure() -> Any:
    xml = structure_message(catalogue=reference_export(), prepared=PREPARED)
    return read_back(xml)


def test_structure_message_has_every_code_list_with_vietnamese_and_english_names(structure: Any) -> None:
    assert set(structure.codelist) == {
        "CL_FREQ",
        "CL_INDICATOR",
        "CL_AREA",
        "CL_UNIT",
        "CL_OBS_STATUS",
        "CL_COICOP_VN",
        "CL_VSIC_IND",
    }
    coicop = structure.codelist["CL_COICOP_VN"]
    assert [c.id for c in coicop] == [f"{i:02d}" for i in range(1, 12)] + ["_T"]
    assert coicop["03"].name.localizations == {"vi": "May mặc, mũ nón và giày dép", "en": "Garments, hats and footwear"}
    assert coicop["_T"].name.localizations == {"vi": "Tổng số", "en": "Total"}
    assert coicop.name.localizations["en"] == "Groups of goods and services of the consumer price index basket"
    assert [c.id for c in structure.codelist["CL_FREQ"]] == ["A", "S", "Q", "M", "W", "D", "A2", "A5", "A10"]
    assert structure.codelist["CL_FREQ"]["A5"].name.localizations == {"vi": "5 năm", "en": "Quinquennial"}
    assert [c.id for c in structure.codelist["CL_OBS_STATUS"]] == ["A", "P", "E", "F"]
    assert len(structure.codelist["CL_INDICATOR"]) == 81
    assert structure.codelist["CL_INDICATOR"]["CPI"].name.localizations["vi"] == "Chỉ số giá tiêu dùng"
    assert structure.codelist["CL_UNIT"]["INDEX_2019"].name.localizations["en"] == "Index (base year 2019 = 100)"


def test_structure_message_areas_keep_their_hierarchy(structure: Any) -> None:
    areas = structure.codelist["CL_AREA"]
    assert len(areas) == 3385  # the nation, 63 provinces (34 current, 29 merged away), 3,321 wards
    ward = areas["00430"]
    assert ward.name.localizations == {"vi": "Xã Đa Phúc", "en": "Xa Da Phuc"}
    assert ward.parent.id == "01"
    assert ward.parent.parent.id == "VN"
    assert len([c for c in areas["VN"].child]) == 63


def test_structure_message_dsd_dimensions_attributes_and_dataflow(structure: Any) -> None:
    dsd = structure.structure["DSD_APX_ECONOMY"]
    assert [d.id for d in dsd.dimensions] == ["FREQ", "INDICATOR", "REF_AREA", "COICOP_VN", "TIME_PERIOD"]
    assert [d.id for d in structure.structure["DSD_INDUSTRY"].dimensions] == [
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "VSIC_IND",
        "TIME_PERIOD",
    ]
    assert [d.id for d in structure.structure["DSD_MACRO"].dimensions] == [
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "TIME_PERIOD",
    ]
    assert dsd.dimensions.get("REF_AREA").local_representation.enumerated is structure.codelist["CL_AREA"]
    assert dsd.dimensions.get("COICOP_VN").local_representation.enumerated is structure.codelist["CL_COICOP_VN"]
    assert [m.id for m in dsd.measures] == ["OBS_VALUE"]
    assert [a.id for a in dsd.attributes] == ["UNIT_MEASURE", "OBS_STATUS", "DECIMALS"]
    unit = dsd.attributes.get("UNIT_MEASURE")
    assert [d.id for d in unit.related_to.dimensions] == ["FREQ", "INDICATOR", "REF_AREA", "COICOP_VN"]
    assert unit.local_representation.enumerated is structure.codelist["CL_UNIT"]

    assert len(structure.dataflow) == 20
    flow = structure.dataflow["APX_ECONOMY"]
    assert flow.structure is dsd
    assert flow.maintainer.id == "GOVOPS"
    assert str(flow.version) == "1.0"
    assert flow.name.localizations == {"vi": "Nhóm chỉ tiêu kinh tế vĩ mô", "en": "Macroeconomic indicators"}


def test_structure_message_concept_scheme_holds_every_concept(structure: Any) -> None:
    concepts = structure.concept_scheme["CS_GOVOPS"]
    assert {c.id for c in concepts} == {
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "TIME_PERIOD",
        "OBS_VALUE",
        "UNIT_MEASURE",
        "OBS_STATUS",
        "DECIMALS",
        "COICOP_VN",
        "VSIC_IND",
    }
    assert concepts["REF_AREA"].name.localizations == {"vi": "Địa bàn", "en": "Reference area"}
    assert concepts["COICOP_VN"].core_representation.enumerated.id == "CL_COICOP_VN"


def test_structure_message_writes_sdmx_urns_and_both_languages() -> None:
    xml = structure_message(catalogue=reference_export(), prepared=PREPARED).decode()
    assert 'urn="urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=GOVOPS:PRICES(1.0)"' in xml
    assert 'urn="urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=GOVOPS:DSD_PRICES(1.0)"' in xml
    assert '<com:Name xml:lang="vi">Chỉ số giá tiêu dùng</com:Name>' in xml
    assert '<com:Name xml:lang="en">Consumer price index</com:Name>' in xml
    assert "<mes:Prepared>2025-08-06T09:30:00+00:00</mes:Prepared>" in xml


def test_structure_message_refuses_two_flows_with_one_id() -> None:
    flow = flow_named("PRICES")
    with pytest.raises(GovopsError, match="PRICES appear more than once") as caught:
        structure_message(catalogue=ExportCatalogue((flow, flow)), prepared=PREPARED)
    assert caught.value.code == "invalid_catalogue"


# -- SDMX-JSON --------------------------------------------------------------------------------


def test_json_reads_back_in_sdmx1_with_every_value_period_and_key() -> None:
    flow = flow_named("APX_ECONOMY")
    document = data_json(flow=flow, series=ECONOMY_SERIES, prepared=PREPARED)
    msg = read_back(document)

    assert msg.header.id == "GOVOPS-APX_ECONOMY-20250806T093000"
    assert msg.header.prepared == PREPARED
    assert msg.header.sender.id == "GOVOPS"
    [dataset] = msg.data
    assert len(dataset.series) == 6
    assert len(dataset.obs) == 11

    got = pandas_observations(sdmx.to_pandas(msg), flow)
    want = expected_observations(ECONOMY_SERIES, flow)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert repr(got[key]) == repr(value), key  # full precision, not just close
    assert got[("M", "CPI", "79", "03", "2025-07")] == 0.30000000000000004
    assert got[("A5", "GDP_GROWTH", "VN", "_T", "2026-01-01/P5Y")] == 10.0
    assert got[("Q", "GDP_CURRENT", "VN", "_T", "2025-Q1")] == 2759136.1234567891


def test_json_observation_status_reads_back_in_sdmx1() -> None:
    flow = flow_named("APX_ECONOMY")
    msg = read_back(data_json(flow=flow, series=ECONOMY_SERIES, prepared=PREPARED))
    frame = sdmx.to_pandas(msg, attributes="o").reset_index()
    status = {(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]): r["OBS_STATUS"] for _, r in frame.iterrows()}
    assert status[("CPI", "79", "2025-06")] == "A"
    assert status[("CPI", "79", "2025-07")] == "P"
    assert status[("GDP_CURRENT", "VN", "2025-Q2")] == "E"
    assert status[("PUBLIC_DEBT", "VN", "2024")] == "F"
    assert pd.isna(status[("CPI", "79", "2025-08")]) or status[("CPI", "79", "2025-08")] in ("", None)


def test_json_follows_the_layout_of_a_real_sdmx_json_message() -> None:
    ecb = json.loads(shared_file("sdmx", "ECB_EXR", "ts.json").read_text())
    ours = json.loads(data_json(flow=flow_named("APX_ECONOMY"), series=ECONOMY_SERIES, prepared=PREPARED))

    assert set(ours) == set(ecb) == {"header", "structure", "dataSets"}
    assert set(ours["structure"]["dimensions"]) == set(ecb["structure"]["dimensions"])
    assert set(ours["structure"]["attributes"]) == set(ecb["structure"]["attributes"])
    ecb_series = next(iter(ecb["dataSets"][0]["series"].values()))
    ours_series = ours["dataSets"][0]["series"]
    assert all(set(s) == set(ecb_series) == {"attributes", "observations"} for s in ours_series.values())
    for dimension in ours["structure"]["dimensions"]["series"]:
        assert {"id", "name", "keyPosition", "values"} <= set(dimension)

    series_dims = ours["structure"]["dimensions"]["series"]
    assert [d["id"] for d in series_dims] == ["FREQ", "INDICATOR", "REF_AREA", "COICOP_VN"]
    assert [d["keyPosition"] for d in series_dims] == [0, 1, 2, 3]
    [time_dim] = ours["structure"]["dimensions"]["observation"]
    assert time_dim["id"] == "TIME_PERIOD" and time_dim["keyPosition"] == 4
    # Periods in time order, with their bounds.
    assert [v["id"] for v in time_dim["values"]][:3] == ["2021-01-01/P5Y", "2023", "2024"]
    five_years = time_dim["values"][0]
    assert (five_years["start"], five_years["end"]) == ("2021-01-01T00:00:00.000Z", "2025-12-31T23:59:59.999Z")

    # Series attributes sit on each series, as the spec says (sdmx1 2.28 reads them from the data
    # set instead and so drops them: the layout is checked here, not through sdmx1).
    [unit, decimals] = ours["structure"]["attributes"]["series"]
    assert unit["id"] == "UNIT_MEASURE" and decimals["id"] == "DECIMALS"
    freq = [v["id"] for v in series_dims[0]["values"]]
    indicator = [v["id"] for v in series_dims[1]["values"]]
    area = [v["id"] for v in series_dims[2]["values"]]
    coicop = [v["id"] for v in series_dims[3]["values"]]
    key = f"{freq.index('M')}:{indicator.index('CPI')}:{area.index('79')}:{coicop.index('03')}"
    cpi = ours_series[key]
    assert unit["values"][cpi["attributes"][0]] == {"id": "INDEX_2019", "name": "Index (base year 2019 = 100)"}
    assert decimals["values"][cpi["attributes"][1]]["id"] == "2"
    assert series_dims[3]["values"][coicop.index("03")]["name"] == "Garments, hats and footwear"


def test_json_names_follow_the_language_asked_for() -> None:
    ours = json.loads(
        data_json(flow=flow_named("APX_ECONOMY"), series=ECONOMY_SERIES, prepared=PREPARED, lang="vi").decode()
    )
    assert ours["structure"]["name"] == flow_named("APX_ECONOMY").name_vi
    areas = {v["id"]: v["name"] for v in ours["structure"]["dimensions"]["series"][2]["values"]}
    assert areas["VN"] == "Việt Nam"
    assert areas["00430"] == "Xã Đa Phúc"


def test_json_of_no_series_is_a_valid_empty_message() -> None:
    document = data_json(flow=flow_named("PRICES"), series=[], prepared=PREPARED)
    msg = read_back(document)
    assert len(msg.data) == 1
    assert len(msg.data[0].obs) == 0
    assert sdmx.to_pandas(msg).empty
    assert json.loads(document)["dataSets"] == [{"action": "Information", "series": {}}]


def test_json_missing_and_non_finite_values_are_null() -> None:
    flow = flow_named("PRICES")
    series = [
        ExportSeries(
            indicator="CPI",
            area="VN",
            dims={},
            freq="M",
            unit="INDEX_2019",
            decimals=2,
            observations=[("2025-05", math.nan, "final"), ("2025-06", None, "final"), ("2025-07", math.inf, None)],
        )
    ]
    document = json.loads(data_json(flow=flow, series=series, prepared=PREPARED))
    [entry] = document["dataSets"][0]["series"].values()
    assert [obs[0] for obs in entry["observations"].values()] == [None, None, None]
    values = sdmx.to_pandas(read_back(json.dumps(document).encode()))
    assert values.isna().all() and len(values) == 3


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=24))
def test_json_and_csv_keep_every_float_exactly(values: list[float]) -> None:
    flow = flow_named("PRICES")
    periods = [str(Period("2024-01") + i) for i in range(len(values))]
    series = [
        ExportSeries(
            indicator="CPI",
            area="01",
            dims={"COICOP_VN": "01"},
            freq="M",
            unit="INDEX_2019",
            decimals=2,
            observations=list(zip(periods, values, ["final"] * len(values), strict=True)),
        )
    ]
    msg = read_back(data_json(flow=flow, series=series, prepared=PREPARED))
    assert [repr(o.value) for o in msg.data[0].obs] == [repr(v) for v in values]
    rows = list(csv.DictReader(io.StringIO(data_csv(flow=flow, series=series).decode())))
    assert [repr(float(r["OBS_VALUE"])) for r in rows] == [repr(v) for v in values]


# -- SDMX-CSV ---------------------------------------------------------------------------------


def test_csv_1_0_reads_back_to_the_same_keys_periods_values_and_statuses() -> None:
    flow = flow_named("APX_ECONOMY")
    text = data_csv(flow=flow, series=ECONOMY_SERIES, version="1.0").decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == [
        "DATAFLOW",
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "COICOP_VN",
        "TIME_PERIOD",
        "OBS_VALUE",
        "UNIT_MEASURE",
        "OBS_STATUS",
        "DECIMALS",
    ]
    rows = list(reader)
    assert len(rows) == 11
    assert {r[0] for r in rows} == {"GOVOPS:APX_ECONOMY(1.0)"}
    got = {(tuple(r[1:5]), r[5], float(r[6]), r[8]) for r in rows}
    want = {
        (
            (SDMX_FREQ[s.freq], s.indicator, s.area, s.dims.get("COICOP_VN", "_T")),
            sdmx_period(p),
            v,
            SDMX_STATUS[st_] if st_ else "",
        )
        for s in ECONOMY_SERIES
        for p, v, st_ in s.observations
    }
    assert got == want
    assert rows[8][1:] == ["A5", "GDP_GROWTH", "VN", "_T", "2021-01-01/P5Y", "6.25", "PCT", "E", "2"]
    assert text.endswith("\r\n")


def test_csv_labels_quote_names_that_hold_commas() -> None:
    flow = flow_named("APX_ECONOMY")
    raw = data_csv(flow=flow, series=ECONOMY_SERIES[:1], labels="both", version="1.0").decode()
    assert '"03: Garments, hats and footwear"' in raw
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0][:5] == [
        "DATAFLOW",
        "FREQ: Frequency",
        "INDICATOR: Indicator",
        "REF_AREA: Reference area",
        rows[0][4],
    ]
    assert rows[0][4].startswith("COICOP_VN: Groups of goods and services")
    first = rows[1]
    assert len(first) == 10
    assert first[1:5] == [
        "M: Monthly",
        "CPI: Consumer price index",
        "79: Thanh pho Ho Chi Minh",
        "03: Garments, hats and footwear",
    ]
    assert first[5:] == ["2025-06", "104.37", "INDEX_2019: Index (base year 2019 = 100)", "A: Normal value", "2"]

    vietnamese = list(
        csv.reader(
            io.StringIO(
                data_csv(flow=flow, series=ECONOMY_SERIES[:1], labels="both", lang="vi", version="1.0").decode()
            )
        )
    )
    assert vietnamese[1][4] == "03: May mặc, mũ nón và giày dép"
    assert vietnamese[0][1] == "FREQ: Tần suất"


def test_csv_of_no_series_is_the_header_alone() -> None:
    text = data_csv(flow=flow_named("MACRO"), series=[]).decode()
    columns = "FREQ,INDICATOR,REF_AREA,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,OBS_STATUS,DECIMALS\r\n"
    assert text == "STRUCTURE,STRUCTURE_ID,ACTION," + columns
    assert data_csv(flow=flow_named("MACRO"), series=[], version="1.0").decode() == "DATAFLOW," + columns


def _sdmx1_observations(message: Any) -> set[tuple[tuple[str, ...], str, float, str]]:
    """(series key, TIME_PERIOD, value, OBS_STATUS) of every observation sdmx1 read."""
    return {
        (
            tuple(str(kv.value).split(": ")[0] for kv in list(o.dimension.values.values())[:-1]),
            str(o.dimension.values["TIME_PERIOD"].value),
            float(o.value),
            str(o.attached_attribute["OBS_STATUS"].value).split(": ")[0],
        )
        for ds in message.data
        for o in ds.obs
    }


@pytest.mark.parametrize("labels", ["id", "both"])
def test_csv_2_0_is_what_sdmx1_reads_to_the_same_observations(labels: Literal["id", "both"]) -> None:
    flow = flow_named("APX_ECONOMY")
    text = data_csv(flow=flow, series=ECONOMY_SERIES, labels=labels)
    rows = list(csv.reader(io.StringIO(text.decode())))
    assert [cell.split(": ")[0] for cell in rows[0][:4]] == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ"]
    assert {tuple(r[:3]) for r in rows[1:]} == {
        ("dataflow", "GOVOPS:APX_ECONOMY(1.0)" + (": Macroeconomic indicators" if labels == "both" else ""), "I")
    }
    structure = read_back(structure_message(catalogue=ExportCatalogue((flow,)), prepared=PREPARED))
    # sdmx1 reads only SDMX-CSV 2.x, and only against the dataflow's structure.
    message = sdmx.read_sdmx(io.BytesIO(text), format="csv", structure=structure.dataflow["APX_ECONOMY"])
    assert [ds.action.name for ds in message.data] == ["information"]
    want = {
        (
            (SDMX_FREQ[s.freq], s.indicator, s.area, s.dims.get("COICOP_VN", "_T")),
            sdmx_period(p),
            v,
            SDMX_STATUS[st_] if st_ else "",
        )
        for s in ECONOMY_SERIES
        for p, v, st_ in s.observations
    }
    assert len(want) == 11 and _sdmx1_observations(message) == want


# -- SDMX-ML structure-specific data ----------------------------------------------------------


def test_xml_data_reads_back_in_sdmx1_with_the_structure_message(structure: Any) -> None:
    flow = flow_named("APX_ECONOMY")
    xml = data_xml(flow=flow, series=ECONOMY_SERIES, prepared=PREPARED)
    msg = read_back(xml, structure=structure.structure["DSD_APX_ECONOMY"])
    [dataset] = msg.data
    assert len(dataset.series) == 6

    got = pandas_observations(sdmx.to_pandas(msg), flow)
    want = expected_observations(ECONOMY_SERIES, flow)
    assert {k: repr(v) for k, v in got.items()} == {k: repr(v) for k, v in want.items()}

    frame = sdmx.to_pandas(msg, attributes="os").reset_index()
    by_key = {(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]): r for _, r in frame.iterrows()}
    assert by_key[("CPI", "79", "2025-07")]["OBS_STATUS"] == "P"
    assert by_key[("CPI", "79", "2025-07")]["UNIT_MEASURE"] == "INDEX_2019"
    assert by_key[("GDP_GROWTH", "VN", "2021-01-01/P5Y")]["DECIMALS"] == "2"
    assert by_key[("GDP_CURRENT", "VN", "2025-Q2")]["OBS_STATUS"] == "E"


def test_xml_data_of_no_series_reads_back_empty(structure: Any) -> None:
    xml = data_xml(flow=flow_named("PRICES"), series=[], prepared=PREPARED)
    msg = read_back(xml, structure=structure.structure["DSD_PRICES"])
    assert sdmx.to_pandas(msg).empty


# -- series that do not fit the flow ----------------------------------------------------------


def _cpi(**changes: Any) -> ExportSeries:
    base = ExportSeries(
        indicator="CPI",
        area="VN",
        dims={},
        freq="M",
        unit="INDEX_2019",
        decimals=2,
        observations=[("2025-07", 100.0, "final")],
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([_cpi(dims={"VSIC_IND": "C"})], "breaks down by VSIC_IND, which dataflow PRICES has no dimension for"),
        ([_cpi(freq="Y")], "frequency 'Y' is not a govops frequency"),
        ([_cpi(observations=[("2025-Q3", 1.0, "final")])], "period '2025-Q3' is not of the series' frequency M"),
        ([_cpi(), _cpi()], "two series have the key M.CPI.VN._T"),
        ([_cpi(observations=[("2025-07", 1.0, "final"), ("2025-M07", 2.0, "final")])], "appears more than once"),
        ([_cpi(observations=[("2025-07", 1.0, "revised")])], "status 'revised' is not a govops status"),
        ([_cpi(observations=[("2025-13", 1.0, "final")])], "'2025-13' is not a valid period"),
    ],
)
@pytest.mark.parametrize("write", ["json", "csv", "xml"])
def test_series_that_do_not_fit_the_flow_are_refused_with_where(
    series: list[ExportSeries], message: str, write: str
) -> None:
    flow = flow_named("PRICES")
    with pytest.raises(GovopsError, match=message) as caught:
        if write == "json":
            data_json(flow=flow, series=series, prepared=PREPARED)
        elif write == "csv":
            data_csv(flow=flow, series=series)
        else:
            data_xml(flow=flow, series=series, prepared=PREPARED)
    freq = series[0].freq
    assert caught.value.where == f"series CPI at VN ({freq}) of dataflow PRICES"
    assert caught.value.hint


def test_export_values_are_frozen_dataclasses() -> None:
    code = ExportCode("VN", "Việt Nam", "Viet Nam")
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.id = "XX"  # type: ignore[misc]
    assert all(dataclasses.is_dataclass(c) for c in (ExportCodelist, ExportFlow, ExportCatalogue, ExportSeries))


# -- performance ------------------------------------------------------------------------------


def test_hundred_thousand_observations_serialise_whole() -> None:
    flow = flow_named("PRICES")
    months = [str(Period("2017-01") + i) for i in range(100)]
    provinces = [a.id for a in flow.areas if len(a.id) == 2][:50]
    coicop = [f"{i:02d}" for i in range(1, 12)] + ["_T"]
    series = [
        ExportSeries(
            indicator=indicator,
            area=area,
            dims={} if code == "_T" else {"COICOP_VN": code},
            freq="M",
            unit="INDEX_2019",
            decimals=2,
            observations=[(m, 100.0 + i / 7, "final") for i, m in enumerate(months)],
        )
        for indicator in ("CPI", "CPI_MOM")
        for area in provinces
        for code in coicop[:10]
    ]
    assert sum(len(s.observations) for s in series) == 100_000

    # How fast is for bench/interop.py to measure; here, that all of it comes out.
    document = data_json(flow=flow, series=series, prepared=PREPARED)
    table = data_csv(flow=flow, series=series)

    assert sum(len(s["observations"]) for s in json.loads(document)["dataSets"][0]["series"].values()) == 100_000
    assert table.count(b"\r\n") == 100_001
