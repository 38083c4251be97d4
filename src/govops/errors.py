"""The one error type govops raises for anything a user can fix.

Every error says what went wrong, where (file, row, field, cell...) and how to fix it. The API
renders it as ``{"error": {...}}`` with a stable shape; the CLI prints it in red.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of the input."""

    message: str
    field: str | None = None
    row: int | None = None
    hint: str | None = None
    value: Any = None
    # A place that a row number cannot name: "sheet CPI, cell D7", "series M.USD.EUR.SP00.A".
    where: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        for key in ("row", "where", "field", "value", "hint"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val
        return out


@dataclass
class GovopsError(Exception):
    """A failure the caller can understand and fix; never a bug."""

    message: str
    code: str = "invalid"
    hint: str | None = None
    where: str | None = None
    status: int = 400
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message if self.where is None else f"{self.where}: {self.message}"
        return text if self.hint is None else f"{text} ({self.hint})"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.where is not None:
            out["where"] = self.where
        if self.hint is not None:
            out["hint"] = self.hint
        if self.problems:
            out["problems"] = [p.as_dict() for p in self.problems]
        return out


class NotFound(GovopsError):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, code="not_found", hint=hint, status=404)


class Rejected(GovopsError):
    """Input rows failed validation; nothing was written."""

    def __init__(self, problems: list[Problem], *, where: str | None = None, total: int | None = None) -> None:
        counted = f"{len(problems)} problem(s)" + (f" in {total} row(s)" if total is not None else "")
        super().__init__(
            f"{counted}; nothing was written",
            code="rejected",
            hint="fix the rows listed in 'problems' and send the whole batch again",
            where=where,
            status=422,
            problems=problems,
        )
