"""SDMX REST endpoints: structures and stored observations, read back by sdmx1, the csv module and the SDMX reader."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sdmx
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue, reference_catalogue
from govops.exchange import service as exchange
from govops.interop.mapping.service import save_mapping
from govops.interop.sdmx import api as sdmx_api
from govops.interop.sdmx.api import (
    CSV1_TYPE,
    CSV_TYPE,
    JSON_TYPE,
    STRUCTURE_TYPE,
    XML_TYPE,
    choose_language,
    flow_id_of,
    flow_ids,
    negotiate_data,
    parse_updated_after,
)
from govops.interop.sdmx.read import load_mapping, read_sdmx
from govops.warehouse import service
from govops.warehouse.filters import ObservationFilter
from tests.audit.conftest import entries_since, last_id
from tests.audit.conftest import sign_in as sign_in  # the fixture, for this module
from tests.warehouse.conftest import TEST_CATALOGUE, obs, put

API = "/api/v1/sdmx"

# What the tests store: CPI (monthly, by COICOP_VN) at the nation and two provinces, quarterly PPI (also in
# PRICES), the confidential TREASURY_CASH and the public BUDGET_REVENUE (both in PUBLIC_FINANCE).
CPI_ROWS = [
    obs("CPI", "VN", "2025-05", 103.85, status="final"),
    obs("CPI", "VN", "2025-06", 104.0, status="final"),
    obs("CPI", "VN", "2025-07", 0.1 + 0.2 + 104, status="provisional"),
    obs("CPI", "79", "2025-06", 105.12, status="final"),
    obs("CPI", "79", "2025-07", 105.5, status="estimated"),
    obs("CPI", "79", "2025-07", 101.25, dims={"COICOP_VN": "01"}, status="final"),
    obs("CPI", "79", "2025-07", 99.875, dims={"COICOP_VN": "03"}, status="final"),
    obs("CPI", "01", "2025-07", 1 / 3 + 104, status="provisional"),
]
OTHER_ROWS = [
    obs("PPI_INDUSTRY", "VN", "2025-Q1", 108.5, status="final"),
    obs("PPI_INDUSTRY", "VN", "2025-Q2", 109.25, status="provisional"),
    obs("TREASURY_CASH", "VN", "2025-07", 912.5, status="final"),
    obs("BUDGET_REVENUE", "VN", "2025-07", 150000.0, status="final"),
]


@pytest.fixture
def stored(session: Session) -> None:
    put(session, CPI_ROWS + OTHER_ROWS)


def member_key(session: Session, system: str, clearance: str, *groups: str) -> dict[str, str]:
    member = exchange.create_member(session=session, agency="MOF", system=system, name="", clearance=clearance)
    for group in groups:
        exchange.grant(session=session, member=member, group=group, read=True, write=False)
    return {"Authorization": f"Bearer {exchange.issue_key(session=session, member=member).key}"}


def read_back(response: Response, structure: Any = None) -> Any:
    """What sdmx1 makes of an answer (Any: sdmx1's Message types do not name .data or .dataflow)."""
    assert response.status_code == 200, response.text
    return sdmx.read_sdmx(io.BytesIO(response.content), structure=structure)


def json_observations(response: Response) -> dict[tuple[str, ...], float]:
    """(FREQ, INDICATOR, REF_AREA, <breakdowns>..., TIME_PERIOD) -> value, by sdmx1 and pandas."""
    msg = read_back(response)
    frame = sdmx.to_pandas(msg).reset_index()
    dimensions = [d["id"] for d in response.json()["structure"]["dimensions"]["series"]] + ["TIME_PERIOD"]
    return {tuple(str(row[d]) for d in dimensions): row["value"] for _, row in frame.iterrows()}


def csv_rows(response: Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def stored_rows(session: Session, indicator: str) -> list[dict[str, Any]]:
    where = ObservationFilter.of(session=session, indicator=indicator)
    page = service.list_observations(session=session, where=where, limit=10_000)
    return [
        {"indicator": o.indicator, "area": o.area, "period": o.period, "value": o.value, "dims": o.dims}
        for o in page.items
    ]


CPI_EXPECTED = {
    ("M", "CPI", "VN", "_T", "2025-05"): 103.85,
    ("M", "CPI", "VN", "_T", "2025-06"): 104.0,
    ("M", "CPI", "VN", "_T", "2025-07"): 0.1 + 0.2 + 104,
    ("M", "CPI", "79", "_T", "2025-06"): 105.12,
    ("M", "CPI", "79", "_T", "2025-07"): 105.5,
    ("M", "CPI", "79", "01", "2025-07"): 101.25,
    ("M", "CPI", "79", "03", "2025-07"): 99.875,
    ("M", "CPI", "01", "_T", "2025-07"): 1 / 3 + 104,
}


# -- structures ------------------------------------------------------------------------------------


def test_structure_lists_a_flow_per_group_and_stored_indicator_the_caller_may_read(client: TestClient) -> None:
    response = client.get(f"{API}/structure")
    assert response.headers["content-type"] == STRUCTURE_TYPE
    msg = read_back(response)

    flows = set(msg.dataflow)
    assert {"PRICES", "PUBLIC_FINANCE", "MACRO", "APX_ECONOMY", "EX_STATISTICS"} <= flows
    assert {"CPI", "PPI_INDUSTRY", "BUDGET_REVENUE", "GDP_CURRENT"} <= flows
    # Confidential and internal indicators are not for an anonymous caller; derived ones are never stored.
    assert not flows & {"TREASURY_CASH", "GDP_FLASH", "M2", "CREDIT_OUTSTANDING", "CPI_MOM", "CPI_YOY"}
    # 20 groups + 81 indicators - 2 confidential - 6 internal - 19 derived (2 of them internal).
    assert len(flows) == 20 + 81 - 2 - 6 - 19 + 2
    indicators = msg.codelist["CL_INDICATOR"]
    assert "CPI" in indicators and "TREASURY_CASH" not in indicators and "M2" not in indicators

    assert msg.dataflow["PRICES"].name.localizations == {"vi": "Giá cả và lạm phát", "en": "Prices and inflation"}
    assert msg.dataflow["CPI"].name.localizations == {"vi": "Chỉ số giá tiêu dùng", "en": "Consumer price index"}
    assert [d.id for d in msg.structure["DSD_PRICES"].dimensions] == [
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "COICOP_VN",
        "TIME_PERIOD",
    ]
    assert [d.id for d in msg.structure["DSD_PUBLIC_FINANCE"].dimensions] == [
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "TIME_PERIOD",
    ]
    assert msg.codelist["CL_UNIT"]["INDEX_2019"].name.localizations["en"] == "Index (base year 2019 = 100)"
    assert msg.codelist["CL_COICOP_VN"]["03"].name.localizations["vi"] == "May mặc, mũ nón và giày dép"


def test_structure_areas_come_from_the_area_table_with_their_parents(client: TestClient) -> None:
    areas = read_back(client.get(f"{API}/dataflow/CPI")).codelist["CL_AREA"]
    assert len(areas) == 3385  # the nation, 63 provinces (34 current), 3,321 wards
    ward = areas["00430"]
    assert ward.name.localizations == {"vi": "Xã Đa Phúc", "en": "Xa Da Phuc"}
    assert (ward.parent.id, ward.parent.parent.id) == ("01", "VN")
    assert areas["79"].name.localizations["vi"] == "Thành phố Hồ Chí Minh"


def test_one_dataflow_comes_with_its_structure_in_every_sdmx_spelling(client: TestClient) -> None:
    msg = read_back(client.get(f"{API}/dataflow/CPI"))
    assert list(msg.dataflow) == ["CPI"]
    assert list(msg.structure) == ["DSD_CPI"]
    assert [d.id for d in msg.structure["DSD_CPI"].dimensions] == [
        "FREQ",
        "INDICATOR",
        "REF_AREA",
        "COICOP_VN",
        "TIME_PERIOD",
    ]
    assert [c.id for c in msg.codelist["CL_INDICATOR"]] == ["CPI"]
    for path in ("dataflow/GOVOPS/CPI/latest", "dataflow/all/CPI/1.0", "dataflow/GOVOPS,CPI,1.0"):
        assert list(read_back(client.get(f"{API}/{path}")).dataflow) == ["CPI"], path
    everything = read_back(client.get(f"{API}/dataflow/GOVOPS/all/latest"))
    assert len(everything.dataflow) == len(read_back(client.get(f"{API}/dataflow")).dataflow) == 76


@pytest.mark.parametrize(
    "path",
    ["dataflow/NO_SUCH", "dataflow/ECB/CPI/latest", "dataflow/GOVOPS/CPI/2.0", "dataflow/CPI_MOM", "data/NO_SUCH"],
)
def test_an_unknown_flow_is_404_with_a_hint(client: TestClient, path: str) -> None:
    response = client.get(f"{API}/{path}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["hint"]


def test_a_group_whose_code_is_an_indicator_code_is_served_as_group(client: TestClient, session: Session) -> None:
    doc = TEST_CATALOGUE.model_dump(mode="json")
    doc["groups"] += [
        {"code": "T_FLOW", "kind": "report", "name_vi": "Nhóm T_FLOW", "name_en": "T_FLOW group"},
        {"code": "T_SECRET", "kind": "report", "name_vi": "Nhóm T_SECRET", "name_en": "T_SECRET group"},
    ]
    for indicator in doc["indicators"]:
        if indicator["code"] in ("T_FLOW", "T_FLOW2"):
            indicator["groups"] = ["T_GROUP", "T_FLOW", "T_SECRET"]
    import_catalogue(session=session, doc=CatalogueDoc.model_validate(doc))
    msg = read_back(client.get(f"{API}/structure"))
    assert msg.dataflow["T_FLOW"].name.localizations["en"] == "Test indicator T_FLOW"
    assert msg.dataflow["T_FLOW_GROUP"].name.localizations["en"] == "T_FLOW group"
    assert [c.id for c in read_back(client.get(f"{API}/dataflow/T_FLOW_GROUP")).codelist["CL_INDICATOR"]] == [
        "T_FLOW",
        "T_FLOW2",
    ]
    # T_SECRET is confidential, so this caller has no flow of that id; the group's id is the same for everyone.
    assert "T_SECRET" not in msg.dataflow
    assert msg.dataflow["T_SECRET_GROUP"].name.localizations["en"] == "T_SECRET group"


def test_flow_ids_rename_only_groups_that_clash() -> None:
    assert flow_ids(indicators=["CPI", "GDP"], groups=["PRICES", "CPI"]) == {"PRICES": "PRICES", "CPI": "CPI_GROUP"}
    assert flow_ids(indicators=["A", "A_GROUP"], groups=["A"]) == {"A": "A_GROUP2"}
    assert flow_id_of(flow_ref="GOVOPS,CPI,1.0") == flow_id_of(flow_ref="all,CPI") == "CPI"


def test_structure_refuses_a_type_it_cannot_write(client: TestClient) -> None:
    response = client.get(f"{API}/structure", headers={"Accept": "application/vnd.sdmx.structure+json;version=1.0.0"})
    assert response.status_code == 406
    assert "application/vnd.sdmx.structure+xml" in response.json()["error"]["hint"]
    assert client.get(f"{API}/structure", headers={"Accept": "application/xml"}).headers["content-type"] == (
        "application/xml"
    )


# -- data in the three formats ---------------------------------------------------------------------


@pytest.mark.usefixtures("stored")
def test_json_data_of_a_flow_reads_back_in_sdmx1_to_the_stored_values(client: TestClient) -> None:
    response = client.get(f"{API}/data/CPI/all")
    assert response.headers["content-type"] == JSON_TYPE
    got = json_observations(response)
    assert got.keys() == CPI_EXPECTED.keys()
    for key, value in CPI_EXPECTED.items():
        assert repr(got[key]) == repr(value), key
    [dataset] = read_back(response).data
    assert len(dataset.series) == 5

    # The whole flow (no key) is the same message, and the flow may be an SDMX flow reference.
    assert json_observations(client.get(f"{API}/data/CPI")) == got
    assert json_observations(client.get(f"{API}/data/GOVOPS,CPI,1.0/...")) == got


@pytest.mark.usefixtures("stored")
def test_json_observation_status_and_unit_come_through(client: TestClient) -> None:
    document = client.get(f"{API}/data/CPI/M.CPI.79._T").json()
    [status] = document["structure"]["attributes"]["observation"]
    time_values = [v["id"] for v in document["structure"]["dimensions"]["observation"][0]["values"]]
    [series] = document["dataSets"][0]["series"].values()
    by_period = {time_values[int(i)]: status["values"][o[1]]["id"] for i, o in series["observations"].items()}
    assert by_period == {"2025-06": "A", "2025-07": "E"}
    unit = document["structure"]["attributes"]["series"][0]
    assert unit["values"][series["attributes"][0]] == {"id": "INDEX_2019", "name": "Index (base year 2019 = 100)"}


@pytest.mark.usefixtures("stored")
def test_csv_data_reads_back_with_the_csv_module(client: TestClient) -> None:
    response = client.get(f"{API}/data/PRICES/M.CPI.VN+79.", params={"format": "sdmx-csv"})
    assert response.headers["content-type"] == CSV_TYPE
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "STRUCTURE",
        "STRUCTURE_ID",
        "ACTION",
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
    got = {(r["FREQ"], r["INDICATOR"], r["REF_AREA"], r["COICOP_VN"], r["TIME_PERIOD"]): r for r in rows}
    want = {k: v for k, v in CPI_EXPECTED.items() if k[2] in ("VN", "79")}
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert float(got[key]["OBS_VALUE"]) == value, key
    assert {(r["STRUCTURE"], r["STRUCTURE_ID"], r["ACTION"]) for r in rows} == {("dataflow", "GOVOPS:PRICES(1.0)", "I")}
    assert got[("M", "CPI", "VN", "_T", "2025-07")]["OBS_STATUS"] == "P"
    assert got[("M", "CPI", "79", "03", "2025-07")]["UNIT_MEASURE"] == "INDEX_2019"
    assert got[("M", "CPI", "79", "03", "2025-07")]["DECIMALS"] == "2"


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("flow", ["CPI", "PRICES"])
def test_csv_data_reads_back_in_sdmx1_to_the_same_observations(client: TestClient, flow: str) -> None:
    structure = read_back(client.get(f"{API}/dataflow/{flow}")).dataflow[flow]
    csv_answer = client.get(f"{API}/data/{flow}", params={"format": "sdmx-csv"})
    assert csv_answer.headers["content-type"] == CSV_TYPE
    # sdmx1 reads SDMX-CSV 2.0 only, against the dataflow's structure.
    message = sdmx.read_sdmx(io.BytesIO(csv_answer.content), format="csv", structure=structure)
    from_csv = sdmx.to_pandas(message.data[0])
    got = {tuple(str(code) for code in key): value for key, value in from_csv.items()}
    from_json = json_observations(client.get(f"{API}/data/{flow}"))
    assert got == from_json
    assert len(got) == (len(CPI_EXPECTED) + (2 if flow == "PRICES" else 0))


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"format": "sdmx-csv1"}, {}),
        ({"format": "csv1"}, {}),
        ({}, {"Accept": "application/vnd.sdmx.data+csv;version=1.0.0"}),
        ({}, {"Accept": "application/vnd.sdmx.data+csv; version=1.0"}),
    ],
)
def test_csv_1_0_on_request(client: TestClient, params: dict[str, str], headers: dict[str, str]) -> None:
    response = client.get(f"{API}/data/CPI/M.CPI.79.", params=params, headers=headers)
    assert response.headers["content-type"] == CSV1_TYPE
    rows = csv_rows(response)
    assert list(rows[0])[:2] == ["DATAFLOW", "FREQ"] and {r["DATAFLOW"] for r in rows} == {"GOVOPS:CPI(1.0)"}
    assert {(r["COICOP_VN"], r["TIME_PERIOD"]): float(r["OBS_VALUE"]) for r in rows} == {
        (k[3], k[4]): v for k, v in CPI_EXPECTED.items() if k[2] == "79"
    }


@pytest.mark.usefixtures("stored")
def test_csv_labels_and_language(client: TestClient) -> None:
    rows = csv_rows(client.get(f"{API}/data/CPI/M.CPI.79.03", params={"format": "csv", "labels": "both", "lang": "vi"}))
    [row] = rows
    assert row["REF_AREA: Địa bàn"] == "79: Thành phố Hồ Chí Minh"
    assert row["COICOP_VN: Nhóm hàng hóa và dịch vụ trong rổ hàng tính chỉ số giá tiêu dùng"] == (
        "03: May mặc, mũ nón và giày dép"
    )
    english = csv_rows(
        client.get(
            f"{API}/data/CPI/M.CPI.79.03",
            headers={"Accept": "application/vnd.sdmx.data+csv;version=1.0.0;labels=both", "Accept-Language": "en"},
        )
    )
    assert english[0]["REF_AREA: Reference area"] == "79: Thanh pho Ho Chi Minh"
    assert client.get(f"{API}/data/CPI", params={"labels": "names"}).status_code == 400
    assert client.get(f"{API}/data/CPI", params={"lang": "fr"}).status_code == 400
    names = client.get(f"{API}/data/CPI/M.CPI.79.03", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}).json()
    assert names["structure"]["name"] == "Chỉ số giá tiêu dùng"


@pytest.mark.usefixtures("stored")
def test_xml_data_reads_back_in_sdmx1_with_the_dataflow_structure(client: TestClient) -> None:
    structure = read_back(client.get(f"{API}/dataflow/CPI")).structure["DSD_CPI"]
    response = client.get(f"{API}/data/CPI/M.CPI..", headers={"Accept": XML_TYPE.replace(" ", "")})
    assert response.headers["content-type"] == XML_TYPE
    msg = read_back(response, structure=structure)
    [dataset] = msg.data
    got = {
        (
            *(str(obs.series_key[d].value) for d in ("FREQ", "INDICATOR", "REF_AREA", "COICOP_VN")),
            obs.dim.values[0].value,
        ): obs.value
        for obs in dataset.obs
    }
    # sdmx1 keeps the values of structure-specific XML as the text written, which is repr() of the float.
    assert got == {key: repr(value) for key, value in CPI_EXPECTED.items()}
    statuses = {str(o.attached_attribute["OBS_STATUS"].value) for o in dataset.obs}
    assert statuses == {"A", "P", "E"}


@pytest.mark.usefixtures("stored")
def test_an_empty_answer_is_a_valid_empty_message_in_each_format(client: TestClient, session: Session) -> None:
    structure = read_back(client.get(f"{API}/dataflow/CPI")).structure["DSD_CPI"]
    key = f"{API}/data/CPI/M.CPI.48."  # Da Nang: nothing stored
    assert sdmx.to_pandas(read_back(client.get(key))).empty
    assert csv_rows(client.get(key, params={"format": "sdmx-csv"})) == []
    assert len(read_back(client.get(key, params={"format": "sdmx-xml"}), structure=structure).data[0].obs) == 0
    # A flow whose indicators hold no data at all answers the same way.
    assert read_back(client.get(f"{API}/data/GDP_CURRENT")).data[0].obs == []


# -- what the key and the query parameters select ---------------------------------------------------


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("M.CPI.79.", {k for k in CPI_EXPECTED if k[2] == "79"}),
        (
            "M.CPI.79+01._T",
            {
                ("M", "CPI", "79", "_T", "2025-06"),
                ("M", "CPI", "79", "_T", "2025-07"),
                ("M", "CPI", "01", "_T", "2025-07"),
            },
        ),
        ("...01+03", {("M", "CPI", "79", "01", "2025-07"), ("M", "CPI", "79", "03", "2025-07")}),
        ("..VN+48.", {k for k in CPI_EXPECTED if k[2] == "VN"}),
        ("Q...", set()),
        ("A.CPI..", set()),
        (".GDP_CURRENT..", set()),
    ],
)
def test_key_codes_alternatives_and_wildcards(client: TestClient, key: str, expected: set[tuple[str, ...]]) -> None:
    assert set(json_observations(client.get(f"{API}/data/CPI/{key}"))) == expected


@pytest.mark.usefixtures("stored")
def test_frequency_selects_the_quarterly_indicator_of_a_group(client: TestClient) -> None:
    got = json_observations(client.get(f"{API}/data/PRICES/Q..."))
    assert got == {
        ("Q", "PPI_INDUSTRY", "VN", "_T", "2025-Q1"): 108.5,
        ("Q", "PPI_INDUSTRY", "VN", "_T", "2025-Q2"): 109.25,
    }
    everything = json_observations(client.get(f"{API}/data/PRICES"))
    assert len(everything) == len(CPI_EXPECTED) + 2


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("params", "periods"),
    [
        ({"startPeriod": "2025-07"}, {"2025-07"}),
        ({"endPeriod": "2025-06"}, {"2025-05", "2025-06"}),
        ({"startPeriod": "2025-06", "endPeriod": "2025-06"}, {"2025-06"}),
        ({"startPeriod": "2025-M06", "endPeriod": "2025-Q2"}, {"2025-06"}),
        ({"startPeriod": "2025", "endPeriod": "2025"}, {"2025-05", "2025-06", "2025-07"}),
        ({"startPeriod": "2026"}, set()),
    ],
)
def test_start_and_end_period_filter(client: TestClient, params: dict[str, str], periods: set[str]) -> None:
    got = json_observations(client.get(f"{API}/data/CPI/M.CPI.VN.", params=params))
    assert {k[-1] for k in got} == periods


def test_updated_after_gives_what_was_recorded_after_that_moment(client: TestClient, session: Session) -> None:
    put(session, CPI_ROWS)
    between = datetime.now(UTC)
    put(session, [obs("CPI", "VN", "2025-07", 104.5, status="final"), obs("CPI", "VN", "2025-08", 104.9)])
    got = json_observations(client.get(f"{API}/data/CPI", params={"updatedAfter": between.isoformat()}))
    assert got == {("M", "CPI", "VN", "_T", "2025-07"): 104.5, ("M", "CPI", "VN", "_T", "2025-08"): 104.9}
    earlier = (between - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(json_observations(client.get(f"{API}/data/CPI", params={"updatedAfter": earlier}))) == 9


# -- who sees what -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("stored")
def test_an_anonymous_caller_does_not_see_a_confidential_indicator(client: TestClient) -> None:
    assert client.get(f"{API}/data/TREASURY_CASH").status_code == 404
    assert client.get(f"{API}/dataflow/TREASURY_CASH").status_code == 404
    got = json_observations(client.get(f"{API}/data/PUBLIC_FINANCE"))
    assert got == {("M", "BUDGET_REVENUE", "VN", "2025-07"): 150000.0}
    # Naming it in the key of its group's flow gives nothing either.
    assert json_observations(client.get(f"{API}/data/PUBLIC_FINANCE/.TREASURY_CASH.")) == {}


@pytest.mark.usefixtures("stored")
def test_a_member_key_reads_its_groups_up_to_its_clearance_and_the_read_is_audited(
    client: TestClient, session: Session
) -> None:
    cleared = member_key(session, "treasury", "confidential", "PUBLIC_FINANCE")
    flows = set(read_back(client.get(f"{API}/structure", headers=cleared)).dataflow)
    assert flows == flows_of_public_finance()
    assert client.get(f"{API}/data/CPI", headers=cleared).status_code == 404  # PRICES is not granted

    start = last_id(session)
    response = client.get(f"{API}/data/PUBLIC_FINANCE/M..VN", headers=cleared)
    assert json_observations(response) == {
        ("M", "BUDGET_REVENUE", "VN", "2025-07"): 150000.0,
        ("M", "TREASURY_CASH", "VN", "2025-07"): 912.5,
    }
    [entry] = entries_since(session, start, action="confidential.read")
    assert (entry.target, entry.actor_kind, entry.actor) == ("TREASURY_CASH", "member", "MOF/treasury")
    assert json.loads(entry.detail) == {"path": f"{API}/data/PUBLIC_FINANCE/M..VN", "query": "", "rows": 2}

    # Public data alone leaves no entry.
    start = last_id(session)
    assert client.get(f"{API}/data/BUDGET_REVENUE", headers=cleared).status_code == 200
    assert entries_since(session, start, action="confidential.read") == []

    internal = member_key(session, "budget", "internal", "PUBLIC_FINANCE")
    assert client.get(f"{API}/data/TREASURY_CASH", headers=internal).status_code == 404
    assert client.get(f"{API}/data/BUDGET_REVENUE", headers=internal).status_code == 200


def flows_of_public_finance() -> set[str]:
    """The stored indicators of PUBLIC_FINANCE and every group that holds one of them, from the catalogue."""
    members = [i for i in reference_catalogue().indicators if "PUBLIC_FINANCE" in i.groups and i.formula is None]
    return {i.code for i in members} | {group for i in members for group in i.groups}


@pytest.mark.usefixtures("stored")
def test_a_signed_in_analyst_reads_confidential_data_and_a_viewer_does_not(
    client: TestClient, session: Session, sign_in: Callable[[str], TestClient]
) -> None:
    web = sign_in("analyst")
    start = last_id(session)
    got = json_observations(web.get(f"{API}/data/TREASURY_CASH"))
    assert got == {("M", "TREASURY_CASH", "VN", "2025-07"): 912.5}
    [entry] = entries_since(session, start, action="confidential.read")
    assert (entry.target, entry.actor) == ("TREASURY_CASH", "t.analyst")


@pytest.mark.usefixtures("stored")
def test_a_signed_in_viewer_reads_public_data_only(client: TestClient, sign_in: Callable[[str], TestClient]) -> None:
    web = sign_in("viewer")
    assert web.get(f"{API}/data/TREASURY_CASH").status_code == 404
    assert "TREASURY_CASH" not in read_back(web.get(f"{API}/structure")).dataflow


# -- content negotiation -----------------------------------------------------------------------------


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, JSON_TYPE),
        ("*/*", JSON_TYPE),
        ("application/vnd.sdmx.data+json;version=1.0.0", JSON_TYPE),
        ("application/json", "application/json"),
        ("application/vnd.sdmx.data+csv;version=2.0.0", CSV_TYPE),
        ("application/vnd.sdmx.data+csv", CSV_TYPE),
        ("application/vnd.sdmx.data+csv;version=1.0.0", CSV1_TYPE),
        ("text/csv", "text/csv; charset=utf-8"),
        ("application/vnd.sdmx.structurespecificdata+xml;version=2.1", XML_TYPE),
        ("application/xml", "application/xml"),
        ("application/vnd.sdmx.genericdata+xml;version=2.1, text/csv;q=0.5", "text/csv; charset=utf-8"),
        ("text/csv;q=0.2, application/vnd.sdmx.data+json;version=1.0.0;q=0.9", JSON_TYPE),
        ("text/html,application/xhtml+xml,*/*;q=0.8", JSON_TYPE),
    ],
)
def test_accept_header_chooses_the_format(client: TestClient, accept: str | None, content_type: str) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = client.get(f"{API}/data/CPI/M.CPI.VN.", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    assert "Accept" in response.headers["vary"]
    if "csv" in content_type:
        assert len(csv_rows(response)) == 3
    elif "json" in content_type:
        assert len(json_observations(response)) == 3
    else:
        assert response.content.count(b"OBS_VALUE=") == 3


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.sdmx.genericdata+xml;version=2.1",
        "application/vnd.sdmx.data+json;version=2.0.0",
        "application/vnd.sdmx.data+csv;version=3.0.0",
        "application/pdf, image/*",
        "application/json;q=0",
    ],
)
def test_an_accept_nobody_serves_is_406(client: TestClient, accept: str) -> None:
    response = client.get(f"{API}/data/CPI", headers={"Accept": accept})
    assert response.status_code == 406
    error = response.json()["error"]
    assert error["code"] == "not_acceptable" and "application/vnd.sdmx.data+json" in error["hint"]


@pytest.mark.parametrize(
    ("lang", "accept_language", "chosen"),
    [
        (None, None, "en"),
        (None, "vi-VN,vi;q=0.9,en;q=0.8", "vi"),
        (None, "en;q=0.5, vi", "vi"),
        (None, "vi;q=0, en", "en"),
        (None, "fr, de;q=0.9", "en"),
        ("vi", "en", "vi"),
    ],
)
def test_language_comes_from_lang_then_accept_language(
    lang: str | None, accept_language: str | None, chosen: str
) -> None:
    assert choose_language(lang=lang, accept_language=accept_language) == chosen


def test_format_overrides_accept_and_an_unknown_format_is_406(client: TestClient) -> None:
    response = client.get(f"{API}/data/CPI", params={"format": "csvdata"}, headers={"Accept": "application/pdf"})
    assert response.headers["content-type"] == CSV_TYPE
    refused = client.get(f"{API}/data/CPI", params={"format": "genericdata"})
    assert refused.status_code == 406 and "sdmx-csv" in refused.json()["error"]["hint"]
    assert negotiate_data(accept=None, format_name="structurespecificdata").format == "sdmx-xml"


# -- bad requests ------------------------------------------------------------------------------------


def test_a_key_of_the_wrong_shape_is_400_naming_the_dimensions(client: TestClient) -> None:
    response = client.get(f"{API}/data/CPI/M.CPI")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_key"
    assert "FREQ.INDICATOR.REF_AREA.COICOP_VN" in error["message"]
    public_finance = client.get(f"{API}/data/PUBLIC_FINANCE/M.CPI..").json()["error"]
    assert "FREQ.INDICATOR.REF_AREA" in public_finance["message"] and "COICOP" not in public_finance["message"]
    assert client.get(f"{API}/data/CPI/M.CPI.79+.").json()["error"]["code"] == "invalid_key"


@pytest.mark.parametrize(
    ("params", "where", "text"),
    [
        ({"startPeriod": "2025-13"}, "startPeriod", "2025-13"),
        ({"endPeriod": "July 2025"}, "endPeriod", "July 2025"),
        ({"startPeriod": "2025-08", "endPeriod": "2025-07"}, "startPeriod", "after endPeriod"),
        ({"updatedAfter": "yesterday"}, "updatedAfter", "not a date and time"),
        ({"updatedAfter": "2025-08-01T00:00:00"}, "updatedAfter", "no time zone"),
        ({"updatedAfter": "2025-08-01T00:00:00 07:00"}, "updatedAfter", "not a date and time"),
    ],
)
def test_a_bad_period_or_time_is_400_with_a_hint(
    client: TestClient, params: dict[str, str], where: str, text: str
) -> None:
    response = client.get(f"{API}/data/CPI", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["where"] == where and text in error["message"] and error["hint"]


def test_updated_after_reads_iso_times_with_a_zone() -> None:
    assert parse_updated_after("2025-08-01T07:00:00+07:00") == datetime(2025, 8, 1, tzinfo=UTC)
    assert parse_updated_after("2025-08-01T00:00:00Z") == datetime(2025, 8, 1, tzinfo=UTC)
    assert parse_updated_after(None) is None


def test_an_unencoded_plus_in_updated_after_gets_its_own_hint(client: TestClient) -> None:
    response = client.get(f"{API}/data/CPI?updatedAfter=2025-08-01T00:00:00+07:00")
    assert response.status_code == 400
    assert "%2B" in response.json()["error"]["hint"]


@pytest.mark.usefixtures("stored")
def test_too_many_observations_are_refused_with_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdmx_api, "MAX_XML_OBSERVATIONS", 5)
    response = client.get(f"{API}/data/CPI", params={"format": "sdmx-xml"})
    assert response.status_code == 413
    assert "SDMX-JSON" in response.json()["error"]["hint"]
    assert client.get(f"{API}/data/CPI/M.CPI.VN.", params={"format": "sdmx-xml"}).status_code == 200


# -- round trip through the importer -----------------------------------------------------------------

ROUND_TRIP_MAPPING = """
dataflow: {flow}
series:
  - match: {{INDICATOR: CPI}}
    indicator: CPI
    area_from: REF_AREA
    dims_from: {{COICOP_VN: COICOP_VN}}
    status_from: OBS_STATUS
    unit_from: UNIT_MEASURE
  - match: {{INDICATOR: PPI_INDUSTRY}}
    indicator: PPI_INDUSTRY
    area_from: REF_AREA
    status_from: OBS_STATUS
    unit_from: UNIT_MEASURE
"""


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("fmt", ["sdmx-json", "sdmx-csv"])
@pytest.mark.parametrize("flow", ["CPI", "PRICES"])
def test_exported_data_imports_back_to_the_stored_observations(
    client: TestClient, session: Session, fmt: str, flow: str
) -> None:
    response = client.get(f"{API}/data/{flow}", params={"format": fmt})
    mapping = load_mapping(ROUND_TRIP_MAPPING.format(flow=flow))
    result = read_sdmx(response.content, mapping=mapping, where=f"{flow}.{fmt}")
    rows = [item for _, item in result]
    assert all(isinstance(row, dict) for row in rows), rows
    # The export writes the total as _T; govops leaves totals out of dims.
    imported = [
        {
            "indicator": r["indicator"],
            "area": r["area"],
            "period": r["period"],
            "value": r["value"],
            "dims": {d: c for d, c in r["dims"].items() if c != "_T"},
        }
        for r in rows
        if isinstance(r, dict)
    ]
    indicators = ["CPI"] if flow == "CPI" else ["CPI", "PPI_INDUSTRY"]
    expected = [row for code in indicators for row in stored_rows(session, code)]

    def order(row: dict[str, Any]) -> tuple[str, ...]:
        return (row["indicator"], row["area"], row["period"], json.dumps(row["dims"], sort_keys=True))

    assert sorted(imported, key=order) == sorted(expected, key=order)
    assert {r["unit"] for r in rows if isinstance(r, dict)} == (
        {"INDEX_2019"} | ({"INDEX_2020"} if flow == "PRICES" else set())
    )
    # Written back, every row (value, status, unit) is what the store holds already.
    summary = put(session, [r for r in rows if isinstance(r, dict)])
    assert (summary.received, summary.unchanged, summary.created, summary.updated) == (len(rows), len(rows), 0, 0)


@pytest.mark.usefixtures("stored")
def test_one_rule_takes_the_indicator_from_its_dimension(client: TestClient) -> None:
    exported = client.get(f"{API}/data/CPI", params={"format": "sdmx-json"}).content
    per_indicator = read_sdmx(exported, mapping=load_mapping(ROUND_TRIP_MAPPING.format(flow="CPI")))
    one_rule = load_mapping(
        "dataflow: CPI\nseries:\n  - indicator_from: INDICATOR\n    area_from: REF_AREA\n"
        "    dims_from: {COICOP_VN: COICOP_VN}\n    status_from: OBS_STATUS\n    unit_from: UNIT_MEASURE\n"
    )
    assert read_sdmx(exported, mapping=one_rule) == per_indicator and len(per_indicator) > 0
    renamed = load_mapping(
        "dataflow: CPI\nseries:\n  - indicator_from: INDICATOR\n    indicator_codes: {OTHER: CPI}\n    area: VN\n"
    )
    problems = [item for _, item in read_sdmx(exported, mapping=renamed) if not isinstance(item, dict)]
    assert problems and problems[0].message == "INDICATOR 'CPI' is not in indicator_codes"


GROUP_MAPPING = """
dataflow: PRICES
series:
  - indicator_from: INDICATOR
    area_from: REF_AREA
    dims_from: {COICOP_VN: COICOP_VN}
    status_from: OBS_STATUS
    unit_from: UNIT_MEASURE
"""


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("sdmx-json", "application/vnd.sdmx.data+json"),
        ("sdmx-csv", "application/vnd.sdmx.data+csv"),
        ("sdmx-csv1", "application/vnd.sdmx.data+csv"),
        ("sdmx-xml", "application/vnd.sdmx.structurespecificdata+xml"),
    ],
)
def test_a_group_dataflow_export_submitted_back_is_unchanged_in_every_format(
    client: TestClient, session: Session, fmt: str, content_type: str
) -> None:
    # PRICES holds CPI (by COICOP_VN) and PPI_INDUSTRY (no breakdown): PPI's series say COICOP_VN=_T.
    structure = client.get(f"{API}/dataflow/PRICES").text
    save_mapping(session=session, name="prices-back", kind="sdmx", text=GROUP_MAPPING, structure=structure, by="test")
    member = exchange.create_member(session=session, agency="NSO", system="sdmx-back", name="")
    exchange.grant(session=session, member=member, group="PRICES", read=True, write=True)
    key = exchange.issue_key(session=session, member=member).key
    exported = client.get(f"{API}/data/PRICES", params={"format": fmt})
    assert exported.status_code == 200 and b"PPI_INDUSTRY" in exported.content

    answer = client.post(
        "/api/v1/submissions",
        params={"mapping": "prices-back"},
        content=exported.content,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"back-{fmt}", "Content-Type": content_type},
    )
    receipt = answer.json()
    assert answer.status_code == 201, receipt
    stored = len(CPI_ROWS) + 2
    assert (receipt["received"], receipt["unchanged"], receipt["created"], receipt["updated"]) == (stored, stored, 0, 0)
    assert receipt["rejected"] == 0 and receipt["problems"] == []
