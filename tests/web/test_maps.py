"""Province map geometry: the shipped tile grid and the operator's boundaries file."""

from __future__ import annotations

import json
import math
import os
import unicodedata
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from govops.catalog.reference import AreaRecord, read_areas
from govops.errors import GovopsError
from govops.settings import Settings
from govops.web.maps import (
    BOUNDARIES_ENV,
    load_boundaries,
    normalize_province_name,
    province_map,
    province_map_json,
    tile_grid,
    tile_grid_geojson,
)
from tests.conftest import shared_file

OFFICIAL_CODES = sorted(
    {"01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37", "38", "40"}
    | {"42", "44", "46", "48", "51", "52", "56", "66", "68", "75", "79", "80", "82", "86", "91", "92", "96"}
)


def current_provinces() -> list[AreaRecord]:
    return [a for a in read_areas() if a.level == "province" and a.valid_to is None]


def polygons(feature: dict[str, Any]) -> list[list[list[list[float]]]]:
    geometry = feature["geometry"]
    assert geometry["type"] in ("Polygon", "MultiPolygon")
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def rings(feature: dict[str, Any]) -> list[list[list[float]]]:
    return [ring for poly in polygons(feature) for ring in poly]


def bbox(feature: dict[str, Any]) -> tuple[float, float, float, float]:
    xs = [p[0] for ring in rings(feature) for p in ring]
    ys = [p[1] for ring in rings(feature) for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def signed_area(ring: list[list[float]]) -> float:
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring))


def square(x: float, y: float, size: float = 0.5) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def feature(props: dict[str, Any], coords: list[list[list[float]]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": coords or square(105.0, 15.0)},
        **extra,
    }


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def province_features(name_of: Any = lambda a: a.short_vi, key: str = "ten_tinh") -> list[dict[str, Any]]:
    """One small square per current province, named by ``name_of(area)`` in property ``key``."""
    return [feature({key: name_of(a)}, square(100.0 + i, 10.0 + i)) for i, a in enumerate(current_provinces())]


@pytest.fixture(scope="module")
def shared_map() -> dict[str, Any]:
    return load_boundaries(shared_file("geo", "vietnam-34-provinces.geojson"))


# ------------------------------------------------------------------------------------------------ tile grid


def test_tile_grid_holds_the_34_current_provinces_in_unique_cells() -> None:
    grid = tile_grid()
    assert sorted(grid) == OFFICIAL_CODES == sorted(a.code for a in current_provinces())
    assert len(set(grid.values())) == 34
    cols = {c for c, _ in grid.values()}
    rows = {r for _, r in grid.values()}
    assert min(cols) == min(rows) == 0
    assert 6 <= max(cols) + 1 <= 8 and 14 <= max(rows) + 1 <= 18
    # Roughly geographic: Hà Nội north of Đà Nẵng north of Hồ Chí Minh City; Cà Mau at the southern end.
    assert grid["01"][1] < grid["48"][1] < grid["79"][1] < grid["96"][1]
    assert grid["96"][1] == max(rows)
    assert grid["12"][0] < grid["22"][0]  # Lai Châu west of Quảng Ninh


def test_tile_grid_neighbours_share_an_edge() -> None:
    grid = tile_grid()

    def touch(a: str, b: str) -> bool:
        (ca, ra), (cb, rb) = grid[a], grid[b]
        return abs(ca - cb) + abs(ra - rb) == 1

    # A few real borders, including the chain along the central coast.
    for a, b in [("01", "24"), ("01", "37"), ("38", "40"), ("40", "42"), ("44", "46"), ("46", "48"), ("48", "51"),
                 ("51", "52"), ("52", "66"), ("66", "56"), ("66", "68"), ("68", "75"), ("75", "79"), ("79", "80"),
                 ("82", "92"), ("91", "96")]:  # fmt: skip
        assert touch(a, b), (a, b)


def test_tile_grid_geojson_is_one_valid_square_per_province() -> None:
    doc = tile_grid_geojson()
    assert doc["type"] == "FeatureCollection"
    names = {a.code: a.short_vi for a in current_provinces()}
    assert sorted(f["properties"]["name"] for f in doc["features"]) == OFFICIAL_CODES
    grid = tile_grid()
    boxes = []
    for feat in doc["features"]:
        code = feat["properties"]["name"]
        assert feat["properties"]["label_vi"] == names[code]
        assert feat["geometry"]["type"] == "Polygon"
        [ring] = feat["geometry"]["coordinates"]
        assert len(ring) == 5 and ring[0] == ring[-1]
        x0, y0, x1, y1 = bbox(feat)
        assert math.isclose(x1 - x0, y1 - y0) and 0.5 < x1 - x0 < 1.0  # a square with a gap around it
        assert {(p[0], p[1]) for p in ring} == {(x0, y0), (x1, y0), (x1, y1), (x0, y1)}
        assert signed_area(ring) > 0  # counter-clockwise exterior
        col, row = grid[code]
        assert col < x0 < x1 < col + 1 and -(row + 1) < y0 < y1 < -row  # x = col, y = -row: north up
        assert feat["properties"]["cp"] == [col + 0.5, -row - 0.5]
        boxes.append((x0, y0, x1, y1))
    for i, a in enumerate(boxes):  # no two squares overlap
        for b in boxes[i + 1 :]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]


# ------------------------------------------------------------------------------------------------ shared file


def test_shared_boundaries_join_all_34_provinces(shared_map: dict[str, Any]) -> None:
    codes = [f["properties"]["name"] for f in shared_map["features"]]
    assert sorted(codes) == OFFICIAL_CODES  # 34 distinct official codes
    names = {a.code: a.short_vi for a in current_provinces()}
    assert {f["properties"]["name"]: f["properties"]["label_vi"] for f in shared_map["features"]} == names


def test_shared_boundaries_join_to_the_right_codes(shared_map: dict[str, Any]) -> None:
    source = json.loads(shared_file("geo", "vietnam-34-provinces.geojson").read_text("utf-8"))
    by_name = {f["properties"]["ten_tinh"]: f for f in source["features"]}
    ours = {f["properties"]["name"]: f for f in shared_map["features"]}
    spot = {"TP Hà Nội": "01", "TP HCM": "79", "Đắk Lắk": "66", "TP Huế": "46", "Khánh Hoà": "56", "Thanh Hoá": "38"}
    for name, code in spot.items():
        assert bbox(ours[code]) == pytest.approx(bbox(by_name[name]), abs=0.01), (name, code)
    # Every province's reference point (areas.csv lat/lon) lies within the bounding box joined to it.
    for area in current_provinces():
        assert area.lat is not None and area.lon is not None
        x0, y0, x1, y1 = bbox(ours[area.code])
        assert x0 <= area.lon <= x1 and y0 <= area.lat <= y1, area.code


def test_shared_boundaries_are_simplified_into_valid_rings(shared_map: dict[str, Any]) -> None:
    assert shared_file("geo", "vietnam-34-provinces.geojson").stat().st_size > 3_000_000
    assert len(json.dumps(shared_map).encode("utf-8")) < 600_000
    assert shared_map["kind"] == "boundaries"
    for feat in shared_map["features"]:
        assert polygons(feat)
        for ring in rings(feat):
            assert len(ring) >= 4 and ring[0] == ring[-1], feat["properties"]["name"]
            assert all(round(v, 3) == v for p in ring for v in p)
            assert signed_area(ring) != 0
    # Offshore islands survive as (coarse) shapes: Hoàng Sa (Đà Nẵng) and Trường Sa (Khánh Hòa).
    ours = {f["properties"]["name"]: f for f in shared_map["features"]}
    assert bbox(ours["48"])[2] > 111.5 and bbox(ours["56"])[2] > 114.0


def test_province_map_json_is_compact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BOUNDARIES_ENV, raising=False)
    assert json.loads(province_map_json(Settings())) == tile_grid_geojson()


# ------------------------------------------------------------------------------------------------ name join


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Khánh Hoà", "56"),
        ("Khánh Hòa", "56"),
        ("KHÁNH HOÀ", "56"),
        ("Tỉnh Thanh Hoá", "38"),
        ("tỉnh  thanh  hóa", "38"),
        ("Thành phố Hồ Chí Minh", "79"),
        ("TP. Hồ Chí Minh", "79"),
        ("TP.HCM", "79"),
        ("Ho Chi Minh City", "79"),
        ("TP Huế", "46"),
        ("Thừa Thiên - Huế", "46"),
        ("Đắk Lắk", "66"),
        ("Dak-Lak", "66"),
        ("Hanoi", "01"),
        ("Cần Thơ", "92"),
    ],
)
def test_name_variants_join(tmp_path: Path, name: str, code: str) -> None:
    features = [f for f in province_features() if f["properties"]["ten_tinh"] != _short(code)]
    features.append(feature({"ten_tinh": name}, square(120.0, 20.0)))
    doc = load_boundaries(write_geojson(tmp_path / "variant.geojson", features))
    [joined] = [f for f in doc["features"] if f["properties"]["name"] == code]
    assert bbox(joined) == (120.0, 20.0, 120.5, 20.5)


def _short(code: str) -> str:
    return next(a.short_vi for a in current_provinces() if a.code == code)


@pytest.mark.parametrize(
    "name_of",
    [
        lambda a: a.name_vi.upper(),  # TỈNH KHÁNH HÒA, THÀNH PHỐ HÀ NỘI
        lambda a: a.name_vi.lower(),
        lambda a: unicodedata.normalize("NFD", a.name_vi),  # decomposed tone marks
        lambda a: a.short_ascii,  # Khanh Hoa
        lambda a: a.short_vi.replace(" ", "-"),  # Khánh-Hòa
        lambda a: a.short_vi.replace("Hòa", "Hoà").replace("Hóa", "Hoá"),  # old tone-mark placement
        lambda a: ("TP. " if a.kind_vi == "Thành phố" else "Tỉnh ") + a.short_vi,
    ],
    ids=["upper", "lower", "nfd", "ascii", "hyphens", "old-tones", "prefix"],
)
@pytest.mark.parametrize("key", ["ten_tinh", "name", "NAME_1"])
def test_every_province_joins_by_name_variant(tmp_path: Path, name_of: Any, key: str) -> None:
    doc = load_boundaries(write_geojson(tmp_path / "p.geojson", province_features(name_of, key)))
    assert sorted(f["properties"]["name"] for f in doc["features"]) == OFFICIAL_CODES
    assert doc["kind"] == "boundaries" and "simplified" not in doc  # small files are passed through


def test_normalize_province_name() -> None:
    assert normalize_province_name("Thành phố Hồ Chí Minh") == "hochiminh"
    assert normalize_province_name("Khánh Hoà") == normalize_province_name("KHÁNH HÒA") == "khanhhoa"
    assert normalize_province_name("Tỉnh Đắk Lắk") == "daklak"
    assert normalize_province_name("TP. Cần Thơ") == normalize_province_name("Can-Tho") == "cantho"
    assert normalize_province_name("Thanh Hoá") == "thanhhoa"  # 'Thanh' is not the 'Thành phố' prefix
    assert normalize_province_name("Tây Ninh") == "tayninh"


# ------------------------------------------------------------------------------------------------ code join


def test_joins_by_official_code_property(tmp_path: Path) -> None:
    features = [
        feature({"ma_tinh": a.code, "ten": "?"}, square(100.0 + i, 10.0)) for i, a in enumerate(current_provinces())
    ]
    doc = load_boundaries(write_geojson(tmp_path / "codes.geojson", features))
    assert sorted(f["properties"]["name"] for f in doc["features"]) == OFFICIAL_CODES
    hanoi = next(f for f in doc["features"] if f["properties"]["name"] == "01")
    assert hanoi["properties"]["label_vi"] == "Hà Nội"
    assert bbox(hanoi) == (100.0, 10.0, 100.5, 10.5)  # 01 is the first current province


def test_codes_that_are_not_official_fall_back_to_names(tmp_path: Path) -> None:
    features = province_features()
    for i, feat in enumerate(features):
        feat["properties"]["code"] = f"VN{i + 1:02d}"
        feat["properties"]["id"] = i + 1
        feat["id"] = i + 1
    doc = load_boundaries(write_geojson(tmp_path / "vn.geojson", features))
    assert sorted(f["properties"]["name"] for f in doc["features"]) == OFFICIAL_CODES


# ------------------------------------------------------------------------------------------------ simplification


def test_large_files_are_simplified_and_collapsed_rings_dropped(tmp_path: Path) -> None:
    features = []
    for i, area in enumerate(current_provinces()):
        cx, cy = 100.0 + 2 * i, 10.0
        circle = [[cx + math.cos(t / 2000 * 2 * math.pi), cy + math.sin(t / 2000 * 2 * math.pi)] for t in range(2000)]
        circle.append(circle[0])
        coords = [[circle]]
        if area.code == "01":
            coords.append(square(cx, cy + 3, 0.0002))  # collapses at 3 decimals: dropped
            coords.append(square(cx, cy + 3, 0.05))  # a small island: kept
        features.append(
            {"type": "Feature", "properties": {"ten_tinh": area.short_vi},
             "geometry": {"type": "MultiPolygon", "coordinates": coords}}
        )  # fmt: skip
    path = write_geojson(tmp_path / "big.geojson", features)
    assert path.stat().st_size > 2_000_000
    doc = load_boundaries(path)
    assert len(json.dumps(doc)) < 600_000
    assert doc["simplified"]["decimals"] == 3
    hanoi = next(f for f in doc["features"] if f["properties"]["name"] == "01")
    assert len(polygons(hanoi)) == 2
    for feat in doc["features"]:
        for ring in rings(feat):
            assert len(ring) >= 4 and ring[0] == ring[-1]
            assert signed_area(ring) != 0


# ------------------------------------------------------------------------------------------------ errors


def raises_bad_boundaries(path: Path) -> GovopsError:
    with pytest.raises(GovopsError) as info:
        load_boundaries(path)
    err = info.value
    assert err.code == "bad_boundaries"
    assert err.where == str(path) and str(path) in str(err)
    assert err.hint
    return err


def test_unknown_province_name_is_an_error(tmp_path: Path) -> None:
    features = province_features()
    features[5]["properties"]["ten_tinh"] = "Atlantis"
    err = raises_bad_boundaries(write_geojson(tmp_path / "unknown.geojson", features))
    assert "'Atlantis'" in err.message and "feature #6" in err.message
    assert err.problems[0].value == "Atlantis" and err.problems[0].row == 6


def test_dissolved_province_name_says_so(tmp_path: Path) -> None:
    features = province_features()
    features[2]["properties"]["ten_tinh"] = "Hà Giang"  # absorbed into Tuyên Quang (08)
    err = raises_bad_boundaries(write_geojson(tmp_path / "old.geojson", features))
    assert "'Hà Giang'" in err.message and "08 Tuyên Quang" in err.message


def test_two_features_for_one_province_is_an_error(tmp_path: Path) -> None:
    features = province_features()
    features.append(feature({"ten_tinh": "TP Hà Nội"}))
    err = raises_bad_boundaries(write_geojson(tmp_path / "dup.geojson", features))
    assert "'TP Hà Nội'" in err.message and "'Hà Nội'" in err.message and "01" in err.message


def test_a_missing_province_is_an_error(tmp_path: Path) -> None:
    features = [f for f in province_features() if f["properties"]["ten_tinh"] != "Cà Mau"]
    err = raises_bad_boundaries(write_geojson(tmp_path / "short.geojson", features))
    assert "96 Cà Mau" in err.message


def test_feature_without_a_name_is_an_error(tmp_path: Path) -> None:
    features = province_features()
    features[0]["properties"] = {"gid": 1}
    err = raises_bad_boundaries(write_geojson(tmp_path / "noname.geojson", features))
    assert "feature #1" in err.message


def test_bad_geometry_is_an_error(tmp_path: Path) -> None:
    features = province_features()
    features[3]["geometry"] = {"type": "Point", "coordinates": [105.0, 15.0]}
    features[4]["geometry"] = {"type": "Polygon", "coordinates": [[["a", "b"]]]}
    err = raises_bad_boundaries(write_geojson(tmp_path / "geom.geojson", features))
    assert "feature #4" in err.message and "Point" in err.message and "feature #5" in err.message


@pytest.mark.parametrize(
    "content",
    [
        "ten_tinh,lat,lon\nHà Nội,21,105\n",
        '{"type": "Feature", "properties": {}, "geometry": null}',
        '{"type": "FeatureCollection", "features": []}',
        "[1, 2, 3]",
    ],
    ids=["csv", "feature", "empty", "array"],
)
def test_a_file_that_is_not_geojson_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "provinces.geojson"
    path.write_text(content, "utf-8")
    err = raises_bad_boundaries(path)
    assert "GeoJSON" in err.message or "no features" in err.message


def test_a_binary_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "provinces.shp"
    path.write_bytes(b"\x00\x00\x27\x0a\xff\xfe\x80")
    assert "not GeoJSON" in raises_bad_boundaries(path).message


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    err = raises_bad_boundaries(tmp_path / "nowhere.geojson")
    assert "not found" in err.message


# ------------------------------------------------------------------------------------------------ province_map


def test_province_map_defaults_to_the_tile_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BOUNDARIES_ENV, raising=False)
    doc = province_map(Settings())
    assert doc["kind"] == "tile_grid" and doc == tile_grid_geojson()
    monkeypatch.setenv(BOUNDARIES_ENV, "")
    assert province_map(Settings())["kind"] == "tile_grid"


def test_province_map_reads_the_boundaries_file_and_reloads_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_geojson(tmp_path / "b.geojson", province_features())
    monkeypatch.setenv(BOUNDARIES_ENV, str(path))
    first = province_map(Settings())
    assert first["kind"] == "boundaries"
    assert province_map(Settings()) is first  # cached
    hanoi = next(f for f in first["features"] if f["properties"]["name"] == "01")
    assert bbox(hanoi) == (100.0, 10.0, 100.5, 10.5)

    moved = province_features()
    moved[0]["geometry"]["coordinates"] = square(90.0, 5.0)
    write_geojson(path, moved)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = province_map(Settings())
    assert second is not first
    hanoi = next(f for f in second["features"] if f["properties"]["name"] == "01")
    assert bbox(hanoi) == (90.0, 5.0, 90.5, 5.5)


def test_province_map_with_a_missing_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BOUNDARIES_ENV, str(tmp_path / "gone.geojson"))
    with pytest.raises(GovopsError, match=r"gone\.geojson"):
        province_map(Settings())
