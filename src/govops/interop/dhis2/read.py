"""Reading DHIS2 data value sets (JSON or CSV) into observation rows through a mapping."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from govops.errors import GovopsError, Problem, lazy_gettext
from govops.interop.dhis2.mapping import (
    Dhis2Mapping,
    decode_text,
    dhis2_period,
    merge_dims,
    quoted,
)
from govops.interop.tally import Tally
from govops.warehouse.formats import Row, csv_read_errors

CSV_COLUMNS = (
    "dataelement",
    "period",
    "orgunit",
    "catoptcombo",
    "attroptcombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
    "deleted",
)
_CSV_REQUIRED = ("dataelement", "period", "orgunit", "value")

# -- reading ----------------------------------------------------------------------------------


def looks_like_data_value_set(doc: object) -> bool:
    """Whether a parsed JSON document is a DHIS2 data value set (an object with a dataValues list)."""
    return isinstance(doc, dict) and isinstance(doc.get("dataValues"), list)


@dataclass(frozen=True)
class _RawValue:
    """One data value as the file gives it, before any mapping; fields are None when absent."""

    position: int
    place: str
    data_element: object
    period: object
    org_unit: object
    category_option_combo: object
    attribute_option_combo: object
    value: object
    deleted: bool
    # Why the entry cannot be read as a data value at all (code, message and hint msgids, their values);
    # None when it can.
    malformed: tuple[str, str, str, Mapping[str, Any]] | None = None


def read_data_value_set(
    body: bytes,
    *,
    fmt: Literal["json", "csv"],
    mapping: Dhis2Mapping,
    where: str = "data value set",
    tally: Tally | None = None,
    with_places: bool = False,
) -> list[Row]:
    """Observations from a DHIS2 data value set, numbered by value (JSON) or line (CSV).

    Each value becomes one observation, or one problem per thing wrong with it (an unmapped uid,
    a period govops has no equivalent for, a value that is not a number), so that every problem is
    reported at once. Deleted values, values of skipped data elements and (with ``unmatched: skip``)
    values with an unmapped uid give nothing (``tally``, if given, counts the values and those left
    out). ``with_places`` puts in each row ``_where`` (its data element, org unit and period, as
    DHIS2 writes them) and ``_notation`` (``dhis2``: its period is told the DHIS2 way in the problems
    found later), for the submission path. A document that cannot be read raises GovopsError.
    """
    text = decode_text(body, where)
    if fmt == "json":
        raw_values: Iterable[_RawValue] = _json_values(text, where)
    elif fmt == "csv":
        raw_values = _csv_values(text, where)
    else:
        raise GovopsError.of(
            "unknown_format", lazy_gettext("unknown DHIS2 format %(fmt)r"), lazy_gettext("use json or csv"), fmt=fmt
        )
    tally = Tally() if tally is None else tally
    rows: list[Row] = []
    for raw in raw_values:
        translated = _translate(raw, mapping, where, with_places)
        tally.values += 1
        tally.skipped += not translated
        rows.extend(translated)
    return rows


def _json_values(text: str, where: str) -> list[_RawValue]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # The parser's reason is English: kept for the API; the catalogue's words say what it means.
        error = GovopsError.of(
            "unparseable",
            lazy_gettext("the data value set is not valid JSON: the file is cut short or was changed"),
            lazy_gettext("export it from DHIS2 again; the file may be cut short"),
            where=f"{where}, line {exc.lineno} column {exc.colno}",
        )
        error.message = f"the data value set is not valid JSON: {exc.msg}"
        raise error from None
    except (ValueError, RecursionError):
        # Numbers with thousands of digits, or arrays nested thousands deep.
        raise GovopsError.of(
            "unparseable",
            lazy_gettext("the data value set is not JSON that can be read"),
            lazy_gettext("export it from DHIS2 again; the file may be cut short"),
            where=where,
        ) from None
    if not looks_like_data_value_set(doc):
        raise GovopsError.of(
            "bad_shape",
            lazy_gettext('the document is not a DHIS2 data value set: it has no "dataValues" list'),
            lazy_gettext('send {"dataValues": [{"dataElement": ..., "period": ..., "orgUnit": ..., "value": ...}]}'),
            where=where,
        )
    defaults = {key: doc.get(key) for key in ("period", "orgUnit", "attributeOptionCombo")}
    for key, default in defaults.items():
        if default is not None and not isinstance(default, str):
            raise GovopsError.of(
                "bad_shape",
                lazy_gettext('the top-level "%(key)s" must be text, not %(kind)s'),
                lazy_gettext('write it like "%(key)s": "..." or leave it out'),
                where=where,
                key=key,
                kind=_json_type(default),
            )
    return [_json_value(n, item, defaults) for n, item in enumerate(doc["dataValues"], start=1)]


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "text"


def _json_value(n: int, item: object, defaults: Mapping[str, object]) -> _RawValue:
    if not isinstance(item, dict):
        malformed: tuple[str, str, str, Mapping[str, Any]] = (
            "dhis2.not_an_object",
            lazy_gettext("the data value is not an object"),
            lazy_gettext('write each data value as {"dataElement": ..., ...}'),
            {},
        )
        return _RawValue(n, f"value {n}", None, None, None, None, None, None, deleted=False, malformed=malformed)

    def get(key: str) -> object:
        got = item.get(key)
        return defaults.get(key) if got is None else got

    deleted = item.get("deleted")
    return _RawValue(
        position=n,
        place=f"value {n}",
        data_element=item.get("dataElement"),
        period=get("period"),
        org_unit=get("orgUnit"),
        category_option_combo=item.get("categoryOptionCombo"),
        attribute_option_combo=get("attributeOptionCombo"),
        value=item.get("value"),
        deleted=deleted is True or (isinstance(deleted, str) and deleted.strip().lower() == "true"),
    )


def _csv_values(text: str, where: str) -> Iterator[_RawValue]:
    reader = csv.reader(io.StringIO(text, newline=""))
    hint = lazy_gettext("export it from DHIS2 again; quote cells that hold commas or line breaks")
    with csv_read_errors(reader, where, hint=hint):
        yield from _csv_records(reader, where)


def _csv_records(reader: Any, where: str) -> Iterator[_RawValue]:
    records: Iterator[list[str]] = iter(reader)
    first = next(records, None)
    if first is None:
        raise GovopsError.of(
            "empty_file",
            lazy_gettext("the CSV file is empty"),
            lazy_gettext("export the data value set from DHIS2 as CSV, with the header %(header)s"),
            where=where,
            header=",".join(CSV_COLUMNS),
        )
    # DHIS2 writes the header with dataelement first, but any cell naming it marks a header.
    if any(cell.strip().lower() == "dataelement" for cell in first):
        columns = _csv_header(first, where)
        pending: list[list[str]] = []
    else:
        columns = list(CSV_COLUMNS)
        pending = [first]
    for cells in _chain(pending, records):
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        yield _csv_value(line, cells, columns)


def _chain(first: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from first
    yield from rest


def _csv_header(cells: list[str], where: str) -> list[str]:
    columns = [cell.strip().lower() for cell in cells]
    unknown = [c for c, name in zip(cells, columns, strict=True) if name not in CSV_COLUMNS]
    missing = [name for name in _CSV_REQUIRED if name not in columns]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if unknown or missing or repeated:
        what = "; ".join(
            part
            for part in (
                f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else "",
                f"missing {', '.join(missing)}" if missing else "",
                f"repeated {', '.join(repeated)}" if repeated else "",
            )
            if part
        )
        # The API keeps the full list; the catalogue names the columns found wrong, in any of the three ways.
        error = GovopsError.of(
            "bad_header",
            lazy_gettext("the CSV header does not fit a DHIS2 data value set: check the columns %(columns)s"),
            lazy_gettext("DHIS2's columns are %(header)s"),
            where=f"{where}, line 1",
            columns=", ".join([*map(repr, unknown), *missing, *repeated]),
            header=",".join(CSV_COLUMNS),
        )
        error.message = f"the CSV header does not fit a DHIS2 data value set: {what}"
        raise error
    return columns


def _csv_value(line: int, cells: list[str], columns: list[str]) -> _RawValue:
    if len(cells) > len(columns):
        # The cells cannot be matched to columns, so none of them can be trusted.
        malformed = (
            "dhis2.cells",
            lazy_gettext("%(cells)s cells where the data value set has %(columns)s columns"),
            lazy_gettext("check for a stray comma; quote text that contains commas"),
            {"cells": len(cells), "columns": len(columns)},
        )
        return _RawValue(line, f"line {line}", None, None, None, None, None, None, deleted=False, malformed=malformed)
    cell = {name: text.strip() for name, text in zip(columns, cells, strict=False)}

    def get(name: str) -> str | None:
        return cell.get(name) or None

    return _RawValue(
        position=line,
        place=f"line {line}",
        data_element=get("dataelement"),
        period=get("period"),
        org_unit=get("orgunit"),
        category_option_combo=get("catoptcombo"),
        attribute_option_combo=get("attroptcombo"),
        value=get("value"),
        deleted=(get("deleted") or "").lower() == "true",
    )


# -- mapping one value ------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _translate(raw: _RawValue, mapping: Dhis2Mapping, where: str, with_places: bool) -> list[Row]:
    """The observation of one value, or a problem for each thing wrong with it; [] when it is left out."""
    at = f"{where}, {raw.place}" + _named(raw)

    def problem(
        code: str,
        message: str,
        hint: str | None,
        *,
        field: str | None,
        value: object = None,
        english: str | None = None,
        **params: object,
    ) -> Row:
        """`message` and `hint` are msgids filled with `params`, as in `Problem.of`; `english`, when given, is the
        API's message (when it says more than the catalogue's wording)."""
        shown = value if isinstance(value, str | int | float) else None
        found = Problem.of(code, message, hint, row=raw.position, where=at, field=field, value=shown, **params)
        return raw.position, found if english is None else replace(found, message=english)

    if raw.deleted:
        return []
    if raw.malformed is not None:
        code, message, hint, params = raw.malformed
        return [(raw.position, Problem.of(code, message, hint, row=raw.position, where=at, **params))]
    problems: list[Row] = []
    missing = [
        name
        for name, got in (
            ("dataElement", raw.data_element),
            ("period", raw.period),
            ("orgUnit", raw.org_unit),
            ("value", raw.value),
        )
        if got is None or got == ""
    ]
    for name in missing:
        message, hint = lazy_gettext("%(name)s is missing"), lazy_gettext("give every data value its %(name)s")
        problems.append(problem("dhis2.missing", message, hint, field=name, name=name))
    for name, got in (
        ("dataElement", raw.data_element),
        ("period", raw.period),
        ("orgUnit", raw.org_unit),
        ("categoryOptionCombo", raw.category_option_combo),
        ("attributeOptionCombo", raw.attribute_option_combo),
    ):
        if got is not None and not isinstance(got, str):
            message = lazy_gettext("%(name)s must be text, not %(kind)s")
            problems.append(
                problem(
                    "dhis2.not_text", message, lazy_gettext("quote it"), field=name, name=name, kind=_json_type(got)
                )
            )
    if problems:
        return problems
    assert isinstance(raw.data_element, str) and isinstance(raw.org_unit, str) and isinstance(raw.period, str)
    element = mapping.data_elements.get(raw.data_element)
    if element is not None and element.skip:
        return []
    # An absent or empty combo is DHIS2's default combo.
    coc = raw.category_option_combo if isinstance(raw.category_option_combo, str) else None
    aoc = raw.attribute_option_combo if isinstance(raw.attribute_option_combo, str) else None
    coc_dims = mapping.category_combos.get(coc or mapping.default_combo)
    aoc_dims = mapping.attribute_combos.get(aoc or mapping.default_combo)
    area = mapping.org_units.get(raw.org_unit)
    unmapped: list[Row] = []
    if element is None:
        unmapped.append(
            problem(
                "dhis2.unknown_data_element",
                lazy_gettext("data element %(uid)s is not in the mapping"),
                lazy_gettext("add %(uid)s: {indicator: CODE} (or skip) under data_elements: in the mapping"),
                field="dataElement",
                value=raw.data_element,
                uid=raw.data_element,
            )
        )
    if area is None:
        unmapped.append(
            problem(
                "dhis2.unknown_org_unit",
                lazy_gettext("org unit %(uid)s is not in the mapping"),
                lazy_gettext('add %(uid)s: "<govops area code>" under org_units: in the mapping'),
                field="orgUnit",
                value=raw.org_unit,
                uid=raw.org_unit,
            )
        )
    if coc_dims is None:
        unmapped.append(
            problem(
                "dhis2.unknown_category_option_combo",
                lazy_gettext("category option combo %(uid)s is not in the mapping"),
                lazy_gettext("add %(uid)s: {CODELIST: CODE, ...} under category_option_combos: in the mapping"),
                field="categoryOptionCombo",
                value=coc,
                uid=coc,
            )
        )
    if aoc_dims is None:
        unmapped.append(
            problem(
                "dhis2.unknown_attribute_option_combo",
                lazy_gettext("attribute option combo %(uid)s is not in the mapping"),
                lazy_gettext("add %(uid)s: {CODELIST: CODE, ...} under attribute_option_combos: in the mapping"),
                field="attributeOptionCombo",
                value=aoc,
                uid=aoc,
            )
        )
    if unmapped and mapping.unmatched == "skip":
        return []
    problems.extend(unmapped)
    period = ""
    try:
        period = dhis2_period(raw.period)
    except GovopsError as exc:
        # The period reader's reason is English: kept for the API; the catalogue names the period.
        message = lazy_gettext("%(period)s is not a DHIS2 period govops can read")
        problems.append(
            problem(
                "dhis2.period",
                message,
                exc.hint,
                field="period",
                value=raw.period,
                english=exc.message,
                period=raw.period,
            )
        )
    number, why = _number(raw.value)
    if why is not None:
        message, shown = why
        problems.append(
            problem("dhis2.not_a_number", message, _NOT_A_NUMBER_HINT, field="value", value=raw.value, shown=shown)
        )
    dims: dict[str, str] = {}
    if element is not None and coc_dims is not None and aoc_dims is not None:
        dims, conflicts = merge_dims((element.dims, coc_dims, aoc_dims))
        for name, have, other in conflicts:
            problems.append(
                problem(
                    "dhis2.conflicting_codes",
                    lazy_gettext(
                        "the data element and its combos give %(name)s two different codes (%(have)s and %(other)s)"
                    ),
                    lazy_gettext("map %(name)s in only one of them in the mapping"),
                    field="categoryOptionCombo",
                    value=coc,
                    name=name,
                    have=have,
                    other=other,
                )
            )
    if problems:
        return problems
    assert element is not None and element.indicator is not None and area is not None and number is not None
    observation: dict[str, Any] = {
        "indicator": element.indicator,
        "area": area,
        "period": period,
        "value": number,
        "dims": dims,
    }
    if with_places:
        observation.update(_where=at, _notation="dhis2")
    if element.unit is not None:
        observation["unit"] = element.unit
    return [(raw.position, observation)]


def _named(raw: _RawValue) -> str:
    """`` (data element X, org unit Y, period 2024W31)``: the value in DHIS2's own terms, as far as given."""
    parts = [
        f"{name} {text}"
        for name, text in (
            ("data element", raw.data_element),
            ("org unit", raw.org_unit),
            ("period", raw.period),
        )
        if isinstance(text, str) and text
    ]
    return f" ({', '.join(parts)})" if parts else ""


_NOT_A_NUMBER_HINT = lazy_gettext(
    "govops stores numbers only; if this data element holds text, true/false or dates, "
    "mark it skip in the mapping's data_elements:"
)


def _number(value: object) -> tuple[float | None, tuple[str, str] | None]:
    """The value as a finite float, or the reason it is not one (a msgid, and the value as %(shown)s)."""
    if isinstance(value, bool):
        return None, (lazy_gettext("value %(shown)s is not a number"), str(value).lower())
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            number = float(value.strip())
        else:
            shown = value if isinstance(value, str) else _json_type(value)
            return None, (lazy_gettext("value %(shown)s is not a number"), quoted(shown))
    except OverflowError:
        number = math.inf
    if math.isnan(number):
        return None, (lazy_gettext("value %(shown)s is not a number"), "NaN")
    if math.isinf(number):
        return None, (lazy_gettext("value is too large to store"), "")
    return number, None
