"""Keyset paging shared by every list endpoint: an opaque cursor that names the last row seen."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

from govops.errors import GovopsError

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


# Catalogue tables use 32-bit ids on PostgreSQL; observations 64-bit. A cursor past either is not ours.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


def decode_cursor(cursor: str | None, *, max_id: int = MAX_ID) -> int:
    """The id after which the next page starts; 0 for the first page."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind == "id" and number.isascii() and number.isdigit() and int(number) <= max_id:
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise GovopsError(
        f"cursor {cursor!r} is not one this server gave out",
        code="invalid_cursor",
        hint="pass the next_cursor value of the previous page unchanged, or leave cursor out for the first page",
    )


def make_page(rows: Sequence[R], *, limit: int, key: Callable[[R], int], out: Callable[[R], T]) -> Page[T]:
    """`rows` were fetched with ``limit + 1`` so that we know whether another page follows."""
    shown = rows[:limit]
    more = len(rows) > limit and bool(shown)
    return Page(items=[out(r) for r in shown], next_cursor=encode_cursor(key(shown[-1])) if more else None)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise GovopsError(f"limit {limit} is out of range", code="invalid_limit", hint=f"use 1 to {MAX_LIMIT}")
    return limit
