"""What the quality API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "compulsory_pair", "exclusive_pair"]
Missing = Literal["skip_if_any_missing", "skip_if_all_missing", "never_skip"]
Importance = Literal["high", "medium", "low"]
AreaLevel = Literal["any", "nation", "province"]
Status = Literal["open", "confirmed", "corrected", "dismissed"]
Action = Literal["confirm", "dispute", "close", "dismiss"]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Z0-9_.-]+$")
    name_vi: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)
    left: str = Field(min_length=1, max_length=2000, description="e.g. EXPORTS (the formula language)")
    operator: Operator
    right: str = Field(min_length=1, max_length=2000, description="e.g. children(EXPORTS)")
    tolerance: float = Field(0.0, ge=0, le=1, description="relative: 0.005 lets the sides differ by 0.5%")
    missing: Missing = "skip_if_any_missing"
    importance: Importance = "medium"
    blocking: bool = Field(False, description="a breach rejects the submission (else it warns)")
    area_level: AreaLevel = "any"
    active: bool = True
    note: str = Field("", max_length=2000)


class RuleOut(RuleIn):
    id: int
    periodicity: str
    demo: bool
    updated_at: datetime
    updated_by: str


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(max_length=1000)


class FlagOut(BaseModel):
    id: int
    indicator: str
    area: str
    area_name: str
    period: str
    dims: str
    value: float
    method: str
    rule: str | None
    severity: str
    score: float | None
    expected: float | None
    low: float | None
    high: float | None
    likely: float | None
    detail: dict[str, Any]
    agency: str | None
    submission: str | None
    status: Status
    disputed: bool
    reason: str | None
    raised_at: datetime
    raised_by: str
    resolved_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    demo: bool


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action = Field(
        description="confirm (the value is right) or dispute (the check is wrong), by the source agency; "
        "close or dismiss (the flag was wrong), by the Government Office"
    )
    reason: str = Field("", max_length=5000)


class FlagEventOut(BaseModel):
    action: str
    at: datetime
    by: str
    agency: str | None
    reason: str
    value: float | None


class FlagDetail(BaseModel):
    flag: FlagOut
    timeline: list[FlagEventOut]


class Dimension(BaseModel):
    """One WHO dimension of a scorecard: its score 0-100 against its threshold, and the score a period earlier."""

    name: Literal[
        "completeness",
        "timeliness",
        "internal_consistency",
        "external_consistency",
        "consistency_over_time",
        "related_indicators",
        "denominators",
        "source_agreement",
    ]
    score: float | None
    threshold: float
    meets: bool | None
    previous: float | None
    trend: Literal["up", "down", "same"] | None
    detail: dict[str, Any] = Field(default_factory=dict)


class Scorecard(BaseModel):
    key: str
    name: str
    kind: Literal["agency", "group", "province"]
    period: str
    score: float | None
    rank: int | None = None
    dimensions: list[Dimension]
    open_flags: int


class Scorecards(BaseModel):
    period: str
    items: list[Scorecard]
