"""The catalogue kept in memory between batches is never stale: a catalogue change, made in the same
transaction or committed by another engine, is seen by the very next batch (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.db.engine import make_engine
from govops.errors import Rejected
from govops.warehouse.validation import CatalogIndex
from tests.warehouse.conftest import TEST_CATALOGUE, _indicator, obs, put


def _with_indicator(code: str) -> CatalogueDoc:
    doc = TEST_CATALOGUE.model_dump()
    doc["indicators"].append(_indicator(code))
    return CatalogueDoc.model_validate(doc)


def _with_code(codelist: str, code: dict[str, str]) -> CatalogueDoc:
    doc = TEST_CATALOGUE.model_dump()
    next(c for c in doc["codelists"] if c["code"] == codelist)["codes"].append(code)
    return CatalogueDoc.model_validate(doc)


def _problems(session: Session, row: dict[str, object]) -> list[str]:
    with pytest.raises(Rejected) as caught:
        put(session, [row])
    return [p.message for p in caught.value.problems]


def _ward(code: str, province: Area) -> Area:
    return Area(
        code=code,
        level="ward",
        parent_id=province.id,
        name_vi=f"Phường thử {code}",
        name_ascii=f"Phuong thu {code}",
        short_vi=f"Thử {code}",
        short_ascii=f"Thu {code}",
        kind_vi="Phường",
    )


def test_a_new_indicator_is_accepted_by_the_very_next_batch(session: Session, catalogue: CatalogueDoc) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-07", 1.0)])  # the catalogue is now held in memory
    assert _problems(session, obs("T_LATE", "01", "2025-07", 2.0)) == ["unknown indicator 'T_LATE'"]

    import_catalogue(session=session, doc=_with_indicator("T_LATE"))

    assert put(session, [obs("T_LATE", "01", "2025-07", 2.0)]).created == 1


def test_a_new_code_of_a_classification_is_accepted_by_the_very_next_batch(
    session: Session, catalogue: CatalogueDoc
) -> None:
    row = obs("T_FLOW", "01", "2025-07", 3.0, dims={"T_SECTOR": "SRV"})
    assert _problems(session, row) == ["'SRV' is not a code of T_SECTOR"]
    import_catalogue(
        session=session, doc=_with_code("T_SECTOR", {"code": "SRV", "name_vi": "Dịch vụ", "name_en": "Services"})
    )

    assert put(session, [row]).created == 1


def test_a_new_area_and_a_ceased_one_are_seen_by_the_very_next_batch(session: Session, catalogue: CatalogueDoc) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-07", 1.0)])
    hanoi = session.query(Area).filter_by(code="01").one()
    session.add(_ward("99901", hanoi))
    session.flush()
    assert put(session, [obs("T_FLOW2", "99901", "2025-07", 4.0)]).created == 1

    # A change to a stored area, not only a new one: the same count of areas, a different catalogue.
    session.execute(update(Area).where(Area.code == "99901").values(valid_to=date(2025, 6, 30)))
    assert _problems(session, obs("T_FLOW2", "99901", "2025-08", 5.0)) == [
        "99901 Phường thử 99901 ceased on 2025-06-30 (merged)"
    ]


def test_the_catalogue_is_read_once_while_nothing_changes(session: Session, catalogue: CatalogueDoc) -> None:
    first, second = CatalogIndex(session), CatalogIndex(session)
    assert second.areas is first.areas  # held in memory, not read again for each batch
    import_catalogue(session=session, doc=_with_indicator("T_LATE"))
    third = CatalogIndex(session)
    assert third.areas is not first.areas
    assert "T_LATE" in third.indicators and "T_LATE" not in first.indicators


@pytest.fixture
def other_engine(engine: Engine) -> Iterator[Engine]:
    """Another engine on the same store, as another govops process would have: its commits are the only link."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


def test_an_area_committed_by_another_engine_is_seen_by_the_next_batch(engine: Engine, other_engine: Engine) -> None:
    row = [(1, {"indicator": "ENT_NEW", "area": "99902", "period": "2026-09", "value": 7.0})]
    with Session(engine) as before:
        assert "99902" not in CatalogIndex(before).areas  # this process holds the catalogue without it
        before.rollback()
    try:
        with Session(other_engine) as writer, writer.begin():
            writer.add(_ward("99902", writer.query(Area).filter_by(code="79").one()))

        with Session(engine) as after:
            assert put(after, [row[0][1]]).created == 1
            after.rollback()

        with Session(other_engine) as writer, writer.begin():
            writer.execute(update(Area).where(Area.code == "99902").values(valid_to=date(2026, 6, 30)))

        with Session(engine) as later:
            assert _problems(later, row[0][1]) == ["99902 Phường thử 99902 ceased on 2026-06-30 (merged)"]
            later.rollback()
    finally:
        with Session(other_engine) as writer, writer.begin():
            writer.execute(delete(Area).where(Area.code == "99902"))
