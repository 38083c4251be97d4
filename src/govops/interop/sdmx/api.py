"""SDMX REST endpoints over the warehouse: structures to browse, stored observations to download.

The routes follow the SDMX RESTful API (v1.5, the one that goes with SDMX 2.1) where govops has
something to say:

* ``GET /api/v1/sdmx/structure`` (also ``/dataflow`` and ``/dataflow/{agency}/all/{version}``): an
  SDMX-ML 2.1 structure message with one dataflow per indicator group and one per indicator the
  caller may read, their data structures, code lists and concepts (``sdmx.write`` writes it).
  ``GET /api/v1/sdmx/dataflow/{flow}`` (or ``/dataflow/{agency}/{flow}/{version}``) is the same for
  one flow: its dataflow with everything its DSD refers to, which is what a reader of
  structure-specific data needs.
* ``GET /api/v1/sdmx/data/{flow}/{key}``: the flow's stored observations (the ``observation``
  table: current values, never roll-ups or derived indicators) as SDMX-JSON 1.0, SDMX-CSV 2.0 (1.0 on
  request: ``format=sdmx-csv1`` or ``Accept: application/vnd.sdmx.data+csv;version=1.0.0``) or
  SDMX-ML 2.1 structure-specific data, chosen by ``format=`` or the ``Accept`` header; filtered by
  the key (``M.CPI.79+01.``: one part per key dimension, ``+`` between codes, empty for any code),
  ``startPeriod``/``endPeriod`` (observations whose period starts between the start of the one and
  the end of the other) and ``updatedAfter`` (observations recorded after that moment). Without
  ``format=`` or an ``Accept`` naming a served type (``*/*``, none), the answer is SDMX-JSON; a
  type nobody serves (generic data, SDMX-JSON 2.0...) is 406. Past ``MAX_OBSERVATIONS`` (XML:
  ``MAX_XML_OBSERVATIONS``) matching observations the answer is 413.

Flow ids are indicator codes and group codes. An indicator keeps its code; a group whose code is
also an indicator's is served as ``<code>_GROUP`` (``_GROUP2``... if that is taken too), so that
``/data/CPI`` always means the indicator. A flow reference may be SDMX's ``GOVOPS,CPI,1.0``.
Derived indicators (with a formula) are computed when queried and never stored: they have no flow.

What a caller sees follows ``govops.web.access``: indicators it may not read are absent from the
structures and the data, and a flow left with none is unknown (404). Reading confidential
observations leaves a ``confidential.read`` audit entry, as the observations API does.

An empty answer is a valid empty message with 200. (SDMX REST v1.5 asks for 204 rather than 404
when nothing matches; 204 carries no body, and an empty message is what every client can read.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.audit.service import CONFIDENTIAL
from govops.catalog.dimensions import TOTAL, parse_dim_key
from govops.catalog.models import Area, Codelist, Indicator, IndicatorGroup, Unit
from govops.db.base import utcnow
from govops.errors import GovopsError, NotFound
from govops.i18n import negotiate
from govops.interop.sdmx.keys import parse_key
from govops.interop.sdmx.periods import govops_period
from govops.interop.sdmx.write import (
    AGENCY_ID,
    FREQ,
    INDICATOR,
    REF_AREA,
    SDMX_FREQ,
    VERSION,
    CsvVersion,
    ExportCatalogue,
    ExportCode,
    ExportCodelist,
    ExportFlow,
    ExportSeries,
    Lang,
    data_csv,
    data_json,
    data_xml,
    structure_message,
)
from govops.periods import Freq, Period, PeriodError
from govops.warehouse.filters import ObservationFilter
from govops.warehouse.models import Observation
from govops.web.access import Readable, Reader
from govops.web.auditing import record_confidential_reads
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES

STRUCTURE_TYPE = "application/vnd.sdmx.structure+xml; version=2.1"
JSON_TYPE = "application/vnd.sdmx.data+json; version=1.0.0"
CSV_TYPE = "application/vnd.sdmx.data+csv; version=2.0.0"
CSV1_TYPE = "application/vnd.sdmx.data+csv; version=1.0.0"
XML_TYPE = "application/vnd.sdmx.structurespecificdata+xml; version=2.1"

# Past these counts an answer is refused (413) rather than built: a data set of sdmx1 objects costs
# about 0.1 ms per observation, so XML is kept to a few seconds; JSON and CSV to a few hundred MB.
MAX_OBSERVATIONS = 500_000
MAX_XML_OBSERVATIONS = 50_000

DataFormat = Literal["sdmx-json", "sdmx-csv", "sdmx-csv1", "sdmx-xml"]
Labels = Literal["id", "both"]

router = APIRouter(prefix="/api/v1/sdmx", tags=["sdmx"], responses=ERROR_RESPONSES)


# == what a caller may see: the catalogue as dataflows ==========================================


@dataclass(frozen=True)
class StoredIndicator:
    """What the data query needs of one indicator of a flow."""

    id: int
    code: str
    unit: str
    decimals: int
    classification: str


@dataclass(frozen=True)
class ServedFlow:
    """A dataflow and the readable indicators behind it."""

    flow: ExportFlow
    indicators: tuple[StoredIndicator, ...]


@dataclass(frozen=True)
class ServedCatalogue:
    """The dataflows one caller may read, and the area ids their data queries need."""

    flows: tuple[ServedFlow, ...]
    area_ids: Mapping[str, int]

    def export(self) -> ExportCatalogue:
        return ExportCatalogue(tuple(f.flow for f in self.flows))

    def flow(self, flow_id: str) -> ServedFlow:
        found = next((f for f in self.flows if f.flow.id == flow_id), None)
        if found is None:
            shown = flow_id if len(flow_id) <= 60 else flow_id[:60] + "..."
            raise NotFound(
                f"no dataflow {shown!r}",
                hint="list the dataflows with GET /api/v1/sdmx/structure; flows are indicator and group codes",
            )
        return found


def readable_indicators(*, session: Session, reader: Reader) -> list[Indicator]:
    """The stored (not derived) indicators the reader may read, in catalogue order."""
    stmt = (
        select(Indicator)
        .where(Indicator.formula.is_(None), Indicator.classification.in_(list(reader.classifications)))
        .order_by(Indicator.id)
    )
    if reader.indicators is not None:
        stmt = stmt.where(Indicator.code.in_(sorted(reader.indicators)))
    return [i for i in session.scalars(stmt) if reader.may_read(i.code, i.classification)]


def area_codes(*, session: Session) -> tuple[tuple[ExportCode, ...], dict[str, int]]:
    """Every area (the nation, provinces old and new, wards) under its parent, and the id of each code."""
    rows = session.execute(select(Area.id, Area.code, Area.name_vi, Area.name_ascii, Area.parent_id).order_by(Area.id))
    areas = list(rows)
    code_of = {row.id: row.code for row in areas}
    codes = tuple(
        ExportCode(row.code, row.name_vi, row.name_ascii, code_of.get(row.parent_id) if row.parent_id else None)
        for row in areas
    )
    return codes, {row.code: row.id for row in areas}


def _codelists(session: Session) -> dict[str, ExportCodelist]:
    return {
        c.code: ExportCodelist(
            c.code, c.name_vi, c.name_en, tuple(ExportCode(k.code, k.name_vi, k.name_en) for k in c.codes)
        )
        for c in session.scalars(select(Codelist))
    }


def _units(session: Session) -> dict[str, ExportCode]:
    return {u.code: ExportCode(u.code, u.name_vi, u.name_en) for u in session.scalars(select(Unit))}


def flow_ids(*, indicators: Sequence[str], groups: Sequence[str]) -> dict[str, str]:
    """The flow id of each group: its code, unless an indicator (or an earlier group) has it already."""
    taken = set(indicators)
    ids: dict[str, str] = {}
    for code in groups:
        flow_id, n = code, 1
        while flow_id in taken:
            n += 1
            flow_id = f"{code}_GROUP" if n == 2 else f"{code}_GROUP{n - 1}"
        taken.add(flow_id)
        ids[code] = flow_id
    return ids


def served_catalogue(*, session: Session, reader: Reader) -> ServedCatalogue:
    """One flow per indicator group with a readable stored indicator, then one per such indicator."""
    indicators = readable_indicators(session=session, reader=reader)
    areas, area_ids = area_codes(session=session)
    codelists = _codelists(session)
    units = _units(session)
    groups = list(session.scalars(select(IndicatorGroup).order_by(IndicatorGroup.id)))
    # Against every indicator code, readable or not: a flow's id must not depend on who asks.
    group_ids = flow_ids(indicators=list(session.scalars(select(Indicator.code))), groups=[g.code for g in groups])

    def served(flow_id: str, name_vi: str, name_en: str, members: list[Indicator]) -> ServedFlow:
        breakdowns = dict.fromkeys(code for i in members for code in i.dimension_codes)
        flow = ExportFlow(
            id=flow_id,
            name_vi=name_vi,
            name_en=name_en,
            indicators=tuple(ExportCode(i.code, i.name_vi, i.name_en) for i in members),
            areas=areas,
            units=tuple(units[code] for code in dict.fromkeys(i.unit.code for i in members)),
            breakdowns=tuple(codelists[code] for code in breakdowns),
        )
        stored = tuple(StoredIndicator(i.id, i.code, i.unit.code, i.decimals, i.classification) for i in members)
        return ServedFlow(flow, stored)

    flows: list[ServedFlow] = []
    for group in groups:
        members = [i for i in indicators if any(g.id == group.id for g in i.groups)]
        if members:
            flows.append(served(group_ids[group.code], group.name_vi, group.name_en, members))
    flows.extend(served(i.code, i.name_vi, i.name_en, [i]) for i in indicators)
    return ServedCatalogue(tuple(flows), area_ids)


# == request parameters =========================================================================

_FLOW_HINT = "write the flow as CPI, GOVOPS,CPI or GOVOPS,CPI,1.0"
_ANY_AGENCY = frozenset({AGENCY_ID, "all", "*"})
_ANY_VERSION = frozenset({VERSION, "latest", "+", "~", "*", "all"})


def flow_id_of(*, flow_ref: str, agency: str = AGENCY_ID, version: str = "latest") -> str:
    """The flow id of an SDMX flow reference (``CPI``, ``GOVOPS,CPI``, ``GOVOPS,CPI,1.0``); NotFound for others."""
    parts = flow_ref.split(",")
    if len(parts) == 2:
        agency, flow_ref = parts
    elif len(parts) == 3:
        agency, flow_ref, version = parts
    elif len(parts) > 3:
        raise NotFound(f"{flow_ref[:60]!r} is not a dataflow reference", hint=_FLOW_HINT)
    if not flow_ref:
        raise NotFound("the dataflow reference names no dataflow", hint=_FLOW_HINT)
    if agency not in _ANY_AGENCY:
        raise NotFound(f"no agency {agency[:40]!r}: govops maintains its dataflows as {AGENCY_ID}", hint=_FLOW_HINT)
    if version not in _ANY_VERSION:
        raise NotFound(
            f"no version {version[:20]!r} of dataflow {flow_ref[:60]}", hint=f"every flow is version {VERSION}"
        )
    return flow_ref


def period_bounds(*, start_period: str | None, end_period: str | None) -> tuple[date | None, date | None]:
    """First and last day a period may start on: the start of startPeriod and the end of endPeriod."""
    bounds: list[date | None] = []
    for name, text, edge in (("startPeriod", start_period, "start"), ("endPeriod", end_period, "end")):
        if text is None or not text.strip():
            bounds.append(None)
            continue
        try:
            period = Period.parse(govops_period(text))
        except PeriodError as exc:
            exc.where = name
            raise
        bounds.append(period.start if edge == "start" else period.end)
    lo, hi = bounds
    if lo is not None and hi is not None and lo > hi:
        raise GovopsError(
            f"startPeriod {start_period} is after endPeriod {end_period}",
            code="invalid_period",
            where="startPeriod",
            hint="swap them, or leave one out",
        )
    return lo, hi


_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", re.ASCII)
_TIME_HINT = "write an ISO 8601 time with its zone, e.g. 2025-08-01T00:00:00Z; in a URL, write + as %2B"


def parse_updated_after(text: str | None) -> datetime | None:
    """The moment of ``updatedAfter`` in UTC; GovopsError (400) unless it is an ISO 8601 time with a zone."""
    if text is None:
        return None
    shown = text if len(text) <= 40 else text[:40] + "..."
    stripped = text.strip()
    try:
        value = datetime.fromisoformat(stripped) if _DATETIME.match(stripped) else None
    except ValueError:
        value = None
    if value is None:
        # A '+' left unencoded in a query string arrives as a space: '...T00:00:00 07:00'.
        if re.search(r"\d \d{2}:?\d{2}$", stripped):
            hint = "the zone's '+' arrived as a space: write it as %2B, e.g. 2025-08-01T00:00:00%2B07:00"
        else:
            hint = _TIME_HINT
        raise GovopsError(
            f"updatedAfter {shown!r} is not a date and time", code="invalid_time", where="updatedAfter", hint=hint
        )
    if value.tzinfo is None:
        raise GovopsError(
            f"updatedAfter {shown!r} has no time zone",
            code="invalid_time",
            where="updatedAfter",
            hint="add Z for UTC or the offset, e.g. 2025-08-01T00:00:00Z or 2025-08-01T07:00:00%2B07:00",
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise GovopsError(
            f"updatedAfter {shown!r} is out of range", code="invalid_time", where="updatedAfter", hint=_TIME_HINT
        ) from None


# -- content negotiation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Offer:
    media: str  # type/subtype, lower case
    versions: frozenset[str]  # accepted values of the version parameter (empty: the type takes none)
    format: DataFormat
    answer: str  # the Content-Type of the answer


_DATA_OFFERS: tuple[_Offer, ...] = (
    _Offer("application/vnd.sdmx.data+json", frozenset({"1.0.0", "1.0"}), "sdmx-json", JSON_TYPE),
    _Offer("application/vnd.sdmx.data+csv", frozenset({"2.0.0", "2.0"}), "sdmx-csv", CSV_TYPE),
    _Offer("application/vnd.sdmx.data+csv", frozenset({"1.0.0", "1.0"}), "sdmx-csv1", CSV1_TYPE),
    _Offer("application/vnd.sdmx.structurespecificdata+xml", frozenset({"2.1"}), "sdmx-xml", XML_TYPE),
    _Offer("application/json", frozenset(), "sdmx-json", "application/json"),
    _Offer("text/csv", frozenset(), "sdmx-csv", "text/csv; charset=utf-8"),
    _Offer("application/xml", frozenset(), "sdmx-xml", "application/xml"),
    _Offer("text/xml", frozenset(), "sdmx-xml", "text/xml; charset=utf-8"),
)
# What a wildcard gets: the first offer of its kind.
_WILDCARD_FORMAT: dict[str, DataFormat] = {"*/*": "sdmx-json", "application/*": "sdmx-json", "text/*": "sdmx-csv"}
_FORMAT_NAMES: dict[str, DataFormat] = {
    "sdmx-json": "sdmx-json",
    "jsondata": "sdmx-json",
    "json": "sdmx-json",
    "sdmx-csv": "sdmx-csv",
    "csvdata": "sdmx-csv",
    "csv": "sdmx-csv",
    "sdmx-csv1": "sdmx-csv1",
    "csvdata1": "sdmx-csv1",
    "csv1": "sdmx-csv1",
    "sdmx-xml": "sdmx-xml",
    "structurespecificdata": "sdmx-xml",
    "structure-specific": "sdmx-xml",
    "xml": "sdmx-xml",
}
_ANSWER_OF: dict[DataFormat, str] = {
    "sdmx-json": JSON_TYPE,
    "sdmx-csv": CSV_TYPE,
    "sdmx-csv1": CSV1_TYPE,
    "sdmx-xml": XML_TYPE,
}
_DATA_TYPES_HINT = (
    "ask for application/vnd.sdmx.data+json;version=1.0.0, application/vnd.sdmx.data+csv;version=2.0.0 (or 1.0.0), "
    "application/vnd.sdmx.structurespecificdata+xml;version=2.1, application/json or text/csv, "
    "or pass format=sdmx-json, sdmx-csv (SDMX-CSV 2.0), sdmx-csv1 (SDMX-CSV 1.0) or sdmx-xml"
)


@dataclass(frozen=True)
class _MediaRange:
    media: str
    params: dict[str, str]
    q: float
    order: int

    @property
    def specificity(self) -> int:
        return 0 if self.media == "*/*" else 1 if self.media.endswith("/*") else 2


def _media_ranges(accept: str) -> list[_MediaRange]:
    """The ranges of an Accept header, most preferred first (by q, then specificity, then order)."""
    ranges: list[_MediaRange] = []
    for order, item in enumerate(accept.split(",")):
        media, *raw_params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            continue
        params: dict[str, str] = {}
        for raw in raw_params:
            name, _, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            continue
        if q > 0:
            ranges.append(_MediaRange(media.lower(), params, q, order))
    return sorted(ranges, key=lambda r: (-r.q, -r.specificity, r.order))


@dataclass(frozen=True)
class Negotiated:
    """The data format chosen, the Content-Type to answer with, and SDMX-CSV's labels if the type named them."""

    format: DataFormat
    content_type: str
    labels: Labels | None = None


def negotiate_data(*, accept: str | None, format_name: str | None) -> Negotiated:
    """The data format of ``format=`` if given, else the best ``Accept`` range govops serves; 406 if none."""
    if format_name is not None:
        chosen = _FORMAT_NAMES.get(format_name.strip().lower())
        if chosen is None:
            shown = format_name if len(format_name) <= 40 else format_name[:40] + "..."
            raise GovopsError(
                f"format {shown!r} is not one govops serves",
                code="not_acceptable",
                status=406,
                where="format",
                hint="use format=sdmx-json, sdmx-csv (SDMX-CSV 2.0), sdmx-csv1 (SDMX-CSV 1.0) or sdmx-xml "
                "(structure-specific data)",
            )
        return Negotiated(chosen, _ANSWER_OF[chosen])
    if accept is None or not accept.strip():
        return Negotiated("sdmx-json", JSON_TYPE)
    for wanted in _media_ranges(accept):
        if wanted.media in _WILDCARD_FORMAT:
            fmt = _WILDCARD_FORMAT[wanted.media]
            return Negotiated(fmt, _ANSWER_OF[fmt])
        for offer in _DATA_OFFERS:
            version = wanted.params.get("version")
            if offer.media == wanted.media and (version is None or version in offer.versions):
                labels = wanted.params.get("labels")
                return Negotiated(offer.format, offer.answer, "both" if labels == "both" else "id" if labels else None)
    raise GovopsError(
        "govops serves none of the types the Accept header asks for",
        code="not_acceptable",
        status=406,
        where="Accept",
        hint=_DATA_TYPES_HINT,
    )


_STRUCTURE_MEDIA = frozenset({"application/vnd.sdmx.structure+xml", "application/xml", "text/xml"})


def negotiate_structure(*, accept: str | None) -> str:
    """The Content-Type of a structure answer: SDMX-ML 2.1 (also as application/xml or text/xml); 406 else."""
    if accept is None or not accept.strip():
        return STRUCTURE_TYPE
    for wanted in _media_ranges(accept):
        version = wanted.params.get("version")
        if wanted.media in ("*/*", "application/*") or (
            wanted.media == "application/vnd.sdmx.structure+xml" and version in (None, "2.1")
        ):
            return STRUCTURE_TYPE
        if wanted.media in _STRUCTURE_MEDIA - {"application/vnd.sdmx.structure+xml"}:
            return wanted.media if wanted.media == "application/xml" else "text/xml; charset=utf-8"
    raise GovopsError(
        "govops serves structures only as SDMX-ML 2.1",
        code="not_acceptable",
        status=406,
        where="Accept",
        hint="ask for application/vnd.sdmx.structure+xml;version=2.1 (or application/xml)",
    )


def choose_language(*, lang: str | None, accept_language: str | None) -> Lang:
    """``lang=vi|en`` if given (400 for another), else Vietnamese if Accept-Language prefers it, else English."""
    if lang is not None:
        if lang in ("vi", "en"):
            return "vi" if lang == "vi" else "en"
        raise GovopsError(
            f"lang {lang[:20]!r} is not a language govops names things in", code="invalid_language", hint="use vi or en"
        )
    # SDMX clients are foreign systems: English unless they ask for Vietnamese.
    return "vi" if negotiate(accept_language, default="en") == "vi" else "en"


def choose_labels(*, labels: str | None, negotiated: Negotiated) -> Labels:
    if labels is None:
        return negotiated.labels or "id"
    if labels in ("id", "both"):
        return "both" if labels == "both" else "id"
    raise GovopsError(
        f"labels {labels[:20]!r} is not id or both",
        code="invalid_labels",
        where="labels",
        hint="labels=id writes codes, labels=both writes 'code: name' (SDMX-CSV only)",
    )


# == stored observations as series =============================================================


@dataclass(frozen=True)
class DataQuery:
    """What a data request asks of one flow: the key's codes per dimension, periods and a moment."""

    wanted: Mapping[str, frozenset[str]]
    first_day: date | None = None
    last_day: date | None = None
    updated_after: datetime | None = None


def stored_series(
    *, session: Session, served: ServedFlow, area_ids: Mapping[str, int], query: DataQuery, limit: int
) -> list[ExportSeries]:
    """The flow's stored observations that the key, periods and moment select, as series in key order.

    FREQ is the frequency of the stored period (the indicator's periodicity, which writes enforce).
    Raises GovopsError (413) when more than ``limit`` observations match.
    """
    wanted = query.wanted
    indicators = [i for i in served.indicators if INDICATOR not in wanted or i.code in wanted[INDICATOR]]
    if not indicators:
        return []
    areas = None
    if REF_AREA in wanted:
        areas = frozenset(area_ids[code] for code in wanted[REF_AREA] if code in area_ids)
        if not areas:
            return []
    where = ObservationFilter(
        indicator_ids=frozenset(i.id for i in indicators),
        area_ids=areas,
        first_day=query.first_day,
        last_day=query.last_day,
        updated_after=query.updated_after,
    )
    o = Observation
    stmt = (
        select(o.indicator_id, o.area_id, o.dim_key, o.period, o.value, o.status)
        .where(where.as_sql_filter())
        .order_by(o.indicator_id, o.area_id, o.dim_key, o.period_start)
        .limit(limit + 1)
    )
    rows = session.execute(stmt).all()
    if len(rows) > limit:
        raise GovopsError(
            f"more than {limit} observations match this query",
            code="too_large",
            status=413,
            hint="narrow the key (indicator, area) or the periods (startPeriod, endPeriod)"
            + (", or ask for SDMX-JSON or SDMX-CSV, which may be larger" if limit < MAX_OBSERVATIONS else ""),
        )
    by_id = {i.id: i for i in indicators}
    area_code = {area_id: code for code, area_id in area_ids.items()}
    breakdowns = [b.code for b in served.flow.breakdowns if b.code in wanted]
    freqs: dict[str, Freq] = {}
    observations: dict[tuple[int, int, str, Freq], list[tuple[str, float | None, str | None]]] = {}
    for indicator_id, area_id, key, period, value, status in rows:
        freq = freqs.get(period) or freqs.setdefault(period, Period.parse(period).freq)
        if FREQ in wanted and SDMX_FREQ[freq.value] not in wanted[FREQ]:
            continue
        if breakdowns:
            dims = parse_dim_key(key)
            if any(dims.get(b, TOTAL) not in wanted[b] for b in breakdowns):
                continue
        observations.setdefault((indicator_id, area_id, key, freq), []).append((period, value, status))
    return [
        ExportSeries(
            indicator=by_id[indicator_id].code,
            area=area_code[area_id],
            dims=parse_dim_key(key),
            freq=freq.value,
            unit=by_id[indicator_id].unit,
            decimals=by_id[indicator_id].decimals,
            observations=found,
        )
        for (indicator_id, area_id, key, freq), found in observations.items()
    ]


def confidential_codes(*, served: ServedFlow, series: Iterable[ExportSeries]) -> list[str]:
    """The confidential indicators whose observations are in the answer (audited as read)."""
    confidential = {i.code for i in served.indicators if i.classification == CONFIDENTIAL}
    return sorted({s.indicator for s in series if s.indicator in confidential and s.observations})


def write_data(
    *, negotiated: Negotiated, flow: ExportFlow, series: Sequence[ExportSeries], labels: Labels, lang: Lang
) -> bytes:
    if negotiated.format in ("sdmx-csv", "sdmx-csv1"):
        version: CsvVersion = "1.0" if negotiated.format == "sdmx-csv1" else "2.0"
        return data_csv(flow=flow, series=series, labels=labels, lang=lang, version=version)
    if negotiated.format == "sdmx-xml":
        return data_xml(flow=flow, series=series, prepared=utcnow())
    return data_json(flow=flow, series=series, prepared=utcnow(), lang=lang)


# == routes =====================================================================================

StartPeriod = Annotated[
    str | None, Query(alias="startPeriod", description="first period, SDMX style: 2024, 2024-Q1, 2024-01, 2024-M01")
]
EndPeriod = Annotated[str | None, Query(alias="endPeriod", description="last period, e.g. 2025-06")]
UpdatedAfter = Annotated[
    str | None,
    Query(alias="updatedAfter", description="only observations recorded after this time, e.g. 2025-08-01T00:00:00Z"),
]
FormatParam = Annotated[
    str | None,
    Query(
        alias="format",
        description="sdmx-json, sdmx-csv (SDMX-CSV 2.0), sdmx-csv1 (SDMX-CSV 1.0) or sdmx-xml; overrides Accept",
    ),
]
LabelsParam = Annotated[str | None, Query(description="SDMX-CSV: id (codes) or both ('code: name')")]
LangParam = Annotated[str | None, Query(description="names in vi or en (default: Accept-Language, else en)")]
AcceptHeader = Annotated[str | None, Header(description="the SDMX media type wanted (see format)")]
AcceptLanguageHeader = Annotated[str | None, Header(description="vi or en, when lang is not given")]

_STRUCTURE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {STRUCTURE_TYPE: {}, "application/xml": {}, "text/xml": {}},
        "description": "SDMX-ML 2.1 structure message",
    },
    406: ERROR_RESPONSES[400] | {"description": "the Accept header asks for no type of structure served"},
}
_DATA_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {offer.answer: {} for offer in _DATA_OFFERS},
        "description": "SDMX-JSON 1.0, SDMX-CSV 2.0 (or 1.0) or SDMX-ML 2.1 structure-specific data",
    },
    406: ERROR_RESPONSES[400] | {"description": "no type of the Accept header (or format=) is served"},
}


def _structure_response(*, session: Session, reader: Reader, accept: str | None, flow_id: str | None) -> Response:
    content_type = negotiate_structure(accept=accept)
    catalogue = served_catalogue(session=session, reader=reader)
    exported = catalogue.export() if flow_id is None else ExportCatalogue((catalogue.flow(flow_id).flow,))
    body = structure_message(catalogue=exported, prepared=utcnow())
    return Response(body, media_type=content_type, headers={"Vary": "Accept"})


@router.get("/structure", response_class=Response, responses=_STRUCTURE_DOC)
def get_structure(session: SessionDep, allowed: Readable, accept: AcceptHeader = None) -> Response:
    """Every dataflow the caller may read (one per indicator group and per indicator), with DSDs and code lists."""
    return _structure_response(session=session, reader=allowed, accept=accept, flow_id=None)


@router.get("/dataflow", response_class=Response, responses=_STRUCTURE_DOC)
def get_dataflows(session: SessionDep, allowed: Readable, accept: AcceptHeader = None) -> Response:
    """The same as /structure."""
    return _structure_response(session=session, reader=allowed, accept=accept, flow_id=None)


@router.get("/dataflow/{flow}", response_class=Response, responses=_STRUCTURE_DOC)
def get_dataflow(session: SessionDep, allowed: Readable, flow: str, accept: AcceptHeader = None) -> Response:
    """One dataflow (``all``: every one) with its DSD, code lists and concepts."""
    flow_id = flow_id_of(flow_ref=flow)
    return _structure_response(
        session=session, reader=allowed, accept=accept, flow_id=None if flow_id == "all" else flow_id
    )


@router.get("/dataflow/{agency}/{flow}/{version}", response_class=Response, responses=_STRUCTURE_DOC)
def get_dataflow_version(
    session: SessionDep, allowed: Readable, agency: str, flow: str, version: str, accept: AcceptHeader = None
) -> Response:
    """SDMX REST's spelling: /dataflow/GOVOPS/CPI/latest (agency GOVOPS or all, version 1.0 or latest)."""
    flow_id = flow_id_of(flow_ref=flow, agency=agency, version=version)
    return _structure_response(
        session=session, reader=allowed, accept=accept, flow_id=None if flow_id == "all" else flow_id
    )


@dataclass
class DataParams:
    """What a data request may say besides its flow and key: one list for both data routes."""

    start_period: StartPeriod = None
    end_period: EndPeriod = None
    updated_after: UpdatedAfter = None
    format_name: FormatParam = None
    labels: LabelsParam = None
    lang: LangParam = None
    accept: AcceptHeader = None
    accept_language: AcceptLanguageHeader = None


def _data_response(
    *,
    request: Request,
    session: Session,
    audit_session: Session,
    reader: Reader,
    flow_ref: str,
    key: str,
    params: DataParams,
) -> Response:
    negotiated = negotiate_data(accept=params.accept, format_name=params.format_name)
    chosen_labels = choose_labels(labels=params.labels, negotiated=negotiated)
    language = choose_language(lang=params.lang, accept_language=params.accept_language)
    first_day, last_day = period_bounds(start_period=params.start_period, end_period=params.end_period)
    moment = parse_updated_after(params.updated_after)
    catalogue = served_catalogue(session=session, reader=reader)
    served = catalogue.flow(flow_id_of(flow_ref=flow_ref))
    wanted = parse_key(key, dimensions=served.flow.key_dimensions)
    series = stored_series(
        session=session,
        served=served,
        area_ids=catalogue.area_ids,
        query=DataQuery(wanted, first_day, last_day, moment),
        limit=MAX_XML_OBSERVATIONS if negotiated.format == "sdmx-xml" else MAX_OBSERVATIONS,
    )
    body = write_data(negotiated=negotiated, flow=served.flow, series=series, labels=chosen_labels, lang=language)
    confidential = confidential_codes(served=served, series=series)
    if confidential:
        count = sum(len(s.observations) for s in series)
        record_confidential_reads(session=audit_session, request=request, codes=confidential, detail={"rows": count})
    return Response(body, media_type=negotiated.content_type, headers={"Vary": "Accept, Accept-Language"})


@router.get("/data/{flow}", response_class=Response, responses=_DATA_DOC)
def get_all_data(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    allowed: Readable,
    flow: str,
    params: Annotated[DataParams, Depends()],
) -> Response:
    """Every stored observation of the flow the caller may read (the key ``all``)."""
    return _data_response(
        request=request, session=session, audit_session=audit_session, reader=allowed, flow_ref=flow, key="all",
        params=params,
    )  # fmt: skip


@router.get("/data/{flow}/{key}", response_class=Response, responses=_DATA_DOC)
def get_data(
    request: Request,
    session: SessionDep,
    audit_session: WriteSessionDep,
    allowed: Readable,
    flow: str,
    key: str,
    params: Annotated[DataParams, Depends()],
) -> Response:
    """The flow's stored observations that the key selects: ``M.CPI.79+01.`` (FREQ.INDICATOR.REF_AREA[.breakdowns])."""
    return _data_response(
        request=request, session=session, audit_session=audit_session, reader=allowed, flow_ref=flow, key=key,
        params=params,
    )  # fmt: skip
