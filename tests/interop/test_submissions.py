"""Every format through the one submission path: SDMX and DHIS2 with a stored mapping, rights, receipts, replays."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.events.models import DomainEvent
from govops.exchange import service
from govops.exchange.models import Submission
from govops.interop.mapping.service import save_mapping
from govops.warehouse.models import Observation
from tests.conftest import shared_file
from tests.interop.dhis2_sample import load_dhis2_sample

FX = CatalogueDoc.model_validate(
    {
        "units": [
            {"code": "USD_PER_EUR", "name_vi": "USD/EUR", "name_en": "USD per EUR", "symbol": "USD/EUR",
             "quantity": "exchange_rate_usd_eur", "factor": 1},
        ],
        "indicators": [
            {"code": "FX_USD_EUR", "name_vi": "Tỷ giá USD/EUR (ECB)", "name_en": "USD/EUR reference rate (ECB)",
             "unit": "USD_PER_EUR", "periodicity": "M", "dimensions": [], "area_aggregation": "none",
             "time_aggregation": "mean", "owner": "SBV", "groups": ["EX_BANKING"], "classification": "public",
             "decimals": 4},
        ],
    }
)  # fmt: skip
ECB_MAPPING = """
dataflow: EXR
series:
  - match: {FREQ: M, CURRENCY: USD, CURRENCY_DENOM: EUR, EXR_TYPE: SP00, EXR_SUFFIX: A}
    indicator: FX_USD_EUR
    area: VN
    status_from: OBS_STATUS
"""


def _member(session: Session, agency: str, system: str, group: str) -> str:
    member = service.create_member(session=session, agency=agency, system=system, name=system)
    service.grant(session=session, member=member, group=group, read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _send(client: TestClient, key: str, body: bytes, content_type: str, mapping: str | None = None) -> dict:
    response = client.post(
        "/api/v1/submissions",
        params={"mapping": mapping} if mapping else {},
        content=body,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex, "Content-Type": content_type},
    )
    return {**response.json(), "http": response.status_code}


def _stored(session: Session, indicator: str) -> dict[tuple[str, str], float]:
    from govops.catalog.models import Area, Indicator

    rows = session.execute(
        select(Area.code, Observation.period, Observation.value)
        .join(Area, Area.id == Observation.area_id)
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .where(Indicator.code == indicator)
    ).all()
    return {(area, period): value for area, period, value in rows}


def test_every_ecb_observation_lands_with_its_exact_value_and_period(session: Session, client: TestClient) -> None:
    import_catalogue(session=session, doc=FX)
    structure = shared_file("sdmx", "ECB_EXR", "1", "structure-full.xml").read_text(encoding="utf-8")
    save_mapping(session=session, name="ecb-exr", kind="sdmx", text=ECB_MAPPING, structure=structure, by="test")
    key = _member(session, "SBV", "ecb-feed", "EX_BANKING")
    message = shared_file("sdmx", "ECB_EXR", "1", "M.USD.EUR.SP00.A.xml").read_bytes()

    receipt = _send(client, key, message, "application/vnd.sdmx.genericdata+xml", mapping="ecb-exr")
    assert receipt["http"] == 201, receipt
    assert (receipt["received"], receipt["created"], receipt["rejected"]) == (252, 252, 0)
    # What the message says, read straight from its XML: 252 months, 1999-01 to 2019-12.
    ns = {"g": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic"}
    root = etree.fromstring(message)
    expected = {
        ("VN", obs.find("g:ObsDimension", ns).get("value")): float(obs.find("g:ObsValue", ns).get("value"))
        for obs in root.iterfind(".//g:Obs", ns)
    }
    assert len(expected) == 252 and min(expected)[1] == "1999-01" and max(expected)[1] == "2019-12"
    assert _stored(session, "FX_USD_EUR") == expected

    again = _send(client, key, message, "application/xml", mapping="ecb-exr")
    assert (again["http"], again["created"], again["unchanged"]) == (201, 0, 252)


def test_sdmx_problems_are_named_by_series_key_and_nothing_is_stored(session: Session, client: TestClient) -> None:
    import_catalogue(session=session, doc=FX)
    save_mapping(
        session=session, name="ecb-ng", kind="sdmx", by="test",
        text="dataflow: ECB_EXR_NG\nseries:\n  - match: {CURRENCY: USD}\n    indicator: FX_USD_EUR\n    area: VN\n",
    )  # fmt: skip
    key = _member(session, "SBV", "ecb-ng", "EX_BANKING")
    message = shared_file("sdmx", "ECB_EXR", "ng-ts.xml").read_bytes()
    rejected = _send(client, key, message, "application/xml", mapping="ecb-ng")
    assert rejected["http"] == 422
    wheres = {p.get("where", "") for p in rejected["submission"]["problems"]}
    # Three of the four series (CHF, GBP, JPY) match no rule; each problem names its series key.
    assert {w.split(",")[0] for w in wheres} == {
        "series M.CHF.EUR.SP00.E",
        "series M.GBP.EUR.SP00.E",
        "series M.JPY.EUR.SP00.E",
    }
    assert _stored(session, "FX_USD_EUR") == {}

    broken = _send(client, key, message[:500], "application/xml", mapping="ecb-ng")
    assert broken["http"] == 422 and "XML" in broken["submission"]["problems"][0]["message"]
    unmapped = _send(client, key, message, "application/xml")
    assert unmapped["http"] == 400 and unmapped["error"]["code"] == "mapping_required"
    unknown = _send(client, key, message, "application/xml", mapping="nope")
    assert unknown["http"] == 404


def test_a_dhis2_data_value_set_imports_through_a_generated_catalogue_and_mapping(
    session: Session, client: TestClient
) -> None:
    load_dhis2_sample(session)
    key = _member(session, "PC-79", "dhis2", "SOCIAL")
    payload = shared_file("dhis2", "dataValues_bulk.json").read_bytes()
    values = json.loads(payload)["dataValues"]
    numeric = [v for v in values if v["value"] not in ("true", "false")]

    receipt = _send(client, key, payload, "application/json", mapping="moh-dhis2")
    assert receipt["http"] == 201, receipt.get("submission", receipt)
    assert (receipt["received"], receipt["created"]) == (len(numeric), len(numeric)) == (222, 222)
    # The 9 values of BOOLEAN data elements the mapping marks skip are counted, not lost from view.
    assert receipt["skipped"] == len(values) - len(numeric) == 9
    events = select(func.count()).select_from(DomainEvent).where(DomainEvent.cause == receipt["id"])
    assert session.scalar(events) == 222
    submission = session.get(Submission, receipt["id"])
    assert submission is not None and submission.mapping == "moh-dhis2"

    # And back out, for DHIS2: the same values under the same uids, read through the same mapping.
    exported = client.get(
        "/api/v1/dhis2/dataValueSets", params={"mapping": "moh-dhis2"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert exported.status_code == 200, exported.text
    out = exported.json()["dataValues"]

    def keyed(items: list[dict[str, str]]) -> set[tuple[str, str, str, str, float]]:
        return {
            (
                v["dataElement"],
                v["period"],
                v["orgUnit"],
                v.get("categoryOptionCombo") or "HllvX50cXC0",
                float(v["value"]),
            )
            for v in items
        }

    assert len(out) == 222 and keyed(out) == keyed(numeric)
    assert client.get("/api/v1/dhis2/dataValueSets", params={"mapping": "nope"}).status_code == 404


# -- what a rejection says: where, in the source's terms, and counts that add up -------------------------


def test_counts_are_of_observations_and_a_series_without_a_rule_rejects_all_its_observations(
    session: Session, client: TestClient
) -> None:
    import_catalogue(session=session, doc=FX)
    save_mapping(
        session=session, name="ecb-usd", kind="sdmx", by="test",
        text="dataflow: ECB_EXR_NG\nseries:\n  - match: {CURRENCY: USD}\n    indicator: FX_USD_EUR\n    area: VN\n",
    )  # fmt: skip
    key = _member(session, "SBV", "ecb-usd", "EX_BANKING")
    # 4 series x 3 months; CHF, GBP and JPY match no rule: one problem each, for 9 observations.
    rejected = _send(
        client, key, shared_file("sdmx", "ECB_EXR", "ng-ts.xml").read_bytes(), "application/xml", "ecb-usd"
    )
    assert rejected["http"] == 422
    assert (rejected["submission"]["received"], rejected["submission"]["rejected"]) == (12, 9)
    assert rejected["error"]["message"] == "9 of 12 rows have problems; nothing was stored"
    assert len(rejected["submission"]["problems"]) == 3


def test_a_value_with_two_problems_is_one_row_and_an_unreadable_body_is_not_1_of_0(
    session: Session, client: TestClient
) -> None:
    import_catalogue(session=session, doc=FX)
    save_mapping(session=session, name="ecb-exr", kind="sdmx", text=ECB_MAPPING, by="test")
    key = _member(session, "SBV", "ecb-csv", "EX_BANKING")
    head = "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE"
    head += ",OBS_STATUS"
    lines = [head] + [f"dataflow,ECB:EXR(1.0),I,M,USD,EUR,SP00,A,2019-0{m},1.1{m},A" for m in range(1, 5)]
    lines.append('dataflow,ECB:EXR(1.0),I,M,USD,EUR,SP00,A,2019-05,"1,5",Z')  # not a number, unknown status
    body = "\n".join(lines).encode()
    rejected = _send(client, key, body, "application/vnd.sdmx.data+csv", "ecb-exr")
    problems = rejected["submission"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(5, "status"), (5, "value")]
    assert problems[0]["where"] == "series M.USD.EUR.SP00.A, period 2019-05, line 6"
    assert rejected["error"]["message"] == "1 of 5 rows have problems; nothing was stored"

    unreadable = _send(
        client, key, b"<GenericData xmlns='http://www.sdmx.org/resources/sdmxml/", "application/xml", "ecb-exr"
    )
    assert (unreadable["submission"]["received"], unreadable["submission"]["rejected"]) == (0, 0)
    assert unreadable["error"]["message"] == "the body cannot be read; nothing was stored"
    assert "XML" in unreadable["submission"]["problems"][0]["message"]


def test_the_receipt_counts_what_missing_skip_left_out(session: Session, client: TestClient) -> None:
    import_catalogue(session=session, doc=FX)
    save_mapping(session=session, name="ecb-skip", kind="sdmx", text=ECB_MAPPING + "missing: skip\n", by="test")
    key = _member(session, "SBV", "ecb-skip", "EX_BANKING")
    head = "DATAFLOW,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS"
    values = ["1.1", "", "NaN", "1.2"]
    body = "\n".join([head] + [f"ECB:EXR(1.0),M,USD,EUR,SP00,A,2019-0{m},{v},A" for m, v in enumerate(values, 1)])
    accepted = _send(client, key, body.encode(), "text/csv", "ecb-skip")
    assert accepted["http"] == 201, accepted
    assert (accepted["received"], accepted["created"], accepted["skipped"]) == (2, 2, 2)
    assert _stored(session, "FX_USD_EUR") == {("VN", "2019-01"): 1.1, ("VN", "2019-04"): 1.2}
    # The signature covers the count, and the receipt read again says the same.
    again = client.get(f"/api/v1/submissions/{accepted['id']}", headers={"Authorization": f"Bearer {key}"}).json()
    assert again["skipped"] == 2 and again["server_signature"] == accepted["server_signature"]

    wrong = body.replace("2019-04,1.2", "2019-W14,1.2")  # a week for a monthly indicator
    rejected = _send(client, key, wrong.encode(), "text/csv", "ecb-skip")
    assert rejected["error"]["message"] == "1 of 2 rows have problems; 2 left out by the mapping; nothing was stored"
    [problem] = rejected["submission"]["problems"]
    # Found by the catalogue check, told where it is in the SDMX message.
    assert (problem["row"], problem["field"]) == (4, "period")
    assert problem["where"] == "series M.USD.EUR.SP00.A, period 2019-W14, line 5"


def test_dhis2_problems_name_data_element_org_unit_and_period_in_dhis2_notation(
    session: Session, client: TestClient
) -> None:
    load_dhis2_sample(session)
    key = _member(session, "PC-79", "dhis2-weeks", "SOCIAL")
    values = json.loads(shared_file("dhis2", "dataValues_bulk.json").read_bytes())["dataValues"]
    monthly = next(v for v in values if v["period"] == "201912" and v["value"] not in ("true", "false"))
    sent = [monthly | {"period": "2024W31"}, monthly | {"period": "202408"}]

    rejected = _send(client, key, json.dumps({"dataValues": sent}).encode(), "application/json", "moh-dhis2")
    assert rejected["error"]["message"] == "1 of 2 rows have problems; nothing was stored"
    [problem] = rejected["submission"]["problems"]
    assert problem["where"] == (
        f"submission, value 1 (data element {monthly['dataElement']}, org unit O6uvpzGd5pu, period 2024W31)"
    )
    # The catalogue check speaks govops (2024-W31); the officer reads DHIS2's own notation.
    assert (problem["field"], problem["value"]) == ("period", "2024W31")
    assert problem["message"] == "'2024W31' is an ISO week, but a month is expected (e.g. 202507)"
    assert problem["hint"] == "write a month like 202507 or a longer period"


def test_a_total_of_a_breakdown_the_indicator_lacks_is_ignored_and_another_code_refused(
    session: Session, client: TestClient
) -> None:
    key = _member(session, "NSO", "prices", "PRICES")
    row = {"indicator": "PPI_INDUSTRY", "area": "VN", "period": "2025-Q1", "value": 108.5}
    total = _send(
        client, key, json.dumps({"observations": [row | {"dims": {"COICOP_VN": "_T"}}]}).encode(), "application/json"
    )
    assert total["http"] == 201 and total["created"] == 1, total
    coded = _send(
        client, key, json.dumps({"observations": [row | {"dims": {"COICOP_VN": "01"}}]}).encode(), "application/json"
    )
    assert coded["http"] == 422
    [problem] = coded["submission"]["problems"]
    assert (problem["field"], problem["message"]) == ("dims.COICOP_VN", "PPI_INDUSTRY has no dimension COICOP_VN")
