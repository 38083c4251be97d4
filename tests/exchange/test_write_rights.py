"""Rights are judged on what would be stored: however a code is spelled, a member writes only its own data,
under its own agency as the source; through POST /api/v1/submissions and POST /api/v1/observations alike."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, Indicator, IndicatorGroup, indicator_group_member
from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.errors import GovopsError
from govops.events.models import DomainEvent
from govops.exchange import service
from govops.warehouse.models import Observation, ObservationRevision

ROUTES = ("/api/v1/submissions", "/api/v1/observations")


def _key(session: Session, agency: str, system: str, *groups: str) -> str:
    member = service.create_member(session=session, agency=agency, system=system, name="")
    for group in groups:
        service.grant(session=session, member=member, group=group, read=True, write=True)
    return service.issue_key(session=session, member=member).key


def _send(client: TestClient, route: str, key: str, *rows: dict[str, Any]) -> Any:
    return client.post(
        route,
        content=json.dumps({"observations": list(rows)}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
    )


def _stored(session: Session) -> tuple[int, int, int]:
    counts = (
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Observation, ObservationRevision, DomainEvent)
    )
    return tuple(counts)  # type: ignore[return-value]


def _row(indicator: Any, area: Any, value: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {"indicator": indicator, "area": area, "period": "2026-09", "value": value, **extra}


# Hồ Chí Minh City (79) spelled so that a check on the raw text would not recognise it.
OTHER_PROVINCE = [
    pytest.param(" 79", id="leading space"),
    pytest.param("79 ", id="trailing space"),
    pytest.param("79\u00a0", id="trailing NBSP"),
    pytest.param("\u00a079", id="leading NBSP"),
    pytest.param("\u300079\t", id="ideographic space and tab"),
    pytest.param(79, id="JSON number"),
    pytest.param("79\u200b", id="zero-width space"),
    pytest.param("25747", id="a ward of 79"),
    pytest.param(" 25747\u00a0", id="a ward of 79 with spaces"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("area", OTHER_PROVINCE)
def test_a_province_key_writes_no_other_province_however_spelled(
    session: Session, client: TestClient, route: str, area: Any
) -> None:
    hanoi = _key(session, "PC-01", "ioc", "ENTERPRISES")
    before = _stored(session)
    response = _send(client, route, hanoi, _row("ENT_NEW", "01", 5), _row("ENT_NEW", area, 4100))
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "area")], problems
    assert _stored(session) == before


# TREASURY_CASH belongs to the State Treasury; MOF holds a write grant on its group (PUBLIC_FINANCE).
NOT_OWNED = [
    pytest.param("TREASURY_CASH ", id="trailing space"),
    pytest.param(" TREASURY_CASH", id="leading space"),
    pytest.param("TREASURY_CASH\u00a0", id="trailing NBSP"),
    pytest.param("treasury_cash", id="lower case"),
    pytest.param("TREASURY_CASH\u0301", id="combining mark (NFD)"),
    pytest.param("TREASURY_CASH", id="as is"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("indicator", NOT_OWNED)
def test_a_ministry_key_writes_no_indicator_it_does_not_own_however_spelled(
    session: Session, client: TestClient, route: str, indicator: str
) -> None:
    ministry = _key(session, "MOF", "tabmis", "PUBLIC_FINANCE")
    before = _stored(session)
    response = _send(client, route, ministry, _row("BUDGET_REVENUE", "VN", 5), _row(indicator, "VN", 9))
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "indicator")], problems
    assert _stored(session) == before


def test_the_refusal_names_the_code_as_it_would_be_stored(session: Session, client: TestClient) -> None:
    hanoi = _key(session, "PC-01", "ioc", "ENTERPRISES")
    ministry = _key(session, "MOF", "tabmis", "PUBLIC_FINANCE")
    [area] = _send(client, ROUTES[0], hanoi, _row("ENT_NEW", "79\u00a0")).json()["error"]["problems"]
    assert area["value"] == "79" and "not of 79" in area["message"] and "use area 01" in area["hint"]
    [indicator] = _send(client, ROUTES[0], ministry, _row(" TREASURY_CASH", "VN")).json()["error"]["problems"]
    assert indicator["value"] == "TREASURY_CASH" and "belongs to TREASURY" in indicator["message"]


def test_normalised_codes_of_the_senders_own_data_are_stored_under_the_official_code(
    session: Session, client: TestClient
) -> None:
    hcmc = _key(session, "PC-79", "ioc", "ENTERPRISES")
    response = _send(client, ROUTES[1], hcmc, _row(" ENT_NEW\u00a0", 79, 4100), _row("ENT_NEW", "25747 ", 35))
    assert response.status_code == 201, response.text
    listed = client.get("/api/v1/observations", params={"indicator": "ENT_NEW"}, headers={"X-API-Key": hcmc}).json()
    assert sorted((o["area"], o["value"]) for o in listed["items"]) == [("25747", 35), ("79", 4100)]


def test_the_source_is_the_senders_agency(session: Session, client: TestClient) -> None:
    hcmc = _key(session, "PC-79", "ioc", "ENTERPRISES")
    before = _stored(session)
    # ENT_NEW belongs to MOF; a province may not present its figures as the ministry's (or anyone else's).
    for source in ("MOF", "NSO", " MOF "):
        refused = _send(client, ROUTES[0], hcmc, _row("ENT_NEW", "79", 4100, source=source))
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["error"]["problems"]
        assert (problem["row"], problem["field"], problem["value"]) == (1, "source", source.strip())
        assert "PC-79/ioc submits as PC-79, not as" in problem["message"]
    assert _stored(session) == before
    # Left out, or named as its own agency: the province is the source.
    assert _send(client, ROUTES[0], hcmc, _row("ENT_NEW", "79", 4100)).status_code == 201
    assert _send(client, ROUTES[1], hcmc, _row("ENT_NEW", "25747", 35, source="PC-79")).status_code == 201
    listed = client.get("/api/v1/observations", params={"indicator": "ENT_NEW"}, headers={"X-API-Key": hcmc}).json()
    assert {o["source"] for o in listed["items"]} == {"PC-79"}


def test_the_government_office_may_name_another_source(session: Session, client: TestClient) -> None:
    go = session.scalar(select(Agency).where(Agency.code == "GO"))
    assert go is not None and go.kind == "government_office"
    group = {"code": "T_GO", "kind": "report", "name_vi": "Nhóm thử", "name_en": "Test group"}
    figure = {
        "code": "T_GO_FIGURE",
        "name_vi": "Chỉ tiêu thử",
        "name_en": "Test indicator",
        "unit": "BN_VND",
        "periodicity": "M",
        "area_aggregation": "sum",
        "time_aggregation": "sum",
        "owner": "GO",
        "groups": ["T_GO"],
    }
    import_catalogue(session=session, doc=CatalogueDoc.model_validate({"groups": [group], "indicators": [figure]}))
    key = _key(session, "GO", "ioc", "T_GO")
    answer = _send(client, ROUTES[0], key, _row("T_GO_FIGURE", "VN", 1, source="MOF"))
    assert answer.status_code == 201, answer.text
    [stored] = client.get(
        "/api/v1/observations", params={"indicator": "T_GO_FIGURE"}, headers={"X-API-Key": key}
    ).json()["items"]
    assert stored["source"] == "MOF"


def test_a_grant_for_other_agencies_lets_a_member_name_another_source(session: Session, client: TestClient) -> None:
    # A province's statistics system compiling the ministry's enterprise figures for the province.
    member = service.create_member(session=session, agency="PC-79", system="stats", name="")
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    key = service.issue_key(session=session, member=member).key
    assert _send(client, ROUTES[0], key, _row("ENT_NEW", "79", 4100, source="MOF")).status_code == 422

    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True, for_others=True)
    answer = _send(client, ROUTES[1], key, _row("ENT_NEW", "79", 4100, source="MOF"))
    assert answer.status_code == 201, answer.text
    [stored] = client.get("/api/v1/observations", params={"indicator": "ENT_NEW"}, headers={"X-API-Key": key}).json()[
        "items"
    ]
    assert stored["source"] == "MOF"
    # Still only its own province: the grant widens the source, not the areas.
    refused = _send(client, ROUTES[0], key, _row("ENT_NEW", "01", 1, source="MOF"))
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "area"


def test_a_grant_for_other_agencies_is_part_of_writing(session: Session) -> None:
    member = service.create_member(session=session, agency="PC-79", system="stats", name="")
    with pytest.raises(GovopsError) as refused:
        service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=False, for_others=True)
    assert refused.value.code == "invalid_grant"


@pytest.mark.parametrize("route", ROUTES)
def test_a_grant_revoked_or_given_counts_from_the_very_next_submission(
    session: Session, client: TestClient, route: str
) -> None:
    key = _key(session, "PC-79", "ioc", "ENTERPRISES")
    member = service.get_member(session=session, code="PC-79/ioc")
    assert _send(client, route, key, _row("ENT_NEW", "79", 1)).status_code == 201
    service.revoke(session=session, member=member, group="ENTERPRISES")
    session.commit()
    before = _stored(session)
    refused = _send(client, route, key, _row("ENT_NEW", "79", 2))
    assert refused.status_code == 422, refused.text
    assert [p["message"] for p in refused.json()["error"]["problems"]] == ["PC-79/ioc may not submit ENT_NEW"]
    assert _stored(session) == before
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=False)
    session.commit()
    assert _send(client, route, key, _row("ENT_NEW", "79", 3)).status_code == 422
    service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
    session.commit()
    assert _send(client, route, key, _row("ENT_NEW", "79", 4)).status_code == 201


def test_an_indicator_taken_out_of_a_granted_group_counts_from_the_very_next_submission(
    session: Session, client: TestClient
) -> None:
    key = _key(session, "PC-79", "ioc", "ENTERPRISES")
    assert _send(client, ROUTES[0], key, _row("ENT_NEW", "79", 1)).status_code == 201
    group_id = session.scalar(select(IndicatorGroup.id).where(IndicatorGroup.code == "ENTERPRISES"))
    indicator_id = session.scalar(select(Indicator.id).where(Indicator.code == "ENT_NEW"))
    member_of_group = (indicator_group_member.c.group_id == group_id) & (
        indicator_group_member.c.indicator_id == indicator_id
    )
    session.execute(delete(indicator_group_member).where(member_of_group))
    session.commit()
    refused = _send(client, ROUTES[0], key, _row("ENT_NEW", "79", 2))
    assert refused.status_code == 422, refused.text
    assert [p["message"] for p in refused.json()["error"]["problems"]] == ["PC-79/ioc may not submit ENT_NEW"]
    session.execute(insert(indicator_group_member).values(group_id=group_id, indicator_id=indicator_id))
    session.commit()
    assert _send(client, ROUTES[0], key, _row("ENT_NEW", "79", 3)).status_code == 201
