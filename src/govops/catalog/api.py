"""Catalogue API: areas, agencies, indicators."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from govops.catalog import service
from govops.catalog.schemas import AgencyOut, AreaOut, IndicatorDetail, IndicatorOut
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor
from govops.web.access import Readable, require_readable
from govops.web.deps import SessionDep
from govops.web.errors import ERROR_RESPONSES


def _iso_date(value: object) -> object:
    # pydantic would also read 0 as 1970-01-01; a date in this API is always written out.
    if value is not None and not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("write the date as YYYY-MM-DD, e.g. 2025-06-30")
    return value


IsoDate = Annotated[date | None, BeforeValidator(_iso_date)]

router = APIRouter(prefix="/api/v1", tags=["catalogue"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


@router.get("/areas", response_model=Page[AreaOut])
def list_areas(
    session: SessionDep,
    level: Annotated[str | None, Query(pattern="^(nation|province|ward)$")] = None,
    parent: Annotated[str | None, Query(description="code of the parent area, e.g. 01 for Ha Noi's wards")] = None,
    valid_on: Annotated[
        date | None,
        BeforeValidator(_iso_date),
        Query(description="default today; 2025-06-30 lists the 63 old provinces"),
    ] = None,
    q: Annotated[str | None, Query(description="name, with or without tone marks")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AreaOut]:
    return service.list_areas(
        session=session, level=level, parent=parent, valid_on=valid_on, q=q, after_id=decode_cursor(cursor), limit=limit
    )


@router.get("/areas/{code}", response_model=AreaOut)
def get_area(session: SessionDep, code: str) -> AreaOut:
    area = service.get_area(session=session, code=code)
    codes = {a.id: a.code for a in (area.parent, area.successor) if a is not None}
    return service.area_out(area, codes)


@router.get("/agencies", response_model=Page[AgencyOut])
def list_agencies(
    session: SessionDep, kind: str | None = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[AgencyOut]:
    return service.list_agencies(session=session, kind=kind, after_id=decode_cursor(cursor), limit=limit)


@router.get("/indicators", response_model=Page[IndicatorOut])
def list_indicators(
    session: SessionDep,
    allowed: Readable,
    group: Annotated[str | None, Query(description="group code, e.g. PRICES")] = None,
    q: Annotated[
        str | None,
        Query(
            description="code, name or synonym in Vietnamese or English, tone marks optional, typing slips forgiven; "
            "the results come best match first"
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[IndicatorOut]:
    return service.list_indicators(
        session=session,
        group=group,
        q=q,
        classifications=allowed.classifications,
        codes=allowed.indicators,
        after_id=decode_cursor(cursor),
        limit=limit,
    )


@router.get("/indicators/{code}", response_model=IndicatorDetail)
def get_indicator(session: SessionDep, allowed: Readable, code: str) -> IndicatorDetail:
    detail = service.indicator_detail(session=session, code=code)
    require_readable(code, detail.classification, allowed)
    return detail
