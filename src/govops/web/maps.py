"""Province map geometry for the console's choropleth (ECharts ``registerMap`` + a ``map`` series).

Everything here returns a GeoJSON FeatureCollection with one feature per current province, whose
``properties.name`` is the official 2-digit area code (``"01"``; ECharts joins series data
``{name: code, value}`` on it) and ``properties.label_vi`` the short Vietnamese name (``"Hà Nội"``).

Two sources:

* the **tile grid** (default, shipped, offline): one square per province placed to roughly mirror
  geography, from ``static/maps/tile_grid.json`` (``{code: [col, row]}``, row 0 at the top);
* **real boundaries** from a GeoJSON file the operator provides (``GOVOPS_BOUNDARIES_FILE``), joined
  to our codes by an official code property or else by name, and simplified for the browser.

Only the standard library is used (no shapely).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

from govops.catalog.reference import read_areas
from govops.errors import GovopsError, Problem
from govops.settings import Settings, get_settings
from govops.text import fold

__all__ = [
    "BOUNDARIES_ENV",
    "MAX_MAP_BYTES",
    "load_boundaries",
    "normalize_province_name",
    "province_map",
    "province_map_json",
    "tile_grid",
    "tile_grid_geojson",
]

BOUNDARIES_ENV = "GOVOPS_BOUNDARIES_FILE"
"""Environment variable naming the operator's GeoJSON of province boundaries (unset: the tile grid)."""

MAX_MAP_BYTES = 450_000
"""Boundaries larger than this as compact JSON are simplified until they fit (the browser gets < ~600 KB)."""

TILE_GAP = 0.06
"""Empty margin on each side of a tile, in tile units."""

# Douglas-Peucker tolerances tried in turn, in degrees (0.0: only rounding to 3 decimals).
_TOLERANCES: tuple[float, ...] = (0.0, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064)
_DECIMALS = 3
# A ring is never simplified with a tolerance above this fraction of its own bounding-box diagonal,
# so small islands (e.g. Hoàng Sa, Trường Sa) keep a coarse outline instead of vanishing.
_RING_TOLERANCE_FRACTION = 0.1

# Property names that may hold an official province code / a province name, compared case-insensitively.
_CODE_KEYS: tuple[str, ...] = (
    "ma_tinh",
    "matinh",
    "ma_tinh_moi",
    "province_code",
    "provincecode",
    "prov_code",
    "code",
    "ma",
    "id",
)
_NAME_KEYS: tuple[str, ...] = (
    "ten_tinh",
    "tentinh",
    "ten_tinh_moi",
    "ten",
    "name_vi",
    "name",
    "name_1",
    "province",
    "province_name",
    "tinh",
    "shapename",
    "name_en",
)
_FEATURE_ID = "(feature id)"

# Well-known names that normalisation alone cannot bring to ours (keys are normalised).
_ALIASES: dict[str, str] = {
    "hcm": "79",
    "tphcm": "79",
    "hcmc": "79",
    "saigon": "79",
    "thuathienhue": "46",
    "daclac": "66",
}

_PREFIX = re.compile(r"^(?:thanh\s*pho|tinh|tp)\b\.?\s*")
_SUFFIX = re.compile(r"\s+(?:city|province)$")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

_HINT = (
    f"{BOUNDARIES_ENV} must name a GeoJSON FeatureCollection with exactly one (Multi)Polygon feature per "
    "current province, carrying the official 2-digit code (e.g. 'ma_tinh': '01') or the province name "
    "(e.g. 'ten_tinh': 'Hà Nội'); unset it to use the built-in tile grid"
)


# ---------------------------------------------------------------------------------------------- provinces


@cache
def _provinces() -> dict[str, str]:
    """Current provinces: official code -> short Vietnamese name."""
    return {a.code: a.short_vi for a in read_areas() if a.level == "province" and a.valid_to is None}


@cache
def _name_index() -> dict[str, str]:
    """Normalised name (short, full, ASCII, alias) -> code."""
    index: dict[str, str] = {}
    for area in read_areas():
        if area.level != "province" or area.valid_to is not None:
            continue
        for name in (area.short_vi, area.name_vi, area.short_ascii, area.name_ascii):
            key = normalize_province_name(name)
            if index.setdefault(key, area.code) != area.code:  # pragma: no cover - reference data bug
                raise ValueError(f"areas.csv: {name!r} normalises like another province's name")
    for key, code in _ALIASES.items():
        index.setdefault(key, code)
    return index


@cache
def _former_index() -> dict[str, str]:
    """Normalised name of a province dissolved on 2025-07-01 -> the code of the province that absorbed it."""
    index: dict[str, str] = {}
    for a in read_areas():
        if a.level != "province":
            continue
        if a.valid_to is not None and a.successor_code is not None:
            index[normalize_province_name(a.short_vi)] = a.successor_code
        elif a.valid_to is None and a.former_short_vi is not None:  # e.g. code 15 was Yên Bái, is now Lào Cai
            index[normalize_province_name(a.former_short_vi)] = a.code
    return index


def normalize_province_name(name: str) -> str:
    """Fold a province name for comparison: no case, tone marks, đ, prefixes (Tỉnh, Thành phố, TP.) or spaces.

    ``"Thành phố Hồ Chí Minh"``, ``"TP. HỒ CHÍ MINH"`` and ``"Ho Chi Minh City"`` all give ``"hochiminh"``;
    ``"Khánh Hòa"`` and ``"Khánh Hoà"`` both give ``"khanhhoa"``.
    """
    text = fold(name).strip()
    text = re.sub(r"\s+", " ", text)
    text = _PREFIX.sub("", text)
    text = _SUFFIX.sub("", text)
    return _NOT_ALNUM.sub("", text)


# ---------------------------------------------------------------------------------------------- tile grid


@cache
def tile_grid() -> dict[str, tuple[int, int]]:
    """The shipped tile-grid cartogram: code -> (column, row), row 0 at the top (north)."""
    raw = json.loads((files("govops.web") / "static" / "maps" / "tile_grid.json").read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("tile_grid.json: expected an object {code: [col, row]}")
    grid: dict[str, tuple[int, int]] = {}
    for code, cell in raw.items():
        if not (isinstance(cell, list) and len(cell) == 2 and all(isinstance(v, int) and v >= 0 for v in cell)):
            raise ValueError(f"tile_grid.json: {code}: expected [col, row] of non-negative integers, got {cell!r}")
        grid[code] = (cell[0], cell[1])
    if set(grid) != set(_provinces()):
        raise ValueError(
            f"tile_grid.json: codes differ from the current provinces: {sorted(set(grid) ^ set(_provinces()))}"
        )
    if len(set(grid.values())) != len(grid):
        raise ValueError("tile_grid.json: two provinces share a cell")
    return grid


def tile_grid_geojson() -> dict[str, Any]:
    """The tile grid as a FeatureCollection of squares (x = col, y = -row, so north is up).

    Each square spans ``[col + gap, col + 1 - gap] x [-(row + 1) + gap, -row - gap]``; its exterior
    ring runs counter-clockwise. ``properties.cp`` is the square's centre (ECharts puts the label there).
    Draw it with ``aspectScale: 1`` so the tiles stay square.
    """
    names = _provinces()
    features: list[dict[str, Any]] = []
    for code, (col, row) in sorted(tile_grid().items()):
        x0, x1 = col + TILE_GAP, col + 1 - TILE_GAP
        y0, y1 = -(row + 1) + TILE_GAP, -row - TILE_GAP
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": code, "label_vi": names[code], "cp": [col + 0.5, -row - 0.5]},
                "geometry": {"type": "Polygon", "coordinates": [[[round(v, 6) for v in p] for p in ring]]},
            }
        )
    return {"type": "FeatureCollection", "kind": "tile_grid", "features": features}


# ---------------------------------------------------------------------------------------------- boundaries


def _error(path: Path, message: str, *, problems: list[Problem] | None = None) -> GovopsError:
    # A server configuration problem, not the client's: 500 if it ever reaches a response.
    return GovopsError(message, code="bad_boundaries", hint=_HINT, where=str(path), status=500, problems=problems or [])


def _lookup(props: dict[str, Any], key: str) -> Any:
    """A property by case-insensitive name (None if absent)."""
    if key in props:
        return props[key]
    for name, value in props.items():
        if name.lower() == key:
            return value
    return None


def _feature_name(feature: dict[str, Any]) -> tuple[str | None, str | None]:
    """(property used, name) of a feature: the first name property holding a non-empty string."""
    props = feature.get("properties")
    if isinstance(props, dict):
        for key in _NAME_KEYS:
            value = _lookup(props, key)
            if isinstance(value, str) and value.strip():
                return key, value.strip()
    return None, None


def _describe(index: int, feature: dict[str, Any]) -> str:
    _, name = _feature_name(feature)
    return f"feature #{index + 1}" + (f" ({name!r})" if name else "")


def _code_value(feature: dict[str, Any], key: str) -> Any:
    if key == _FEATURE_ID:
        return feature.get("id")
    props = feature.get("properties")
    return _lookup(props, key) if isinstance(props, dict) else None


def _code_key(features: Sequence[dict[str, Any]]) -> str | None:
    """The first code property whose values, in every feature, are official current province codes."""
    official = _provinces()
    for key in (*_CODE_KEYS, _FEATURE_ID):
        values = [_code_value(f, key) for f in features]
        if values and all(isinstance(v, str) and v.strip() in official for v in values):
            return key
    return None


def _read_features(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _error(path, "boundaries file not found") from None
    except OSError as exc:
        raise _error(path, f"cannot read the boundaries file: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _error(path, "not GeoJSON: the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _error(path, f"not GeoJSON: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise _error(path, 'not GeoJSON: expected an object with "type": "FeatureCollection" and a "features" list')
    features: list[dict[str, Any]] = doc["features"]
    if not features:
        raise _error(path, "the FeatureCollection has no features")
    problems: list[Problem] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(f"feature #{i + 1} is not a GeoJSON Feature", row=i + 1))
            continue
        if not isinstance(feature.get("properties"), dict):
            feature["properties"] = {}
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            kind = geometry.get("type") if isinstance(geometry, dict) else None
            problems.append(
                Problem(
                    f"{_describe(i, feature)}: geometry must be a Polygon or MultiPolygon, not {kind!r}",
                    row=i + 1,
                    field="geometry",
                )
            )
            continue
        if _polygons(geometry) is None:
            problems.append(
                Problem(f"{_describe(i, feature)}: malformed coordinates", row=i + 1, field="geometry.coordinates")
            )
    if problems:
        raise _error(
            path,
            f"{len(problems)} malformed feature(s): " + "; ".join(p.message for p in problems[:5]),
            problems=problems,
        )
    return features


def _is_ring(ring: Any) -> bool:
    return isinstance(ring, list) and all(
        isinstance(p, list)
        and len(p) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in p[:2])
        for p in ring
    )


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]] | None:
    """The geometry as a list of polygons (each a list of rings of [x, y]), or None if malformed."""
    coords = geometry.get("coordinates")
    if not isinstance(coords, list):
        return None
    polys = [coords] if geometry["type"] == "Polygon" else coords
    out: list[list[list[list[float]]]] = []
    for poly in polys:
        if not isinstance(poly, list) or not poly or not all(_is_ring(r) for r in poly):
            return None
        out.append([[[float(p[0]), float(p[1])] for p in ring] for ring in poly])
    return out


def _join(path: Path, features: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Code -> feature, by an official code property if one fits every feature, else by name."""
    names = _provinces()
    key = _code_key(features)
    index = _name_index()
    joined: dict[str, dict[str, Any]] = {}
    first_index: dict[str, int] = {}
    problems: list[Problem] = []
    for i, feature in enumerate(features):
        prop, name = _feature_name(feature)
        code: str | None
        if key is not None:
            code = str(_code_value(feature, key)).strip()
            field: str | None = key
            shown = code
        elif name is None:
            problems.append(
                Problem(
                    f"feature #{i + 1} has no province name (looked for {', '.join(_NAME_KEYS)}) "
                    "and no official code property",
                    row=i + 1,
                )
            )
            continue
        else:
            code = index.get(normalize_province_name(name))
            field = prop
            shown = name
        label = _describe(i, feature)
        if code is None and key is None and name is not None and normalize_province_name(name) in _former_index():
            successor = _former_index()[normalize_province_name(name)]
            problems.append(
                Problem(
                    f"{label} is a province dissolved on 2025-07-01 (now part of {successor} {names[successor]})",
                    row=i + 1,
                    field=field,
                    value=shown,
                    hint="use boundaries of the 34 provinces in force since 2025-07-01",
                )
            )
        elif code is None:
            problems.append(
                Problem(
                    f"{label} matches no current province",
                    row=i + 1,
                    field=field,
                    value=shown,
                    hint="use the official name (e.g. 'Hà Nội', 'Thành phố Hồ Chí Minh') or 2-digit code",
                )
            )
        elif code in joined:
            other = _describe(first_index[code], joined[code])
            problems.append(
                Problem(
                    f"{label} and {other} both match {code} {names[code]}",
                    row=i + 1,
                    field=field,
                    value=shown,
                    hint="merge the parts of one province into a single MultiPolygon feature",
                )
            )
        else:
            joined[code] = feature
            first_index[code] = i
    if not problems:
        for code in sorted(set(names) - set(joined)):
            problems.append(Problem(f"no feature for {code} {names[code]}", value=code))
    if problems:
        how = f"by the code property {key!r}" if key is not None else "by province name"
        raise _error(
            path,
            f"cannot join the boundaries to the 34 provinces ({how}): "
            + "; ".join(p.message for p in problems[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            problems=problems,
        )
    return joined


# ---------------------------------------------------------------------------------------------- simplify


def _segment_distance(p: Sequence[float], a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay = a[0], a[1]
    dx, dy = b[0] - ax, b[1] - ay
    px, py = p[0] - ax, p[1] - ay
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return math.hypot(px, py)
    t = max(0.0, min(1.0, (px * dx + py * dy) / length2))
    return math.hypot(px - t * dx, py - t * dy)


def _douglas_peucker(points: Sequence[Sequence[float]], tolerance: float) -> list[int]:
    """Indices of the points kept on an open polyline (first and last always kept)."""
    n = len(points)
    if n <= 2 or tolerance <= 0.0:
        return list(range(n))
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        start, end = stack.pop()
        best, best_i = -1.0, -1
        for i in range(start + 1, end):
            d = _segment_distance(points[i], points[start], points[end])
            if d > best:
                best, best_i = d, i
        if best > tolerance:
            keep[best_i] = True
            stack.append((start, best_i))
            stack.append((best_i, end))
    return [i for i in range(n) if keep[i]]


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring))


def _simplify_ring(ring: Sequence[Sequence[float]], tolerance: float) -> list[list[float]] | None:
    """Round to 3 decimals and simplify a closed ring; None when it collapses (< 4 points or no area)."""
    pts: list[list[float]] = []
    for p in ring:
        q = [round(p[0], _DECIMALS), round(p[1], _DECIMALS)]
        if not pts or q != pts[-1]:
            pts.append(q)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    if len(pts) < 3:
        return None
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    tol = min(tolerance, _RING_TOLERANCE_FRACTION * math.hypot(max(xs) - min(xs), max(ys) - min(ys)))
    if tol > 0.0:
        # Split the ring at its first point and the point farthest from it; simplify both halves.
        far = max(range(len(pts)), key=lambda i: (pts[i][0] - pts[0][0]) ** 2 + (pts[i][1] - pts[0][1]) ** 2)
        first = pts[: far + 1]
        second = [*pts[far:], pts[0]]
        kept = [first[i] for i in _douglas_peucker(first, tol)]
        kept += [second[i] for i in _douglas_peucker(second, tol)[1:-1]]
        pts = kept
    pts.append(list(pts[0]))
    if len(pts) < 4 or abs(_ring_area(pts)) < 10.0 ** (-2 * _DECIMALS):
        return None
    return pts


def _simplify_polygons(
    polygons: Iterable[Sequence[Sequence[Sequence[float]]]], tolerance: float
) -> list[list[list[list[float]]]]:
    out: list[list[list[list[float]]]] = []
    for poly in polygons:
        exterior = _simplify_ring(poly[0], tolerance)
        if exterior is None:
            continue
        holes = [h for h in (_simplify_ring(r, tolerance) for r in poly[1:]) if h is not None]
        out.append([exterior, *holes])
    return out


def _geometry(polygons: list[list[list[list[float]]]]) -> dict[str, Any]:
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def _collection(
    path: Path, shapes: dict[str, list[list[list[list[float]]]]], tolerance: float | None
) -> dict[str, Any]:
    names = _provinces()
    features = []
    for code in sorted(shapes):
        if not shapes[code]:
            raise _error(path, f"the boundary of {code} {names[code]} has no ring with an area")
        features.append(
            {
                "type": "Feature",
                "properties": {"name": code, "label_vi": names[code]},
                "geometry": _geometry(shapes[code]),
            }
        )
    out: dict[str, Any] = {"type": "FeatureCollection", "kind": "boundaries", "features": features}
    if tolerance is not None:
        out["simplified"] = {"decimals": _DECIMALS, "tolerance": tolerance}
    return out


def _size(doc: dict[str, Any]) -> int:
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def load_boundaries(path: Path) -> dict[str, Any]:
    """Read an operator's GeoJSON of province boundaries, joined to our codes and small enough for a browser.

    Join: by the first of the properties ``ma_tinh``, ``code``, ``province_code``, ``id``... (or the
    feature ``id``) whose values are all official province codes; else by the feature's name property
    (``ten_tinh``, ``name``, ``NAME_1``, ``province``...) compared with our names after
    :func:`normalize_province_name`. Every current province must get exactly one feature.

    Geometry larger than :data:`MAX_MAP_BYTES` is rounded to 3 decimals and simplified (Douglas-Peucker,
    stronger until it fits); rings that collapse are dropped, every kept ring is closed with >= 4 points.

    Raises :class:`GovopsError` (code ``bad_boundaries``) naming the file and the offending feature.
    """
    features = _read_features(path)
    joined = _join(path, features)
    shapes = {code: _polygons(feature["geometry"]) or [] for code, feature in joined.items()}
    plain = _collection(path, shapes, None)
    if _size(plain) <= MAX_MAP_BYTES:
        return plain
    doc = plain
    for tolerance in _TOLERANCES:
        simplified = {code: _simplify_polygons(polys, tolerance) for code, polys in shapes.items()}
        doc = _collection(path, simplified, tolerance)
        if _size(doc) <= MAX_MAP_BYTES:
            break
    return doc


# ---------------------------------------------------------------------------------------------- entry point


def _map_key(settings: Settings | None) -> tuple[str | None, int]:
    path = (settings or get_settings()).boundaries_file
    if path is None or not str(path).strip():
        return None, 0
    path = path.expanduser()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1  # load_boundaries reports the missing file; errors are not cached
    return str(path.resolve()), mtime


@lru_cache(maxsize=8)
def _cached_map(path: str | None, mtime_ns: int) -> dict[str, Any]:
    return tile_grid_geojson() if path is None else load_boundaries(Path(path))


@lru_cache(maxsize=8)
def _cached_map_json(path: str | None, mtime_ns: int) -> bytes:
    return json.dumps(_cached_map(path, mtime_ns), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def province_map(settings: Settings | None = None) -> dict[str, Any]:
    """The console's province map: the boundaries file named by ``GOVOPS_BOUNDARIES_FILE``, else the tile grid.

    Cached per (file, modification time); the returned dict is shared, so do not modify it.
    """
    return _cached_map(*_map_key(settings))


def province_map_json(settings: Settings | None = None) -> bytes:
    """:func:`province_map` as compact UTF-8 JSON (cached), ready for an ``application/geo+json`` response."""
    return _cached_map_json(*_map_key(settings))
