"""Checking incoming observations against the catalogue, before anything is written."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.dimensions import TOTAL, dim_key
from govops.catalog.models import Agency, Area, Codelist, Indicator, Unit
from govops.catalog.version import kept_by_stamp
from govops.errors import Problem, lazy_gettext
from govops.periods import Freq, Period, PeriodError
from govops.warehouse.areas import AreaTree
from govops.warehouse.schemas import ObservationIn, Status

# A row as read from a file or a request; a reader that already found it malformed passes a Problem.
RawRow = Mapping[str, Any] | ObservationIn | Problem


@dataclass(frozen=True)
class IndicatorInfo:
    id: int
    code: str
    periodicity: Freq
    # Whether values add up over time, so that a figure for a longer period than `periodicity` has a meaning.
    adds_up_over_time: bool
    dimensions: tuple[str, ...]
    unit: str
    owner_id: int
    derived: bool
    classification: str


@dataclass(frozen=True)
class AreaInfo:
    id: int
    code: str
    name_vi: str
    valid_from: date | None
    valid_to: date | None
    successor: str | None


@dataclass(frozen=True)
class ValidRow:
    indicator_id: int
    area_id: int
    period: str
    period_start: date
    dim_key: str
    value: float
    status: str
    source_agency_id: int | None
    row: int = 0  # the row number as given, for problems found after validation (rights)


class CatalogIndex:
    """The catalogue in memory, so that checking a row costs no query.

    Built once per process and catalogue version, not once per batch: reading the whole catalogue and every
    area took most of the time of accepting a one-row submission. Each batch still takes its locks and reads
    the catalogue's stamp (`CatalogueVersion`, changed by every catalogue write in the writer's transaction),
    and builds the index again when the stamp differs from the one it was built under: a change is seen by the
    very next batch, in this process or any other. Shared between batches and threads: read it, never change it.
    """

    units: Mapping[str, tuple[str, float]]
    codes: Mapping[str, frozenset[str]]
    agencies: Mapping[str, int]
    indicators: Mapping[str, IndicatorInfo]
    areas: Mapping[str, AreaInfo]
    # By id, for the steps after checking (the change events name the codes of the rows they were given by id).
    indicators_by_id: Mapping[int, IndicatorInfo]
    area_codes_by_id: Mapping[int, str]

    def __init__(self, session: Session) -> None:
        # Only writers build an index. Their key-share locks on the indicators (which writers share with each other),
        # taken before the catalogue is read,
        # make a catalogue import that would remove a code wait until this batch is committed (and then count its
        # rows), and a batch that starts after such an import reads the catalogue (and its stamp) as the import
        # left it. (PostgreSQL; a SQLite writer already holds the store's write lock.)
        session.execute(select(Indicator.id).order_by(Indicator.id).with_for_update(read=True, key_share=True)).all()
        snapshot = _current(session)
        self.units = snapshot.units
        self.codes = snapshot.codes
        self.agencies = snapshot.agencies
        self.indicators = snapshot.indicators
        self.areas = snapshot.areas
        self.indicators_by_id = snapshot.indicators_by_id
        self.area_codes_by_id = snapshot.area_codes_by_id


def load_catalogue(session: Session) -> None:
    """Read the catalogue and the area tree into memory ahead of the first batch, as a server does when it starts,
    so that the first submission does not wait for them. No lock: nothing is checked here; a batch takes its own."""
    _current(session)
    AreaTree.cached(session)


def _current(session: Session) -> _Snapshot:
    """The catalogue as this transaction sees it: the one in memory if its stamp is still the store's."""
    return kept_by_stamp(session, _SNAPSHOTS, _Snapshot.read)


@dataclass(frozen=True)
class _Snapshot:
    units: Mapping[str, tuple[str, float]]
    codes: Mapping[str, frozenset[str]]
    agencies: Mapping[str, int]
    indicators: Mapping[str, IndicatorInfo]
    areas: Mapping[str, AreaInfo]
    indicators_by_id: Mapping[int, IndicatorInfo]
    area_codes_by_id: Mapping[int, str]

    @classmethod
    def read(cls, session: Session) -> _Snapshot:
        indicators = {
            i.code: IndicatorInfo(
                id=i.id,
                code=i.code,
                periodicity=Freq(i.periodicity),
                adds_up_over_time=i.time_aggregation != "none",
                dimensions=tuple(i.dimension_codes),
                unit=i.unit.code,
                owner_id=i.owner_id,
                derived=i.formula is not None,
                classification=i.classification,
            )
            for i in session.scalars(select(Indicator))
        }
        # Plain rows, not ORM objects: 3,385 areas and more.
        rows = session.execute(
            select(Area.id, Area.code, Area.name_vi, Area.valid_from, Area.valid_to, Area.successor_id)
        ).all()
        codes = {row.id: row.code for row in rows}
        return cls(
            units={u.code: (u.quantity, u.factor) for u in session.scalars(select(Unit))},
            codes={cl.code: frozenset(c.code for c in cl.codes) for cl in session.scalars(select(Codelist))},
            agencies={code: agency_id for code, agency_id in session.execute(select(Agency.code, Agency.id))},
            indicators=indicators,
            areas={
                row.code: AreaInfo(
                    id=row.id,
                    code=row.code,
                    name_vi=row.name_vi,
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    successor=codes.get(row.successor_id) if row.successor_id else None,
                )
                for row in rows
            },
            indicators_by_id={info.id: info for info in indicators.values()},
            area_codes_by_id=codes,
        )


# Catalogues by stamp. A stamp is random, so one names a single catalogue whichever database it came from;
# a few are kept for a process that serves several stores (the tests) or sees a change being rolled back.
_SNAPSHOTS: dict[str, _Snapshot] = {}


def check_rows(
    index: CatalogIndex,
    rows: Iterable[tuple[int, RawRow]],
    *,
    progress: Callable[[int], None] | None = None,
    default_source: int | None = None,
) -> tuple[list[ValidRow], list[Problem]]:
    """Every row checked; the good ones in order and a problem for each bad one (row numbers as given).

    A row that names no source gets `default_source` (the sender's agency), or without one its indicator's owner.
    """
    valid: list[ValidRow] = []
    problems: list[Problem] = []
    seen: dict[tuple[int, int, str, str], int] = {}
    # A batch names few distinct periods (and period-area pairs) many times over: each is judged once.
    periods = _PeriodJudge()
    count = 0
    for count, (number, raw) in enumerate(rows, start=1):
        if progress is not None and count % 5000 == 0:
            progress(5000)
        if isinstance(raw, Problem):
            problems.append(raw)
            continue
        obs: ObservationIn | PlainRow
        if isinstance(raw, ObservationIn):
            obs = raw
        elif (plain := already_clean(raw)) is not None:
            obs = plain
        else:
            try:
                obs = ObservationIn.model_validate(raw)
            except ValidationError as exc:
                problems.extend(problems_from_validation(exc, row=number))
                continue
        row, row_problems = _check_one(index, obs, number, default_source, periods)
        if row is None:
            problems.extend(row_problems)
            continue
        key = (row.indicator_id, row.area_id, row.period, row.dim_key)
        if key in seen:
            problems.append(
                Problem.of(
                    "row.repeated",
                    lazy_gettext("repeats the figure of row %(first)s (same indicator, area, period and breakdown)"),
                    lazy_gettext(
                        "give each indicator, area, period and breakdown one figure only; delete one of the two"
                    ),
                    row=number,
                    field="period",
                    first=seen[key],
                )
            )
            continue
        seen[key] = number
        valid.append(row)
    if progress is not None:
        progress(count % 5000)
    return valid, problems


_FIELDS = frozenset(ObservationIn.model_fields)
_STATUSES = {status.value: status for status in Status}
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


def _clean_text(value: Any, *, limit: int | None = 64) -> bool:
    """Text the model would keep as it is: no surrounding space, in NFC, of an allowed length, and proper
    Unicode (no lone surrogate, which the model refuses)."""
    return (
        type(value) is str
        and 0 < len(value) <= (limit or len(value))
        and value == value.strip()
        and (value.isascii() or (_encodes(value) and unicodedata.is_normalized("NFC", value)))
    )


def _encodes(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class PlainRow:
    """A row read without the model: the same fields, with the values the model would give them."""

    indicator: str
    area: str
    period: str
    value: float
    status: Status
    dims: dict[str, str]
    unit: str | None
    source: str | None


def already_clean(raw: Mapping[str, Any]) -> PlainRow | None:
    """The row as the model would read it, when it is plainly so; None when the model must judge it.

    Most rows of a batch are: codes as clean text, a plain number, a known status. Building those
    without the model's validators keeps checking a large batch set-based in cost; any row that is
    not so plain (a number as text with a comma, a code with spaces, an unknown field...) goes
    through the model, so its problems are exactly the model's.
    """
    if not isinstance(raw, dict) or not _FIELDS.issuperset(raw):
        return None
    indicator, area, period = raw.get("indicator", ""), raw.get("area", ""), raw.get("period", "")
    if not (_clean_text(indicator) and _clean_text(area) and _clean_text(period)):
        return None
    value = raw.get("value")
    if (type(value) is str and _PLAIN_NUMBER.fullmatch(value)) or (type(value) is int and abs(value) < 10**15):
        value = float(value)
    elif type(value) is not float or not math.isfinite(value):
        return None
    status_text = raw.get("status", "provisional")
    status = _STATUSES.get(status_text) if type(status_text) is str else None
    dims = raw.get("dims", {})
    unit, source = raw.get("unit"), raw.get("source")
    if (
        status is None
        or type(dims) is not dict
        or not all(_clean_text(k, limit=None) and _clean_text(v, limit=None) for k, v in dims.items())
        or not (unit is None or _clean_text(unit, limit=None))
        or not (source is None or _clean_text(source, limit=None))
    ):
        return None
    return PlainRow(indicator, area, period, value, status, dict(dims), unit, source)


def problems_from_validation(exc: ValidationError, *, row: int | None) -> list[Problem]:
    """pydantic's findings as problems worded by the catalogue; the API keeps pydantic's own English message."""
    return [
        validation_problem(err, row=row, field=".".join(str(p) for p in err["loc"]) or None) for err in exc.errors()
    ]


def validation_problem(err: ErrorDetails, *, row: int | None, field: str | None) -> Problem:
    """One of pydantic's findings, on `field` of `row`."""
    value = err.get("input")
    suffix, template, hint = _VALIDATION.get(err["type"], _OTHER)
    params = {"field": field or ""}
    return Problem(
        message=_plain(err["msg"], field),
        row=row,
        field=field,
        value=value if isinstance(value, str | int | float) and not isinstance(value, bool) else None,
        hint=None if hint is None else hint % params,
        code=f"{(field or 'row').split('.')[0]}.{suffix}",
        template=template,
        hint_template=hint,
        params=params,
    )


# pydantic's error types -> (code suffix, message, hint); the code is "<field>.<suffix>", e.g. value.not_a_number.
_VALIDATION: dict[str, tuple[str, str, str | None]] = {
    "missing": (
        "missing",
        lazy_gettext("%(field)s is missing"),
        lazy_gettext("every row needs indicator, area, period and value"),
    ),
    "float_parsing": (
        "not_a_number",
        lazy_gettext("not a number"),
        lazy_gettext(
            "write the figure as a number with a dot as the decimal separator and no thousands separator, e.g. 1234.5"
        ),
    ),
    "float_type": (
        "not_a_number",
        lazy_gettext("not a number"),
        lazy_gettext(
            "write the figure as a number with a dot as the decimal separator and no thousands separator, e.g. 1234.5"
        ),
    ),
    "finite_number": (
        "not_finite",
        lazy_gettext("not a finite number"),
        lazy_gettext("write the figure as a number; leave the cell empty when there is no figure"),
    ),
    "extra_forbidden": (
        "not_allowed",
        lazy_gettext("%(field)s is not a column of an observation"),
        lazy_gettext("allowed columns: indicator, area, period, value, status, dims, unit, source"),
    ),
    "enum": (
        "not_allowed",
        lazy_gettext("not a status govops knows"),
        lazy_gettext("status is one of provisional, final, estimated, forecast"),
    ),
    "string_unicode": (
        "not_text",
        lazy_gettext("the text holds a character that is not one"),
        lazy_gettext(
            "the text holds a lone surrogate (such as \\ud800), which is no character: send proper UTF-8 text"
        ),
    ),
    "string_type": (
        "not_text",
        lazy_gettext("%(field)s must be text"),
        lazy_gettext("write the code as text, as the template gives it"),
    ),
    "string_too_short": (
        "empty",
        lazy_gettext("%(field)s is empty"),
        lazy_gettext("every row needs indicator, area, period and value"),
    ),
    "string_too_long": (
        "too_long",
        lazy_gettext("%(field)s is too long to be a code"),
        lazy_gettext("use the code as the template gives it"),
    ),
}
_OTHER = ("invalid", lazy_gettext("%(field)s holds a value that is not allowed"), None)


def _plain(message: str, field: str | None) -> str:
    if message == "Field required" and field:
        return f"{field} is missing"
    return message


class _PeriodJudge:
    """Period.parse and an area's lifetime check, remembered for the length of one batch."""

    def __init__(self) -> None:
        self.parsed: dict[tuple[str, Freq | None, bool], Period | PeriodError] = {}

    def parse(self, text: str, expected: Freq | None, or_coarser: bool) -> Period:
        key = (text, expected, or_coarser)
        found = self.parsed.get(key)
        if found is None:
            try:
                found = Period.parse(text, expected=expected, or_coarser=or_coarser)
            except PeriodError as exc:
                found = exc
            self.parsed[key] = found
        if isinstance(found, PeriodError):
            raise found
        return found


def _check_one(
    index: CatalogIndex,
    obs: ObservationIn | PlainRow,
    number: int,
    default_source: int | None,
    periods: _PeriodJudge,
) -> tuple[ValidRow | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(code: str, field: str, message: str, hint: str | None = None, value: Any = None, **params: Any) -> None:
        problems.append(Problem.of(code, message, hint, row=number, field=field, value=value, **params))

    ind = index.indicators.get(obs.indicator)
    if ind is None:
        bad(
            "indicator.unknown",
            "indicator",
            lazy_gettext("unknown indicator '%(indicator)s'"),
            lazy_gettext("use an indicator code as the template or the indicator catalogue gives it"),
            obs.indicator,
            indicator=obs.indicator,
        )
    elif ind.derived:
        bad(
            "indicator.derived",
            "indicator",
            lazy_gettext("%(indicator)s is derived by a formula and cannot be written"),
            lazy_gettext("send the indicators its formula is made of"),
            indicator=ind.code,
        )
    area = index.areas.get(obs.area)
    if area is None:
        bad(
            "area.unknown",
            "area",
            lazy_gettext("unknown area '%(area)s'"),
            lazy_gettext("use the official code: VN, a 2-digit province (01 = Ha Noi) or a 5-digit ward"),
            obs.area,
            area=obs.area,
        )
    period: Period | None = None
    try:
        # A figure reported for a longer period (an official annual figure of a monthly indicator) is kept as
        # such; series show it instead of adding up the shorter periods (warehouse.series).
        period = periods.parse(obs.period, ind.periodicity if ind else None, ind is not None and ind.adds_up_over_time)
    except PeriodError as exc:
        problems.append(_period_problem(exc, obs.period, ind, number))
    if area is not None and period is not None:
        if area.valid_to is not None and period.start > area.valid_to:
            if area.successor:
                bad(
                    "area.ceased",
                    "area",
                    lazy_gettext("%(area)s %(name)s ceased on %(until)s (merged into %(successor)s)"),
                    lazy_gettext("report %(period)s under %(successor)s"),
                    area=area.code,
                    name=area.name_vi,
                    until=str(area.valid_to),
                    successor=area.successor,
                    period=str(period),
                )
            else:
                bad(
                    "area.ceased",
                    "area",
                    lazy_gettext("%(area)s %(name)s ceased on %(until)s (merged)"),
                    lazy_gettext("report %(period)s under the unit that took it over"),
                    area=area.code,
                    name=area.name_vi,
                    until=str(area.valid_to),
                    period=str(period),
                )
        elif area.valid_from is not None and period.end < area.valid_from:
            bad(
                "area.not_yet",
                "area",
                lazy_gettext("%(area)s %(name)s exists only from %(since)s"),
                lazy_gettext("report earlier periods under the units that existed then"),
                area=area.code,
                name=area.name_vi,
                since=str(area.valid_from),
            )
    key = ""
    if ind is not None:
        for dim, code in obs.dims.items():
            if dim not in ind.dimensions and code == TOTAL:
                # The total of a breakdown the indicator lacks is the indicator itself: a group
                # dataflow (SDMX) writes _T for it, so that export reads back in.
                continue
            if dim not in ind.dimensions:
                bad(
                    "dims.unknown",
                    f"dims.{dim}",
                    lazy_gettext("%(indicator)s has no dimension %(dim)s"),
                    lazy_gettext("its dimensions: %(allowed)s")
                    if ind.dimensions
                    else lazy_gettext("it has no dimension"),
                    indicator=ind.code,
                    dim=dim,
                    allowed=", ".join(ind.dimensions),
                )
            elif code != TOTAL and code not in index.codes.get(dim, frozenset()):
                bad(
                    "dims.unknown_code",
                    f"dims.{dim}",
                    lazy_gettext("'%(given)s' is not a code of %(dim)s"),
                    lazy_gettext("use the codes of %(dim)s as the template gives them"),
                    code,
                    given=code,
                    dim=dim,
                )
        key = dim_key(ind.dimensions, obs.dims)
    value = obs.value
    if ind is not None and obs.unit is not None and obs.unit != ind.unit:
        given, wanted = index.units.get(obs.unit), index.units[ind.unit]
        if given is None:
            bad(
                "unit.unknown",
                "unit",
                lazy_gettext("unknown unit '%(unit)s'"),
                lazy_gettext("%(indicator)s is measured in %(wanted)s"),
                unit=obs.unit,
                indicator=ind.code,
                wanted=ind.unit,
            )
        elif given[0] != wanted[0]:
            bad(
                "unit.incompatible",
                "unit",
                lazy_gettext("%(unit)s cannot be converted to %(wanted)s"),
                lazy_gettext("send %(indicator)s in %(wanted)s"),
                unit=obs.unit,
                indicator=ind.code,
                wanted=ind.unit,
            )
        else:
            value = value * given[1] / wanted[1]
            if not math.isfinite(value):
                bad(
                    "value.out_of_range",
                    "value",
                    lazy_gettext("%(value)s %(unit)s is out of range in %(wanted)s"),
                    lazy_gettext("check the value and its unit"),
                    value=obs.value,
                    unit=obs.unit,
                    wanted=ind.unit,
                )
    source_id: int | None = default_source if default_source is not None else ind.owner_id if ind is not None else None
    if obs.source is not None:
        source_id = index.agencies.get(obs.source)
        if source_id is None:
            bad(
                "source.unknown",
                "source",
                lazy_gettext("unknown agency '%(agency)s'"),
                lazy_gettext("leave the source empty (it is your agency), or use an agency code of the catalogue"),
                agency=obs.source,
            )
    if problems or ind is None or area is None or period is None:
        return None, problems
    return ValidRow(
        indicator_id=ind.id,
        area_id=area.id,
        period=str(period),
        period_start=period.start,
        dim_key=key,
        value=value,
        status=obs.status.value,
        source_agency_id=source_id,
        row=number,
    ), []


def _period_problem(exc: PeriodError, text: str, ind: IndicatorInfo | None, row: int) -> Problem:
    """A period that cannot be read, or not in the indicator's frequency; the API keeps the period's own words."""
    try:
        Period.parse(text)
    except PeriodError:
        code = "period.invalid"
        template = lazy_gettext("'%(period)s' is not a period")
        hint: str = lazy_gettext("write periods as 2025-07 (a month), 2025-Q3 (a quarter) or 2025 (a year)")
    else:
        code = "period.wrong_frequency"
        template = lazy_gettext("'%(period)s' is not a period of this indicator")
        hint = lazy_gettext("this indicator is reported by periods such as %(example)s")
    example = ind.periodicity.example if ind is not None else ""
    return Problem(
        message=exc.message,
        row=row,
        field="period",
        hint=exc.hint,
        value=text,
        code=code,
        template=template,
        hint_template=hint,
        params={"period": text, "example": example},
    )
