"""Data-quality supervision: validation rules, flags on suspicious values and their follow-up, the store's scan.

Keyword-only functions taking a session; they flush, never commit. Importing this module puts the checks into the
accept pipeline (see `govops.quality.pipeline`). Rights are checked here on a `Caller`: the agency whose data a
flag is about confirms or disputes it, the Government Office closes or dismisses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, Area, Indicator
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.paging import MAX_BIG_ID, Page, check_limit, decode_cursor, make_page
from govops.periods import Freq, Period
from govops.quality import checks, detectors
from govops.quality.checks import ScanCount
from govops.quality.expressions import different_units, frequencies, parse_expression, quantity
from govops.quality.facts import Facts, indicator_facts
from govops.quality.flags import Names, announce, raise_flags
from govops.quality.models import METHODS, SEVERITIES, STATUSES, QualityFlag, QualityFlagEvent, QualityRule
from govops.quality.schemas import FlagEventOut, FlagOut, RuleIn, RuleOut, RuleSet
from govops.warehouse.models import Observation

GOVERNMENT_OFFICE = "government_office"
SCAN_MONTHS = 24  # the scan judges the values of the last two years (against all their history)


# --- rules ---------------------------------------------------------------------------------------------------------


def check_rule(indicators: Mapping[str, Facts], data: RuleIn, *, where: str | None = None) -> str:
    """The frequency of the values a rule reads; GovopsError if a side does not parse, names an unknown indicator,
    compares different units or mixes frequencies."""

    def at(side: str) -> str:
        return side if where is None else f"{where}.{side}"

    sides = {}
    for side, text in (("left", data.left), ("right", data.right)):
        try:
            expression = parse_expression(text, side=side)
            measured = quantity(expression, indicators, side=side)
        except GovopsError as error:
            error.where = at(side)
            raise
        sides[side] = (expression, measured)
    (left, left_q), (right, right_q) = sides["left"], sides["right"]
    pair = data.operator in ("compulsory_pair", "exclusive_pair")
    if not pair and left_q is not None and right_q is not None and left_q != right_q:
        refused = different_units("right", left_q, right_q)
        refused.where = at("right")
        raise refused
    found = frequencies(left, indicators) | frequencies(right, indicators)
    if len(found) != 1:
        raise GovopsError.of(
            "mixed_frequencies",
            lazy_gettext("the rule %(rule)s reads values of different frequencies (%(found)s)"),
            lazy_gettext("compare indicators of one frequency: monthly with monthly, quarterly with quarterly"),
            where=at("right"),
            rule=data.code,
            found=", ".join(sorted(found)) or "-",
        )
    return found.pop()


def save_rules(
    *, session: Session, rules: Sequence[RuleIn], by: str, demo: bool = False, where: str | None = None
) -> list[QualityRule]:
    """Create or update rules by code, all or none: every rule is checked before any is written."""
    indicators = indicator_facts(session)
    seen: set[str] = set()
    checked = []
    for number, data in enumerate(rules, start=1):
        place = f"{where or 'rules'}[{number}] {data.code}"
        if data.code in seen:
            raise GovopsError.of(
                "duplicate_rule",
                lazy_gettext("the rule %(rule)s is given twice"),
                lazy_gettext("give each rule a code of its own"),
                where=place,
                rule=data.code,
            )
        seen.add(data.code)
        checked.append((data, check_rule(indicators, data, where=place)))
    existing = {r.code: r for r in session.scalars(select(QualityRule).where(QualityRule.code.in_(list(seen))))}
    now = utcnow()
    out = []
    for data, periodicity in checked:
        rule = existing.get(data.code) or QualityRule(code=data.code, demo=demo)
        for name, value in data.model_dump().items():
            setattr(rule, name, value)
        rule.left, rule.right = data.left.strip(), data.right.strip()
        rule.periodicity = periodicity
        rule.updated_at, rule.updated_by = now, by
        session.add(rule)
        out.append(rule)
    session.flush()
    return out


def list_rules(*, session: Session) -> list[QualityRule]:
    return list(session.scalars(select(QualityRule).order_by(QualityRule.code)))


def rules_page(*, session: Session, cursor: str | None = None, limit: int = 50) -> Page[RuleOut]:
    check_limit(limit)
    after = decode_cursor(cursor) if cursor else 0
    rows = session.scalars(
        select(QualityRule).where(QualityRule.id > after).order_by(QualityRule.id).limit(limit + 1)
    ).all()
    return make_page(rows, limit=limit, key=lambda r: r.id, out=rule_out)


def require_government_office(who: Caller) -> None:
    if not who.government_office:
        raise GovopsError.of(
            "forbidden",
            lazy_gettext("only the Government Office sets the quality rules; you act for %(agency)s"),
            lazy_gettext("ask the Government Office"),
            status=403,
            agency=who.agency_code,
        )


def get_rule(*, session: Session, code: str) -> QualityRule:
    found = session.scalar(select(QualityRule).where(QualityRule.code == code))
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no quality rule '%(rule)s'"),
            lazy_gettext("choose a rule from the list of quality rules"),
            status=404,
            rule=code,
        )
    return found


def rule_out(rule: QualityRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        code=rule.code,
        name_vi=rule.name_vi,
        name_en=rule.name_en,
        left=rule.left,
        operator=rule.operator,
        right=rule.right,
        tolerance=rule.tolerance,
        missing=rule.missing,
        importance=rule.importance,
        blocking=rule.blocking,
        area_level=rule.area_level,
        active=rule.active,
        note=rule.note,
        periodicity=rule.periodicity,
        demo=rule.demo,
        updated_at=rule.updated_at,
        updated_by=rule.updated_by,
    )


_EXPORTED = tuple(RuleIn.model_fields)


def export_rules(*, session: Session) -> str:
    """Every rule as YAML, in the shape `import_rules` reads."""
    rules = [{name: getattr(rule, name) for name in _EXPORTED} for rule in list_rules(session=session)]
    return yaml.safe_dump({"rules": rules}, allow_unicode=True, sort_keys=False, width=120)


def parse_rule_set(text: str, *, where: str) -> list[RuleIn]:
    """The rules of a YAML file (`rules:` a list); GovopsError naming the rule and field that is wrong."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise GovopsError.of(
            "invalid_yaml",
            lazy_gettext("the file cannot be read as YAML (line %(line)s)"),
            lazy_gettext("check the indentation and the quotes around that line"),
            where=where,
            line=mark.line + 1 if mark is not None else "?",
        ) from None
    items = loaded.get("rules") if isinstance(loaded, dict) else None
    if not isinstance(items, list):
        raise GovopsError.of(
            "invalid_rules",
            lazy_gettext("the file holds no list of rules"),
            lazy_gettext("write the rules as a list under the key rules:"),
            where=where,
        )
    try:
        return RuleSet.model_validate({"rules": items}).rules
    except ValidationError as exc:
        first = exc.errors()[0]
        location = first["loc"]
        number = int(location[1]) + 1 if len(location) > 1 and isinstance(location[1], int) else 0
        name = str(location[2]) if len(location) > 2 else "rule"
        raise GovopsError.of(
            "invalid_rule",
            lazy_gettext("rule %(number)s: the field %(field)s is missing or not allowed"),
            lazy_gettext(
                "give code, name_vi, name_en, left, operator (==, !=, <, <=, >, >=, compulsory_pair, exclusive_pair) "
                "and right; tolerance between 0 and 1; missing skip_if_any_missing, skip_if_all_missing or "
                "never_skip; importance high, medium or low"
            ),
            where=f"{where}: rules[{number}].{name}",
            number=number,
            field=name,
        ) from None


def import_rules(*, session: Session, text: str, where: str, by: str, demo: bool = False) -> list[QualityRule]:
    return save_rules(session=session, rules=parse_rule_set(text, where=where), by=by, demo=demo, where=where)


# --- who acts on flags -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who acts on a flag: an agency, through a person (user name) or a system (member code)."""

    name: str
    agency_id: int
    agency_code: str
    government_office: bool


def caller(*, session: Session, agency_code: str, name: str) -> Caller:
    agency = session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no agency '%(agency)s'"),
            lazy_gettext("use an agency code of the catalogue"),
            status=404,
            agency=agency_code,
        )
    return Caller(name, agency.id, agency.code, agency.kind == GOVERNMENT_OFFICE)


# --- following a flag up -----------------------------------------------------------------------------------------


def not_found(flag_id: int) -> GovopsError:
    return GovopsError.of(
        "not_found",
        lazy_gettext("there is no quality flag %(flag)s"),
        lazy_gettext("list the flags with GET /api/v1/quality/flags"),
        status=404,
        flag=flag_id,
    )


def get_flag(*, session: Session, flag_id: int) -> QualityFlag:
    found = session.get(QualityFlag, flag_id) if 0 < flag_id <= MAX_BIG_ID else None
    if found is None:
        raise not_found(flag_id)
    return found


@dataclass(frozen=True)
class Drawn:
    """A flagged value's series as a chart draws it: [period, value] points, and the band the check that fired
    expected each value in (none for a check that judges no band: a rule, a frozen run, a revision, a negative)."""

    values: list[list[Any]]
    low: list[list[Any]]
    high: list[list[Any]]


DRAWN_PERIODS = 60
# The checks that judge a value against a band of expected values (the others hold it to a rule, its own earlier
# figures or zero).
BANDED = frozenset({"outlier", "unit_slip", "sign_error", "digit_swap", "level_shift"})


def flag_series(*, session: Session, flag: QualityFlag) -> Drawn:
    """The flag's series (its frequency, up to DRAWN_PERIODS before the flagged period and 12 after) with the band
    of the check that fired, judged on the history that check read: a submission's DETECTOR_YEARS before the
    flagged period up to it, the scan's whole stored series (slips put right, level steps taken out and put back;
    for a level shift, the old level carried on). The flagged value is the one stored, or the one flagged while the
    flag is open."""
    flagged = Period.parse(flag.period)
    first, last = flagged - DRAWN_PERIODS, flagged + 12
    o = Observation
    rows = session.execute(
        select(o.period, o.value).where(
            o.indicator_id == flag.indicator_id,
            o.area_id == flag.area_id,
            o.dim_key == flag.dim_key,
            o.period_start <= last.start,
        )
    ).all()
    series = checks.Series({p: v for text, v in rows if (p := Period.parse(text)).freq is flagged.freq})
    series.values[flagged] = flag.value if flag.status == "open" else series.values.get(flagged, flag.value)
    start, values, seasons = series.laid_out()
    at = checks.Series.offset(flagged, start)
    fit, judged_from, judged_to = None, 0, values.size
    if flag.method in BANDED:
        if flag.raised_by == "submission":
            oldest = flagged.start.replace(year=flagged.start.year - checks.DETECTOR_YEARS, day=1)
            judged_from = next(i for i in range(at + 1) if (start + i).start >= oldest)
            judged_to = at + 1
        window = values[judged_from:judged_to]
        judged = detectors.judgement(
            window,
            checks.season_of(start.freq),
            at=[at - judged_from],
            seasons=None if seasons is None else seasons[judged_from:judged_to],
        )
        fit = judged.band_fit(without_step_at=at - judged_from if flag.method == "level_shift" else None)
    out = Drawn([], [], [])
    for i in range(max(0, checks.Series.offset(first, start)), values.size):
        period = str(start + i)
        value = values[i]
        out.values.append([period, None if math.isnan(value) else round(float(value), 6)])
        if fit is not None and judged_from <= i < judged_to:
            _, low, high = fit.band(i - judged_from)
            out.low.append([period, round(low, 6)])
            out.high.append([period, round(high, 6)])
    return out


def indicator_names(*, session: Session, code: str) -> tuple[str, str]:
    found = session.execute(select(Indicator.name_vi, Indicator.name_en).where(Indicator.code == code)).one()
    return found[0], found[1]


def resolve(
    *, session: Session, flag_id: int, action: str, reason: str, who: Caller, now: datetime | None = None
) -> QualityFlag:
    """The source agency confirms the value (with a reason) or disputes the check; the Government Office closes a
    flag answered, or dismisses one that was wrong. A closed flag takes no more answers."""
    now = now or utcnow()
    flag = get_flag(session=session, flag_id=flag_id)
    if flag.closed_at is not None:
        raise GovopsError.of(
            "flag_closed",
            lazy_gettext("the flag %(flag)s was closed on %(closed)s; it takes no more answers"),
            lazy_gettext("if the value is still wrong, send a corrected value: it is checked again"),
            status=409,
            flag=flag.id,
            closed=flag.closed_at.date().isoformat(),
        )
    reason = reason.strip()
    if action in ("confirm", "dispute"):
        if who.agency_id != flag.source_agency_id:
            agencies = Names.read(session, [flag]).agencies
            raise GovopsError.of(
                "forbidden",
                lazy_gettext("the flag %(flag)s is on data of %(owner)s; %(agency)s may not answer it"),
                lazy_gettext("only the agency that sent the value confirms or disputes its flag"),
                status=403,
                flag=flag.id,
                owner=agencies.get(flag.source_agency_id or 0, "-"),
                agency=who.agency_code,
            )
        if not reason:
            raise GovopsError.of(
                "reason_required",
                lazy_gettext("say why the value is right, or why the check is wrong"),
                lazy_gettext("write the reason: the source document, the event behind the figure"),
                where="reason",
            )
        if action == "confirm":
            if flag.status != "open":
                raise _not_open(flag)
            flag.status, flag.resolved_at = "confirmed", now
        else:
            flag.disputed = True
        flag.reason = reason
    else:
        if not who.government_office:
            raise GovopsError.of(
                "forbidden",
                lazy_gettext("only the Government Office closes or dismisses a flag; you act for %(agency)s"),
                lazy_gettext("confirm the value with its reason, or correct it by sending it again"),
                status=403,
                agency=who.agency_code,
            )
        if action == "close":
            if flag.status == "open":
                raise GovopsError.of(
                    "flag_open",
                    lazy_gettext("the agency has not answered the flag %(flag)s yet"),
                    lazy_gettext("wait for its answer, or dismiss the flag if the check was wrong"),
                    status=409,
                    flag=flag.id,
                )
        else:
            flag.status = "dismissed"
            flag.resolved_at = flag.resolved_at or now
        flag.closed_at, flag.closed_by = now, who.name
    event = {"confirm": "confirmed", "dispute": "disputed", "close": "closed", "dismiss": "dismissed"}[action]
    session.add(
        QualityFlagEvent(
            flag_id=flag.id, action=event, at=now, by=who.name, agency=who.agency_code, reason=reason, value=None
        )
    )
    session.flush()
    announce(session, flag, Names.read(session, [flag]), f"quality.flag_{event}", now)
    return flag


def _not_open(flag: QualityFlag) -> GovopsError:
    return GovopsError.of(
        "flag_answered",
        lazy_gettext("the flag %(flag)s is %(state)s already"),
        lazy_gettext("the Government Office closes it"),
        status=409,
        flag=flag.id,
        state=flag.status,
    )


def timeline(*, session: Session, flag_id: int) -> list[FlagEventOut]:
    return [
        FlagEventOut(action=e.action, at=e.at, by=e.by, agency=e.agency, reason=e.reason, value=e.value)
        for e in session.scalars(
            select(QualityFlagEvent).where(QualityFlagEvent.flag_id == flag_id).order_by(QualityFlagEvent.id)
        )
    ]


# --- listing -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagFilter:
    agency: str | None = None
    indicator: str | None = None
    area: str | None = None
    status: str | None = None
    severity: str | None = None
    method: str | None = None
    # Only flags on these indicators (those the reader may read); None: any.
    indicators: frozenset[int] | None = None

    def where(self, session: Session) -> list[ColumnElement[bool]]:
        f = QualityFlag
        out: list[ColumnElement[bool]] = []
        if self.indicators is not None:
            out.append(f.indicator_id.in_(sorted(self.indicators)))
        if self.agency:
            agency = session.scalar(select(Agency.id).where(Agency.code == self.agency))
            out.append(f.source_agency_id == (agency if agency is not None else -1))
        if self.indicator:
            ind = session.scalar(select(Indicator.id).where(Indicator.code == self.indicator))
            out.append(f.indicator_id == (ind if ind is not None else -1))
        if self.area:
            area = session.scalar(select(Area.id).where(Area.code == self.area))
            out.append(f.area_id == (area if area is not None else -1))
        for name, allowed, column in (
            ("status", STATUSES, f.status),
            ("severity", SEVERITIES, f.severity),
            ("method", METHODS, f.method),
        ):
            value = getattr(self, name)
            if value:
                if value not in allowed:
                    raise GovopsError.of(
                        "invalid_filter",
                        lazy_gettext("%(value)s is not a %(name)s of a flag"),
                        lazy_gettext("use one of: %(allowed)s"),
                        where=name,
                        value=value,
                        name=name,
                        allowed=", ".join(allowed),
                    )
                out.append(column == value)
        return out


def list_flags(*, session: Session, where: FlagFilter, cursor: str | None = None, limit: int = 50) -> Page[FlagOut]:
    """Flags, newest first, a page at a time."""
    check_limit(limit)
    before = decode_cursor(cursor, max_id=MAX_BIG_ID) if cursor else None
    stmt = select(QualityFlag).where(*where.where(session))
    if before is not None:
        stmt = stmt.where(QualityFlag.id < before)
    rows = session.scalars(stmt.order_by(QualityFlag.id.desc()).limit(limit + 1)).all()
    names = Names.read(session, rows)
    return make_page(rows, limit=limit, key=lambda f: f.id, out=lambda f: flag_out(f, names))


def flag_out(flag: QualityFlag, names: Names) -> FlagOut:
    code, name = names.areas[flag.area_id]
    return FlagOut(
        id=flag.id,
        indicator=names.indicators[flag.indicator_id].code,
        area=code,
        area_name=name,
        period=flag.period,
        dims=flag.dim_key,
        value=flag.value,
        method=flag.method,
        rule=names.rules.get(flag.rule_id) if flag.rule_id is not None else None,
        severity=flag.severity,
        score=flag.score,
        expected=flag.expected,
        low=flag.low,
        high=flag.high,
        likely=flag.likely,
        detail=dict(flag.detail or {}),
        agency=names.agencies.get(flag.source_agency_id) if flag.source_agency_id is not None else None,
        submission=flag.submission_id,
        status=flag.status,
        disputed=flag.disputed,
        reason=flag.reason,
        raised_at=flag.raised_at,
        raised_by=flag.raised_by,
        resolved_at=flag.resolved_at,
        closed_at=flag.closed_at,
        closed_by=flag.closed_by,
        demo=flag.demo,
    )


def counts(*, session: Session, where: FlagFilter | None = None) -> dict[str, dict[str, int]]:
    """How many flags by status, and of the open ones by severity, check (method) and source agency (code)."""
    f = QualityFlag
    conditions = where.where(session) if where else []
    agencies = dict(session.execute(select(Agency.id, Agency.code)).all())
    out: dict[str, dict[str, int]] = {}
    for name, column in (("status", f.status), ("severity", f.severity), ("method", f.method)):
        still = [] if name == "status" else [f.status == "open"]
        grouped = session.execute(select(column, func.count()).where(*conditions, *still).group_by(column))
        out[name] = {str(k): int(n) for k, n in grouped}
    out["agency"] = {
        agencies.get(k, "-") if k is not None else "-": int(n)
        for k, n in session.execute(
            select(f.source_agency_id, func.count()).where(f.status == "open", *conditions).group_by(f.source_agency_id)
        )
    }
    return out


def raised_by_month(*, session: Session, months: int = 12, today: date | None = None) -> list[tuple[str, int, int]]:
    """Flags raised per month over the last `months` (month, raised, of which still open)."""
    today = today or date.today()
    first = Period.from_date(today, Freq.M) - (months - 1)
    rows = session.execute(
        select(QualityFlag.raised_at, QualityFlag.status).where(
            QualityFlag.raised_at >= datetime.combine(first.start, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
        )
    ).all()
    raised: dict[str, list[int]] = {str(first + i): [0, 0] for i in range(months)}
    for at, status in rows:
        key = f"{at.year:04d}-{at.month:02d}"
        if key in raised:
            raised[key][0] += 1
            raised[key][1] += status == "open"
    return [(month, n, open_) for month, (n, open_) in raised.items()]


# --- the scan ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    observations: int
    series: int
    found: int
    raised: int


def scan(*, session: Session, since: date | None = None, now: datetime | None = None, demo: bool = False) -> ScanResult:
    """Judge every stored series at its values since `since` (default: the last SCAN_MONTHS) and every active rule;
    raise a flag for each finding not flagged before."""
    now = now or utcnow()
    if since is None:
        start = Period.from_date(now.date(), Freq.M) - SCAN_MONTHS
        since = start.start
    count = ScanCount()
    rules = checks.active_rules(session)
    found = checks.scan_findings(session=session, since=since, rules=rules, count=count)
    made = raise_flags(session=session, found=found, by="scan", now=now, demo=demo)
    return ScanResult(count.observations, count.series, len(found), len(made))


# The checks join the accept pipeline wherever the quality domain is loaded: the app, the worker, the command.
from govops.quality import pipeline  # noqa: E402

__all__ = ["pipeline"]
