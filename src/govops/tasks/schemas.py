"""What the tasks API takes and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DirectiveKind = Literal["resolution", "decision", "directive", "dispatch", "conclusion", "minutes"]
Recurrence = Literal["once", "monthly", "quarterly", "regular"]
Priority = Literal["normal", "high", "urgent"]
Health = Literal["green", "amber_green", "amber", "amber_red", "red"]
Status = Literal["done_on_time", "done_late", "open_in_time", "open_overdue"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DirectiveIn(_In):
    kind: DirectiveKind
    number: str = Field(min_length=1, max_length=40, description="e.g. 01/NQ-CP, 123/CĐ-TTg")
    title: str = Field(min_length=1, max_length=500)
    signed_on: date
    signer: str = Field(min_length=1, max_length=200)
    issuer: str = Field("GO", max_length=32, description="agency code of the issuing body")
    summary: str = Field("", max_length=20_000)
    document_url: str | None = Field(None, max_length=500)
    links: list[str] = Field(default_factory=list, max_length=50, description="numbers of directives it cites")


class DirectiveOut(BaseModel):
    id: int
    kind: str
    number: str
    title: str
    signed_on: date
    signer: str
    issuer: str
    summary: str
    document_url: str | None
    links: list[str]
    demo: bool
    tasks: int


class IndicatorTarget(_In):
    indicator: str = Field(min_length=1, max_length=40)
    area: str = Field("VN", min_length=1, max_length=20)
    target: float
    at_least: bool = Field(True, description="reached when the value is at least the target (else at most)")


class TimelineEntry(BaseModel):
    """One happening in a task's life: assigned, a report, a health change, an extension asked or decided..."""

    kind: str
    at: datetime
    by: str
    detail: dict[str, Any]


class LinkedIndicator(BaseModel):
    """An indicator a task follows: reached when its latest value for the area meets the target."""

    indicator: str
    name_vi: str
    name_en: str
    area: str
    target: float
    at_least: bool
    value: float | None = Field(description="the latest value seen by the watch")
    reached_on: date | None


class TaskIn(_In):
    directive: str = Field(min_length=1, max_length=40, description="the directive's number")
    text: str = Field(min_length=1, max_length=5000)
    lead: str = Field("", max_length=32, description="agency code of the lead agency (chủ trì)")
    coordinating: list[str] = Field(default_factory=list, max_length=100, description="agency codes (phối hợp)")
    deadline: date | None = None
    recurrence: Recurrence = "once"
    priority: Priority = "normal"
    category: str = Field("", max_length=80)
    parent: int | None = Field(None, description="the task this one is a sub-task of")
    weight: float = Field(1.0, gt=0, le=1000, description="its weight in the parent's progress")
    indicators: list[IndicatorTarget] = Field(default_factory=list, max_length=20)


class TaskOut(BaseModel):
    id: int
    directive: str
    text: str
    lead: str
    coordinating: list[str]
    assigned_on: date
    recurrence: str
    deadline: date | None
    original_deadline: date | None
    due_on: date | None = Field(description="the deadline, or a recurring task's next report date")
    priority: str
    category: str
    parent: int | None
    weight: float
    progress: float
    health: str
    health_trend: int = Field(description="-1 worse than before, 0 the same, 1 better")
    status: Status
    due_soon: bool
    days_overdue: int
    closed_on: date | None
    evidence: str | None
    quality: int | None
    demo: bool


class ProgressIn(_In):
    percent: float = Field(ge=0, le=100)
    text: str = Field(min_length=1, max_length=5000)
    evidence: str | None = Field(None, max_length=500, description="a document number or address")
    done: bool = Field(False, description="the task is done; needs evidence")
    health: Health | None = Field(None, description="the lead agency's rating now")


class ProgressOut(BaseModel):
    task: TaskOut
    report_id: int
    parent_progress: float | None
    formula: str | None


class ExtensionIn(_In):
    deadline: date
    reason: str = Field(min_length=1, max_length=5000)


class DecisionIn(_In):
    approve: bool
    note: str = Field("", max_length=5000)


class ExtensionOut(BaseModel):
    id: int
    task: int
    old_deadline: date | None
    new_deadline: date
    reason: str
    state: str
    requested_by: str
    decided_by: str | None
    note: str | None


class EvaluationIn(_In):
    quality: int = Field(ge=1, le=5)
    note: str = Field("", max_length=5000)


class Figures(BaseModel):
    """The Government Office's figures for a set of tasks."""

    assigned: int
    due: int = Field(description="tasks whose deadline has come (done or not)")
    done_on_time: int
    done_late: int
    open_in_time: int
    open_overdue: int
    due_done_pct: float | None = Field(description="% of due tasks done")
    overdue_pct: float | None = Field(description="% of assigned tasks open past their deadline")


class AgencyFigures(Figures):
    agency: str
    name: str
    rank: int


class MonthFigures(BaseModel):
    month: str
    due: int
    done_on_time: int
    done_late: int
    open_overdue: int


class Summary(BaseModel):
    as_of: date
    period: str | None
    agency: str | None
    overall: Figures
    agencies: list[AgencyFigures]
    months: list[MonthFigures]
    overdue_30: list[TaskOut] = Field(description="tasks overdue more than 30 days, longest first (at most 100)")


class ProposedTask(BaseModel):
    text: str
    action: str
    lead: str | None
    coordinating: list[str]
    agency_names: list[str]
    deadline: date | None
    recurrence: Recurrence
    deadline_text: str | None


class ExtractIn(_In):
    text: str = Field(min_length=1, max_length=200_000)
    year: int | None = Field(None, ge=2000, le=2100, description="the year for deadlines that name none")


class ExtractOut(BaseModel):
    tasks: list[ProposedTask]
