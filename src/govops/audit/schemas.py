"""Pydantic shapes of audit entries and of a verification of the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_kind: str
    actor: str
    agency: str | None
    action: str
    target: str
    detail: dict[str, Any]
    ip: str | None
    request_id: str | None
    prev_hash: str
    hash: str


class Verification(BaseModel):
    """The outcome of `verify`: intact, or the first entry where the chain breaks and why."""

    ok: bool
    checked: int = Field(description="entries found intact (before the broken one, if any)")
    broken_id: int | None = None
    reason: str | None = None
