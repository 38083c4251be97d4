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


class CheckpointOut(BaseModel):
    """A signed checkpoint of the trail's head: how many entries it had, the last one's id and hash, when."""

    at: datetime
    entries: int
    last_id: int
    last_hash: str
    key_id: str


class CheckpointProblem(BaseModel):
    """What is wrong with a checkpoint or with the trail it pins, and where: the line of the checkpoint
    file, the entry, the checkpoint's time (any of them unknown when the line cannot be read)."""

    reason: str
    line: int | None = None
    entry_id: int | None = None
    checkpoint_at: datetime | None = None


class Verification(BaseModel):
    """The outcome of `verify`: intact, or the first entry where the chain breaks and why; with checkpoints
    checked too, every problem they show."""

    ok: bool
    checked: int = Field(description="entries found intact (before the broken one, if any)")
    broken_id: int | None = None
    reason: str | None = None
    checkpoints: int = Field(default=0, description="checkpoints whose signature verified")
    last_checkpoint: CheckpointOut | None = None
    checkpoint_problems: list[CheckpointProblem] = Field(default_factory=list)
