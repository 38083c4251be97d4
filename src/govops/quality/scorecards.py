"""Scorecards on the four dimensions of the WHO Data Quality Review, per agency, indicator group or province.

- completeness: the reporting rate of the period's expected reports (from `govops.reporting.service`), >= 90%;
- timeliness: the share of them received on time (the same), >= 90%;
- internal consistency: the share of the period's values with no open flag of a detector (outliers against their
  season, slips, frozen runs, level shifts), >= 95%;
- external consistency: the share of the period's values with no open flag of a validation rule (the provinces'
  sum against the national figure, components against their total, one source against another), >= 90%.

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

from govops.catalog.models import Agency, Area, IndicatorGroup, indicator_group_member
from govops.errors import GovopsError, lazy_gettext
from govops.periods import Freq, Period, PeriodError
from govops.quality.models import QualityFlag
from govops.quality.schemas import Dimension, Scorecard, Scorecards
from govops.reporting import service as reporting
from govops.warehouse.models import Observation

THRESHOLDS = {"completeness": 90.0, "timeliness": 90.0, "internal_consistency": 95.0, "external_consistency": 90.0}
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


def _counted(session: Session, kind: str, period: Period, keys: Iterable[int] | None) -> _Counts:
    start, end = period.start, period.end
    o, f = Observation, QualityFlag
    if kind == "group":
        member = indicator_group_member
        values_stmt: Any = (
            select(member.c.group_id, func.count())
            .join(o, o.indicator_id == member.c.indicator_id)
            .where(o.period_start >= start, o.period_start <= end)
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
        values_stmt = (
            select(value_key, func.count())
            .where(o.period_start >= start, o.period_start <= end, value_key.is_not(None))
            .group_by(value_key)
        )
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
    return _Counts(values, detector, rules, reports)


def _share(values: int, flagged: int) -> float | None:
    return round(100.0 * (1 - min(flagged, values) / values), 1) if values else None


def _dimensions(key: int, now: _Counts, before: _Counts, report_key: str | None) -> list[Dimension]:
    def scores(counts: _Counts) -> dict[str, float | None]:
        rates = counts.reports.get(report_key) if report_key is not None else None
        n = counts.values.get(key, 0)
        return {
            "completeness": rates[0] if rates else None,
            "timeliness": rates[1] if rates else None,
            "internal_consistency": _share(n, counts.detector_flags.get(key, 0)),
            "external_consistency": _share(n, counts.rule_flags.get(key, 0)),
        }

    current, previous = scores(now), scores(before)
    out = []
    for name, threshold in THRESHOLDS.items():
        score, earlier = current[name], previous[name]
        trend = None
        if score is not None and earlier is not None:
            trend = "up" if score > earlier else "down" if score < earlier else "same"
        detail: dict[str, object] = {}
        if name.endswith("consistency"):
            flagged = (now.detector_flags if name == "internal_consistency" else now.rule_flags).get(key, 0)
            detail = {"values": now.values.get(key, 0), "open_flags": flagged}
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
