"""The demo's reporting regimes and a deterministic, believable mix of on-time, late, partial and missing reports
over the last 12 periods (every regime labelled demo; see regimes.yaml for the legal bases cited).

The plan decides, for each regime x agency x period, an outcome and an arrival time from a hash of their codes
(and a per-agency habit: a few provinces are chronically late). Before the demo data is written, `withheld`
keeps back the values of reports planned partial or missing (and of reports not sent yet); afterwards
`load_reporting_demo` dates each remaining value's first revision at its planned arrival, files the ministries'
signed documents, and computes every expected report.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.db.base import utcnow
from govops.periods import Freq, Period
from govops.reporting import service
from govops.reporting.models import ExpectedReport
from govops.reporting.rules import parse_rule
from govops.warehouse.models import Observation, ObservationRevision

PERIODS = 12
DEMO_UPLOADER = "demo"
# Provinces the demo's signed-in officer and the tests look at: never a gap in their data.
ALWAYS_SENT = ("PC-01", "PC-79")
# A one-page PDF, labelled as the demo's placeholder for a signed report.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"% DEMO: placeholder for a signed report\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _unit(*parts: str) -> float:
    return zlib.crc32("|".join(parts).encode()) / 2**32


@dataclass(frozen=True)
class Outcome:
    kind: str  # on_time, late, partial, missing
    days: int  # days before (on_time) or after (late) the deadline


def outcome(regime: str, agency: str, period: str) -> Outcome:
    """What the demo says became of a report: most on time, some late, a few partial or missing."""
    u, habit = _unit(regime, agency, period), _unit("habit", agency)
    lagging = habit < 0.18
    on_time, late, partial = (0.45, 0.78, 0.88) if lagging else (0.82, 0.93, 0.965)
    days = 1 + int(_unit("days", regime, agency, period) * (12 if lagging else 6))
    if u < on_time:
        return Outcome("on_time", days - 1)
    if u < late or agency in ALWAYS_SENT:
        return Outcome("late", days)
    return Outcome("partial" if u < partial else "missing", 0)


class Plan:
    """The regimes of regimes.yaml for the 12 periods up to `end_month`, and what became of each report."""

    def __init__(self, end_month: str, provinces: dict[str, str], now: datetime | None = None) -> None:
        """`provinces`: each provincial committee's area code and agency code ("79" -> "PC-79")."""
        self.now = now or utcnow()
        self.provinces = provinces
        end = Period(end_month)
        self.first = {
            "first_month": str(end - (PERIODS - 1)),
            "first_quarter": str(end.to_freq(Freq.Q) - (PERIODS - 1)),
            "first_year": str(max(Period("2015"), end.to_freq(Freq.A) - (PERIODS - 1))),
        }
        text = files("govops.demo").joinpath("regimes.yaml").read_text(encoding="utf-8")
        for key, value in self.first.items():
            text = text.replace("{" + key + "}", value)
        self.text = text
        import yaml

        self.regimes: list[dict[str, Any]] = yaml.safe_load(text)["regimes"]
        # Provinces' own-area regimes, by indicator: the cells `withheld` may keep back.
        self.own_area: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for regime in self.regimes:
            version = regime["versions"][0]
            if version["reporters"].get("coverage") == "own_area":
                for indicator in version["indicators"]:
                    self.own_area.setdefault(indicator, []).append((regime["code"], version))

    def arrival(self, regime: str, agency: str, period: Period, version: dict[str, Any]) -> datetime | None:
        """When the report arrived, None if it has not (missing, or not sent yet)."""
        planned = outcome(regime, agency, str(period))
        if planned.kind == "missing":
            return None
        deadline = parse_rule(str(version["deadline"])).moment(period)
        hour = timedelta(hours=1 + int(_unit("hour", regime, agency, str(period)) * 8))
        if planned.kind == "late":
            at = deadline + timedelta(days=planned.days + int(version.get("grace_days", 0))) - hour
        else:
            at = deadline - timedelta(days=planned.days) - hour
        return at if at <= self.now else None

    def withheld(self, indicator: str, area: str, period: str) -> bool:
        """Whether the demo keeps back this value: its report is missing, partial (its first indicator) or not
        sent yet."""
        agency = self.provinces.get(area)
        if agency is None:
            return False
        for regime, version in self.own_area.get(indicator, ()):
            start = Period(str(version["from"]))
            p = Period(period)
            if p.freq != start.freq or p < start:
                continue
            kind = outcome(regime, agency, period).kind
            if self.arrival(regime, agency, p, version) is None:
                return True
            if kind == "partial" and indicator == version["indicators"][0]:
                return True
        return False


def load_reporting_demo(*, session: Session, plan: Plan) -> dict[str, int]:
    """Import the demo regimes, date the arrivals, file the documents and compute every expected report."""
    service.import_regimes(session=session, text=plan.text, where="demo regimes", now=plan.now)
    dated = _date_arrivals(session, plan)
    service.ensure_expected(session=session, now=plan.now)
    documents = 0
    for regime in plan.regimes:
        version = regime["versions"][0]
        if not version.get("requires_document"):
            continue
        rows = service.compliance(session=session, where=service.Filter(regime=regime["code"]), limit=1000).items
        for row in rows:
            at = plan.arrival(regime["code"], row.agency, Period(row.period), version)
            if at is None:
                continue
            report = service.expected_for(session=session, regime=regime["code"], agency=row.agency, period=row.period)
            service.attach_document(
                session=session, report=report, filename=f"demo-{row.agency}-{row.period}.pdf", content=DEMO_PDF,
                uploaded_by=DEMO_UPLOADER, now=at,
            )  # fmt: skip
            documents += 1
    service.recompute(session=session, now=plan.now, announce=False)
    service.follow_changes(session=session, now=plan.now)  # the follower starts after the demo's own writes
    total = session.scalar(select(func.count()).select_from(ExpectedReport)) or 0
    return {"values dated": dated, "documents": documents, "statuses": total}


def _date_arrivals(session: Session, plan: Plan) -> int:
    """Each regime value's first revision recorded at its report's planned arrival (the demo's made-up history)."""
    codes = {code: i for code, i in session.execute(select(Indicator.code, Indicator.id))}
    areas = {
        i: plan.provinces[code]
        for i, code in session.execute(select(Area.id, Area.code).where(Area.level == "province"))
        if code in plan.provinces
    }
    updates: list[dict[str, Any]] = []
    for indicator, regimes in plan.own_area.items():
        for regime, version in regimes:
            start = Period(str(version["from"]))
            periods = [str(start + i) for i in range(PERIODS)]
            o, r = Observation, ObservationRevision
            rows = session.execute(
                select(r.id, o.area_id, o.period)
                .join(o, o.id == r.observation_id)
                .where(o.indicator_id == codes[indicator], o.period.in_(periods), o.dim_key == "", r.version == 1,
                       o.area_id.in_(list(areas)))
            ).all()  # fmt: skip
            for revision_id, area_id, period in rows:
                at = plan.arrival(regime, areas[area_id], Period(period), version)
                if at is not None:
                    updates.append({"id": revision_id, "recorded_at": at})
    # Regimes of the nation's or every province's figures (the ministries'): their data came from the statistics
    # and finance systems a few days before each deadline.
    for entry in plan.regimes:
        spec: dict[str, Any] = entry["versions"][0]
        if spec["reporters"].get("coverage") == "own_area":
            continue
        first = Period(str(spec["from"]))
        deadline_rule = parse_rule(str(spec["deadline"]))
        for i in range(PERIODS):
            due = first + i
            early = timedelta(days=1 + int(_unit(entry["code"], str(due)) * 5), hours=3)
            at = deadline_rule.moment(due) - early
            if at > plan.now:
                continue
            o, r = Observation, ObservationRevision
            ids = session.scalars(
                select(r.id)
                .join(o, o.id == r.observation_id)
                .where(
                    o.indicator_id.in_([codes[c] for c in spec["indicators"]]),
                    o.period == str(due),
                    o.dim_key == "",
                    r.version == 1,
                )
            ).all()
            updates += [{"id": revision_id, "recorded_at": at} for revision_id in ids]
    if updates:
        session.execute(update(ObservationRevision), updates)
    return len(updates)


def provinces(*, session: Session) -> dict[str, str]:
    """Each provincial committee's area code and agency code."""
    from govops.catalog.models import Agency

    rows = session.execute(
        select(Area.code, Agency.code)
        .join(Area, Area.id == Agency.area_id)
        .where(Agency.kind == "provincial_committee")
    )
    return {area: agency for area, agency in rows}
