"""How an observation's breakdown is written: its dimension key, e.g. ``SEX=F;AGE=Y15T64``.

The key names each of the indicator's dimensions (in the indicator's order) whose code is not the total;
an observation of the total over every dimension has the empty key. The catalogue owns this form because
the dimensions and their codelists are the catalogue's; the warehouse, the catalogue's import checks and
the SDMX and DHIS2 readers and writers all read and write keys through these two functions.
"""

from __future__ import annotations

from collections.abc import Mapping

# The SDMX code for "no breakdown" (all sexes, all ages...): never written into a key.
TOTAL = "_T"


def dim_key(dimensions: tuple[str, ...], dims: Mapping[str, str]) -> str:
    return ";".join(f"{d}={dims[d]}" for d in dimensions if dims.get(d, TOTAL) != TOTAL)


def parse_dim_key(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split(";")) if key else {}
