"""What the reporting API answers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class RegimeVersionOut(BaseModel):
    valid_from: str = Field(description="the first period this version applies to; it holds until the next one's")
    name_vi: str
    name_en: str
    legal_basis: str
    legal_date: date | None
    frequency: str = Field(description="M, Q, S or A")
    deadline: str = Field(description="the deadline rule, e.g. 'day 12 of the month after the period'")
    cutoff: str | None
    grace_days: int
    lock_days: int
    replaced_by_data: bool = Field(description="counts as submitted when its data arrives; no separate report")
    requires_document: bool
    indicators: list[str]
    agency_kinds: list[str]
    agencies: list[str]
    coverage: str


class RegimeOut(BaseModel):
    code: str
    demo: bool = Field(description="made up for the demonstration")
    versions: list[RegimeVersionOut]


class ComplianceOut(BaseModel):
    """One expected report: a regime x reporting agency x period, with its status computed from the data."""

    id: int
    regime: str
    agency: str
    agency_kind: str
    period: str
    status: str = Field(description="on_time, late, partial, missing or not_due")
    deadline: datetime
    grace_until: datetime
    received_at: datetime | None = Field(description="when the last required value arrived (complete reports)")
    days_late: int | None
    values_present: int
    values_required: int
    missing: list[str] = Field(description="the required values not stored yet, INDICATOR/AREA (or 'document')")
    revisions_after_lock: int = Field(description="changes to its values after the lock date")


class RatesOut(BaseModel):
    """Rates named as DHIS2 names them; a report not yet due is not expected yet."""

    agency: str
    agency_name: str
    agency_kind: str
    EXPECTED_REPORTS: int
    ACTUAL_REPORTS: int
    ACTUAL_REPORTS_ON_TIME: int
    REPORTING_RATE: float | None
    REPORTING_RATE_ON_TIME: float | None
    AVERAGE_DAYS_LATE: float | None = Field(description="over the late reports")
    partial: int
    missing: int
    not_due: int


class RevisionOut(BaseModel):
    """A value of the report changed after its lock date: which, old -> new, when and by whom."""

    indicator: str
    area: str
    old: float | None = Field(description="the value it replaced")
    new: float
    status: str
    recorded_at: datetime
    recorded_by: str | None


class FiledDocumentOut(BaseModel):
    """A signed document filed for a report (its content at GET /api/v1/reporting/documents/{id})."""

    id: int
    filename: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class ReportOut(ComplianceOut):
    """One expected report with the revisions after its lock date listed, and the documents filed for it."""

    regime_name_vi: str
    regime_name_en: str
    agency_name_vi: str
    agency_name_en: str
    lock_at: datetime = Field(description="changes to its values after this moment are listed as revisions")
    requires_document: bool
    revisions: list[RevisionOut]
    documents: list[FiledDocumentOut]
