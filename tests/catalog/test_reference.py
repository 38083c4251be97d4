"""The shipped reference data: areas after the 2025 reorganisation, pre-2025 provinces, agencies."""

from __future__ import annotations

from datetime import date

import pytest

from govops.catalog.reference import (
    AGENCY_KINDS,
    AgencyRecord,
    AreaRecord,
    english_province_name,
    read_agencies,
    read_areas,
)

LAST_OLD_DAY = date(2025, 6, 30)
FIRST_NEW_DAY = date(2025, 7, 1)

CENTRAL_AGENCY_CODES = {
    "GO",
    # ministries
    "MOD",
    "MPS",
    "MOFA",
    "MOHA",
    "MOJ",
    "MOF",
    "MOIT",
    "MAE",
    "MOC",
    "MOCST",
    "MOST",
    "MOET",
    "MOH",
    "MEMR",
    # ministerial-level agencies
    "SBV",
    "GI",
    # departments
    "NSO",
    "CUSTOMS",
    "TAX",
    "TREASURY",
    "FIA",
    "VNAT",
    "VSS",
    # government agencies
    "VASS",
    "VAST",
    "VTV",
    "VOV",
    "VNA",
    "HCMA",
    # state groups
    "EVN",
    "PVN",
    "TKV",
    "VNPT",
    "VIETTEL",
    "VNR",
}


@pytest.fixture(scope="module")
def areas() -> list[AreaRecord]:
    return read_areas()


@pytest.fixture(scope="module")
def by_code(areas: list[AreaRecord]) -> dict[str, AreaRecord]:
    return {a.code: a for a in areas}


@pytest.fixture(scope="module")
def current_provinces(areas: list[AreaRecord]) -> dict[str, AreaRecord]:
    return {a.code: a for a in areas if a.level == "province" and a.is_current}


@pytest.fixture(scope="module")
def agencies() -> list[AgencyRecord]:
    return read_agencies()


# ------------------------------------------------------------------------------------ areas


def test_row_counts_and_unique_codes(areas: list[AreaRecord]) -> None:
    assert len(areas) == 1 + 34 + 29 + 3321
    assert len({a.code for a in areas}) == len(areas)
    assert [a.code for a in areas if a.level == "nation"] == ["VN"]


def test_parents_come_before_children(areas: list[AreaRecord]) -> None:
    seen: set[str] = set()
    for area in areas:
        assert area.parent_code is None or area.parent_code in seen, area.code
        seen.add(area.code)


def test_34_current_provinces(current_provinces: dict[str, AreaRecord]) -> None:
    assert len(current_provinces) == 34
    for province in current_provinces.values():
        assert province.parent_code == "VN"
        assert len(province.code) == 2 and province.code.isdigit()
        assert province.kind_vi in {"Thành phố", "Tỉnh"}
        assert province.name_vi == f"{province.kind_vi} {province.short_vi}"
        assert province.valid_on(FIRST_NEW_DAY) and province.valid_on(LAST_OLD_DAY)
    cities = {p.code for p in current_provinces.values() if p.kind_vi == "Thành phố"}
    assert cities == {"01", "31", "46", "48", "79", "92"}


def test_wards_belong_to_current_provinces(areas: list[AreaRecord], current_provinces: dict[str, AreaRecord]) -> None:
    wards = [a for a in areas if a.level == "ward"]
    assert len(wards) == 3321
    for ward in wards:
        assert ward.parent_code in current_provinces, ward.code
        assert len(ward.code) == 5 and ward.code.isdigit()
        assert ward.kind_vi in {"Phường", "Xã", "Đặc khu"}
        assert ward.name_vi == f"{ward.kind_vi} {ward.short_vi}"
        assert ward.valid_from == FIRST_NEW_DAY and ward.valid_to is None
        assert ward.valid_on(FIRST_NEW_DAY) and not ward.valid_on(LAST_OLD_DAY)
        assert ward.lat is not None and 8 < ward.lat < 24
        assert ward.lon is not None and 102 < ward.lon < 118
    every_province_has_wards = {w.parent_code for w in wards}
    assert every_province_has_wards == set(current_provinces)


def test_hong_ha_ward(by_code: dict[str, AreaRecord]) -> None:
    ward = by_code["00097"]
    assert (ward.name_vi, ward.short_vi, ward.kind_vi, ward.parent_code) == (
        "Phường Hồng Hà",
        "Hồng Hà",
        "Phường",
        "01",
    )
    assert ward.name_ascii == "Phuong Hong Ha"
    assert ward.area_km2 is not None and ward.area_km2 > 0


def test_63_provinces_before_the_reorganisation(areas: list[AreaRecord]) -> None:
    before = [a for a in areas if a.level == "province" and a.valid_on(LAST_OLD_DAY)]
    after = [a for a in areas if a.level == "province" and a.valid_on(FIRST_NEW_DAY)]
    assert len(before) == 63
    assert len(after) == 34
    retired = [a for a in before if a.valid_to == LAST_OLD_DAY]
    assert len(retired) == 29


def test_retired_provinces_have_current_successors(
    areas: list[AreaRecord], current_provinces: dict[str, AreaRecord]
) -> None:
    retired = [a for a in areas if a.level == "province" and not a.is_current]
    assert len(retired) == 29
    for province in retired:
        assert province.valid_to == LAST_OLD_DAY
        assert province.successor_code in current_provinces, province.code
    for province in current_provinces.values():
        assert province.successor_code is None


def test_hanoi(by_code: dict[str, AreaRecord]) -> None:
    hanoi = by_code["01"]
    assert hanoi.name_vi == "Thành phố Hà Nội"
    assert hanoi.short_vi == "Hà Nội"
    assert hanoi.short_ascii == "Ha Noi"
    assert hanoi.name_ascii == "Thanh pho Ha Noi"
    assert hanoi.kind_vi == "Thành phố"
    assert english_province_name(hanoi.short_ascii) == "Hanoi"


def test_ho_chi_minh_city_and_its_predecessors(areas: list[AreaRecord], by_code: dict[str, AreaRecord]) -> None:
    hcmc = by_code["79"]
    assert hcmc.name_vi == "Thành phố Hồ Chí Minh"
    assert hcmc.is_current
    predecessors = {a.code for a in areas if a.successor_code == "79"} | {"79"}
    assert predecessors == {"74", "77", "79"}
    assert by_code["74"].short_vi == "Bình Dương"
    assert by_code["77"].short_vi == "Bà Rịa - Vũng Tàu"


def test_hue(by_code: dict[str, AreaRecord]) -> None:
    hue = by_code["46"]
    assert hue.name_vi == "Thành phố Huế"
    assert hue.short_ascii == "Hue"
    assert hue.is_current


def test_ascii_names(areas: list[AreaRecord], by_code: dict[str, AreaRecord]) -> None:
    for area in areas:
        assert area.name_ascii.isascii(), area.code
        assert area.short_ascii.isascii(), area.code
    dak_lak = by_code["66"]
    assert dak_lak.short_vi == "Đắk Lắk"
    assert dak_lak.short_ascii == "Dak Lak"
    assert by_code["48"].short_ascii == "Da Nang"


# --------------------------------------------------------------------------------- agencies


def test_agency_codes_unique_and_kinds_known(agencies: list[AgencyRecord]) -> None:
    codes = [a.code for a in agencies]
    assert len(codes) == len(set(codes))
    assert {a.kind for a in agencies} <= AGENCY_KINDS
    for agency in agencies:
        assert agency.name_vi and agency.name_en


def test_agency_parents_exist_and_come_first(agencies: list[AgencyRecord]) -> None:
    seen: set[str] = set()
    for agency in agencies:
        assert agency.parent_code is None or agency.parent_code in seen, agency.code
        seen.add(agency.code)


def test_agency_areas_exist(agencies: list[AgencyRecord], by_code: dict[str, AreaRecord]) -> None:
    for agency in agencies:
        assert agency.area_code is None or agency.area_code in by_code, agency.code


def test_provincial_committees(agencies: list[AgencyRecord], current_provinces: dict[str, AreaRecord]) -> None:
    committees = [a for a in agencies if a.kind == "provincial_committee"]
    assert len(committees) == 34
    assert {a.code for a in committees} == {f"PC-{code}" for code in current_provinces}
    for committee in committees:
        assert committee.area_code is not None
        assert committee.code == f"PC-{committee.area_code}"
        province = current_provinces[committee.area_code]
        assert committee.name_vi == f"Ủy ban nhân dân {province.name_vi}"
        assert committee.name_en.isascii()
    by_code = {a.code: a for a in committees}
    assert by_code["PC-01"].name_vi == "Ủy ban nhân dân Thành phố Hà Nội"
    assert by_code["PC-01"].name_en == "Hanoi People's Committee"
    assert by_code["PC-04"].name_en == "Cao Bang Provincial People's Committee"
    assert by_code["PC-79"].name_en == "Ho Chi Minh City People's Committee"


def test_central_agencies_present(agencies: list[AgencyRecord]) -> None:
    by_code = {a.code: a for a in agencies}
    assert set(by_code) >= CENTRAL_AGENCY_CODES
    assert by_code["GO"].kind == "government_office"
    assert by_code["GO"].name_vi == "Văn phòng Chính phủ"
    ministries = {a.code for a in agencies if a.kind == "ministry"}
    assert ministries == {
        "MOD",
        "MPS",
        "MOFA",
        "MOHA",
        "MOJ",
        "MOF",
        "MOIT",
        "MAE",
        "MOC",
        "MOCST",
        "MOST",
        "MOET",
        "MOH",
        "MEMR",
    }
    assert {a.code for a in agencies if a.kind == "ministerial_agency"} == {"SBV", "GI"}
    for code in ("NSO", "CUSTOMS", "TAX", "TREASURY", "FIA", "VSS"):
        assert by_code[code].parent_code == "MOF", code
    assert by_code["VNAT"].parent_code == "MOCST"
    assert by_code["NSO"].name_vi == "Cục Thống kê"


def test_reads_are_independent_copies() -> None:
    first = read_areas()
    first.clear()
    assert len(read_areas()) == 1 + 34 + 29 + 3321
