"""Signed documents: the narrative report (PDF) a regime may ask for alongside the figures, filed by the agency's
system or its data officer, and read back by those who may.

Who may is decided on what is stored, never on what an address says: a document is read through the expected
report it was filed for, and that report's agency is the one that counts. The agency's own data officers and
systems file and read its documents; the Government Office's analysts and the administrators read every one,
and administrators may file for any agency.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.reporting.compliance import recompute
from govops.reporting.models import ExpectedReport, RegimeVersion, ReportDocument

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Roles that read every agency's documents.
_READ_ALL = ("analyst", "administrator")


@dataclass(frozen=True)
class Party:
    """Who asks: a person (their role and agency) or an agency's system (its agency, no role)."""

    name: str  # the user name or the exchange member's code, recorded with what they file
    agency_id: int | None
    role: str | None = None

    @classmethod
    def of_user(cls, user: User) -> Party:
        return cls(name=user.username, agency_id=user.agency_id, role=user.role)

    def own(self, report: ExpectedReport) -> bool:
        return self.agency_id == report.agency_id and self.role in (None, "data_officer", "administrator")

    def may_file(self, report: ExpectedReport) -> bool:
        return self.role == "administrator" or self.own(report)

    def may_read(self, report: ExpectedReport) -> bool:
        return self.role in _READ_ALL or self.own(report)


@dataclass(frozen=True)
class DocumentInfo:
    """A filed document, without its content."""

    id: int
    filename: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


def documents_of(*, session: Session, report: ExpectedReport) -> list[DocumentInfo]:
    """The documents filed for `report`, oldest first."""
    d = ReportDocument
    rows = session.execute(
        select(d.id, d.filename, d.size, d.sha256, d.uploaded_at, d.uploaded_by)
        .where(d.expected_id == report.id)
        .order_by(d.uploaded_at, d.id)
    ).all()
    return [DocumentInfo(*row) for row in rows]


def file_document(
    *, session: Session, party: Party, report: ExpectedReport, filename: str, content: bytes
) -> ReportDocument:
    """File the signed PDF of `report` as `party`, who must be its agency's (or an administrator)."""
    if not party.may_file(report):
        raise GovopsError.of(
            "forbidden",
            lazy_gettext("Only the agency that owes this report (or an administrator) files its signed document."),
            lazy_gettext("Sign in as a data officer of the agency, or use its system's key."),
            status=403,
            where="agency",
        )
    return attach_document(session=session, report=report, filename=filename, content=content, uploaded_by=party.name)


def read_document(*, session: Session, party: Party, document_id: int) -> tuple[ReportDocument, ExpectedReport]:
    """A filed document and its report, for `party` if they may read it: the report's agency's own officers and
    systems, analysts and administrators."""
    found = session.get(ReportDocument, document_id) if 0 < document_id < 2**31 else None
    if found is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("There is no filed document %(id)s."),
            lazy_gettext("Open the report's page to see the documents filed for it."),
            status=404,
            where="document",
            id=document_id,
        )
    report = session.get_one(ExpectedReport, found.expected_id)
    if not party.may_read(report):
        raise GovopsError.of(
            "forbidden",
            lazy_gettext("This document belongs to another agency's report."),
            lazy_gettext(
                "The agency's own data officers, the Government Office's analysts and administrators read it."
            ),
            status=403,
            where="document",
        )
    return found, report


def too_large(size: int) -> GovopsError:
    return GovopsError.of(
        "document_too_large",
        lazy_gettext("The document is %(size)s bytes; at most %(limit)s are accepted."),
        lazy_gettext("Scan at a lower resolution, or compress the PDF."),
        status=413,
        where="document",
        size=size,
        limit=MAX_DOCUMENT_BYTES,
    )


def attach_document(
    *,
    session: Session,
    report: ExpectedReport,
    filename: str,
    content: bytes,
    uploaded_by: str,
    now: datetime | None = None,
) -> ReportDocument:
    """Store the signed PDF of a report whose regime asks for one, and recompute the report's status."""
    now = now or utcnow()
    version = session.get_one(RegimeVersion, report.version_id)
    if not version.requires_document:
        raise GovopsError.of(
            "document_not_asked",
            lazy_gettext("This report asks for no signed document; its data is the report."),
            lazy_gettext("Submit the figures through the exchange instead."),
            status=409,
            where="document",
        )
    if len(content) > MAX_DOCUMENT_BYTES:
        raise too_large(len(content))
    if not content.startswith(b"%PDF-"):
        raise GovopsError.of(
            "document_not_pdf",
            lazy_gettext("The file %(name)s is not a PDF document."),
            lazy_gettext("Send the signed report as a PDF file (it starts with %%PDF-)."),
            status=415,
            where="document",
            name=repr(filename[:100]),
        )
    document = ReportDocument(
        expected_id=report.id,
        filename=(filename or "report.pdf")[:200],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=now,
        uploaded_by=uploaded_by[:120],
    )
    session.add(document)
    session.flush()
    recompute(session=session, ids=[report.id], now=now)
    return document


def download_headers(filename: str) -> dict[str, str]:
    """The headers a filed document is sent back with: a PDF to save under the name it was filed with (an ASCII
    stand-in for older clients, the UTF-8 name for the rest), never shown in the page nor cached by others."""
    name = filename if filename.lower().endswith(".pdf") else f"{filename}.pdf"
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", plain).strip("-.") or "report.pdf"
    return {
        "Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
