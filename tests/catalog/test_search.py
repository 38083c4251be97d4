"""Finding indicators as people type: Vietnamese with or without tone marks, English, synonyms, slips."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import export_catalogue, import_catalogue, search_indicators

CPI_FAMILY = {"CPI", "CPI_MOM", "CPI_YOY", "CPI_AVG_YOY"}


def found(client: TestClient, q: str, **params: object) -> list[str]:
    page = client.get("/api/v1/indicators", params={"q": q, "limit": 1000, **params})
    assert page.status_code == 200, page.text
    return [i["code"] for i in page.json()["items"]]


@pytest.mark.parametrize("q", ["lạm phát", "lam phat", "lam fat", "LẠM PHÁT", "inflation", "CPI", "cpi"])
def test_inflation_in_any_spelling_finds_the_consumer_price_indicators_first(client: TestClient, q: str) -> None:
    codes = found(client, q)
    assert set(codes[:4]) == CPI_FAMILY, codes


def test_the_exact_code_comes_first_and_codes_that_start_with_it_next(client: TestClient) -> None:
    codes = found(client, "CPI")
    assert codes[0] == "CPI" and set(codes[1:4]) == CPI_FAMILY - {"CPI"}
    assert found(client, "cpi yoy")[0] == "CPI_YOY"


def test_a_name_comes_before_a_synonym_and_a_synonym_before_a_word_elsewhere(client: TestClient) -> None:
    # "Lạm phát cơ bản" is core inflation's own name; the consumer price indicators carry "lạm phát" as a synonym
    # equal to what was typed, so they come first and core inflation right after.
    assert found(client, "lạm phát")[4] == "CORE_INFLATION"
    # The whole name typed comes first; names that hold it after.
    codes = found(client, "chỉ số giá tiêu dùng")
    assert codes[0] == "CPI" and set(codes[:4]) == CPI_FAMILY
    assert found(client, "consumer price index")[0] == "CPI"


def test_synonyms_in_both_languages_and_abbreviations_find_their_indicator(client: TestClient) -> None:
    assert found(client, "thất nghiệp")[0] == "UNEMPLOYMENT_RATE"
    assert found(client, "jobless")[0] == "UNEMPLOYMENT_RATE"
    assert set(found(client, "FDI")[:2]) == {"FDI_REGISTERED", "FDI_DISBURSED"}
    assert set(found(client, "nhap sieu")) == {"TRADE_BALANCE"}
    assert "BUDGET_BALANCE" in found(client, "budget deficit")[:1]


def test_typing_slips_and_words_in_any_order_still_find(client: TestClient) -> None:
    assert set(found(client, "inflaton")[:4]) == CPI_FAMILY
    assert found(client, "vang gia")[0] == "GOLD_PRICE_INDEX"
    assert "UNEMPLOYMENT_RATE" in found(client, "unemploymnet")
    # A word being typed already finds: "thất ngh" is on its way to "thất nghiệp".
    assert found(client, "that ngh")[0] == "UNEMPLOYMENT_RATE"
    assert found(client, "qwxz") == []


def test_search_results_page_on_in_the_same_order(client: TestClient) -> None:
    everything = found(client, "gia")
    assert len(everything) > 6
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "gia", "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/indicators", params=params).json()
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything


def test_an_anonymous_caller_never_finds_a_confidential_indicator(client: TestClient) -> None:
    assert "GDP_FLASH" not in found(client, "GDP") and "GDP_FLASH" not in found(client, "GDP_FLASH")


def test_the_search_sees_a_catalogue_change_at_once(session: Session) -> None:
    assert search_indicators(session=session, q="giá cả")[0] == "CPI"
    doc = export_catalogue(session=session)
    gold = next(i for i in doc.indicators if i.code == "GOLD_PRICE_INDEX")
    changed = gold.model_copy(update={"keywords_vi": ["vàng miếng SJC"], "keywords_en": ["SJC gold bars"]})
    import_catalogue(session=session, doc=CatalogueDoc(indicators=[changed]))
    assert search_indicators(session=session, q="vang mieng sjc") == ["GOLD_PRICE_INDEX"]
    assert search_indicators(session=session, q="SJC gold") == ["GOLD_PRICE_INDEX"]
    assert search_indicators(session=session, q="gia vang") == ["GOLD_PRICE_INDEX"]  # by its name still


def test_every_reference_indicator_has_synonyms_in_both_languages(client: TestClient) -> None:
    items = client.get("/api/v1/indicators", params={"limit": 1000}).json()["items"]
    assert all(i["keywords_vi"] and i["keywords_en"] for i in items), [
        i["code"] for i in items if not (i["keywords_vi"] and i["keywords_en"])
    ]
