"""SDMX data messages in: observations of another statistics office turned into govops rows.

SDMX (Statistical Data and Metadata eXchange) describes each observation by a *series key* (one
code per dimension, e.g. ``FREQ=M, CURRENCY=USD, CURRENCY_DENOM=EUR, EXR_TYPE=SP00, EXR_SUFFIX=A``,
written ``M.USD.EUR.SP00.A`` in the order of the data structure definition, the DSD), a time
period, a value and attributes (``OBS_STATUS``, ``UNIT_MULT``...) attached to the observation, its
series, a group of series or the whole data set. Three forms are read:

- SDMX-ML 2.1: generic or structure-specific, time series, cross-section or flat
  (``dimensionAtObservation`` a dimension, or ``AllDimensions``), and SDMX-ML 3.0 structure-specific
  data. Read with ``sdmx1``, which keeps no value of a 3.0 attribute given several (``<Comp>``):
  a rule reading one is a problem. A structure-specific message does not say which of its XML
  attributes are dimensions, so it needs its DSD (one naming its dataflow may come with the DSD
  alone, as the ECB serves them): give the
  structure message(s) beside it (``structures=``). A generic message names its dimensions itself;
  its DSD is optional and only fixes the order of the dimensions in a series key (without it, the
  order is the message's, which for a cross-section puts the observation dimension last).
- SDMX-JSON 1.0 (data message: ``header``, ``structure``, ``dataSets``). Read here with the json
  module: ``sdmx1`` 2.28 loses series-level attributes in this form and is about five times slower.
  Like ``sdmx1``, attributes declared without any value are left out of the positional attribute
  indexes (OECD messages declare such an empty ``TIME_FORMAT``).
- SDMX-CSV 2.0 (header ``STRUCTURE,STRUCTURE_ID[,ACTION],<dimensions...>,TIME_PERIOD,OBS_VALUE,
  <attributes...>``) and 1.0 (``DATAFLOW,<dimensions...>,...``), also with ``labels=both`` cells like
  ``M: Monthly``. Read with the csv module (``sdmx1`` 2.28 reads only 2.x, and only with the DSD): the
  columns before ``OBS_VALUE`` are the dimensions, those after it attributes. A 2.0 line with
  ``ACTION`` D (delete) is a problem: govops does not delete values on a provider's word.

The mapping (YAML, written by hand by a data officer) ties series keys to govops codes::

    dataflow: EXR                     # the dataflow or DSD id the message names; checked
    unmatched: problem                # or skip: series no rule matches are left out quietly
    missing: problem                  # or skip: observations without a value (empty, NaN) are left out
    status_codes: {B: final}          # OBS_STATUS codes added to (or replacing in) A, P, E, F
    series:                           # the first rule that matches a series key wins
      - match: {FREQ: M, CURRENCY: [USD, JPY], CURRENCY_DENOM: EUR}   # omitted dimensions match any code
        # or key: "M.USD+JPY.EUR.SP00."   (SDMX key syntax: '+' between codes, empty = any code)
        indicator: FX_RATE            # or indicator_from: INDICATOR (+ indicator_codes), as govops' own output
        area: VN                      # a fixed area, or area_from: REF_AREA with optional area_codes: {"704": VN}
        dims: {CURRENCY_PAIR: USD_EUR}              # fixed dims...
        dims_from:                                  # ...and dims taken from a dimension or attribute
          CURRENCY: CURRENCY                        # the code as it is
          SEX: {from: SEX, codes: {M: MALE, F: FEMALE}}   # or translated
        status_from: OBS_STATUS       # optional: status from the SDMX status code
        unit: USD                     # optional: a fixed unit, or unit_from: UNIT_MEASURE (+ unit_codes)
        scale: 1                      # optional multiplier; scale_from: UNIT_MULT multiplies by 10**UNIT_MULT
        period: "2018"                # only for observations that carry no time period

Every plain YAML scalar is read as text (``01``, ``NO`` or ``1e3`` stay as written). SDMX periods
map to govops periods: ``2019``, ``2019-A1``, ``2019-S1``, ``2019-Q1``, ``2019-01`` or ``2019-M01``,
``2019-W05``, ``2019-01-15``, ``2019-D015`` and time ranges that cover exactly one govops period
(``2019-01-01/P1Y``, ``2019-04-01/P3M``, ``2019-01-01/P5Y``...). Each row is numbered by the
observation's position in the message (1-based, counting observations left out too).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from govops.catalog.schemas import Code, ItemCode
from govops.errors import GovopsError, Problem, lazy_gettext
from govops.interop.mapping_yaml import read_mapping
from govops.interop.sdmx.keys import key_parts
from govops.interop.sdmx.periods import govops_period
from govops.interop.tally import Tally
from govops.periods import PeriodError
from govops.warehouse.formats import Row, csv_read_errors

if TYPE_CHECKING:
    from types import ModuleType

    from sdmx.message import DataMessage
    from sdmx.model import common

    _DSD = common.BaseDataStructureDefinition[Any, Any, Any]

__all__ = [
    "DEFAULT_STATUS_CODES",
    "SdmxMapping",
    "SeriesRule",
    "detect",
    "load_mapping",
    "read_sdmx",
]

Status = Literal["provisional", "final", "estimated", "forecast"]
# SDMX cross-domain code list CL_OBS_STATUS, for the codes govops has a status for.
DEFAULT_STATUS_CODES: dict[str, Status] = {"A": "final", "P": "provisional", "E": "estimated", "F": "forecast"}

SdmxId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
AreaCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

_SDMX_NS = "http://www.sdmx.org/resources/sdmxml/"
_DATA_ROOTS = frozenset(
    {"GenericData", "GenericTimeSeriesData", "StructureSpecificData", "StructureSpecificTimeSeriesData"}
)
_TIME_ID = "TIME_PERIOD"


def _discard(*args: object, **kwargs: object) -> None:
    """Stands in for print() in sdmx1's XML reader.

    When it cannot read a message, sdmx1 (2.28, reader/xml/common.py) prints its parser stacks and the
    element it stopped at to stdout; in a server that would copy submitted data into the logs, and
    the reason reaches the caller in the GovopsError anyway. A module global shadows the builtin for
    that module only, so nothing else is silenced.
    """


@functools.cache
def _sdmx1() -> ModuleType:
    """sdmx1, imported at the first SDMX-ML message rather than with this module: with pandas it takes most of a
    second, which every `govops` command and server start would pay though few of them read SDMX-ML.

    The 3.0 reader is imported here too, before any message is read: sdmx1 (2.28) builds its SDMX-ML 3.0 parser
    table from the 2.1 one when the 3.0 reader is first imported; a malformed 2.1 message read before that leaves
    a tag of an unknown namespace in the 2.1 table, and every later import of the 3.0 reader (so every SDMX-ML 3.0
    message, for the life of the process) then fails.
    """
    import sdmx
    import sdmx.reader.xml.common as sdmx_xml_common
    import sdmx.reader.xml.v30  # see above

    sdmx_xml_common.print = _discard  # type: ignore[attr-defined]
    return sdmx


# -- the mapping ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeSource(_Strict):
    """A govops code taken from an SDMX dimension or attribute, optionally translated."""

    from_: SdmxId = Field(alias="from")
    codes: dict[SdmxId, ItemCode] | None = None


def _source_shorthand(value: object) -> object:
    # `COICOP_VN: COICOP` is short for `COICOP_VN: {from: COICOP}`.
    return {"from": value} if isinstance(value, str) else value


class SeriesRule(_Strict):
    """Which series a rule takes (match or key) and how their observations become govops rows."""

    match: dict[SdmxId, SdmxId | list[SdmxId]] | None = None
    key: str | None = None
    indicator: Code | None = None
    # A dimension naming the indicator, for messages that carry several (govops' own SDMX output).
    indicator_from: SdmxId | None = None
    indicator_codes: dict[SdmxId, Code] | None = None
    area: AreaCode | None = None
    area_from: SdmxId | None = None
    area_codes: dict[SdmxId, AreaCode] | None = None
    dims: dict[Code, ItemCode] = {}
    dims_from: dict[Code, CodeSource] = {}
    status_from: SdmxId | None = None
    unit: Code | None = None
    unit_from: SdmxId | None = None
    unit_codes: dict[SdmxId, Code] | None = None
    scale: float = 1.0
    scale_from: SdmxId | None = None
    period: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthands(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("dims_from"), dict):
            data = {**data, "dims_from": {k: _source_shorthand(v) for k, v in data["dims_from"].items()}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SeriesRule:
        if self.match is not None and self.key is not None:
            raise ValueError("give match: or key:, not both")
        if self.key is not None:
            try:
                key_parts("".join(self.key.split()))
            except GovopsError as exc:
                raise ValueError(exc.message) from None
        if (self.indicator is None) == (self.indicator_from is None):
            raise ValueError("give either indicator: CODE or indicator_from: DIMENSION")
        if self.indicator_codes is not None and self.indicator_from is None:
            raise ValueError("indicator_codes translates the codes of indicator_from; give indicator_from too")
        if (self.area is None) == (self.area_from is None):
            raise ValueError("give either area: CODE or area_from: DIMENSION")
        if self.area_codes is not None and self.area_from is None:
            raise ValueError("area_codes translates the codes of area_from; give area_from too")
        if self.unit is not None and self.unit_from is not None:
            raise ValueError("give unit: or unit_from:, not both")
        if self.unit_codes is not None and self.unit_from is None:
            raise ValueError("unit_codes translates the codes of unit_from; give unit_from too")
        both = sorted(set(self.dims) & set(self.dims_from))
        if both:
            raise ValueError(f"{', '.join(both)} is in both dims and dims_from; keep one")
        if not math.isfinite(self.scale) or self.scale == 0:
            raise ValueError("scale must be a finite number other than 0")
        return self

    @field_validator("period")
    @classmethod
    def _govops_period(cls, value: str | None) -> str | None:
        try:
            return None if value is None else govops_period(value)
        except PeriodError as exc:
            raise ValueError(exc.message) from None


class SdmxMapping(_Strict):
    """SDMX series keys of one dataflow to govops codes; see the module docstring for the YAML."""

    dataflow: SdmxId
    series: list[SeriesRule] = Field(min_length=1)
    unmatched: Literal["problem", "skip"] = "problem"
    missing: Literal["problem", "skip"] = "problem"
    status_codes: dict[SdmxId, Status] = {}

    def status_table(self) -> dict[str, Status]:
        return {**DEFAULT_STATUS_CODES, **self.status_codes}


class _TextLoader(yaml.SafeLoader):
    """SafeLoader that reads every plain scalar as text except ``~``/empty (null).

    YAML 1.1 would turn the area code ``NO`` into false and the COICOP code ``01`` into 1; in a
    mapping of codes that is never wanted, and numbers (``scale``) are converted by the model.
    """


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_MAPPING_HINTS = {
    "extra_forbidden": lazy_gettext(
        "allowed keys: dataflow, series, unmatched, missing, status_codes; a rule takes match or "
        "key, indicator or indicator_from (+ indicator_codes), area or area_from (+ area_codes), dims, dims_from, "
        "status_from, unit or unit_from (+ unit_codes), scale, scale_from, period"
    ),
    "missing": lazy_gettext("the mapping needs dataflow: and series: with at least one rule; a rule needs indicator:"),
    "literal_error": lazy_gettext(
        "unmatched and missing take problem or skip; status_codes values are provisional, final, estimated or forecast"
    ),
    "string_pattern_mismatch": lazy_gettext(
        "indicator, code list and unit codes are upper-case letters, digits and _ "
        "(at most 32); codes of a code list may also hold lower-case letters, '.' and '-'"
    ),
    "float_parsing": lazy_gettext("write a number, e.g. 0.001"),
    "too_short": lazy_gettext("give at least one rule under series:"),
}


def load_mapping(text: str, *, where: str = "mapping") -> SdmxMapping:
    """Read a mapping from YAML; a YAML error or a wrong entry raises GovopsError naming its line."""
    return read_mapping(
        text,
        model=SdmxMapping,
        where=where,
        loader=_TextLoader,
        hints=_MAPPING_HINTS,
        shape=lazy_gettext("the mapping must be a YAML mapping with dataflow: and series:"),
        shape_hint=lazy_gettext("start from the example in the documentation of govops.interop.sdmx.read"),
    )


# -- what every form is read into ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Obs:
    position: int
    series: tuple[str, ...]  # codes of the message's series dimensions, in key order
    period: str | None
    value: object
    attrs: Mapping[str, str]
    line: int | None = None


@dataclass(frozen=True)
class _Message:
    # The ids of the dataflow and DSD the message names (empty when it names none).
    names: frozenset[str]
    described_as: str
    dimensions: tuple[str, ...]
    attributes: frozenset[str]
    observations: list[_Obs | Problem]


# -- detection and dispatch -------------------------------------------------------------------


def detect(body: bytes) -> str | None:
    """``sdmx-ml``, ``sdmx-json`` or ``sdmx-csv`` for an SDMX message (data or not), else None."""
    head = body[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    start = text.lstrip()
    if start.startswith("<"):
        return "sdmx-ml" if _SDMX_NS in text else None
    if start.startswith("{"):
        return "sdmx-json" if b'"dataSets"' in body else None
    first = start.split("\n", 1)[0].strip().strip('"')
    if re.match(r'DATAFLOW"?[,;\t]', first) or re.match(r'STRUCTURE"?[,;\t]"?STRUCTURE_ID', first):
        return "sdmx-csv"
    return None


def read_sdmx(
    body: bytes,
    *,
    mapping: SdmxMapping,
    structures: Sequence[bytes] = (),
    where: str = "message",
    tally: Tally | None = None,
    with_places: bool = False,
) -> list[Row]:
    """The observations of an SDMX data message as govops rows, or Problems, in message order.

    ``structures`` are SDMX-ML structure messages holding the message's DSD (needed for
    structure-specific SDMX-ML; optional for generic SDMX-ML; not used for SDMX-JSON and SDMX-CSV).
    ``tally``, if given, counts the observations and those the mapping left out; ``with_places`` puts
    ``_where`` (series key and period) in each row for the problems found later (the submission path).
    Raises GovopsError when the message cannot be read at all or the mapping does not fit it.
    """
    form = detect(body)
    if form == "sdmx-ml":
        message = _read_ml(body, structures=structures, where=where)
    elif form == "sdmx-json":
        message = _read_json(body, where=where)
    elif form == "sdmx-csv":
        message = _read_csv(body, where=where)
    else:
        raise GovopsError.of(
            "sdmx.not_sdmx",
            lazy_gettext("this is not an SDMX data message"),
            lazy_gettext("send SDMX-ML 2.1 (generic or structure-specific), SDMX-JSON 1.0 or SDMX-CSV 2.0 or 1.0"),
            where=where,
        )
    counted = Tally() if tally is None else tally
    return _apply(message, mapping=mapping, where=where, tally=counted, with_places=with_places)


# -- from observations to rows ----------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    number: int
    spec: SeriesRule
    conditions: tuple[tuple[int, frozenset[str]], ...]

    def matches(self, series: tuple[str, ...]) -> bool:
        return all(series[i] in codes for i, codes in self.conditions)


@dataclass
class _Series:
    key: str
    codes: dict[str, str]
    rule: _Rule | None
    reported: bool = False


@dataclass
class _Context:
    mapping: SdmxMapping
    statuses: dict[str, Status]
    with_places: bool
    rule_numbers: dict[int, int]
    periods: dict[str, str | PeriodError] = field(default_factory=dict)


def _apply(message: _Message, *, mapping: SdmxMapping, where: str, tally: Tally, with_places: bool) -> list[Row]:
    _check_dataflow(message, mapping, where)
    tally.values += len(message.observations)
    if not message.observations:
        return []  # nothing new; an empty message names too few dimensions to check the rules against
    rules = [_compile(n, spec, message, where) for n, spec in enumerate(mapping.series, 1)]
    context = _Context(
        mapping=mapping,
        statuses=mapping.status_table(),
        with_places=with_places,
        rule_numbers={id(r.spec): r.number for r in rules},
    )
    known: dict[tuple[str, ...], _Series] = {}
    rows: list[Row] = []
    for obs in message.observations:
        if isinstance(obs, Problem):
            rows.append((obs.row or 0, obs))
            continue
        series = known.get(obs.series)
        if series is None:
            rule = next((r for r in rules if r.matches(obs.series)), None)
            series = known[obs.series] = _Series(
                ".".join(obs.series), dict(zip(message.dimensions, obs.series, strict=True)), rule
            )
        if series.rule is None:
            if mapping.unmatched == "skip":
                tally.skipped += 1
            elif not series.reported:
                series.reported = True
                rows.append((obs.position, _unmatched(series, obs, message)))
            else:
                tally.unreported += 1
            continue
        translated = _translate(obs, series, series.rule.spec, context)
        if not translated:
            tally.skipped += 1
        rows.extend((obs.position, item) for item in translated)
    return rows


def _unmatched(series: _Series, obs: _Obs, message: _Message) -> Problem:
    return Problem.of(
        "sdmx.unmatched_series",
        lazy_gettext("series %(series)s matches no rule of the mapping"),
        lazy_gettext(
            "add a rule whose match: names codes of %(dimensions)s (or key: %(series)s), or set unmatched: skip to "
            "leave such series out"
        ),
        row=obs.position,
        where=f"series {series.key}" + (f", line {obs.line}" if obs.line is not None else ""),
        field="series",
        value=series.key,
        series=series.key,
        dimensions=", ".join(message.dimensions),
    )


def _check_dataflow(message: _Message, mapping: SdmxMapping, where: str) -> None:
    if message.names and mapping.dataflow not in message.names:
        raise GovopsError.of(
            "dataflow_mismatch",
            lazy_gettext("the mapping is for dataflow %(dataflow)s, but the message is %(described)s"),
            lazy_gettext("use the mapping written for this data, or set dataflow: to %(names)s"),
            where=where,
            dataflow=mapping.dataflow,
            described=message.described_as,
            names=" or ".join(sorted(message.names)),
        )


def _compile(number: int, spec: SeriesRule, message: _Message, where: str) -> _Rule:
    dims = message.dimensions
    conditions: list[tuple[int, frozenset[str]]] = []
    if spec.match is not None:
        for dim, codes in spec.match.items():
            if dim not in dims:
                what = lazy_gettext(
                    "rule %(rule)s of the mapping matches on %(component)s, which is not a series dimension of the "
                    "message"
                )
                raise _misfit(number, what, message, where, component=dim)
            conditions.append((dims.index(dim), frozenset([codes] if isinstance(codes, str) else codes)))
    if spec.key is not None:
        parts = key_parts("".join(spec.key.split()))
        if len(parts) != len(dims):
            what = lazy_gettext(
                "rule %(rule)s of the mapping has key %(key)s of %(parts)s part(s), but the message's series keys "
                "have %(count)s"
            )
            raise _misfit(number, what, message, where, key=spec.key, parts=len(parts), count=len(dims))
        conditions.extend((i, codes) for i, codes in enumerate(parts) if codes is not None)
    components = set(dims) | message.attributes
    takes_dims = lazy_gettext(
        "rule %(rule)s of the mapping takes dims %(name)s from %(component)s, which the message does not have"
    )
    needed = [
        (
            lazy_gettext(
                "rule %(rule)s of the mapping takes the indicator from %(component)s, which the message does not have"
            ),
            spec.indicator_from,
            "",
        ),
        (
            lazy_gettext(
                "rule %(rule)s of the mapping takes the area from %(component)s, which the message does not have"
            ),
            spec.area_from,
            "",
        ),
    ] + [(takes_dims, s.from_, k) for k, s in spec.dims_from.items()]
    for what, component, name in needed:
        if component is not None and component not in components:
            raise _misfit(number, what, message, where, component=component, name=name)
    return _Rule(number, spec, tuple(conditions))


def _misfit(number: int, what: str, message: _Message, where: str, **params: Any) -> GovopsError:
    """`what` is a msgid naming the rule as %(rule)s."""
    return GovopsError.of(
        "mapping_mismatch",
        what,
        lazy_gettext("the series dimensions are %(dimensions)s (in key order); the attributes are %(attributes)s"),
        where=where,
        rule=number,
        dimensions=".".join(message.dimensions) or "none",
        attributes=", ".join(sorted(message.attributes)) or "none",
        **params,
    )


@dataclass(frozen=True, slots=True)
class _Issue:
    """A problem of one observation before its place is written out (most observations have none).

    `message` and `hint` are msgids filled with `params`, as in `Problem.of`.
    """

    code: str
    message: str
    field: str
    value: object = None
    hint: str | None = None
    params: Mapping[str, object] | None = None
    english: str | None = None  # the API's words, when they say more than the catalogue's


def _translate(obs: _Obs, series: _Series, rule: SeriesRule, context: _Context) -> list[dict[str, Any] | Problem]:
    """The row of one observation, or every problem it has; empty when the mapping skips it."""
    issues: list[_Issue] = []
    value, why = _number(obs.value)
    if why is not None:
        hint = lazy_gettext("SDMX values are numbers like 1.2345 or -3e5")
        issues.append(_Issue("sdmx.not_a_number", why, "value", _shown(obs.value), hint, {"shown": _shown(obs.value)}))
    elif value is None:
        if context.mapping.missing == "skip":
            return []
        hint = lazy_gettext("send the value, or set missing: skip in the mapping to leave such observations out")
        issues.append(_Issue("sdmx.no_value", lazy_gettext("the observation has no value"), "value", None, hint))
    period = _period(obs, rule, context, issues)
    codes, attrs = series.codes, obs.attrs
    unread = [name for name in _attributes_read(rule) if attrs.get(name) == _UNREAD]
    for name in unread:
        hint = lazy_gettext(
            "take %(name)s out of the mapping's rule %(rule)s, or ask the provider for SDMX-ML 2.1, SDMX-JSON or "
            "SDMX-CSV"
        )
        message = lazy_gettext("%(name)s is an SDMX-ML 3.0 attribute with several values, which govops cannot read yet")
        params = {"name": name, "rule": context.rule_numbers[id(rule)]}
        issues.append(_Issue("sdmx.multi_valued_attribute", message, name, None, hint, params))
    if unread:
        attrs = {k: v for k, v in attrs.items() if v != _UNREAD}
    indicator = rule.indicator
    if rule.indicator_from is not None:
        raw = codes.get(rule.indicator_from) or attrs.get(rule.indicator_from)
        indicator = _code(raw, rule.indicator_from, rule.indicator_codes, "indicator", "indicator_codes", issues)
        # "indicator_codes" and the like are the mapping's own keys: they read the same in every language.
    area = rule.area
    if rule.area_from is not None:
        raw = codes.get(rule.area_from) or attrs.get(rule.area_from)
        area = _code(raw, rule.area_from, rule.area_codes, "area", "area_codes", issues)
    dims = dict(rule.dims)
    for name, source in rule.dims_from.items():
        raw = codes.get(source.from_) or attrs.get(source.from_)
        code = _code(raw, source.from_, source.codes, f"dims.{name}", f"the codes of dims_from {name}", issues)
        if code is not None:
            dims[name] = code
    status: str | None = None
    if rule.status_from is not None and (raw := codes.get(rule.status_from) or attrs.get(rule.status_from)):
        status = context.statuses.get(raw)
        if status is None:
            message = lazy_gettext("%(component)s %(raw)r has no govops status")
            hint = lazy_gettext("add it to status_codes in the mapping, e.g. status_codes: {%(raw)s: final}")
            params = {"component": rule.status_from, "raw": raw}
            issues.append(_Issue("sdmx.unknown_status", message, "status", raw, hint, params))
    unit = rule.unit
    if rule.unit_from is not None and (raw := codes.get(rule.unit_from) or attrs.get(rule.unit_from)):
        unit = _code(raw, rule.unit_from, rule.unit_codes, "unit", "unit_codes", issues)
    factor = rule.scale
    if rule.scale_from is not None and (raw := codes.get(rule.scale_from) or attrs.get(rule.scale_from)):
        if re.fullmatch(r"-?\d{1,2}", raw.strip()):
            factor *= 10.0 ** int(raw)
        else:
            message = lazy_gettext("%(component)s %(raw)r is not a power of ten")
            hint = lazy_gettext("%(component)s must be a whole number like 3 (thousands) or 6 (millions)")
            params = {"component": rule.scale_from, "raw": raw}
            issues.append(_Issue("sdmx.bad_scale", message, "scale", raw, hint, params))
    if issues or value is None or period is None or area is None or indicator is None:
        return [_problem(obs, series, issue) for issue in issues]
    row: dict[str, Any] = {
        "indicator": indicator,
        "area": area,
        "period": period,
        "value": value if factor == 1.0 else value * factor,
        "dims": dims,
    }
    if context.with_places:
        row["_where"] = _place(obs, series)
    if status is not None:
        row["status"] = status
    if unit is not None:
        row["unit"] = unit
    return [row]


def _place(obs: _Obs, series: _Series) -> str:
    """Where an observation is, in SDMX's terms: its series key and period (and line, in SDMX-CSV)."""
    place = f"series {series.key}" + (f", period {obs.period}" if obs.period is not None else "")
    return place + (f", line {obs.line}" if obs.line is not None else "")


def _attributes_read(rule: SeriesRule) -> list[str]:
    """The components a rule takes codes from (dimensions or attributes)."""
    sources = [rule.indicator_from, rule.area_from, rule.status_from, rule.unit_from, rule.scale_from]
    return [s for s in sources if s is not None] + [source.from_ for source in rule.dims_from.values()]


def _problem(obs: _Obs, series: _Series, issue: _Issue) -> Problem:
    problem = Problem.of(
        issue.code,
        issue.message,
        issue.hint,
        row=obs.position,
        where=_place(obs, series),
        field=issue.field,
        value=issue.value,
        **(issue.params or {}),
    )
    return problem if issue.english is None else replace(problem, message=issue.english)


def _period(obs: _Obs, rule: SeriesRule, context: _Context, issues: list[_Issue]) -> str | None:
    if obs.period is None:
        if rule.period is None:
            hint = lazy_gettext("give the period of such observations in the rule, e.g. period: 2018")
            issues.append(
                _Issue("sdmx.no_period", lazy_gettext("the observation has no time period"), "period", None, hint)
            )
        return rule.period
    converted = context.periods.get(obs.period)
    if converted is None:
        try:
            converted = govops_period(obs.period)
        except PeriodError as exc:
            converted = exc
        context.periods[obs.period] = converted
    if isinstance(converted, PeriodError):
        # The API keeps the period reader's full reason; the catalogue names the period, the hint lists the forms read.
        message = lazy_gettext("SDMX period %(period)r has no govops period")
        issues.append(
            _Issue(
                "invalid_period",
                message,
                "period",
                obs.period,
                converted.hint,
                {"period": obs.period},
                english=converted.message,
            )
        )
        return None
    return converted


def _code(
    raw: str | None, source: str, table: Mapping[str, str] | None, field: str, table_name: str, issues: list[_Issue]
) -> str | None:
    if not raw:
        hint = lazy_gettext("check that %(component)s is given for every series")
        message = lazy_gettext("the observation has no %(component)s")
        issues.append(_Issue("sdmx.no_code", message, field, None, hint, {"component": source}))
        return None
    if table is None:
        return raw
    code = table.get(raw)
    if code is None:
        hint = lazy_gettext("add %(raw)s: <govops code> to %(table)s in the mapping")
        message = lazy_gettext("%(component)s %(raw)r is not in %(table)s")
        params = {"component": source, "raw": raw, "table": table_name}
        issues.append(_Issue("sdmx.unmapped_code", message, field, raw, hint, params))
    return code


_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _number(raw: object) -> tuple[float | None, str | None]:
    """The value as a float (None when missing), or why it is not a number (a msgid naming it as %(shown)s)."""
    if type(raw) is float or type(raw) is int:  # not bool, whose JSON true is no number
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if text == "" or text.lower() == "nan":
            return None, None
        if not _DECIMAL.fullmatch(text):
            return None, lazy_gettext("the value %(shown)r is not a number")
        value = float(text)
    elif raw is None:
        return None, None
    else:
        return None, lazy_gettext("the value %(shown)s is not a number")
    if math.isnan(value):
        return None, None
    if math.isinf(value):
        return None, lazy_gettext("the value %(shown)s is too large")
    return value, None


def _shown(raw: object) -> str | float | None:
    if raw is None or isinstance(raw, float):
        return raw
    return str(raw)[:100]


# -- SDMX-ML ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """A reference to a maintainable SDMX artefact (a DSD, a dataflow)."""

    cls: str
    id: str
    agency: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        agency = f"{self.agency}:" if self.agency else ""
        version = f"({self.version})" if self.version else ""
        return f"{agency}{self.id}{version}"


_URN = re.compile(
    r"urn:sdmx:org\.sdmx\.infomodel\.\w+\.(?P<cls>\w+)=(?P<agency>[^:]+):(?P<id>[^(]+)\((?P<version>[^)]*)\)"
)


def _parse_xml(body: bytes, where: str) -> etree._Element:
    try:
        # A parser per call: lxml parsers are not meant to be shared between threads.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        line = f", line {exc.lineno}" if exc.lineno else ""
        # The parser's reason is English: kept for the API; the catalogue's words say what it means.
        error = GovopsError.of(
            "unparseable",
            lazy_gettext("not well-formed XML: the file is cut short or was changed after it was written"),
            lazy_gettext("send the message as the provider wrote it, whole and unchanged"),
            where=f"{where}{line}",
        )
        error.message = f"not well-formed XML: {exc.msg}"
        raise error from None
    except ValueError as exc:  # e.g. an encoding declaration lxml does not know
        raise GovopsError.of(
            "sdmx.unreadable",
            lazy_gettext("cannot read the XML: %(reason)s"),
            lazy_gettext("send the message as the provider wrote it, whole and unchanged"),
            where=where,
            reason=str(exc),
        ) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # SDMX-ML never uses a DTD; refusing one rules out entity expansion and external files.
        raise GovopsError.of(
            "sdmx.doctype",
            lazy_gettext("the XML has a DOCTYPE, which SDMX-ML never uses"),
            lazy_gettext("send the SDMX-ML message without a DOCTYPE"),
            where=where,
        )
    return root


def _localname(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _header_ref(root: etree._Element) -> _Ref | None:
    """The structure or dataflow the header of a data message names, if any."""
    for header in root:
        if _localname(header) != "Header":
            continue
        for structure in header:
            if _localname(structure) != "Structure":
                continue
            for target in structure:
                kind = _localname(target)
                cls = {"Structure": "DataStructure", "StructureUsage": "Dataflow"}.get(kind, kind)
                if (target.text or "").strip().startswith("urn:"):
                    return _urn_ref(target.text or "") or None
                for child in target:
                    if _localname(child) == "URN":
                        return _urn_ref(child.text or "")
                    if _localname(child) == "Ref" and child.get("id"):
                        return _Ref(
                            child.get("class") or cls, child.get("id", ""), child.get("agencyID"), child.get("version")
                        )
    return None


def _urn_ref(urn: str) -> _Ref | None:
    m = _URN.search(urn)
    return _Ref(m["cls"], m["id"], m["agency"], m["version"]) if m else None


def _read_ml(body: bytes, *, structures: Sequence[bytes], where: str) -> _Message:
    root = _parse_xml(body, where)
    kind = _localname(root)
    if kind == "Structure":
        raise GovopsError.of(
            "sdmx.structure_message",
            lazy_gettext("this is an SDMX structure message, not a data message"),
            lazy_gettext("send the data message, and this structure message beside it"),
            where=where,
        )
    if kind == "Error":
        said = " ".join("".join(root.itertext()).split())[:300]
        raise GovopsError.of(
            "sdmx.error_message",
            lazy_gettext("the provider sent an SDMX error message instead of data: %(said)s"),
            lazy_gettext("ask the provider again for the data"),
            where=where,
            said=said,
        )
    if kind not in _DATA_ROOTS:
        raise GovopsError.of(
            "sdmx.not_data_message",
            lazy_gettext("<%(root)s> is not an SDMX-ML data message"),
            lazy_gettext("send GenericData, GenericTimeSeriesData or StructureSpecificData"),
            where=where,
            root=kind,
        )
    ref = _header_ref(root)
    dsds, flows = _read_structures(structures, where)
    dsd = _pick_dsd(ref, dsds, flows)
    if dsd is None and (structures or kind.startswith("StructureSpecific")):
        raise _no_structure(ref, dsds, kind, where)
    from sdmx.message import DataMessage

    try:
        msg = _sdmx1().read_sdmx(io.BytesIO(body), format="XML", structure=dsd)
        if not isinstance(msg, DataMessage):
            raise TypeError(type(msg).__name__)
        return _ml_message(msg, ref, dsd, flows)
    except Exception as exc:  # sdmx1 raises anything from KeyError to AssertionError on odd messages
        hint = lazy_gettext("check that the message is complete and that the structure given is the one it refers to")
        if dsd is None:
            message = lazy_gettext("the SDMX-ML message cannot be read: %(reason)s")
        else:
            message = lazy_gettext("the SDMX-ML message cannot be read against structure %(structure)s: %(reason)s")
        structure = None if dsd is None else dsd.id
        raise GovopsError.of(
            "sdmx.unreadable", message, hint, where=where, structure=structure, reason=_reason(exc)
        ) from None


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(cause).strip()
    return f"{type(cause).__name__}: {text[:200]}" if text else type(cause).__name__


def check_structures(structures: Sequence[bytes], *, where: str = "structure") -> None:
    """Raise GovopsError unless every one of `structures` is a readable SDMX-ML structure message."""
    _read_structures(structures, where)


def _read_structures(structures: Sequence[bytes], where: str) -> tuple[list[_DSD], list[common.BaseDataflow]]:
    from sdmx.message import StructureMessage

    dsds: list[_DSD] = []
    flows: list[common.BaseDataflow] = []
    for n, body in enumerate(structures, 1):
        place = f"{where}, structure {n}"
        root = _parse_xml(body, place)
        if _localname(root) != "Structure":
            raise GovopsError.of(
                "sdmx.not_structure",
                lazy_gettext("structure %(n)s is not an SDMX-ML structure message (its root is <%(root)s>)"),
                lazy_gettext("give the structure message that defines the message's DSD"),
                where=place,
                n=n,
                root=_localname(root),
            )
        try:
            msg = _sdmx1().read_sdmx(io.BytesIO(body), format="XML")
        except Exception as exc:  # see _read_ml
            raise GovopsError.of(
                "sdmx.structure_unreadable",
                lazy_gettext("structure %(n)s cannot be read: %(reason)s"),
                lazy_gettext("give the structure message as the provider wrote it"),
                where=place,
                n=n,
                reason=_reason(exc),
            ) from None
        if not isinstance(msg, StructureMessage):
            raise GovopsError.of(
                "sdmx.not_structure",
                lazy_gettext("structure %(n)s is not a structure message"),
                lazy_gettext("give the structure message that defines the message's DSD"),
                where=place,
                n=n,
            )
        dsds.extend(msg.structure.values())
        flows.extend(msg.dataflow.values())
    return dsds, flows


def _agency(artefact: common.MaintainableArtefact) -> str | None:
    maintainer = artefact.maintainer
    return maintainer.id if maintainer is not None and maintainer.id else None


def _pick_dsd(ref: _Ref | None, dsds: list[_DSD], flows: list[common.BaseDataflow]) -> _DSD | None:
    if ref is None:
        return dsds[0] if len(dsds) == 1 else None
    wanted, agency = ref.id, ref.agency
    if ref.cls != "DataStructure":
        for flow in flows:
            if flow.id == ref.id and flow.structure is not None and agency in (None, _agency(flow)):
                wanted, agency = flow.structure.id, _agency(flow.structure)
                break
        else:
            # A message naming its dataflow, given only the DSD (the ECB serves them apart): one DSD
            # of the same agency is the flow's; sdmx1 refuses the message if it does not fit.
            same_agency = [d for d in dsds if agency in (None, _agency(d))]
            if not flows and len(same_agency) == 1:
                return same_agency[0]
    for dsd in dsds:
        if dsd.id == wanted and agency in (None, _agency(dsd)):
            return dsd
    return None


def _no_structure(ref: _Ref | None, dsds: list[_DSD], kind: str, where: str) -> GovopsError:
    given = ", ".join(f"{_agency(d) or '?'}:{d.id}({d.version or '?'})" for d in dsds)
    if given and ref is None:
        message = lazy_gettext(
            "the message refers to a structure it does not name, but the structures given define %(given)s"
        )
    elif given:
        message = lazy_gettext("the message refers to %(named)s, but the structures given define %(given)s")
    elif ref is None:
        message = lazy_gettext(
            "this %(kind)s message needs its data structure definition (a structure it does not name) to be read"
        )
    else:
        message = lazy_gettext("this %(kind)s message needs its data structure definition (%(named)s) to be read")
    return GovopsError.of(
        "structure_missing",
        message,
        lazy_gettext(
            "give the SDMX-ML structure message that defines it beside the data message (the provider serves it "
            "at .../datastructure/AGENCY/ID/VERSION); a structure-specific message does not say which of its XML "
            "attributes are dimensions"
        ),
        where=where,
        named=None if ref is None else f"{ref.cls} {ref}",
        given=given,
        kind=kind,
    )


# What sdmx1 (2.28) leaves of an SDMX-ML 3.0 multi-valued attribute (<Comp><Value>...): an empty list.
_UNREAD = "(values not read)"


def _text(value: object) -> str:
    """The code of an SDMX key or attribute value (a Code, a plain string, several codes...)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [_text(v) for v in value]
        return "+".join(texts) if texts and all(texts) else _UNREAD
    code = getattr(value, "id", None)
    return code if isinstance(code, str) and code else str(value)


def _attribute_texts(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    return {name: _text(av.value) for name, av in (attributes or {}).items()}


def _key_texts(key: common.Key | None) -> dict[str, str]:
    return {} if key is None else {kv.id: _text(kv.value) for kv in key.values.values()}


def _ml_message(
    msg: DataMessage,
    ref: _Ref | None,
    dsd: _DSD | None,
    flows: list[common.BaseDataflow],
) -> _Message:
    from sdmx.model import common

    structure = dsd or (msg.data[0].structured_by if msg.data else None)
    names: set[str] = set()
    if ref is not None:
        names.add(ref.id)
    if dsd is not None:
        names.add(dsd.id)
        names.update(f.id for f in flows if f.structure is not None and f.structure.id == dsd.id)
    if msg.dataflow is not None and msg.dataflow.id:
        names.add(msg.dataflow.id)
    components = list(structure.dimensions.components) if structure is not None else []
    time_ids = {d.id for d in components if isinstance(d, common.TimeDimension)} | {_TIME_ID}
    ordered = sorted(enumerate(components), key=lambda item: (item[1].order or 0, item[0]))
    dims = tuple(d.id for _, d in ordered if d.id not in time_ids)
    attributes = frozenset(a.id for a in structure.attributes.components) if structure is not None else frozenset()
    observations: list[_Obs | Problem] = []
    series_parts: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
    for ds in msg.data:
        ds_attrs = _attribute_texts(getattr(ds, "attrib", None))
        for obs in ds.obs:
            position = len(observations) + 1
            sk = obs.series_key
            parts = series_parts.get(id(sk))
            if parts is None:
                parts = series_parts[id(sk)] = (_key_texts(sk), _attribute_texts(getattr(sk, "attrib", None)))
            codes = {**parts[0], **_key_texts(obs.dimension)}
            groups = [_attribute_texts(gk.attrib) for gk in obs.group_keys]
            attrs = ds_attrs.copy()
            for group in groups:
                attrs.update(group)
            attrs.update(parts[1])
            attrs.update(_attribute_texts(obs.attached_attribute))
            period = next((codes[t] for t in time_ids if t in codes), None)
            observations.append(_observation(position, dims, codes, period, obs.value, attrs))
    described = f"data of structure {ref}" if ref is not None else "data naming no structure"
    return _Message(frozenset(n for n in names if n), described, dims, attributes, observations)


def _observation(
    position: int,
    dims: tuple[str, ...],
    codes: Mapping[str, str],
    period: str | None,
    value: object,
    attrs: Mapping[str, str],
    line: int | None = None,
) -> _Obs | Problem:
    series = tuple(map(codes.get, dims))
    if None in series or "" in series:
        lacking = [d for d in dims if not codes.get(d)]
        return Problem.of(
            "sdmx.no_series_code",
            lazy_gettext("observation %(n)s has no code for %(dimensions)s"),
            lazy_gettext("every observation needs a code for each dimension of its series key"),
            row=position,
            where=f"observation {position}" + (f", line {line}" if line is not None else ""),
            field="series",
            value=".".join(code or "" for code in series),
            n=position,
            dimensions=", ".join(lacking),
        )
    return _Obs(position, series, period, value, attrs, line)  # type: ignore[arg-type]  # no None left


# -- SDMX-JSON 1.0 ----------------------------------------------------------------------------


class _Shape(Exception):
    """A part of an SDMX-JSON message that is not what the format says; becomes a GovopsError."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _dict(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Shape(path, "is not an object")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Shape(path, "is not a list")
    return value


@dataclass(frozen=True)
class _JsonComponent:
    id: str
    level: str
    codes: tuple[str | None, ...]
    position: int | None = None


_LEVELS = ("dataSet", "series", "observation")


def _json_components(section: object, path: str, *, attributes: bool) -> list[_JsonComponent]:
    out: list[_JsonComponent] = []
    levels = _dict(section, path)
    for level in _LEVELS:
        for n, item in enumerate(_list(levels.get(level, []), f"{path}.{level}")):
            here = f"{path}.{level}[{n}]"
            spec = _dict(item, here)
            ident = spec.get("id")
            if not isinstance(ident, str) or not ident:
                raise _Shape(here, "has no id")
            codes = tuple(
                _json_value_text(v, f"{here}.values[{i}]")
                for i, v in enumerate(_list(spec.get("values", []), f"{here}.values"))
            )
            position = spec.get("keyPosition")
            if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
                raise _Shape(f"{here}.keyPosition", "is not a whole number")
            if attributes and not codes:
                continue  # declared without values: not counted in the attribute indexes (as sdmx1 does)
            out.append(_JsonComponent(ident, level, codes, position))
    return out


def _json_value_text(value: object, path: str) -> str | None:
    if value is None:
        return None
    spec = _dict(value, path)
    code = spec.get("id")
    if isinstance(code, str | int) and not isinstance(code, bool):
        return str(code)
    name = spec.get("name")
    if isinstance(name, dict):  # a localised name: {"en": "..."}
        name = name.get("en", next(iter(name.values()), None))
    return name if isinstance(name, str) else None


def _read_json(body: bytes, *, where: str) -> _Message:
    try:
        doc = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        place = f"{where}, line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else where
        hint = lazy_gettext("send the SDMX-JSON message as the provider wrote it, whole and unchanged")
        if isinstance(exc, json.JSONDecodeError):
            # The parser's reason is English: kept for the API; the catalogue's words say what it means.
            error = GovopsError.of(
                "unparseable",
                lazy_gettext("not valid JSON: the file is cut short or was changed after it was written"),
                hint,
                where=place,
            )
            error.message = f"not valid JSON: {exc.msg}"
            raise error from None
        if "integer string conversion" in str(exc):
            message = lazy_gettext("not valid JSON: a number has more than 4,300 digits")
        else:
            message = lazy_gettext("not valid JSON: the text is not UTF-8")
        raise GovopsError.of("unparseable", message, hint, where=place) from None
    except RecursionError:
        raise GovopsError.of(
            "unparseable",
            lazy_gettext("the JSON is nested too deeply to read"),
            lazy_gettext("send the SDMX-JSON message as the provider wrote it, whole and unchanged"),
            where=where,
        ) from None
    try:
        return _json_message(doc)
    except _Shape as exc:
        # The part's fault is told in English (the format's own terms); the catalogue names the part.
        error = GovopsError.of(
            "sdmx.json_shape",
            lazy_gettext("not an SDMX-JSON 1.0 data message: %(path)s is not what the format says"),
            lazy_gettext("send an SDMX-JSON 1.0 data message (header, structure, dataSets)"),
            where=where,
            path=exc.path,
        )
        error.message = f"not an SDMX-JSON 1.0 data message: {exc.path} {exc.message}"
        raise error from None


class _JsonLevel:
    """Turns the colon-separated index keys of one level (``"0:1"``) into codes, caching them."""

    def __init__(self, components: list[_JsonComponent]) -> None:
        self.components = components
        self.cache: dict[str, tuple[str, ...]] = {}

    def codes(self, key: str, path: str) -> tuple[str, ...]:
        found = self.cache.get(key)
        if found is not None:
            return found
        parts = key.split(":") if key else []
        if len(parts) != len(self.components):
            raise _Shape(f"{path}[{key!r}]", f"has {len(parts)} index(es) for {len(self.components)} dimension(s)")
        codes: list[str] = []
        for part, dim in zip(parts, self.components, strict=True):
            index = int(part) if part.isdigit() else -1
            code = dim.codes[index] if 0 <= index < len(dim.codes) else None
            if code is None:
                raise _Shape(
                    f"{path}[{key!r}]", f"has index {part!r} for {dim.id}, which has {len(dim.codes)} value(s)"
                )
            codes.append(code)
        found = self.cache[key] = tuple(codes)
        return found


def _json_attrs(indexes: object, attributes: list[_JsonComponent], path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, attribute in zip(_list(indexes, path), attributes, strict=False):
        if index is None:
            continue
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(attribute.codes):
            raise _Shape(path, f"has index {index!r} for {attribute.id}, which has {len(attribute.codes)} value(s)")
        text = attribute.codes[index]
        if text is not None:
            out[attribute.id] = text
    return out


def _json_message(doc: object) -> _Message:
    root = _dict(doc, "the message")
    if "structure" not in root and "data" in root:
        raise _Shape("the message", "is SDMX-JSON 2.0, which is not read yet")
    structure = _dict(root.get("structure"), "structure")
    dims = _json_components(structure.get("dimensions"), "structure.dimensions", attributes=False)
    attrs = _json_components(structure.get("attributes", {}), "structure.attributes", attributes=True)
    # Key order: keyPosition where given, else the order of declaration.
    unplaced = len(dims)
    keyed = sorted(
        (d.position if d.position is not None else unplaced + i, d.id) for i, d in enumerate(dims) if d.id != _TIME_ID
    )
    series_dims = tuple(ident for _, ident in keyed)
    levels = {level: _JsonLevel([d for d in dims if d.level == level]) for level in _LEVELS}
    attr_levels = {level: [a for a in attrs if a.level == level] for level in _LEVELS}
    for d in levels["dataSet"].components:
        if not d.codes or d.codes[0] is None:
            raise _Shape(f"structure.dimensions.dataSet {d.id}", "has no value")
    ds_codes = {d.id: d.codes[0] or "" for d in levels["dataSet"].components}
    observations: list[_Obs | Problem] = []
    for n, item in enumerate(_list(root.get("dataSets"), "dataSets")):
        path = f"dataSets[{n}]"
        ds = _dict(item, path)
        ds_attrs = _json_attrs(ds.get("attributes", []), attr_levels["dataSet"], f"{path}.attributes")
        series_level = levels["series"]
        series_ids = [d.id for d in series_level.components]
        for skey, series in _dict(ds.get("series", {}), f"{path}.series").items():
            spath = f"{path}.series[{skey!r}]"
            series = _dict(series, spath)
            codes = {**ds_codes, **dict(zip(series_ids, series_level.codes(skey, f"{path}.series"), strict=True))}
            s_attrs = _json_attrs(series.get("attributes", []), attr_levels["series"], f"{spath}.attributes")
            _json_observations(
                series.get("observations", {}),
                spath,
                codes,
                {**ds_attrs, **s_attrs},
                levels["observation"],
                attr_levels["observation"],
                series_dims,
                observations,
            )
        _json_observations(
            ds.get("observations", {}),
            path,
            ds_codes,
            ds_attrs,
            levels["observation"],
            attr_levels["observation"],
            series_dims,
            observations,
        )
    flows = _json_flow_names(structure)
    described = f"dataflow {' / '.join(sorted(flows))}" if flows else "data naming no dataflow"
    return _Message(frozenset(flows), described, series_dims, frozenset(a.id for a in attrs), observations)


def _json_observations(
    section: object,
    path: str,
    base: dict[str, str],
    inherited: dict[str, str],
    level: _JsonLevel,
    attributes: list[_JsonComponent],
    series_dims: tuple[str, ...],
    out: list[_Obs | Problem],
) -> None:
    obs_dims = [d.id for d in level.components]
    path = f"{path}.observations"
    for key, cells in _dict(section, path).items():
        if not isinstance(cells, list):
            raise _Shape(f"{path}[{key!r}]", "is not a list")
        codes = base.copy()
        codes.update(zip(obs_dims, level.codes(key, path), strict=True))
        attrs = {**inherited, **_json_attrs(cells[1:], attributes, f"{path}[{key!r}]")} if len(cells) > 1 else inherited
        value = cells[0] if cells else None
        out.append(_observation(len(out) + 1, series_dims, codes, codes.get(_TIME_ID), value, attrs))


def _json_flow_names(structure: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    links = structure.get("links", [])
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") not in ("dataflow", "datastructure"):
            continue
        urn = link.get("urn")
        if isinstance(urn, str) and (ref := _urn_ref(urn)):
            names.add(ref.id)
        href = link.get("href")
        if isinstance(href, str) and (name := _flow_in_href(href, str(link["rel"]))):
            names.add(name)
    return names


def _flow_in_href(href: str, rel: str) -> str | None:
    """The artefact id in a REST address like ``.../dataflow/ECB/EXR/1.0`` or ``.../dataflow/PART2/all``."""
    segments = [s for s in href.split("?")[0].split("/") if s]
    if rel not in segments:
        return None
    after = segments[segments.index(rel) + 1 :]
    ids = [s for s in after if s not in ("all", "latest", "+", "*") and not re.fullmatch(r"[\d.+~*]+", s)]
    if len(ids) >= 2:
        return ids[1]  # agency, id
    return ids[0] if ids else None


# -- SDMX-CSV 2.0 and 1.0 -------------------------------------------------------------------------


def _read_csv(body: bytes, *, where: str) -> _Message:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovopsError.of(
            "sdmx.not_utf8",
            lazy_gettext("not UTF-8 text (byte %(byte)s)"),
            lazy_gettext("SDMX-CSV is UTF-8 text"),
            where=where,
            byte=exc.start,
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = next((c for c in ",;\t" if c in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    with csv_read_errors(reader, where, hint=lazy_gettext("check the quotes on that line")):
        header = next(reader)
        columns, labelled = _csv_columns(header, where)
        observations, flows = _csv_observations(reader, columns, labelled, where)
    if len(flows) > 1:
        raise GovopsError.of(
            "dataflow_mismatch",
            lazy_gettext("the file holds %(count)s dataflows (%(flows)s)"),
            lazy_gettext("send one dataflow per file"),
            where=where,
            count=len(flows),
            flows=", ".join(sorted(flows)),
        )
    names = {_flow_id(f) for f in flows}
    described = f"dataflow {', '.join(sorted(flows))}" if flows else "data naming no dataflow"
    return _Message(
        frozenset(n for n in names if n), described, columns.dimensions, frozenset(columns.attributes), observations
    )


@dataclass(frozen=True)
class _CsvColumns:
    # The columns before the dimensions: (DATAFLOW,) in 1.0; (STRUCTURE, STRUCTURE_ID[, ACTION]) in 2.0.
    lead: tuple[str, ...]
    dimensions: tuple[str, ...]
    dimension_at: tuple[int, ...]
    time_at: int | None
    value_at: int
    attributes: tuple[str, ...]
    attribute_at: tuple[int, ...]


_CSV_HEADER_HINT = lazy_gettext(
    "the header is STRUCTURE,STRUCTURE_ID[,ACTION],<dimensions>,TIME_PERIOD,OBS_VALUE,<attributes> (SDMX-CSV 2.0) "
    "or DATAFLOW,<dimensions>,TIME_PERIOD,OBS_VALUE,<attributes> (SDMX-CSV 1.0)"
)


# Columns some publishers put before OBS_VALUE that are not dimensions (Eurostat's SDMX-CSV 1.0
# writes when each series was last updated there): read like attributes, kept out of series keys.
_CSV_NOT_DIMENSIONS = ("LAST UPDATE", "LAST_UPDATE")


def _csv_columns(header: list[str], where: str) -> tuple[_CsvColumns, bool]:
    # With labels=both, a header cell reads "FREQ: Frequency" and a value "M: Monthly".
    labelled = any(": " in cell for cell in header)
    ids = [cell.split(": ", 1)[0].strip() for cell in header]
    place = f"{where}, line 1"
    if ids[:1] == ["DATAFLOW"]:
        lead: tuple[str, ...] = ("DATAFLOW",)
    elif ids[:2] == ["STRUCTURE", "STRUCTURE_ID"]:
        if "STRUCTURE_NAME" in ids or "SERIES_KEY" in ids or "OBS_KEY" in ids:
            extra = next(i for i in ("STRUCTURE_NAME", "SERIES_KEY", "OBS_KEY") if i in ids)
            raise GovopsError.of(
                "sdmx.csv_column",
                lazy_gettext("the SDMX-CSV 2.0 column %(column)s is not read"),
                lazy_gettext("ask the provider for labels=id or labels=both and keys=none (the defaults)"),
                where=place,
                column=extra,
            )
        lead = ("STRUCTURE", "STRUCTURE_ID", "ACTION") if ids[2:3] == ["ACTION"] else ("STRUCTURE", "STRUCTURE_ID")
    else:
        raise GovopsError.of(
            "sdmx.csv_header",
            lazy_gettext("an SDMX-CSV file starts with the columns STRUCTURE,STRUCTURE_ID (2.0) or DATAFLOW (1.0)"),
            _CSV_HEADER_HINT,
            where=place,
        )
    if "OBS_VALUE" not in ids:
        raise GovopsError.of(
            "sdmx.csv_header", lazy_gettext("the header has no OBS_VALUE column"), _CSV_HEADER_HINT, where=place
        )
    repeated = sorted({i for i in ids if ids.count(i) > 1 or not i})
    if repeated:
        raise GovopsError.of(
            "sdmx.csv_header",
            lazy_gettext("the header repeats or leaves empty the column(s) %(columns)s"),
            lazy_gettext("give every column one distinct name"),
            where=place,
            columns=", ".join(repeated) or "(empty)",
        )
    value_at = ids.index("OBS_VALUE")
    # Without the DSD, the columns before OBS_VALUE are taken as dimensions and those after it as
    # attributes: the order SDMX-CSV writers (and govops) use.
    dim_at = tuple(i for i in range(len(lead), value_at) if ids[i] not in (_TIME_ID, *_CSV_NOT_DIMENSIONS))
    attr_at = tuple(i for i in range(len(lead), len(ids)) if i > value_at or ids[i] in _CSV_NOT_DIMENSIONS)
    columns = _CsvColumns(
        lead=lead,
        dimensions=tuple(ids[i] for i in dim_at),
        dimension_at=dim_at,
        time_at=ids.index(_TIME_ID) if _TIME_ID in ids else None,
        value_at=value_at,
        attributes=tuple(ids[i] for i in attr_at),
        attribute_at=attr_at,
    )
    return columns, labelled


def _csv_observations(
    reader: Iterator[list[str]], columns: _CsvColumns, labelled: bool, where: str
) -> tuple[list[_Obs | Problem], set[str]]:
    observations: list[_Obs | Problem] = []
    flows: set[str] = set()
    lead = len(columns.lead)
    width = lead + len(columns.dimension_at) + len(columns.attribute_at) + 1 + (columns.time_at is not None)
    line_of = getattr(reader, "line_num", 0)
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        position = len(observations) + 1
        line = getattr(reader, "line_num", line_of)
        if len(cells) != width:
            observations.append(
                Problem.of(
                    "sdmx.csv_cells",
                    lazy_gettext("%(cells)s cells where the header has %(width)s"),
                    lazy_gettext("check for a stray delimiter or a missing cell; quote text that holds the delimiter"),
                    row=position,
                    where=f"line {line}",
                    cells=len(cells),
                    width=width,
                )
            )
            continue

        def cell(i: int, cells: list[str] = cells) -> str:
            text = cells[i].strip()
            return text.split(": ", 1)[0] if labelled else text

        flows.add(cell(0 if lead == 1 else 1))  # DATAFLOW (1.0) or STRUCTURE_ID (2.0)
        if lead == 3 and cell(2).upper() == "D":
            observations.append(
                Problem.of(
                    "sdmx.csv_delete",
                    lazy_gettext("ACTION D (delete) is not taken: govops keeps every value it was sent"),
                    lazy_gettext("send a corrected value instead (ACTION I, A or R), or leave the line out"),
                    row=position,
                    where=f"line {line}",
                    field="ACTION",
                    value=cells[2].strip(),
                )
            )
            continue
        codes = {name: cell(i) for name, i in zip(columns.dimensions, columns.dimension_at, strict=True)}
        attrs = {name: cell(i) for name, i in zip(columns.attributes, columns.attribute_at, strict=True) if cell(i)}
        period = cell(columns.time_at) if columns.time_at is not None and cell(columns.time_at) else None
        observations.append(
            _observation(position, columns.dimensions, codes, period, cells[columns.value_at], attrs, line)
        )
    return observations, flows


def _flow_id(text: str) -> str:
    """``EXR`` from ``ECB:EXR(1.0)``, ``EXR`` or a dataflow URN."""
    ref = _urn_ref(text)
    if ref is not None:
        return ref.id
    m = re.fullmatch(r"(?:[^:]+:)?([^(:]+)(?:\([^)]*\))?", text.strip())
    return m[1] if m else text.strip()
