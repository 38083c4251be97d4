"""Targets entered with their cascade, refused when they cannot hold (in both languages, nothing written), and
their progress recomputed as data arrive (by the follower of the observation changes, after the submission's
commit): a month that falls short moves the probability below the threshold, which alerts on the outbox and in
the responsible agencies' inboxes, naming the province behind it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.errors import Rejected
from govops.events.models import DomainEvent
from govops.forecast import service as forecasts
from govops.i18n import problem_message
from govops.notify.models import Notification
from govops.targets import service
from govops.targets.models import Target, TargetProgress, TargetRating
from govops.targets.schemas import CascadeIn, PlanIn, TargetIn
from govops.warehouse.accept import accept

YEARS = range(2019, 2026)
SEASON = [0.7, 0.8, 1.0, 1.0, 1.0, 1.05, 1.05, 1.05, 1.05, 1.1, 1.1, 1.2]


def exports(area_base: float, year: int, month: int) -> float:
    return round(area_base * 1.08 ** (year - 2019) * SEASON[month - 1], 1)


def submit(session: Session, rows: list[tuple[str, str, float]]) -> None:
    outcome = accept(
        session=session,
        rows=[
            (n, {"indicator": "EXPORTS", "area": area, "period": period, "value": value})
            for n, (area, period, value) in enumerate(rows, start=1)
        ],
        recorded_by="test",
    )
    assert outcome.accepted, outcome.problems


@pytest.fixture
def history(session: Session) -> None:
    rows = []
    for year in YEARS:
        for month in range(1, 13):
            rows += [("01", f"{year}-{month:02d}", exports(1000, year, month))]
            rows += [("79", f"{year}-{month:02d}", exports(3000, year, month))]
    for month in range(1, 9):  # 2026 so far: on the 8% path
        rows += [("01", f"2026-{month:02d}", exports(1000, 2026, month))]
        rows += [("79", f"2026-{month:02d}", exports(3000, 2026, month))]
    submit(session, rows)
    service.create_plan(
        session=session,
        data=PlanIn(code="T-01", title_vi="Nghị quyết thử", title_en="A test resolution", issuer="Chính phủ"),
    )
    create_user(
        session=session,
        username="hcm.officer",
        password="a long enough password 1",
        full_name="Cán bộ",
        agency="PC-79",
        role="data_officer",
        email="hcm@example.org",
    )


def year_total(base: float, year: int) -> float:
    return sum(exports(base, year, m) for m in range(1, 13))


def target(**changes: object) -> TargetIn:
    national = year_total(4000, 2026)
    data = {
        "code": "EXP-2026",
        "plan": "T-01",
        "name_vi": "Kim ngạch xuất khẩu năm 2026",
        "name_en": "Exports in 2026",
        "indicator": "EXPORTS",
        "comparator": "at_least",
        "value": round(national * 0.99),
        "unit": "MN_USD",
        "period": "2026",
        "agencies": ["MOIT"],
        "cascade": [
            CascadeIn(area="01", value=round(year_total(1000, 2026) * 0.99)),
            CascadeIn(area="79", value=round(year_total(3000, 2026) * 0.99), agencies=["PC-79"]),
        ],
    }
    data.update(changes)
    return TargetIn.model_validate(data)


def test_a_target_on_the_path_is_on_track_and_its_trajectory_follows_the_season(
    session: Session, history: None
) -> None:
    [saved] = service.save_targets(session=session, items=[target()])
    row = session.get(TargetProgress, saved.id)
    assert row is not None and row.as_of == "2026-08" and row.actual_kind == "ytd"
    assert row.method == "history" and row.rating == "on_track" and row.probability is not None
    assert row.probability > 0.9
    # The trajectory follows the season: the first months' share of the year is below a straight line's.
    required = [p["required"] for p in row.path]
    assert required[-1] == saved.value
    assert required[0] < saved.value / 12 * 0.9
    assert len(service.children(session=session, target_id=saved.id)) == 2


def test_a_month_far_below_moves_the_probability_under_the_threshold_and_alerts_naming_the_province(
    session: Session, history: None
) -> None:
    [saved] = service.save_targets(session=session, items=[target()])
    before = session.get(TargetProgress, saved.id)
    assert before is not None and before.probability is not None
    p_before = before.probability
    assert service.follow_changes(session=session) == (0, 0)  # the follower starts from here
    # September: Ho Chi Minh City's exports collapse.
    submit(session, [("79", "2026-09", 200.0), ("01", "2026-09", exports(1000, 2026, 9))])
    # The submission's transaction leaves the targets alone; the follower (the worker, once the commit wakes it)
    # computes them again.
    session.expire_all()
    unchanged = session.get(TargetProgress, saved.id)
    assert unchanged is not None and unchanged.as_of == "2026-08"
    read, computed = service.follow_changes(session=session)
    assert read == 2 and computed == 3  # the national target and its two provinces
    session.expire_all()
    after = session.get(TargetProgress, saved.id)
    assert after is not None and after.as_of == "2026-09"
    assert after.probability is not None and after.probability < saved.alert_below < p_before
    assert after.drivers[0]["area"] == "79" and after.drivers[0]["share"] > 0.9
    events = session.scalars(select(DomainEvent).where(DomainEvent.type == "targets.alert")).all()
    payloads = [json.loads(e.payload) for e in events]
    national = [p for p in payloads if p["code"] == "EXP-2026"]
    assert national and national[0]["provinces"][0]["area"] == "79"
    inbox = session.scalars(select(Notification).where(Notification.kind == "target_alert")).all()
    assert inbox, "the responsible agencies' people are told"
    history = session.scalars(select(TargetRating).where(TargetRating.target_id == saved.id)).all()
    assert any(h.alerted for h in history)


@pytest.mark.parametrize(
    ("changes", "code", "vi"),
    [
        ({"unit": "PCT"}, "target_unit_mismatch", "đo bằng"),
        ({"period": "2026-W10"}, "target_period_not_in_indicator", "không có số liệu"),
        ({"cascade": "every province at 1"}, "target_cascade_does_not_add_up", "cộng lại"),
    ],
)
def test_bad_targets_are_refused_in_both_languages_and_nothing_is_written(
    session: Session, history: None, changes: dict[str, object], code: str, vi: str
) -> None:
    if changes.get("cascade") == "every province at 1":
        provinces = sorted(service._current_provinces(session))
        assert len(provinces) == 34
        changes = {"cascade": [CascadeIn(area=code, value=1.0) for code in provinces]}
    count = session.scalar(select(func.count()).select_from(Target))
    with pytest.raises(Rejected) as caught:
        service.save_targets(session=session, items=[target(**changes)])
    problem = caught.value.problems[0]
    assert problem.code == code
    assert vi in problem_message(problem, "vi")
    assert session.scalar(select(func.count()).select_from(Target)) == count


def test_with_stored_forecasts_the_probability_comes_from_them(session: Session, history: None) -> None:
    forecasts.run(session=session, series=forecasts.store_series(session=session, indicator="EXPORTS"), trigger="t")
    [saved] = service.save_targets(session=session, items=[target()])
    row = session.get(TargetProgress, saved.id)
    assert row is not None and row.method == "forecast" and row.probability is not None
    assert row.projected == pytest.approx(year_total(4000, 2026), rel=0.05)
    fan = [p for p in row.path if p.get("mean") is not None]
    assert [p["period"] for p in fan] == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert all(p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] for p in fan)


def test_a_multi_year_target_is_judged_on_its_last_year_with_escap_s_indices(session: Session, history: None) -> None:
    done, going = service.save_targets(
        session=session,
        items=[
            target(
                code="EXP-2024-2025",
                period="2024/2025",
                value=year_total(4000, 2025) * 1.01,
                cascade=[],
                base_year=2023,
            ),
            target(code="EXP-2026-2030", period="2026/2030", value=year_total(4000, 2030), cascade=[], base_year=2021),
        ],
    )
    ended = session.get(TargetProgress, done.id)
    assert ended is not None and (ended.as_of, ended.rating, ended.method) == ("2025", "off_track", "final")
    assert ended.status_index is not None and 85 < ended.status_index < 100
    running = session.get(TargetProgress, going.id)
    assert running is not None and running.as_of == "2025"  # 2026 is not whole yet
    assert running.status_index == pytest.approx(100 * (1.08**4 - 1) / (1.08**9 - 1), rel=0.02)
    assert running.anticipated_index == pytest.approx(100, abs=5) and running.rating in ("on_track", "at_risk")


def test_a_qualitative_target_is_rated_by_hand_only(session: Session, history: None) -> None:
    [saved] = service.save_targets(
        session=session, items=[target(code="Q-2026", indicator=None, unit="USD", value=5400, cascade=[])]
    )
    row = session.get(TargetProgress, saved.id)
    assert row is not None and row.rating == "no_data" and row.method == "none"
