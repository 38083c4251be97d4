"""The scorecards' comparisons of values, each score worked out by hand from the values stored: consistency over
time (+-33% of the mean of the three years before), related indicators (+-10% of the national ratio),
denominators (+-10% of a year earlier, merged units included) and the agreement of the statistics office's figure
with a province's own report (+-10%)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govops.quality import scorecards
from govops.warehouse.accept import ingest
from tests.quality.conftest import demo_rules, key
from tests.quality.test_pages import sign_in

CODES = ("LABOUR_FORCE", "EMPLOYED")


def _store(session: Session, *values: tuple[str, str, str, float, str]) -> None:
    rows = [
        (n, {"indicator": i, "area": a, "period": p, "value": v, "source": s})
        for n, (i, a, p, v, s) in enumerate(values, 1)
    ]
    ingest(session=session, rows=rows, recorded_by="test", rules=False)


def _dimension(session: Session, kind: str, key: str, period: str, name: str) -> Any:
    cards = scorecards.scorecards(session=session, kind=kind, period=period, agency=key)
    (card,) = [c for c in cards.items if c.key == key]
    (dimension,) = [d for d in card.dimensions if d.name == name]
    return dimension


def test_consistency_over_time_is_the_share_within_a_third_of_the_three_years_before(session: Session) -> None:
    history = {"EXPORTS": (100.0, 110.0, 120.0), "IMPORTS": (100.0, 100.0, 100.0), "RETAIL_SALES": (90.0, 100, 110)}
    rows = [(i, "79", f"{2022 + n}-03", v, "PC-79") for i, values in history.items() for n, v in enumerate(values)]
    # 140 against a mean of 110 (+27%): within; 140 against 100 (+40%): outside; 70 against 100 (-30%): within.
    rows += [("EXPORTS", "79", "2025-03", 140.0, "PC-79"), ("IMPORTS", "79", "2025-03", 140.0, "PC-79")]
    rows += [("RETAIL_SALES", "79", "2025-03", 70.0, "PC-79")]
    # Hà Nội has two years before only: not judged.
    rows += [("EXPORTS", "01", f"{y}-03", 100.0, "PC-01") for y in (2023, 2024)]
    rows += [("EXPORTS", "01", "2025-03", 500.0, "PC-01")]
    _store(session, *rows)

    province = _dimension(session, "province", "79", "2025-03", "consistency_over_time")
    assert (province.score, province.threshold, province.meets) == (66.7, 90.0, False)
    assert province.detail == {"judged": 3, "outside": 1}
    assert _dimension(session, "agency", "PC-79", "2025-03", "consistency_over_time").score == 66.7
    # A group counts its indicators' values: exports and imports (one of two within), retail sales alone.
    assert _dimension(session, "group", "APX_ECONOMY", "2025-03", "consistency_over_time").score == 50.0
    assert _dimension(session, "group", "APX_SECTORS", "2025-03", "consistency_over_time").score == 100.0
    assert _dimension(session, "province", "01", "2025-03", "consistency_over_time").score is None


def test_related_indicators_are_judged_against_the_national_ratio_or_the_provinces_sums(session: Session) -> None:
    demo_rules(session)  # EMPLOYED <= LABOUR_FORCE sets the two side by side
    labour = {"VN": (1000.0, 980.0), "79": (500.0, 490.0), "01": (400.0, 392.0), "48": (100.0, 85.0)}
    rows = [(i, a, "2025-Q1", v, "NSO") for a, pair in labour.items() for i, v in zip(CODES, pair, strict=True)]
    # No national figure in the second quarter: the provinces' sums (1000 / 980) give the ratio.
    second = {"79": (500.0, 490.0), "01": (400.0, 392.0), "48": (100.0, 98.0)}
    rows += [(i, a, "2025-Q2", v, "NSO") for a, pair in second.items() for i, v in zip(CODES, pair, strict=True)]
    _store(session, *rows)

    # 0.98 everywhere but Đà Nẵng's 0.85, 13% below the nation's 0.98.
    assert _dimension(session, "province", "79", "2025-Q1", "related_indicators").score == 100.0
    danang = _dimension(session, "province", "48", "2025-Q1", "related_indicators")
    assert (danang.score, danang.detail) == (0.0, {"judged": 1, "outside": 1})
    assert _dimension(session, "agency", "NSO", "2025-Q1", "related_indicators").score == 66.7
    later = _dimension(session, "province", "48", "2025-Q2", "related_indicators")
    assert (later.score, later.previous, later.trend) == (100.0, 0.0, "up")


def test_denominators_compare_with_a_year_earlier_counting_the_units_merged_since(session: Session) -> None:
    rows = [
        ("POP", "79", "2024", 9500.0, "NSO"),
        ("POP", "74", "2024", 2800.0, "NSO"),  # Bình Dương, merged into Hồ Chí Minh City in July 2025
        ("POP", "77", "2024", 1200.0, "NSO"),  # Bà Rịa - Vũng Tàu, likewise
        ("POP", "01", "2024", 8500.0, "NSO"),
        ("POP", "79", "2025", 13900.0, "NSO"),  # 13,900 against 9,500 + 2,800 + 1,200 = 13,500: +3.0%
        ("POP", "01", "2025", 9600.0, "NSO"),  # 9,600 against 8,500: +12.9%
    ]
    _store(session, *rows)

    assert _dimension(session, "province", "79", "2025", "denominators").score == 100.0
    hanoi = _dimension(session, "province", "01", "2025", "denominators")
    assert (hanoi.score, hanoi.detail, hanoi.meets) == (0.0, {"judged": 1, "outside": 1}, False)
    assert _dimension(session, "agency", "NSO", "2025", "denominators").score == 50.0


def test_a_provinces_own_report_is_held_against_the_statistics_offices_figure(
    session: Session, client: TestClient
) -> None:
    # Hồ Chí Minh City reports its retail sales and industrial production; the statistics office then stores its
    # own figures of the same values: 8% more (within a tenth) and 20% more (outside).
    _store(session, ("RETAIL_SALES", "79", "2025-05", 1000.0, "PC-79"), ("IIP", "79", "2025-05", 100.0, "PC-79"))
    _store(session, ("RETAIL_SALES", "79", "2025-05", 1080.0, "NSO"), ("IIP", "79", "2025-05", 120.0, "NSO"))
    # Hà Nội's figure is the statistics office's alone: nothing to compare.
    _store(session, ("RETAIL_SALES", "01", "2025-05", 900.0, "NSO"))
    session.commit()

    city = _dimension(session, "agency", "PC-79", "2025-05", "source_agreement")
    assert (city.score, city.detail, city.meets) == (50.0, {"judged": 2, "outside": 1}, False)
    assert _dimension(session, "province", "79", "2025-05", "source_agreement").score == 50.0
    assert _dimension(session, "province", "01", "2025-05", "source_agreement").score is None

    office = key(session, "GO")
    params = {"kind": "province", "agency": "79", "period": "2025-05"}
    answer = client.get("/api/v1/quality/scorecards", params=params, headers=office)
    assert answer.status_code == 200, answer.text
    (card,) = answer.json()["items"]
    by_name = {d["name"]: d for d in card["dimensions"]}
    assert by_name["source_agreement"]["score"] == 50.0 and by_name["source_agreement"]["threshold"] == 90.0
    sign_in(client, session, "chuyen.vien", "GO", "analyst")
    page = client.get("/quality/scorecards", params={"kind": "province", "period": "2025-05", "lang": "vi"})
    assert page.status_code == 200
    assert "Thống nhất giữa các nguồn" in page.text and "Cách tính các phép so sánh" in page.text
    cell = page.text.split('data-testid="source_agreement-79"', 1)[1].split("</td>", 1)[0]
    assert "50" in cell
