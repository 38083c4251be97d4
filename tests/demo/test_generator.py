"""The shipped indicator catalogue, and the DEMO data generator that fills it with made-up values."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

import pytest
import yaml

from govops.demo.generator import NATION, DemoObservation, generate

END = "2026-10"

PROVINCES = [
    "01",
    "04",
    "08",
    "11",
    "12",
    "14",
    "15",
    "19",
    "20",
    "22",
    "24",
    "25",
    "31",
    "33",
    "37",
    "38",
    "40",
    "42",
    "44",
    "46",
    "48",
    "51",
    "52",
    "56",
    "66",
    "68",
    "75",
    "79",
    "80",
    "82",
    "86",
    "91",
    "92",
    "96",
]
OWNERS = {
    "GO",
    "MOF",
    "NSO",
    "CUSTOMS",
    "TAX",
    "TREASURY",
    "FIA",
    "VSS",
    "SBV",
    "MOIT",
    "MAE",
    "MOC",
    "MOHA",
    "MOST",
    "MOCST",
    "VNAT",
    "MOET",
    "MOH",
    "MPS",
    "EVN",
}
# The 2025 reorganisation: new province -> the pre-2025 provinces it absorbed (continuing code included).
PREDECESSORS = {
    "08": ["02", "08"],
    "15": ["10", "15"],
    "19": ["06", "19"],
    "24": ["24", "27"],
    "25": ["17", "25", "26"],
    "31": ["30", "31"],
    "33": ["33", "34"],
    "37": ["35", "36", "37"],
    "44": ["44", "45"],
    "48": ["48", "49"],
    "51": ["51", "62"],
    "52": ["52", "64"],
    "56": ["56", "58"],
    "66": ["54", "66"],
    "68": ["60", "67", "68"],
    "75": ["70", "75"],
    "79": ["74", "77", "79"],
    "80": ["72", "80"],
    "82": ["82", "87"],
    "86": ["83", "84", "86"],
    "91": ["89", "91"],
    "92": ["92", "93", "94"],
    "96": ["95", "96"],
}
CODE = re.compile(r"^[A-Z0-9_]+$")
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE)
PERIOD = {
    "M": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
    "Q": re.compile(r"^\d{4}-Q[1-4]$"),
    "A": re.compile(r"^\d{4}$"),
}
FIRST = {"M": "2015-01", "Q": "2015-Q1", "A": "2015"}
LAST = {"M": "2026-10", "Q": "2026-Q3", "A": "2025"}  # quarters and years only once complete
INDICATOR_KEYS = {
    "code",
    "name_vi",
    "name_en",
    "definition_vi",
    "definition_en",
    "unit",
    "periodicity",
    "dimensions",
    "area_aggregation",
    "area_weight",
    "time_aggregation",
    "owner",
    "groups",
    "classification",
    "higher_is_better",
    "decimals",
    "formula",
    "keywords_vi",
    "keywords_en",
}
# Set only where it holds (a balance that can fall below zero).
OPTIONAL_INDICATOR_KEYS = {"crosses_zero"}
FUNCTIONS = {"yoy", "pop", "lag", "ytd"}

Key = tuple[str, str, str, tuple[tuple[str, str], ...]]


def _read(*parts: str) -> Any:
    return yaml.safe_load(files("govops").joinpath(*parts).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    data = _read("catalog", "reference", "catalogue.yaml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def indicators(catalogue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in catalogue["indicators"]}


@pytest.fixture(scope="module")
def stored(indicators: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {code: i for code, i in indicators.items() if not i["formula"]}


@pytest.fixture(scope="module")
def national_only() -> set[str]:
    profiles = _read("demo", "profiles.yaml")["indicators"]
    return {code for code, p in profiles.items() if p.get("national_only")}


@pytest.fixture(scope="module")
def observations() -> list[DemoObservation]:
    return list(generate(end_month=END))


@pytest.fixture(scope="module")
def table(observations: list[DemoObservation]) -> dict[Key, float]:
    out: dict[Key, float] = {}
    for o in observations:
        key = (o.indicator, o.area, o.period, tuple(sorted(o.dims.items())))
        assert key not in out, f"repeated data point {key}"
        out[key] = o.value
    return out


def _formula_names(text: str) -> set[str]:
    tree = ast.parse(text, mode="eval")
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS}


# --------------------------------------------------------------------------- the catalogue


def test_catalogue_has_the_four_lists(catalogue: dict[str, Any]) -> None:
    assert set(catalogue) == {"units", "codelists", "groups", "indicators"}


def test_codes_are_unique_and_well_formed(catalogue: dict[str, Any]) -> None:
    for section in ("units", "codelists", "groups", "indicators"):
        codes = [entry["code"] for entry in catalogue[section]]
        assert len(codes) == len(set(codes)), section
        assert all(CODE.match(c) and len(c) <= 32 for c in codes), section
    for codelist in catalogue["codelists"]:
        codes = [c["code"] for c in codelist["codes"]]
        assert len(codes) == len(set(codes)), codelist["code"]


def test_enough_indicators_of_every_kind(indicators: dict[str, dict[str, Any]]) -> None:
    assert len(indicators) >= 45
    derived = [i for i in indicators.values() if i["formula"]]
    assert len(derived) >= 6
    classes = {i["classification"] for i in indicators.values()}
    assert classes == {"public", "internal", "confidential"}
    assert {i["periodicity"] for i in indicators.values()} >= {"M", "Q", "A"}


def test_indicator_entries_are_complete(indicators: dict[str, dict[str, Any]]) -> None:
    for code, ind in indicators.items():
        assert INDICATOR_KEYS <= set(ind) <= INDICATOR_KEYS | OPTIONAL_INDICATOR_KEYS, code
        assert ind["periodicity"] in {"D", "W", "M", "Q", "S", "A", "2A", "5A", "10A"}, code
        assert ind["area_aggregation"] in {"sum", "mean", "weighted", "none"}, code
        assert ind["time_aggregation"] in {"sum", "mean", "last", "none"}, code
        assert ind["classification"] in {"public", "internal", "confidential"}, code
        assert ind["higher_is_better"] in {True, False, None}, code
        assert isinstance(ind["decimals"], int) and 0 <= ind["decimals"] <= 6, code
        assert ind["definition_vi"] and ind["definition_en"], code


def test_references_resolve(catalogue: dict[str, Any], indicators: dict[str, dict[str, Any]]) -> None:
    units = {u["code"] for u in catalogue["units"]}
    codelists = {c["code"] for c in catalogue["codelists"]}
    groups = {g["code"] for g in catalogue["groups"]}
    for code, ind in indicators.items():
        assert ind["unit"] in units, code
        assert set(ind["dimensions"]) <= codelists, code
        assert ind["groups"] and set(ind["groups"]) <= groups, code
        assert ind["owner"] in OWNERS, code
        weighted = ind["area_aggregation"] == "weighted"
        assert (ind["area_weight"] is not None) == weighted, code
        if weighted:
            weight = indicators[ind["area_weight"]]
            assert not weight["formula"], f"{code} is weighted by a derived indicator"
            assert weight["area_aggregation"] == "sum", f"{code}: the weight must add up over provinces"


def test_units_and_groups(catalogue: dict[str, Any]) -> None:
    for unit in catalogue["units"]:
        assert unit["factor"] > 0 and unit["quantity"] and unit["symbol"], unit["code"]
    by_code = {u["code"]: u for u in catalogue["units"]}
    assert by_code["BN_VND"]["factor"] == 1e9 and by_code["BN_VND"]["quantity"] == by_code["TN_VND"]["quantity"]
    assert {g["kind"] for g in catalogue["groups"]} == {"report", "appendix", "exchange"}


def test_formulas_name_only_catalogue_indicators(indicators: dict[str, dict[str, Any]]) -> None:
    for code, ind in indicators.items():
        if ind["formula"]:
            names = _formula_names(ind["formula"])
            assert names, code
            assert names <= set(indicators) - {code}, f"{code}: {names - set(indicators)}"


def test_vietnamese_names_have_diacritics(catalogue: dict[str, Any]) -> None:
    names: list[str] = []
    for section in ("units", "codelists", "groups", "indicators"):
        names += [entry["name_vi"] for entry in catalogue[section]]
    for codelist in catalogue["codelists"]:
        names += [c["name_vi"] for c in codelist["codes"]]
    for indicator in catalogue["indicators"]:
        names.append(indicator["definition_vi"])
    assert [n for n in names if not VIETNAMESE.search(n)] == []


def test_key_breakdowns(catalogue: dict[str, Any], indicators: dict[str, dict[str, Any]]) -> None:
    codelists = {c["code"]: [x["code"] for x in c["codes"]] for c in catalogue["codelists"]}
    assert indicators["CPI"]["dimensions"] == ["COICOP_VN"]
    assert codelists["COICOP_VN"] == [f"{k:02d}" for k in range(1, 12)]
    (iip_dim,) = indicators["IIP"]["dimensions"]
    assert codelists[iip_dim] == ["B", "C", "D", "E"]


# --------------------------------------------------------------------------- the generator


def test_is_deterministic() -> None:
    first = list(generate(end_month="2016-03"))
    assert first == list(generate(end_month="2016-03"))
    assert first != list(generate(end_month="2016-03", seed=1))


def test_earlier_periods_do_not_move_when_the_end_moves() -> None:
    short = {(o.indicator, o.area, o.period, tuple(o.dims.items())): o.value for o in generate(end_month="2016-03")}
    longer = {(o.indicator, o.area, o.period, tuple(o.dims.items())): o.value for o in generate(end_month="2017-06")}
    assert all(longer[key] == value for key, value in short.items())


def test_every_stored_indicator_and_no_derived_one(
    observations: list[DemoObservation], stored: dict[str, dict[str, Any]]
) -> None:
    assert {o.indicator for o in observations} == set(stored)


def test_periods_follow_the_periodicity(observations: list[DemoObservation], stored: dict[str, dict[str, Any]]) -> None:
    periods: dict[str, set[str]] = defaultdict(set)
    for o in observations:
        periods[o.indicator].add(o.period)
    for code, found in periods.items():
        freq = stored[code]["periodicity"]
        assert all(PERIOD[freq].match(p) for p in found), code
        assert min(found) == FIRST[freq] and max(found) == LAST[freq], code
        per_year = {"M": 12, "Q": 4, "A": 1}[freq]
        assert len(found) == (len(range(2015, 2026)) * per_year + {"M": 10, "Q": 3, "A": 0}[freq]), code


def test_areas(observations: list[DemoObservation], national_only: set[str]) -> None:
    areas: dict[str, set[str]] = defaultdict(set)
    for o in observations:
        areas[o.indicator].add(o.area)
    for code, found in areas.items():
        if code in national_only:
            assert found == {NATION}, code
        elif code == "SEAPORT_CARGO":  # provinces without a seaport have no data
            assert NATION in found and 10 < len(found) < 35
        else:
            assert found == {NATION, *PROVINCES}, code


def test_values_status_and_breakdowns(observations: list[DemoObservation], stored: dict[str, dict[str, Any]]) -> None:
    last_two: dict[str, set[str]] = defaultdict(set)
    periods: dict[str, set[str]] = defaultdict(set)
    for o in observations:
        periods[o.indicator].add(o.period)
    for code, found in periods.items():
        last_two[code] = set(sorted(found)[-2:])
    per_point: dict[tuple[str, str, str], int] = defaultdict(int)
    for o in observations:
        ind = stored[o.indicator]
        assert o.value == round(o.value, ind["decimals"])
        assert o.status == ("provisional" if o.period in last_two[o.indicator] else "final")
        assert set(o.dims) <= set(ind["dimensions"])
        per_point[(o.indicator, o.area, o.period)] += 1
    assert per_point[("CPI", NATION, "2024-06")] == 12
    assert per_point[("CPI", "79", "2024-06")] == 12
    assert per_point[("IIP", "01", "2024-06")] == 5
    assert per_point[("RETAIL_SALES", "01", "2024-06")] == 1


def _provinces_of(table: dict[Key, float], code: str, period: str) -> dict[str, float]:
    return {k[1]: v for k, v in table.items() if k[0] == code and k[2] == period and not k[3] and k[1] != NATION}


def test_provinces_add_up_to_the_nation(
    table: dict[Key, float], stored: dict[str, dict[str, Any]], national_only: set[str]
) -> None:
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for (code, area, period, _), value in table.items():
        if area != NATION:
            sums[(code, period)] += value
    checked = 0
    for code, ind in stored.items():
        if ind["area_aggregation"] != "sum" or code in national_only:
            continue
        for (c, period), total in sums.items():
            if c == code:
                nation = table[(code, NATION, period, ())]
                assert total == pytest.approx(nation, abs=10 ** -(ind["decimals"] + 2)), (code, period)
                checked += 1
    assert checked > 3500


@pytest.mark.parametrize(
    ("code", "period"),
    [
        ("CPI", "2024-06"),
        ("CPI", "2020-04"),
        ("UNEMPLOYMENT_RATE", "2021-Q3"),
        ("AVG_INCOME", "2025-Q2"),
        ("HEALTH_INS_COVERAGE", "2023"),
    ],
)
def test_weighted_means(table: dict[Key, float], stored: dict[str, dict[str, Any]], code: str, period: str) -> None:
    ind = stored[code]
    weight_code = ind["area_weight"]
    weight_period = {"POP": period[:4]}.get(weight_code, period)
    weights = _provinces_of(table, weight_code, weight_period)
    values = _provinces_of(table, code, period)
    assert set(values) == set(PROVINCES) == set(weights)
    expected = sum(weights[a] * values[a] for a in values) / sum(weights.values())
    assert table[(code, NATION, period, ())] == pytest.approx(expected, abs=10 ** -ind["decimals"])


def test_index_values_vary_a_little_around_the_nation(table: dict[Key, float]) -> None:
    nation = table[("CPI", NATION, "2024-06", ())]
    values = _provinces_of(table, "CPI", "2024-06")
    assert all(0.9 * nation < v < 1.1 * nation for v in values.values())
    assert len(set(values.values())) > 20
    groups = [table[("CPI", NATION, "2024-06", (("COICOP_VN", f"{k:02d}"),))] for k in range(1, 12)]
    assert min(groups) < nation < max(groups)


def _months(table: dict[Key, float], code: str, year: int, area: str = NATION) -> list[float]:
    return [table[(code, area, f"{year}-{m:02d}", ())] for m in range(1, 13)]


def test_seasonality(table: dict[Key, float]) -> None:
    for year in range(2015, 2026):
        spending = _months(table, "BUDGET_EXPENDITURE", year)
        assert spending[11] > 1.3 * sum(spending) / 12, year
        disbursed = _months(table, "PI_DISBURSED", year)
        assert sum(disbursed[9:]) > sum(disbursed[:3]) * 2, year  # public investment is back-loaded
    # Tết (1st day): 2024-02-10, 2025-01-29. Industry slows in the Tết month.
    assert table[("IIP", NATION, "2024-02", ())] < 0.9 * table[("IIP", NATION, "2024-01", ())]
    assert table[("IIP", NATION, "2025-01", ())] < 0.9 * table[("IIP", NATION, "2024-12", ())]


def test_covid(table: dict[Key, float]) -> None:
    arrivals_2019 = sum(_months(table, "INTL_ARRIVALS", 2019))
    assert sum(_months(table, "INTL_ARRIVALS", 2021)) < 0.05 * arrivals_2019
    assert table[("RETAIL_SALES", NATION, "2021-08", ())] < 0.85 * table[("RETAIL_SALES", NATION, "2019-08", ())]
    assert table[("GDP_FLASH", NATION, "2021-Q3", ())] < 0 < table[("GDP_FLASH", NATION, "2022-Q3", ())]


def _ent_new(observations: Iterable[DemoObservation]) -> dict[tuple[str, str], float]:
    return {(o.area, o.period): o.value for o in observations if o.indicator == "ENT_NEW"}


def test_predecessors_split_enterprises(table: dict[Key, float]) -> None:
    split_run = list(generate(end_month=END, predecessors=PREDECESSORS))
    split = _ent_new(split_run)
    plain = {(k[1], k[2]): v for k, v in table.items() if k[0] == "ENT_NEW"}
    old_codes = {old for olds in PREDECESSORS.values() for old in olds} - set(PROVINCES)
    for (area, period), value in plain.items():
        before = period < "2025-07"
        if area in PREDECESSORS and before:
            parts = [split[(old, period)] for old in PREDECESSORS[area]]
            assert sum(parts) == value, (area, period)
            assert all(p >= 0 for p in parts)
            assert (area, period) in split or area not in PREDECESSORS[area]
        else:
            assert split[(area, period)] == value, (area, period)
    assert all(period < "2025-07" for area, period in split if area in old_codes)
    assert {area for area, period in split if period == "2025-07"} == {NATION, *PROVINCES}
    # Everything else is untouched.
    others = [o for o in split_run if o.indicator != "ENT_NEW"]
    assert len(others) == len(table) - len(plain)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="end_month"):
        list(generate(end_month="2025-13"))
    with pytest.raises(ValueError, match="end_month"):
        list(generate(end_month="2014-12"))
    with pytest.raises(ValueError, match="predecessors"):
        list(generate(end_month="2016-01", predecessors={"77": ["77"]}))
