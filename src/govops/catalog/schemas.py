"""Pydantic shapes of the catalogue: the YAML/JSON document, and what the API returns."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from govops.events.schemas import EventEnvelope
from govops.periods import Freq

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,32}$")]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,32}$")]


class AreaRule(StrEnum):
    sum = "sum"
    mean = "mean"
    weighted = "weighted"
    none = "none"


class TimeRule(StrEnum):
    sum = "sum"
    mean = "mean"
    last = "last"
    none = "none"


class Classification(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"


class GroupKind(StrEnum):
    report = "report"
    appendix = "appendix"
    exchange = "exchange"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitDoc(_Strict):
    code: Code
    name_vi: str
    name_en: str
    symbol: str
    quantity: str
    factor: float = Field(gt=0)


class CodeDoc(_Strict):
    code: ItemCode
    name_vi: str
    name_en: str


class CodelistDoc(_Strict):
    code: Code
    name_vi: str
    name_en: str
    codes: list[CodeDoc]


class GroupDoc(_Strict):
    code: Code
    kind: GroupKind
    name_vi: str
    name_en: str


class IndicatorDoc(_Strict):
    code: Code
    name_vi: str
    name_en: str
    definition_vi: str = ""
    definition_en: str = ""
    unit: Code
    periodicity: Freq
    dimensions: list[Code] = []
    area_aggregation: AreaRule
    area_weight: Code | None = None
    time_aggregation: TimeRule
    owner: str
    groups: list[Code] = []
    classification: Classification = Classification.public
    higher_is_better: bool | None = None
    crosses_zero: bool = False
    decimals: int = Field(default=1, ge=0, le=6)
    formula: str | None = None
    keywords_vi: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = []
    keywords_en: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = []


class CatalogueDoc(_Strict):
    """The whole catalogue as `govops catalog import|export` reads and writes it."""

    units: list[UnitDoc] = []
    codelists: list[CodelistDoc] = []
    groups: list[GroupDoc] = []
    indicators: list[IndicatorDoc] = []


class UnitOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    symbol: str


class GroupOut(BaseModel):
    code: str
    kind: str
    name_vi: str
    name_en: str


class IndicatorOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    definition_vi: str
    definition_en: str
    unit: UnitOut
    periodicity: str
    dimensions: list[str]
    area_aggregation: str
    area_weight: str | None
    time_aggregation: str
    owner: str
    groups: list[str]
    classification: str
    higher_is_better: bool | None
    crosses_zero: bool
    decimals: int
    formula: str | None
    derived: bool
    keywords_vi: list[str]
    keywords_en: list[str]


class IndicatorDetail(IndicatorOut):
    dimension_codes: dict[str, list[CodeDoc]]
    group_details: list[GroupOut]


class AreaOut(BaseModel):
    code: str
    level: str
    parent: str | None
    name_vi: str = Field(description="the name on valid_on (or today)")
    former_name_vi: str | None = Field(description="the name the code stood for until former_until")
    former_until: date | None
    name_ascii: str
    short_vi: str
    kind_vi: str
    valid_from: date | None
    valid_to: date | None
    successor: str | None
    lat: float | None
    lon: float | None


class AgencyOut(BaseModel):
    code: str
    kind: str
    name_vi: str
    name_en: str
    parent: str | None
    area: str | None


class IndicatorCreated(EventEnvelope):
    """An `indicator.created` event (topic `catalog`): an indicator was added to the catalogue."""

    type: Literal["indicator.created"]
    indicator: str = Field(description="the indicator's code")
    name_vi: str
    name_en: str


class IndicatorUpdated(EventEnvelope):
    """An `indicator.updated` event (topic `catalog`): an indicator's description changed."""

    type: Literal["indicator.updated"]
    indicator: str = Field(description="the indicator's code")
    name_vi: str
    name_en: str
    changed: list[str] = Field(description="the fields that changed, e.g. name_en, unit, dimensions")
