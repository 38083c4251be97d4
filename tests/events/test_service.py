"""Domain events: written in the writer's transaction, read back in order under each reader's rights."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.errors import GovopsError
from govops.events.service import SCAN_WINDOW, Interest, ReadRule, emit, newest_id, read
from govops.paging import encode_cursor
from tests.warehouse.conftest import TEST_CATALOGUE, obs, put

PUBLIC_ONLY = Interest(classifications=frozenset({"public"}))
EVERYTHING = Interest(classifications=frozenset({"public", "internal", "confidential"}), any_agency=True)


def _renamed(doc: CatalogueDoc, *codes: str) -> CatalogueDoc:
    """The same catalogue with new English names for some indicators."""
    renamed = [
        i.model_copy(update={"name_en": f"{i.name_en} (renamed)"}) if i.code in codes else i for i in doc.indicators
    ]
    return doc.model_copy(update={"indicators": renamed})


def _emit(session: Session, subject: str, rule: ReadRule, topic: str = "tasks", kind: str = "task.overdue") -> int:
    return emit(session=session, topic=topic, type=kind, subject=subject, payload={"n": subject}, rule=rule).id


def test_each_reader_gets_only_what_its_rights_and_filters_let_through(session: Session) -> None:
    start = newest_id(session=session)
    public = _emit(session, "a", ReadRule("public"))
    confidential = _emit(session, "b", ReadRule("confidential"))
    granted = _emit(session, "c", ReadRule("internal", indicator="ENT_NEW"))
    not_granted = _emit(session, "d", ReadRule("internal", indicator="TREASURY_CASH"))
    mof_only = _emit(session, "e", ReadRule("public", agency="MOF"))
    alert = _emit(session, "f", ReadRule("public"), topic="alerts", kind="alert.raised")

    def ids(interest: Interest) -> list[int]:
        return [e.id for e in read(session=session, after_id=start, limit=100, interest=interest).items]

    assert ids(PUBLIC_ONLY) == [public, alert]
    assert ids(EVERYTHING) == [public, confidential, granted, not_granted, mof_only, alert]
    member = Interest(classifications=frozenset({"public", "internal"}), readable=frozenset({"ENT_NEW"}), agency="MOF")
    assert ids(member) == [public, granted, mof_only, alert]
    other_agency = Interest(classifications=frozenset({"public", "internal"}), readable=frozenset(), agency="MOH")
    assert ids(other_agency) == [public, alert]
    # A topic or a type narrows the kinds; an indicator filter keeps only events about that indicator.
    assert ids(Interest(classifications=EVERYTHING.classifications, topics=frozenset({"alerts"}))) == [alert]
    assert ids(Interest(classifications=EVERYTHING.classifications, topics=frozenset({"task.overdue"}))) == [
        public, confidential, granted, not_granted
    ]  # fmt: skip
    assert ids(Interest(classifications=EVERYTHING.classifications, indicators=frozenset({"ENT_NEW"}))) == [granted]


def test_the_cursor_moves_past_what_a_reader_may_not_see(session: Session) -> None:
    start = newest_id(session=session)
    hidden = [_emit(session, str(n), ReadRule("confidential")) for n in range(3)]
    shown = _emit(session, "shown", ReadRule("public"))
    first, upto, caught_up = read(session=session, after_id=start, limit=1, interest=PUBLIC_ONLY)
    assert [e.id for e in first] == [shown] and upto == shown and caught_up
    # Nothing more: the cursor stays where it is until something new comes.
    assert read(session=session, after_id=upto, limit=1, interest=PUBLIC_ONLY) == ([], upto, True)
    # A reader that sees nothing still moves past what it may not read, and never scans it again.
    nothing, past, _ = read(session=session, after_id=start, limit=10, interest=Interest(frozenset({"none"})))
    assert nothing == [] and past == shown > hidden[-1]


def test_a_payload_may_not_take_the_envelopes_keys(session: Session) -> None:
    with pytest.raises(GovopsError, match="envelope"):
        emit(session=session, topic="t", type="t.x", subject="s", payload={"id": 1}, rule=ReadRule("public"))
    with pytest.raises(GovopsError, match="topic, a type and a subject"):
        emit(session=session, topic="", type="t.x", subject="s", payload={}, rule=ReadRule("public"))


def test_the_change_feed_pages_through_every_kind_in_order(session: Session, client: TestClient) -> None:
    import_catalogue(session=session, doc=TEST_CATALOGUE)
    start = encode_cursor(newest_id(session=session))
    put(session, [obs("T_FLOW2", "01", "2025-01", 1)])
    import_catalogue(session=session, doc=_renamed(TEST_CATALOGUE, "T_FLOW2", "T_SECRET"))
    put(session, [obs("T_FLOW2", "01", "2025-02", 2), obs("T_SECRET", "01", "2025-02", 3)])
    seen: list[dict[str, object]] = []
    page_cursor = start
    while True:
        page = client.get("/api/v1/changes", params={"cursor": page_cursor, "limit": 1}).json()
        seen += page["items"]
        page_cursor = page["next_cursor"]
        if page["caught_up"]:
            break
    # An anonymous reader: the public indicator's changes, its catalogue change between them, nothing confidential.
    assert [(e["type"], e["subject"]) for e in seen] == [
        ("observation.changed", "T_FLOW2/01/2025-01"),
        ("indicator.updated", "T_FLOW2"),
        ("observation.changed", "T_FLOW2/01/2025-02"),
    ]
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids)
    updated = seen[1]
    assert (updated["topic"], updated["indicator"], updated["changed"], updated["name_en"]) == (
        "catalog", "T_FLOW2", ["name_en"], "Test indicator T_FLOW2 (renamed)"
    )  # fmt: skip
    assert "read_classification" not in updated and "classification" not in updated
    only = client.get("/api/v1/changes", params={"cursor": start, "topic": "catalog"}).json()
    assert [e["type"] for e in only["items"]] == ["indicator.updated"]
    by_type = client.get(
        "/api/v1/changes", params={"cursor": start, "topic": "observation.changed,indicator.created"}
    ).json()
    assert [e["subject"] for e in by_type["items"]] == ["T_FLOW2/01/2025-01", "T_FLOW2/01/2025-02"]


def test_a_gap_of_ids_wider_than_the_scan_window_does_not_answer_an_empty_page(session: Session) -> None:
    start = newest_id(session=session)
    # Writers that rolled back drew ids the store never shows: the next event comes far after the last,
    # even after a stored one just past the cursor.
    session.execute(text("DELETE FROM domain_event WHERE id > :start"), {"start": start})
    near = _emit(session, "near", ReadRule("confidential"))
    far = _emit(session, "far", ReadRule("public"))
    session.execute(
        text("UPDATE domain_event SET id = :id WHERE id = :far"), {"id": start + SCAN_WINDOW * 3, "far": far}
    )
    page = read(session=session, after_id=start, limit=10, interest=PUBLIC_ONLY)
    assert [e.id for e in page.items] == [start + SCAN_WINDOW * 3] and page.after_id == start + SCAN_WINDOW * 3
    assert page.caught_up and start < near < start + SCAN_WINDOW


def test_a_reader_that_sees_little_learns_it_has_not_caught_up(session: Session) -> None:
    start = newest_id(session=session)
    hidden = [_emit(session, str(n), ReadRule("confidential")) for n in range(5)]
    shown = _emit(session, "shown", ReadRule("public"))
    with patch("govops.events.service.SCAN_WINDOW", 3):
        first = read(session=session, after_id=start, limit=10, interest=PUBLIC_ONLY)
        assert first == ([], hidden[2], False)
        second = read(session=session, after_id=first.after_id, limit=10, interest=PUBLIC_ONLY)
    assert [e.id for e in second.items] == [shown] and second.after_id == shown and second.caught_up


OBSERVATION_FIELDS = {"indicator", "seq", "area", "period", "dims", "value", "status", "version", "submission"}
ENVELOPE_FIELDS = {"id", "topic", "type", "subject", "recorded_at"}


def test_each_kind_of_event_carries_its_own_fields_and_no_other(session: Session, client: TestClient) -> None:
    import_catalogue(session=session, doc=TEST_CATALOGUE)
    start = encode_cursor(newest_id(session=session))
    put(session, [obs("T_FLOW2", "01", "2025-01", 1.5)])
    import_catalogue(session=session, doc=_renamed(TEST_CATALOGUE, "T_FLOW2"))
    emit(
        session=session,
        topic="tasks",
        type="task.overdue",
        subject="T-7",
        payload={"task": "T-7", "due": "2025-09-30"},
        rule=ReadRule("public"),
    )
    session.commit()
    observation, updated, task = client.get("/api/v1/changes", params={"cursor": start}).json()["items"]
    # Observation items are as clients have always read them: every field, even a null one.
    assert set(observation) == ENVELOPE_FIELDS | OBSERVATION_FIELDS
    assert (observation["value"], observation["dims"], observation["submission"]) == (1.5, {}, None)
    # A catalogue change has its own fields, none of an observation's.
    assert set(updated) == ENVELOPE_FIELDS | {"indicator", "name_vi", "name_en", "changed"}
    assert updated["changed"] == ["name_en"]
    # Any other kind brings its fields in `payload`.
    assert set(task) == ENVELOPE_FIELDS | {"payload"}
    assert (task["type"], task["payload"]) == ("task.overdue", {"task": "T-7", "due": "2025-09-30"})

    schema = client.get("/openapi.json").json()["components"]["schemas"]
    item = schema["ChangesPage"]["properties"]["items"]["items"]
    kinds = {ref["$ref"].rsplit("/", 1)[1] for ref in item["oneOf"]}
    assert kinds == {"ObservationChange", "IndicatorCreated", "IndicatorUpdated", "DomainEventOut"}
    assert schema["IndicatorUpdated"]["properties"]["type"]["const"] == "indicator.updated"
    assert "value" not in schema["IndicatorUpdated"]["properties"]
    assert schema["DomainEventOut"]["properties"]["type"]["not"] == {
        "enum": ["indicator.created", "indicator.updated", "observation.changed"]
    }
