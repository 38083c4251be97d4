"""What every event sent to readers looks like: the envelope, and the shape of a kind without its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, JsonValue

# The kinds whose payload keys are sent beside the envelope, as they were before every domain shared the outbox
# (clients read them so). Every other kind sends its payload as one `payload` object, so that readers find each
# kind's own fields in one place whatever the kind.
FLAT_KINDS = frozenset({"observation.changed", "indicator.created", "indicator.updated"})


class EventEnvelope(BaseModel):
    """The fields every kind of event has."""

    id: int = Field(description="the event's place in the feed; pass it back as a cursor or Last-Event-ID")
    topic: str = Field(description="what part of the platform it comes from: observations, catalog, tasks...")
    type: str = Field(description="what happened: observation.changed, indicator.updated, task.overdue...")
    subject: str = Field(description="what it is about: GDP/VN/2025-Q3 for an observation, a code for an indicator")
    recorded_at: datetime


class DomainEventOut(EventEnvelope):
    """An event of any other kind (a task overdue, an alert raised...): its own fields come in `payload`."""

    type: str = Field(
        description="what happened, e.g. task.overdue or alert.raised",
        json_schema_extra={"not": {"enum": list[JsonValue](sorted(FLAT_KINDS))}},
    )
    payload: dict[str, Any] = Field(description="the fields of this kind, as the domain that emitted it wrote them")
