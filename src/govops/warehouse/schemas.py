"""Pydantic shapes of observations and series, in and out."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator

from govops.catalog.schemas import IndicatorCreated, IndicatorUpdated
from govops.events.schemas import FLAT_KINDS, DomainEventOut, EventEnvelope


class Status(StrEnum):
    provisional = "provisional"
    final = "final"
    estimated = "estimated"
    forecast = "forecast"


def _text(value: object) -> object:
    # Spreadsheets and CSV give area codes as numbers (1 instead of "01"): keep them text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    # One spelling per code: what is checked against rights and what is stored must be the same text.
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=64)]


class ObservationIn(BaseModel):
    """One data point as agencies send it: codes, not ids."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    indicator: Text
    area: Text
    period: Annotated[
        Text,
        Field(
            description="the indicator's own periodicity (2025-07 for a monthly one), or a longer period made of "
            "whole ones (2025-Q3, 2025): an official quarterly or annual figure, which wins over adding up"
        ),
    ]
    value: float
    status: Status = Status.provisional
    dims: dict[str, str] = Field(default_factory=dict)
    unit: str | None = Field(
        default=None, description="Unit code of `value`; converted if it differs from the indicator's."
    )
    source: str | None = Field(
        default=None,
        description="Agency code of the source; default: the sending agency (the indicator's owner for govops ingest). "
        "Only the Government Office may name another agency.",
    )

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("value must be a finite number")
        return value


class ObservationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    observations: list[ObservationIn] = Field(min_length=1)


class WriteSummary(BaseModel):
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    recorded_at: datetime | None = None


class ObservationOut(BaseModel):
    indicator: str
    area: str
    period: str
    dims: dict[str, str]
    value: float
    status: str
    source: str | None
    version: int
    updated_at: datetime


class Completeness(BaseModel):
    have: int
    expected: int


# How a point of a series came to be; see SeriesPoint.source.
PointSource = Literal["reported", "aggregated", "derived", "missing"]


class SeriesPoint(BaseModel):
    period: str
    value: float | None
    status: str | None = None
    source: PointSource = Field(
        description="reported: the value reported for this area and period, including a figure reported for a "
        "longer period than the indicator's own (an official annual figure of a monthly indicator), which wins "
        "over adding up its months; aggregated: rolled up from the areas below, the sub-periods or pre-2025 "
        "units; derived: computed by the indicator's formula; missing: no value"
    )
    areas: Completeness | None = Field(default=None, description="how many of the areas below had data")
    periods: Completeness | None = Field(default=None, description="how many sub-periods had data")


class Series(BaseModel):
    indicator: str
    area: str
    area_name_vi: str
    freq: str
    dims: dict[str, str]
    unit: str
    as_of: datetime | None
    points: list[SeriesPoint]


class ObservationChange(EventEnvelope):
    """An `observation.changed` event (topic `observations`): an observation was stored or its value revised."""

    type: Literal["observation.changed"]
    indicator: str = Field(description="the indicator it is about")
    seq: int = Field(description="an observation change's number among its indicator's, gapless")
    area: str
    period: str
    dims: dict[str, str]
    value: float | None
    status: str
    version: int = Field(description="the observation's version after this change (1 when new)")
    submission: str | None = Field(description="the submission that made the change, if any")


def _kind_of(item: Any) -> str:
    kind = item.get("type") if isinstance(item, dict) else getattr(item, "type", None)
    return kind if kind in FLAT_KINDS else "other"


ChangeItem = Annotated[
    Annotated[ObservationChange, Tag("observation.changed")]
    | Annotated[IndicatorCreated, Tag("indicator.created")]
    | Annotated[IndicatorUpdated, Tag("indicator.updated")]
    | Annotated[DomainEventOut, Tag("other")],
    Discriminator(_kind_of),
]
"""One event of the feed, by its `type`: an observation change, a catalogue change, or any other kind."""


class ChangesPage(BaseModel):
    items: list[ChangeItem]
    next_cursor: str = Field(description="where to continue; the same cursor again while nothing new has come")
    caught_up: bool = Field(
        description="true: this page reached the newest change, poll again later; false: ask for the next page now"
    )
