"""A submission's body, by its media type, read into observation rows: one way in for every format.

JSON, NDJSON and CSV in the exchange shape need nothing more. SDMX messages and DHIS2 data value
sets name other systems' codes, so they are read through a stored mapping (``?mapping=NAME``);
an Excel workbook made from a govops template carries its own layout.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

from govops.errors import GovopsError, Problem, lazy_gettext
from govops.interop.dhis2.mapping import load_mapping as load_dhis2_mapping
from govops.interop.dhis2.mapping import to_dhis2_period
from govops.interop.dhis2.read import read_data_value_set
from govops.interop.excel.read import read_workbook
from govops.interop.models import InteropMapping
from govops.interop.sdmx import read as sdmx_read
from govops.interop.tally import Tally
from govops.settings import get_settings
from govops.warehouse.formats import Row, read_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/xml": "sdmx-ml",
    "text/xml": "sdmx-ml",
    "application/vnd.sdmx.genericdata+xml": "sdmx-ml",
    "application/vnd.sdmx.structurespecificdata+xml": "sdmx-ml",
    "application/vnd.sdmx.data+json": "sdmx-json",
    "application/vnd.sdmx.data+csv": "sdmx-csv",
    XLSX: "xlsx",
}
_ACCEPTED = (
    'application/json ({"observations": [...]}, or a DHIS2 data value set with ?mapping=), text/csv, '
    "application/x-ndjson, SDMX (application/xml, application/vnd.sdmx.*; with ?mapping=) or an Excel "
    "template (" + XLSX + ")"
)


def format_of(content_type: str | None) -> str:
    media = (content_type or "").split(";")[0].strip().lower()
    fmt = MEDIA_TYPES.get(media)
    if fmt is None:
        error = GovopsError.of(
            "unsupported_media_type",
            lazy_gettext("govops cannot read a file of type '%(media)s'"),
            lazy_gettext(
                "upload a filled-in Excel template (.xlsx), or a CSV, JSON, SDMX or DHIS2 file (SDMX and DHIS2 "
                "with a mapping)"
            ),
            status=415,
            media=media or "unknown",
        )
        # The API names the media types it takes; the console's words name the file types.
        error.hint = "send " + _ACCEPTED
        raise error
    return fmt


def check(*, fmt: str, mapping: InteropMapping | None) -> None:
    """Refuse a body and mapping that cannot go together, before anything is stored."""
    if fmt.startswith("sdmx") and (mapping is None or mapping.kind != "sdmx"):
        raise GovopsError.of(
            "mapping_required",
            lazy_gettext("an SDMX message is read through a mapping of its series keys to govops codes"),
            lazy_gettext("name a stored SDMX mapping: POST /api/v1/submissions?mapping=NAME"),
        )
    if mapping is None:
        return
    if fmt == "xlsx" or fmt == "jsonl" or (mapping.kind == "dhis2" and fmt not in ("json", "csv")):
        if mapping.kind == "sdmx":
            message = lazy_gettext("mapping %(name)s reads SDMX messages, not a %(fmt)s body")
        else:
            message = lazy_gettext("mapping %(name)s reads DHIS2 data value sets, not a %(fmt)s body")
        raise GovopsError.of(
            "mapping_mismatch",
            message,
            lazy_gettext("leave ?mapping= out for the govops exchange shape and for Excel templates"),
            name=mapping.name,
            fmt=fmt,
        )


def read_body(
    body: bytes, *, fmt: str, mapping: InteropMapping | None, where: str = "submission", tally: Tally | None = None
) -> list[Row]:
    """Rows of the body (after `check`); a body that cannot be read at all raises GovopsError.

    ``tally``, if given, counts the values of the body and those the mapping left out.
    """
    tally = Tally() if tally is None else tally
    # SDMX and DHIS2 readers count the values themselves: some give no row (left out by the mapping).
    if mapping is not None and mapping.kind == "sdmx":
        structures = [mapping.structure.encode()] if mapping.structure else []
        sdmx_rules = sdmx_read.load_mapping(mapping.text, where=f"mapping {mapping.name}")
        return sdmx_read.read_sdmx(
            body, mapping=sdmx_rules, structures=structures, where=where, tally=tally, with_places=True
        )
    if mapping is not None:
        dhis2_rules = load_dhis2_mapping(mapping.text, where=f"mapping {mapping.name}")
        dhis2_fmt: Literal["csv", "json"] = "csv" if fmt == "csv" else "json"
        return read_data_value_set(body, fmt=dhis2_fmt, mapping=dhis2_rules, where=where, tally=tally, with_places=True)
    rows = _workbook(body, where) if fmt == "xlsx" else read_text(_utf8(body, where), fmt, where=where)
    # One row number per value (a value with several problems has several entries).
    tally.values += len({number for number, _ in rows})
    return rows


def _workbook(body: bytes, where: str) -> list[Row]:
    settings = get_settings()
    return read_workbook(
        body,
        where=where,
        unpacked_ratio=settings.xlsx_max_unpacked_ratio,
        max_unpacked_bytes=settings.xlsx_max_unpacked_bytes,
    )


def _utf8(body: bytes, where: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovopsError.of(
            "unparseable",
            lazy_gettext("the body is not UTF-8 text (byte %(byte)s)"),
            lazy_gettext("send UTF-8"),
            where=where,
            byte=exc.start,
        ) from None


class Places(dict[int, str]):
    """Where each row came from (row number -> place), and the rows whose source writes periods its own way."""

    def __init__(self) -> None:
        super().__init__()
        self.notations: dict[int, str] = {}


def places(rows: list[Row]) -> Places:
    """Where each row came from, when a row number alone does not say (a workbook's sheet and cell,
    an SDMX series key and period, a DHIS2 data element, org unit and period).

    Readers put it in the row as ``_where`` (and ``_notation`` when the source writes periods its
    own way, e.g. ``dhis2``); both are taken out here, before the rows are checked.
    """
    out = Places()
    for number, item in rows:
        if isinstance(item, dict) and "_where" in item:
            out[number] = str(item.pop("_where"))
            if "_notation" in item:
                out.notations[number] = str(item.pop("_notation"))
    return out


def problem_of(exc: GovopsError) -> Problem:
    """A whole-body failure as the one problem of a rejected submission."""
    return Problem(
        exc.message,
        where=exc.where,
        hint=exc.hint,
        code=exc.code,
        template=exc.template,
        hint_template=exc.hint_template,
        params=exc.params,
    )


def placed(problem: Problem, where: dict[int, str]) -> Problem:
    """The problem with the place of its row, and its periods written as the row's source writes them."""
    row = problem.row
    if row is None or row not in where:
        return problem
    if problem.where is None:
        problem = replace(problem, where=where[row])
    notation = where.notations.get(row) if isinstance(where, Places) else None
    if notation == "dhis2":
        # The hint says what to send, in the sender's notation; a period problem says what it got so too.
        hint = None if problem.hint is None else _dhis2_periods(problem.hint)
        problem = replace(problem, hint=hint)
        if problem.field == "period":
            value = _dhis2_periods(problem.value) if isinstance(problem.value, str) else problem.value
            problem = replace(problem, message=_dhis2_periods(problem.message), value=value)
    return problem


# govops periods in a sentence: 2025-07-14, 2025-W31, 2025-Q3, 2025-S1, 2025-07 (years read the same in DHIS2).
_GOVOPS_PERIOD = re.compile(r"(?<![\w/-])\d{4}-(?:\d{2}-\d{2}|W\d{2}|Q[1-4]|S[12]|\d{2})(?![\w/-])")


def _dhis2_periods(text: str) -> str:
    """``text`` with every govops period in it written the DHIS2 way (``2025-W31`` -> ``2025W31``)."""

    def dhis2_form(m: re.Match[str]) -> str:
        try:
            return to_dhis2_period(m[0])
        except GovopsError:
            return m[0]

    return _GOVOPS_PERIOD.sub(dhis2_form, text)
