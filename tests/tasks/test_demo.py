"""The demo's year of directives and tasks: believable, labelled demo, the four classes mixed as in real reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.demo import tasks as demo_tasks
from govops.tasks import service
from govops.tasks.models import Directive, Task

TODAY = date(2026, 6, 15)


def test_the_demo_year_mixes_the_four_classes_and_is_labelled(session: Session) -> None:
    made = demo_tasks.load(session=session, today=TODAY)
    assert made.directives == 36 and 250 <= made.tasks <= 450
    assert demo_tasks.loaded(session=session)
    # Every directive is labelled demo but the real ones, each with the public sources that state it; no task is
    # made up under them.
    real = session.scalars(select(Directive).where(Directive.demo.is_(False)).order_by(Directive.number)).all()
    assert [(d.number, d.signed_on) for d in real] == [("01/NQ-CP", date(2025, 1, 8)), ("03/CT-TTg", date(2025, 2, 4))]
    assert all(d.source and d.source.startswith("https://") for d in real)
    assert session.scalar(select(func.count()).select_from(Task).where(Task.demo.is_(False))) == 0
    titles = session.scalars(select(Directive.title).where(Directive.demo.is_(True))).all()
    assert len(titles) == made.directives and all(t.endswith("(demo)") for t in titles)
    figures = service.summary(session=session, today=TODAY).overall
    assert figures.done_on_time > figures.done_late > 0
    assert figures.open_in_time > 0 and figures.open_overdue > 0
    assert figures.overdue_pct is not None and 1.0 <= figures.overdue_pct <= 8.0
    leads = {a.agency for a in service.summary(session=session, today=TODAY).agencies}
    assert {"MOF", "PC-79"} <= leads
