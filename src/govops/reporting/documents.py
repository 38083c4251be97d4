"""Signed documents: the narrative report (PDF) a regime may ask for alongside the figures, filed by the agency's
system or its data officer, and read back by those who may.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.reporting.compliance import recompute
from govops.reporting.models import ExpectedReport, RegimeVersion, ReportDocument

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


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
        raise GovopsError.of(
            "document_too_large",
            lazy_gettext("The document is %(size)s bytes; at most %(limit)s are accepted."),
            lazy_gettext("Scan at a lower resolution, or compress the PDF."),
            status=413,
            where="document",
            size=len(content),
            limit=MAX_DOCUMENT_BYTES,
        )
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
