"""The reporting domain's public face: what its pages, API, command and jobs, and other domains, call.

Keyword-only functions taking a session; they flush, never commit. The work lives by concern in the modules
below; this one names what may be used from outside them:

- `regimes`: regime files in and out (YAML), every problem by line and field, nothing stored on bad input;
- `compliance`: expected reports and their statuses, computed from the data and the times it arrived;
- `reading`: compliance a page at a time, the DHIS2-named rates, the board, the abolition candidates;
- `reports`: one report as its page shows it (revisions after the lock, documents), what an agency owes now;
- `documents`: the signed PDF a regime may ask for, filed and read back under the rights of the stored report;
- `reminders`: before, on and after each deadline, and escalation, each once.
"""

from __future__ import annotations

from govops.reporting.compliance import (
    STATUS_CHANGED,
    TOPIC,
    changes_pending,
    deadlines_between,
    ensure_expected,
    follow_changes,
    judge,
    pass_deadlines,
    recompute,
    recompute_cells,
)
from govops.reporting.context import Context, today_in_vietnam
from govops.reporting.documents import (
    MAX_DOCUMENT_BYTES,
    DocumentInfo,
    Party,
    attach_document,
    documents_of,
    download_headers,
    file_document,
    read_document,
    too_large,
)
from govops.reporting.reading import (
    SEVERITY,
    SYMBOL,
    Candidate,
    Cell,
    Filter,
    Rates,
    abolition_candidates,
    all_regimes,
    board,
    check_period,
    check_status,
    compliance,
    expected_for,
    get_agency,
    get_regime,
    latest_due_period,
    list_regimes,
    rates,
    rates_by_period,
    rates_by_regime,
    recent_periods,
)
from govops.reporting.regimes import (
    ImportPlan,
    ImportSummary,
    apply_import,
    export_regimes,
    import_regimes,
    plan_import,
)
from govops.reporting.reminders import (
    ESCALATE_AFTER_DAYS,
    REMIND_BEFORE_DAYS,
    REMINDER_SENT,
    send_reminders,
)
from govops.reporting.reports import (
    DUE_LOOKBACK_DAYS,
    Owed,
    due_for,
    indicator_names,
    report_out,
    revisions_after_lock,
)

__all__ = [
    "DUE_LOOKBACK_DAYS",
    "ESCALATE_AFTER_DAYS",
    "MAX_DOCUMENT_BYTES",
    "REMINDER_SENT",
    "REMIND_BEFORE_DAYS",
    "SEVERITY",
    "STATUS_CHANGED",
    "SYMBOL",
    "TOPIC",
    "Candidate",
    "Cell",
    "Context",
    "DocumentInfo",
    "Filter",
    "ImportPlan",
    "ImportSummary",
    "Owed",
    "Party",
    "Rates",
    "abolition_candidates",
    "all_regimes",
    "apply_import",
    "attach_document",
    "board",
    "changes_pending",
    "check_period",
    "check_status",
    "compliance",
    "deadlines_between",
    "documents_of",
    "download_headers",
    "due_for",
    "ensure_expected",
    "expected_for",
    "export_regimes",
    "file_document",
    "follow_changes",
    "get_agency",
    "get_regime",
    "import_regimes",
    "indicator_names",
    "judge",
    "latest_due_period",
    "list_regimes",
    "pass_deadlines",
    "plan_import",
    "rates",
    "rates_by_period",
    "rates_by_regime",
    "read_document",
    "recent_periods",
    "recompute",
    "recompute_cells",
    "report_out",
    "revisions_after_lock",
    "send_reminders",
    "today_in_vietnam",
    "too_large",
]
