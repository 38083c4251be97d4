"""What the national overview and the province pages show, and computing it ahead of their visitors.

The overview's tiles follow the Government's monthly socio-economic report; the province page shows the same
indicators for one province against the others. Both read the level series and, where it tells more than the
level, the year to date (see `series.ytd_rule`), through the series cache (`series_cache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.catalog.snapshot import catalogue_snapshot
from govops.warehouse.series import SeriesQuery, ytd_rule
from govops.warehouse.series_cache import cached_series, data_versions, prefetch

# The tiles of the national overview, in the order of the Government's monthly socio-economic report.
OVERVIEW: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MACRO", ("GDP_GROWTH", "GRDP_PER_CAPITA")),
    ("PRICES", ("CPI_YOY", "CPI_MOM", "CORE_INFLATION", "GOLD_PRICE_INDEX", "USD_PRICE_INDEX")),
    ("INDUSTRY", ("IIP_YOY", "ELEC_PRODUCTION")),
    ("TRADE", ("RETAIL_SALES", "EXPORTS", "IMPORTS", "TRADE_BALANCE")),
    ("INVESTMENT", ("FDI_REGISTERED", "FDI_DISBURSED", "PI_DISBURSEMENT_RATE")),
    ("PUBLIC_FINANCE", ("BUDGET_REVENUE", "BUDGET_EXPENDITURE", "BUDGET_BALANCE")),
    ("ENTERPRISES", ("ENT_NEW", "ENT_DISSOLVED")),
    ("MONEY_BANKING", ("CREDIT_GROWTH_YOY", "LENDING_RATE")),
    ("TOURISM", ("INTL_ARRIVALS",)),
    ("LABOUR", ("UNEMPLOYMENT_RATE",)),
    ("SOCIAL", ("TRAFFIC_DEATHS", "DENGUE_CASES")),
)


def shows_ytd(rule: str | None) -> bool:
    """Whether a year-to-date figure tells more than the level: not for stocks (`last`), nor for a formula that
    already cumulates (`level`)."""
    return rule in ("sum", "mean", "formula")


def overview_start() -> str:
    return str(date.today().year - 2)


def province_start() -> str:
    return str(date.today().year - 1)


def overview_queries(code: str, rule: str | None) -> tuple[SeriesQuery, SeriesQuery | None]:
    start = overview_start()
    level = SeriesQuery.of(code, ["VN"], start=start)
    return level, (SeriesQuery.of(code, ["VN"], start=start, view="ytd") if shows_ytd(rule) else None)


def province_queries(code: str, provinces: Sequence[str], rule: str | None) -> tuple[SeriesQuery, SeriesQuery | None]:
    areas = [*provinces, "VN"]
    level = SeriesQuery.of(code, areas, start=province_start())
    return level, (SeriesQuery.of(code, areas, start=province_start(), view="ytd") if shows_ytd(rule) else None)


def warm_up(session: Session) -> None:
    """Compute what the overview and every province page show, as they will ask for it."""
    versions = data_versions(session)
    catalogue = catalogue_snapshot(session)
    provinces = [a.code for a in current_provinces(session)]
    queries = []
    for _group, codes in OVERVIEW:
        for code in codes:
            if code in catalogue.indicators:
                rule = ytd_rule(catalogue, catalogue.indicators[code])
                queries += [q for q in (*overview_queries(code, rule), *province_queries(code, provinces, rule)) if q]
    prefetch(session=session, queries=queries, versions=versions)
    for query in queries:
        cached_series(session=session, query=query, versions=versions)


def current_provinces(session: Session) -> list[Area]:
    return list(
        session.scalars(select(Area).where(Area.level == "province", Area.valid_to.is_(None)).order_by(Area.code))
    )
