"""What a caller may read. Until sign-in and API keys exist, every caller is anonymous."""

from __future__ import annotations

from govops.errors import NotFound

# Confidential data is never served without credentials; the console's sign-in and the exchange's
# API keys widen this per user and member.
ANONYMOUS_CLASSIFICATIONS = ("public", "internal")


def readable_classifications() -> tuple[str, ...]:
    return ANONYMOUS_CLASSIFICATIONS


def require_readable(code: str, classification: str) -> None:
    if classification not in readable_classifications():
        # 404, not 403: the existence of a confidential indicator is itself not for everyone.
        raise NotFound(f"no indicator with code {code!r}", hint="list the codes with GET /api/v1/indicators")
