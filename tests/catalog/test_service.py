from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import (
    export_catalogue,
    import_catalogue,
    load_reference,
    parse_catalogue,
    reference_catalogue,
)
from govops.errors import Rejected
from govops.warehouse.accept import ingest


def test_loading_the_reference_again_changes_nothing(session: Session) -> None:
    before = (
        session.scalar(select(func.count()).select_from(Area)),
        session.scalar(select(func.count()).select_from(Indicator)),
    )
    counts = load_reference(session=session)
    assert counts["areas"] == 3385 and counts["indicators"] >= 40
    after = (
        session.scalar(select(func.count()).select_from(Area)),
        session.scalar(select(func.count()).select_from(Indicator)),
    )
    assert before == after


def test_export_then_import_gives_the_same_catalogue(session: Session) -> None:
    exported = export_catalogue(session=session)
    assert {i.code for i in exported.indicators} == {i.code for i in reference_catalogue().indicators}
    import_catalogue(session=session, doc=exported)
    assert export_catalogue(session=session) == exported


def test_shipped_catalogue_covers_the_monthly_direction() -> None:
    doc = reference_catalogue()
    codes = {i.code for i in doc.indicators}
    assert len(codes) >= 40
    assert {"CPI", "EXPORTS", "IMPORTS", "ENT_NEW", "POP"} <= codes
    assert all(i.name_vi and i.name_en and i.definition_vi and i.definition_en for i in doc.indicators)
    assert sum(1 for i in doc.indicators if i.formula) >= 6


def _doc_with(**changes: object) -> CatalogueDoc:
    data = reference_catalogue().model_dump(mode="json")
    next(i for i in data["indicators"] if i["code"] == "CPI").update(changes)
    return CatalogueDoc.model_validate(data)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"unit": "NOPE"}, "indicators[CPI].unit", "unknown unit"),
        ({"owner": "NOBODY"}, "indicators[CPI].owner", "unknown agency"),
        ({"dimensions": ["NOPE"]}, "indicators[CPI].dimensions", "unknown codelist"),
        ({"groups": ["NOPE"]}, "indicators[CPI].groups", "unknown group"),
        ({"formula": "EXPORTS - NOPE"}, "indicators[CPI].formula", "unknown indicator NOPE"),
        ({"formula": "yoy(CPI)"}, "indicators[CPI].formula", "refers back to itself"),
        ({"area_aggregation": "sum", "area_weight": "POP"}, "indicators[CPI].area_weight", "only then"),
    ],
)
def test_a_bad_reference_rejects_the_whole_import(
    session: Session, changes: dict[str, object], field: str, words: str
) -> None:
    before = export_catalogue(session=session)
    with pytest.raises(Rejected) as caught:
        import_catalogue(session=session, doc=_doc_with(**changes), where="catalogue.yaml")
    assert any(p.field == field and words in p.message for p in caught.value.problems), caught.value.problems
    assert export_catalogue(session=session) == before


def test_periodicity_of_an_indicator_with_data_cannot_change(session: Session) -> None:
    ingest(session=session, rows=[(1, {"indicator": "CPI", "area": "01", "period": "2025-07", "value": 101.0})])
    with pytest.raises(Rejected) as caught:
        import_catalogue(session=session, doc=_doc_with(periodicity="Q"))
    assert caught.value.problems[0].field == "indicators[CPI].periodicity"


def test_yaml_errors_name_the_place(session: Session) -> None:
    with pytest.raises(Rejected) as caught:
        parse_catalogue("indicators:\n  - code: X1\n    name_vi: a\n    colour: red\n", where="mine.yaml")
    fields = {p.field for p in caught.value.problems}
    assert "indicators[X1].colour" in fields and "indicators[X1].unit" in fields
    assert caught.value.where == "mine.yaml"
    with pytest.raises(Exception, match="not valid YAML"):
        parse_catalogue("indicators: [", where="mine.yaml")
