"""SDMX export: govops data and catalogue as SDMX-ML 2.1, SDMX-JSON 1.0 and SDMX-CSV 2.0 (or 1.0).

Pure functions over plain values (the frozen dataclasses below); the caller reads the database.

The mapping, one dataflow per govops indicator group or single indicator (agency ``GOVOPS``,
version ``1.0``):

* Dimensions, in key order: ``FREQ``, ``INDICATOR`` (indicator code), ``REF_AREA`` (area code),
  then one per catalogue code list the flow's indicators break down by (id = code list code, e.g.
  ``COICOP_VN``; ``_T`` = total, for an indicator without that breakdown), then ``TIME_PERIOD``.
* Primary measure ``OBS_VALUE``; attributes ``UNIT_MEASURE`` and ``DECIMALS`` (series level),
  ``OBS_STATUS`` (observation level: final A, provisional P, estimated E, forecast F).
* Frequencies: A, S, Q, M, W and D are themselves. The multi-year 2A, 5A and 10A become A2, A5
  and A10, the codes the SDMX global code list CL_FREQ (version 2.1) has for biennial,
  quinquennial and decennial data, and their TIME_PERIOD is an ISO 8601 time range, the SDMX 2.1
  TimeRangeType: ``2021/2025`` <-> ``2021-01-01/P5Y``. (FREQ=A with a five-year range would say
  "annual" of data that is not.) Every other govops period is already an SDMX time period:
  ``2025``, ``2025-S1``, ``2025-Q3``, ``2025-07``, ``2025-W31``, ``2025-07-14``.
* Code lists CL_FREQ, CL_INDICATOR, CL_AREA (wards under their province), CL_UNIT, CL_OBS_STATUS
  and CL_<code> per catalogue code list, named in Vietnamese and English (``xml:lang`` vi/en);
  concept scheme CS_GOVOPS; DSD ``DSD_<flow>``; dataflow ``<flow>``.

The structure message is built with sdmx1's model and written by ``sdmx.to_xml``. The data
messages are written directly (SDMX-JSON 1.0, SDMX-CSV 2.0 and 1.0) because a data set of sdmx1 objects
costs several microseconds per observation; ``data_xml`` does build them and suits small queries.
Values are written with ``repr`` precision; NaN and infinities are missing values. Periods are
written by ``govops.interop.sdmx.periods`` and REST keys read by ``govops.interop.sdmx.keys``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from govops.catalog.dimensions import TOTAL
from govops.errors import GovopsError
from govops.interop.sdmx.periods import sdmx_period
from govops.periods import Period, PeriodError

if TYPE_CHECKING:
    from sdmx import message
    from sdmx.model import common, v21

# sdmx1 is imported inside the functions that build SDMX-ML (structures and XML data), not with this module: with
# pandas it takes most of a second, which every server start would pay though most SDMX answers are JSON or CSV.

AGENCY_ID = "GOVOPS"
VERSION = "1.0"

FREQ = "FREQ"
INDICATOR = "INDICATOR"
REF_AREA = "REF_AREA"
TIME_PERIOD = "TIME_PERIOD"
OBS_VALUE = "OBS_VALUE"
UNIT_MEASURE = "UNIT_MEASURE"
OBS_STATUS = "OBS_STATUS"
DECIMALS = "DECIMALS"

Lang = Literal["vi", "en"]
CsvVersion = Literal["1.0", "2.0"]

# govops frequency -> SDMX CL_FREQ (2.1) code.
SDMX_FREQ: dict[str, str] = {
    "A": "A",
    "S": "S",
    "Q": "Q",
    "M": "M",
    "W": "W",
    "D": "D",
    "2A": "A2",
    "5A": "A5",
    "10A": "A10",
}
# govops observation status -> SDMX CL_OBS_STATUS code.
SDMX_STATUS: dict[str, str] = {"final": "A", "provisional": "P", "estimated": "E", "forecast": "F"}


@dataclass(frozen=True)
class ExportCode:
    """One code of a code list; ``parent`` is the code it sits under (a ward's province), if any."""

    id: str
    name_vi: str
    name_en: str
    parent: str | None = None


@dataclass(frozen=True)
class ExportCodelist:
    """A catalogue code list; its code is the dimension id and its SDMX code list is ``CL_<code>``."""

    code: str
    name_vi: str
    name_en: str
    codes: tuple[ExportCode, ...]


@dataclass(frozen=True)
class ExportFlow:
    """One dataflow with everything its data structure needs: the codes a key may hold and their names.

    ``indicators`` are the flow's indicators, ``areas`` and ``units`` the codes its data may use,
    ``breakdowns`` the catalogue code lists its indicators break down by, in dimension order.
    Flows may share the same (large) area tuple: nothing is copied.
    """

    id: str
    name_vi: str
    name_en: str
    indicators: tuple[ExportCode, ...]
    areas: tuple[ExportCode, ...]
    units: tuple[ExportCode, ...]
    breakdowns: tuple[ExportCodelist, ...] = ()

    @property
    def key_dimensions(self) -> tuple[str, ...]:
        """The series key's dimension ids in order (TIME_PERIOD excluded): what a REST key addresses."""
        return (FREQ, INDICATOR, REF_AREA, *(b.code for b in self.breakdowns))

    @property
    def urn_ref(self) -> str:
        """``GOVOPS:CPI(1.0)``: the flow's short reference, as SDMX-CSV's DATAFLOW column writes it."""
        return f"{AGENCY_ID}:{self.id}({VERSION})"


@dataclass(frozen=True)
class ExportCatalogue:
    """What a structure message describes: the dataflows; their code lists are merged by id."""

    flows: tuple[ExportFlow, ...]


@dataclass(frozen=True)
class ExportSeries:
    """One series: an indicator at an area, by breakdown code, at one frequency.

    ``dims`` maps a breakdown code list code to a code; a breakdown of the flow missing here is
    the total ``_T``. ``freq`` is a govops frequency (A, S, Q, M, W, D, 2A, 5A, 10A).
    ``observations`` are ``(period, value, status)`` in govops notation, status one of final,
    provisional, estimated, forecast (or None).
    """

    indicator: str
    area: str
    dims: Mapping[str, str]
    freq: str
    unit: str
    decimals: int
    observations: Sequence[tuple[str, float | None, str | None]]


# -- names ------------------------------------------------------------------------------------

_CONCEPT_NAMES: dict[str, tuple[str, str]] = {
    FREQ: ("Tần suất", "Frequency"),
    INDICATOR: ("Chỉ tiêu", "Indicator"),
    REF_AREA: ("Địa bàn", "Reference area"),
    TIME_PERIOD: ("Kỳ báo cáo", "Time period"),
    OBS_VALUE: ("Giá trị", "Observation value"),
    UNIT_MEASURE: ("Đơn vị tính", "Unit of measure"),
    OBS_STATUS: ("Tình trạng số liệu", "Observation status"),
    DECIMALS: ("Số chữ số thập phân", "Decimals"),
}
_FREQ_CODES: tuple[ExportCode, ...] = (
    ExportCode("A", "Năm", "Annual"),
    ExportCode("S", "Nửa năm", "Half-yearly, semester"),
    ExportCode("Q", "Quý", "Quarterly"),
    ExportCode("M", "Tháng", "Monthly"),
    ExportCode("W", "Tuần", "Weekly"),
    ExportCode("D", "Ngày", "Daily"),
    ExportCode("A2", "2 năm", "Biennial"),
    ExportCode("A5", "5 năm", "Quinquennial"),
    ExportCode("A10", "10 năm", "Decennial"),
)
_STATUS_CODES: tuple[ExportCode, ...] = (
    ExportCode("A", "Chính thức", "Normal value"),
    ExportCode("P", "Sơ bộ", "Provisional value"),
    ExportCode("E", "Ước tính", "Estimated value"),
    ExportCode("F", "Dự báo", "Forecast value"),
)
_TOTAL_CODE = ExportCode(TOTAL, "Tổng số", "Total")
_SERIES_ATTRIBUTES = (UNIT_MEASURE, DECIMALS)


def _localised(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


def _pick(code: ExportCode, lang: Lang) -> str:
    return code.name_vi if lang == "vi" else code.name_en


def _concept_name(concept: str, flow: ExportFlow, lang: Lang) -> str:
    names = _CONCEPT_NAMES.get(concept)
    if names is None:
        codelist = next(b for b in flow.breakdowns if b.code == concept)
        names = (codelist.name_vi, codelist.name_en)
    return names[0] if lang == "vi" else names[1]


def _with_total(codes: tuple[ExportCode, ...]) -> tuple[ExportCode, ...]:
    return codes if any(c.id == TOTAL for c in codes) else (*codes, _TOTAL_CODE)


# -- structure message ------------------------------------------------------------------------


def _agency() -> common.Agency:
    from sdmx.model import common

    return common.Agency(id=AGENCY_ID, name=_localised("govops", "govops"))


def _urn(package_class: str, artefact_id: str) -> str:
    # sdmx1 names dataflows and DSDs by its own class names (DataflowDefinition=...); SDMX 2.1 says
    # Dataflow and DataStructure, so every URN written here is spelled out.
    return f"urn:sdmx:org.sdmx.infomodel.{package_class}={AGENCY_ID}:{artefact_id}({VERSION})"


def _codelist(sdmx_id: str, name_vi: str, name_en: str, codes: Iterable[ExportCode]) -> common.Codelist:
    from sdmx.model import common

    codelist = common.Codelist(
        id=sdmx_id,
        version=VERSION,
        maintainer=_agency(),
        name=_localised(name_vi, name_en),
        is_final=True,
        is_external_reference=False,
    )
    # Concepts refer to their code list by URN: sdmx1 writes no URN it was not given.
    codelist.urn = _urn("codelist.Codelist", sdmx_id)
    parents: dict[str, str] = {}
    for code in codes:
        if code.id in codelist.items:
            continue
        codelist.append(common.Code(id=code.id, name=_localised(code.name_vi, code.name_en)))
        if code.parent is not None:
            parents[code.id] = code.parent
    for child, parent in parents.items():
        # A parent outside the list (a ward exported without its province) is left out, not invented.
        if parent in codelist.items and parent != child:
            codelist.items[parent].append_child(codelist.items[child])
    return codelist


def _merged(groups: Iterable[Iterable[ExportCode]]) -> list[ExportCode]:
    seen: dict[str, ExportCode] = {}
    for codes in groups:
        for code in codes:
            seen.setdefault(code.id, code)
    return list(seen.values())


@dataclass
class _Structures:
    """The sdmx1 objects of a catalogue, built once and shared by all its flows."""

    codelists: dict[str, common.Codelist]
    concepts: common.ConceptScheme
    dsds: dict[str, v21.DataStructureDefinition]
    flows: dict[str, v21.DataflowDefinition]


def _build_structures(catalogue: ExportCatalogue) -> _Structures:
    from sdmx.model import common, v21

    flows = catalogue.flows
    ids = [f.id for f in flows]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise GovopsError(
            f"dataflow id(s) {', '.join(duplicated)} appear more than once in the catalogue",
            code="invalid_catalogue",
            hint="give each indicator group and indicator one dataflow",
        )
    codelists: dict[str, common.Codelist] = {
        "CL_FREQ": _codelist("CL_FREQ", "Tần suất", "Frequency", _FREQ_CODES),
        "CL_INDICATOR": _codelist("CL_INDICATOR", "Chỉ tiêu", "Indicators", _merged(f.indicators for f in flows)),
        "CL_AREA": _codelist("CL_AREA", "Đơn vị hành chính", "Administrative areas", _merged(f.areas for f in flows)),
        "CL_UNIT": _codelist("CL_UNIT", "Đơn vị tính", "Units of measure", _merged(f.units for f in flows)),
        "CL_OBS_STATUS": _codelist("CL_OBS_STATUS", "Tình trạng số liệu", "Observation status", _STATUS_CODES),
    }
    breakdowns: dict[str, list[ExportCodelist]] = {}
    for flow in flows:
        for b in flow.breakdowns:
            breakdowns.setdefault(b.code, []).append(b)
    for code, versions in breakdowns.items():
        first = versions[0]
        codes = _with_total(tuple(_merged(v.codes for v in versions)))
        codelists[f"CL_{code}"] = _codelist(f"CL_{code}", first.name_vi, first.name_en, codes)

    concepts = common.ConceptScheme(
        id="CS_GOVOPS",
        version=VERSION,
        maintainer=_agency(),
        name=_localised("Khái niệm của govops", "govops concepts"),
        is_final=True,
        is_external_reference=False,
        urn=_urn("conceptscheme.ConceptScheme", "CS_GOVOPS"),
    )
    enumerations = {
        FREQ: "CL_FREQ",
        INDICATOR: "CL_INDICATOR",
        REF_AREA: "CL_AREA",
        UNIT_MEASURE: "CL_UNIT",
        OBS_STATUS: "CL_OBS_STATUS",
        **{code: f"CL_{code}" for code in breakdowns},
    }
    for concept_id, (vi, en) in _CONCEPT_NAMES.items():
        _add_concept(concepts, concept_id, vi, en, codelists.get(enumerations.get(concept_id, "")))
    for code, versions in breakdowns.items():
        _add_concept(concepts, code, versions[0].name_vi, versions[0].name_en, codelists[f"CL_{code}"])

    dsds: dict[str, v21.DataStructureDefinition] = {}
    dataflows: dict[str, v21.DataflowDefinition] = {}
    for flow in flows:
        dsd = _dsd(flow, concepts)
        dsds[dsd.id] = dsd
        dataflows[flow.id] = v21.DataflowDefinition(
            id=flow.id,
            version=VERSION,
            maintainer=_agency(),
            name=_localised(flow.name_vi, flow.name_en),
            is_final=True,
            is_external_reference=False,
            structure=dsd,
            urn=_urn("datastructure.Dataflow", flow.id),
        )
    return _Structures(codelists=codelists, concepts=concepts, dsds=dsds, flows=dataflows)


def _add_concept(
    scheme: common.ConceptScheme, concept_id: str, vi: str, en: str, codelist: common.Codelist | None
) -> None:
    from sdmx.model import common

    representation = None
    if codelist is not None:
        representation = common.Representation(enumerated=codelist)
    elif concept_id == DECIMALS:
        representation = common.Representation(non_enumerated=[common.Facet(value_type=common.FacetValueType.integer)])
    concept = common.Concept(id=concept_id, name=_localised(vi, en))
    # sdmx1's Concept is not a dataclass of its own: its representation is set, not passed.
    concept.core_representation = representation
    scheme.append(concept)


def _dsd(flow: ExportFlow, concepts: common.ConceptScheme) -> v21.DataStructureDefinition:
    from sdmx.model import common, v21

    dsd = v21.DataStructureDefinition(
        id=f"DSD_{flow.id}",
        version=VERSION,
        maintainer=_agency(),
        name=_localised(f"Cấu trúc dữ liệu: {flow.name_vi}", f"Data structure: {flow.name_en}"),
        is_final=True,
        is_external_reference=False,
        urn=_urn("datastructure.DataStructure", f"DSD_{flow.id}"),
    )
    # The fixed ids SDMX-ML 2.1 gives the component lists (sdmx1 leaves them empty, which the XSD refuses).
    dsd.dimensions.id = "DimensionDescriptor"
    dsd.attributes.id = "AttributeDescriptor"
    dsd.measures.id = "MeasureDescriptor"
    key: list[common.DimensionComponent] = []
    for order, dimension_id in enumerate(flow.key_dimensions, start=1):
        concept = concepts[dimension_id]
        dimension = v21.Dimension(
            id=dimension_id,
            order=order,
            concept_identity=concept,
            local_representation=concept.core_representation,
        )
        dsd.dimensions.append(dimension)
        key.append(dimension)
    time = v21.TimeDimension(
        id=TIME_PERIOD,
        order=len(key) + 1,
        concept_identity=concepts[TIME_PERIOD],
        local_representation=common.Representation(
            non_enumerated=[common.Facet(value_type=common.FacetValueType.observationalTimePeriod)]
        ),
    )
    dsd.dimensions.append(time)
    measure = v21.PrimaryMeasure(id=OBS_VALUE, concept_identity=concepts[OBS_VALUE])
    dsd.measures.append(measure)
    for attribute_id, related, status in (
        (UNIT_MEASURE, common.DimensionRelationship(dimensions=list(key)), common.UsageStatus.mandatory),
        (OBS_STATUS, v21.PrimaryMeasureRelationship(), common.UsageStatus.conditional),
        (DECIMALS, common.DimensionRelationship(dimensions=list(key)), common.UsageStatus.conditional),
    ):
        concept = concepts[attribute_id]
        dsd.attributes.append(
            common.DataAttribute(
                id=attribute_id,
                concept_identity=concept,
                local_representation=concept.core_representation,
                related_to=related,
                usage_status=status,
            )
        )
    return dsd


def _header(prepared: datetime, message_id: str) -> message.Header:
    from sdmx import message

    return message.Header(id=message_id, prepared=prepared, sender=_agency(), test=False)


def _message_id(kind: str, prepared: datetime) -> str:
    return f"GOVOPS-{kind}-{prepared.strftime('%Y%m%dT%H%M%S')}"


def structure_message(*, catalogue: ExportCatalogue, prepared: datetime) -> bytes:
    """SDMX-ML 2.1 Structure message: code lists, concept scheme, DSDs and dataflows of the catalogue."""
    import sdmx
    from sdmx import message

    built = _build_structures(catalogue)
    msg = message.StructureMessage(header=_header(prepared, _message_id("STRUCTURE", prepared)))
    for codelist in built.codelists.values():
        msg.codelist[codelist.id] = codelist
    msg.concept_scheme[built.concepts.id] = built.concepts
    for dsd in built.dsds.values():
        msg.structure[dsd.id] = dsd
    for dataflow in built.flows.values():
        msg.dataflow[dataflow.id] = dataflow
    out: bytes = sdmx.to_xml(msg)
    return out


# -- data messages ----------------------------------------------------------------------------

_INF = math.inf


@dataclass(frozen=True)
class _TimePeriod:
    sdmx: str
    freq: str
    start: date
    end: date


class _Periods:
    """The distinct periods of a message, checked and converted once, in time order."""

    def __init__(self, flow: ExportFlow, series: Sequence[ExportSeries]) -> None:
        by_text: dict[str, _TimePeriod] = {}
        for s in series:
            for text in {o[0] for o in s.observations}.difference(by_text):
                try:
                    p = Period.parse(text)
                except PeriodError as e:
                    raise GovopsError(e.message, code=e.code, where=_series_where(flow, s), hint=e.hint) from None
                by_text[text] = _TimePeriod(sdmx_period(text), p.freq.value, p.start, p.end)
        # Several spellings of one period (2025-07, 2025-M07) share one TIME_PERIOD value.
        distinct = sorted({t.sdmx: t for t in by_text.values()}.values(), key=lambda t: (t.start, t.end))
        self.values = distinct
        position = {t.sdmx: i for i, t in enumerate(distinct)}
        self.index = {text: position[t.sdmx] for text, t in by_text.items()}
        self.freq = {text: t.freq for text, t in by_text.items()}
        self.sdmx = {text: t.sdmx for text, t in by_text.items()}


def _series_where(flow: ExportFlow, s: ExportSeries) -> str:
    return f"series {s.indicator} at {s.area} ({s.freq}) of dataflow {flow.id}"


def _series_key(flow: ExportFlow, s: ExportSeries) -> tuple[str, ...]:
    freq = SDMX_FREQ.get(s.freq)
    if freq is None:
        raise GovopsError(
            f"frequency {s.freq!r} is not a govops frequency",
            code="invalid_series",
            where=_series_where(flow, s),
            hint=f"use one of {', '.join(SDMX_FREQ)}",
        )
    breakdowns = [b.code for b in flow.breakdowns]
    unknown = sorted(set(s.dims) - set(breakdowns))
    if unknown:
        raise GovopsError(
            f"the series breaks down by {', '.join(unknown)}, which dataflow {flow.id} has no dimension for",
            code="invalid_series",
            where=_series_where(flow, s),
            hint=f"add the code list to the flow's breakdowns (it has {', '.join(breakdowns) or 'none'})",
        )
    return (freq, s.indicator, s.area, *(s.dims.get(b, TOTAL) for b in breakdowns))


_STATUS_ALLOWED = frozenset([None, *SDMX_STATUS])


def _checked_series(
    flow: ExportFlow, series: Sequence[ExportSeries], periods: _Periods
) -> tuple[list[tuple[str, ...]], set[str]]:
    """Every series' key, and the govops statuses used, after checking that each series fits the flow.

    Keys are unique, periods are of their series' frequency and statuses are govops statuses.
    """
    keys: list[tuple[str, ...]] = []
    seen: set[tuple[str, ...]] = set()
    statuses: set[str | None] = set()
    for s in series:
        key = _series_key(flow, s)
        if key in seen:
            raise GovopsError(
                f"two series have the key {'.'.join(key)}",
                code="invalid_series",
                where=_series_where(flow, s),
                hint="merge their observations into one series",
            )
        seen.add(key)
        keys.append(key)
        freq_of = periods.freq
        wrong = next((o[0] for o in s.observations if freq_of[o[0]] != s.freq), None)
        if wrong is not None:
            raise GovopsError(
                f"period {wrong!r} is not of the series' frequency {s.freq}",
                code="invalid_series",
                where=_series_where(flow, s),
                hint="put each frequency's observations in a series of their own",
            )
        used = {o[2] for o in s.observations}
        if not used <= _STATUS_ALLOWED:
            bad = sorted(str(u) for u in used - _STATUS_ALLOWED)[0]
            raise GovopsError(
                f"observation status {bad!r} is not a govops status",
                code="invalid_series",
                where=_series_where(flow, s),
                hint=f"use one of {', '.join(SDMX_STATUS)}",
            )
        statuses |= used
    return keys, {u for u in statuses if u is not None}


def _duplicate_error(flow: ExportFlow, s: ExportSeries, periods: _Periods) -> GovopsError:
    seen: set[str] = set()
    for o in s.observations:
        sdmx_text = periods.sdmx[o[0]]
        if sdmx_text in seen:
            return GovopsError(
                f"period {o[0]!r} appears more than once in the series",
                code="invalid_series",
                where=_series_where(flow, s),
                hint="give each period one observation",
            )
        seen.add(sdmx_text)
    raise AssertionError("no duplicate period")  # pragma: no cover


def _ordered_values(used: set[str], codes: Iterable[ExportCode]) -> list[str]:
    """The codes in use, in their code list's order; codes the list lacks go last, sorted."""
    ordered = [c.id for c in codes if c.id in used]
    listed = set(ordered)
    return ordered + sorted(used - listed)


def _dimension_codes(flow: ExportFlow) -> dict[str, tuple[ExportCode, ...]]:
    codes: dict[str, tuple[ExportCode, ...]] = {
        FREQ: _FREQ_CODES,
        INDICATOR: flow.indicators,
        REF_AREA: flow.areas,
    }
    for b in flow.breakdowns:
        codes[b.code] = _with_total(b.codes)
    return codes


def _json_values(ids: Sequence[str], codes: Iterable[ExportCode], lang: Lang) -> list[dict[str, Any]]:
    wanted = set(ids)
    names = {c.id: _pick(c, lang) for c in codes if c.id in wanted}
    return [{"id": i, "name": names.get(i, i)} for i in ids]


def _json_time_values(periods: _Periods) -> list[dict[str, Any]]:
    return [
        {
            "id": t.sdmx,
            "name": t.sdmx,
            "start": f"{t.start.isoformat()}T00:00:00.000Z",
            "end": f"{t.end.isoformat()}T23:59:59.999Z",
        }
        for t in periods.values
    ]


_ROLES = {FREQ: "FREQ", REF_AREA: "REF_AREA", TIME_PERIOD: "TIME_PERIOD", UNIT_MEASURE: "UNIT_MEASURE"}


def data_json(*, flow: ExportFlow, series: Sequence[ExportSeries], prepared: datetime, lang: Lang = "en") -> bytes:
    """SDMX-JSON 1.0 data message of one dataflow: every key dimension at series level, TIME_PERIOD per observation.

    Names are in ``lang``. Raises GovopsError for series that do not fit the flow (an unknown
    breakdown or status, a period of another frequency, a key or period given twice).
    """
    periods = _Periods(flow, series)
    keys, used_statuses = _checked_series(flow, series, periods)
    dimension_ids = flow.key_dimensions
    dimension_codes = _dimension_codes(flow)

    # Dimension values: those the data uses, in code list order; a series key is their positions.
    values_used = [_ordered_values({k[i] for k in keys}, dimension_codes[d]) for i, d in enumerate(dimension_ids)]
    positions = [{v: str(j) for j, v in enumerate(vals)} for vals in values_used]
    series_dimensions = [
        {
            "id": d,
            "name": _concept_name(d, flow, lang),
            "keyPosition": i,
            **({"role": _ROLES[d]} if d in _ROLES else {}),
            "values": _json_values(values_used[i], dimension_codes[d], lang),
        }
        for i, d in enumerate(dimension_ids)
    ]
    time_dimension = {
        "id": TIME_PERIOD,
        "name": _concept_name(TIME_PERIOD, flow, lang),
        "keyPosition": len(dimension_ids),
        "role": TIME_PERIOD,
        "values": _json_time_values(periods),
    }

    units = _ordered_values({s.unit for s in series}, flow.units)
    decimals = [str(d) for d in sorted({s.decimals for s in series})]
    statuses = [c.id for c in _STATUS_CODES if c.id in {SDMX_STATUS[u] for u in used_statuses}]
    # An attribute with no value in the message is left out of it (readers drop it anyway), and so
    # is its place in the series' and observations' attribute arrays.
    series_attributes: list[dict[str, Any]] = []
    if units:
        series_attributes.append(
            {
                "id": UNIT_MEASURE,
                "name": _concept_name(UNIT_MEASURE, flow, lang),
                "role": "UNIT_MEASURE",
                "values": _json_values(units, flow.units, lang),
            }
        )
    if decimals:
        series_attributes.append(
            {
                "id": DECIMALS,
                "name": _concept_name(DECIMALS, flow, lang),
                "values": [{"id": d, "name": d} for d in decimals],
            }
        )
    observation_attributes: list[dict[str, Any]] = []
    if statuses:
        observation_attributes.append(
            {
                "id": OBS_STATUS,
                "name": _concept_name(OBS_STATUS, flow, lang),
                "values": _json_values(statuses, _STATUS_CODES, lang),
            }
        )
    unit_index = {u: i for i, u in enumerate(units)}
    decimals_index = {int(d): i for i, d in enumerate(decimals)}
    status_index: dict[str | None, int | None] = {None: None}
    status_index.update({g: statuses.index(c) for g, c in SDMX_STATUS.items() if c in statuses})

    period_key = {text: str(i) for text, i in periods.index.items()}
    data_series: dict[str, dict[str, Any]] = {}
    for s, key in zip(series, keys, strict=True):
        if statuses:
            observations = {period_key[p]: [v, status_index[st]] for p, v, st in s.observations}
        else:
            observations = {period_key[p]: [v] for p, v, _ in s.observations}
        if len(observations) != len(s.observations):
            raise _duplicate_error(flow, s, periods)
        attributes = ([unit_index[s.unit]] if units else []) + ([decimals_index[s.decimals]] if decimals else [])
        series_id = ":".join(positions[i][code] for i, code in enumerate(key))
        data_series[series_id] = {"attributes": attributes, "observations": observations}

    document = {
        "header": {
            "id": _message_id(flow.id, prepared),
            "test": False,
            "prepared": prepared.isoformat(),
            "sender": {"id": AGENCY_ID, "name": "govops"},
        },
        "structure": {
            "links": [{"href": _urn("datastructure.Dataflow", flow.id), "rel": "dataflow"}],
            "name": flow.name_vi if lang == "vi" else flow.name_en,
            "dimensions": {"dataSet": [], "series": series_dimensions, "observation": [time_dimension]},
            "attributes": {"dataSet": [], "series": series_attributes, "observation": observation_attributes},
        },
        "dataSets": [{"action": "Information", "series": data_series}],
    }
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        # JSON has no NaN or infinity: such a value is missing (null), as SDMX-JSON writes it.
        for entry in data_series.values():
            for obs in entry["observations"].values():
                if obs[0] is not None and not -_INF < obs[0] < _INF:
                    obs[0] = None
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode()


def data_csv(
    *,
    flow: ExportFlow,
    series: Sequence[ExportSeries],
    labels: Literal["id", "both"] = "id",
    lang: Lang = "en",
    version: CsvVersion = "2.0",
) -> bytes:
    """SDMX-CSV of one dataflow: the key dimensions, TIME_PERIOD, OBS_VALUE, the attributes.

    Version 2.0 (the default, and the only one sdmx1 reads) starts each line with STRUCTURE
    (``dataflow``), STRUCTURE_ID (``GOVOPS:CPI(1.0)``) and ACTION (``I``, information); version 1.0
    with DATAFLOW (``GOVOPS:CPI(1.0)``). ``labels="both"`` writes ``id: name`` in headers and coded
    cells (and after STRUCTURE_ID), as SDMX-CSV's labels=both asks; names are in ``lang``. A missing
    value (None, NaN, infinity) is an empty cell.
    """
    periods = _Periods(flow, series)
    keys, _ = _checked_series(flow, series, periods)
    dimension_ids = flow.key_dimensions
    columns = [*dimension_ids, TIME_PERIOD, OBS_VALUE, UNIT_MEASURE, OBS_STATUS, DECIMALS]

    label: dict[str, dict[str, str]] = {}
    if labels == "both":
        coded: dict[str, Iterable[ExportCode]] = {
            **_dimension_codes(flow),
            UNIT_MEASURE: flow.units,
            OBS_STATUS: _STATUS_CODES,
        }
        label = {column: {c.id: f"{c.id}: {_pick(c, lang)}" for c in codes} for column, codes in coded.items()}
        named = [f"{c}: {_concept_name(c, flow, lang)}" for c in columns]
    else:
        named = columns
    if version == "1.0":
        header = ["DATAFLOW", *named]
        lead = [flow.urn_ref]
    else:
        header = ["STRUCTURE", "STRUCTURE_ID", "ACTION", *named]
        flow_name = flow.name_vi if lang == "vi" else flow.name_en
        lead = ["dataflow", f"{flow.urn_ref}: {flow_name}" if labels == "both" else flow.urn_ref, "I"]

    def shown(column: str, code: str) -> str:
        return label.get(column, {}).get(code, code)

    status_cell: dict[str | None, str] = {g: shown(OBS_STATUS, c) for g, c in SDMX_STATUS.items()}
    status_cell[None] = ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    time_cell = periods.sdmx
    for s, key in zip(series, keys, strict=True):
        head = [*lead, *(shown(d, code) for d, code in zip(dimension_ids, key, strict=True))]
        unit = shown(UNIT_MEASURE, s.unit)
        decimals = str(s.decimals)
        writer.writerows(
            [
                *head,
                time_cell[p],
                v if v is not None and -_INF < v < _INF else "",
                unit,
                status_cell[st],
                decimals,
            ]
            for p, v, st in s.observations
        )
        if len({time_cell[o[0]] for o in s.observations}) != len(s.observations):
            raise _duplicate_error(flow, s, periods)
    return out.getvalue().encode()


def data_xml(*, flow: ExportFlow, series: Sequence[ExportSeries], prepared: datetime) -> bytes:
    """SDMX-ML 2.1 structure-specific time-series data of one dataflow, written by sdmx1.

    Builds an sdmx1 object per observation: meant for the small answers of REST queries.
    """
    import sdmx
    from sdmx import message
    from sdmx.model import common, v21

    periods = _Periods(flow, series)
    keys, _ = _checked_series(flow, series, periods)
    built = _build_structures(ExportCatalogue((flow,)))
    dsd = built.dsds[f"DSD_{flow.id}"]
    measure = dsd.measures.get(OBS_VALUE)
    unit_attribute = dsd.attributes.get(UNIT_MEASURE)
    decimals_attribute = dsd.attributes.get(DECIMALS)
    status_attribute = dsd.attributes.get(OBS_STATUS)
    dataset = v21.StructureSpecificTimeSeriesDataSet(structured_by=dsd, described_by=built.flows[flow.id])
    for s, key in zip(series, keys, strict=True):
        series_key = dsd.make_key(common.SeriesKey, dict(zip(flow.key_dimensions, key, strict=True)))
        series_key.attrib[UNIT_MEASURE] = common.AttributeValue(value=s.unit, value_for=unit_attribute)
        series_key.attrib[DECIMALS] = common.AttributeValue(value=str(s.decimals), value_for=decimals_attribute)
        observations: list[v21.Observation] = []
        seen: set[str] = set()
        for period, value, status in s.observations:
            time_period = periods.sdmx[period]
            if time_period in seen:
                raise _duplicate_error(flow, s, periods)
            seen.add(time_period)
            attached = {}
            if status is not None:
                attached[OBS_STATUS] = common.AttributeValue(value=SDMX_STATUS[status], value_for=status_attribute)
            observations.append(
                v21.Observation(
                    series_key=series_key,
                    dimension=dsd.make_key(common.Key, {TIME_PERIOD: time_period}),
                    value=value if value is not None and -_INF < value < _INF else None,
                    value_for=measure,
                    attached_attribute=attached,
                )
            )
        dataset.add_obs(observations, series_key)
    msg = message.DataMessage(
        header=_header(prepared, _message_id(flow.id, prepared)),
        data=[dataset],
        dataflow=built.flows[flow.id],
        observation_dimension=dsd.dimensions.get(TIME_PERIOD),
    )
    out: bytes = sdmx.to_xml(msg)
    return out
