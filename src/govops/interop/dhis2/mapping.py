"""The mapping that ties DHIS2 uids to govops codes, and DHIS2 periods to govops periods."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from govops.catalog.schemas import Code, ItemCode
from govops.errors import GovopsError, lazy_gettext
from govops.interop.mapping_yaml import read_mapping
from govops.periods import Freq, Period, PeriodError

# The uid DHIS2 gives its default category option combo ("no breakdown") in every instance.
DEFAULT_COMBO = "HllvX50cXC0"
# ... and its default category combo, which metadata exports often leave out.
DEFAULT_CATEGORY_COMBO = "bjDvmb4bfuf"

# -- periods ----------------------------------------------------------------------------------

_ACCEPTED_FORMS = lazy_gettext(
    "govops takes DHIS2 yearly (2019), six-monthly (2019S1), quarterly (2019Q1), monthly (201912 or 2019-12), "
    "weekly (2019W5) and daily (20190115 or 2019-01-15) periods"
)


@dataclass(frozen=True)
class _PeriodForm:
    name: str
    pattern: re.Pattern[str]
    # Builds the govops period text from the match; None for the DHIS2 period types govops lacks.
    to_govops: Callable[[re.Match[str]], str] | None


def _form(name: str, regex: str, to_govops: Callable[[re.Match[str]], str] | None = None) -> _PeriodForm:
    return _PeriodForm(name, re.compile(regex, re.ASCII), to_govops)


# The period types of DHIS2's DateUnitType, in an order where no pattern shadows a later one.
_PERIOD_FORMS = (
    _form("yearly", r"(\d{4})", lambda m: m[1]),
    _form("daily", r"(\d{4})(\d{2})(\d{2})", lambda m: f"{m[1]}-{m[2]}-{m[3]}"),
    _form("daily", r"(\d{4})-(\d{2})-(\d{2})", lambda m: f"{m[1]}-{m[2]}-{m[3]}"),
    _form("monthly", r"(\d{4})-?(\d{2})", lambda m: f"{m[1]}-{m[2]}"),
    _form("weekly", r"(\d{4})W(\d{1,2})", lambda m: f"{m[1]}-W{int(m[2]):02d}"),
    _form("quarterly", r"(\d{4})Q(\d)", lambda m: f"{m[1]}-Q{m[2]}"),
    _form("six-monthly", r"(\d{4})S(\d)", lambda m: f"{m[1]}-S{m[2]}"),
    _form("weekly (starting Wednesday)", r"(\d{4})WedW(\d{1,2})"),
    _form("weekly (starting Thursday)", r"(\d{4})ThuW(\d{1,2})"),
    _form("weekly (starting Saturday)", r"(\d{4})SatW(\d{1,2})"),
    _form("weekly (starting Sunday)", r"(\d{4})SunW(\d{1,2})"),
    _form("bi-weekly", r"(\d{4})BiW(\d{1,2})"),
    _form("bi-monthly", r"(\d{4})(\d{2})B"),
    _form("quarterly (starting November)", r"(\d{4})NovQ(\d)"),
    _form("six-monthly (starting April)", r"(\d{4})AprilS(\d)"),
    _form("six-monthly (starting November)", r"(\d{4})NovS(\d)"),
    _form("financial year (starting April)", r"(\d{4})April"),
    _form("financial year (starting July)", r"(\d{4})July"),
    _form("financial year (starting September)", r"(\d{4})Sep"),
    _form("financial year (starting October)", r"(\d{4})Oct"),
    _form("financial year (starting November)", r"(\d{4})Nov"),
)


def quoted(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def dhis2_period(text: str) -> str:
    """The govops period (``2019-12``) of a DHIS2 period (``201912``).

    Raises :class:`~govops.periods.PeriodError` (a GovopsError, code ``invalid_period``) naming the
    DHIS2 period form when govops has no such period, or when the period does not exist.
    """
    if not isinstance(text, str):
        raise PeriodError(f"{text!r} is not a DHIS2 period: periods are written as text", hint=_ACCEPTED_FORMS)
    stripped = text.strip()
    for form in _PERIOD_FORMS:
        match = form.pattern.fullmatch(stripped)
        if match is None:
            continue
        if form.to_govops is None:
            raise PeriodError(
                f"{quoted(text)} is a DHIS2 {form.name} period, which govops has no period for",
                hint=f"{_ACCEPTED_FORMS}; aggregate the data to one of these in DHIS2 first",
            )
        try:
            return str(Period.parse(form.to_govops(match)))
        except PeriodError as exc:
            # The govops message names the govops text; say it of the DHIS2 text instead.
            why = exc.message.partition(": ")[2] or exc.message
            # ...and the hint in DHIS2's notation, not govops' (2019W5, not 2019-W05).
            raise PeriodError(
                f"{quoted(text)} is not a valid DHIS2 {form.name} period: {why}", hint=_ACCEPTED_FORMS
            ) from None
    raise PeriodError(f"{quoted(text)} is not a DHIS2 period", hint=_ACCEPTED_FORMS)


def to_dhis2_period(period: str) -> str:
    """The DHIS2 period (``201912``) of a govops period (``2019-12``); multi-year periods have none."""
    p = Period.parse(period)
    text = str(p)
    if p.freq is Freq.W:
        year, week = text.split("-W")
        return f"{year}W{int(week)}"
    if p.freq in (Freq.A, Freq.S, Freq.Q, Freq.M, Freq.D):
        return text.replace("-", "")
    raise PeriodError(
        f"{quoted(period)} is {p.freq.label('en').lower()}, which DHIS2 has no period type for",
        hint="send DHIS2 the years one by one",
    )


# -- the mapping ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


AreaCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Uid = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Dims = dict[Code, ItemCode]


def _empty_if_null(value: object) -> object:
    # `org_units:` with only comments under it reads as null in YAML.
    return {} if value is None else value


def _shorthand(value: object) -> object:
    # An officer may write `uid: skip` or `uid: CODE` for the common cases.
    if value == "skip":
        return {"skip": True}
    if isinstance(value, str):
        return {"indicator": value}
    return value


class DataElementMap(_Strict):
    """Where the values of one DHIS2 data element go: one indicator (with fixed dims), or nowhere."""

    indicator: Code | None = None
    dims: Dims = {}
    unit: Code | None = Field(default=None, description="unit code of the values, when not the indicator's")
    skip: bool = False

    @model_validator(mode="after")
    def _indicator_or_skip(self) -> DataElementMap:
        if self.skip == (self.indicator is not None):
            raise ValueError("give either indicator: CODE or skip: true")
        return self


class Dhis2Mapping(_Strict):
    """DHIS2 uids to govops codes; see the module docstring for the YAML."""

    org_units: Annotated[dict[Uid, AreaCode], BeforeValidator(_empty_if_null)] = {}
    data_elements: dict[Uid, Annotated[DataElementMap, BeforeValidator(_shorthand)]]
    category_option_combos: Annotated[dict[Uid, Dims], BeforeValidator(_empty_if_null)] = {}
    attribute_option_combos: dict[Uid, Dims] | None = None
    default_combo: Uid = DEFAULT_COMBO
    unmatched: Literal["reject", "skip"] = "reject"

    @cached_property
    def category_combos(self) -> dict[str, Dims]:
        """Every accepted category option combo with its dims, DHIS2's default one included."""
        return {self.default_combo: {}, **self.category_option_combos}

    @cached_property
    def attribute_combos(self) -> dict[str, Dims]:
        """Every accepted attribute option combo with its dims, DHIS2's default one included."""
        return {self.default_combo: {}, **(self.attribute_option_combos or {})}


_MAPPING_HINTS = {
    "string_type": lazy_gettext('write codes as quoted text, e.g. "01", so that YAML keeps them as written'),
    "string_pattern_mismatch": lazy_gettext(
        "indicator, code list and unit codes are upper-case letters, digits and _ "
        "(at most 32); codes of a code list may also hold lower-case letters, '.' and '-'"
    ),
    "extra_forbidden": lazy_gettext(
        "allowed keys: org_units, data_elements, category_option_combos, "
        "attribute_option_combos, default_combo, unmatched; a data element takes indicator, dims, unit or skip"
    ),
    "literal_error": lazy_gettext("unmatched is reject or skip"),
    "missing": lazy_gettext("the mapping needs at least data_elements:"),
}


def load_mapping(text: str, *, where: str = "mapping") -> Dhis2Mapping:
    """Read a mapping from YAML; a YAML error or a wrong entry raises GovopsError listing every problem."""
    return read_mapping(
        text,
        model=Dhis2Mapping,
        where=where,
        hints=_MAPPING_HINTS,
        shape=lazy_gettext(
            "the mapping must be a YAML mapping with data_elements: (and org_units:, category_option_combos:)"
        ),
        shape_hint=lazy_gettext("start from the mapping that catalogue_from_metadata writes"),
    )


def decode_text(body: bytes, where: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovopsError.of(
            "unparseable",
            lazy_gettext("the data value set is not UTF-8 text (byte %(byte)s)"),
            lazy_gettext("export it from DHIS2 again, or save it as UTF-8"),
            where=where,
            byte=exc.start,
        ) from None


def merge_dims(parts: Iterable[Mapping[str, str]]) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """The dims of all parts together, and each code list two parts give different codes (name, code, code)."""
    merged: dict[str, str] = {}
    conflicts: list[tuple[str, str, str]] = []
    for part in parts:
        for name, code in part.items():
            have = merged.setdefault(name, code)
            if have != code:
                conflicts.append((name, have, code))
    return merged, conflicts
