"""Reading the exchange shape from files: CSV, JSON lines, or a JSON document.

CSV: a header with ``indicator,area,period,value``, optionally ``status``, ``unit``, ``source``,
and one more column per dimension (an empty cell is the total). JSON: ``{"observations": [...]}``
or a bare list; JSON lines: one observation object per line. Rows are numbered as a person finds
them: the line of the file (CSV and JSON lines) or the position in the list counted from 1.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from govops.errors import GovopsError, Problem, lazy_gettext

REQUIRED = ("indicator", "area", "period", "value")
OPTIONAL = ("status", "unit", "source")
FORMATS = ("csv", "jsonl", "json")
_DIGITS = re.compile(r"value has (\d+) digits")
_JSON_NESTING_HINT = 'an observation is a flat object; only "dims" holds an object, of text values'

Row = tuple[int, dict[str, Any] | Problem]


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if suffix == "ndjson":
        return "jsonl"
    raise GovopsError(
        f"cannot tell the format of {path.name}",
        code="unknown_format",
        where=str(path),
        hint="name it .csv, .jsonl or .json, or pass --format",
    )


def read_file(path: Path, fmt: str | None = None) -> list[Row]:
    fmt = fmt or detect_format(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise GovopsError(f"cannot read the file: {exc.strerror}", code="unreadable_file", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise GovopsError(
            f"not UTF-8 text (byte {exc.start})",
            code="unreadable_file",
            where=str(path),
            hint="save the file as UTF-8 (in Excel: CSV UTF-8)",
        ) from None
    return read_text(text, fmt, where=str(path))


def read_text(text: str, fmt: str, *, where: str) -> list[Row]:
    if fmt == "csv":
        return list(_csv_rows(text, where))
    if fmt == "jsonl":
        return list(_jsonl_rows(text, where))
    if fmt == "json":
        return _json_rows(text, where)
    raise GovopsError(f"unknown format {fmt!r}", code="unknown_format", hint="use csv, jsonl or json")


@contextmanager
def csv_read_errors(reader: Any, where: str, *, hint: str) -> Iterator[None]:
    """What the csv module cannot read, as an `unparseable` error naming the line: mostly a field over its limit
    (131,072 characters) from a quote never closed. One helper for every CSV reader (exchange shape, SDMX, DHIS2)."""
    try:
        yield
    except csv.Error as exc:
        # The csv module's reason is English: kept for the API; the catalogue's words say what it mostly means.
        # `hint` is a msgid of the catalogue (marked with lazy_gettext where it is written).
        error = GovopsError.of(
            "unparseable",
            lazy_gettext("the CSV cannot be read: a quote is not closed or a cell is too long"),
            where=f"{where}, line {reader.line_num}",
        )
        error.message, error.hint = f"the CSV cannot be read: {exc}", hint
        raise error from None


def _csv_rows(text: str, where: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    with csv_read_errors(
        reader, where, hint=lazy_gettext('check the quotes on that line: a cell opened with " must be closed with "')
    ):
        yield from _csv_records(reader, where)


def _csv_records(reader: Any, where: str) -> Iterator[Row]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise GovopsError.of(
            "empty_file",
            lazy_gettext("the file is empty"),
            lazy_gettext("the first line must be the header indicator,area,period,value"),
            where=where,
        ) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise GovopsError.of(
            "bad_header",
            lazy_gettext("the header lacks %(missing)s"),
            lazy_gettext("the first line must start with %(required)s; found %(found)s"),
            where=f"{where}, line 1",
            missing=", ".join(missing),
            required=",".join(REQUIRED),
            found=",".join(header),
        )
    seen: set[str] = set()
    for name in header:
        if not name or name in seen:
            raise GovopsError.of(
                "bad_header",
                lazy_gettext("header column '%(name)s' is empty or repeated"),
                lazy_gettext("give every column one distinct name"),
                where=f"{where}, line 1",
                name=name,
            )
        seen.add(name)
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            # Let validation report it with the row number rather than failing the whole file.
            yield (
                line,
                Problem.of(
                    "row.cell_count",
                    lazy_gettext("%(cells)s cells where the header has %(columns)s"),
                    lazy_gettext("check for a stray comma or a missing cell; quote text that contains commas"),
                    row=line,
                    cells=len(cells),
                    columns=len(header),
                ),
            )
            continue
        row: dict[str, Any] = {}
        dims: dict[str, str] = {}
        for name, cell in zip(header, cells, strict=True):
            cell = cell.strip()
            if name in REQUIRED:
                row[name] = cell
            elif name in OPTIONAL:
                if cell:
                    row[name] = cell
            elif cell:
                dims[name] = cell
        row["dims"] = dims
        yield line, row


def _jsonl_rows(text: str, where: str) -> Iterator[Row]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = load_json(raw)
        except json.JSONDecodeError as exc:
            raise GovopsError(
                f"not valid JSON: {exc.msg} at column {exc.colno}", code="unparseable", where=f"{where}, line {line}"
            ) from None
        except UnreadableJson as exc:
            raise GovopsError(exc.message, code="unparseable", where=f"{where}, line {line}", hint=exc.hint) from None
        yield line, item if isinstance(item, dict) else _not_an_object(line)


def _json_rows(text: str, where: str) -> list[Row]:
    try:
        doc = load_json(text)
    except json.JSONDecodeError as exc:
        raise GovopsError(
            f"not valid JSON: {exc.msg}", code="unparseable", where=f"{where}, line {exc.lineno} column {exc.colno}"
        ) from None
    except UnreadableJson as exc:
        raise GovopsError(exc.message, code="unparseable", where=where, hint=exc.hint) from None
    items = doc.get("observations") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise GovopsError('expected {"observations": [...]} or a list of observations', code="bad_shape", where=where)
    return [(n, item if isinstance(item, dict) else _not_an_object(n)) for n, item in enumerate(items, 1)]


class UnreadableJson(ValueError):
    """Well-formed JSON that Python cannot hold: nested too deep, or an integer with too many digits."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def load_json(text: str) -> Any:
    """``json.loads`` that fails on deep nesting and huge integers with UnreadableJson instead of crashing.

    Raises json.JSONDecodeError for text that is not JSON at all.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        raise unreadable_json(exc) from None


def unreadable_json(exc: RecursionError | ValueError) -> UnreadableJson:
    """Why well-formed JSON could not be parsed, as a person can act on it.

    Python's parser recurses once per level (about 1,000 levels overflow the stack) and refuses to
    turn more than 4,300 digits into an int; an observation needs three levels and a few digits.
    """
    if isinstance(exc, RecursionError):
        return UnreadableJson("the JSON is nested too deeply to read", _JSON_NESTING_HINT)
    # "Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; ..."
    if "integer string conversion" in str(exc):
        digits = _DIGITS.search(str(exc))
        return UnreadableJson(
            f"a number in the JSON has {f'{int(digits.group(1)):,}' if digits else 'more than 4,300'} digits",
            "write values with at most 17 significant digits, in exponent notation if need be (1.5e20)",
        )
    return UnreadableJson(f"the JSON cannot be read: {exc}", "send the JSON as UTF-8 text")


def _not_an_object(row: int) -> Problem:
    return Problem.of(
        "row.not_an_object",
        lazy_gettext("not an object"),
        lazy_gettext('write each observation as {"indicator": ..., "area": ...}'),
        row=row,
    )
