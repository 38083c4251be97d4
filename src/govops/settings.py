"""Configuration from ``GOVOPS_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from govops.errors import GovopsError

ENV_PREFIX = "GOVOPS_"
DATABASES = ("sqlite", "postgresql")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

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
        default=True,
        description="Run the worker (webhooks, scheduled jobs) inside `govops serve` (or run `govops worker`).",
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
    # Reliability under load: reads note contacts in memory; this is how often they are written.
    contact_flush_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between writes of the members' and sessions' last contact noted by reads.",
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
    # --- audit checkpoints (govops.audit.checkpoints) ---
    audit_checkpoint_file: Path = Field(
        default=Path("var/audit-checkpoints.jsonl"),
        description="Append-only file of signed checkpoints of the audit trail; keep a copy off the database host.",
    )
    audit_checkpoint_url: str | None = Field(
        default=None, description="Receiver elsewhere that each audit checkpoint is also posted to (JSON); optional."
    )
    audit_checkpoint_minutes: float = Field(
        default=15.0,
        ge=0,
        description="Minutes between the worker's audit checkpoints, written only when the trail grew; 0: never.",
    )

    # --- the Government's clock ---
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh",
        description="IANA time zone of the Government's clock: the console shows times on it (audit, jobs, "
        "submissions) and daily jobs run at its wall-clock times, e.g. Asia/Ho_Chi_Minh.",
    )

    # --- scheduled jobs (govops.jobs) ---
    jobs_poll_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between the worker's looks for jobs that fell due."
    )
    jobs_keep_days: int = Field(default=30, ge=1, description="Days the record of a finished job run is kept.")
    session_purge_minutes: float = Field(
        default=60.0, gt=0, description="Minutes between purges of expired sign-in sessions and old sign-in failures."
    )
    reporting_follow_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between the worker's looks at newly arrived data to recompute the reports it touches.",
    )
    page_cache_minutes: float = Field(
        default=10.0, gt=0, description="Minutes between refreshes of the overview's and province pages' charts."
    )

    @field_validator("database_url")
    @classmethod
    def _a_database_govops_uses(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme.split("+", 1)[0] not in DATABASES:
            said = f"the scheme {scheme!r}" if scheme else "no scheme"
            raise ValueError(
                f"it has {said}, not a database govops can use; write sqlite:///path/to/file.db "
                "(embedded) or postgresql+psycopg://user@host/db"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_is_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone; write an IANA name such as Asia/Ho_Chi_Minh") from None
        return value

    # --- e-mail of notifications (govops.notify.email) ---
    public_url: str | None = Field(
        default=None,
        description="Address of the console as people reach it (e.g. https://govops.example.gov.vn), for the links "
        "in e-mails; without it an e-mail names the page without a link.",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server that notifications are e-mailed through; unset: no e-mail is sent."
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port; default 465 with smtp_ssl, 587 with smtp_starttls, else 25.",
    )
    smtp_username: str | None = Field(default=None, description="SMTP user name, when the server wants a sign-in.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (with smtp_username).")
    smtp_from: str = Field(
        default="govops <no-reply@localhost>", description="The From of notification e-mails (name and address)."
    )
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_ssl: bool = Field(default=False, description="Connect to the SMTP server over TLS from the start (port 465).")
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds the SMTP server has to answer each step.")
    smtp_send_seconds: float = Field(
        default=10.0, gt=0, description="Seconds between the worker's looks for notification e-mails to send."
    )

    @field_validator("smtp_host", "smtp_port", "smtp_username", "smtp_password", "public_url", mode="before")
    @classmethod
    def _smtp_unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> Settings:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("set GOVOPS_SMTP_SSL (TLS from the start, port 465) or GOVOPS_SMTP_STARTTLS, not both")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Asia/Ho_Chi_Minh") from None
        return value

    @field_validator("audit_checkpoint_url", mode="before")
    @classmethod
    def _no_checkpoint_url_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # --- network defences -------------------------------------------------------------------------
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Addresses or networks (comma-separated IPs/CIDRs, e.g. 10.0.0.5,172.16.0.0/12) of the reverse "
        "proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed; from anyone else they are ignored.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a request's line and headers before it is cut off.",
    )
    keep_alive_timeout: int = Field(
        default=5, ge=1, description="Seconds an idle kept-alive connection stays open waiting for the next request."
    )
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, description="Largest request line plus headers accepted, in bytes (else 400)."
    )
    max_connections: int | None = Field(
        default=1000,
        ge=1,
        description="Most connections and requests served at once by one `govops serve`; beyond that the answer is "
        "503 (empty: no limit).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_from_text(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        networks = []
        for item in value:
            try:
                networks.append(str(ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network; write e.g. 10.0.0.5 or 10.0.0.0/8"
                ) from None
        return networks

    @field_validator("max_connections", mode="before")
    @classmethod
    def _no_limit_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("boundaries_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None


class BadSettings(GovopsError):
    """Settings that cannot be used; `lines` says, one line per variable, what is wrong and how to fix it."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines), code="bad_settings")
        self.lines = lines


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise BadSettings([explain(error) for error in exc.errors()]) from None


# Fields whose value is never repeated back (it may hold a password).
_SECRET = ("database_url", "smtp_password", "audit_checkpoint_url")


def explain(error: ErrorDetails) -> str:
    """One line on one bad setting: the variable, what is wrong with its value, and how to fix it."""
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # a rule over several settings: its message names them
        return message
    name = str(error["loc"][0])
    variable = ENV_PREFIX + name.upper()
    shown = variable if name in _SECRET else f"{variable}={error['input']!r}"
    ctx = error.get("ctx", {})
    kinds = {
        "int_parsing": ("is not a whole number", "a whole number"),
        "float_parsing": ("is not a number", "a number"),
        "bool_parsing": ("is not true or false", "true or false"),
        "literal_error": (f"is not {ctx.get('expected')}", str(ctx.get("expected"))),
        "greater_than": (f"must be more than {ctx.get('gt')}", f"a number above {ctx.get('gt')}"),
        "greater_than_equal": (f"must be at least {ctx.get('ge')}", f"a number from {ctx.get('ge')} up"),
        "less_than": (f"must be less than {ctx.get('lt')}", f"a number below {ctx.get('lt')}"),
        "less_than_equal": (f"must be at most {ctx.get('le')}", f"a number up to {ctx.get('le')}"),
    }
    if error["type"] in kinds:
        wrong, wanted = kinds[error["type"]]
        return f"{shown} {wrong}: set it to {wanted}, or unset it to use the default"
    return f"{shown} is not valid: {message}"
