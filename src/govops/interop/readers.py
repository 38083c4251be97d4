"""A submission's body, by its media type, read into observation rows: one way in for every format.

JSON, NDJSON and CSV in the exchange shape need nothing more. SDMX messages and DHIS2 data value
sets name other systems' codes, so they are read through a stored mapping (``?mapping=NAME``);
an Excel workbook made from a govops template carries its own layout.
"""

from __future__ import annotations

from dataclasses import replace

from govops.errors import GovopsError, Problem
from govops.interop import dhis2, sdmx_in
from govops.interop.excel_read import read_workbook
from govops.interop.models import InteropMapping
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
        raise GovopsError(
            f"cannot read a body of type {media or 'unknown'!r}",
            code="unsupported_media_type",
            status=415,
            hint="send " + _ACCEPTED,
        )
    return fmt


def check(*, fmt: str, mapping: InteropMapping | None) -> None:
    """Refuse a body and mapping that cannot go together, before anything is stored."""
    if fmt.startswith("sdmx") and (mapping is None or mapping.kind != "sdmx"):
        raise GovopsError(
            "an SDMX message is read through a mapping of its series keys to govops codes",
            code="mapping_required",
            hint="name a stored SDMX mapping: POST /api/v1/submissions?mapping=NAME",
        )
    if mapping is None:
        return
    if fmt == "xlsx" or fmt == "jsonl" or (mapping.kind == "dhis2" and fmt not in ("json", "csv")):
        reads = "SDMX messages" if mapping.kind == "sdmx" else "DHIS2 data value sets"
        raise GovopsError(
            f"mapping {mapping.name} reads {reads}, not a {fmt} body",
            code="mapping_mismatch",
            hint="leave ?mapping= out for the govops exchange shape and for Excel templates",
        )


def read_body(body: bytes, *, fmt: str, mapping: InteropMapping | None, where: str = "submission") -> list[Row]:
    """Rows of the body (after `check`); a body that cannot be read at all raises GovopsError."""
    if fmt == "xlsx":
        settings = get_settings()
        return read_workbook(
            body,
            where=where,
            unpacked_ratio=settings.xlsx_max_unpacked_ratio,
            max_unpacked_bytes=settings.xlsx_max_unpacked_bytes,
        )
    if mapping is not None and mapping.kind == "sdmx":
        structures = [mapping.structure.encode()] if mapping.structure else []
        sdmx_rules = sdmx_in.load_mapping(mapping.text, where=f"mapping {mapping.name}")
        return sdmx_in.read_sdmx(body, mapping=sdmx_rules, structures=structures, where=where)
    if mapping is not None:
        dhis2_rules = dhis2.load_mapping(mapping.text, where=f"mapping {mapping.name}")
        return dhis2.read_data_value_set(body, fmt="csv" if fmt == "csv" else "json", mapping=dhis2_rules, where=where)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovopsError(
            f"the body is not UTF-8 text (byte {exc.start})", code="unparseable", where=where, hint="send UTF-8"
        ) from None
    return read_text(text, fmt, where=where)


def places(rows: list[Row]) -> dict[int, str]:
    """Where each row came from, when a row number alone does not say (a workbook's sheet and cell).

    Readers put it in the row as ``_where``; it is taken out here, before the rows are checked.
    """
    out: dict[int, str] = {}
    for number, item in rows:
        if isinstance(item, dict) and "_where" in item:
            out[number] = str(item.pop("_where"))
    return out


def problem_of(exc: GovopsError) -> Problem:
    """A whole-body failure as the one problem of a rejected submission."""
    return Problem(exc.message, where=exc.where, hint=exc.hint)


def placed(problem: Problem, where: dict[int, str]) -> Problem:
    if problem.where is None and problem.row in where:
        return replace(problem, where=where[problem.row])
    return problem
