"""Regime files: YAML in, YAML out, every problem named by line and field, nothing stored unless all is well.

    regimes:
      - code: SOCIO_ECON_PROVINCE
        demo: true                      # made-up parts are labelled on every page that shows the regime
        versions:
          - from: 2025-07               # a period of the regime's frequency; applies until the next version
            name_vi: Báo cáo tình hình kinh tế - xã hội tháng
            name_en: Monthly socio-economic report
            legal_basis: Nghị định 09/2019/NĐ-CP
            legal_date: 2019-01-24
            frequency: M                # M, Q, S or A
            deadline: day 12 of the month after the period
            cutoff: day 14 of the last month of the period
            grace_days: 0
            lock_days: 30
            replaced_by_data: true      # counts as submitted when its data arrives; no separate report
            requires_document: false    # a signed PDF alongside the figures
            indicators: [CPI, IIP, RETAIL_SALES]
            reporters: {kinds: [provincial_committee], agencies: [], coverage: own_area}
            note: ""

A version never rewrites the past: a stored version is kept as it is, and a new one applies from a period on
that no report already due belongs to.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Agency, Indicator
from govops.db.base import utcnow
from govops.errors import GovopsError, Problem, Rejected, lazy_gettext
from govops.periods import Freq, Period, PeriodError
from govops.reporting.models import COVERAGES, ExpectedReport, Regime, RegimeVersion
from govops.reporting.rules import parse_rule

CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
FREQUENCIES = ("M", "Q", "S", "A")
_VERSION_KEYS = {
    "from", "name_vi", "name_en", "legal_basis", "legal_date", "frequency", "deadline", "cutoff", "grace_days",
    "lock_days", "replaced_by_data", "requires_document", "indicators", "reporters", "note",
}  # fmt: skip
_REPORTER_KEYS = {"kinds", "agencies", "coverage"}


@dataclass(frozen=True)
class VersionSpec:
    """One version as a file gives it, checked."""

    valid_from: str
    name_vi: str
    name_en: str
    legal_basis: str
    legal_date: date | None
    frequency: str
    deadline_rule: str
    cutoff_rule: str | None
    grace_days: int
    lock_days: int
    replaced_by_data: bool
    requires_document: bool
    indicators: tuple[str, ...]
    agency_kinds: tuple[str, ...]
    agencies: tuple[str, ...]
    coverage: str
    note: str

    def same_as(self, stored: RegimeVersion) -> bool:
        return self == spec_of(stored)


_SPEC_FIELDS = tuple(f.name for f in fields(VersionSpec))


@dataclass(frozen=True)
class RegimeSpec:
    code: str
    demo: bool
    versions: tuple[VersionSpec, ...]
    line: int
    # Each version's lines by key ("indicators", "reporters.agencies"...), to name a code the store lacks.
    lines: tuple[dict[str, int], ...] = ()


@dataclass
class ImportSummary:
    regimes_created: list[str] = field(default_factory=list)
    versions_added: list[str] = field(default_factory=list)
    unchanged: int = 0


def spec_of(v: RegimeVersion) -> VersionSpec:
    """A stored version as a file gives it: the columns of the same names, lists as tuples."""
    values: dict[str, Any] = {}
    for name in _SPEC_FIELDS:
        value = getattr(v, name)
        values[name] = tuple(value) if isinstance(value, list) else value
    return VersionSpec(**values)


def row_of(spec: VersionSpec, now: datetime) -> RegimeVersion:
    """A version to store: the spec's fields into the columns of the same names."""
    values = {name: list(value) if isinstance(value := getattr(spec, name), tuple) else value for name in _SPEC_FIELDS}
    return RegimeVersion(**values, valid_from_start=Period(spec.valid_from).start, created_at=now)


def file_entry(spec: VersionSpec) -> dict[str, Any]:
    """A version as a regime file writes it (what `read_file` reads back as the same spec)."""
    entry: dict[str, Any] = {
        "from": spec.valid_from,
        "name_vi": spec.name_vi,
        "name_en": spec.name_en,
        "legal_basis": spec.legal_basis,
        "legal_date": spec.legal_date,
        "frequency": spec.frequency,
        "deadline": spec.deadline_rule,
        "cutoff": spec.cutoff_rule,
        "grace_days": spec.grace_days,
        "lock_days": spec.lock_days,
        "replaced_by_data": spec.replaced_by_data,
        "requires_document": spec.requires_document,
        "indicators": list(spec.indicators),
        "reporters": {"kinds": list(spec.agency_kinds), "agencies": list(spec.agencies), "coverage": spec.coverage},
        "note": spec.note or None,
    }
    return {key: value for key, value in entry.items() if value is not None}


# --- reading a file, with the line of every key ----------------------------------------------------------


class _Node(dict[str, Any]):
    """A mapping of the file that remembers the line of itself and of each key."""

    line: int
    lines: dict[str, int]


def _plain(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = _Node()
        out.line = node.start_mark.line + 1
        out.lines = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[key] = _plain(value_node)
            out.lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item) for item in node.value]
    return yaml.SafeLoader(" ").construct_object(node, deep=True)


def read_file(text: str, *, where: str) -> list[RegimeSpec]:
    """The regimes a file describes, checked on their own (the store is checked by `import_regimes`)."""
    try:
        root = _plain(node) if (node := yaml.compose(text, Loader=yaml.SafeLoader)) is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise Rejected(
            [
                Problem.of(
                    "reporting.yaml",
                    lazy_gettext("This is not readable YAML: %(reason)s."),
                    lazy_gettext("Check the indentation and the quotes around the line shown."),
                    row=mark.line + 1 if mark is not None else None,
                    reason=str(getattr(exc, "problem", None) or exc)[:200],
                )
            ],
            where=where,
        ) from None
    problems: list[Problem] = []
    if not isinstance(root, _Node) or not isinstance(root.get("regimes"), list):
        raise Rejected(
            [
                Problem.of(
                    "reporting.no_regimes",
                    lazy_gettext("The file has no list of regimes."),
                    lazy_gettext("Start the file with 'regimes:' followed by one '- code: ...' entry per regime."),
                    row=1,
                    field="regimes",
                )
            ],
            where=where,
        )
    specs: list[RegimeSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(root["regimes"]):
        path = f"regimes[{i}]"
        if not isinstance(entry, _Node):
            problems.append(_problem("reporting.not_a_mapping", root.lines["regimes"], path))
            continue
        spec = _regime(entry, path, problems)
        if spec is None:
            continue
        if spec.code in seen:
            problems.append(
                Problem.of(
                    "reporting.duplicate_regime",
                    lazy_gettext("The regime %(regime)s is described twice."),
                    lazy_gettext("Describe each regime once, with all its versions under it."),
                    row=entry.lines.get("code", entry.line),
                    field=f"{path}.code",
                    regime=spec.code,
                )
            )
        seen.add(spec.code)
        specs.append(spec)
    if problems:
        raise Rejected(problems, where=where)
    return specs


def _problem(code: str, line: int, path: str) -> Problem:
    return Problem.of(
        code,
        lazy_gettext("Each entry here must be a set of 'key: value' lines."),
        lazy_gettext("Indent the keys of the entry under its '-'."),
        row=line,
        field=path,
    )


def _missing(entry: _Node, key: str, path: str) -> Problem:
    return Problem.of(
        "reporting.missing_field",
        lazy_gettext("The field %(name)s is missing."),
        lazy_gettext("Add it; see `govops reporting regimes export` for a complete example."),
        row=entry.line,
        field=f"{path}.{key}",
        name=key,
    )


# What a field must be: each its own sentence, so that every reader gets all of it in their language.
_MUST_BE = {
    "code": lazy_gettext("The field %(name)s must be capital letters, digits and _ (2 to 40 of them), not %(given)s."),
    "flag": lazy_gettext("The field %(name)s must be true or false, not %(given)s."),
    "text": lazy_gettext("The field %(name)s must be text of 1 to 300 characters, not %(given)s."),
    "days": lazy_gettext("The field %(name)s must be a whole number of days from 0 to 366, not %(given)s."),
    "codes": lazy_gettext("The field %(name)s must be a list of codes, not %(given)s."),
    "frequency": lazy_gettext("The field %(name)s must be M, Q, S or A, not %(given)s."),
    "period": lazy_gettext(
        "The field %(name)s must be a period of the regime's frequency, such as 2025-07, not %(given)s."
    ),
    "date": lazy_gettext("The field %(name)s must be a date written 2019-01-24, not %(given)s."),
    "coverage": lazy_gettext(
        "The field %(name)s must be own_area, own_area_and_wards, nation or provinces, not %(given)s."
    ),
}


def _bad(entry: _Node, key: str, path: str, what: str, value: Any) -> Problem:
    return Problem.of(
        "reporting.invalid_field",
        _MUST_BE[what],
        None,
        row=entry.lines.get(key, entry.line),
        field=f"{path}.{key}",
        value=value,
        name=key,
        given=repr(value)[:80],
    )


def _unknown_keys(entry: _Node, allowed: set[str], path: str, problems: list[Problem]) -> None:
    for key in sorted(set(entry) - allowed):
        problems.append(
            Problem.of(
                "reporting.unknown_field",
                lazy_gettext("The field %(name)s is not one a regime has."),
                lazy_gettext("The fields are: %(known)s."),
                row=entry.lines[key],
                field=f"{path}.{key}",
                name=key,
                known=", ".join(sorted(allowed)),
            )
        )


def _regime(entry: _Node, path: str, problems: list[Problem]) -> RegimeSpec | None:
    _unknown_keys(entry, {"code", "demo", "versions"}, path, problems)
    code = entry.get("code")
    if code is None:
        problems.append(_missing(entry, "code", path))
        return None
    if not isinstance(code, str) or not CODE.match(code):
        problems.append(_bad(entry, "code", path, "code", code))
        return None
    demo = entry.get("demo", False)
    if not isinstance(demo, bool):
        problems.append(_bad(entry, "demo", path, "flag", demo))
    versions_raw = entry.get("versions")
    if not isinstance(versions_raw, list) or not versions_raw:
        problems.append(_missing(entry, "versions", path))
        return None
    versions: list[VersionSpec] = []
    lines: list[dict[str, int]] = []
    last: tuple[Period, int] | None = None
    for j, raw in enumerate(versions_raw):
        vpath = f"{path}.versions[{j}]"
        if not isinstance(raw, _Node):
            problems.append(_problem("reporting.not_a_mapping", entry.lines["versions"], vpath))
            continue
        version = _version(raw, vpath, problems)
        if version is None:
            continue
        start = Period(version.valid_from)
        if last is not None and (start.freq != last[0].freq or start <= last[0]):
            problems.append(
                Problem.of(
                    "reporting.overlapping_versions",
                    lazy_gettext("The version from %(period)s overlaps the one before it (from %(before)s)."),
                    lazy_gettext("List versions oldest first, each from a later period of the same frequency."),
                    row=raw.lines.get("from", raw.line),
                    field=f"{vpath}.from",
                    period=version.valid_from,
                    before=str(last[0]),
                )
            )
        last = (start, j)
        versions.append(version)
        reporters = raw.get("reporters")
        nested = {f"reporters.{k}": v for k, v in reporters.lines.items()} if isinstance(reporters, _Node) else {}
        lines.append({"": raw.line} | raw.lines | nested)
    return RegimeSpec(code=code, demo=bool(demo), versions=tuple(versions), line=entry.line, lines=tuple(lines))


def _text(entry: _Node, key: str, path: str, problems: list[Problem], *, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            problems.append(_missing(entry, key, path))
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        problems.append(_bad(entry, key, path, "text", value))
        return None
    return value.strip()


def _int(entry: _Node, key: str, path: str, problems: list[Problem], default: int) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        problems.append(_bad(entry, key, path, "days", value))
        return default
    return value


def _flag(entry: _Node, key: str, path: str, problems: list[Problem], default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        problems.append(_bad(entry, key, path, "flag", value))
        return default
    return value


def _codes(entry: _Node, key: str, path: str, problems: list[Problem]) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(_bad(entry, key, path, "codes", value))
        return ()
    return tuple(dict.fromkeys(value))


def _version(entry: _Node, path: str, problems: list[Problem]) -> VersionSpec | None:
    _unknown_keys(entry, _VERSION_KEYS, path, problems)  # reported, but the version is still checked for overlaps
    before = len(problems)
    frequency = entry.get("frequency")
    if frequency is None:
        problems.append(_missing(entry, "frequency", path))
    elif frequency not in FREQUENCIES:
        problems.append(_bad(entry, "frequency", path, "frequency", frequency))
        frequency = None
    valid_from: str | None = None
    raw_from = entry.get("from")
    if raw_from is None:
        problems.append(_missing(entry, "from", path))
    elif frequency is not None:
        try:
            valid_from = str(Period.parse(str(raw_from), expected=Freq(frequency)))
        except PeriodError:
            problems.append(_bad(entry, "from", path, "period", raw_from))
    rules: dict[str, str | None] = {}
    for key in ("deadline", "cutoff"):
        raw = entry.get(key)
        if raw is None:
            if key == "deadline":
                problems.append(_missing(entry, key, path))
            rules[key] = None
            continue
        try:
            rules[key] = parse_rule(str(raw), field=key).text
        except GovopsError as exc:
            problems.append(
                Problem(
                    message=exc.message,
                    hint=exc.hint,
                    row=entry.lines.get(key, entry.line),
                    field=f"{path}.{key}",
                    value=raw,
                    code="reporting.invalid_rule",
                    template=exc.template,
                    hint_template=exc.hint_template,
                    params=exc.params,
                )
            )
    legal_date = entry.get("legal_date")
    if legal_date is not None and (not isinstance(legal_date, date) or isinstance(legal_date, datetime)):
        problems.append(_bad(entry, "legal_date", path, "date", legal_date))
        legal_date = None
    reporters = entry.get("reporters")
    kinds: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    coverage = "own_area"
    if not isinstance(reporters, _Node):
        problems.append(_missing(entry, "reporters", path))
    else:
        rpath = f"{path}.reporters"
        _unknown_keys(reporters, _REPORTER_KEYS, rpath, problems)
        kinds = _codes(reporters, "kinds", rpath, problems)
        agencies = _codes(reporters, "agencies", rpath, problems)
        coverage = reporters.get("coverage", "own_area")
        if coverage not in COVERAGES:
            problems.append(_bad(reporters, "coverage", rpath, "coverage", coverage))
        if not kinds and not agencies:
            problems.append(_missing(reporters, "kinds", rpath))
    indicators = _codes(entry, "indicators", path, problems)
    if "indicators" not in entry or not indicators:
        problems.append(_missing(entry, "indicators", path))
    replaced = _flag(entry, "replaced_by_data", path, problems, True)
    document = _flag(entry, "requires_document", path, problems, False)
    if replaced and document:
        problems.append(
            Problem.of(
                "reporting.document_and_data",
                lazy_gettext("A regime replaced by data asks for no separate report, so no signed document."),
                lazy_gettext("Set requires_document: false, or replaced_by_data: false."),
                row=entry.lines.get("requires_document", entry.line),
                field=f"{path}.requires_document",
            )
        )
    names = {key: _text(entry, key, path, problems) for key in ("name_vi", "name_en", "legal_basis")}
    note = _text(entry, "note", path, problems, required=False) or ""
    grace = _int(entry, "grace_days", path, problems, 0)
    lock = _int(entry, "lock_days", path, problems, 30)
    if len(problems) > before or valid_from is None or frequency is None or rules["deadline"] is None:
        return None
    return VersionSpec(
        valid_from=valid_from,
        name_vi=names["name_vi"] or "",
        name_en=names["name_en"] or "",
        legal_basis=names["legal_basis"] or "",
        legal_date=legal_date,
        frequency=frequency,
        deadline_rule=rules["deadline"],
        cutoff_rule=rules["cutoff"],
        grace_days=grace,
        lock_days=lock,
        replaced_by_data=replaced,
        requires_document=document,
        indicators=indicators,
        agency_kinds=kinds,
        agencies=agencies,
        coverage=str(coverage),
        note=note,
    )


# --- against the store -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field a new version changes against the version in force before it."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RegimePlan:
    """What importing a file would do to one regime."""

    spec: RegimeSpec
    exists: bool
    new_versions: tuple[VersionSpec, ...]
    # For each new version, what it changes against the version in force before it (empty for a new regime's
    # first version).
    changes: tuple[tuple[Change, ...], ...]
    unchanged: int
    demo_changed: bool

    @property
    def changes_anything(self) -> bool:
        return not self.exists or bool(self.new_versions) or self.demo_changed


@dataclass(frozen=True)
class ImportPlan:
    """What importing a file would do, worked out against the store without writing: shown before it is
    confirmed, and worked out again on confirming (a different plan means the store changed meanwhile)."""

    regimes: tuple[RegimePlan, ...]

    @property
    def digest(self) -> str:
        """A fingerprint of what the plan would write."""
        parts = [
            (r.spec.code, r.exists, r.demo_changed, r.spec.demo, [repr(v) for v in r.new_versions], r.unchanged)
            for r in self.regimes
        ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    @property
    def changes_anything(self) -> bool:
        return any(r.changes_anything for r in self.regimes)


def _changes(before: VersionSpec | None, after: VersionSpec) -> tuple[Change, ...]:
    if before is None:
        return ()
    return tuple(
        Change(name, getattr(before, name), getattr(after, name))
        for name in _SPEC_FIELDS
        if name != "valid_from" and getattr(before, name) != getattr(after, name)
    )


def plan_import(*, session: Session, text: str, where: str, now: datetime | None = None) -> ImportPlan:
    """What importing the regime file `text` would do; Rejected with every problem (by line and field) when
    anything in it is wrong. Writes nothing."""
    now = now or utcnow()
    specs = read_file(text, where=where)
    known_indicators = set(session.scalars(select(Indicator.code)))
    agency_rows = session.execute(select(Agency.code, Agency.kind)).all()
    known_agencies = {code for code, _ in agency_rows}
    known_kinds = {kind for _, kind in agency_rows}
    stored = {r.code: r for r in session.scalars(select(Regime).where(Regime.code.in_([s.code for s in specs])))}
    problems: list[Problem] = []
    plans: list[RegimePlan] = []
    for spec in specs:
        for j, version in enumerate(spec.versions):
            vpath = f"regimes[{spec.code}].versions[{j}]"
            lines = spec.lines[j]
            for key, what, codes, known in (
                ("indicators", "indicator", version.indicators, known_indicators),
                ("reporters.agencies", "agency", version.agencies, known_agencies),
                ("reporters.kinds", "agency kind", version.agency_kinds, known_kinds),
            ):
                for code in codes:
                    if code not in known:
                        problems.append(_unknown(what, code, lines.get(key, lines[""]), f"{vpath}.{key}"))
        regime = stored.get(spec.code)
        current = regime.current if regime is not None else None
        before = spec_of(current) if current is not None else None
        new_versions: list[VersionSpec] = []
        changes: list[tuple[Change, ...]] = []
        unchanged = 0
        by_from = {v.valid_from: v for v in regime.versions} if regime is not None else {}
        for version in spec.versions:
            old = by_from.get(version.valid_from)
            if old is not None:
                if version.same_as(old):
                    unchanged += 1
                else:
                    problems.append(_rewrite(spec, version, "reporting.version_exists"))
                continue
            if regime is not None:
                start = Period(version.valid_from)
                latest = Period(current.valid_from) if current is not None else None
                if latest is not None and (start.freq != latest.freq or start <= latest):
                    problems.append(_rewrite(spec, version, "reporting.overlapping_versions"))
                    continue
                due_already = session.scalar(
                    select(ExpectedReport.id)
                    .where(
                        ExpectedReport.regime_id == regime.id,
                        ExpectedReport.period_start >= start.start,
                        ExpectedReport.deadline < now,
                    )
                    .limit(1)
                )
                if due_already is not None:
                    problems.append(_rewrite(spec, version, "reporting.past_rewritten"))
                    continue
            new_versions.append(version)
            changes.append(_changes(before, version))
            before = version
        plans.append(
            RegimePlan(
                spec=spec,
                exists=regime is not None,
                new_versions=tuple(new_versions),
                changes=tuple(changes),
                unchanged=unchanged,
                demo_changed=regime is not None and regime.demo != spec.demo,
            )
        )
    if problems:
        raise Rejected(problems, where=where)
    return ImportPlan(tuple(plans))


def apply_import(*, session: Session, plan: ImportPlan, now: datetime | None = None) -> ImportSummary:
    """Write what `plan` says (flushed, not committed)."""
    now = now or utcnow()
    summary = ImportSummary()
    stored = {
        r.code: r for r in session.scalars(select(Regime).where(Regime.code.in_([p.spec.code for p in plan.regimes])))
    }
    for entry in plan.regimes:
        regime = stored.get(entry.spec.code)
        if regime is None:
            regime = Regime(code=entry.spec.code, demo=entry.spec.demo, created_at=now)
            session.add(regime)
            summary.regimes_created.append(entry.spec.code)
        else:
            regime.demo = entry.spec.demo
        summary.unchanged += entry.unchanged
        for version in entry.new_versions:
            regime.versions.append(row_of(version, now))
            summary.versions_added.append(f"{entry.spec.code}@{version.valid_from}")
    session.flush()
    return summary


def import_regimes(*, session: Session, text: str, where: str, now: datetime | None = None) -> ImportSummary:
    """Add the regimes and versions of a file (flushed, not committed); Rejected with every problem, nothing
    written, when any is wrong."""
    plan = plan_import(session=session, text=text, where=where, now=now)
    return apply_import(session=session, plan=plan, now=now)


_UNKNOWN = {
    "indicator": lazy_gettext("There is no indicator %(given)s in the catalogue."),
    "agency": lazy_gettext("There is no agency %(given)s in the catalogue."),
    "agency kind": lazy_gettext("No agency in the catalogue is of the kind %(given)s."),
}


def _unknown(what: str, code: str, line: int, path: str) -> Problem:
    return Problem.of(
        "reporting.unknown_code",
        _UNKNOWN[what],
        lazy_gettext("Use a code the catalogue lists (govops catalog export), or add it to the catalogue first."),
        row=line,
        field=path,
        value=code,
        given=code,
    )


_REWRITE = {
    "reporting.version_exists": lazy_gettext(
        "The regime %(regime)s already has another version from %(period)s; the past is never rewritten."
    ),
    "reporting.overlapping_versions": lazy_gettext(
        "The version of %(regime)s from %(period)s would overlap a stored version that starts later or at the same "
        "period."
    ),
    "reporting.past_rewritten": lazy_gettext(
        "The version of %(regime)s from %(period)s would change reports already due; the past is never rewritten."
    ),
}


def _rewrite(spec: RegimeSpec, version: VersionSpec, code: str) -> Problem:
    return Problem.of(
        code,
        _REWRITE[code],
        lazy_gettext("Keep the stored versions as exported, and add the change as a new version from a coming period."),
        row=spec.line,
        field=f"regimes[{spec.code}].versions.from",
        value=version.valid_from,
        regime=spec.code,
        period=version.valid_from,
    )


def export_regimes(*, session: Session) -> str:
    """Every regime with all its versions, in the format `import_regimes` reads (importing it again changes
    nothing)."""
    regimes = session.scalars(select(Regime).order_by(Regime.code)).all()
    out = [{"code": r.code, "demo": r.demo, "versions": [file_entry(spec_of(v)) for v in r.versions]} for r in regimes]
    return yaml.safe_dump({"regimes": out}, allow_unicode=True, sort_keys=False, width=120)
