"""Writing observations as a DHIS2 data value set through a mapping (the mapping read backwards)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from govops.errors import GovopsError, Problem
from govops.interop.dhis2.mapping import (
    Dhis2Mapping,
    Dims,
    merge_dims,
    to_dhis2_period,
)

# -- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportValue:
    """One observation to send to DHIS2, in govops codes."""

    indicator: str
    area: str
    period: str
    value: float
    dims: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_observation(cls, obs: Mapping[str, Any]) -> ExportValue:
        """From an observation dict as the readers give it (indicator, area, period, value, dims)."""
        return cls(
            indicator=obs["indicator"],
            area=obs["area"],
            period=obs["period"],
            value=float(obs["value"]),
            dims=dict(obs.get("dims") or {}),
        )


@dataclass(frozen=True)
class _Target:
    data_element: str
    category_option_combo: str
    attribute_option_combo: str


def write_data_value_set(*, rows: Sequence[ExportValue], mapping: Dhis2Mapping, data_set: str | None = None) -> bytes:
    """The JSON data value set DHIS2 would import for ``rows``, mapped back through ``mapping``.

    Each row needs exactly one data element and combos whose dims make up its own dims, and one
    org unit for its area; otherwise GovopsError (code ``not_exportable``) lists every row that
    cannot be written.
    """
    targets = _ReverseMapping(mapping)
    values: list[dict[str, str]] = []
    problems: list[Problem] = []
    for n, row in enumerate(rows, start=1):
        bad = _Complaints(row=n, where=f"value {n} ({row.indicator}, area {row.area}, period {row.period})")
        target = targets.target(row, bad)
        org_unit = targets.org_unit(row.area, bad)
        period = ""
        try:
            period = to_dhis2_period(row.period)
        except GovopsError as exc:
            bad(exc.message, "period", exc.hint or "")
        value = _dhis2_number(row.value)
        if value is None:
            bad(f"value {row.value!r} is not a finite number", "value", "DHIS2 takes finite numbers only")
        if bad.problems:
            problems.extend(bad.problems)
            continue
        assert target is not None and org_unit is not None and value is not None
        values.append(
            {
                "dataElement": target.data_element,
                "period": period,
                "orgUnit": org_unit,
                "categoryOptionCombo": target.category_option_combo,
                "attributeOptionCombo": target.attribute_option_combo,
                "value": value,
            }
        )
    if problems:
        raise GovopsError(
            f"{len(problems)} problem(s) writing the DHIS2 data value set; nothing was written",
            code="not_exportable",
            hint="add the missing entries to the mapping, or leave those values out",
            problems=problems,
        )
    payload: dict[str, Any] = {"dataSet": data_set} if data_set else {}
    payload["dataValues"] = values
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _dhis2_number(value: float) -> str | None:
    """Plain decimal text, no exponent: DHIS2 checks numbers against ``-?digits(.digits)?``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if float(value).is_integer():
        return str(int(value))
    # repr gives the shortest text that reads back as the same float; Decimal spells out its exponent.
    return format(Decimal(repr(float(value))), "f")


@dataclass
class _Complaints:
    """Collects the problems of one exported row."""

    row: int
    where: str
    problems: list[Problem] = field(default_factory=list)

    def __call__(self, message: str, field: str, hint: str) -> None:
        self.problems.append(Problem(message, row=self.row, where=self.where, field=field, hint=hint))


class _ReverseMapping:
    """The mapping read backwards: govops indicator and dims to DHIS2 uids, built per indicator."""

    def __init__(self, mapping: Dhis2Mapping) -> None:
        self.mapping = mapping
        self.by_indicator: dict[str, list[tuple[str, Dims]]] = {}
        for uid, element in mapping.data_elements.items():
            if element.indicator is not None:
                self.by_indicator.setdefault(element.indicator, []).append((uid, element.dims))
        self.org_units: dict[str, list[str]] = {}
        for uid, area in mapping.org_units.items():
            self.org_units.setdefault(area, []).append(uid)
        self.cache: dict[str, dict[frozenset[tuple[str, str]], list[_Target]]] = {}

    def _targets_of(self, indicator: str) -> dict[frozenset[tuple[str, str]], list[_Target]]:
        found = self.cache.get(indicator)
        if found is None:
            found = {}
            cocs = self.mapping.category_combos
            aocs = self.mapping.attribute_combos
            for uid, fixed in self.by_indicator.get(indicator, []):
                for coc, coc_dims in cocs.items():
                    for aoc, aoc_dims in aocs.items():
                        merged, conflicts = merge_dims((fixed, coc_dims, aoc_dims))
                        if not conflicts:
                            key = frozenset(merged.items())
                            found.setdefault(key, []).append(_Target(uid, coc, aoc))
            self.cache[indicator] = found
        return found

    def target(self, row: ExportValue, bad: _Complaints) -> _Target | None:
        if row.indicator not in self.by_indicator:
            bad(
                f"indicator {row.indicator} has no data element in the mapping",
                "indicator",
                f"add a data element with indicator: {row.indicator} under data_elements:",
            )
            return None
        dims = {name: code for name, code in row.dims.items() if code != "_T"}
        matches = self._targets_of(row.indicator).get(frozenset(dims.items()), [])
        shown = ", ".join(f"{k}={v}" for k, v in sorted(dims.items())) or "no breakdown"
        if not matches:
            bad(
                f"no data element and combo in the mapping give {row.indicator} with {shown}",
                "dims",
                "add the category option combo of that breakdown under category_option_combos:",
            )
            return None
        if len(matches) > 1:
            listed = ", ".join(f"{t.data_element}/{t.category_option_combo}" for t in matches[:5])
            bad(
                f"{row.indicator} with {shown} matches {len(matches)} DHIS2 data element/combo pairs ({listed})",
                "dims",
                "make the mapping one-to-one for the values you export",
            )
            return None
        return matches[0]

    def org_unit(self, area: str, bad: _Complaints) -> str | None:
        uids = self.org_units.get(area, [])
        if len(uids) == 1:
            return uids[0]
        if not uids:
            bad(f"area {area} has no org unit in the mapping", "area", f'add <org unit uid>: "{area}" under org_units:')
        else:
            bad(
                f"area {area} is mapped from {len(uids)} org units ({', '.join(uids)})",
                "area",
                "keep one org unit per area in the mapping used for export",
            )
        return None
