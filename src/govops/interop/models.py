"""Stored mappings: how another system's codes (SDMX series keys, DHIS2 uids) become govops codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govops.db.base import Base, UTCDateTime


class InteropMapping(Base):
    """A mapping in YAML, by name; a submission names the one its body is read with (``?mapping=NAME``)."""

    __tablename__ = "interop_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # sdmx | dhis2
    text: Mapped[str] = mapped_column(Text)
    # An SDMX structure message (the data structure definition) kept beside an SDMX mapping, for
    # messages that do not carry or reference a structure the reader can find.
    structure: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
