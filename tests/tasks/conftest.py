"""Callers and a directive shared by the tasks tests (stored in the test's rolled-back savepoint)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from govops.tasks import service
from govops.tasks.models import Directive
from govops.tasks.schemas import DirectiveIn, TaskIn
from tests.cli.conftest import govops, initialised_store

__all__ = ["govops", "initialised_store"]


@pytest.fixture
def office(session: Session) -> service.Caller:
    return service.caller(session=session, agency_code="GO", name="analyst.vpcp")


@pytest.fixture
def finance(session: Session) -> service.Caller:
    return service.caller(session=session, agency_code="MOF", name="officer.btc")


@pytest.fixture
def industry(session: Session) -> service.Caller:
    return service.caller(session=session, agency_code="MOIT", name="officer.bct")


@pytest.fixture
def directive(session: Session, office: service.Caller) -> Directive:
    return service.create_directive(
        session=session,
        data=DirectiveIn(
            kind="resolution",
            number="99/NQ-CP-TEST",
            title="Nghị quyết thử nghiệm",
            signed_on=date(2025, 1, 8),
            signer="Thủ tướng",
        ),
        who=office,
    )


def task_in(**given: object) -> TaskIn:
    data: dict[str, object] = {
        "directive": "99/NQ-CP-TEST",
        "text": "Hoàn thiện hồ sơ dự án Luật",
        "lead": "MOF",
        "coordinating": ["MOJ"],
        "deadline": date(2025, 6, 30),
    }
    data.update(given)
    return TaskIn.model_validate(data)
