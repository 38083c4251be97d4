"""Regenerate govops' shipped reference data about areas and agencies.

Usage (from the repository root, after ``pip install -e '.[reference]'``)::

    python scripts/build_reference_areas.py

Reads the data shipped in the ``vietnamadminunits`` package (MIT, by Hieu Tran) and writes,
deterministically:

* ``src/govops/catalog/reference/areas.csv``   -- nation, provinces (current and pre-2025), wards;
* ``src/govops/catalog/reference/agencies.yaml`` -- the hand-written central agencies below plus
  the 34 provincial people's committees generated from the current provinces;
* ``src/govops/catalog/reference/ATTRIBUTION.md`` -- source, licence and how to regenerate.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
import unicodedata
from collections import Counter
from importlib.metadata import distribution
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any, NoReturn

import yaml

from govops.catalog.reference import english_province_name, read_agencies, read_areas

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "govops" / "catalog" / "reference"

SOURCE_PACKAGE = "vietnamadminunits"
SOURCE_VERSION = "1.0.4"
SOURCE_URL = "https://github.com/tranngocminhhieu/vietnamadminunits"

RETIRED_ON = "2025-06-30"  # last day of the 63-province, three-tier system
WARDS_FROM = "2025-07-01"  # the two-tier system (province, ward) takes effect

COLUMNS = (
    "code",
    "level",
    "parent_code",
    "name_vi",
    "name_ascii",
    "short_vi",
    "short_ascii",
    "kind_vi",
    "valid_from",
    "valid_to",
    "successor_code",
    "former_name_vi",
    "former_short_vi",
    "former_until",
    "lat",
    "lon",
    "area_km2",
)
LEVEL_RANK = {"nation": 0, "province": 1, "ward": 2}
PROVINCE_KINDS = ("Thành phố", "Tỉnh")
WARD_KINDS = ("Phường", "Xã", "Đặc khu")

EXPECTED = {"current_provinces": 34, "retired_provinces": 29, "wards": 3321}

# Central agencies after the 2025 restructuring of the Government (Resolution 176/2025/QH15 and
# the decrees on each ministry's organisation, in force from 2025-03-01). Parents are the owning
# ministry for departments and the ownership representative for state groups.
# Columns: code, kind, name_vi, name_en, parent.
CENTRAL_AGENCIES: list[tuple[str, str, str, str, str | None]] = [
    ("GO", "government_office", "Văn phòng Chính phủ", "Government Office", None),
    # The 14 ministries.
    ("MOD", "ministry", "Bộ Quốc phòng", "Ministry of National Defence", None),
    ("MPS", "ministry", "Bộ Công an", "Ministry of Public Security", None),
    ("MOFA", "ministry", "Bộ Ngoại giao", "Ministry of Foreign Affairs", None),
    ("MOHA", "ministry", "Bộ Nội vụ", "Ministry of Home Affairs", None),
    ("MOJ", "ministry", "Bộ Tư pháp", "Ministry of Justice", None),
    ("MOF", "ministry", "Bộ Tài chính", "Ministry of Finance", None),
    ("MOIT", "ministry", "Bộ Công Thương", "Ministry of Industry and Trade", None),
    ("MAE", "ministry", "Bộ Nông nghiệp và Môi trường", "Ministry of Agriculture and Environment", None),
    ("MOC", "ministry", "Bộ Xây dựng", "Ministry of Construction", None),
    (
        "MOCST",
        "ministry",
        "Bộ Văn hóa, Thể thao và Du lịch",
        "Ministry of Culture, Sports and Tourism",
        None,
    ),
    ("MOST", "ministry", "Bộ Khoa học và Công nghệ", "Ministry of Science and Technology", None),
    ("MOET", "ministry", "Bộ Giáo dục và Đào tạo", "Ministry of Education and Training", None),
    ("MOH", "ministry", "Bộ Y tế", "Ministry of Health", None),
    ("MEMR", "ministry", "Bộ Dân tộc và Tôn giáo", "Ministry of Ethnic and Religious Affairs", None),
    # Ministerial-level agencies (besides the Government Office).
    ("SBV", "ministerial_agency", "Ngân hàng Nhà nước Việt Nam", "State Bank of Vietnam", None),
    ("GI", "ministerial_agency", "Thanh tra Chính phủ", "Government Inspectorate", None),
    # Government agencies.
    (
        "VASS",
        "government_agency",
        "Viện Hàn lâm Khoa học xã hội Việt Nam",
        "Vietnam Academy of Social Sciences",
        None,
    ),
    (
        "VAST",
        "government_agency",
        "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
        "Vietnam Academy of Science and Technology",
        None,
    ),
    ("VTV", "government_agency", "Đài Truyền hình Việt Nam", "Vietnam Television", None),
    ("VOV", "government_agency", "Đài Tiếng nói Việt Nam", "Voice of Vietnam", None),
    ("VNA", "government_agency", "Thông tấn xã Việt Nam", "Vietnam News Agency", None),
    # Since Politburo Decision 214-QĐ/TW (2024-12-28) the Academy is an agency of the Party
    # Central Committee rather than of the Government; kept here because indicators cite it.
    (
        "HCMA",
        "government_agency",
        "Học viện Chính trị quốc gia Hồ Chí Minh",
        "Ho Chi Minh National Academy of Politics",
        None,
    ),
    # Departments that own data.
    ("NSO", "department", "Cục Thống kê", "National Statistics Office", "MOF"),
    ("CUSTOMS", "department", "Cục Hải quan", "Vietnam Customs", "MOF"),
    ("TAX", "department", "Cục Thuế", "Department of Taxation", "MOF"),
    ("TREASURY", "department", "Kho bạc Nhà nước", "Vietnam State Treasury", "MOF"),
    ("FIA", "department", "Cục Đầu tư nước ngoài", "Foreign Investment Agency", "MOF"),
    ("VSS", "department", "Bảo hiểm xã hội Việt Nam", "Vietnam Social Security", "MOF"),
    (
        "VNAT",
        "department",
        "Cục Du lịch Quốc gia Việt Nam",
        "Vietnam National Authority of Tourism",
        "MOCST",
    ),
    # State groups; the former Commission for the Management of State Capital at Enterprises
    # handed its groups and corporations to the Ministry of Finance in 2025.
    ("EVN", "state_group", "Tập đoàn Điện lực Việt Nam", "Vietnam Electricity", "MOF"),
    (
        "PVN",
        "state_group",
        "Tập đoàn Công nghiệp - Năng lượng Quốc gia Việt Nam",
        "Vietnam National Industry - Energy Group (Petrovietnam)",
        "MOF",
    ),
    (
        "TKV",
        "state_group",
        "Tập đoàn Công nghiệp Than - Khoáng sản Việt Nam",
        "Vietnam National Coal - Mineral Industries Holding Corporation (Vinacomin)",
        "MOF",
    ),
    (
        "VNPT",
        "state_group",
        "Tập đoàn Bưu chính Viễn thông Việt Nam",
        "Vietnam Posts and Telecommunications Group",
        "MOF",
    ),
    ("VINACHEM", "state_group", "Tập đoàn Hóa chất Việt Nam", "Vietnam National Chemical Group", "MOF"),
    (
        "VIETTEL",
        "state_group",
        "Tập đoàn Công nghiệp - Viễn thông Quân đội",
        "Viettel Group (Military Industry and Telecoms Group)",
        "MOD",
    ),
    ("VNR", "state_group", "Tổng công ty Đường sắt Việt Nam", "Vietnam Railways", "MOF"),
]


# --------------------------------------------------------------------------- helpers


def to_ascii(text: str) -> str:
    """Strip Vietnamese diacritics: NFD, drop combining marks, map đ/Đ to d/D."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    result = unicodedata.normalize("NFC", stripped)
    if not result.isascii():
        raise ValueError(f"cannot transliterate {text!r} to ASCII (got {result!r})")
    return result


def fmt_float(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def split_kind(name: str, short: str, kinds: tuple[str, ...]) -> str:
    """The kind prefix of ``name`` (e.g. ``Phường``), checked against ``short``."""
    for kind in kinds:
        if name == f"{kind} {short}":
            return kind
    raise ValueError(f"{name!r} is not one of {kinds} followed by {short!r}")


def die(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


# --------------------------------------------------------------------------- sources


def check_source_version() -> None:
    version = distribution(SOURCE_PACKAGE).version
    if version != SOURCE_VERSION:
        die(f"{SOURCE_PACKAGE}=={SOURCE_VERSION} is required, found {version}")


def read_source_licence() -> str:
    text = distribution(SOURCE_PACKAGE).read_text("licenses/LICENSE")
    if text is None:
        die(f"{SOURCE_PACKAGE}: licenses/LICENSE not found in its dist-info")
    return text.strip() + "\n"


def read_source_tables() -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    db = files(SOURCE_PACKAGE) / "data" / "dataset.db"
    with as_file(db) as path:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            wards = conn.execute(
                "SELECT provinceCode, province, provinceShort, provinceKey, provinceLat, provinceLon,"
                " wardCode, ward, wardShort, wardType, wardLat, wardLon, wardAreaKm2"
                " FROM admin_units ORDER BY wardCode"
            ).fetchall()
            legacy = conn.execute(
                "SELECT DISTINCT provinceCode, province, provinceShort, provinceKey,"
                " provinceLat, provinceLon FROM admin_units_legacy ORDER BY provinceCode"
            ).fetchall()
        finally:
            conn.close()
    return wards, legacy


def read_province_mapping() -> dict[str, list[str]]:
    text = (files(SOURCE_PACKAGE) / "data" / "converter_2025.json").read_text(encoding="utf-8")
    mapping: dict[str, list[str]] = json.loads(text)["DICT_PROVINCE"]
    return mapping


# --------------------------------------------------------------------------- areas


def area_row(**fields: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    unknown = set(fields) - set(COLUMNS)
    if unknown:
        raise KeyError(unknown)
    row.update(fields)
    return row


def build_areas() -> list[dict[str, str]]:
    wards, legacy = read_source_tables()
    mapping = read_province_mapping()

    rows: list[dict[str, str]] = [
        area_row(
            code="VN",
            level="nation",
            name_vi="Việt Nam",
            name_ascii="Viet Nam",
            short_vi="Việt Nam",
            short_ascii="Viet Nam",
            kind_vi="Quốc gia",
        )
    ]

    # Current provinces, keyed by the package's province key.
    current: dict[str, sqlite3.Row] = {}
    for w in wards:
        seen = current.setdefault(w["provinceKey"], w)
        if (seen["provinceCode"], seen["province"]) != (w["provinceCode"], w["province"]):
            die(f"inconsistent province data for {w['provinceKey']}")
    current_codes = {p["provinceCode"] for p in current.values()}
    current_rows: dict[str, dict[str, str]] = {}
    for p in sorted(current.values(), key=lambda row: str(row["provinceCode"])):
        current_rows[p["provinceCode"]] = area_row(
            code=p["provinceCode"],
            level="province",
            parent_code="VN",
            name_vi=p["province"],
            name_ascii=to_ascii(p["province"]),
            short_vi=p["provinceShort"],
            short_ascii=to_ascii(p["provinceShort"]),
            kind_vi=split_kind(p["province"], p["provinceShort"], PROVINCE_KINDS),
            lat=fmt_float(p["provinceLat"]),
            lon=fmt_float(p["provinceLon"]),
        )
        rows.append(current_rows[p["provinceCode"]])

    # Pre-2025 provinces: those whose code did not carry over are retired into their successor.
    old_by_key = {p["provinceKey"]: p for p in legacy}
    if len(old_by_key) != len(legacy):
        die("legacy provinces: province keys are not unique")
    if set(mapping) != set(current):
        die("converter_2025.json DICT_PROVINCE keys do not match the current provinces")
    mapped_old = [old for olds in mapping.values() for old in olds]
    if sorted(mapped_old) != sorted(old_by_key):
        die("converter_2025.json DICT_PROVINCE does not map every legacy province exactly once")
    for new_key, old_keys in mapping.items():
        new_code = current[new_key]["provinceCode"]
        continuing = [k for k in old_keys if old_by_key[k]["provinceCode"] == new_code]
        if len(continuing) != 1:
            die(f"{new_key}: expected exactly one predecessor with code {new_code}, got {continuing}")
        for old_key in old_keys:
            old = old_by_key[old_key]
            if old["provinceCode"] == new_code:
                # The code carried over, sometimes from a province of another name (80 was Long An's).
                if old["province"] != current[new_key]["province"]:
                    current_rows[new_code]["former_name_vi"] = old["province"]
                    current_rows[new_code]["former_short_vi"] = old["provinceShort"]
                    current_rows[new_code]["former_until"] = RETIRED_ON
                continue
            if old["provinceCode"] in current_codes:
                die(f"retired province {old_key} reuses current code {old['provinceCode']}")
            rows.append(
                area_row(
                    code=old["provinceCode"],
                    level="province",
                    parent_code="VN",
                    name_vi=old["province"],
                    name_ascii=to_ascii(old["province"]),
                    short_vi=old["provinceShort"],
                    short_ascii=to_ascii(old["provinceShort"]),
                    kind_vi=split_kind(old["province"], old["provinceShort"], PROVINCE_KINDS),
                    valid_to=RETIRED_ON,
                    successor_code=new_code,
                    lat=fmt_float(old["provinceLat"]),
                    lon=fmt_float(old["provinceLon"]),
                )
            )

    # Wards. The kind is taken from the official name; a few source rows carry a ``wardType``
    # that contradicts the name (and the name key), so report those rather than trust them.
    for w in wards:
        kind = split_kind(w["ward"], w["wardShort"], WARD_KINDS)
        if kind != w["wardType"]:
            print(
                f"note: ward {w['wardCode']} {w['ward']!r}: source wardType {w['wardType']!r}"
                f" contradicts the name; using {kind!r}",
                file=sys.stderr,
            )
        if len(w["wardCode"]) != 5 or not w["wardCode"].isdigit():
            die(f"ward code {w['wardCode']!r} is not 5 digits")
        rows.append(
            area_row(
                code=w["wardCode"],
                level="ward",
                parent_code=w["provinceCode"],
                name_vi=w["ward"],
                name_ascii=to_ascii(w["ward"]),
                short_vi=w["wardShort"],
                short_ascii=to_ascii(w["wardShort"]),
                kind_vi=kind,
                valid_from=WARDS_FROM,
                lat=fmt_float(w["wardLat"]),
                lon=fmt_float(w["wardLon"]),
                area_km2=fmt_float(w["wardAreaKm2"]),
            )
        )

    rows.sort(key=lambda r: (LEVEL_RANK[r["level"]], r["code"]))
    check_areas(rows)
    return rows


def check_areas(rows: list[dict[str, str]]) -> None:
    counts = Counter(
        "wards"
        if r["level"] == "ward"
        else "retired_provinces"
        if r["level"] == "province" and r["valid_to"]
        else "current_provinces"
        if r["level"] == "province"
        else r["level"]
        for r in rows
    )
    expected = {"nation": 1, **EXPECTED}
    if dict(counts) != expected:
        die(f"unexpected row counts {dict(counts)}, expected {expected}")
    codes = [r["code"] for r in rows]
    duplicates = [c for c, n in Counter(codes).items() if n > 1]
    if duplicates:
        die(f"duplicate area codes: {duplicates}")
    current_provinces = {r["code"] for r in rows if r["level"] == "province" and not r["valid_to"]}
    for r in rows:
        if r["level"] == "ward" and r["parent_code"] not in current_provinces:
            die(f"ward {r['code']} has parent {r['parent_code']}, not a current province")
        if r["successor_code"] and r["successor_code"] not in current_provinces:
            die(f"province {r['code']} has successor {r['successor_code']}, not a current province")
        for column in ("name_ascii", "short_ascii"):
            if not r[column].isascii():
                die(f"{r['code']}: {column} {r[column]!r} is not ASCII")


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


# --------------------------------------------------------------------------- agencies


def committee_name_en(province: dict[str, str]) -> str:
    english = english_province_name(province["short_ascii"])
    if province["kind_vi"] == "Thành phố":
        if english == "Hanoi" or english.endswith(" City"):
            return f"{english} People's Committee"
        return f"{english} City People's Committee"
    return f"{english} Provincial People's Committee"


def build_agencies(areas: list[dict[str, str]]) -> list[dict[str, Any]]:
    agencies: list[dict[str, Any]] = [
        {"code": code, "kind": kind, "name_vi": name_vi, "name_en": name_en, "parent": parent, "area": None}
        for code, kind, name_vi, name_en, parent in CENTRAL_AGENCIES
    ]
    provinces = [r for r in areas if r["level"] == "province" and not r["valid_to"]]
    for p in sorted(provinces, key=lambda r: r["code"]):
        agencies.append(
            {
                "code": f"PC-{p['code']}",
                "kind": "provincial_committee",
                "name_vi": f"Ủy ban nhân dân {p['name_vi']}",
                "name_en": committee_name_en(p),
                "parent": None,
                "area": p["code"],
            }
        )
    codes = [a["code"] for a in agencies]
    if len(codes) != len(set(codes)):
        die("duplicate agency codes")
    seen: set[str] = set()
    for a in agencies:  # parents must come first in the file
        if a["parent"] is not None and a["parent"] not in seen:
            die(f"agency {a['code']}: parent {a['parent']} is not defined before it")
        seen.add(a["code"])
    return agencies


AGENCIES_HEADER = """\
# Agencies of Vietnam's state apparatus used as data owners and reporting units in govops.
# GENERATED by scripts/build_reference_areas.py -- edit CENTRAL_AGENCIES there, not this file.
# The central part is hand-written (as of the 2025 restructuring of the Government); the
# provincial people's committees are generated from the current provinces in areas.csv.
# Fields: code, kind, name_vi, name_en, parent (agency code or null), area (area code or null).
"""


def write_agencies(path: Path, agencies: list[dict[str, Any]]) -> None:
    body = yaml.safe_dump(agencies, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(AGENCIES_HEADER + body, encoding="utf-8", newline="")


# --------------------------------------------------------------------------- attribution


def attribution(licence: str) -> str:
    return f"""\
# Attribution of the reference data

## Administrative areas (`areas.csv`)

`areas.csv` is generated from the data shipped in the Python package
[`{SOURCE_PACKAGE}`]({SOURCE_URL}) version {SOURCE_VERSION} by Hieu Tran
(Tran Ngoc Minh Hieu), released under the MIT licence reproduced below. The files used are
`vietnamadminunits/data/dataset.db` (tables `admin_units`, the wards and provinces in force from
2025-07-01, and `admin_units_legacy`, the 63 provinces before that date) and
`vietnamadminunits/data/converter_2025.json` (`DICT_PROVINCE`, which old provinces each new
province absorbed).

What govops derives from it:

* one row for the nation (`VN`);
* the 34 provinces in force since 2025-07-01 (open-ended validity);
* the 29 pre-2025 provinces whose code did not carry over: `valid_to` = {RETIRED_ON} and
  `successor_code` = the province that absorbed them. Each of the 34 current provinces keeps
  the code of one of its predecessors, so codes are stable and each such code is a single row
  carrying the current name (e.g. `46` Thành phố Huế, `80` Tây Ninh, formerly Long An's code);
* the 3,321 wards (`Phường`, `Xã`, `Đặc khu`) with `valid_from` = {WARDS_FROM}, their centroid
  coordinates and areas in km²;
* ASCII forms of the names (diacritics removed, đ/Đ -> d/D). The ward kind is read from the
  official name; a few source rows whose `wardType` contradicts the name are reported when the
  script runs.

## Agencies (`agencies.yaml`)

The agencies are compiled by the govops project (the central part is written by hand in
`scripts/build_reference_areas.py`; the provincial people's committees are generated from the
current provinces). They are not taken from `{SOURCE_PACKAGE}`.

## How to regenerate

From the repository root:

```sh
pip install -e '.[reference]'
python scripts/build_reference_areas.py
```

The script is deterministic: running it twice produces identical files.

## Licence of `{SOURCE_PACKAGE}`

```text
{licence}```
"""


# --------------------------------------------------------------------------- main


def main() -> None:
    check_source_version()
    licence = read_source_licence()
    areas = build_areas()
    agencies = build_agencies(areas)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(OUT_DIR / "areas.csv", areas)
    write_agencies(OUT_DIR / "agencies.yaml", agencies)
    (OUT_DIR / "ATTRIBUTION.md").write_text(attribution(licence), encoding="utf-8", newline="")
    # Round-trip through the application's reader as a final check.
    if len(read_areas()) != len(areas) or len(read_agencies()) != len(agencies):
        die("the written files do not read back completely")
    levels = Counter(r["level"] for r in areas)
    print(f"wrote {len(areas)} areas ({dict(levels)}) and {len(agencies)} agencies to {OUT_DIR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
