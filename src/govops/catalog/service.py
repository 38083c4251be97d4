"""Catalogue services: reference data, catalogue import/export and look-ups.

Keyword-only functions taking a session; they flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import column, func, or_, select, table
from sqlalchemy.orm import Session, selectinload

from govops.catalog import reference, search
from govops.catalog.dimensions import parse_dim_key
from govops.catalog.formulas import parse_formula
from govops.catalog.models import (
    Agency,
    Area,
    CodeItem,
    Codelist,
    Indicator,
    IndicatorDimension,
    IndicatorGroup,
    Unit,
)
from govops.catalog.schemas import (
    AgencyOut,
    AreaOut,
    AreaRule,
    CatalogueDoc,
    CodeDoc,
    CodelistDoc,
    GroupDoc,
    GroupOut,
    IndicatorDetail,
    IndicatorDoc,
    IndicatorOut,
    UnitDoc,
    UnitOut,
)
from govops.errors import GovopsError, NotFound, Problem, Rejected, lazy_gettext
from govops.events.service import ReadRule, emit
from govops.paging import Page, make_page
from govops.text import fold

# --- reference data -------------------------------------------------------------------------


def load_reference_areas(*, session: Session) -> int:
    """Insert or refresh the shipped areas (nation, 63 -> 34 provinces, 3,321 wards)."""
    records = reference.read_areas()
    existing = {a.code: a for a in session.scalars(select(Area))}
    for rec in records:
        area = existing.get(rec.code)
        if area is None:
            area = Area(code=rec.code)
            session.add(area)
            existing[rec.code] = area
        area.level = rec.level
        area.name_vi, area.name_ascii = rec.name_vi, rec.name_ascii
        area.short_vi, area.short_ascii, area.kind_vi = rec.short_vi, rec.short_ascii, rec.kind_vi
        area.valid_from, area.valid_to = rec.valid_from, rec.valid_to
        area.lat, area.lon, area.area_km2 = rec.lat, rec.lon, rec.area_km2
        area.former_name_vi, area.former_short_vi = rec.former_name_vi, rec.former_short_vi
        area.former_until = rec.former_until
    session.flush()
    for rec in records:
        area = existing[rec.code]
        area.parent_id = existing[rec.parent_code].id if rec.parent_code else None
        area.successor_id = existing[rec.successor_code].id if rec.successor_code else None
    session.flush()
    return len(records)


def load_reference_agencies(*, session: Session) -> int:
    records = reference.read_agencies()
    areas = dict(session.execute(select(Area.code, Area.id)).all())
    existing = {a.code: a for a in session.scalars(select(Agency))}
    for rec in records:
        agency = existing.get(rec.code)
        if agency is None:
            agency = Agency(code=rec.code)
            session.add(agency)
            existing[rec.code] = agency
        agency.kind, agency.name_vi, agency.name_en = rec.kind, rec.name_vi, rec.name_en
        agency.area_id = areas[rec.area_code] if rec.area_code else None
    session.flush()
    for rec in records:
        existing[rec.code].parent_id = existing[rec.parent_code].id if rec.parent_code else None
    session.flush()
    return len(records)


def reference_catalogue() -> CatalogueDoc:
    """The indicator catalogue shipped with govops."""
    path = files("govops.catalog") / "reference" / "catalogue.yaml"
    return parse_catalogue(path.read_text(encoding="utf-8"), where="catalogue.yaml (shipped)")


def load_reference(*, session: Session) -> dict[str, int]:
    """Everything `govops init` puts in an empty store; running it again refreshes, never duplicates."""
    counts = {
        "areas": load_reference_areas(session=session),
        "agencies": load_reference_agencies(session=session),
    }
    counts.update(import_catalogue(session=session, doc=reference_catalogue()).as_counts())
    return counts


# --- catalogue import / export ---------------------------------------------------------------


def read_catalogue_file(path: Path) -> CatalogueDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GovopsError(f"cannot read {path}: {exc.strerror}", code="unreadable_file") from None
    except UnicodeDecodeError:
        raise GovopsError(f"{path} is not UTF-8 text", code="unreadable_file", hint="save it as UTF-8") from None
    return parse_catalogue(text, where=str(path), as_json=path.suffix.lower() == ".json")


def parse_catalogue(text: str, *, where: str, as_json: bool = False) -> CatalogueDoc:
    try:
        data: Any = json.loads(text) if as_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise GovopsError(
            f"not valid {'JSON' if as_json else 'YAML'}: {exc}", code="unparseable", where=where
        ) from None
    try:
        return CatalogueDoc.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [
            Problem(message=err["msg"], field=_path_of(data, err["loc"]), value=_short(err.get("input")))
            for err in exc.errors()
        ]
        raise Rejected(problems, where=where) from None


def _path_of(data: Any, loc: tuple[int | str, ...]) -> str:
    """`indicators[CPI].unit` reads better than `indicators.3.unit`."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            label = item.get("code") if isinstance(item, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{label or step}]"]
            node = item
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def _short(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return None


@dataclass
class ImportSummary:
    units: int = 0
    codelists: int = 0
    groups: int = 0
    indicators: int = 0
    # How many units, code lists, codes, groups, indicators and dimensions were added, changed, removed.
    changes: dict[str, int] = field(default_factory=dict)

    def as_counts(self) -> dict[str, int]:
        return {"units": self.units, "codelists": self.codelists, "groups": self.groups, "indicators": self.indicators}


class Change(StrEnum):
    added = "added"
    changed = "changed"
    removed = "removed"


@dataclass(frozen=True)
class PlannedChange:
    """One thing a catalogue import would add, change or remove, with the stored observations that use it.

    `kind` is unit, codelist, code, group, indicator or dimension; a code belongs to `codelist`; a
    dimension (a codelist) to `indicator`. `observations` counts the observations of `indicator` that
    use the thing; a change that would leave them pointing at something gone or different is `refused`.
    """

    kind: str
    code: str
    change: Change
    fields: tuple[str, ...] = ()
    detail: str = ""
    codelist: str | None = None
    indicator: str | None = None
    observations: int = 0
    refused: bool = False
    before: str | None = None
    after: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "code":
            return f"{self.codelist}={self.code}"
        return self.code

    def problem(self) -> Problem:
        """Why the change is refused and how to go on, in English (the console words it in the reader's language)."""
        n, ind = f"{self.observations:,}", self.indicator
        if self.kind == "code":
            return Problem(
                f"code {self.code} of {self.codelist} is used by {n} observations of {ind}",
                field=f"codelists[{self.codelist}].codes",
                value=self.code,
                hint="keep it in the code list, or delete those observations first",
            )
        if self.kind == "unit":
            return Problem(
                f"unit {self.code} is used by {n} observations of {ind}; "
                f"its {self.fields[0]} cannot change from {self.before} to {self.after}",
                field=f"units[{self.code}].{self.fields[0]}",
                value=self.after,
                hint="keep it as it is and add a new unit for new indicators, or delete those observations first",
            )
        if self.kind == "dimension":
            return Problem(
                f"{ind} holds {n} observations keyed by [{self.before}]; "
                f"its dimensions cannot change to [{self.after}]",
                field=f"indicators[{ind}].dimensions",
                value=self.after,
                hint="keep the dimensions, or create a new indicator with the new dimensions",
            )
        field = self.fields[0]
        return Problem(
            f"{ind} holds {n} observations with {field} {self.before or '(none)'}; "
            f"it cannot change to {self.after or '(none)'}",
            field=f"indicators[{ind}].{field}",
            value=self.after,
            hint=f"keep {field} {self.before or '(none)'}, or create a new indicator for the new {field}",
        )


# What stored observations depend on: changing one of these under them changes what they mean.
# Who made a catalogue change no person or command asked for (the reference catalogue `govops init` loads).
SYSTEM_RECORDER = "system"
GUARDED_UNIT_FIELDS = ("quantity", "factor")
GUARDED_INDICATOR_FIELDS = ("periodicity", "unit", "formula")


@dataclass
class CataloguePlan:
    """What importing a catalogue document would do; nothing is written while planning."""

    changes: list[PlannedChange]
    reference_problems: list[Problem]

    @property
    def refused(self) -> list[PlannedChange]:
        return [c for c in self.changes if c.refused]

    @property
    def problems(self) -> list[Problem]:
        seen: set[tuple[str | None, str]] = set()
        refusals = []
        for change in self.refused:
            problem = change.problem()
            # A dimension change is refused once per indicator, however many dimensions it touches.
            if (problem.field, problem.message) not in seen:
                seen.add((problem.field, problem.message))
                refusals.append(problem)
        return self.reference_problems + refusals

    def counts(self) -> dict[str, int]:
        return {change.value: sum(1 for c in self.changes if c.change is change) for change in Change}


class CatalogueRefused(Rejected):
    """The import names something unknown, or would change what stored observations use; nothing was written."""

    def __init__(self, plan: CataloguePlan, *, where: str | None) -> None:
        super().__init__(plan.problems, where=where)
        self.plan = plan
        if plan.refused:
            self.hint = "keep what stored observations use (see 'problems'), or delete those observations first"


def plan_catalogue(*, session: Session, doc: CatalogueDoc) -> CataloguePlan:
    """Everything importing `doc` would add, change or remove, with the observations each touches."""
    return _plan(session, doc, lock=False)


def _plan(session: Session, doc: CatalogueDoc, *, lock: bool) -> CataloguePlan:
    problems = _reference_problems(session=session, doc=doc)
    stored = _StoredCatalogue(session)
    found = stored.changes(doc)
    # An import counts only what could refuse it; a plan also shows how much data a new name or rule touches.
    affected = {ind_id for change in found if change.guarded or not lock for ind_id in change.indicator_ids}
    if lock and affected:
        # Writers of observations take a key-share lock on their indicator: holding it exclusively until
        # commit means no observation of these indicators is written between counting and importing.
        session.execute(
            select(Indicator.id).where(Indicator.id.in_(sorted(affected))).order_by(Indicator.id).with_for_update()
        )
    usage = _Usage.count(session, affected)
    changes = [planned for change in found for planned in change.planned(usage, stored.indicator_codes)]
    return CataloguePlan(changes=changes, reference_problems=problems)


# The catalogue counts the observations that use an indicator or a code before it changes or drops them. The
# warehouse, which owns the observations table, stands on the catalogue: the catalogue names the two columns it
# reads instead of importing the warehouse's model.
_observations = table("observation", column("indicator_id"), column("dim_key"))


@dataclass
class _Usage:
    """Observations per indicator, and per indicator, dimension and code."""

    per_indicator: dict[int, int]
    per_code: dict[tuple[int, str, str], int]

    @classmethod
    def count(cls, session: Session, indicator_ids: set[int]) -> _Usage:
        # One grouped query: an indicator has few distinct dimension keys, however many observations
        # (the index on indicator, dimension key, area, period answers it without reading the rows).
        per_indicator: dict[int, int] = {}
        per_code: dict[tuple[int, str, str], int] = {}
        ids = sorted(indicator_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = session.execute(
                select(_observations.c.indicator_id, _observations.c.dim_key, func.count())
                .where(_observations.c.indicator_id.in_(chunk))
                .group_by(_observations.c.indicator_id, _observations.c.dim_key)
            )
            for indicator_id, key, n in rows:
                per_indicator[indicator_id] = per_indicator.get(indicator_id, 0) + n
                for dim, code in parse_dim_key(key).items():
                    per_code[(indicator_id, dim, code)] = per_code.get((indicator_id, dim, code), 0) + n
        return cls(per_indicator, per_code)


@dataclass
class _Found:
    """A change before counting: which stored indicators' observations it concerns, and whether it is guarded."""

    kind: str
    code: str
    change: Change
    fields: tuple[str, ...] = ()
    detail: str = ""
    codelist: str | None = None
    indicator_ids: tuple[int, ...] = ()
    guarded: bool = False
    before: str | None = None
    after: str | None = None
    # Count only the observations whose key holds this code of this dimension (a code of a codelist).
    dimension_code: tuple[str, str] | None = None

    def planned(self, usage: _Usage, codes: dict[int, str]) -> list[PlannedChange]:
        def used_by(indicator_id: int) -> int:
            if self.dimension_code is not None:
                return usage.per_code.get((indicator_id, *self.dimension_code), 0)
            return usage.per_indicator.get(indicator_id, 0)

        base = PlannedChange(
            kind=self.kind,
            code=self.code,
            change=self.change,
            fields=self.fields,
            detail=self.detail,
            codelist=self.codelist,
            before=self.before,
            after=self.after,
        )
        used = [(codes[i], n) for i in self.indicator_ids if (n := used_by(i))]
        if not used:
            only = codes[self.indicator_ids[0]] if self.kind == "dimension" and self.indicator_ids else None
            return [replace(base, indicator=only)]
        return [replace(base, indicator=code, observations=n, refused=self.guarded) for code, n in sorted(used)]


class _StoredCatalogue:
    """The stored catalogue, compared with a document."""

    def __init__(self, session: Session) -> None:
        self.units = {u.code: u for u in session.scalars(select(Unit))}
        self.codelists = {c.code: c for c in session.scalars(select(Codelist).options(selectinload(Codelist.codes)))}
        self.groups = {g.code: g for g in session.scalars(select(IndicatorGroup))}
        self.indicators = {i.code: i for i in session.scalars(select(Indicator))}
        self.indicator_codes = {i.id: i.code for i in self.indicators.values()}
        self.using_unit: dict[int, list[int]] = {}
        self.using_codelist: dict[str, list[int]] = {}
        for ind in self.indicators.values():
            self.using_unit.setdefault(ind.unit_id, []).append(ind.id)
            for code in ind.dimension_codes:
                self.using_codelist.setdefault(code, []).append(ind.id)

    def changes(self, doc: CatalogueDoc) -> list[_Found]:
        found: list[_Found] = []
        for unit in doc.units:
            found += self._unit(unit)
        for codelist in doc.codelists:
            found += self._codelist(codelist)
        for group in doc.groups:
            old_group = self.groups.get(group.code)
            if old_group is None:
                found.append(_Found("group", group.code, Change.added))
            else:
                before = {"kind": old_group.kind, "name_vi": old_group.name_vi, "name_en": old_group.name_en}
                differ = _differing(before, group.model_dump(mode="json", exclude={"code"}))
                if differ:
                    found.append(_Found("group", group.code, Change.changed, differ, _described(before, group, differ)))
        weights = {i.id: i.code for i in self.indicators.values()}
        for item in doc.indicators:
            found += self._indicator(item, weights)
        return found

    def _unit(self, doc: UnitDoc) -> list[_Found]:
        old = self.units.get(doc.code)
        if old is None:
            return [_Found("unit", doc.code, Change.added)]
        before = {f: getattr(old, f) for f in ("name_vi", "name_en", "symbol", "quantity", "factor")}
        differ = _differing(before, doc.model_dump(exclude={"code"}))
        users = tuple(self.using_unit.get(old.id, ()))
        found = [
            _Found(
                "unit",
                doc.code,
                Change.changed,
                (field,),
                _described(before, doc, (field,)),
                indicator_ids=users,
                guarded=True,
                before=_text(before[field]),
                after=_text(getattr(doc, field)),
            )
            for field in differ
            if field in GUARDED_UNIT_FIELDS
        ]
        labels = tuple(f for f in differ if f not in GUARDED_UNIT_FIELDS)
        if labels:
            found.append(_Found("unit", doc.code, Change.changed, labels, _described(before, doc, labels)))
        return found

    def _codelist(self, doc: CodelistDoc) -> list[_Found]:
        old = self.codelists.get(doc.code)
        if old is None:
            return [_Found("codelist", doc.code, Change.added)] + [
                _Found("code", c.code, Change.added, codelist=doc.code) for c in doc.codes
            ]
        found: list[_Found] = []
        before = {"name_vi": old.name_vi, "name_en": old.name_en}
        differ = _differing(before, doc.model_dump(include={"name_vi", "name_en"}))
        if differ:
            found.append(_Found("codelist", doc.code, Change.changed, differ, _described(before, doc, differ)))
        users = tuple(self.using_codelist.get(doc.code, ()))
        old_codes = {c.code: c for c in old.codes}
        new_codes = {c.code: c for c in doc.codes}
        for code, item in old_codes.items():
            if code not in new_codes:
                found.append(
                    _Found(
                        "code",
                        code,
                        Change.removed,
                        detail=item.name_en,
                        codelist=doc.code,
                        indicator_ids=users,
                        guarded=True,
                        dimension_code=(doc.code, code),
                    )
                )
        for code, new in new_codes.items():
            old_item = old_codes.get(code)
            if old_item is None:
                found.append(_Found("code", code, Change.added, detail=new.name_en, codelist=doc.code))
                continue
            item_before = {"name_vi": old_item.name_vi, "name_en": old_item.name_en}
            item_differ = _differing(item_before, new.model_dump(include={"name_vi", "name_en"}))
            if item_differ:
                found.append(
                    _Found(
                        "code",
                        code,
                        Change.changed,
                        item_differ,
                        _described(item_before, new, item_differ),
                        codelist=doc.code,
                        indicator_ids=users,
                        dimension_code=(doc.code, code),
                    )
                )
        return found

    def _indicator(self, item: IndicatorDoc, weights: dict[int, str]) -> list[_Found]:
        old = self.indicators.get(item.code)
        if old is None:
            return [_Found("indicator", item.code, Change.added)] + [
                _Found("dimension", code, Change.added, codelist=code) for code in item.dimensions
            ]
        before = indicator_doc(old, weights).model_dump(mode="json", exclude={"code", "dimensions"})
        after = item.model_dump(mode="json", exclude={"code", "dimensions"})
        if item.formula:
            with suppress(GovopsError):  # a formula that does not parse is reported with the references
                after["formula"] = parse_formula(item.formula).text
        before["groups"], after["groups"] = sorted(before["groups"]), sorted(after["groups"])
        differ = _differing(before, after)
        ids = (old.id,)
        found = [
            _Found(
                "indicator",
                item.code,
                Change.changed,
                (field,),
                f"{field}: {_text(before[field]) or '-'} → {_text(after[field]) or '-'}",
                indicator_ids=ids,
                guarded=True,
                before=_text(before[field]),
                after=_text(after[field]),
            )
            for field in differ
            if field in GUARDED_INDICATOR_FIELDS
        ]
        labels = tuple(f for f in differ if f not in GUARDED_INDICATOR_FIELDS)
        if labels:
            found.append(_Found("indicator", item.code, Change.changed, labels, ", ".join(labels), indicator_ids=ids))
        old_dims, new_dims = old.dimension_codes, list(item.dimensions)
        if old_dims != new_dims:
            shown_before, shown_after = ", ".join(old_dims), ", ".join(new_dims)
            dims = [(code, Change.removed) for code in old_dims if code not in new_dims]
            dims += [(code, Change.added) for code in new_dims if code not in old_dims]
            if not dims:  # the same codelists in another order: every stored key is spelled in the old one
                dims = [(code, Change.changed) for code in new_dims]
            found += [
                _Found(
                    "dimension",
                    code,
                    change,
                    ("dimensions",),
                    f"[{shown_before}] → [{shown_after}]",
                    codelist=code,
                    indicator_ids=ids,
                    guarded=True,
                    before=shown_before,
                    after=shown_after,
                )
                for code, change in dims
            ]
        return found


def _differing(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    return tuple(field for field, value in before.items() if after.get(field) != value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _described(before: dict[str, Any], doc: Any, fields: Iterable[str]) -> str:
    return "; ".join(f"{f}: {_text(before[f]) or '-'} → {_text(getattr(doc, f)) or '-'}" for f in fields)


def import_catalogue(
    *, session: Session, doc: CatalogueDoc, recorded_by: str = SYSTEM_RECORDER, where: str | None = None
) -> ImportSummary:
    """Create or update everything in `doc` by code; nothing outside it is touched (nor deleted).

    `recorded_by` (the user or system making the change) goes on the catalogue events it emits.

    All references are checked first, against the document and the store together, and so is what
    stored observations use (codes, dimensions, units, periodicity, formula: see `plan_catalogue`);
    on any problem nothing is written (raises CatalogueRefused).
    """
    plan = _plan(session, doc, lock=True)
    if plan.problems:
        raise CatalogueRefused(plan, where=where)
    units = _upsert_units(session, doc.units)
    codelists = _upsert_codelists(session, doc.codelists)
    groups = _upsert_groups(session, doc.groups)
    agencies = dict(session.execute(select(Agency.code, Agency.id)).all())
    existing = {i.code: i for i in session.scalars(select(Indicator))}
    for item in doc.indicators:
        ind = existing.get(item.code)
        if ind is None:
            ind = Indicator(code=item.code)
            session.add(ind)
            existing[item.code] = ind
        ind.name_vi, ind.name_en = item.name_vi, item.name_en
        ind.definition_vi, ind.definition_en = item.definition_vi, item.definition_en
        ind.unit_id = units[item.unit]
        ind.periodicity = item.periodicity.value
        ind.area_aggregation, ind.time_aggregation = item.area_aggregation.value, item.time_aggregation.value
        ind.owner_id = agencies[item.owner]
        ind.classification = item.classification.value
        ind.higher_is_better, ind.decimals = item.higher_is_better, item.decimals
        ind.crosses_zero = item.crosses_zero
        ind.formula = parse_formula(item.formula).text if item.formula else None
        ind.keywords_vi, ind.keywords_en = list(item.keywords_vi), list(item.keywords_en)
        wanted = [codelists[c] for c in item.dimensions]
        if [d.codelist_id for d in ind.dimensions] != wanted:
            ind.dimensions = [IndicatorDimension(codelist_id=cid, position=pos) for pos, cid in enumerate(wanted)]
        ind.groups = [groups[g] for g in item.groups]
    session.flush()
    for item in doc.indicators:
        weight = existing[item.area_weight] if item.area_weight else None
        existing[item.code].area_weight_id = weight.id if weight else None
    session.flush()
    _announce_indicators(session, plan, existing, recorded_by)
    session.expire_all()
    return ImportSummary(
        units=len(doc.units),
        codelists=len(doc.codelists),
        groups=len(doc.groups),
        indicators=len(doc.indicators),
        changes=plan.counts(),
    )


INDICATOR_TOPIC = "catalog"


def _announce_indicators(
    session: Session, plan: CataloguePlan, indicators: dict[str, Indicator], recorded_by: str
) -> None:
    """An `indicator.created` or `indicator.updated` event per indicator the import added or changed.

    Each is read under the indicator's (new) classification and grants, like its observations.
    """
    added: set[str] = set()
    changed: dict[str, set[str]] = {}
    for change in plan.changes:
        if change.kind == "indicator" and change.change == Change.added:
            added.add(change.code)
        elif change.kind == "indicator":
            changed.setdefault(change.code, set()).update(change.fields)
        elif change.kind == "dimension" and change.indicator is not None:
            changed.setdefault(change.indicator, set()).add("dimensions")
    for code in sorted(added | set(changed)):
        ind = indicators[code]
        payload: dict[str, Any] = {"indicator": code, "name_vi": ind.name_vi, "name_en": ind.name_en}
        if code not in added:
            payload["changed"] = sorted(changed[code])
        emit(
            session=session,
            topic=INDICATOR_TOPIC,
            type="indicator.created" if code in added else "indicator.updated",
            subject=code,
            payload=payload,
            rule=ReadRule(classification=ind.classification, indicator=code),
            recorded_by=recorded_by,
        )


def _reference_problems(*, session: Session, doc: CatalogueDoc) -> list[Problem]:
    """What in `doc` names something that neither the document nor the store holds, or is listed twice."""

    def known(model: Any, in_doc: Iterable[str]) -> set[str]:
        return set(session.scalars(select(model.code))) | set(in_doc)

    units = known(Unit, (u.code for u in doc.units))
    codelists = known(Codelist, (c.code for c in doc.codelists))
    groups = known(IndicatorGroup, (g.code for g in doc.groups))
    indicators = known(Indicator, (i.code for i in doc.indicators))
    agencies = set(session.scalars(select(Agency.code)))
    stored = {i.code: i for i in session.scalars(select(Indicator))}
    problems: list[Problem] = []

    def dup(kind: str, codes: list[str]) -> None:
        seen: set[str] = set()
        for code in codes:
            if code in seen:
                problems.append(Problem(f"{kind} {code} is listed twice", field=f"{kind}[{code}]"))
            seen.add(code)

    dup("units", [u.code for u in doc.units])
    dup("codelists", [c.code for c in doc.codelists])
    dup("groups", [g.code for g in doc.groups])
    dup("indicators", [i.code for i in doc.indicators])
    for codelist in doc.codelists:
        dup(f"codelists[{codelist.code}].codes", [c.code for c in codelist.codes])
    for ind in doc.indicators:
        dup(f"indicators[{ind.code}].dimensions", list(ind.dimensions))
    formulas: dict[str, frozenset[str]] = {}
    for ind in doc.indicators:
        at = f"indicators[{ind.code}]"

        def bad(field: str, message: str, hint: str | None = None, *, at: str = at) -> None:
            problems.append(Problem(message, field=f"{at}.{field}", hint=hint))

        if ind.unit not in units:
            bad("unit", f"unknown unit {ind.unit}", "add it under units: or use an existing unit code")
        for code in ind.dimensions:
            if code not in codelists:
                bad("dimensions", f"unknown codelist {code}", "add it under codelists:")
        for code in ind.groups:
            if code not in groups:
                bad("groups", f"unknown group {code}", "add it under groups:")
        if ind.owner not in agencies:
            bad("owner", f"unknown agency {ind.owner}", "use an agency code from GET /api/v1/agencies")
        if (ind.area_aggregation is AreaRule.weighted) != (ind.area_weight is not None):
            bad("area_weight", "area_weight is required with area_aggregation: weighted, and only then")
        elif ind.area_weight is not None and ind.area_weight not in indicators:
            bad("area_weight", f"unknown indicator {ind.area_weight}")
        if ind.formula:
            try:
                refs = parse_formula(ind.formula).references
            except GovopsError as exc:
                bad("formula", exc.message, exc.hint)
            else:
                formulas[ind.code] = refs
                for code in sorted(refs - indicators):
                    bad("formula", f"formula names unknown indicator {code}")
    for item in doc.indicators:
        if item.code in formulas and _in_cycle(item.code, formulas, stored):
            problems.append(
                Problem(f"formula of {item.code} refers back to itself", field=f"indicators[{item.code}].formula")
            )
    return problems


def _in_cycle(start: str, formulas: dict[str, frozenset[str]], stored: dict[str, Indicator]) -> bool:
    def refs(code: str) -> frozenset[str]:
        if code in formulas:
            return formulas[code]
        ind = stored.get(code)
        return parse_formula(ind.formula).references if ind is not None and ind.formula else frozenset()

    stack, seen = list(refs(start)), set[str]()
    while stack:
        code = stack.pop()
        if code == start:
            return True
        if code not in seen:
            seen.add(code)
            stack.extend(refs(code))
    return False


def _upsert_units(session: Session, docs: list[UnitDoc]) -> dict[str, int]:
    existing = {u.code: u for u in session.scalars(select(Unit))}
    for doc in docs:
        unit = existing.get(doc.code) or Unit(code=doc.code)
        unit.name_vi, unit.name_en, unit.symbol = doc.name_vi, doc.name_en, doc.symbol
        unit.quantity, unit.factor = doc.quantity, doc.factor
        session.add(unit)
        existing[doc.code] = unit
    session.flush()
    return {code: u.id for code, u in existing.items()}


def _upsert_codelists(session: Session, docs: list[CodelistDoc]) -> dict[str, int]:
    existing = {c.code: c for c in session.scalars(select(Codelist))}
    for doc in docs:
        cl = existing.get(doc.code) or Codelist(code=doc.code)
        cl.name_vi, cl.name_en = doc.name_vi, doc.name_en
        items = {i.code: i for i in cl.codes}
        cl.codes = [_code_item(items.get(c.code), c, pos) for pos, c in enumerate(doc.codes)]
        session.add(cl)
        existing[doc.code] = cl
    session.flush()
    return {code: c.id for code, c in existing.items()}


def _code_item(item: CodeItem | None, doc: CodeDoc, position: int) -> CodeItem:
    item = item or CodeItem(code=doc.code)
    item.name_vi, item.name_en, item.position = doc.name_vi, doc.name_en, position
    return item


def _upsert_groups(session: Session, docs: list[GroupDoc]) -> dict[str, IndicatorGroup]:
    existing = {g.code: g for g in session.scalars(select(IndicatorGroup))}
    for doc in docs:
        group = existing.get(doc.code) or IndicatorGroup(code=doc.code)
        group.kind, group.name_vi, group.name_en = doc.kind.value, doc.name_vi, doc.name_en
        session.add(group)
        existing[doc.code] = group
    session.flush()
    return existing


def export_catalogue(*, session: Session) -> CatalogueDoc:
    indicators = session.scalars(select(Indicator).order_by(Indicator.code)).all()
    weights = {i.id: i.code for i in indicators}
    return CatalogueDoc(
        units=[
            UnitDoc(
                code=u.code, name_vi=u.name_vi, name_en=u.name_en, symbol=u.symbol, quantity=u.quantity, factor=u.factor
            )
            for u in session.scalars(select(Unit).order_by(Unit.code))
        ],
        codelists=[
            CodelistDoc(
                code=c.code,
                name_vi=c.name_vi,
                name_en=c.name_en,
                codes=[CodeDoc(code=i.code, name_vi=i.name_vi, name_en=i.name_en) for i in c.codes],
            )
            for c in session.scalars(select(Codelist).order_by(Codelist.code))
        ],
        groups=[
            GroupDoc.model_validate({"code": g.code, "kind": g.kind, "name_vi": g.name_vi, "name_en": g.name_en})
            for g in session.scalars(select(IndicatorGroup).order_by(IndicatorGroup.code))
        ],
        indicators=[indicator_doc(i, weights) for i in indicators],
    )


def indicator_doc(ind: Indicator, weight_codes: dict[int, str]) -> IndicatorDoc:
    """A stored indicator as the catalogue document writes it (`weight_codes`: indicator id -> code)."""
    return IndicatorDoc.model_validate(
        {
            "code": ind.code,
            "name_vi": ind.name_vi,
            "name_en": ind.name_en,
            "definition_vi": ind.definition_vi,
            "definition_en": ind.definition_en,
            "unit": ind.unit.code,
            "periodicity": ind.periodicity,
            "dimensions": ind.dimension_codes,
            "area_aggregation": ind.area_aggregation,
            "area_weight": weight_codes.get(ind.area_weight_id) if ind.area_weight_id else None,
            "time_aggregation": ind.time_aggregation,
            "owner": ind.owner.code,
            "groups": [g.code for g in ind.groups],
            "classification": ind.classification,
            "higher_is_better": ind.higher_is_better,
            "crosses_zero": ind.crosses_zero,
            "decimals": ind.decimals,
            "formula": ind.formula,
            "keywords_vi": list(ind.keywords_vi or []),
            "keywords_en": list(ind.keywords_en or []),
        }
    )


def dump_catalogue(doc: CatalogueDoc, *, as_json: bool) -> str:
    data = doc.model_dump(mode="json", exclude_none=False)
    if as_json:
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


# --- look-ups ----------------------------------------------------------------------------------


def unknown_indicator(code: str) -> GovopsError:
    """The refusal of a code the catalogue lacks, or the reader may not see (the same 404: a confidential
    indicator's existence is itself not for everyone)."""
    return GovopsError.of(
        "not_found",
        lazy_gettext("no indicator with code '%(indicator)s'"),
        lazy_gettext("search the catalogue in the explorer"),
        status=404,
        indicator=code,
    )


def get_indicator(*, session: Session, code: str) -> Indicator:
    ind = session.scalar(select(Indicator).where(Indicator.code == code))
    if ind is None:
        raise NotFound(f"no indicator with code {code!r}", hint="list the codes with GET /api/v1/indicators")
    return ind


def get_area(*, session: Session, code: str) -> Area:
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise NotFound(
            f"no area with code {code!r}",
            hint="areas go by official statistics-office code: VN, a 2-digit province (01 Ha Noi) or a 5-digit ward",
        )
    return area


def indicator_out(ind: Indicator, weight_code: str | None) -> IndicatorOut:
    return IndicatorOut(
        code=ind.code,
        name_vi=ind.name_vi,
        name_en=ind.name_en,
        definition_vi=ind.definition_vi,
        definition_en=ind.definition_en,
        unit=UnitOut(code=ind.unit.code, name_vi=ind.unit.name_vi, name_en=ind.unit.name_en, symbol=ind.unit.symbol),
        periodicity=ind.periodicity,
        dimensions=ind.dimension_codes,
        area_aggregation=ind.area_aggregation,
        area_weight=weight_code,
        time_aggregation=ind.time_aggregation,
        owner=ind.owner.code,
        groups=[g.code for g in ind.groups],
        classification=ind.classification,
        higher_is_better=ind.higher_is_better,
        crosses_zero=ind.crosses_zero,
        decimals=ind.decimals,
        formula=ind.formula,
        derived=ind.formula is not None,
        keywords_vi=list(ind.keywords_vi or []),
        keywords_en=list(ind.keywords_en or []),
    )


def indicator_detail(*, session: Session, code: str) -> IndicatorDetail:
    ind = get_indicator(session=session, code=code)
    weight = session.get(Indicator, ind.area_weight_id) if ind.area_weight_id else None
    base = indicator_out(ind, weight.code if weight else None)
    return IndicatorDetail(
        **base.model_dump(),
        dimension_codes={
            d.codelist.code: [CodeDoc(code=c.code, name_vi=c.name_vi, name_en=c.name_en) for c in d.codelist.codes]
            for d in ind.dimensions
        },
        group_details=[GroupOut(code=g.code, kind=g.kind, name_vi=g.name_vi, name_en=g.name_en) for g in ind.groups],
    )


def list_indicators(
    *,
    session: Session,
    group: str | None = None,
    q: str | None = None,
    classifications: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> Page[IndicatorOut]:
    """Indicators by id; with `q`, those that answer it, best first (see `govops.catalog.search`), and then
    `after_id` counts the results already given rather than naming an id."""
    stmt = select(Indicator).order_by(Indicator.id)
    if codes is not None:
        stmt = stmt.where(Indicator.code.in_(sorted(codes)))
    if group:
        stmt = stmt.where(Indicator.groups.any(IndicatorGroup.code == group))
    if classifications is not None:
        stmt = stmt.where(Indicator.classification.in_(list(classifications)))
    weights = dict(session.execute(select(Indicator.id, Indicator.code)).all())

    def out(ind: Indicator) -> IndicatorOut:
        return indicator_out(ind, weights.get(ind.area_weight_id) if ind.area_weight_id else None)

    if not q or not q.strip():
        rows = list(session.scalars(stmt.where(Indicator.id > after_id).limit(limit + 1)))
        return make_page(rows, limit=limit, key=lambda i: i.id, out=out)
    by_code = {i.code: i for i in session.scalars(stmt)}
    ranked = [by_code[code] for code in search_indicators(session=session, q=q, codes=by_code)]
    shown = list(enumerate(ranked, 1))[after_id : after_id + limit + 1]
    return make_page(shown, limit=limit, key=lambda pair: pair[0], out=lambda pair: out(pair[1]))


def search_indicators(
    *, session: Session, q: str, classifications: Iterable[str] | None = None, codes: Iterable[str] | None = None
) -> list[str]:
    """Codes of the indicators that answer `q` in Vietnamese or English, best first (see `govops.catalog.search`)."""
    return search.search(session=session, q=q, classifications=classifications, codes=codes)


def area_out(area: Area, codes: dict[int, str], on: date | None = None) -> AreaOut:
    return AreaOut(
        code=area.code,
        level=area.level,
        parent=codes.get(area.parent_id) if area.parent_id else None,
        name_vi=area.name_on(on) if on else area.name_vi,
        former_name_vi=area.former_name_vi,
        former_until=area.former_until,
        name_ascii=area.name_ascii,
        short_vi=area.short_vi,
        kind_vi=area.kind_vi,
        valid_from=area.valid_from,
        valid_to=area.valid_to,
        successor=codes.get(area.successor_id) if area.successor_id else None,
        lat=area.lat,
        lon=area.lon,
    )


def list_areas(
    *,
    session: Session,
    level: str | None = None,
    parent: str | None = None,
    valid_on: date | None = None,
    q: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> Page[AreaOut]:
    """Areas valid on `valid_on` (default today: the 34 provinces; 2025-06-30 gives the 63)."""
    day = valid_on or date.today()
    stmt = (
        select(Area)
        .where(Area.id > after_id)
        .where(or_(Area.valid_from.is_(None), Area.valid_from <= day))
        .where(or_(Area.valid_to.is_(None), Area.valid_to >= day))
        .order_by(Area.id)
    )
    if level:
        stmt = stmt.where(Area.level == level)
    if parent:
        stmt = stmt.where(Area.parent_id == get_area(session=session, code=parent).id)
    if q:
        needle = f"%{fold(q)}%"
        stmt = stmt.where(or_(func.lower(Area.name_ascii).like(needle), Area.code == q))
    rows = list(session.scalars(stmt.limit(limit + 1)))
    linked = {i for a in rows for i in (a.parent_id, a.successor_id) if i is not None}
    codes = dict(session.execute(select(Area.id, Area.code).where(Area.id.in_(linked))).all()) if linked else {}
    return make_page(rows, limit=limit, key=lambda a: a.id, out=lambda a: area_out(a, codes, day))


def list_agencies(*, session: Session, kind: str | None = None, after_id: int = 0, limit: int = 100) -> Page[AgencyOut]:
    stmt = select(Agency).where(Agency.id > after_id).order_by(Agency.id)
    if kind:
        stmt = stmt.where(Agency.kind == kind)
    rows = list(session.scalars(stmt.limit(limit + 1)))
    agency_codes = dict(session.execute(select(Agency.id, Agency.code)).all())
    area_codes = dict(session.execute(select(Area.id, Area.code)).all())
    return make_page(
        rows,
        limit=limit,
        key=lambda a: a.id,
        out=lambda a: AgencyOut(
            code=a.code,
            kind=a.kind,
            name_vi=a.name_vi,
            name_en=a.name_en,
            parent=agency_codes.get(a.parent_id) if a.parent_id else None,
            area=area_codes.get(a.area_id) if a.area_id else None,
        ),
    )
