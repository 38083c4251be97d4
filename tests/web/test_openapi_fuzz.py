"""Property-based tests of the whole HTTP API: schemathesis reads ``/openapi.json`` and generates requests,
valid and invalid, for every operation in it; each goes to the real app over the real store.

What is asserted, per operation:

* ``test_no_server_error``: no response is a 5xx; every 4xx has the ``{"error": {"code", "message"}}``
  envelope; responses are JSON with the documented headers; 2xx bodies match the documented schema.
* ``test_documented_responses``: every status code is documented, and every body (errors too) matches it.
* ``test_schema_invalid_requests_are_rejected``: a request that breaks the documented schema gets a 4xx.
* ``test_unsupported_methods``: other methods on the same path get 405 with a correct ``Allow`` header.

Generation mixes in codes of the domain (``DICTIONARIES``) so that requests get past "no such indicator" into
series aggregation, formulas, unit conversion and paging, over observations that the ``api`` fixture seeds.
``test_edge_values_get_a_4xx_not_a_500`` sends fixed edge values (integer and datetime limits, NUL characters)
that random generation rarely reaches, through the same schemathesis checks.

Each test runs in the transaction of ``tests/conftest.py`` (rolled back after it), and each generated request in
a further savepoint of its own (rolled back after it), so neither tests nor examples see each other's writes.
Generation is derandomized with a fixed seed and keeps no example database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
import structlog.testing
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.checks import CheckContext, CheckFunction
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.events.service import ReadRule, emit
from govops.paging import encode_cursor
from govops.settings import Settings
from govops.warehouse.accept import ingest
from tests.conftest import use_session

# Values of the domain the generator mixes in, so that requests reach past "no such code" into the real work
# (series aggregation, formulas, unit conversion, paging) on the data that `api` seeds.
DICTIONARIES: dict[str, list[str]] = {
    "indicators": [
        "CPI",
        "CPI_YOY",
        "CPI_MOM",
        "CPI_AVG_YOY",
        "GDP_CURRENT",
        "GDP_CONST2010",
        "GDP_GROWTH",
        "GDP_DEFLATOR",
        "GRDP_CURRENT",
        "GRDP_PER_CAPITA",
        "POP",
        "EXPORTS",
        "IMPORTS",
        "TRADE_BALANCE",
        "PI_PLAN",
        "PI_DISBURSED",
        "PI_DISBURSEMENT_RATE",
        "RETAIL_SALES",
        "UNEMPLOYMENT_RATE",
        "HS_GRAD_RATE",
        "IIP",
        "IIP_YOY",
        "CREDIT_OUTSTANDING",
        "CREDIT_GROWTH_YOY",
        "TREASURY_CASH",
        "GDP_FLASH",
        "NO_SUCH_INDICATOR",
    ],
    # nation, provinces (Hoa Binh 17 and Vinh Phuc 26 went into Phu Tho 25 on 2025-07-01), wards, no such codes
    "areas": ["VN", "01", "79", "25", "26", "17", "00004", "00008", "99", "999999"],
    "periods": [
        "2024",
        "2024-S1",
        "2024-Q3",
        "2024-07",
        "2024-W31",
        "2024-07-14",
        "2021/2025",
        "2025-Q2",
        "2025-06",
        "2023-01",
        "2025-13",
        "2025-Q5",
        "1900",
        "2200",
        "1899",
        "July 2024",
    ],
    "freqs": ["M", "Q", "S", "A", "W", "D", "2A", "5A", "10A", "X"],
    "dims": ["", "COICOP_VN:01", "COICOP_VN:99", "VSIC_IND:B", "COICOP_VN:01,VSIC_IND:B", "COICOP_VN", ":01", ","],
    "groups": ["PRICES", "MACRO", "TRADE", "MONEY_BANKING", "NO_SUCH_GROUP"],
    "agency_kinds": ["ministry", "provincial_committee", "department", "state_group", "nothing"],
    "agencies": ["NSO", "MOF", "SBV", "PC-01", "NO_SUCH_AGENCY"],
    "units": ["BN_VND", "MN_VND", "TN_VND", "MN_USD", "BN_USD", "INDEX_2019", "PCT", "PERSONS", "NO_SUCH_UNIT"],
    "statuses": ["provisional", "final", "estimated", "forecast", "revised"],
    "texts": ["Hà Nội", "ha noi", "gia", "CPI", "%", "_", "'", "Ho Chi Minh"],
    "cursors": [encode_cursor(1), encode_cursor(40), encode_cursor(3000), "garbage!", "aWQ6", "aWQ6LTE"],
}
PARAMETERS: dict[str, str] = {
    "path.code": "indicators",  # /indicators/{code}; /areas/{code} is bound below
    "path.indicator": "indicators",
    "query.indicator": "indicators",
    "query.parent": "areas",
    "query.start": "periods",
    "query.end": "periods",
    "query.freq": "freqs",
    "query.dims": "dims",
    "query.group": "groups",
    "query.kind": "agency_kinds",
    "query.status": "statuses",
    "query.q": "texts",
    "query.cursor": "cursors",
    "body.observations[*].indicator": "indicators",
    "body.observations[*].area": "areas",
    "body.observations[*].period": "periods",
    "body.observations[*].unit": "units",
    "body.observations[*].source": "agencies",
    "body.observations[*].status": "statuses",
}
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20250701,
        "generation": {"mode": "all", "max-examples": 40, "deterministic": True, "database": "none"},
        "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
        "parameters": {key: {"dictionary": name, "probability": 0.6} for key, name in PARAMETERS.items()},
        "operations": [
            {
                "include-path": "/api/v1/areas/{code}",
                "parameters": {"path.code": {"dictionary": "areas", "probability": 0.6}},
            },
        ],
    }
)

# The schema is read from an app of the same factory; the requests go to the per-test app of `api`
# (test_schema_is_the_one_the_app_serves checks that the two serve the same document).
SCHEMA = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(database_url="sqlite://", page_warmer=False, worker=False)), config=CONFIG
)
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def error_envelope(ctx: CheckContext, response: Any, case: schemathesis.Case) -> bool | None:
    """Every error response is {"error": {"code": str, "message": str, ...}}."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} response is not JSON: {response.content[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} response has no 'error' object: {body!r}"
    assert isinstance(error.get("code"), str) and error["code"], f"'error.code' is not a non-empty string: {body!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"'error.message' is not a string: {body!r}"
    return None


def success_schema_conformance(ctx: CheckContext, response: Any, case: schemathesis.Case) -> bool | None:
    """The documented schema of successful responses; error bodies are test_documented_responses' business."""
    if response.status_code >= 400:
        return None
    return checks.response_schema_conformance(ctx, response, case)


def _series_rows() -> Iterator[dict[str, Any]]:
    """Enough data for every aggregation path: areas (incl. the 2025 merger), periods, formulas, dims, units."""
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)][:33]  # to 2025-09
    quarters = [f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in range(1, 5)][:11]  # to 2025-Q3
    for i, month in enumerate(months):
        # 26 (Vinh Phuc) ended on 2025-06-30 and went into 25 (Phu Tho); wards exist from 2025-07-01.
        areas = [("VN", 100.0), ("01", 101.0), ("79", 99.0), ("25", 97.0)]
        areas.append(("26", 98.0) if month < "2025-07" else ("00004", 102.0))
        for area, base in areas:
            yield {"indicator": "CPI", "area": area, "period": month, "value": base + i / 10}
        yield {"indicator": "CPI", "area": "VN", "period": month, "value": 100 + i / 5, "dims": {"COICOP_VN": "01"}}
        yield {"indicator": "EXPORTS", "area": "VN", "period": month, "value": 30_000 + 100 * i}
        yield {"indicator": "IMPORTS", "area": "VN", "period": month, "value": 29_000 + 90 * i, "status": "final"}
        yield {"indicator": "RETAIL_SALES", "area": "01", "period": month, "value": 50_000 + i}
        yield {
            "indicator": "RETAIL_SALES",
            "area": "26" if month < "2025-07" else "00004",
            "period": month,
            "value": 300 + i,
        }
        yield {"indicator": "CREDIT_OUTSTANDING", "area": "VN", "period": month, "value": 14 + i / 100}
        yield {"indicator": "TREASURY_CASH", "area": "VN", "period": month, "value": 1 + i / 100}
    for month in months[12:24]:
        yield {"indicator": "PI_PLAN", "area": "VN", "period": month, "value": 800_000}
        yield {"indicator": "PI_DISBURSED", "area": "VN", "period": month, "value": 50, "unit": "TN_VND"}
    for i, quarter in enumerate(quarters):
        yield {"indicator": "GDP_CURRENT", "area": "VN", "period": quarter, "value": 2_500_000 + 10_000 * i}
        yield {"indicator": "GDP_CONST2010", "area": "VN", "period": quarter, "value": 1_500_000 + 5_000 * i}
        yield {"indicator": "GRDP_CURRENT", "area": "01", "period": quarter, "value": 300_000 + 1_000 * i}
    for year in ("2023", "2024", "2025"):
        for area, pop in (("01", 8_500.0), ("79", 9_500.0), ("25", 1_500.0), ("26", 1_200.0)):
            if area != "26" or year < "2025":
                yield {"indicator": "POP", "area": area, "period": year, "value": pop}


@dataclass
class Api:
    """The real app over the test's session; `check` sends one generated request and runs the checks."""

    app: FastAPI
    connection: Connection
    session: Session

    def check(self, case: schemathesis.Case, checks: list[CheckFunction]) -> None:
        savepoint = self.connection.begin_nested()
        try:
            response = case.call(app=self.app)
            case.validate_response(response, checks=checks, transport_kwargs={"app": self.app})
        finally:
            # What the request left uncommitted goes with the session's own savepoint; what it committed, with ours.
            self.session.close()
            savepoint.rollback()


def _build_app(engine: Engine, session: Session) -> FastAPI:
    app = create_app(Settings(database_url=str(engine.url), page_warmer=False, worker=False), engine=engine)
    use_session(app, session)
    return app


@pytest.fixture
def bare_api(engine: Engine, connection: Connection, session: Session) -> Iterator[Api]:
    """The app over the store as migrated, with the reference data only."""
    # Unconfigured structlog renders the traceback of each 500 with all its locals, which takes seconds.
    with structlog.testing.capture_logs():
        yield Api(app=_build_app(engine, session), connection=connection, session=session)


@pytest.fixture
def api(bare_api: Api, session: Session) -> Api:
    """The app over the reference data and the observations of _series_rows()."""
    ingest(session=session, rows=enumerate(_series_rows(), start=1), recorded_by="fuzz")
    # An event of a kind without its own schema, so that the change feed's generic item is checked too.
    emit(
        session=session,
        topic="tasks",
        type="task.overdue",
        subject="T-1",
        payload={"task": "T-1", "due": "2025-09-30"},
        rule=ReadRule("public"),
    )
    session.commit()  # releases the session's savepoint into the test's transaction, which is rolled back after it
    return bare_api


@SCHEMA.parametrize()
@FUZZ
def test_no_server_error(case: schemathesis.Case, api: Api) -> None:
    api.check(
        case,
        [
            checks.not_a_server_error,
            error_envelope,
            checks.content_type_conformance,
            checks.response_headers_conformance,
            success_schema_conformance,
        ],
    )


@SCHEMA.parametrize()
@FUZZ
def test_documented_responses(case: schemathesis.Case, api: Api) -> None:
    api.check(case, [checks.status_code_conformance, checks.response_schema_conformance])


@SCHEMA.parametrize()
@FUZZ
def test_schema_invalid_requests_are_rejected(case: schemathesis.Case, api: Api) -> None:
    api.check(case, [checks.negative_data_rejection])


@SCHEMA.parametrize()
@FUZZ
def test_unsupported_methods(case: schemathesis.Case, api: Api) -> None:
    api.check(case, [checks.unsupported_method, checks.allow_header_conformance, error_envelope])


def test_schema_is_the_one_the_app_serves(bare_api: Api) -> None:
    with TestClient(bare_api.app) as client:
        served = client.get("/openapi.json").json()
    assert served == SCHEMA.raw_schema
    documented = {(method.upper(), path) for path, item in served["paths"].items() for method in item}
    fuzzed = {(result.ok().method.upper(), result.ok().path) for result in SCHEMA.get_all_operations()}
    # 22, reporting's 7, tasks' 14, quality's 6, forecast's 6, targets' 4
    assert fuzzed == documented and len(fuzzed) == 59


# Each must get a 4xx with the error envelope (or a 2xx matching its schema), never a 5xx.
BIG_ID = encode_cursor(2**63)  # past SQLite's INTEGER and PostgreSQL's bigint
INT4_ID = encode_cursor(2**31)  # past PostgreSQL's integer (the catalogue tables' ids)


def _edge(method: str, path: str, **parts: Any) -> Any:
    label = f"{method} {path} " + " ".join(f"{k}={v!r}" for k, v in parts.items())
    label = label.replace(BIG_ID, "<id 2**63>").replace(INT4_ID, "<id 2**31>").replace("\\x00", "<NUL>")
    return pytest.param(method, path, parts, id=label)


EDGE_CASES = [
    _edge("GET", "/api/v1/areas", query={"cursor": INT4_ID}),
    _edge("GET", "/api/v1/agencies", query={"cursor": INT4_ID}),
    _edge("GET", "/api/v1/indicators", query={"cursor": INT4_ID}),
    _edge("GET", "/api/v1/areas", query={"cursor": BIG_ID}),
    _edge("GET", "/api/v1/agencies", query={"cursor": BIG_ID}),
    _edge("GET", "/api/v1/indicators", query={"cursor": BIG_ID}),
    _edge("GET", "/api/v1/observations", query={"cursor": BIG_ID}),
    _edge("GET", "/api/v1/changes", query={"cursor": BIG_ID}),
    _edge("GET", "/api/v1/changes", query={"indicator": "\x00"}),
    _edge("GET", "/api/v1/submissions/{submission_id}", path_parameters={"submission_id": "\x00"}),
    _edge("GET", "/api/v1/observations", query={"updated_since": "0001-01-01T00:00:00+01:00"}),
    _edge("GET", "/api/v1/observations", query={"as_of": "0001-01-01T00:00:00+01:00"}),
    _edge(
        "GET",
        "/api/v1/series/{indicator}",
        path_parameters={"indicator": "CPI"},
        query={"as_of": "0001-01-01T00:00:00+01:00"},
    ),
    _edge(
        "GET",
        "/api/v1/series/{indicator}",
        path_parameters={"indicator": "CPI"},
        query={"as_of": "9999-12-31T23:59:59-01:00"},
    ),
    _edge("GET", "/api/v1/areas", query={"q": "a\x00b"}),
    _edge("GET", "/api/v1/areas", query={"parent": "\x00"}),
    _edge("GET", "/api/v1/areas/{code}", path_parameters={"code": "a\x00b"}),
    _edge("GET", "/api/v1/agencies", query={"kind": "\x00"}),
    _edge("GET", "/api/v1/indicators", query={"group": "\x00"}),
    _edge("GET", "/api/v1/indicators", query={"q": "\x00"}),
    _edge("GET", "/api/v1/indicators/{code}", path_parameters={"code": "\x00"}),
    _edge("GET", "/api/v1/observations", query={"indicator": "\x00"}),
    _edge("GET", "/api/v1/observations", query={"area": ["\x00"]}),
    _edge("GET", "/api/v1/observations", query={"status": "\x00"}),
    _edge("GET", "/api/v1/series/{indicator}", path_parameters={"indicator": "\x00"}),
    _edge("GET", "/api/v1/series/{indicator}", path_parameters={"indicator": "CPI"}, query={"dims": "COICOP_VN:\x00"}),
    _edge("GET", "/api/v1/series/{indicator}", path_parameters={"indicator": "CPI"}, query={"area": ["\x00"]}),
    _edge(
        "POST",
        "/api/v1/observations",
        body={
            "observations": [
                {
                    "indicator": "\x00",
                    "area": "\x00",
                    "period": "\x00",
                    "value": 1,
                    "unit": "\x00",
                    "source": "\x00",
                    "dims": {"\x00": "\x00"},
                }
            ]
        },
    ),
    _edge("GET", "/api/v1/areas", query={"cursor": encode_cursor(2**31 - 1), "valid_on": "9999-12-31"}),
    _edge("GET", "/api/v1/observations", query={"as_of": "9999-12-31T23:59:59+14:00", "limit": 1000}),
    _edge("GET", "/api/v1/observations", query={"updated_since": "0001-01-01T00:00:00-12:00"}),
    _edge(
        "GET",
        "/api/v1/series/{indicator}",
        path_parameters={"indicator": "CPI"},
        query={"area": ["VN", "01", "26", "00004"], "freq": "A", "start": "1900", "end": "2200"},
    ),
    _edge(
        "GET",
        "/api/v1/series/{indicator}",
        path_parameters={"indicator": "CPI_AVG_YOY"},
        query={"dims": "COICOP_VN:01", "start": "2025", "end": "2024"},
    ),
]


@pytest.mark.parametrize(("method", "path", "parts"), EDGE_CASES)
def test_edge_values_get_a_4xx_not_a_500(bare_api: Api, method: str, path: str, parts: dict[str, Any]) -> None:
    case = SCHEMA[path][method].Case(**parts)
    bare_api.check(case, [checks.not_a_server_error, error_envelope, success_schema_conformance])


def test_a_value_that_overflows_in_unit_conversion_is_not_stored(bare_api: Api) -> None:
    row = {"indicator": "PI_DISBURSED", "area": "VN", "period": "2026-01", "value": 1e308, "unit": "TN_VND"}
    post = SCHEMA["/api/v1/observations"]["POST"].Case(body={"observations": [row]}, media_type="application/json")
    get = SCHEMA["/api/v1/observations"]["GET"].Case(query={"indicator": "PI_DISBURSED", "start": "2026-01"})
    posted = post.call(app=bare_api.app)
    post.validate_response(
        posted, checks=[checks.not_a_server_error, error_envelope], transport_kwargs={"app": bare_api.app}
    )
    read = get.call(app=bare_api.app)
    get.validate_response(
        read,
        checks=[checks.not_a_server_error, checks.response_schema_conformance],
        transport_kwargs={"app": bare_api.app},
    )
