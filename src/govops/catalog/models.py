"""Catalogue tables: areas, agencies, units, codelists, groups and indicators."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govops.db.base import Base, UTCDateTime, utcnow


class Area(Base):
    """An administrative unit: the nation, a province or a ward, with its validity in time."""

    __tablename__ = "area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_ascii: Mapped[str] = mapped_column(String(200))
    short_vi: Mapped[str] = mapped_column(String(200))
    short_ascii: Mapped[str] = mapped_column(String(200))
    kind_vi: Mapped[str] = mapped_column(String(50))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    # A code can outlive its name: 80 was Long An's until 2025-06-30 and is Tay Ninh's since.
    former_name_vi: Mapped[str | None] = mapped_column(String(200))
    former_short_vi: Mapped[str | None] = mapped_column(String(200))
    former_until: Mapped[date | None] = mapped_column(Date)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    area_km2: Mapped[float | None] = mapped_column(Float)

    parent: Mapped[Area | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    successor: Mapped[Area | None] = relationship(remote_side=[id], foreign_keys=[successor_id])

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def name_on(self, day: date) -> str:
        if self.former_name_vi and self.former_until and day <= self.former_until:
            return self.former_name_vi
        return self.name_vi


# The kind of agency that is the Government Office: it supervises every other agency (their tasks, their reports).
GOVERNMENT_OFFICE = "government_office"


class Agency(Base):
    """A ministry, sector, provincial people's committee, state group or the Government Office."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])
    area: Mapped[Area | None] = relationship()


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    symbol: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[str] = mapped_column(String(32))
    factor: Mapped[float] = mapped_column(Float)


class Codelist(Base):
    """A list of codes; its code is also the dimension id used in observations' dims."""

    __tablename__ = "codelist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))

    codes: Mapped[list[CodeItem]] = relationship(
        back_populates="codelist", order_by="CodeItem.position", cascade="all, delete-orphan"
    )


class CodeItem(Base):
    __tablename__ = "code_item"
    __table_args__ = (UniqueConstraint("codelist_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    codelist_id: Mapped[int] = mapped_column(ForeignKey("codelist.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    codelist: Mapped[Codelist] = relationship(back_populates="codes")


class IndicatorGroup(Base):
    __tablename__ = "indicator_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))


indicator_group_member = Table(
    "indicator_group_member",
    Base.metadata,
    Column("indicator_id", ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("indicator_group.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class IndicatorDimension(Base):
    __tablename__ = "indicator_dimension"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True)
    codelist_id: Mapped[int] = mapped_column(ForeignKey("codelist.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)

    codelist: Mapped[Codelist] = relationship()


class Indicator(Base):
    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    definition_vi: Mapped[str] = mapped_column(Text, default="")
    definition_en: Mapped[str] = mapped_column(Text, default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    periodicity: Mapped[str] = mapped_column(String(3))
    area_aggregation: Mapped[str] = mapped_column(String(16))
    area_weight_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"), index=True)
    time_aggregation: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    classification: Mapped[str] = mapped_column(String(16))
    higher_is_better: Mapped[bool | None] = mapped_column(Boolean)
    # A balance that can be negative one period and positive the next (trade balance, budget surplus/deficit):
    # its changes are differences in its unit, since a percentage change of it means nothing.
    crosses_zero: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    formula: Mapped[str | None] = mapped_column(Text)
    # Other words people use for it ("lạm phát", "CPI"), so that a search finds it by them too.
    keywords_vi: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    keywords_en: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    owner: Mapped[Agency] = relationship(lazy="joined")
    area_weight: Mapped[Indicator | None] = relationship(remote_side=[id])
    dimensions: Mapped[list[IndicatorDimension]] = relationship(
        order_by=IndicatorDimension.position, cascade="all, delete-orphan", lazy="selectin"
    )
    groups: Mapped[list[IndicatorGroup]] = relationship(secondary=indicator_group_member, lazy="selectin")

    @property
    def dimension_codes(self) -> list[str]:
        return [d.codelist.code for d in self.dimensions]


class CatalogueVersion(Base):
    """One row whose stamp changes with every write to a catalogue table, in the writer's transaction.

    Database triggers set it (migration 0014), so that no writer can forget to: the catalogue import, the
    reference loader, a console form, plain SQL. The stamp is random rather than a counter so that a change
    rolled back, or another database, never brings back a stamp that once named a different catalogue:
    what a process remembers under a stamp (`warehouse.validation.CatalogIndex`) stays true for it.
    """

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
