"""Warehouse API: observations, changes and aggregated series out (they come in as submissions: exchange.api)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from govops.audit.service import CONFIDENTIAL
from govops.catalog.models import Indicator
from govops.catalog.service import get_indicator as find_indicator
from govops.errors import GovopsError
from govops.events.service import topics_of
from govops.paging import DEFAULT_LIMIT, MAX_BIG_ID, MAX_LIMIT, Page, decode_cursor, encode_cursor
from govops.warehouse import changes, service
from govops.warehouse.filters import ObservationFilter
from govops.warehouse.schemas import ChangesPage, ObservationOut, Series
from govops.warehouse.series import SeriesQuery, build_series
from govops.warehouse.stream import ChangeHub, stream
from govops.web.access import Readable, reader_of, require_readable
from govops.web.auditing import record_confidential_reads
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES

TOPIC_HELP = "only these topics (observations, catalog) or types (indicator.updated); repeat or comma-separate"
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

router = APIRouter(prefix="/api/v1", tags=["warehouse"], responses=ERROR_RESPONSES)


def _parse_dims(text: str | None) -> dict[str, str] | None:
    """`COICOP_VN:01,OTHER:X` -> {"COICOP_VN": "01", "OTHER": "X"}; empty string -> the total."""
    if text is None:
        return None
    dims: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, code = part.partition(":")
        if not sep or not name or not code:
            raise GovopsError(
                f"dims part {part!r} is not DIMENSION:CODE",
                code="invalid_filter",
                hint="e.g. dims=COICOP_VN:01; leave dims empty for the total",
            )
        dims[name] = code
    return dims


def _iso_text(value: object) -> object:
    # pydantic would also read 0.5 as a Unix time; a time in this API is always written out.
    if not isinstance(value, str) or not ISO_DATETIME.match(value):
        raise ValueError("write the time as ISO 8601 with a zone, e.g. 2025-08-01T00:00:00Z or +07:00")
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2025-08-01T00:00:00Z or +07:00")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


AwareTime = Annotated[datetime | None, BeforeValidator(_iso_text), AfterValidator(_aware)]


@router.get("/observations", response_model=Page[ObservationOut])
def get_observations(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    allowed: Readable,
    indicator: str | None = None,
    area: Annotated[list[str], Query(description="area code; repeat for several")] = [],  # noqa: B006
    start: Annotated[str | None, Query(description="first period, e.g. 2024-01 or 2024")] = None,
    end: Annotated[str | None, Query(description="last period")] = None,
    dims: Annotated[str | None, Query(description="DIM:CODE,...; empty for the total")] = None,
    status: str | None = None,
    updated_since: AwareTime = None,
    as_of: Annotated[AwareTime, Query(description="values as they stood at this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ObservationOut]:
    if indicator:
        require_readable(indicator, find_indicator(session=session, code=indicator).classification, allowed)
    where = ObservationFilter.of(
        session=session,
        indicator=indicator,
        areas=area,
        start=start,
        end=end,
        dims=_parse_dims(dims),
        status=status,
        updated_since=updated_since,
        classifications=allowed.classifications,
        indicator_codes=allowed.indicators,
    )
    page = service.list_observations(
        session=session, where=where, as_of=as_of, after_id=decode_cursor(cursor, max_id=MAX_BIG_ID), limit=limit
    )
    if CONFIDENTIAL in allowed.classifications:
        codes = {indicator} if indicator else {item.indicator for item in page.items}
        confidential = session.scalars(
            select(Indicator.code).where(Indicator.code.in_(codes), Indicator.classification == CONFIDENTIAL)
        ).all()
        if confidential:
            record_confidential_reads(
                session=audit_session, request=request, codes=confidential, detail={"rows": len(page.items)}
            )
    return page


@router.get("/changes", response_model=ChangesPage)
def get_changes(
    session: SessionDep,
    allowed: Readable,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page; none: from the start")] = None,
    indicator: Annotated[list[str], Query(description="only these indicators; repeat for several")] = [],  # noqa: B006
    area: Annotated[list[str], Query(description="only these areas; repeat for several")] = [],  # noqa: B006
    topic: Annotated[list[str], Query(description=TOPIC_HELP)] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ChangesPage:
    """Every event the caller may read (observation changes, catalogue changes...), in the order they happened."""
    page = changes.read(
        session=session,
        after_id=decode_cursor(cursor, max_id=MAX_BIG_ID),
        limit=limit,
        interest=allowed.interest(indicators=indicator, areas=area, topics=topics_of(topic)),
    )
    return ChangesPage.model_validate(
        {
            "items": [e.as_json() for e in page.items],
            "next_cursor": encode_cursor(page.after_id),
            "caught_up": page.caught_up,
        }
    )


@router.get("/events", include_in_schema=False)
async def get_events(
    request: Request,
    indicator: Annotated[list[str], Query()] = [],  # noqa: B006
    area: Annotated[list[str], Query()] = [],  # noqa: B006
    topic: Annotated[list[str], Query()] = [],  # noqa: B006
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-Sent Events of every change the caller may read (not in the OpenAPI description: it never ends).

    Without Last-Event-ID the stream starts with the next change; with it, every change after that id
    still in the store comes first.
    """
    after_id = None
    if last_event_id is not None:
        if not (last_event_id.isascii() and last_event_id.isdigit() and int(last_event_id) <= MAX_BIG_ID):
            raise GovopsError(
                f"Last-Event-ID {last_event_id!r} is not an event id",
                code="invalid_cursor",
                hint="send back the id: of the last event received",
            )
        after_id = int(last_event_id)
    # A stream lasts for hours: no database session may be held for it (dependencies are released only
    # when the response ends), so the reader is worked out with sessions opened and closed right here.
    allowed = await run_in_threadpool(reader_of, request)
    hub: ChangeHub = request.app.state.change_hub
    return StreamingResponse(
        stream(hub, allowed.interest(indicators=indicator, areas=area, topics=topics_of(topic)), after_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/series/{indicator}", response_model=list[Series])
def get_series(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    allowed: Readable,
    indicator: str,
    area: Annotated[list[str], Query(description="area code(s); default VN")] = ["VN"],  # noqa: B006
    freq: Annotated[str | None, Query(description="M, Q, S, A...; default the indicator's own")] = None,
    start: str | None = None,
    end: str | None = None,
    dims: Annotated[str | None, Query(description="DIM:CODE,...; default the total")] = None,
    as_of: AwareTime = None,
) -> list[Series]:
    """One series per area, aggregated over areas and time by the indicator's rules.

    A figure reported for a period of the asked frequency longer than the indicator's own (an official annual
    figure of a monthly indicator) wins over adding up the shorter periods; its point says source reported.
    """
    ind = find_indicator(session=session, code=indicator)
    require_readable(indicator, ind.classification, allowed)
    if len(area) > 100:
        raise GovopsError("at most 100 areas per request", code="too_large", hint="split the request")
    result = build_series(
        session=session,
        query=SeriesQuery.of(indicator, area, freq=freq, start=start, end=end, dims=_parse_dims(dims)),
        as_of=as_of,
    )
    if ind.classification == CONFIDENTIAL:
        record_confidential_reads(session=audit_session, request=request, codes=[ind.code])
    return result
