"""DHIS2 data value sets: reading (JSON, CSV), writing, periods, the mapping and the catalogue, on real DHIS2 files."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govops.catalog.schemas import CatalogueDoc
from govops.errors import GovopsError, Problem
from govops.interop.dhis2.mapping import DEFAULT_COMBO, Dhis2Mapping, dhis2_period, load_mapping, to_dhis2_period
from govops.interop.dhis2.metadata import catalogue_from_metadata
from govops.interop.dhis2.read import CSV_COLUMNS, looks_like_data_value_set, read_data_value_set
from govops.interop.dhis2.write import ExportValue, write_data_value_set
from govops.periods import Freq, Period
from govops.warehouse.formats import Row
from tests.conftest import shared_file

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the real files -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bulk_bytes() -> bytes:
    return shared_file("dhis2", "dataValues_bulk.json").read_bytes()


@pytest.fixture(scope="module")
def bulk(bulk_bytes: bytes) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = json.loads(bulk_bytes)["dataValues"]
    return values


@pytest.fixture(scope="module")
def metadata_bytes() -> bytes:
    return shared_file("dhis2", "aggregate_metadata.json").read_bytes()


@pytest.fixture(scope="module")
def metadata(metadata_bytes: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(metadata_bytes)
    return doc


@pytest.fixture(scope="module")
def generated(metadata_bytes: bytes) -> tuple[dict[str, Any], str]:
    return catalogue_from_metadata(
        metadata_bytes, owner="MOH", unit="CASES", group="SOCIAL", org_units={"O6uvpzGd5pu": "79"}
    )


@pytest.fixture(scope="module")
def mapping(generated: tuple[dict[str, Any], str]) -> Dhis2Mapping:
    return load_mapping(generated[1])


@pytest.fixture(scope="module")
def boolean_elements(metadata: dict[str, Any]) -> set[str]:
    return {de["id"] for de in metadata["dataElements"] if de["valueType"] == "BOOLEAN"}


def observations(rows: list[Row]) -> list[dict[str, Any]]:
    problems = [item for _, item in rows if isinstance(item, Problem)]
    assert problems == []
    return [item for _, item in rows if isinstance(item, dict)]


def problems_of(rows: list[Row]) -> list[Problem]:
    return [item for _, item in rows if isinstance(item, Problem)]


def read_json(doc: dict[str, Any], mapping: Dhis2Mapping) -> list[Row]:
    return read_data_value_set(json.dumps(doc).encode(), fmt="json", mapping=mapping)


def mapping_with(mapping: Dhis2Mapping, **changes: Any) -> Dhis2Mapping:
    return Dhis2Mapping.model_validate(mapping.model_dump() | changes)


# -- catalogue_from_metadata --------------------------------------------------------------------


def test_catalogue_has_one_indicator_per_numeric_data_element_of_a_data_set(
    generated: tuple[dict[str, Any], str], metadata: dict[str, Any]
) -> None:
    catalogue, _ = generated
    doc = CatalogueDoc.model_validate(catalogue)
    in_data_sets = {e["dataElement"]["id"] for ds in metadata["dataSets"] for e in ds["dataSetElements"]}
    numeric = [de for de in metadata["dataElements"] if de["valueType"] == "INTEGER_ZERO_OR_POSITIVE"]
    expected = [de for de in numeric if de["id"] in in_data_sets]
    assert (len(metadata["dataElements"]), len(numeric), len(expected)) == (75, 66, 64)
    assert [i.name_en for i in doc.indicators] == [de["name"] for de in expected]
    assert all(i.name_vi == i.name_en for i in doc.indicators)
    codes = [i.code for i in doc.indicators]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[A-Z0-9_]{1,32}", c) for c in codes)
    assert all((i.unit, i.owner, i.groups, i.decimals) == ("CASES", "MOH", ["SOCIAL"], 0) for i in doc.indicators)
    by_code = {i.code: i for i in doc.indicators}
    # Codes come from the DHIS2 codes, made safe; too long ones keep their start and end with the uid.
    assert by_code["TA_GEN_ALL_CAUSE_IPD_CASES"].name_en == "TA GEN - All-cause inpatient"
    assert by_code["TA_MAL_PV_CASES_TEST_RBQE6TD5RNI"].periodicity is Freq.M
    funding = by_code["TA_GEN_EXT_FUND"]
    assert (funding.periodicity, funding.area_aggregation.value, funding.time_aggregation.value) == (
        Freq.A,
        "sum",
        "sum",
    )
    at_risk = by_code["TA_MAL_POP_AT_RISK"]  # AVERAGE_SUM_ORG_UNIT
    assert (at_risk.area_aggregation.value, at_risk.time_aggregation.value) == ("sum", "mean")
    assert at_risk.definition_en.startswith("Population living in areas where malaria transmission is possible")
    falciparum = by_code["TA_MAL_PF_MICR"]  # aggregationType NONE, age and sex
    assert (falciparum.area_aggregation.value, falciparum.time_aggregation.value) == ("none", "none")
    assert falciparum.dimensions == ["TA_AGE_MALARIA", "TA_SEX"]
    assert by_code["TA_MAL_FOCI_CLASS"].dimensions == ["TA_FOCI_CLASSIFICATION"]
    assert {c.code: [x.code for x in c.codes] for c in doc.codelists} == {
        "TA_AGE_MALARIA": ["TA_P0Y--P5Y", "TA_P5Y--P15Y", "TA_P15Y--P999Y"],
        "TA_FOCI_CLASSIFICATION": ["TA_AFOCI", "TA_RES_FOCI", "TA_CFOCI"],
        "TA_SEX": ["TA_M", "TA_F"],
    }


def test_generated_mapping_ties_data_elements_and_combos(
    mapping: Dhis2Mapping, generated: tuple[dict[str, Any], str], boolean_elements: set[str]
) -> None:
    _, text = generated
    assert mapping.org_units == {"O6uvpzGd5pu": "79"}
    assert mapping.unmatched == "reject"
    assert {uid for uid, e in mapping.data_elements.items() if e.skip} == boolean_elements
    assert len(boolean_elements) == 9
    assert mapping.data_elements["tpz77FcntKx"].indicator == "TA_GEN_EXT_FUND"
    assert mapping.category_option_combos[DEFAULT_COMBO] == {}
    assert mapping.category_option_combos["kQBGXKMwoqR"] == {"TA_AGE_MALARIA": "TA_P15Y--P999Y", "TA_SEX": "TA_F"}
    assert mapping.category_option_combos["WPJQS4ogrRm"] == {"TA_FOCI_CLASSIFICATION": "TA_RES_FOCI"}
    assert len(mapping.category_option_combos) == 13
    # The two thresholds are in no data set: left out of the catalogue, and said so in the mapping.
    assert "# not mapped: nwzSeTAxCGV: TA MAL - Malaria confirmed MEDIAN (threshold)" in text
    assert "nwzSeTAxCGV" not in mapping.data_elements


def test_generated_mapping_lists_the_org_units_to_fill_in(metadata_bytes: bytes) -> None:
    _, text = catalogue_from_metadata(metadata_bytes, owner="MOH", unit="CASES", group="SOCIAL")
    assert load_mapping(text).org_units == {}
    assert '  # O6uvpzGd5pu: ""' in text
    filled = load_mapping(text.replace('  # O6uvpzGd5pu: ""', '  O6uvpzGd5pu: "79"'))
    assert filled.org_units == {"O6uvpzGd5pu": "79"}


def test_catalogue_with_bad_codes_is_refused(metadata_bytes: bytes) -> None:
    with pytest.raises(GovopsError) as info:
        catalogue_from_metadata(metadata_bytes, owner="MOH", unit="cases", group="SOCIAL")
    assert info.value.code == "invalid"
    assert len(info.value.problems) == 64
    assert info.value.problems[0].field == "indicators.0.unit"


@pytest.mark.parametrize(("body", "code"), [(b"{not json", "unparseable"), (b'{"dataSets": []}', "bad_shape")])
def test_unreadable_metadata(body: bytes, code: str) -> None:
    with pytest.raises(GovopsError) as info:
        catalogue_from_metadata(body, owner="MOH", unit="CASES", group="SOCIAL")
    assert info.value.code == code


# -- reading the real file ----------------------------------------------------------------------


def expected_rows(bulk: list[dict[str, Any]], boolean_elements: set[str], catalogue: dict[str, Any]) -> list[Row]:
    """The observations the bulk file should give, worked out from the file and the metadata names."""
    indicator_of_name = {i["name_en"]: i["code"] for i in catalogue["indicators"]}
    metadata = json.loads(shared_file("dhis2", "aggregate_metadata.json").read_bytes())
    name_of = {de["id"]: de["name"] for de in metadata["dataElements"]}
    sex = {"Female": {"TA_SEX": "TA_F"}, "Male": {"TA_SEX": "TA_M"}}
    age = {"0-4": "TA_P0Y--P5Y", "5-14": "TA_P5Y--P15Y", "15+": "TA_P15Y--P999Y"}
    foci = {"TA Active foci": "TA_AFOCI", "TA Cleared-up foci": "TA_CFOCI", "TA Residual foci": "TA_RES_FOCI"}
    combo_names = {c["id"]: c["name"] for c in metadata["categoryOptionCombos"]}
    out: list[Row] = []
    for n, dv in enumerate(bulk, start=1):
        if dv["dataElement"] in boolean_elements:
            continue
        name = combo_names.get(dv["categoryOptionCombo"], "default")
        dims: dict[str, str] = {}
        if name in foci:
            dims = {"TA_FOCI_CLASSIFICATION": foci[name]}
        elif name != "default":
            ages, _, sexes = name.removeprefix("TA ").removesuffix(" years").partition(" years, ")
            dims = {"TA_AGE_MALARIA": age[ages], **sex.get(sexes, {})}
        period = {"2018": "2018", "201912": "2019-12"}[dv["period"]]
        indicator = indicator_of_name[name_of[dv["dataElement"]]]
        out.append(
            (n, {"indicator": indicator, "area": "79", "period": period, "value": float(dv["value"]), "dims": dims})
        )
    return out


def test_read_bulk_json(
    bulk_bytes: bytes,
    bulk: list[dict[str, Any]],
    mapping: Dhis2Mapping,
    boolean_elements: set[str],
    generated: tuple[dict[str, Any], str],
) -> None:
    rows = read_data_value_set(bulk_bytes, fmt="json", mapping=mapping, where="dataValues_bulk.json")
    booleans = [dv for dv in bulk if dv["dataElement"] in boolean_elements]
    assert {dv["value"] for dv in booleans} == {"true", "false"}
    assert (len(bulk), len(booleans), len(rows)) == (231, 9, 222)
    assert rows == expected_rows(bulk, boolean_elements, generated[0])
    assert rows[0] == (
        1,
        {"indicator": "TA_GEN_EXT_FUND", "area": "79", "period": "2018", "value": 500000.0, "dims": {}},
    )
    periods = [item["period"] for item in observations(rows)]
    assert (periods.count("2018"), periods.count("2019-12")) == (9, 213)


def test_non_numeric_values_are_problems_unless_skipped(
    bulk_bytes: bytes, bulk: list[dict[str, Any]], mapping: Dhis2Mapping, boolean_elements: set[str]
) -> None:
    elements = mapping.model_dump()["data_elements"]
    for uid in boolean_elements:
        elements[uid] = {"indicator": "STOCK_OUT", "dims": {}, "unit": None, "skip": False}
    rows = read_data_value_set(bulk_bytes, fmt="json", mapping=mapping_with(mapping, data_elements=elements))
    problems = problems_of(rows)
    positions = [n for n, dv in enumerate(bulk, start=1) if dv["dataElement"] in boolean_elements]
    assert [(p.row, p.field, p.value) for p in problems] == [(n, "value", bulk[n - 1]["value"]) for n in positions]
    assert (
        problems[0].message == "value 'true' is not a number" or problems[0].message == "value 'false' is not a number"
    )
    first = bulk[positions[0] - 1]
    assert problems[0].where == (
        f"data value set, value {positions[0]} "
        f"(data element {first['dataElement']}, org unit O6uvpzGd5pu, period {first['period']})"
    )
    assert "skip" in (problems[0].hint or "")
    assert len(rows) == 231


def test_unmatched_skip_leaves_out_values_without_a_mapping(bulk_bytes: bytes, mapping: Dhis2Mapping) -> None:
    no_org_unit = mapping_with(mapping, org_units={})
    rows = read_data_value_set(bulk_bytes, fmt="json", mapping=no_org_unit)
    problems = problems_of(rows)
    assert len(problems) == 222
    assert {(p.field, p.value) for p in problems} == {("orgUnit", "O6uvpzGd5pu")}
    assert "O6uvpzGd5pu" in (problems[0].hint or "")
    assert read_data_value_set(bulk_bytes, fmt="json", mapping=mapping_with(no_org_unit, unmatched="skip")) == []


# -- CSV ----------------------------------------------------------------------------------------


def bulk_as_csv(bulk: list[dict[str, Any]], *, header: list[str] | None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    for dv in bulk:
        writer.writerow(
            [
                dv["dataElement"],
                dv["period"],
                dv["orgUnit"],
                dv["categoryOptionCombo"],
                dv["attributeOptionCombo"],
                dv["value"],
                "admin",
                dv.get("lastUpdated", ""),
                dv.get("comment", ""),
                str(dv["followup"]).lower(),
                "",
            ]
        )
    return out.getvalue().encode()


@pytest.mark.parametrize(
    "header",
    [list(CSV_COLUMNS), [c.upper() for c in CSV_COLUMNS], [c.title() for c in CSV_COLUMNS], None],
    ids=["lower", "upper", "title", "no header"],
)
def test_read_bulk_csv_gives_the_json_rows(
    header: list[str] | None, bulk_bytes: bytes, bulk: list[dict[str, Any]], mapping: Dhis2Mapping
) -> None:
    from_json = read_data_value_set(bulk_bytes, fmt="json", mapping=mapping)
    from_csv = read_data_value_set(bulk_as_csv(bulk, header=header), fmt="csv", mapping=mapping)
    offset = 1 if header is not None else 0
    assert from_csv == [(n + offset, item) for n, item in from_json]


def test_csv_columns_by_header_name_and_defaults() -> None:
    mapping = Dhis2Mapping.model_validate({"org_units": {"OU": "79"}, "data_elements": {"DE": {"indicator": "CASES"}}})
    body = (
        b"Value,Period,OrgUnit,DataElement,Deleted\n12.5,2019Q1,OU,DE,\n13,2019Q2,OU,DE,true\n\n7,2019W5,OU,DE,false\n"
    )
    rows = read_data_value_set(body, fmt="csv", mapping=mapping)
    assert rows == [
        (2, {"indicator": "CASES", "area": "79", "period": "2019-Q1", "value": 12.5, "dims": {}}),
        (5, {"indicator": "CASES", "area": "79", "period": "2019-W05", "value": 7.0, "dims": {}}),
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_file"),
        (b"dataelement,period,orgunit,vaule\n", "bad_header"),
        (b"dataelement,period,value\n", "bad_header"),
        (b"dataelement,period,orgunit,value,value\n", "bad_header"),
        (b"\xff\xfe\x00", "unparseable"),
    ],
)
def test_unreadable_csv(body: bytes, code: str, mapping: Dhis2Mapping) -> None:
    with pytest.raises(GovopsError) as info:
        read_data_value_set(body, fmt="csv", mapping=mapping, where="upload.csv")
    assert info.value.code == code
    assert (info.value.where or "").startswith("upload.csv")


def test_csv_row_with_too_many_cells_is_a_problem(mapping: Dhis2Mapping) -> None:
    body = b"tpz77FcntKx,2018,O6uvpzGd5pu,,,5,a,b,c,d,e,extra\ntpz77FcntKx,2018,O6uvpzGd5pu,,,6\n"
    rows = read_data_value_set(body, fmt="csv", mapping=mapping)
    assert isinstance(rows[0][1], Problem) and rows[0][1].message == "12 cells where the data value set has 11 columns"
    assert rows[1] == (2, {"indicator": "TA_GEN_EXT_FUND", "area": "79", "period": "2018", "value": 6.0, "dims": {}})


# -- writing ------------------------------------------------------------------------------------


def test_round_trip_through_dhis2(
    bulk_bytes: bytes, bulk: list[dict[str, Any]], mapping: Dhis2Mapping, boolean_elements: set[str]
) -> None:
    rows = read_data_value_set(bulk_bytes, fmt="json", mapping=mapping)
    exported = [ExportValue.from_observation(item) for item in observations(rows)]
    body = write_data_value_set(rows=exported, mapping=mapping, data_set="VEM58nY22sO")
    written = json.loads(body)
    assert looks_like_data_value_set(written)
    assert written["dataSet"] == "VEM58nY22sO"
    # The very DHIS2 values the file held (less the BOOLEAN ones), uid for uid and text for text.
    keys = ("dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value")
    original = [{k: dv[k] for k in keys} for dv in bulk if dv["dataElement"] not in boolean_elements]
    assert written["dataValues"] == original
    again = read_data_value_set(body, fmt="json", mapping=mapping)
    assert observations(again) == observations(rows)


def test_written_numbers_are_plain_decimals() -> None:
    mapping = Dhis2Mapping.model_validate({"org_units": {"OU": "79"}, "data_elements": {"DE": {"indicator": "X"}}})
    values = [0.1, 1e20, 1.5e-7, -3.0, 2.5]
    rows = [ExportValue(indicator="X", area="79", period=f"2019-{m:02d}", value=v) for m, v in enumerate(values, 1)]
    written = json.loads(write_data_value_set(rows=rows, mapping=mapping))
    assert [dv["value"] for dv in written["dataValues"]] == ["0.1", "100000000000000000000", "0.00000015", "-3", "2.5"]
    assert "dataSet" not in written
    back = read_data_value_set(json.dumps(written).encode(), fmt="json", mapping=mapping)
    assert [item["value"] for item in observations(back)] == values


def test_writer_lists_every_row_it_cannot_map(mapping: Dhis2Mapping) -> None:
    rows = [
        ExportValue(indicator="CPI", area="79", period="2019-12", value=1.0),
        ExportValue(indicator="TA_GEN_EXT_FUND", area="01", period="2018", value=1.0),
        ExportValue(indicator="TA_GEN_EXT_FUND", area="79", period="2021/2025", value=1.0),
        ExportValue(indicator="TA_MAL_PF_MICR", area="79", period="2019-12", value=1.0, dims={"TA_SEX": "TA_F"}),
        ExportValue(indicator="TA_GEN_EXT_FUND", area="79", period="2018", value=float("nan")),
    ]
    with pytest.raises(GovopsError) as info:
        write_data_value_set(rows=rows, mapping=mapping)
    assert info.value.code == "not_exportable"
    assert [(p.row, p.field) for p in info.value.problems] == [
        (1, "indicator"),
        (2, "area"),
        (3, "period"),
        (4, "dims"),
        (5, "value"),
    ]
    assert "TA_MAL_PF_MICR with TA_SEX=TA_F" in info.value.problems[3].message


def test_writer_refuses_ambiguous_mappings() -> None:
    mapping = Dhis2Mapping.model_validate(
        {
            "org_units": {"OU1": "79", "OU2": "79"},
            "data_elements": {"DE1": {"indicator": "X"}, "DE2": {"indicator": "X"}},
        }
    )
    with pytest.raises(GovopsError) as info:
        write_data_value_set(rows=[ExportValue(indicator="X", area="79", period="2019", value=1)], mapping=mapping)
    assert [p.field for p in info.value.problems] == ["dims", "area"]
    assert "matches 2 DHIS2 data element/combo pairs" in info.value.problems[0].message


# -- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dhis2", "govops", "canonical"),
    [
        ("2019", "2019", "2019"),
        ("201912", "2019-12", "201912"),
        ("2019-12", "2019-12", "201912"),
        ("201901", "2019-01", "201901"),
        ("2019Q1", "2019-Q1", "2019Q1"),
        ("2019Q4", "2019-Q4", "2019Q4"),
        ("2019W5", "2019-W05", "2019W5"),
        ("2019W05", "2019-W05", "2019W5"),
        ("2020W53", "2020-W53", "2020W53"),
        ("20190115", "2019-01-15", "20190115"),
        ("2019-01-15", "2019-01-15", "20190115"),
        ("2019S1", "2019-S1", "2019S1"),
        ("2019S2", "2019-S2", "2019S2"),
        (" 2019Q1 ", "2019-Q1", "2019Q1"),
    ],
)
def test_supported_periods_both_ways(dhis2: str, govops: str, canonical: str) -> None:
    assert dhis2_period(dhis2) == govops
    assert to_dhis2_period(govops) == canonical


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("2019WedW5", "weekly (starting Wednesday)"),
        ("2019ThuW5", "weekly (starting Thursday)"),
        ("2019SatW5", "weekly (starting Saturday)"),
        ("2019SunW5", "weekly (starting Sunday)"),
        ("2019BiW1", "bi-weekly"),
        ("201901B", "bi-monthly"),
        ("2019NovQ1", "quarterly (starting November)"),
        ("2019AprilS1", "six-monthly (starting April)"),
        ("2019NovS1", "six-monthly (starting November)"),
        ("2019April", "financial year (starting April)"),
        ("2019July", "financial year (starting July)"),
        ("2019Sep", "financial year (starting September)"),
        ("2019Oct", "financial year (starting October)"),
        ("2019Nov", "financial year (starting November)"),
    ],
)
def test_dhis2_period_types_govops_lacks(text: str, form: str) -> None:
    with pytest.raises(GovopsError) as info:
        dhis2_period(text)
    assert info.value.code == "invalid_period"
    assert info.value.message == f"{text!r} is a DHIS2 {form} period, which govops has no period for"
    assert (info.value.hint or "").startswith("govops takes DHIS2 yearly (2019), six-monthly (2019S1)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("201913", "'201913' is not a valid DHIS2 monthly period: month 13 is not 01..12"),
        ("2019W53", "'2019W53' is not a valid DHIS2 weekly period: 2019 has only 52 ISO weeks"),
        ("2019Q5", "'2019Q5' is not a valid DHIS2 quarterly period: quarter 5 is not Q1..Q4"),
        ("2019S3", "'2019S3' is not a valid DHIS2 six-monthly period: half-year 3 is not S1 or S2"),
        ("20190230", "'20190230' is not a valid DHIS2 daily period: no such day"),
        ("1066", "'1066' is not a valid DHIS2 yearly period: year 1066 is outside 1900..2200"),
        ("2019q1", "'2019q1' is not a DHIS2 period"),
        ("Q1 2019", "'Q1 2019' is not a DHIS2 period"),
        ("", "'' is not a DHIS2 period"),
        # Digits of other scripts are not DHIS2 digits (Python's \d would take them).
        ("\uff12\uff10\uff11\uff19", "'\uff12\uff10\uff11\uff19' is not a DHIS2 period"),
    ],
)
def test_invalid_dhis2_periods(text: str, message: str) -> None:
    with pytest.raises(GovopsError) as info:
        dhis2_period(text)
    assert (info.value.code, info.value.message) == ("invalid_period", message)
    # The hint speaks DHIS2 (201912, 2019W5), never govops' own notation (2025-07, 2025-W31).
    assert "2019W5" in (info.value.hint or "") and "-W" not in (info.value.hint or "")


def test_multi_year_periods_have_no_dhis2_form() -> None:
    with pytest.raises(GovopsError) as info:
        to_dhis2_period("2021/2025")
    assert info.value.code == "invalid_period"
    assert "which DHIS2 has no period type for" in info.value.message


@st.composite
def govops_periods(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=date(1900, 1, 8), max_value=date(2200, 12, 24)))
    freq = draw(st.sampled_from([Freq.D, Freq.W, Freq.M, Freq.Q, Freq.S, Freq.A]))
    return str(Period.from_date(day, freq))


@given(govops_periods())
def test_periods_round_trip(period: str) -> None:
    assert dhis2_period(to_dhis2_period(period)) == period


@given(st.text(max_size=20) | st.from_regex(r"\d{4}[A-Za-z]{0,5}\d{0,3}B?", fullmatch=True))
def test_period_text_raises_only_govops_errors(text: str) -> None:
    try:
        result = dhis2_period(text)
    except GovopsError:
        return
    assert Period.parse(result)


# -- reading: problems and errors ---------------------------------------------------------------


def test_every_unmapped_uid_is_listed(mapping: Dhis2Mapping) -> None:
    doc = {
        "dataValues": [
            {"dataElement": "NOPE1", "period": "2018", "orgUnit": "O6uvpzGd5pu", "value": "1"},
            {
                "dataElement": "NOPE2",
                "period": "201912",
                "orgUnit": "ELSEWHERE",
                "categoryOptionCombo": "ODDCOMBO",
                "attributeOptionCombo": "PARTNER",
                "value": "2",
            },
            {"dataElement": "tpz77FcntKx", "period": "2018", "orgUnit": "O6uvpzGd5pu", "value": "3"},
        ]
    }
    rows = read_json(doc, mapping)
    assert [(n, p.field, p.value) for n, p in rows if isinstance(p, Problem)] == [
        (1, "dataElement", "NOPE1"),
        (2, "dataElement", "NOPE2"),
        (2, "orgUnit", "ELSEWHERE"),
        (2, "categoryOptionCombo", "ODDCOMBO"),
        (2, "attributeOptionCombo", "PARTNER"),
    ]
    assert rows[-1] == (3, {"indicator": "TA_GEN_EXT_FUND", "area": "79", "period": "2018", "value": 3.0, "dims": {}})
    first = rows[0][1]
    assert isinstance(first, Problem)
    assert first.message == "data element NOPE1 is not in the mapping"
    # Where, in DHIS2's own terms: the value's position, data element, org unit and period.
    assert (first.row, first.where) == (
        1,
        "data value set, value 1 (data element NOPE1, org unit O6uvpzGd5pu, period 2018)",
    )


def test_unknown_period_and_bad_values_are_problems(mapping: Dhis2Mapping) -> None:
    base = {"dataElement": "tpz77FcntKx", "orgUnit": "O6uvpzGd5pu"}
    doc = {
        "dataValues": [
            base | {"period": "2019AprilS1", "value": "1"},
            base | {"period": "2019", "value": "1,5"},
            base | {"period": "2019", "value": "1e999"},
            base | {"period": "2019", "value": 7},
            base | {"period": "2019", "value": True},
            base | {"period": 2019, "value": "1"},
            {"orgUnit": "O6uvpzGd5pu", "period": "2019"},
            "not an object",
        ]
    }
    rows = read_json(doc, mapping)
    found = [(n, item.field, item.message) if isinstance(item, Problem) else (n, item["value"]) for n, item in rows]
    assert found == [
        (1, "period", "'2019AprilS1' is a DHIS2 six-monthly (starting April) period, which govops has no period for"),
        (2, "value", "value '1,5' is not a number"),
        (3, "value", "value is too large to store"),
        (4, 7.0),
        (5, "value", "value true is not a number"),
        (6, "period", "period must be text, not a number"),
        (7, "dataElement", "dataElement is missing"),
        (7, "value", "value is missing"),
        (8, None, "the data value is not an object"),
    ]


def test_top_level_defaults_deleted_and_combos(mapping: Dhis2Mapping) -> None:
    doc = {
        "dataSet": "VEM58nY22sO",
        "period": "201912",
        "orgUnit": "O6uvpzGd5pu",
        "dataValues": [
            {"dataElement": "yHS1RqIFeD7", "categoryOptionCombo": "t5FrQ0GTvGf", "value": "4"},
            {"dataElement": "yHS1RqIFeD7", "categoryOptionCombo": "b449dBrOSFK", "value": "5", "deleted": True},
            {"dataElement": "tpz77FcntKx", "period": "2018", "value": "6", "comment": "ok", "followup": True},
            {"dataElement": "ENIbHvgpaQR", "value": "true"},
        ],
    }
    assert read_json(doc, mapping) == [
        (
            1,
            {
                "indicator": "TA_MAL_PV_MICR",
                "area": "79",
                "period": "2019-12",
                "value": 4.0,
                "dims": {"TA_AGE_MALARIA": "TA_P0Y--P5Y", "TA_SEX": "TA_F"},
            },
        ),
        (3, {"indicator": "TA_GEN_EXT_FUND", "area": "79", "period": "2018", "value": 6.0, "dims": {}}),
    ]


def test_attribute_option_combos_and_dims_conflicts() -> None:
    mapping = load_mapping(
        """
        org_units: {OU: "79"}
        data_elements:
          DE: {indicator: CASES, dims: {SEX: F}, unit: PERSONS}
          TEXT: skip
          SHORT: CASES
        category_option_combos: {MALE: {SEX: M}, OLD: {AGE: Y65}}
        attribute_option_combos: {NGO: {FUNDER: NGO}}
        """
    )
    assert mapping.data_elements["SHORT"].indicator == "CASES"
    value = {"dataElement": "DE", "period": "2019", "orgUnit": "OU", "value": "1"}
    doc = {
        "dataValues": [
            value | {"categoryOptionCombo": "OLD", "attributeOptionCombo": "NGO"},
            value | {"categoryOptionCombo": "MALE"},
            value | {"dataElement": "TEXT", "value": "hello"},
            value | {"attributeOptionCombo": ""},
        ]
    }
    rows = read_json(doc, mapping)
    assert rows[0] == (
        1,
        {
            "indicator": "CASES",
            "area": "79",
            "period": "2019",
            "value": 1.0,
            "dims": {"SEX": "F", "AGE": "Y65", "FUNDER": "NGO"},
            "unit": "PERSONS",
        },
    )
    conflict = rows[1][1]
    assert isinstance(conflict, Problem)
    assert conflict.message == "the data element and its combos give SEX two different codes (F and M)"
    assert rows[2][0] == 4 and len(rows) == 3
    # Without attribute_option_combos only the default one is accepted.
    plain = mapping_with(mapping, attribute_option_combos=None)
    refused = read_json({"dataValues": [value | {"attributeOptionCombo": "NGO"}]}, plain)
    assert [(p.field, p.value) for p in problems_of(refused)] == [("attributeOptionCombo", "NGO")]
    assert read_json({"dataValues": [value | {"attributeOptionCombo": DEFAULT_COMBO}]}, plain)[0][0] == 1


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        (b'{"dataValues": [', "unparseable", "dv.json, line 1 column 17"),
        (b"", "unparseable", "dv.json, line 1 column 1"),
        (b'{"dataValues": {}}', "bad_shape", "dv.json"),
        (b'{"observations": []}', "bad_shape", "dv.json"),
        (b"[]", "bad_shape", "dv.json"),
        (b'{"period": 2019, "dataValues": []}', "bad_shape", "dv.json"),
        (b"[" * 100_000, "unparseable", "dv.json"),
        (b"\xc3\x28", "unparseable", "dv.json"),
    ],
)
def test_unreadable_json(body: bytes, code: str, where: str, mapping: Dhis2Mapping) -> None:
    with pytest.raises(GovopsError) as info:
        read_data_value_set(body, fmt="json", mapping=mapping, where="dv.json")
    assert (info.value.code, info.value.where) == (code, where)


def test_looks_like_data_value_set() -> None:
    assert looks_like_data_value_set({"dataValues": []})
    assert not looks_like_data_value_set({"observations": []})
    assert not looks_like_data_value_set({"dataValues": "x"})
    assert not looks_like_data_value_set([{"dataValues": []}])


# -- the mapping --------------------------------------------------------------------------------


def test_mapping_with_a_yaml_error() -> None:
    with pytest.raises(GovopsError) as info:
        load_mapping("data_elements:\n  DE: {indicator: X\norg_units: {}\n", where="dhis2.yaml")
    assert info.value.code == "unparseable"
    assert (info.value.where or "").startswith("dhis2.yaml, line 3")


def test_mapping_lists_every_wrong_entry() -> None:
    text = """
data_elements:
  A: {indicator: cases}
  B: {indicator: X, skip: true}
  C: {indicator: X, dims: {SEX: 1}}
org_units: {OU: 79}
unmatched: maybe
typo: 1
"""
    with pytest.raises(GovopsError) as info:
        load_mapping(text)
    assert info.value.code == "invalid_mapping"
    fields = [p.field for p in info.value.problems]
    assert fields == [
        "org_units.OU",
        "data_elements.A.indicator",
        "data_elements.B",
        "data_elements.C.dims.SEX",
        "unmatched",
        "typo",
    ]
    assert "quoted text" in (info.value.problems[0].hint or "")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_mapping_that_is_not_a_mapping(text: str) -> None:
    with pytest.raises(GovopsError) as info:
        load_mapping(text)
    assert info.value.code == "invalid_mapping"


# -- fuzzing: only GovopsError may escape -------------------------------------------------------


def read_or_govops_error(body: bytes, fmt: str, mapping: Dhis2Mapping) -> None:
    try:
        rows = read_data_value_set(body, fmt="json" if fmt == "json" else "csv", mapping=mapping)
    except GovopsError:
        return
    for n, item in rows:
        assert isinstance(n, int)
        assert isinstance(item, Problem | dict)


@FUZZ
@given(body=st.binary(max_size=400), fmt=st.sampled_from(["json", "csv"]))
def test_fuzz_random_bytes(body: bytes, fmt: str, mapping: Dhis2Mapping) -> None:
    read_or_govops_error(body, fmt, mapping)


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(["json", "csv"]))
def test_fuzz_mutated_real_file(
    data: st.DataObject, fmt: str, bulk_bytes: bytes, bulk: list[dict[str, Any]], mapping: Dhis2Mapping
) -> None:
    original = bulk_bytes if fmt == "json" else bulk_as_csv(bulk[:40], header=list(CSV_COLUMNS))
    body = bytearray(original)
    action = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    if action == "truncate":
        del body[data.draw(st.integers(0, len(body))) :]
    elif action == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(body) - 1))
            body[i] = data.draw(st.integers(0, 255))
    else:
        i = data.draw(st.integers(0, len(body)))
        body[i:i] = data.draw(st.sampled_from([b",", b'"', b"\n", b"{", b"]", b"\x00", b"null", b"\xff", b"1e999"]))
    read_or_govops_error(bytes(body), fmt, mapping)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)


@FUZZ
@given(data=st.data())
def test_fuzz_edited_data_values(data: st.DataObject, bulk: list[dict[str, Any]], mapping: Dhis2Mapping) -> None:
    values = [dict(dv) for dv in bulk[:30]]
    for _ in range(data.draw(st.integers(1, 6))):
        target = data.draw(st.sampled_from(values))
        key = data.draw(st.sampled_from([*target.keys(), "deleted", "dataElement"]))
        if data.draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = data.draw(json_values)
    top = data.draw(st.dictionaries(st.sampled_from(["period", "orgUnit", "dataSet"]), json_values, max_size=2))
    read_or_govops_error(json.dumps(top | {"dataValues": values}).encode(), "json", mapping)
