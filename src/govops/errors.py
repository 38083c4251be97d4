"""The one error type govops raises for anything a user can fix.

Every error says what went wrong, where (file, row, field, cell...) and how to fix it. The API
renders it as ``{"error": {...}}`` with a stable shape; the CLI prints it in red.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import field as _field
from typing import Any

# Lone UTF-16 surrogates (from a JSON "\ud800") cannot be written as UTF-8: not to the store, a response or a terminal.
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_VALUE_CHARS = 200


def safe_text(text: str) -> str:
    """The text with each lone surrogate written out as its escape (``\\ud800``), so that it can be encoded."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shown_value(value: Any) -> str | int | float | None:
    """A value as a problem shows it: numbers as numbers when JSON can carry them, anything else as short text."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool) and _json_number(value)):
        return value
    text = safe_text(value if isinstance(value, str) else _spelled(value))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _json_number(value: int | float) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return bool(abs(value) < 10**MAX_VALUE_CHARS)


def _spelled(value: Any) -> str:
    if isinstance(value, float):  # NaN and the infinities, as JSON text spells them
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"a number of more than {MAX_VALUE_CHARS} digits"
    try:
        return str(value)
    except (RecursionError, ValueError):  # a structure nested thousands deep, an int past Python's digit limit
        return f"a {type(value).__name__} too large to show"


def lazy_gettext(message: str) -> str:
    """Marks an English message for the catalogue (scripts/update_translations.py); it is translated where shown."""
    return message


def _filled(template: str, params: Mapping[str, Any]) -> str:
    return template % {key: shown_value(value) for key, value in params.items()}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of the input.

    `message` and `hint` are English (the API's words). A problem made with `Problem.of` also keeps its
    stable `code`, the catalogue's wording (`template`, `hint_template`: msgids with `%(name)s`) and the
    values put into it (`params`), so that the console and the CLI show it in the reader's language.
    """

    message: str
    field: str | None = None
    row: int | None = None
    hint: str | None = None
    value: Any = None
    # A place that a row number cannot name: "sheet CPI, cell D7", "series M.USD.EUR.SP00.A".
    where: str | None = None
    code: str = "invalid"
    template: str | None = None
    hint_template: str | None = None
    params: Mapping[str, Any] = _field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def of(
        cls,
        code: str,
        message: str,
        hint: str | None = None,
        *,
        row: int | None = None,
        field: str | None = None,
        value: Any = None,
        where: str | None = None,
        **params: Any,
    ) -> Problem:
        """A problem worded by the catalogue: `message` and `hint` are msgids (marked with `lazy_gettext`)."""
        return cls(
            message=_filled(message, params),
            hint=None if hint is None else _filled(hint, params),
            row=row,
            field=field,
            value=value,
            where=where,
            code=code,
            template=message,
            hint_template=hint,
            params=params,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: no NaN or infinity, no lone surrogate, whatever the input held."""
        out: dict[str, Any] = {"code": self.code, "message": safe_text(self.message)}
        for key in ("row", "where", "field", "value", "hint"):
            val = getattr(self, key)
            if key == "value":
                val = shown_value(val)
            elif isinstance(val, str):
                val = safe_text(val)
            if val is not None:
                out[key] = val
        return out

    def stored(self) -> dict[str, Any]:
        """`as_dict` and what it takes to word it again in another language (a receipt shown later)."""
        out = self.as_dict()
        if self.template is not None:
            out["template"] = self.template
            if self.hint_template is not None:
                out["hint_template"] = self.hint_template
            out["params"] = {key: shown_value(value) for key, value in self.params.items()}
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
    # As on Problem: the catalogue's wording and its values, for readers of another language.
    template: str | None = None
    hint_template: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def of(
        cls,
        code: str,
        message: str,
        hint: str | None = None,
        *,
        status: int = 400,
        where: str | None = None,
        **params: Any,
    ) -> GovopsError:
        """An error worded by the catalogue: `message` and `hint` are msgids (marked with `lazy_gettext`)."""
        return cls(
            message=_filled(message, params),
            code=code,
            hint=None if hint is None else _filled(hint, params),
            where=where,
            status=status,
            template=message,
            hint_template=hint,
            params=params,
        )

    def __str__(self) -> str:
        text = self.message if self.where is None else f"{self.where}: {self.message}"
        return text if self.hint is None else f"{text} ({self.hint})"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": safe_text(self.message)}
        if self.where is not None:
            out["where"] = safe_text(self.where)
        if self.hint is not None:
            out["hint"] = safe_text(self.hint)
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
