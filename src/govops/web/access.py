"""What a caller of the API may read: by the signed-in user's role; anonymous callers see public data only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from govops.auth.service import readable_classifications
from govops.auth.web import CurrentUser
from govops.errors import NotFound

ANONYMOUS_CLASSIFICATIONS = ("public",)


def readable(user: CurrentUser) -> tuple[str, ...]:
    return readable_classifications(user.role) if user is not None else ANONYMOUS_CLASSIFICATIONS


Readable = Annotated[tuple[str, ...], Depends(readable)]


def require_readable(code: str, classification: str, allowed: tuple[str, ...]) -> None:
    if classification not in allowed:
        # 404, not 403: the existence of a confidential indicator is itself not for everyone.
        raise NotFound(f"no indicator with code {code!r}", hint="list the codes with GET /api/v1/indicators")
