"""Flags: raised on findings (each once), followed when a new value replaces a flagged one.

Used by the accept pipeline's step after a batch is written and by the store's scan, in their transactions.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.catalog.models import Agency, Area
from govops.db.base import utcnow
from govops.events.service import ReadRule, emit
from govops.notify.service import notify
from govops.quality.checks import Found
from govops.quality.facts import Facts, indicator_facts
from govops.quality.models import METHODS, SEVERITIES, QualityFlag, QualityFlagEvent, QualityRule

TOPIC = "quality"
# A batch that raises many flags on one agency tells its officers of the first few; the inbox is not a log.
NOTIFY_AT_MOST = 5


def fingerprint(found: Found) -> str:
    """What makes a flag the same flag: what found it, where, and the value (a new value is a new flag)."""
    text = (
        f"{found.method}|{found.rule_id or ''}|{found.indicator_id}|{found.area_id}|{found.dim_key}|"
        f"{found.period}|{found.value!r}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Names:
    """Codes and names the flags' outputs need, read once."""

    indicators: Mapping[int, Facts]
    areas: Mapping[int, tuple[str, str]]
    agencies: Mapping[int, str]
    rules: Mapping[int, str]

    @classmethod
    def read(cls, session: Session, flags: Iterable[QualityFlag]) -> Names:
        flags = list(flags)
        by_id = {ind.id: ind for ind in indicator_facts(session).values()}
        area_ids = {f.area_id for f in flags}
        areas = (
            {a.id: (a.code, a.name_vi) for a in session.scalars(select(Area).where(Area.id.in_(list(area_ids))))}
            if area_ids
            else {}
        )
        agencies = dict(session.execute(select(Agency.id, Agency.code)).all())
        rule_ids = {f.rule_id for f in flags if f.rule_id is not None}
        rules = (
            dict(session.execute(select(QualityRule.id, QualityRule.code).where(QualityRule.id.in_(rule_ids))).all())
            if rule_ids
            else {}
        )
        return cls(by_id, areas, agencies, rules)


def raise_flags(
    *,
    session: Session,
    found: Sequence[Found],
    by: str,
    submission_id: str | None = None,
    now: datetime | None = None,
    demo: bool = False,
) -> list[QualityFlag]:
    """A flag for each finding not flagged before (the same check on the same value), with its timeline's first
    entry, a `quality.flag_raised` event and a notification to the source agency's data officers."""
    now = now or utcnow()
    prints = {fingerprint(f): f for f in found if f.method in METHODS}
    if not prints:
        return []
    known = set(session.scalars(select(QualityFlag.fingerprint).where(QualityFlag.fingerprint.in_(list(prints)))))
    made = []
    for key, f in prints.items():
        if key in known:
            continue
        flag = QualityFlag(
            fingerprint=key,
            indicator_id=f.indicator_id,
            area_id=f.area_id,
            period=f.period,
            period_start=f.period_start,
            dim_key=f.dim_key,
            value=f.value,
            method=f.method,
            rule_id=f.rule_id,
            severity=f.severity if f.severity in SEVERITIES else "medium",
            score=f.score,
            expected=f.expected,
            low=f.low,
            high=f.high,
            likely=f.likely,
            detail=dict(f.detail),
            source_agency_id=f.source_agency_id,
            submission_id=submission_id,
            status="open",
            disputed=False,
            raised_at=now,
            raised_by=by,
            demo=demo,
        )
        session.add(flag)
        made.append(flag)
    if not made:
        return []
    session.flush()
    names = Names.read(session, made)
    session.add_all(
        QualityFlagEvent(flag_id=flag.id, action="raised", at=now, by=by, agency=None, reason="", value=flag.value)
        for flag in made
    )
    officers = _officers(session, {f.source_agency_id for f in made if f.source_agency_id is not None})
    told: dict[int, int] = defaultdict(int)
    for flag in made:
        announce(session, flag, names, "quality.flag_raised", now)
        agency_id = flag.source_agency_id
        recipients = officers.get(agency_id, []) if agency_id is not None else []
        if recipients and told[agency_id or 0] < NOTIFY_AT_MOST:
            told[agency_id or 0] += 1
            notify(
                session=session,
                recipients=recipients,
                kind="value_flagged",
                params={
                    "indicator": names.indicators[flag.indicator_id].code,
                    "area": names.areas[flag.area_id][1],
                    "period": flag.period,
                    "rule": names.rules.get(flag.rule_id or 0, flag.method),
                },
                link=f"/quality/flags/{flag.id}",
                now=now,
            )
    session.flush()
    return made


def _officers(session: Session, agency_ids: set[int]) -> dict[int, list[int]]:
    if not agency_ids:
        return {}
    out: dict[int, list[int]] = defaultdict(list)
    for user_id, agency_id in session.execute(
        select(User.id, User.agency_id).where(
            User.role == "data_officer", User.active.is_(True), User.agency_id.in_(list(agency_ids))
        )
    ):
        out[agency_id].append(user_id)
    return out


def announce(session: Session, flag: QualityFlag, names: Names, kind: str, now: datetime) -> None:
    ind = names.indicators[flag.indicator_id]
    area = names.areas[flag.area_id][0]
    emit(
        session=session,
        topic=TOPIC,
        type=kind,
        subject=f"{ind.code}/{area}/{flag.period}",
        payload={
            "flag": flag.id,
            "indicator": ind.code,
            "area": area,
            "period": flag.period,
            "dims": flag.dim_key,
            "value": flag.value,
            "method": flag.method,
            "rule": names.rules.get(flag.rule_id or 0),
            "severity": flag.severity,
            "status": flag.status,
            "agency": names.agencies.get(flag.source_agency_id or 0),
        },
        rule=ReadRule(ind.classification, indicator=ind.code),
        now=now,
    )


def follow_corrections(
    *,
    session: Session,
    written: Iterable[tuple[int, int, str, str, float]],
    by: str,
    now: datetime | None = None,
) -> list[QualityFlag]:
    """Open flags whose value was replaced by another (indicator, area, dims, period, new value): corrected."""
    now = now or utcnow()
    wanted = {(i, a, k, p): v for i, a, k, p, v in written}
    if not wanted:
        return []
    f = QualityFlag
    candidates = session.scalars(
        select(f).where(
            f.status == "open",
            f.indicator_id.in_({i for i, _, _, _ in wanted}),
            f.area_id.in_({a for _, a, _, _ in wanted}),
            f.period.in_({p for _, _, _, p in wanted}),
        )
    ).all()
    corrected = []
    for flag in candidates:
        new = wanted.get((flag.indicator_id, flag.area_id, flag.dim_key, flag.period))
        if new is None or new == flag.value:
            continue
        flag.status, flag.resolved_at = "corrected", now
        session.add(QualityFlagEvent(flag_id=flag.id, action="corrected", at=now, by=by, reason="", value=new))
        corrected.append(flag)
    if corrected:
        session.flush()
        names = Names.read(session, corrected)
        for flag in corrected:
            announce(session, flag, names, "quality.flag_corrected", now)
    return corrected
