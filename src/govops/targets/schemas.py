"""Plans, targets and their progress as the API and the import file take and give them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

Comparator = str


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, description="the document's number, e.g. 244/2025/QH15")
    kind: str = Field(default="resolution", description="resolution, decision, five_year_plan or programme")
    title_vi: str = Field(min_length=1, max_length=500)
    title_en: str = Field(min_length=1, max_length=500)
    issuer: str = Field(min_length=1, max_length=200)
    signed_on: date | None = None
    source: str | None = Field(default=None, max_length=500, description="the public document's address")
    demo: bool = False


class CascadeIn(BaseModel):
    """A province's or a ministry's own share of a national target."""

    model_config = ConfigDict(extra="forbid")

    area: str | None = Field(default=None, description="a province's code")
    agency: str | None = Field(default=None, description="a ministry's code")
    value: float
    value_high: float | None = None
    agencies: list[str] = Field(default_factory=list, description="agencies responsible (codes)")


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")
    plan: str = Field(description="the plan's code")
    name_vi: str = Field(min_length=1, max_length=500)
    name_en: str = Field(min_length=1, max_length=500)
    indicator: str | None = Field(default=None, description="the indicator's code; none for a qualitative target")
    comparator: str = Field(default="at_least", description="at_least, at_most, between or about")
    value: float | None = None
    value_high: float | None = Field(default=None, description="the upper bound of `between`")
    tolerance: float | None = Field(default=None, description="the half-width of `about` (default 5%)")
    unit: str = Field(default="", description="the unit the value is in: the indicator's (its code)")
    period: str = Field(description="2026, 2026-Q2, 2026/2030")
    base_value: float | None = None
    base_year: int | None = None
    area: str = Field(default="VN", description="the area the target is for: VN or a province")
    agency: str | None = Field(default=None, description="a ministry, for a ministry's own target")
    article: str = Field(default="", max_length=200, description="where in the document: Điều 2, khoản 1")
    note: str = ""
    alert_below: float = Field(default=0.5, ge=0, le=1)
    demo: bool = False
    agencies: list[str] = Field(default_factory=list, description="agencies responsible (codes)")
    tasks: list[int] = Field(default_factory=list, description="ids of the tasks that serve it")
    cascade: list[CascadeIn] = Field(default_factory=list)


class DriverOut(BaseModel):
    area: str
    name: str
    gap: float
    share: float


class PathPoint(BaseModel):
    period: str
    actual: float | None = None
    required: float | None = None
    mean: float | None = None
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None


class ProgressOut(BaseModel):
    target: str
    computed_at: datetime | None
    as_of: str | None = Field(description="the latest period of data the figures stand on")
    actual: float | None
    actual_kind: str = Field(description="ytd (year to date by the indicator's time rule) or latest")
    required: float | None = Field(description="the trajectory's value at as_of")
    gap: float | None = Field(description="ahead (+) or behind (-) of the trajectory, in the target's sense")
    projected: float | None = Field(description="the expected value at the period's end")
    probability: float | None = Field(description="probability of meeting the target, 0..1")
    method: str = Field(description="forecast (the stored forecasts), history (past years' path), final, none")
    category: str | None = Field(description="Open SDG: achieved, on_track, acceleration_needed, ...")
    growth_ratio: float | None = Field(description="observed change over the change required")
    status_index: float | None = Field(description="ESCAP current status index, % (multi-year targets)")
    anticipated_index: float | None = Field(description="ESCAP anticipated progress index, % (multi-year)")
    rating: str = Field(description="met, on_track, at_risk, off_track or no_data")
    path: list[PathPoint]
    drivers: list[DriverOut] = Field(description="provinces contributing most to a shortfall")
    history: list[RatingOut]


class RatingOut(BaseModel):
    at: datetime
    as_of: str | None
    rating: str
    probability: float | None


class TargetOut(BaseModel):
    id: int
    code: str
    plan: str
    name_vi: str
    name_en: str
    indicator: str | None
    comparator: str
    value: float | None
    value_high: float | None
    unit: str
    period: str
    base_value: float | None
    base_year: int | None
    level: str
    area: str
    agency: str | None
    parent: str | None
    article: str
    demo: bool
    agencies: list[str]
    tasks: list[int]
    rating: str
    probability: float | None


class BoardRow(BaseModel):
    id: int
    code: str
    name_vi: str
    name_en: str
    plan: str
    indicator: str | None
    comparator: str
    value: float | None
    value_high: float | None
    unit: str
    period: str
    area: str
    actual: float | None
    as_of: str | None
    projected: float | None
    probability: float | None
    rating: str
    demo: bool
    sparkline: list[PathPoint]


ProgressOut.model_rebuild()
