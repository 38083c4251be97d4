"""Vietnamese and English: message catalogues (Babel), and numbers, periods and dates per locale.

Message ids are English; `govops/web/locale/vi/LC_MESSAGES/messages.po` holds the Vietnamese. The .po file
is compiled in memory when first needed, so there is no build step and no binary in the repository.
This sits below every domain (not in `govops.web`) because pages are not the only readers: an e-mail or a
job's report speaks the person's language too.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from importlib.resources import files
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from govops.errors import GovopsError, Problem, lazy_gettext, shown_value
from govops.periods import Freq, Period, PeriodError

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"


def preferred(header: str | None) -> list[str]:
    """The supported locales of an Accept-Language header (or a plain `vi`), most preferred first: by q, then order."""
    weighted: list[tuple[float, int, str]] = []
    for order, item in enumerate((header or "").split(",")):
        tag, _, weight = item.partition(";")
        try:
            q = float(weight.strip().removeprefix("q=")) if weight.strip() else 1.0
        except ValueError:
            continue
        code = tag.strip().lower().split("-")[0]
        if q > 0 and code in LOCALES:
            weighted.append((-q, order, code))
    return [code for _, _, code in sorted(weighted)]


def negotiate(*candidates: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The first supported locale among the candidates (query, user's choice, cookie, header)."""
    for candidate in candidates:
        found = preferred(candidate)
        if found:
            return found[0]
    return default


@cache
def translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    source = files("govops.web") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def number(value: float | None, locale: str, decimals: int = 1) -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English; an em dash for no value."""
    if value is None or not math.isfinite(value):
        return "—"
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(round(value, decimals), format=pattern, locale=locale)


def signed(value: float | None, locale: str, decimals: int = 1) -> str:
    text = number(value, locale, decimals)
    return text if value is None or value < 0 or text == "—" else "+" + text


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(text: str, locale: str) -> str:
    """`2025-07` -> `Tháng 7/2025` or `Jul 2025`; `2025-Q3` -> `Quý III/2025` or `Q3 2025`."""
    try:
        period = Period.parse(text)
    except PeriodError:
        return text
    vi = locale == "vi"
    if period.freq is Freq.M:
        month = period.start.month
        return f"Tháng {month}/{period.year}" if vi else f"{_MONTHS_EN[month - 1]} {period.year}"
    if period.freq is Freq.Q:
        quarter = (period.start.month - 1) // 3 + 1
        return f"Quý {['I', 'II', 'III', 'IV'][quarter - 1]}/{period.year}" if vi else f"Q{quarter} {period.year}"
    if period.freq is Freq.S:
        half = 1 if period.start.month == 1 else 2
        if vi:
            return f"6 tháng {'đầu' if half == 1 else 'cuối'} năm {period.year}"
        return f"H{half} {period.year}"
    if period.freq is Freq.A:
        return f"Năm {period.year}" if vi else str(period.year)
    return str(period)


def language_name(locale: str) -> str:
    return Locale.parse(locale).get_display_name(locale) or locale


def _worded(template: str | None, params: Mapping[str, Any], english: str | None, locale: str) -> str | None:
    if locale == "en" or english is None:
        return english
    if template is None:  # a fixed English sentence may still be a message of the catalogue
        return translations(locale).gettext(english)
    values = {key: shown_value(value) for key, value in params.items()}
    try:
        return translations(locale).gettext(template) % values
    except (KeyError, TypeError, ValueError):  # a translation that names a value the problem lacks
        return english


def problem_message(item: Problem | GovopsError, locale: str) -> str:
    """What is wrong, in the reader's language (English for wording the catalogue does not hold)."""
    return _worded(item.template, item.params, item.message, locale) or item.message


def problem_hint(item: Problem | GovopsError, locale: str) -> str | None:
    """How to fix it, in the reader's language."""
    return _worded(item.hint_template, item.params, item.hint, locale)


# The words readers build places with ("report.xlsx, sheet CPI, cell D7"; a DHIS2 value's "value 3 (data
# element X, org unit Y, period 2018)"), each at the start of a part or after an opening parenthesis.
_PLACE_WORDS = {
    "sheet": lazy_gettext("sheet"),
    "cell": lazy_gettext("cell"),
    "line": lazy_gettext("line"),
    "column": lazy_gettext("column"),
    "row": lazy_gettext("row"),
    "series": lazy_gettext("series"),
    "period": lazy_gettext("period"),
    "observation": lazy_gettext("observation"),
    "structure": lazy_gettext("structure"),
    "mapping": lazy_gettext("mapping"),
    "value": lazy_gettext("value"),
    "data element": lazy_gettext("data element"),
    "org unit": lazy_gettext("org unit"),
}
_PLACE_WORD = re.compile(
    r"(^|, |\()(" + "|".join(re.escape(word) for word in sorted(_PLACE_WORDS, key=len, reverse=True)) + r") (?=\S)"
)
_PLACE_NAMES = {
    "body": lazy_gettext("the file"),
    "submission": lazy_gettext("the file"),
}


def place_label(where: str | None, locale: str) -> str | None:
    """A problem's place in the reader's language: `sheet CPI, cell D7` -> `trang tính CPI, ô D7`."""
    if where is None or locale == "en":
        return where
    gettext = translations(locale).gettext
    worded = _PLACE_WORD.sub(lambda m: f"{m[1]}{gettext(_PLACE_WORDS[m[2]])} ", where)
    return ", ".join(gettext(_PLACE_NAMES[part]) if part in _PLACE_NAMES else part for part in worded.split(", "))


# The columns of an observation, as a template and the console name them.
_FIELDS = {
    "indicator": lazy_gettext("indicator"),
    "area": lazy_gettext("area"),
    "period": lazy_gettext("period"),
    "value": lazy_gettext("value"),
    "status": lazy_gettext("status"),
    "unit": lazy_gettext("unit"),
    "source": lazy_gettext("source"),
    "dims": lazy_gettext("breakdown"),
    "series": lazy_gettext("series"),
}


def field_label(field: str | None, locale: str) -> str | None:
    """A problem's field as the reader calls it: `value` -> `giá trị`, `dims.SEX` -> `phân tổ SEX`."""
    if field is None:
        return None
    head, _, rest = field.partition(".")
    if head not in _FIELDS:
        return field
    label = translations(locale).gettext(_FIELDS[head]) if locale != "en" else _FIELDS[head]
    return f"{label} {rest}" if rest else label


def worded(problem: Problem, locale: str) -> Problem:
    """The problem with its message and hint in `locale` (for an API reader who asked for it)."""
    if locale == "en":
        return problem
    return replace(problem, message=problem_message(problem, locale), hint=problem_hint(problem, locale))


def api_locale(accept_language: str | None) -> str:
    """The API's language: English unless the caller's Accept-Language prefers Vietnamese."""
    return negotiate(accept_language, default="en")
