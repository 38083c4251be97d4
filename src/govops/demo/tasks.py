"""A made-up year of directives and the tasks they assign, for the demonstration console.

Everything here is DEMO but two: the directives' numbers, titles, signers and tasks are invented (each row is
flagged `demo` and the console labels it so); none quotes a real document. The two exceptions are real directives of
2025 (`CITED`), entered with what public sources state of them (number, date, signer, title, the gist) and those
sources; no task is invented under them. The year ends today, so that the four classes
of the Government Office's reports come out mixed as they do in real ones: most tasks due are done on time, some
late, a few percent overdue, the rest open within their deadline. Deterministic: one seed, dates relative to the
day it is loaded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency
from govops.tasks import service
from govops.tasks.models import Directive, Task
from govops.tasks.schemas import DirectiveIn, ProgressIn, TaskIn

SEED = 15
DIRECTIVES = 36

_KINDS = (
    ("resolution", "NQ-CP", "Nghị quyết phiên họp Chính phủ thường kỳ", 6),
    ("directive", "CT-TTg", "Chỉ thị của Thủ tướng Chính phủ về", 5),
    ("dispatch", "CĐ-TTg", "Công điện của Thủ tướng Chính phủ về", 8),
    ("conclusion", "TB-VPCP", "Thông báo kết luận của Thủ tướng Chính phủ về", 12),
    ("decision", "QĐ-TTg", "Quyết định của Thủ tướng Chính phủ phê duyệt Đề án", 3),
    ("minutes", "BB-VPCP", "Biên bản cuộc họp Ban Chỉ đạo về", 2),
)
_TOPICS = (
    ("đẩy mạnh giải ngân vốn đầu tư công", "Đầu tư công"),
    ("cải cách thủ tục hành chính, cắt giảm điều kiện kinh doanh", "Cải cách hành chính"),
    ("phát triển dữ liệu số và chuyển đổi số quốc gia", "Chuyển đổi số"),
    ("ứng phó với mưa lũ, sạt lở đất", "Phòng, chống thiên tai"),
    ("bảo đảm cung ứng điện, xăng dầu", "Năng lượng"),
    ("thúc đẩy xuất khẩu và mở rộng thị trường", "Thương mại"),
    ("phát triển nhà ở xã hội", "Xây dựng"),
    ("nâng cao chất lượng y tế cơ sở", "Y tế"),
    ("hoàn thiện thể chế, pháp luật", "Thể chế"),
    ("kiểm soát lạm phát, điều hành giá", "Kinh tế vĩ mô"),
)
_ACTIONS = (
    "Hoàn thiện hồ sơ, trình Chính phủ dự thảo Nghị định về {topic}",
    "Rà soát, đề xuất sửa đổi các quy định còn vướng mắc liên quan đến {topic}",
    "Xây dựng kế hoạch triển khai {topic}, gửi Văn phòng Chính phủ",
    "Tổ chức kiểm tra, đôn đốc việc {topic} tại các địa phương",
    "Báo cáo Thủ tướng Chính phủ kết quả {topic}",
    "Ban hành hướng dẫn thực hiện {topic}",
    "Tổng hợp khó khăn, vướng mắc về {topic}, đề xuất giải pháp tháo gỡ",
)
_MINISTRIES = ("MOF", "MOIT", "MAE", "MOC", "MOH", "MOET", "MOJ", "MOHA", "MOST", "MPS", "SBV", "MOCST", "MOFA")
_SIGNERS = ("Thủ tướng Chính phủ (demo)", "Phó Thủ tướng Chính phủ (demo)", "Bộ trưởng, Chủ nhiệm VPCP (demo)")


@dataclass(frozen=True)
class Cited:
    """A real directive, as the public sources in `source` state it."""

    kind: str
    number: str
    title: str
    signed_on: date
    signer: str
    summary: str
    source: str
    links: tuple[str, ...] = ()


CITED = (
    Cited(
        kind="resolution",
        number="01/NQ-CP",
        title="Nghị quyết về nhiệm vụ, giải pháp chủ yếu thực hiện Kế hoạch phát triển kinh tế - xã hội và Dự toán "
        "ngân sách nhà nước năm 2025",
        signed_on=date(2025, 1, 8),
        signer="Chính phủ",
        summary="Các cấp, các ngành, các địa phương phấn đấu tăng trưởng GDP năm 2025 ít nhất 8%, GRDP của các địa "
        "phương tối thiểu 8-10%; Chính phủ đề ra 12 nhóm nhiệm vụ, giải pháp chủ yếu.",
        source="https://sav.gov.vn/Pages/chi-tiet-tin.aspx?ItemID=41888&l=TinTucSuKien ; "
        "https://www.vietnamplus.vn/thu-tuong-thuc-hien-nhiem-vu-trong-tam-sau-ky-nghi-tet-at-ty-2025-post1010777.vnp",
    ),
    Cited(
        kind="directive",
        number="03/CT-TTg",
        title="Chỉ thị về việc đôn đốc thực hiện nhiệm vụ trọng tâm sau kỳ nghỉ Tết Nguyên đán Ất Tỵ 2025",
        signed_on=date(2025, 2, 4),
        signer="Thủ tướng Chính phủ Phạm Minh Chính",
        summary="Các bộ, cơ quan, địa phương tập trung ngay xử lý công việc sau kỳ nghỉ Tết, nhất là việc còn dở "
        "dang; tiếp tục thực hiện các Nghị quyết số 01/NQ-CP và 02/NQ-CP ngày 8/1/2025 với mục tiêu tăng trưởng "
        "8% trở lên.",
        source="https://www.vietnamplus.vn/thu-tuong-thuc-hien-nhiem-vu-trong-tam-sau-ky-nghi-tet-at-ty-2025-"
        "post1010777.vnp ; https://thuvienphapluat.vn/van-ban/Thuong-mai/Chi-thi-03-CT-TTg-2025-don-doc-thuc-hien-nhiem-vu-trong-tam-sau-"
        "ky-nghi-Tet-nguyen-dan-At-Ty-641988.aspx",
        links=("01/NQ-CP",),
    ),
)


@dataclass(frozen=True)
class Loaded:
    directives: int
    tasks: int


def loaded(*, session: Session) -> bool:
    return session.scalar(select(Directive.id).where(Directive.demo.is_(True)).limit(1)) is not None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def load(*, session: Session, today: date | None = None) -> Loaded:
    """The demo's directives and tasks (the caller commits). Deadlines, reports and closings before `today`."""
    today = today or date.today()
    rng = random.Random(SEED)
    office = service.caller(session=session, agency_code="GO", name="demo")
    provinces = list(session.scalars(select(Agency.code).where(Agency.kind == "provincial_committee")))
    leads = [*_MINISTRIES, *_MINISTRIES, *provinces]  # ministries twice: they lead most of what is assigned
    counters: dict[str, int] = {}
    made_tasks = 0
    weights = [k[3] for k in _KINDS]
    for cited in CITED:
        real = service.create_directive(
            session=session,
            data=DirectiveIn(
                kind=cited.kind,
                number=cited.number,
                title=cited.title,
                signed_on=cited.signed_on,
                signer=cited.signer,
                summary=cited.summary,
                links=list(cited.links),
            ),
            who=office,
        )
        real.source = cited.source
    for index in range(DIRECTIVES):
        kind, sign, title, _ = rng.choices(_KINDS, weights=weights)[0]
        signed = today - timedelta(days=int(365 * (DIRECTIVES - index) / DIRECTIVES) - rng.randint(0, 6))
        counters[sign] = counters.get(sign, 0) + rng.randint(1, 9)
        topic, category = rng.choice(_TOPICS)
        number = f"{counters[sign]}/{sign}"
        directive = service.create_directive(
            session=session,
            data=DirectiveIn(
                kind=kind,
                number=number,
                title=f"{title} {topic} (demo)",
                signed_on=signed,
                signer=rng.choice(_SIGNERS),
                summary=f"Văn bản minh họa (demo, không phải văn bản thật) về {topic}.",
            ),
            who=office,
            demo=True,
        )
        for _ in range(rng.randint(5, 12)):
            made_tasks += _task(session, rng, directive, office, leads, topic, category, today)
    session.flush()
    return Loaded(DIRECTIVES, made_tasks)


def _task(
    session: Session,
    rng: random.Random,
    directive: Directive,
    office: service.Caller,
    leads: list[str],
    topic: str,
    category: str,
    today: date,
) -> int:
    lead = rng.choice(leads)
    helpers = sorted({rng.choice(_MINISTRIES) for _ in range(rng.randint(0, 2))} - {lead})
    roll = rng.random()
    recurrence = "monthly" if roll < 0.08 else "regular" if roll < 0.12 else "once"
    deadline = directive.signed_on + timedelta(days=rng.choice((15, 30, 45, 60, 90, 120, 180, 240)))
    data = TaskIn(
        directive=directive.number,
        text=rng.choice(_ACTIONS).format(topic=topic),
        lead=lead,
        coordinating=helpers,
        deadline=deadline if recurrence == "once" else None,
        recurrence=recurrence,
        priority=rng.choices(("normal", "high", "urgent"), weights=(7, 2, 1))[0],
        category=category,
    )
    task = service.create_task(
        session=session, data=data, who=office, today=directive.signed_on, now=_at(directive.signed_on), demo=True
    )
    made = 1
    if recurrence != "once":
        _reports(session, rng, task, lead, directive.signed_on, today - timedelta(days=rng.randint(0, 20)), done=False)
        return made
    if rng.random() < 0.06:  # an extension granted before the first deadline
        _extend(session, rng, task, office)
    due = task.deadline
    assert due is not None
    if due < today:
        outcome = rng.random()
        if outcome < 0.84:
            closed = due - timedelta(days=rng.randint(0, min(25, (due - task.assigned_on).days)))
        elif outcome < 0.94:
            closed = min(today, due + timedelta(days=rng.randint(1, 45)))
        else:
            closed = None
    else:
        closed = today - timedelta(days=rng.randint(0, 10)) if rng.random() < 0.2 else None
        if closed is not None and closed < task.assigned_on:
            closed = None
    _reports(session, rng, task, lead, task.assigned_on, closed or today, done=closed is not None)
    if closed is not None:
        evidence = f"Công văn số {rng.randint(100, 9999)}/{lead} (demo)"
        service.close_task(session=session, task=task, on=closed, evidence=evidence, by="demo", now=_at(closed))
        if rng.random() < 0.5:
            task.quality = rng.choice((3, 4, 4, 5))
    else:
        if due < today:
            health = rng.choice(("amber_red", "red", "red"))
        else:
            health = rng.choices(("green", "amber_green", "amber", "amber_red"), weights=(6, 3, 2, 1))[0]
        if health != task.health:
            agency = service.caller(session=session, agency_code=lead, name=f"demo.{lead.lower()}")
            rated = _at(min(today, due) - timedelta(days=rng.randint(1, 10)))
            service.set_health(session=session, task_id=task.id, health=health, who=agency, now=rated)
    if rng.random() < 0.04:  # a task split between the lead's units, with weights
        for weight in (2.0, 1.0, 1.0):
            sub = TaskIn(
                directive=directive.number,
                text=f"Phần việc của đơn vị thuộc {lead}: {data.text[:80]} (demo)",
                lead=lead,
                deadline=task.deadline,
                parent=task.id,
                weight=weight,
            )
            child = service.create_task(
                session=session, data=sub, who=office, today=task.assigned_on, now=_at(task.assigned_on), demo=True
            )
            child.progress = 100.0 if task.closed_on else float(rng.choice((20, 50, 80, 100)))
            if task.closed_on:
                child.closed_on = task.closed_on
            made += 1
        rolled = service.rolled_up(session, task)
        if rolled is not None and task.closed_on is None:
            task.progress = rolled.progress
    return made


def _reports(
    session: Session, rng: random.Random, task: Task, lead: str, start: date, end: date, *, done: bool
) -> None:
    agency = service.caller(session=session, agency_code=lead, name=f"demo.{lead.lower()}")
    days = max((end - start).days, 1)
    count = rng.randint(1, 3)
    percent = 0.0
    for i in range(count):
        # A recurring task's last report is on `end` (it moves its next report date on); a one-off task's reports
        # come before it.
        share = (i + 1) / count if task.recurrence != "once" else (i + 1) / (count + 1)
        day = start + timedelta(days=int(days * share))
        percent = min(95.0, percent + rng.choice((15, 20, 30, 40)))
        service.report_progress(
            session=session,
            task_id=task.id,
            data=ProgressIn(percent=percent, text=f"Đã triển khai {int(percent)}% khối lượng công việc (demo)"),
            who=agency,
            channel=rng.choice(("console", "api", "webhook")),
            now=_at(day),
        )
    task.progress = 100.0 if done else percent


def _extend(session: Session, rng: random.Random, task: Task, office: service.Caller) -> None:
    assert task.deadline is not None
    old = task.deadline
    asked = _at(old - timedelta(days=5))
    lead = service.caller(session=session, agency_code=task.lead.code, name=f"demo.{task.lead.code.lower()}")
    extension = service.request_extension(
        session=session,
        task_id=task.id,
        deadline=old + timedelta(days=rng.choice((30, 45, 60))),
        reason="Cần thêm thời gian lấy ý kiến các bộ, ngành (demo)",
        who=lead,
        now=asked,
    )
    service.decide_extension(
        session=session,
        task_id=task.id,
        extension_id=extension.id,
        approve=True,
        note="Đồng ý gia hạn (demo)",
        who=office,
        now=asked + timedelta(days=2),
    )
