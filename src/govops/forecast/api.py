"""Forecasts and early warnings over HTTP, under the same reading rights as the series they forecast."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from govops.auth.models import User
from govops.catalog.models import Area, Indicator
from govops.catalog.service import get_indicator as find_indicator
from govops.errors import GovopsError, lazy_gettext
from govops.forecast import service
from govops.forecast.models import ForecastThreshold
from govops.forecast.schemas import (
    DriverOut,
    ForecastOut,
    ForecastPointOut,
    NewsOut,
    NowcastOut,
    ThresholdOut,
    ThresholdSet,
    WarningOut,
)
from govops.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from govops.periods import Period
from govops.web.access import Readable, require_readable
from govops.web.auditing import record_request
from govops.web.deps import SessionDep, WriteSessionDep
from govops.web.errors import ERROR_RESPONSES, ErrorBody
from govops.web.signin import require_role

router = APIRouter(prefix="/api/v1", tags=["forecasts"], responses=ERROR_RESPONSES)
SHORT_STEPS = 3
# Who sets the levels the Government cares about: the Government Office's analysts and the administrators.
ThresholdSetter = Annotated[User, Depends(require_role("analyst", "administrator"))]
SETTERS_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no signed-in user"},
    403: {"model": ErrorBody, "description": "the user is not an analyst or an administrator (or no CSRF token)"},
}


def _levels(text: str) -> list[str]:
    asked = [part.strip() for part in text.split(",") if part.strip()]
    if not asked or any(part not in ("80", "95") for part in asked):
        raise GovopsError.of(
            "forecast_bad_level",
            lazy_gettext("the levels %(levels)s are not offered"),
            lazy_gettext("ask for 80, 95 or 80,95"),
            levels=text,
        )
    return asked


@router.get("/forecasts/{indicator}", response_model=ForecastOut)
def get_forecast(
    session: SessionDep,
    allowed: Readable,
    indicator: str,
    area: Annotated[str, Query(description="area code")] = "VN",
    dims: Annotated[str, Query(description="breakdown key; empty for the total")] = "",
    h: Annotated[
        int | None,
        Query(
            ge=1,
            le=240,
            description="only the first h periods (monthly and quarterly series reach five years ahead, annual ten)",
        ),
    ] = None,
    level: Annotated[str, Query(description="80, 95 or 80,95")] = "80,95",
) -> ForecastOut:
    """The latest forecast of a series: points with their bounds, the model, its origin and backtest accuracy."""
    levels = _levels(level)
    ind = find_indicator(session=session, code=indicator)
    require_readable(indicator, ind.classification, allowed)
    area_id = session.scalar(select(Area.id).where(Area.code == area))
    if area_id is None:
        raise GovopsError.of(
            "not_found",
            lazy_gettext("no area '%(area)s'"),
            lazy_gettext("give an area code, e.g. VN or a province's code"),
            status=404,
            area=area,
        )
    found = service.latest(session=session, indicator_id=ind.id, area_id=area_id, dim_key=dims)
    if found is None:
        raise GovopsError.of(
            "forecast_none",
            lazy_gettext("no forecast of %(indicator)s for %(area)s yet"),
            lazy_gettext("run `govops forecast run --indicator %(indicator)s`, or wait for the forecast refresh job"),
            status=404,
            indicator=ind.code,
            area=area,
        )
    points = service.points_of(session=session, forecast_id=found.id)[:h]
    last_of_medium = service.medium_of(found.freq, Period.parse(found.origin))
    return ForecastOut(
        indicator=ind.code,
        area=area,
        dims=found.dim_key,
        freq=found.freq,
        origin=found.origin,
        model=found.model,
        backtest_smape=found.backtest_smape,
        backtest_mase=found.backtest_mase,
        notes=found.notes,
        made_at=found.created_at,
        points=[
            ForecastPointOut(
                period=p.period,
                step=p.step,
                mean=p.mean,
                bounds={lv: (getattr(p, f"lo{lv}"), getattr(p, f"hi{lv}")) for lv in levels},
                horizon="short" if p.step <= SHORT_STEPS else "medium" if p.step <= last_of_medium else "long",
            )
            for p in points
        ],
    )


@router.get("/warnings", response_model=list[WarningOut])
def get_warnings(
    session: SessionDep,
    allowed: Readable,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    before: Annotated[int | None, Query(description="only warnings older than this id (the next page)")] = None,
) -> list[WarningOut]:
    """Early warnings, newest first: values outside their forecast's 95% band (kind outside_band), forecasts crossing
    a threshold (threshold) and leading indicators crossing one (leading), each with the provinces or components
    driving it."""
    rows = service.warnings_page(session=session, limit=limit, after_id=before)
    inds, areas = service.codes_of(session, rows)
    thresholds = dict(
        session.execute(
            select(ForecastThreshold.id, ForecastThreshold.code).where(
                ForecastThreshold.id.in_({r.threshold_id for r in rows if r.threshold_id is not None})
            )
        ).all()
    )
    shown = []
    for row in rows:
        ind = find_indicator(session=session, code=inds[row.indicator_id])
        try:
            require_readable(ind.code, ind.classification, allowed)
        except GovopsError:
            continue
        shown.append(
            WarningOut(
                id=row.id,
                kind=row.kind,
                indicator=ind.code,
                area=areas[row.area_id],
                dims=row.dim_key,
                period=row.period,
                value=row.value,
                expected=row.expected,
                lower=row.lower,
                upper=row.upper,
                drivers=[DriverOut.model_validate(d) for d in row.drivers],
                raised_at=row.raised_at,
                threshold=thresholds.get(row.threshold_id) if row.threshold_id is not None else None,
            )
        )
    return shown


def _threshold_out(session: SessionDep, rows: list[ForecastThreshold]) -> list[ThresholdOut]:
    inds = dict(
        session.execute(
            select(Indicator.id, Indicator.code).where(Indicator.id.in_({r.indicator_id for r in rows}))
        ).all()
    )
    areas = dict(session.execute(select(Area.id, Area.code).where(Area.id.in_({r.area_id for r in rows}))).all())
    return [
        ThresholdOut(
            code=r.code,
            kind=r.kind,
            indicator=inds[r.indicator_id],
            area=areas[r.area_id],
            dims=r.dim_key,
            measure=r.measure,
            direction=r.direction,
            level=r.level,
            year=r.year,
            name_vi=r.name_vi,
            name_en=r.name_en,
            source=r.source,
            demo=r.demo,
            created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in rows
    ]


@router.get("/thresholds", response_model=Page[ThresholdOut])
def get_thresholds(
    session: SessionDep,
    allowed: Readable,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=40, description="the next page: the last code of this one")] = None,
) -> Page[ThresholdOut]:
    """The levels the Government cares about, by code: each with its series, measure, direction, year and legal
    source. A forecast crossing one (kind forecast), or a new value crossing one (kind leading), raises a warning."""
    rows = service.thresholds_page(session=session, limit=limit + 1, after=cursor)
    shown = _threshold_out(session, rows[:limit])
    return Page[ThresholdOut](items=shown, next_cursor=rows[limit - 1].code if len(rows) > limit else None)


@router.put("/thresholds", response_model=list[ThresholdOut], responses=SETTERS_ONLY)
def put_thresholds(
    request: Request, session: WriteSessionDep, who: ThresholdSetter, body: ThresholdSet
) -> list[ThresholdOut]:
    """Creates or updates thresholds by code, all or none (analysts and administrators): one naming an unknown
    indicator or area is refused with every problem named and nothing stored."""
    saved = service.save_thresholds(
        session=session,
        given=[service.ThresholdIn(**t.model_dump()) for t in body.thresholds],
        by=who.username,
        where="thresholds",
    )
    record_request(
        session=session,
        request=request,
        action="forecast.thresholds.saved",
        target=",".join(t.code for t in saved)[:200],
    )
    return _threshold_out(session, saved)


@router.delete("/thresholds/{code}", status_code=204, responses=SETTERS_ONLY)
def delete_threshold(request: Request, session: WriteSessionDep, who: ThresholdSetter, code: str) -> None:
    """Deletes a threshold, and the warnings it raised."""
    service.delete_threshold(session=session, code=code)
    record_request(session=session, request=request, action="forecast.threshold.deleted", target=code)


@router.get("/nowcasts/{indicator}", response_model=NowcastOut)
def get_nowcast(
    session: SessionDep,
    allowed: Readable,
    indicator: str,
    area: Annotated[str, Query(description="area code")] = "VN",
) -> NowcastOut:
    """The nowcast of a quarterly indicator's growth from the monthly releases (dynamic factor model), and the
    news of the latest release: which indicator moved it, by how much."""
    ind = find_indicator(session=session, code=indicator)
    require_readable(indicator, ind.classification, allowed)
    found = service.nowcast_of(session=session, indicator=ind.code, area=area)
    return NowcastOut(
        indicator=ind.code,
        area=area,
        quarter=found.quarter,
        value=found.value,
        before=found.before,
        news=[NewsOut(**vars(n)) for n in found.news],
    )
