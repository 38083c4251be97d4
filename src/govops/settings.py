"""Configuration from ``GOVOPS_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVOPS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/govops.db",
        description="SQLAlchemy URL of the store: a SQLite file (embedded) or postgresql+psycopg://...",
    )
    host: str = Field(default="127.0.0.1", description="Address the API and console listen on.")
    port: int = Field(default=8000, description="Port the API and console listen on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    log_format: Literal["console", "json"] = Field(default="console", description="Log lines for people or JSON.")
    max_batch_rows: int = Field(
        default=100_000, description="Most observations one API request may carry (larger: use `govops ingest`)."
    )
    max_submission_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest body `POST /api/v1/submissions` accepts, in bytes."
    )
    # Zip bomb guard for Excel uploads: checked on the zip directory and again while inflating.
    xlsx_max_unpacked_ratio: int = Field(
        default=100, ge=1, description="An uploaded .xlsx may unpack to at most this many times its size."
    )
    xlsx_max_unpacked_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1, description="An uploaded .xlsx may unpack to at most this many bytes."
    )
    signing_key_file: Path = Field(
        default=Path("var/signing-key.pem"),
        description="The server's Ed25519 key that signs submission receipts; made on first use.",
    )
    worker: bool = Field(
        default=True, description="Run the webhook delivery worker inside `govops serve` (or run `govops worker`)."
    )
    webhook_timeout: float = Field(default=10.0, description="Seconds a webhook receiver has to answer.")
    webhook_first_retry: float = Field(
        default=5.0,
        ge=0,
        description="Seconds before a failed webhook delivery is tried again; the wait doubles, up to 30 min.",
    )
    page_warmer: bool = Field(
        default=True, description="Recompute the console's recently seen charts as soon as their data changes."
    )
    boundaries_file: Path | None = Field(
        default=None,
        description="GeoJSON of province boundaries for the console's map; default: the shipped tile-grid map.",
    )
    secure_cookies: bool = Field(
        default=False, description="Mark session cookies Secure (set when the console is served over HTTPS)."
    )
    demo_end: str | None = Field(
        default=None, description="Last month of demo data (YYYY-MM); default: the month before today."
    )

    @field_validator("boundaries_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
