"""Scorecards on the four dimensions of the WHO Data Quality Review, per agency, indicator group or province.

- completeness: the reporting rate of the period's expected reports (from `govops.reporting.service`), >= 90%;
- timeliness: the share of them received on time (the same), >= 90%;
- internal consistency: the share of the period's values with no open flag of a detector (outliers against their
  season, slips, frozen runs, level shifts), >= 95%;
- external consistency: the share of the period's values with no open flag of a validation rule (the provinces'
  sum against the national figure, components against their total), >= 90%;
- consistency over time: the share of the period's values within a third (+-33%) of the mean of the same period in
  the three years before (the WHO's default), >= 90%;
- related indicators: for each pair of indicators a validation rule sets side by side (`EMPLOYED <= LABOUR_FORCE`),
  the share of the provinces whose ratio of the two is within a tenth (+-10%, the WHO's default) of the national
  ratio (the nation's stored figures, or else the provinces' sums), >= 90%;
- denominators: the share of the period's values of an indicator others are weighted by (population, labour force)
  within a tenth of the same period a year earlier (of the area and the units merged into it since), >= 90%;
- source agreement: the share of the period's values stored both by the indicator's owner (the statistics office)
  and by another agency (a province's own report) on which the two agree within a tenth, >= 90%.

A score is 0-100, None where the dimension does not apply (a group has no reports of its own); the card's score is
the mean of its dimensions. The trend compares with the period before. Values and flags are counted on the
period's days, whatever their frequency (a year counts its months and quarters).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, Area, Indicator, IndicatorGroup, indicator_group_member
from govops.errors import GovopsError, lazy_gettext
from govops.periods import Freq, Period, PeriodError
from govops.quality.models import QualityFlag, QualityRule
from govops.quality.schemas import Dimension, Scorecard, Scorecards
from govops.reporting import service as reporting
from govops.warehouse.areas import AreaTree
from govops.warehouse.models import Observation, ObservationRevision

THRESHOLDS = {
    "completeness": 90.0,
    "timeliness": 90.0,
    "internal_consistency": 95.0,
    "external_consistency": 90.0,
    "consistency_over_time": 90.0,
    "related_indicators": 90.0,
    "denominators": 90.0,
    "source_agreement": 90.0,
}
OVER_TIME_SHARE = 1 / 3  # +-33% of the mean of the three years before
OVER_TIME_YEARS = 3
RELATED_SHARE = 0.10  # +-10% of the national ratio
DENOMINATOR_SHARE = 0.10  # +-10% of a year earlier
AGREEMENT_SHARE = 0.10  # +-10% of the owner's figure
# The dimensions counted from comparisons of values (judged, and how many were within their bounds).
COMPARED = ("consistency_over_time", "related_indicators", "denominators", "source_agreement")
KINDS = ("agency", "group", "province")


def default_period(today: date | None = None) -> Period:
    """The last whole month."""
    return Period.from_date(today or date.today(), Freq.M).previous()


def _period(text: str | None) -> Period:
    if not text:
        return default_period()
    try:
        return Period.parse(text)
    except PeriodError:
        raise GovopsError.of(
            "invalid_period",
            lazy_gettext("%(period)s is not a period"),
            lazy_gettext("write a month, a quarter or a year: 2025-07, 2025-Q3, 2025"),
            where="period",
            period=text[:40],
        ) from None


@dataclass(frozen=True)
class _Counts:
    values: Mapping[int, int]
    detector_flags: Mapping[int, int]
    rule_flags: Mapping[int, int]
    reports: Mapping[str, tuple[float | None, float | None]]  # by agency code
    compared: Mapping[str, Mapping[int, tuple[int, int]]]  # by dimension, then key: (judged, within bounds)


def _counted(session: Session, kind: str, period: Period, keys: Iterable[int] | None) -> _Counts:
    start, end = period.start, period.end
    o, f = Observation, QualityFlag
    if kind == "group":
        member = indicator_group_member
        values_stmt: Any = (
            select(member.c.group_id, func.count())
            .join(o, o.indicator_id == member.c.indicator_id)
            .where(*_in_period(session, period))
            .group_by(member.c.group_id)
        )
        flags_stmt = (
            select(member.c.group_id, f.method, func.count())
            .join(f, f.indicator_id == member.c.indicator_id)
            .where(f.status == "open", f.period_start >= start, f.period_start <= end)
            .group_by(member.c.group_id, f.method)
        )
    else:
        value_key = o.area_id if kind == "province" else o.source_agency_id
        flag_key = f.area_id if kind == "province" else f.source_agency_id
        in_period = _in_period(session, period)
        values_stmt = select(value_key, func.count()).where(*in_period, value_key.is_not(None)).group_by(value_key)
        flags_stmt = (
            select(flag_key, f.method, func.count())
            .where(f.status == "open", f.period_start >= start, f.period_start <= end, flag_key.is_not(None))
            .group_by(flag_key, f.method)
        )
    values = {int(k): int(n) for k, n in session.execute(values_stmt) if k is not None}
    detector: dict[int, int] = defaultdict(int)
    rules: dict[int, int] = defaultdict(int)
    for k, method, n in session.execute(flags_stmt):
        (rules if method == "rule" else detector)[int(k)] += int(n)
    reports: dict[str, tuple[float | None, float | None]] = {}
    if kind != "group":
        for rates in reporting.rates(session=session, where=reporting.Filter(period=str(period))):
            reports[rates.agency] = (rates.REPORTING_RATE, rates.REPORTING_RATE_ON_TIME)
    if keys is not None:
        wanted = set(keys)
        values = {k: v for k, v in values.items() if k in wanted}
    groups: dict[int, list[int]] = defaultdict(list)  # indicator -> its groups
    if kind == "group":
        member = indicator_group_member
        for group_id, indicator_id in session.execute(select(member.c.group_id, member.c.indicator_id)):
            groups[int(indicator_id)].append(int(group_id))
    compared = {name: _tally(kind, items, groups) for name, items in _compared(session, period).items()}
    return _Counts(values, detector, rules, reports, compared)


def _share(values: int, flagged: int) -> float | None:
    return round(100.0 * (1 - min(flagged, values) / values), 1) if values else None


def _dimensions(key: int, now: _Counts, before: _Counts, report_key: str | None) -> list[Dimension]:
    def scores(counts: _Counts) -> dict[str, float | None]:
        rates = counts.reports.get(report_key) if report_key is not None else None
        n = counts.values.get(key, 0)
        out = {
            "completeness": rates[0] if rates else None,
            "timeliness": rates[1] if rates else None,
            "internal_consistency": _share(n, counts.detector_flags.get(key, 0)),
            "external_consistency": _share(n, counts.rule_flags.get(key, 0)),
        }
        for name in COMPARED:
            judged, within = counts.compared[name].get(key, (0, 0))
            out[name] = _share(judged, judged - within)
        return out

    current, previous = scores(now), scores(before)
    out = []
    for name, threshold in THRESHOLDS.items():
        score, earlier = current[name], previous[name]
        trend = None
        if score is not None and earlier is not None:
            trend = "up" if score > earlier else "down" if score < earlier else "same"
        detail: dict[str, object] = {}
        if name in ("internal_consistency", "external_consistency"):
            flagged = (now.detector_flags if name == "internal_consistency" else now.rule_flags).get(key, 0)
            detail = {"values": now.values.get(key, 0), "open_flags": flagged}
        elif name in COMPARED:
            judged, within = now.compared[name].get(key, (0, 0))
            detail = {"judged": judged, "outside": judged - within}
        out.append(
            Dimension(
                name=name,
                score=score,
                threshold=threshold,
                meets=None if score is None else score >= threshold,
                previous=earlier,
                trend=trend,
                detail=detail,
            )
        )
    return out


def scorecards(
    *, session: Session, kind: str = "agency", period: str | None = None, agency: str | None = None
) -> Scorecards:
    """The cards of every agency (group, province) with values or reports in the period, best first, ranked."""
    if kind not in KINDS:
        raise GovopsError.of(
            "invalid_kind",
            lazy_gettext("%(kind)s is not a kind of scorecard"),
            lazy_gettext("use agency, group or province"),
            where="kind",
            kind=kind[:20],
        )
    when = _period(period)
    now = _counted(session, kind, when, None)
    before = _counted(session, kind, when.previous(), None)
    names: dict[int, tuple[str, str]]
    report_keys: dict[int, str] = {}  # the agency code whose reports count for a card
    if kind == "group":
        names = {g.id: (g.code, g.name_vi) for g in session.scalars(select(IndicatorGroup))}
        keys = set(now.values)
    elif kind == "province":
        names = {a.id: (a.code, a.name_vi) for a in session.scalars(select(Area).where(Area.level == "province"))}
        keys = {k for k in now.values if k in names}
        committees = select(Agency.code, Agency.area_id).where(Agency.area_id.is_not(None))
        for code, area_id in session.execute(committees):
            if area_id in names:
                report_keys[area_id] = code
    else:
        names = {a.id: (a.code, a.name_vi) for a in session.scalars(select(Agency))}
        by_code = {code: k for k, (code, _) in names.items()}
        keys = set(now.values) | {by_code[c] for c in now.reports if c in by_code}
        report_keys = {k: names[k][0] for k in keys if k in names}
    if agency:
        wanted = {k for k, (code, _) in names.items() if code == agency}
        if not wanted:
            raise GovopsError.of(
                "not_found",
                lazy_gettext("there is no %(kind)s with the code %(wanted)s"),
                lazy_gettext("use a code of the catalogue"),
                status=404,
                where="agency",
                kind=kind,
                wanted=agency[:40],
            )
        keys = keys & wanted or wanted
    cards = []
    for key in keys:
        if key not in names:
            continue
        dims = _dimensions(key, now, before, report_keys.get(key))
        scored = [d.score for d in dims if d.score is not None]
        code, name = names[key]
        cards.append(
            Scorecard(
                key=code,
                name=name,
                kind=kind,
                period=str(when),
                score=round(sum(scored) / len(scored), 1) if scored else None,
                dimensions=dims,
                open_flags=now.detector_flags.get(key, 0) + now.rule_flags.get(key, 0),
            )
        )
    # A card with no dimension to score (an agency that owes nothing and sent nothing this period) is left out.
    cards = [c for c in cards if c.score is not None]
    cards.sort(key=lambda c: (-(c.score or 0.0), c.key))
    for rank, card in enumerate(cards, start=1):
        card.rank = rank if card.score is not None else None
    return Scorecards(period=str(when), items=cards)


# --- comparisons of values: over time, related indicators, denominators, sources ---------------------------------


@dataclass(frozen=True)
class _Judged:
    """One comparison of a value with what it should agree with, and whose it is."""

    indicator_id: int
    area_id: int
    agency_id: int | None
    within: bool


def _compared(session: Session, period: Period) -> dict[str, list[_Judged]]:
    return {
        "consistency_over_time": _over_time(session, period),
        "related_indicators": _related(session, period),
        "denominators": _denominators(session, period),
        "source_agreement": _agreement(session, period),
    }


def _tally(kind: str, items: Iterable[_Judged], groups: Mapping[int, list[int]]) -> dict[int, tuple[int, int]]:
    """(judged, within) per card key: the value's agency, its area, or each group of its indicator."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        if kind == "group":
            keys: Iterable[int | None] = groups.get(item.indicator_id, ())
        else:
            keys = (item.area_id if kind == "province" else item.agency_id,)
        for key in keys:
            if key is not None:
                out[key][0] += 1
                out[key][1] += int(item.within)
    return {k: (n, ok) for k, (n, ok) in out.items()}


def _in_period(session: Session, period: Period) -> list[Any]:
    """The conditions of an observation in the period, written so that the store reads them by its index of
    (indicator, period start) rather than every row: every indicator, then the period's days."""
    o = Observation
    every = list(session.scalars(select(Indicator.id)))
    return [o.indicator_id.in_(every), o.period_start >= period.start, o.period_start <= period.end]


def _within(value: float, reference: float, share: float) -> bool | None:
    """Whether `value` is within `share` of `reference`; None when the reference is not positive (no ratio)."""
    if reference <= 0:
        return None
    return abs(value / reference - 1) <= share + 1e-12


def _years_before(label: str, years: int) -> list[str]:
    """The same period 1..`years` years earlier, as labels (none for a period that has no such thing)."""
    out = []
    try:
        current = Period.parse(label)
        for _ in range(years):
            current = current.same_period_last_year()
            out.append(str(current))
    except PeriodError:
        return []
    return out


def _over_time(session: Session, period: Period) -> list[_Judged]:
    o = Observation
    rows = session.execute(
        select(o.indicator_id, o.area_id, o.dim_key, o.period, o.value, o.source_agency_id).where(
            *_in_period(session, period)
        )
    ).all()
    earlier = {label: _years_before(label, OVER_TIME_YEARS) for label in {r.period for r in rows}}
    wanted = sorted({e for labels in earlier.values() for e in labels})
    history: dict[tuple[int, int, str, str], float] = {}
    if wanted:
        starts = sorted({Period.parse(label).start for label in wanted})
        indicators = sorted({r.indicator_id for r in rows})
        stmt = select(o.indicator_id, o.area_id, o.dim_key, o.period, o.value).where(
            o.indicator_id.in_(indicators), o.period_start.in_(starts), o.period.in_(wanted)
        )
        history = {(i, a, d, p): v for i, a, d, p, v in session.execute(stmt)}
    out = []
    for r in rows:
        before = [history.get((r.indicator_id, r.area_id, r.dim_key, label)) for label in earlier[r.period]]
        known = [v for v in before if v is not None]
        if len(known) < OVER_TIME_YEARS:
            continue
        within = _within(r.value, sum(known) / len(known), OVER_TIME_SHARE)
        if within is not None:
            out.append(_Judged(r.indicator_id, r.area_id, r.source_agency_id, within))
    return out


def _bare_code(text: str) -> str | None:
    code = text.strip()
    return code if code and code.replace("_", "").isalnum() and code.upper() == code and code[0].isalpha() else None


def _related(session: Session, period: Period) -> list[_Judged]:

    ids = {code: i for i, code in session.execute(select(Indicator.id, Indicator.code))}
    pairs = set()
    for left, right in session.execute(select(QualityRule.left, QualityRule.right).where(QualityRule.active)):
        top_code, bottom_code = _bare_code(left), _bare_code(right)
        if top_code in ids and bottom_code in ids and top_code != bottom_code:
            pairs.add((ids[top_code], ids[bottom_code]))
    if not pairs:
        return []
    levels: dict[int, str] = {area_id: level for area_id, level in session.execute(select(Area.id, Area.level))}
    o = Observation
    wanted = {i for pair in pairs for i in pair}
    rows = session.execute(
        select(o.indicator_id, o.area_id, o.period, o.value, o.source_agency_id).where(
            o.period_start >= period.start, o.period_start <= period.end, o.dim_key == "", o.indicator_id.in_(wanted)
        )
    ).all()
    values = {(r.indicator_id, r.area_id, r.period): r for r in rows}
    out = []
    for a, b in sorted(pairs):
        for label in sorted({r.period for r in rows if r.indicator_id == a}):
            provinces = [
                (values[(a, area, label)], values[(b, area, label)].value)
                for area, level in levels.items()
                if level == "province" and (a, area, label) in values and (b, area, label) in values
            ]
            provinces = [(top, bottom) for top, bottom in provinces if bottom > 0]
            nation = [
                (values[(a, area, label)].value, values[(b, area, label)].value)
                for area, level in levels.items()
                if level == "nation" and (a, area, label) in values and (b, area, label) in values
            ]
            if nation and nation[0][1] > 0:
                ratio = nation[0][0] / nation[0][1]
            elif provinces:
                ratio = sum(top.value for top, _ in provinces) / sum(bottom for _, bottom in provinces)
            else:
                continue
            for top, bottom in provinces:
                within = _within(top.value / bottom, ratio, RELATED_SHARE)
                if within is not None:
                    out.append(_Judged(a, top.area_id, top.source_agency_id, within))
    return out


def _denominators(session: Session, period: Period) -> list[_Judged]:

    weights = set(session.scalars(select(Indicator.area_weight_id).where(Indicator.area_weight_id.is_not(None))))
    if not weights:
        return []
    o = Observation
    rows = session.execute(
        select(o.indicator_id, o.area_id, o.period, o.value, o.source_agency_id).where(
            o.period_start >= period.start, o.period_start <= period.end, o.dim_key == "", o.indicator_id.in_(weights)
        )
    ).all()
    earlier = {label: _years_before(label, 1) for label in {r.period for r in rows}}
    wanted = sorted({e for labels in earlier.values() for e in labels})
    if not wanted:
        return []
    history = {
        (i, a, p): v
        for i, a, p, v in session.execute(
            select(o.indicator_id, o.area_id, o.period, o.value).where(
                o.dim_key == "", o.indicator_id.in_(weights), o.period.in_(wanted)
            )
        )
    }
    tree = AreaTree.cached(session)
    out = []
    for r in rows:
        if not earlier[r.period]:
            continue
        label = earlier[r.period][0]
        start = Period.parse(label).start
        # The area as it was a year earlier: itself and the units merged into it since.
        merged = [
            p
            for p in tree.predecessors.get(r.area_id, ())
            if (node := tree.nodes.get(p)) is not None and (node.valid_to is None or node.valid_to >= start)
        ]
        before = [history.get((r.indicator_id, area, label)) for area in (r.area_id, *merged)]
        known = [v for v in before if v is not None]
        if not known:
            continue
        within = _within(r.value, sum(known), DENOMINATOR_SHARE)
        if within is not None:
            out.append(_Judged(r.indicator_id, r.area_id, r.source_agency_id, within))
    return out


def _agreement(session: Session, period: Period) -> list[_Judged]:

    o, r, i = Observation, ObservationRevision, Indicator
    stmt = (
        select(o.id, o.indicator_id, o.area_id, i.owner_id, r.source_agency_id, r.version, r.value)
        .join(r, r.observation_id == o.id)
        .join(i, i.id == o.indicator_id)
        .where(*_in_period(session, period), r.source_agency_id.is_not(None))
    )
    latest: dict[int, dict[int, tuple[int, float]]] = defaultdict(dict)  # observation -> source -> (version, value)
    facts: dict[int, tuple[int, int, int]] = {}
    for obs_id, indicator_id, area_id, owner_id, source, version, value in session.execute(stmt):
        if source is None:
            continue
        facts[obs_id] = (indicator_id, area_id, owner_id)
        kept = latest[obs_id].get(source)
        if kept is None or version > kept[0]:
            latest[obs_id][source] = (version, value)
    out = []
    for obs_id, by_source in latest.items():
        indicator_id, area_id, owner_id = facts[obs_id]
        if owner_id not in by_source or len(by_source) < 2:
            continue
        official = by_source[owner_id][1]
        for source, (_, value) in by_source.items():
            if source == owner_id:
                continue
            within = abs(value - official) <= AGREEMENT_SHARE * abs(official) + 1e-12
            out.append(_Judged(indicator_id, area_id, source, within))
    return out
