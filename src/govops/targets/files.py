"""Reading a file of plans and targets: YAML (`plans:` and `targets:` lists) or Excel (a `plans` sheet and a
`targets` sheet, one row each, with the same column names; `agencies` and `tasks` comma-separated; a cascade
as rows whose `parent` names the national target's code and whose `area` or `agency` says whose share)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from govops.errors import GovopsError, Problem, Rejected, lazy_gettext
from govops.targets import service
from govops.targets.models import Target
from govops.targets.schemas import CascadeIn, PlanIn, TargetIn


def _bad_file(path: Path, why: str) -> GovopsError:
    return GovopsError.of(
        "target_bad_file",
        lazy_gettext("%(file)s cannot be read: %(why)s"),
        lazy_gettext("give a YAML file with plans: and targets:, or an Excel file with sheets plans and targets"),
        file=path.name,
        why=why,
    )


def read(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    if not path.exists():
        raise _bad_file(path, "no such file")
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise _bad_file(path, str(exc).splitlines()[0]) from None
        if not isinstance(data, dict):
            raise _bad_file(path, "no plans: or targets: at the top")
        return data
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise _bad_file(path, f"'{suffix}' is neither .yaml nor .xlsx")


def _read_xlsx(path: Path) -> dict[str, Any]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken or misnamed file: said, never a crash
        raise _bad_file(path, type(exc).__name__) from None
    sheets: dict[str, list[dict[str, Any]]] = {}
    for name in ("plans", "targets"):
        if name not in book.sheetnames:
            sheets[name] = []
            continue
        rows = list(book[name].iter_rows(values_only=True))
        header = [str(h).strip() if h is not None else "" for h in (rows[0] if rows else [])]
        sheets[name] = [
            {h: v for h, v in zip(header, r, strict=False) if h and v is not None and v != ""}
            for r in rows[1:]
            if any(v is not None and v != "" for v in r)
        ]
    targets: list[dict[str, Any]] = []
    by_code: dict[str, dict[str, Any]] = {}
    for row in sheets["targets"]:
        for key in ("agencies",):
            if isinstance(row.get(key), str):
                row[key] = [p.strip() for p in row[key].split(",") if p.strip()]
        if isinstance(row.get("tasks"), str | int | float):
            row["tasks"] = [int(p) for p in str(row["tasks"]).split(",") if p.strip()]
        for key in ("period", "area", "plan", "code"):
            if key in row:
                row[key] = str(row[key]).removesuffix(".0") if isinstance(row[key], float) else str(row[key])
        parent = row.pop("parent", None)
        if parent is not None and str(parent) in by_code:
            share = {k: row[k] for k in ("area", "agency", "value", "value_high", "agencies") if k in row}
            by_code[str(parent)].setdefault("cascade", []).append(share)
            continue
        by_code[row.get("code", "")] = row
        targets.append(row)
    return {"plans": sheets["plans"], "targets": targets}


def import_file(*, session: Session, path: Path) -> tuple[int, list[Target]]:
    data = read(path)
    problems: list[Problem] = []
    plans: list[PlanIn] = []
    items: list[TargetIn] = []
    for n, raw in enumerate(data.get("plans") or [], start=1):
        try:
            plans.append(PlanIn.model_validate(raw))
        except ValidationError as exc:
            problems += _problems(exc, f"plans[{n}]")
    for n, raw in enumerate(data.get("targets") or [], start=1):
        try:
            if isinstance(raw, dict) and isinstance(raw.get("cascade"), list):
                raw = {**raw, "cascade": [CascadeIn.model_validate(c) for c in raw["cascade"]]}
            items.append(TargetIn.model_validate(raw))
        except ValidationError as exc:
            problems += _problems(exc, f"targets[{n}]")
    if problems:
        raise Rejected(problems, where=path.name)
    for plan in plans:
        service.create_plan(session=session, data=plan)
    try:
        saved = service.save_targets(session=session, items=items)
    except Rejected as exc:
        exc.where = path.name
        raise
    return len(plans), saved


def _problems(exc: ValidationError, where: str) -> list[Problem]:
    return [
        Problem.of(
            "target_bad_field",
            lazy_gettext("%(field)s is not valid: %(why)s"),
            lazy_gettext("correct the field as the file's format says"),
            where=where,
            field=".".join(str(p) for p in e["loc"]),
            why=e["msg"],
        )
        for e in exc.errors()
    ]
