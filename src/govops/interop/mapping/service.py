"""Mappings by name: checked when saved, so that a submission never meets a broken one."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.errors import GovopsError, NotFound
from govops.interop.dhis2.mapping import load_mapping as load_dhis2_mapping
from govops.interop.models import InteropMapping
from govops.interop.sdmx import read as sdmx_read

KINDS = ("sdmx", "dhis2")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


def check(*, kind: str, text: str, structure: str | None = None, where: str = "mapping") -> None:
    """Raise the mapping's own error (with its line) if `text` is not a valid mapping of `kind`."""
    if kind == "sdmx":
        sdmx_read.load_mapping(text, where=where)
        if structure is not None:
            sdmx_read.check_structures([structure.encode()], where=f"{where}, structure")
    elif kind == "dhis2":
        if structure is not None:
            raise GovopsError("a DHIS2 mapping takes no SDMX structure", code="invalid_mapping", where=where)
        load_dhis2_mapping(text, where=where)
    else:
        raise GovopsError(
            f"unknown mapping kind {kind!r}", code="invalid_mapping", where=where, hint=f"use {' or '.join(KINDS)}"
        )


def save_mapping(
    *, session: Session, name: str, kind: str, text: str, structure: str | None = None, by: str
) -> InteropMapping:
    """Create or replace the mapping `name`; nothing is stored unless it reads."""
    if not _NAME.fullmatch(name):
        raise GovopsError(
            f"mapping name {name!r} is not valid",
            code="invalid_mapping",
            hint="use letters, digits, '_', '.', '-' (up to 80), e.g. ecb-exr or moh-malaria",
        )
    check(kind=kind, text=text, structure=structure, where=f"mapping {name}")
    found = session.scalar(select(InteropMapping).where(InteropMapping.name == name))
    if found is None:
        found = InteropMapping(name=name)
        session.add(found)
    found.kind, found.text, found.structure = kind, text, structure
    found.updated_at, found.updated_by = utcnow(), by
    session.flush()
    return found


def get_mapping(*, session: Session, name: str) -> InteropMapping:
    found = session.scalar(select(InteropMapping).where(InteropMapping.name == name))
    if found is None:
        raise NotFound(
            f"no mapping named {name!r}",
            hint="list mappings with `govops mapping list` or on the console's mappings page",
        )
    return found


def list_mappings(*, session: Session) -> list[InteropMapping]:
    return list(session.scalars(select(InteropMapping).order_by(InteropMapping.name)))
