"""A notification as the API shows it: rendered in the reader's language."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="What it is about: password_changed, report_due, value_flagged, ...")
    subject: str = Field(description="One line, in the reader's language.")
    body: str = Field(description="What happened and what to do, in the reader's language.")
    link: str | None = Field(description="The console page to act on, a path of this server.")
    created_at: datetime
    read_at: datetime | None = Field(description="When the reader marked it read; null while unread.")
