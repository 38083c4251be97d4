"""Reading a hand-written YAML mapping into its pydantic model, every problem named by field and line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from govops.errors import GovopsError, Problem, lazy_gettext

M = TypeVar("M", bound=BaseModel)


def read_mapping(
    text: str,
    *,
    model: type[M],
    where: str,
    loader: type[yaml.SafeLoader] = yaml.SafeLoader,
    hints: Mapping[str, str],
    shape: str,
    shape_hint: str,
) -> M:
    """`model` from YAML; a YAML error or a wrong entry raises GovopsError (the entries in `problems`).

    `hints` give the fix for pydantic error types; `shape` and `shape_hint` say what the document
    must look like when it is not a YAML mapping at all.
    """
    try:
        node = yaml.compose(text, Loader=loader)
        data: Any = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"{where}, line {mark.line + 1} column {mark.column + 1}" if mark is not None else where
        reason = getattr(exc, "problem", None) or "it cannot be read"
        # The YAML parser's reason is English: kept for the API; the catalogue's words say where to look.
        error = GovopsError.of(
            "unparseable",
            lazy_gettext("the mapping is not valid YAML"),
            lazy_gettext("check the indentation and the quotes around that place"),
            where=place,
        )
        error.message = f"the mapping is not valid YAML: {reason}"
        raise error from None
    except RecursionError:
        raise GovopsError.of(
            "unparseable",
            lazy_gettext("the mapping is nested too deeply to read"),
            lazy_gettext("check the indentation and the quotes around that place"),
            where=where,
        ) from None
    if not isinstance(data, dict):
        raise GovopsError.of("invalid_mapping", shape, shape_hint, where=where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line = _line_of(node, err["loc"])
            entry = ".".join(str(part) for part in err["loc"]) or None
            # pydantic's reason is English: kept for the API; the catalogue names the entry, the hint says the fix.
            found = Problem.of(
                "invalid_mapping",
                lazy_gettext("the entry %(entry)s of the mapping is not valid"),
                hints.get(err["type"]),
                field=entry,
                value=err["input"] if isinstance(err.get("input"), str | int | float) else None,
                where=where if line is None else f"{where}, line {line}",
                entry=entry or "",
            )
            problems.append(replace(found, message=err["msg"].removeprefix("Value error, ")))
        error = GovopsError.of(
            "invalid_mapping",
            lazy_gettext("the mapping has %(count)s problem(s)"),
            lazy_gettext("fix the entries listed in 'problems'"),
            where=problems[0].where,
            count=len(problems),
        )
        error.problems = problems
        raise error from None


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The line of the YAML node at a pydantic error location, or of its nearest parent found."""
    if node is None:
        return None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            continue  # a pydantic-only step, e.g. the member of a union
        node = child
    return node.start_mark.line + 1
