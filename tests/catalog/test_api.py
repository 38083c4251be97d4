from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] in ("sqlite", "postgresql")


def test_provinces_now_and_before_the_2025_merger(client: TestClient) -> None:
    now = client.get("/api/v1/areas", params={"level": "province", "limit": 100}).json()
    assert len(now["items"]) == 34 and now["next_cursor"] is None
    names = {a["code"]: a["name_vi"] for a in now["items"]}
    assert names["01"] == "Thành phố Hà Nội" and names["79"] == "Thành phố Hồ Chí Minh"
    before = client.get("/api/v1/areas", params={"level": "province", "valid_on": "2025-06-30", "limit": 100}).json()
    assert len(before["items"]) == 63
    binh_duong = client.get("/api/v1/areas/74").json()
    assert binh_duong["valid_to"] == "2025-06-30" and binh_duong["successor"] == "79"


def test_wards_of_a_province_page_through(client: TestClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"parent": "01", "limit": 50} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/areas", params=params).json()
        seen.extend(a["code"] for a in page["items"])
        assert all(a["parent"] == "01" and a["level"] == "ward" for a in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) > 100


def test_area_search_ignores_tone_marks(client: TestClient) -> None:
    for q in ("Đắk Lắk", "dak lak"):
        found = client.get("/api/v1/areas", params={"q": q, "level": "province"}).json()["items"]
        assert [a["code"] for a in found] == ["66"]


def test_indicator_catalogue_is_searchable_in_both_languages(client: TestClient) -> None:
    items = client.get("/api/v1/indicators", params={"limit": 1000}).json()["items"]
    assert len(items) >= 40
    cpi = client.get("/api/v1/indicators/CPI").json()
    assert cpi["name_vi"] == "Chỉ số giá tiêu dùng" and cpi["periodicity"] == "M"
    assert cpi["dimensions"] and len(cpi["dimension_codes"][cpi["dimensions"][0]]) == 11
    for q in ("giá tiêu dùng", "gia tieu dung", "consumer price"):
        codes = [i["code"] for i in client.get("/api/v1/indicators", params={"q": q}).json()["items"]]
        assert "CPI" in codes, q


def test_agencies(client: TestClient) -> None:
    agencies = client.get("/api/v1/agencies", params={"kind": "provincial_committee", "limit": 100}).json()["items"]
    assert len(agencies) == 34 and {a["area"] for a in agencies} >= {"01", "79"}


def test_openapi_describes_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/healthz",
        "/api/v1/areas",
        "/api/v1/indicators",
        "/api/v1/indicators/{code}",
        "/api/v1/observations",
        "/api/v1/series/{indicator}",
    ):
        assert path in paths


def test_a_code_that_changed_hands_shows_the_name_of_its_time(client: TestClient) -> None:
    # 80 was Long An's code until 2025-06-30; since the merger it is Tay Ninh's (old Tay Ninh was 72).
    now = client.get("/api/v1/areas/80").json()
    assert (now["name_vi"], now["former_name_vi"], now["former_until"]) == (
        "Tỉnh Tây Ninh",
        "Tỉnh Long An",
        "2025-06-30",
    )
    before = {
        a["code"]: a["name_vi"]
        for a in client.get(
            "/api/v1/areas", params={"level": "province", "valid_on": "2025-06-30", "limit": 100}
        ).json()["items"]
    }
    assert (
        before["80"] == "Tỉnh Long An" and before["72"] == "Tỉnh Tây Ninh" and before["79"] == "Thành phố Hồ Chí Minh"
    )
