"""Every province page and every indicator page of the reference catalogue opens, in both languages.

One signed-in client over one store (data for a few overview indicators in every province) serves
every case, so that covering all of them stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.auth.service import create_user
from govops.catalog.reference import AreaRecord, read_areas
from govops.catalog.service import reference_catalogue
from govops.settings import Settings
from govops.warehouse import series_cache
from tests.conftest import use_session
from tests.warehouse.conftest import obs, put
from tests.web.language import english_sentences

PASSWORD = "correct horse battery"
PROVINCES = [a for a in read_areas() if a.level == "province" and a.valid_to is None]
INDICATORS = [i.code for i in reference_catalogue().indicators]
FORMER_NAMES = sorted(a.code for a in PROVINCES if a.former_name_vi)


def test_the_reference_has_what_these_tests_cover() -> None:
    assert len(PROVINCES) == 34 and len(INDICATORS) > 80
    assert FORMER_NAMES == ["15", "24", "44", "52", "80", "82", "91"]


@pytest.fixture(scope="module")
def web(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An analyst (who reads every classification), signed in, over a store rolled back after the module."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
            put(
                session,
                [
                    obs(code, a.code, f"2025-{m:02d}", 100.0 + i + m)
                    for code in ("EXPORTS", "RETAIL_SALES")
                    for i, a in enumerate(PROVINCES)
                    for m in (1, 2, 3)
                ],
            )
            create_user(
                session=session,
                username="t.every.page",
                password=PASSWORD,
                full_name="Every Page",
                agency="GO",
                role="analyst",
            )
            settings = Settings(
                database_url=str(engine.url),
                signing_key_file=tmp_path_factory.mktemp("keys") / "signing-key.pem",
                page_warmer=False,
                worker=False,
            )
            app = create_app(settings, engine=engine)
            use_session(app, session)
            with TestClient(app) as client:
                form = client.get("/signin")
                token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
                assert token, form.text
                signed = client.post(
                    "/signin",
                    data={"username": "t.every.page", "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False,
                )
                assert signed.status_code == 303, signed.text
                yield client
        outer.rollback()
    series_cache.clear()  # computed from the data just rolled back


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("area", PROVINCES, ids=lambda a: a.code)
def test_every_province_page_opens(web: TestClient, area: AreaRecord, lang: str) -> None:
    code = area.code
    page = web.get(f"/provinces/{code}", params={"lang": lang})
    assert page.status_code == 200, page.text
    assert f"<h1>{area.name_vi}</h1>" in page.text
    # Every province has data for EXPORTS: its row is ranked among all 34.
    row = page.text[page.text.index("/explorer/EXPORTS?") :]
    assert "/34" in row[: row.index("</tr>")]
    if code in FORMER_NAMES:
        expected = "đến 30/6/2025 là mã của" if lang == "vi" else "until 2025-06-30 the code of"
        assert f"{expected} {area.former_name_vi}" in page.text
    if lang == "vi":
        assert english_sentences(page.text) == []


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("code", INDICATORS)
def test_every_indicator_page_opens(web: TestClient, code: str, lang: str) -> None:
    page = web.get(f"/explorer/{code}", params={"lang": lang})
    assert page.status_code == 200, page.text
    assert 'data-testid="chart"' in page.text and f"/explorer/{code}/download.csv" in page.text
    if lang == "vi":
        assert english_sentences(page.text) == []


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/provinces/99", 404, "Không có tỉnh, thành phố mã &#39;99&#39;"),
        ("/explorer/NO_SUCH", 404, "Không có chỉ tiêu mã &#39;NO_SUCH&#39;"),
        ("/no/such/page", 404, "Không có trang nào ở địa chỉ này"),
        ("/admin/audit", 403, "Vai trò của bạn không được phép làm việc này"),
    ],
)
def test_error_pages_speak_the_readers_language(web: TestClient, path: str, status: int, said: str) -> None:
    page = web.get(path, params={"lang": "vi"})
    assert page.status_code == status
    assert said in page.text and english_sentences(page.text) == []
    english = web.get(path, params={"lang": "en"})
    assert english.status_code == status and "Không có" not in english.text


def test_the_province_list_and_the_overview_open(web: TestClient) -> None:
    listing = web.get("/provinces")
    assert listing.status_code == 200
    assert all(f'href="/provinces/{a.code}"' in listing.text for a in PROVINCES)
    overview = web.get("/")
    assert overview.status_code == 200 and 'data-testid="tile-EXPORTS"' in overview.text
