"""A small catalogue of test indicators, one per aggregation rule, imported inside each test's transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.warehouse.accept import ingest
from govops.warehouse.schemas import WriteSummary


def _indicator(code: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": code,
        "name_vi": f"Chỉ tiêu thử {code}",
        "name_en": f"Test indicator {code}",
        "unit": "T_BN_VND",
        "periodicity": "M",
        "area_aggregation": "sum",
        "time_aggregation": "sum",
        "owner": "NSO",
        "groups": ["T_GROUP"],
        "decimals": 1,
    }
    base.update(overrides)
    return base


TEST_CATALOGUE = CatalogueDoc.model_validate(
    {
        "units": [
            {
                "code": "T_BN_VND",
                "name_vi": "Tỷ đồng",
                "name_en": "Billion VND",
                "symbol": "tỷ đ",
                "quantity": "vnd",
                "factor": 1e9,
            },
            {
                "code": "T_MN_VND",
                "name_vi": "Triệu đồng",
                "name_en": "Million VND",
                "symbol": "tr đ",
                "quantity": "vnd",
                "factor": 1e6,
            },
            {
                "code": "T_USD",
                "name_vi": "Đô la Mỹ",
                "name_en": "US dollar",
                "symbol": "USD",
                "quantity": "usd",
                "factor": 1,
            },
            {
                "code": "T_INDEX",
                "name_vi": "Chỉ số",
                "name_en": "Index",
                "symbol": "",
                "quantity": "index",
                "factor": 1,
            },
            {
                "code": "T_PERSONS",
                "name_vi": "Người",
                "name_en": "Persons",
                "symbol": "",
                "quantity": "persons",
                "factor": 1,
            },
        ],
        "codelists": [
            {
                "code": "T_SECTOR",
                "name_vi": "Khu vực",
                "name_en": "Sector",
                "codes": [
                    {"code": "AGR", "name_vi": "Nông nghiệp", "name_en": "Agriculture"},
                    {"code": "IND", "name_vi": "Công nghiệp", "name_en": "Industry"},
                ],
            },
        ],
        "groups": [{"code": "T_GROUP", "kind": "report", "name_vi": "Nhóm thử", "name_en": "Test group"}],
        "indicators": [
            _indicator("T_FLOW", dimensions=["T_SECTOR"]),
            _indicator("T_FLOW2"),
            _indicator("T_STOCK", time_aggregation="last"),
            _indicator("T_MEAN", area_aggregation="mean", time_aggregation="mean", unit="T_INDEX"),
            _indicator("T_POP", periodicity="A", time_aggregation="last", unit="T_PERSONS"),
            _indicator(
                "T_INDEX", area_aggregation="weighted", area_weight="T_POP", time_aggregation="mean", unit="T_INDEX"
            ),
            _indicator("T_NONE", area_aggregation="none", time_aggregation="none", unit="T_INDEX"),
            _indicator("T_SECRET", classification="confidential"),
            _indicator("T_Q", periodicity="Q"),
            _indicator("T_BALANCE", formula="T_FLOW - T_FLOW2", area_aggregation="none", time_aggregation="none"),
            _indicator(
                "T_YOY", formula="yoy(T_FLOW)", unit="T_INDEX", area_aggregation="none", time_aggregation="none"
            ),
            _indicator("T_YTD", formula="ytd(T_FLOW)", area_aggregation="none", time_aggregation="none"),
            _indicator("T_PER_HEAD", formula="T_FLOW / T_POP * 1000", area_aggregation="none", time_aggregation="none"),
        ],
    }
)


@pytest.fixture
def catalogue(session: Session) -> CatalogueDoc:
    import_catalogue(session=session, doc=TEST_CATALOGUE)
    return TEST_CATALOGUE


def obs(indicator: str, area: str, period: str, value: float, **extra: Any) -> dict[str, Any]:
    return {"indicator": indicator, "area": area, "period": period, "value": value, **extra}


def put(session: Session, rows: Iterable[dict[str, Any]], **kwargs: Any) -> WriteSummary:
    return ingest(session=session, rows=enumerate(rows, start=1), **kwargs)


PASSWORD = "correct horse battery"


@pytest.fixture
def sign_in(client: TestClient, session: Session) -> Callable[[str], TestClient]:
    def as_role(role: str) -> TestClient:
        username = f"t.{role}"
        create_user(
            session=session, username=username, password=PASSWORD, full_name=f"Test {role}", agency="GO", role=role
        )
        page = client.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        response = client.post(
            "/signin",
            data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    return as_role
