"""SDMX series keys: ``M.USD+JPY.EUR..A`` takes, per key dimension in order, one code, several joined by ``+``,
or any code (an empty part, or ``*``). One reading for the REST data queries govops answers and for the ``key:``
rules of an SDMX mapping."""

from __future__ import annotations

import re
from collections.abc import Sequence

from govops.errors import GovopsError

# SDMX IDType: the characters a code may hold.
SDMX_ID = re.compile(r"[A-Za-z0-9_@$\-]+", re.ASCII)
KEY_HINT = "write one part per dimension, joined by '.': a code, codes joined by '+', or nothing for any code"


def key_parts(key: str, *, dimensions: Sequence[str] | None = None) -> list[frozenset[str] | None]:
    """Per part of the key the codes it takes, None for any code. Raises GovopsError (``invalid_key``) for a part
    that is not codes; `dimensions`, when known, name the parts in the message."""
    parts: list[frozenset[str] | None] = []
    for n, part in enumerate(key.split(".")):
        if part in ("", "*"):
            parts.append(None)
            continue
        codes = part.split("+")
        bad = [code for code in codes if not SDMX_ID.fullmatch(code)]
        if bad:
            shown = bad[0] if len(bad[0]) <= 40 else bad[0][:40] + "..."
            named = dimensions[n] if dimensions is not None and n < len(dimensions) else f"dimension {n + 1}"
            raise GovopsError(
                f"{shown!r} in the key part for {named} is not a code",
                code="invalid_key",
                hint="codes are letters, digits and _ @ $ -; join several with '+' and leave no '+' dangling",
            )
        parts.append(frozenset(codes))
    return parts


def parse_key(key: str, *, dimensions: Sequence[str]) -> dict[str, frozenset[str]]:
    """Read an SDMX REST data key such as ``M.CPI.79+01.`` against the flow's key dimensions.

    Returns the codes asked for per dimension; a dimension left empty (any code) is absent, and
    ``all`` (or an empty key) gives an empty dict. Raises GovopsError for a key that does not fit.
    """
    if not isinstance(key, str):
        raise GovopsError(f"the key {key!r} is not text", code="invalid_key", hint=KEY_HINT)
    if key in ("all", ""):
        return {}
    parts = key.split(".")
    if len(parts) != len(dimensions):
        shown = key if len(key) <= 80 else key[:80] + "..."
        raise GovopsError(
            f"the key {shown!r} has {len(parts)} part(s), but this dataflow's key has {len(dimensions)}: "
            f"{'.'.join(dimensions)}",
            code="invalid_key",
            hint=f"{KEY_HINT}, e.g. {'.'.join([''] * len(dimensions))} for everything, or 'all'",
        )
    taken = key_parts(key, dimensions=dimensions)
    return {dimension: codes for dimension, codes in zip(dimensions, taken, strict=True) if codes is not None}
