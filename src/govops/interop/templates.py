"""Reporting templates for an agency and an indicator group: what it submits, where, for which periods."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.dimensions import TOTAL
from govops.catalog.models import Agency, Area, Indicator, IndicatorGroup
from govops.errors import GovopsError, NotFound
from govops.interop.excel.template import Lang, TemplateArea, TemplateIndicator, build_template
from govops.periods import Freq, Period


def template_workbook(
    *, session: Session, group: str, agency: str, year: int, wards: bool = False, lang: Lang = "vi"
) -> tuple[bytes, str]:
    """The workbook and its file name. A province's template covers its own province (and wards if
    asked); a ministry's covers the nation and the provinces, for the indicators it owns."""
    found_group = session.scalar(select(IndicatorGroup).where(IndicatorGroup.code == group))
    if found_group is None:
        raise NotFound(f"no indicator group {group!r}", hint="pick a group from the catalogue")
    found_agency = session.scalar(select(Agency).where(Agency.code == agency))
    if found_agency is None:
        raise NotFound(f"no agency {agency!r}", hint="use an agency code, e.g. PC-79 or MOF")
    if not 2000 <= year <= 2100:
        raise GovopsError(f"year {year} is out of range", code="invalid_template", hint="e.g. 2026")
    indicators = submitted_indicators(session=session, group=found_group, agency=found_agency)
    if not indicators:
        raise GovopsError(
            f"{agency} submits no indicator of group {group}",
            code="invalid_template",
            hint="a province submits the group's stored indicators; a ministry those it owns",
        )
    return (
        build_template(
            title=found_group.name_vi if lang == "vi" else found_group.name_en,
            agency=f"{found_agency.code} · {found_agency.name_vi if lang == 'vi' else found_agency.name_en}",
            indicators=[template_indicator(i) for i in indicators],
            areas=_areas(session, found_agency, wards=wards),
            periods={i.code: _periods(Freq(i.periodicity), year) for i in indicators},
            lang=lang,
        ),
        f"govops-{group}-{agency}-{year}.xlsx",
    )


def submitted_indicators(*, session: Session, group: IndicatorGroup, agency: Agency) -> list[Indicator]:
    """The indicators of `group` that `agency` submits: a province all the stored ones, a ministry those it owns."""
    return [
        i
        for i in session.scalars(select(Indicator).order_by(Indicator.code))
        if i.formula is None
        and any(g.id == group.id for g in i.groups)
        and (agency.area_id is not None or i.owner_id == agency.id)
    ]


def expected_areas(*, session: Session, agency: Agency) -> list[Area]:
    """The areas an agency reports on: a province its own, a ministry the nation and the provinces."""
    current = Area.valid_to.is_(None)
    if agency.area_id is not None:
        own = session.get(Area, agency.area_id)
        return [own] if own is not None else []
    return list(
        session.scalars(
            select(Area).where(current, Area.level.in_(("nation", "province"))).order_by(Area.level, Area.code)
        )
    )


def template_indicator(ind: Indicator) -> TemplateIndicator:
    """What a template sheet shows of a catalogue indicator; its breakdowns start with the total."""
    return TemplateIndicator(
        code=ind.code,
        name_vi=ind.name_vi,
        name_en=ind.name_en,
        definition_vi=ind.definition_vi,
        definition_en=ind.definition_en,
        unit_code=ind.unit.code,
        unit_name_vi=ind.unit.name_vi,
        unit_name_en=ind.unit.name_en,
        decimals=ind.decimals,
        dims=tuple((d.codelist.code, (TOTAL, *(c.code for c in d.codelist.codes))) for d in ind.dimensions),
    )


def _areas(session: Session, agency: Agency, *, wards: bool) -> list[TemplateArea]:
    areas = expected_areas(session=session, agency=agency)
    if wards and agency.area_id is not None:
        current = Area.valid_to.is_(None)
        areas += session.scalars(select(Area).where(current, Area.parent_id == agency.area_id).order_by(Area.code))
    return [TemplateArea(a.code, a.name_vi) for a in areas]


def _periods(freq: Freq, year: int) -> list[str]:
    first = Period.from_date(date(year, 1, 1), freq)
    last = Period.from_date(date(year, 12, 31), freq)
    return [str(p) for p in Period.range(first, last)]
