"""govops data for DHIS2: ``GET /api/v1/dhis2/dataValueSets?mapping=NAME``, a payload DHIS2 imports as it is.

The stored DHIS2 mapping is read backwards: its data elements name the indicators, its org units
the areas, its category option combos the breakdowns. Only what the caller may read is sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from govops.catalog.models import Indicator
from govops.errors import GovopsError
from govops.interop.dhis2.mapping import load_mapping
from govops.interop.dhis2.write import ExportValue, write_data_value_set
from govops.interop.mapping.service import get_mapping
from govops.paging import MAX_BIG_ID, MAX_LIMIT, decode_cursor
from govops.warehouse.filters import ObservationFilter
from govops.warehouse.service import list_observations
from govops.web.access import Readable
from govops.web.auditing import record_confidential_reads
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/dhis2", tags=["dhis2"], responses=ERROR_RESPONSES)
CONFIDENTIAL = "confidential"


@router.get("/dataValueSets", response_class=Response, responses={200: {"content": {"application/json": {}}}})
def data_value_sets(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    allowed: Readable,
    mapping: Annotated[str, Query(description="a stored DHIS2 mapping")],
    start: Annotated[str | None, Query(description="first period, e.g. 2024-01 or 2024")] = None,
    end: Annotated[str | None, Query(description="last period")] = None,
    data_set: Annotated[str | None, Query(alias="dataSet", description="DHIS2 data set uid to name")] = None,
) -> Response:
    """Stored values of the mapping's indicators at its org units, as a DHIS2 data value set (JSON)."""
    found = get_mapping(session=session, name=mapping)
    if found.kind != "dhis2":
        raise GovopsError(
            f"mapping {mapping} is an {found.kind} mapping", code="mapping_mismatch", hint="name a DHIS2 mapping"
        )
    rules = load_mapping(found.text, where=f"mapping {mapping}")
    wanted = {m.indicator for m in rules.data_elements.values() if m.indicator is not None}
    rows = session.execute(select(Indicator.code, Indicator.classification).where(Indicator.code.in_(wanted)))
    classes: dict[str, str] = {code: classification for code, classification in rows}
    readable = sorted(code for code, cls in classes.items() if allowed.may_read(code, cls))
    values: list[ExportValue] = []
    areas = sorted(set(rules.org_units.values()))
    for code in readable:
        where = ObservationFilter.of(session=session, indicator=code, areas=areas, start=start, end=end)
        cursor = 0
        while True:
            page = list_observations(session=session, where=where, after_id=cursor, limit=MAX_LIMIT)
            values += [
                ExportValue(indicator=o.indicator, area=o.area, period=o.period, value=o.value, dims=o.dims)
                for o in page.items
            ]
            if page.next_cursor is None:
                break
            cursor = decode_cursor(page.next_cursor, max_id=MAX_BIG_ID)
    secret = [code for code in readable if classes[code] == CONFIDENTIAL]
    if secret:
        record_confidential_reads(session=audit_session, request=request, codes=secret, detail={"rows": len(values)})
    body = write_data_value_set(rows=values, mapping=rules, data_set=data_set)
    return Response(body, media_type="application/json")
