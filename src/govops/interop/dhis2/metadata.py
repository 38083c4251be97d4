"""A govops catalogue and a mapping made from DHIS2 metadata (data elements, data sets, category combos)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govops.catalog.schemas import CatalogueDoc
from govops.errors import GovopsError, Problem, lazy_gettext
from govops.interop.dhis2.mapping import (
    DEFAULT_CATEGORY_COMBO,
    DEFAULT_COMBO,
    decode_text,
)
from govops.periods import Freq

# -- catalogue from DHIS2 metadata ------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Ref(_Loose):
    id: str


class _MetaDataElement(_Loose):
    id: str
    name: str
    code: str | None = None
    description: str | None = None
    value_type: str = Field(default="NUMBER", alias="valueType")
    aggregation_type: str = Field(default="SUM", alias="aggregationType")
    domain_type: str = Field(default="AGGREGATE", alias="domainType")
    category_combo: _Ref | None = Field(default=None, alias="categoryCombo")


class _MetaDataSetElement(_Loose):
    data_element: _Ref = Field(alias="dataElement")


class _MetaDataSet(_Loose):
    id: str
    name: str = ""
    period_type: str = Field(alias="periodType")
    data_set_elements: list[_MetaDataSetElement] = Field(default=[], alias="dataSetElements")
    organisation_units: list[_Ref] = Field(default=[], alias="organisationUnits")


class _MetaCategoryOption(_Loose):
    id: str
    name: str
    code: str | None = None


class _MetaCategory(_Loose):
    id: str
    name: str
    code: str | None = None
    category_options: list[_Ref] = Field(default=[], alias="categoryOptions")


class _MetaCategoryCombo(_Loose):
    id: str
    name: str = ""
    categories: list[_Ref] = []


class _MetaCategoryOptionCombo(_Loose):
    id: str
    name: str = ""
    category_combo: _Ref | None = Field(default=None, alias="categoryCombo")
    category_options: list[_Ref] = Field(default=[], alias="categoryOptions")


class _Metadata(_Loose):
    data_elements: list[_MetaDataElement] = Field(alias="dataElements")
    data_sets: list[_MetaDataSet] = Field(default=[], alias="dataSets")
    categories: list[_MetaCategory] = []
    category_options: list[_MetaCategoryOption] = Field(default=[], alias="categoryOptions")
    category_combos: list[_MetaCategoryCombo] = Field(default=[], alias="categoryCombos")
    category_option_combos: list[_MetaCategoryOptionCombo] = Field(default=[], alias="categoryOptionCombos")


NUMERIC_VALUE_TYPES = frozenset(
    {
        "NUMBER",
        "INTEGER",
        "INTEGER_POSITIVE",
        "INTEGER_NEGATIVE",
        "INTEGER_ZERO_OR_POSITIVE",
        "PERCENTAGE",
        "UNIT_INTERVAL",
    }
)
_PERIOD_TYPES = {
    "Daily": Freq.D,
    "Weekly": Freq.W,
    "Monthly": Freq.M,
    "Quarterly": Freq.Q,
    "SixMonthly": Freq.S,
    "Yearly": Freq.A,
}
# DHIS2 aggregation type -> (over org units, over time), in govops' rules.
_AGGREGATION = {
    "SUM": ("sum", "sum"),
    "AVERAGE": ("mean", "mean"),
    "AVERAGE_SUM_ORG_UNIT": ("sum", "mean"),
    "AVERAGE_SUM_INT": ("sum", "mean"),
    "LAST": ("sum", "last"),
    "LAST_IN_PERIOD": ("sum", "last"),
    "LAST_AVERAGE_ORG_UNIT": ("mean", "last"),
    "LAST_IN_PERIOD_AVERAGE_ORG_UNIT": ("mean", "last"),
}


def catalogue_from_metadata(
    metadata: bytes,
    *,
    owner: str,
    unit: str,
    group: str,
    org_units: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """A govops catalogue document and the mapping YAML for the numeric data elements of DHIS2 metadata.

    One indicator per numeric aggregate data element collected by a data set of a period type
    govops has (its code from the DHIS2 code, else the uid), with ``unit``, ``owner`` and
    ``group`` (codes already in the catalogue); one code list per DHIS2 category. The mapping ties
    the data elements and category option combos to them and skips the non-numeric data
    elements; ``org_units`` (DHIS2 uid -> govops area code) fills its org_units, which are
    otherwise left for the officer, with the org units of the data sets listed in comments.
    """
    meta = _parse_metadata(metadata)
    periodicity = _periodicities(meta)
    disaggregation = _disaggregation(meta)
    indicators: list[dict[str, Any]] = []
    elements: list[tuple[str, str, str]] = []  # uid, YAML value, comment
    codes = _CodeMaker(upper=True)
    for element in meta.data_elements:
        note = _one_line(element.name)
        if element.domain_type != "AGGREGATE":
            continue
        if element.value_type not in NUMERIC_VALUE_TYPES:
            elements.append((element.id, "skip", f"{note}: {element.value_type} values are not numbers"))
            continue
        freq = periodicity.get(element.id)
        if freq is None:
            elements.append(("", "", f"{element.id}: {note}: in no data set of a period type govops has"))
            continue
        combo = element.category_combo.id if element.category_combo else DEFAULT_CATEGORY_COMBO
        dimensions = disaggregation.dims_of_combo.get(combo)
        if dimensions is None:
            elements.append(("", "", f"{element.id}: {note}: its category combo {combo} is not in the metadata"))
            continue
        code = codes.make(element.code, element.id, prefix="DHIS2_")
        area_rule, time_rule = _AGGREGATION.get(element.aggregation_type, ("none", "none"))
        indicators.append(
            {
                "code": code,
                "name_vi": element.name,
                "name_en": element.name,
                "definition_vi": element.description or "",
                "definition_en": element.description or "",
                "unit": unit,
                "periodicity": freq.value,
                "dimensions": dimensions,
                "area_aggregation": area_rule,
                "time_aggregation": time_rule,
                "owner": owner,
                "groups": [group],
                "decimals": 0 if element.value_type.startswith("INTEGER") else 2,
            }
        )
        elements.append((element.id, f"{{indicator: {_yaml_scalar(code)}}}", note))
    catalogue: dict[str, Any] = {"codelists": disaggregation.codelists, "indicators": indicators}
    try:
        CatalogueDoc.model_validate(catalogue)
    except ValidationError as exc:
        problems = [_entry_problem(err, value=_shown(err.get("input"))) for err in exc.errors()]
        error = GovopsError.of(
            "invalid",
            lazy_gettext("the catalogue made from the DHIS2 metadata has %(count)s problem(s)"),
            lazy_gettext("owner, unit and group are codes already in the catalogue (upper-case letters, digits and _)"),
            count=len(problems),
        )
        error.problems = problems
        raise error from None
    mapping_text = _mapping_yaml(meta, elements, disaggregation.combo_lines, org_units)
    return catalogue, mapping_text


def _parse_metadata(metadata: bytes) -> _Metadata:
    where = "DHIS2 metadata"
    try:
        doc = json.loads(decode_text(metadata, where))
    except (ValueError, RecursionError):
        raise GovopsError.of(
            "unparseable",
            lazy_gettext("the DHIS2 metadata is not valid JSON"),
            lazy_gettext("export it from DHIS2 (Metadata export, JSON)"),
            where=where,
        ) from None
    if not isinstance(doc, dict) or "dataElements" not in doc:
        raise GovopsError.of(
            "bad_shape",
            lazy_gettext('the DHIS2 metadata has no "dataElements"'),
            lazy_gettext("export data elements, data sets and category combos together"),
            where=where,
        )
    try:
        return _Metadata.model_validate(doc)
    except ValidationError as exc:
        error = GovopsError.of(
            "bad_shape",
            lazy_gettext("the DHIS2 metadata does not have the expected shape"),
            lazy_gettext("export data elements, data sets and category combos together"),
            where=where,
        )
        error.problems = [_entry_problem(err, where=where) for err in exc.errors()[:50]]
        raise error from None


def _entry_problem(err: Any, *, value: object = None, where: str | None = None) -> Problem:
    """A pydantic error as a problem: its reason stays English for the API; the catalogue names the entry."""
    entry = ".".join(map(str, err["loc"]))
    found = Problem.of(
        "dhis2.invalid_entry",
        lazy_gettext("the entry %(entry)s is not valid"),
        field=entry,
        value=value,
        where=where,
        entry=entry,
    )
    return replace(found, message=err["msg"])


def _periodicities(meta: _Metadata) -> dict[str, Freq]:
    """The periodicity of each data element: its data set's period type (the finest, if several)."""
    out: dict[str, Freq] = {}
    for data_set in meta.data_sets:
        freq = _PERIOD_TYPES.get(data_set.period_type)
        if freq is None:
            continue
        for item in data_set.data_set_elements:
            have = out.get(item.data_element.id)
            if have is None or freq.rank < have.rank:
                out[item.data_element.id] = freq
    return out


@dataclass
class _Disaggregation:
    """DHIS2 categories as govops code lists, and what each combo and option combo comes to."""

    codelists: list[dict[str, Any]]
    # category combo uid -> its code lists, in the combo's order ([] for the default combo)
    dims_of_combo: dict[str, list[str]]
    # (uid, YAML dims, comment) lines of the mapping's category_option_combos; uid "" for a comment only
    combo_lines: list[tuple[str, str, str]]


def _is_default(name: str) -> bool:
    # DHIS2 names its built-in "no breakdown" category, option, combo and option combo "default".
    return name == "default"


def _disaggregation(meta: _Metadata) -> _Disaggregation:
    options = {o.id: o for o in meta.category_options}
    categories = {c.id: c for c in meta.categories if not _is_default(c.name)}
    list_codes = _CodeMaker(upper=True)
    codelists: list[dict[str, Any]] = []
    codelist_of: dict[str, str] = {}
    option_code: dict[tuple[str, str], str] = {}
    for category in categories.values():
        code = list_codes.make(category.code or category.name, category.id, prefix="DHIS2_")
        codelist_of[category.id] = code
        item_codes = _CodeMaker(upper=False)
        items = []
        for ref in category.category_options:
            option = options.get(ref.id)
            name = option.name if option else ref.id
            item = item_codes.make(option.code if option else None, ref.id, prefix="")
            option_code[(category.id, ref.id)] = item
            items.append({"code": item, "name_vi": name, "name_en": name})
        codelists.append({"code": code, "name_vi": category.name, "name_en": category.name, "codes": items})
    combos = {c.id: c for c in meta.category_combos}
    dims_of_combo: dict[str, list[str]] = {DEFAULT_CATEGORY_COMBO: []}
    for combo in combos.values():
        dims_of_combo[combo.id] = [codelist_of[ref.id] for ref in combo.categories if ref.id in codelist_of]
    lines: list[tuple[str, str, str]] = [(DEFAULT_COMBO, "{}", "DHIS2's default combo: no breakdown")]
    for coc in meta.category_option_combos:
        if coc.id == DEFAULT_COMBO:
            continue
        name = _one_line(coc.name)
        coc_combo = combos.get(coc.category_combo.id) if coc.category_combo else None
        if _is_default(coc.name) or (coc_combo is not None and not dims_of_combo[coc_combo.id]):
            lines.append((coc.id, "{}", f"{name}: no breakdown"))
            continue
        if coc_combo is None:
            lines.append(("", "", f"{coc.id}: {name}: its category combo is not in the metadata"))
            continue
        chosen = {ref.id for ref in coc.category_options}
        dims: dict[str, str] = {}
        for ref in coc_combo.categories:
            in_combo = categories.get(ref.id)
            hits = [o.id for o in in_combo.category_options if o.id in chosen] if in_combo else []
            if in_combo is not None and len(hits) == 1:
                dims[codelist_of[in_combo.id]] = option_code[(in_combo.id, hits[0])]
        if len(dims) != len(dims_of_combo[coc_combo.id]):
            lines.append(("", "", f"{coc.id}: {name}: its options do not match the categories of its combo"))
            continue
        flow = ", ".join(f"{codelist}: {_yaml_scalar(code)}" for codelist, code in dims.items())
        lines.append((coc.id, f"{{{flow}}}", name))
    return _Disaggregation(codelists, dims_of_combo, lines)


class _CodeMaker:
    """Codes safe for govops, unique among those it made: the DHIS2 code cleaned, else from the uid."""

    def __init__(self, *, upper: bool, limit: int = 32) -> None:
        self.upper, self.limit = upper, limit
        self.unsafe = re.compile(r"[^A-Z0-9_]+" if upper else r"[^A-Za-z0-9_.\-]+", re.ASCII)
        self.made: set[str] = set()

    def _clean(self, text: str) -> str:
        return self.unsafe.sub("_", text.upper() if self.upper else text).strip("_")

    def make(self, text: str | None, uid: str, *, prefix: str) -> str:
        cleaned = self._clean(text or "")
        tail = self._clean(uid)
        candidates: list[str] = []
        if cleaned:
            if len(cleaned) <= self.limit:
                candidates.append(cleaned)
            # Too long or taken: keep the readable start and make it unique with the uid.
            head = cleaned[: self.limit - len(tail) - 1].rstrip("_")
            candidates.append(f"{head}_{tail}" if head else tail)
        candidates.append(f"{prefix}{tail}")
        for candidate in candidates:
            code = candidate[: self.limit]
            if code and code not in self.made:
                self.made.add(code)
                return code
        raise GovopsError.of(
            "invalid",
            lazy_gettext("two DHIS2 objects give the same govops code (%(made)s)"),
            lazy_gettext("give one of them a distinct code in DHIS2"),
            made=candidates[-1],
        )


def _shown(value: object) -> str | int | float | None:
    """A value fit for Problem.value (plain scalars only)."""
    return value if isinstance(value, str | int | float) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


_YAML_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _yaml_scalar(text: str) -> str:
    """Text as a YAML scalar that reads back as the same string (quoted unless plainly safe)."""
    if _YAML_PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def _mapping_yaml(
    meta: _Metadata,
    elements: list[tuple[str, str, str]],
    combos: list[tuple[str, str, str]],
    org_units: Mapping[str, str] | None,
) -> str:
    lines = [
        "# DHIS2 -> govops mapping made from DHIS2 metadata "
        f"({len(meta.data_elements)} data elements, {len(meta.data_sets)} data sets). Check it before use.",
        "unmatched: reject",
        "",
        "# DHIS2 org unit uid -> govops area code (quoted).",
    ]
    lines.append("org_units:")
    if org_units:
        lines.extend(f"  {_yaml_scalar(uid)}: {json.dumps(area)}" for uid, area in org_units.items())
    else:
        assigned = sorted({ref.id for data_set in meta.data_sets for ref in data_set.organisation_units})
        lines.append("  # Fill in the org units that send data; the data sets are assigned to:")
        lines.extend(f'  # {_yaml_scalar(uid)}: ""' for uid in assigned)
    lines += ["", "data_elements:"]
    for uid, value, note in elements:
        lines.append(f"  {_yaml_scalar(uid)}: {value}  # {note}" if uid else f"  # not mapped: {note}")
    lines += ["", "# Category option combo uid -> the dims it adds.", "category_option_combos:"]
    for uid, value, note in combos:
        lines.append(f"  {_yaml_scalar(uid)}: {value}  # {note}" if uid else f"  # not mapped: {note}")
    return "\n".join(lines) + "\n"
