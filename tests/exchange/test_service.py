"""Members, API keys and grants, on the real store."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.errors import GovopsError
from govops.exchange import service
from govops.exchange.service import Unauthorized

PUBLIC_KEY = base64.b64encode(bytes(range(32))).decode()


def test_a_member_is_named_agency_slash_system_and_its_key_opens_the_door(session: Session) -> None:
    member = service.create_member(session=session, agency="MOF", system="tabmis", name="TABMIS", public_key=PUBLIC_KEY)
    assert (member.code, member.clearance, member.public_key) == ("MOF/tabmis", "internal", PUBLIC_KEY)
    issued = service.issue_key(session=session, member=member)
    assert issued.key.startswith(f"gvk_{issued.prefix}_") and len(issued.key) == 4 + 12 + 1 + 32
    assert service.authenticate(session=session, presented=issued.key).code == "MOF/tabmis"
    assert member.last_contact_at is not None
    # Only a hash is kept.
    key = service.list_keys(session=session, member=member)[0]
    assert issued.key.split("_")[-1] not in key.secret_hash


@pytest.mark.parametrize(
    ("agency", "system", "clearance", "public_key", "message"),
    [
        ("NOPE", "x", "internal", None, "no agency with code 'NOPE'"),
        ("MOF", "Bad Code", "internal", None, "system code 'Bad Code' is not valid"),
        ("MOF", "ok", "secret", None, "unknown clearance 'secret'"),
        ("MOF", "ok", "internal", "c2hvcnQ=", "not a base64 Ed25519 public key"),
    ],
)
def test_bad_member_details_are_refused_with_the_reason(
    session: Session, agency: str, system: str, clearance: str, public_key: str | None, message: str
) -> None:
    with pytest.raises(GovopsError, match=message):
        service.create_member(
            session=session, agency=agency, system=system, name="", clearance=clearance, public_key=public_key
        )


def test_the_same_member_twice_is_a_conflict(session: Session) -> None:
    service.create_member(session=session, agency="PC-79", system="ioc", name="")
    with pytest.raises(GovopsError, match="exists already") as caught:
        service.create_member(session=session, agency="PC-79", system="ioc", name="")
    assert caught.value.status == 409


def test_wrong_revoked_expired_and_disabled_keys_are_refused(session: Session) -> None:
    member = service.create_member(session=session, agency="PC-01", system="ioc", name="")
    issued = service.issue_key(session=session, member=member, days=30)
    for wrong in ["", "gvk_nothing", issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B")]:
        with pytest.raises(Unauthorized, match="not valid"):
            service.authenticate(session=session, presented=wrong)
    with pytest.raises(Unauthorized, match="expired"):
        service.authenticate(session=session, presented=issued.key, now=utcnow() + timedelta(days=31))
    member.active = False
    with pytest.raises(Unauthorized, match="disabled"):
        service.authenticate(session=session, presented=issued.key)
    member.active = True
    service.revoke_key(session=session, member=member, prefix=issued.prefix)
    with pytest.raises(Unauthorized, match="revoked") as caught:
        service.authenticate(session=session, presented=issued.key)
    assert caught.value.status == 401


def test_a_rotated_key_keeps_working_for_a_week_beside_the_new_one(session: Session) -> None:
    member = service.create_member(session=session, agency="SBV", system="stats", name="")
    old = service.issue_key(session=session, member=member)
    now = utcnow()
    new = service.rotate_key(session=session, member=member, old_prefix=old.prefix, now=now)
    assert service.authenticate(session=session, presented=old.key, now=now + timedelta(days=6)).code == "SBV/stats"
    with pytest.raises(Unauthorized, match="expired"):
        service.authenticate(session=session, presented=old.key, now=now + timedelta(days=8))
    assert service.authenticate(session=session, presented=new.key, now=now + timedelta(days=8)).code == "SBV/stats"


def test_grants_are_per_group_replace_the_earlier_one_and_can_be_taken_back(session: Session) -> None:
    member = service.create_member(session=session, agency="MOF", system="budget", name="")
    service.grant(session=session, member=member, group="PUBLIC_FINANCE", read=True, write=True)
    service.grant(session=session, member=member, group="PUBLIC_FINANCE", read=True, write=False)
    service.grant(session=session, member=member, group="PRICES", read=True, write=False)
    grants = service.list_grants(session=session, member=member)
    assert [(g.group.code, g.can_read, g.can_write) for g in grants] == [
        ("PRICES", True, False),
        ("PUBLIC_FINANCE", True, False),
    ]
    service.revoke(session=session, member=member, group="PRICES")
    assert [g.group.code for g in service.list_grants(session=session, member=member)] == ["PUBLIC_FINANCE"]
    with pytest.raises(GovopsError, match="no indicator group 'NOPE'"):
        service.grant(session=session, member=member, group="NOPE", read=True, write=False)
    with pytest.raises(GovopsError, match="read, write or both"):
        service.grant(session=session, member=member, group="PRICES", read=False, write=False)
