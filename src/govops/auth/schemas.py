"""Pydantic shapes of users as the console, the API and the CLI show them (never the password hash)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Role(StrEnum):
    administrator = "administrator"
    analyst = "analyst"
    data_officer = "data_officer"
    viewer = "viewer"


class Language(StrEnum):
    vi = "vi"
    en = "en"


class UserOut(BaseModel):
    username: str
    full_name: str
    email: str | None
    agency: str
    role: Role
    active: bool
    language: Language
    created_at: datetime
    password_changed_at: datetime
    last_sign_in_at: datetime | None
