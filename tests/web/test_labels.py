"""What the console calls the codes it shows: every code has a label, in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from govops.auth.schemas import Role
from govops.catalog.schemas import AreaRule, Classification, GroupKind, TimeRule
from govops.i18n import translations
from govops.warehouse.schemas import Status
from govops.web import labels

SRC = Path(__file__).resolve().parents[2] / "src" / "govops"


@pytest.mark.parametrize(
    ("enum", "table"),
    [
        (Role, labels.ROLES),
        (Classification, labels.CLASSIFICATIONS),
        (AreaRule, labels.AREA_RULES),
        (TimeRule, labels.TIME_RULES),
        (GroupKind, labels.GROUP_KINDS),
        (Status, labels.OBSERVATION_STATUSES),
    ],
)
def test_every_code_of_a_concept_has_a_label_in_vietnamese(enum: type[StrEnum], table: dict[str, str]) -> None:
    assert set(table) == {member.value for member in enum}
    vi = translations("vi")
    assert all(vi.gettext(label) != label for label in table.values())


def test_every_action_the_audit_trail_records_has_a_label() -> None:
    recorded = set()
    for source in SRC.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', text))
        if 'action="submission." +' in text:
            recorded |= {"submission.accepted", "submission.rejected"}
    assert len(recorded) >= 20
    assert recorded - set(labels.AUDIT_ACTIONS) == set()


def test_times_are_shown_on_the_readers_clock_with_its_zone() -> None:
    moment = datetime(2025, 7, 14, 8, 30, 5, tzinfo=UTC)
    assert labels.local_time(moment, ZoneInfo("Asia/Ho_Chi_Minh")) == "2025-07-14 15:30 GMT+7"
    assert labels.local_time(moment.replace(tzinfo=None), ZoneInfo("Asia/Kolkata"), seconds=True) == (
        "2025-07-14 14:00:05 GMT+5:30"
    )
    assert labels.local_time(moment, ZoneInfo("America/Bogota")) == "2025-07-14 03:30 GMT-5"
