"""A catalogue import never pulls a code, dimension, unit or periodicity from under stored observations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from govops.catalog.models import Codelist, Indicator
from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import (
    CatalogueRefused,
    Change,
    export_catalogue,
    import_catalogue,
    plan_catalogue,
    reference_catalogue,
)
from govops.warehouse.accept import ingest
from govops.warehouse.models import Observation
from govops.warehouse.validation import CatalogIndex

Edit = Callable[[dict[str, Any]], None]


def edited(*edits: Edit) -> CatalogueDoc:
    data = reference_catalogue().model_dump(mode="json")
    for edit in edits:
        edit(data)
    return CatalogueDoc.model_validate(data)


def item(data: dict[str, Any], section: str, code: str) -> dict[str, Any]:
    return next(i for i in data[section] if i["code"] == code)


def without_code(codelist: str, code: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        found = item(data, "codelists", codelist)
        found["codes"] = [c for c in found["codes"] if c["code"] != code]

    return edit


def indicator(code: str, **changes: Any) -> Edit:
    return lambda data: item(data, "indicators", code).update(changes)


def unit(code: str, **changes: Any) -> Edit:
    return lambda data: item(data, "units", code).update(changes)


@pytest.fixture
def cpi_by_group(session: Session) -> None:
    """Three CPI observations: two of food and catering (COICOP_VN=01), one of all items."""
    ingest(
        session=session,
        rows=[
            (1, {"indicator": "CPI", "area": "01", "period": "2025-07", "value": 104.1, "dims": {"COICOP_VN": "01"}}),
            (2, {"indicator": "CPI", "area": "79", "period": "2025-07", "value": 103.2, "dims": {"COICOP_VN": "01"}}),
            (3, {"indicator": "CPI", "area": "01", "period": "2025-07", "value": 102.5}),
        ],
    )
    session.commit()  # kept when a refused import rolls back


def stored_cpi(session: Session) -> list[tuple[str, str, float, int]]:
    session.expire_all()
    cpi = session.scalar(select(Indicator.id).where(Indicator.code == "CPI"))
    rows = session.execute(
        select(Observation.period, Observation.dim_key, Observation.value, Observation.area_id)
        .where(Observation.indicator_id == cpi)
        .order_by(Observation.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def codes_of(session: Session, codelist: str) -> list[str]:
    session.expire_all()
    found = session.scalar(select(Codelist).where(Codelist.code == codelist))
    assert found is not None
    return [c.code for c in found.codes]


def refused(session: Session, doc: CatalogueDoc) -> CatalogueRefused:
    before, observations = export_catalogue(session=session), stored_cpi(session)
    with pytest.raises(CatalogueRefused) as caught:
        import_catalogue(session=session, doc=doc, where="catalogue.yaml")
    session.rollback()
    assert export_catalogue(session=session) == before
    assert stored_cpi(session) == observations
    return caught.value


@pytest.mark.usefixtures("cpi_by_group")
def test_removing_a_code_that_observations_use_is_refused_and_nothing_changes(session: Session) -> None:
    # The import also renames another code and adds an indicator: none of it may be written.
    doc = edited(
        without_code("COICOP_VN", "01"),
        lambda data: item(data, "codelists", "COICOP_VN")["codes"][0].update(name_en="Beverages"),
        lambda data: data["indicators"].append({**item(data, "indicators", "POP"), "code": "POP_NEW"}),
    )
    error = refused(session, doc)
    assert [p.as_dict() for p in error.problems] == [
        {
            "code": "invalid",
            "message": "code 01 of COICOP_VN is used by 2 observations of CPI",
            "field": "codelists[COICOP_VN].codes",
            "value": "01",
            "hint": "keep it in the code list, or delete those observations first",
        }
    ]
    assert error.where == "catalogue.yaml" and "nothing was written" in error.message
    assert codes_of(session, "COICOP_VN")[0] == "01"
    assert session.scalar(select(Indicator).where(Indicator.code == "POP_NEW")) is None


@pytest.mark.usefixtures("cpi_by_group")
@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (indicator("CPI", periodicity="Q"), "indicators[CPI].periodicity", "3 observations with periodicity M"),
        (indicator("CPI", unit="PCT"), "indicators[CPI].unit", "CPI holds 3 observations with unit INDEX_2019"),
        (indicator("CPI", dimensions=[]), "indicators[CPI].dimensions", "keyed by [COICOP_VN]"),
        (indicator("CPI", dimensions=["COICOP_VN", "VSIC_IND"]), "indicators[CPI].dimensions", "cannot change to"),
        (
            indicator("CPI", formula="EXPORTS - IMPORTS", area_aggregation="sum", area_weight=None),
            "indicators[CPI].formula",
            "CPI holds 3 observations with formula (none)",
        ),
        (unit("INDEX_2019", factor=100), "units[INDEX_2019].factor", "used by 3 observations of CPI"),
        (unit("INDEX_2019", quantity="money"), "units[INDEX_2019].quantity", "cannot change from index_2019 to money"),
    ],
)
def test_changing_what_stored_observations_use_is_refused(
    session: Session, edit: Edit, field: str, message: str
) -> None:
    error = refused(session, edited(edit))
    assert len(error.problems) == 1, error.problems
    assert error.problems[0].field == field and message in error.problems[0].message, error.problems[0]
    assert error.problems[0].hint


@pytest.mark.usefixtures("cpi_by_group")
def test_an_import_that_adds_or_relabels_goes_through(session: Session) -> None:
    doc = edited(
        lambda data: item(data, "codelists", "COICOP_VN")["codes"].append(
            {"code": "12", "name_vi": "Vàng", "name_en": "Gold"}
        ),
        lambda data: item(data, "codelists", "COICOP_VN")["codes"][0].update(name_en="Food and catering"),
        without_code("COICOP_VN", "11"),  # no observation uses it
        unit("INDEX_2019", name_en="Index (2019 = 100)"),
        indicator("CPI", name_en="Consumer price index (all items)"),
        lambda data: data["units"].append({**item(data, "units", "PCT"), "code": "PERMILLE", "factor": 0.001}),
    )
    import_catalogue(session=session, doc=doc)
    assert codes_of(session, "COICOP_VN") == [f"{n:02d}" for n in range(1, 11)] + ["12"]
    after = export_catalogue(session=session)
    assert item(after.model_dump(), "indicators", "CPI")["name_en"] == "Consumer price index (all items)"
    assert item(after.model_dump(), "units", "INDEX_2019")["name_en"] == "Index (2019 = 100)"
    assert item(after.model_dump(), "units", "PERMILLE")["factor"] == 0.001
    assert len(stored_cpi(session)) == 3


@pytest.mark.usefixtures("cpi_by_group")
def test_the_plan_lists_every_change_with_the_observations_it_touches(session: Session) -> None:
    before = export_catalogue(session=session)
    doc = edited(
        without_code("COICOP_VN", "01"),
        without_code("COICOP_VN", "11"),
        indicator("CPI", periodicity="Q", name_en="CPI"),
        lambda data: data["units"].append({**item(data, "units", "PCT"), "code": "PERMILLE", "factor": 0.001}),
    )
    plan = plan_catalogue(session=session, doc=doc)
    rows = {(c.kind, c.label, c.change, c.indicator, c.observations, c.refused) for c in plan.changes}
    assert rows == {
        ("code", "COICOP_VN=01", Change.removed, "CPI", 2, True),
        ("code", "COICOP_VN=11", Change.removed, None, 0, False),
        ("indicator", "CPI", Change.changed, "CPI", 3, True),
        ("indicator", "CPI", Change.changed, "CPI", 3, False),
        ("unit", "PERMILLE", Change.added, None, 0, False),
    }
    assert {c.fields for c in plan.changes if c.kind == "indicator"} == {("periodicity",), ("name_en",)}
    assert [p.field for p in plan.problems] == ["codelists[COICOP_VN].codes", "indicators[CPI].periodicity"]
    assert plan.counts() == {"added": 1, "changed": 2, "removed": 2}
    assert export_catalogue(session=session) == before


def test_the_plan_of_the_stored_catalogue_is_empty_and_an_empty_import_keeps_everything(session: Session) -> None:
    assert plan_catalogue(session=session, doc=export_catalogue(session=session)).changes == []
    before = export_catalogue(session=session)
    # What a file leaves out is kept: an import never deletes indicators, code lists or units.
    assert plan_catalogue(session=session, doc=CatalogueDoc()).changes == []
    import_catalogue(session=session, doc=CatalogueDoc(indicators=[before.indicators[0]]))
    assert export_catalogue(session=session) == before


@pytest.fixture
def observation_queries(connection: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM observation" in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


@pytest.mark.usefixtures("cpi_by_group")
def test_observations_are_counted_in_one_grouped_query(session: Session, observation_queries: list[str]) -> None:
    # Five codes of a code list that four indicators use, and two of their indicators changed.
    edits = [without_code("COICOP_VN", f"{n:02d}") for n in range(1, 6)]
    doc = edited(*edits, indicator("CPI", unit="PCT"), unit("INDEX_2019", factor=10))
    plan = plan_catalogue(session=session, doc=doc)
    assert len(observation_queries) == 1 and "GROUP BY" in observation_queries[0]
    assert {(c.label, c.observations) for c in plan.refused} == {
        ("COICOP_VN=01", 2),
        ("CPI", 3),
        ("INDEX_2019", 3),
    }
    # Nothing changed: nothing counted; an import that only renames counts nothing either.
    observation_queries.clear()
    plan_catalogue(session=session, doc=reference_catalogue())
    import_catalogue(session=session, doc=edited(indicator("CPI", name_en="CPI"), unit("INDEX_2019", name_en="Index")))
    assert observation_queries == []


def test_a_code_or_dimension_listed_twice_is_refused_not_crashed_on(session: Session) -> None:
    def twice(data: dict[str, Any]) -> None:
        codes = item(data, "codelists", "COICOP_VN")["codes"]
        codes.append(codes[0])

    error = refused(session, edited(twice, indicator("CPI", dimensions=["COICOP_VN", "COICOP_VN"])))
    assert {p.field for p in error.problems} == {
        "codelists[COICOP_VN].codes[01]",
        "indicators[CPI].dimensions[COICOP_VN]",
    }
    assert all("listed twice" in p.message for p in error.problems)


def test_an_import_waits_for_observations_being_written_of_the_indicators_it_checks(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers take the whole store's write lock anyway")
    row = {"indicator": "CPI", "area": "01", "period": "2025-07", "value": 104.1, "dims": {"COICOP_VN": "01"}}
    with Session(engine) as writer, Session(engine) as importer:
        ingest(session=writer, rows=[(1, row)])  # not yet committed: the import must not count without it
        importer.execute(text("SET LOCAL lock_timeout = '50ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            import_catalogue(session=importer, doc=edited(without_code("COICOP_VN", "01")))
        importer.rollback()
        writer.rollback()


def test_a_batch_being_checked_makes_an_import_wait_even_before_it_writes(engine: Engine) -> None:
    """The catalogue read for a batch stays true until the batch is written: no code it checked can be removed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers take the whole store's write lock anyway")
    with Session(engine) as writer, Session(engine) as importer:
        index = CatalogIndex(writer)  # checked against this catalogue; nothing written yet
        assert "01" in index.codes["COICOP_VN"]
        importer.execute(text("SET LOCAL lock_timeout = '50ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            import_catalogue(session=importer, doc=edited(without_code("COICOP_VN", "01")))
        importer.rollback()
        writer.rollback()
