"""`govops exchange ...` as an operator runs it, on a store made by a real `govops init` process."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govops.db.engine import make_engine
from govops.exchange import service
from govops.settings import get_settings
from tests.cli.conftest import Govops


@pytest.fixture(scope="module")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exchange-cli")
    result = Govops(folder / "govops.db", folder)("init")
    assert result.code == 0, result.err
    return folder / "govops.db"


@pytest.fixture
def govops(template_store: Path, tmp_path: Path) -> Govops:
    shutil.copy(template_store, tmp_path / "govops.db")
    return Govops(tmp_path / "govops.db", tmp_path)


@pytest.fixture
def store(govops: Govops, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'govops.db'}")
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_register_grant_list_and_revoke_a_key(govops: Govops, store: Engine) -> None:
    added = govops("exchange", "add", "PC-79", "ioc", "--name", "HCMC operations centre")
    assert added.code == 0, added.err
    key = re.search(r"gvk_\w{12}_[\w-]{32}", added.out)
    assert key and "PC-79/ioc registered" in added.out
    assert govops("exchange", "grant", "PC-79/ioc", "ENTERPRISES", "--read", "--write").code == 0
    granted = govops("exchange", "grant", "PC-79/ioc", "PUBLIC_FINANCE", "--write", "--for-others")
    assert granted.code == 0 and "write (also as other agencies' figures) PUBLIC_FINANCE" in granted.out, granted.out
    listed = govops("exchange", "members")
    assert "PC-79/ioc" in listed.out and "ENTERPRISES:rw" in listed.out and "never" in listed.out
    assert "PUBLIC_FINANCE:w+" in listed.out
    with Session(store) as session:
        assert service.authenticate(session=session, presented=key.group(0)).code == "PC-79/ioc"
    prefix = key.group(0).split("_")[1]
    assert govops("exchange", "revoke-key", "PC-79/ioc", prefix).code == 0
    with Session(store) as session, pytest.raises(service.Unauthorized, match="revoked"):
        service.authenticate(session=session, presented=key.group(0))
    # Every change of rights is in the audit trail.
    trail = govops("audit", "list", "--target", "PC-79/ioc")
    assert all(action in trail.out for action in ("member.add", "grant.add", "key.revoke")), trail.out


def test_mistakes_say_what_is_wrong_and_exit_1(govops: Govops) -> None:
    unknown = govops("exchange", "add", "NOPE", "x")
    assert unknown.code == 1 and "no agency with code 'NOPE'" in unknown.err
    missing = govops("exchange", "grant", "MOF/none", "PRICES", "--read")
    assert missing.code == 1 and "no member 'MOF/none'" in missing.err
