"""A deterministic generator of DEMO data: MADE-UP values, NOT real statistics.

The series look like the real thing -- levels of the right size, trends, seasonality (Tết, the
December rush of budget spending, back-loaded public investment, the tourist season), the
COVID-19 slumps of 2020-Q2 and 2021-Q3, noise -- so that the warehouse, the console and the
reports can be shown with something realistic on screen. They must never be presented as data.

:func:`generate` yields one :class:`DemoObservation` per indicator, area, period and breakdown,
for every stored (non-derived) indicator of the shipped catalogue
(``govops/catalog/reference/catalogue.yaml``), from 2015 to a given month, for the nation ``VN``
and the 34 provinces in force since July 2025, following the hand-set profiles in
``profiles.yaml`` next to this module:

* indicators whose provinces add up (``area_aggregation: sum``) are shared out among the
  provinces and the nation is the exact sum of the rounded provincial values;
* indicators averaged over provinces (``mean``/``weighted``) vary around the national level by
  province and the nation is the (weighted) mean of the rounded provincial values;
* indicators compiled nationally (``none``) have their own national value; national-only ones
  have no provincial values at all;
* periods follow each indicator's periodicity (``2025-07``, ``2025-Q3``, ``2025``); only periods
  complete by ``end_month`` are emitted, the last two of each indicator as ``provisional``.

The output depends only on the arguments: every random draw comes from ``random.Random`` seeded
with a SHA-256 digest of the seed and a fixed label, and every series draws the same numbers per
period, so a period's value does not change when ``end_month`` moves on.

Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

__all__ = ["NATION", "DemoObservation", "generate"]

NATION = "VN"
"""Area code of the nation."""

_PPY: dict[str, int] = {"M": 12, "Q": 4, "S": 2, "A": 1}
_RULES_AREA = frozenset({"sum", "mean", "weighted", "none"})
_RULES_TIME = frozenset({"sum", "mean", "last", "none"})
_REORGANISED = (2025, 7)  # the 34 provinces are in force from this month
_REF_T = 2024.5  # provincial shares and levels in profiles.yaml describe 2024


@dataclass(frozen=True)
class DemoObservation:
    """One made-up data point."""

    indicator: str
    area: str
    period: str
    value: float
    dims: dict[str, str]
    status: str


# --------------------------------------------------------------------------- catalogue and profiles


@dataclass(frozen=True)
class _Indicator:
    code: str
    periodicity: str
    dimensions: tuple[str, ...]
    area_aggregation: str
    area_weight: str | None
    time_aggregation: str
    decimals: int


@dataclass(frozen=True)
class _Shock:
    first: int  # month index, year * 12 + month - 1
    last: int
    factor: float


@dataclass(frozen=True)
class _DimProfile:
    codelist: str
    codes: tuple[str, ...]
    weights: tuple[float, ...]
    drift: tuple[float, ...]
    noise: tuple[float, ...]
    tet: tuple[float, ...]
    shocks: tuple[tuple[_Shock, ...], ...]
    province_weight_sd: float


@dataclass(frozen=True)
class _Profile:
    code: str
    anchors: tuple[tuple[int, float], ...]
    level: float | None
    growth: float
    step: bool
    seasonal: tuple[float, ...]
    tet: tuple[float, float, float]
    covid: float
    shocks: tuple[_Shock, ...]
    noise: float
    ar: tuple[float, float]
    year_noise: float
    lower: float | None
    upper: float | None
    national_only: bool
    shares: tuple[tuple[str, float], ...]
    share_key: str
    share_drift: float
    share_ar: tuple[float, float]
    share_noise: float
    share_year: float
    share_step: bool
    spread: float
    spread_from: str | None
    spread_elasticity: float
    spread_drift: float
    spread_noise: float
    base_year: int | None
    yoy_of: str | None
    noise_abs: float
    dims: _DimProfile | None


@dataclass(frozen=True)
class _Province:
    code: str
    columns: Mapping[str, float]


@dataclass(frozen=True)
class _Setup:
    start_year: int
    warmup_years: int
    tet: Mapping[int, int]
    covid: Mapping[int, float]
    regional: tuple[int, int]
    provinces: tuple[_Province, ...]
    legacy_weights: Mapping[str, float]
    indicators: tuple[_Indicator, ...]
    codelists: Mapping[str, tuple[str, ...]]
    profiles: Mapping[str, _Profile]


_PROFILE_KEYS = frozenset(
    {
        "level",
        "anchors",
        "growth",
        "interpolate",
        "seasonal",
        "tet",
        "covid",
        "shocks",
        "noise",
        "ar",
        "year_noise",
        "min",
        "max",
        "allow_negative",
        "national_only",
        "shares",
        "share_key",
        "share_drift",
        "share_ar",
        "share_noise",
        "share_year",
        "share_step",
        "spread",
        "spread_from",
        "spread_elasticity",
        "spread_drift",
        "spread_noise",
        "base_year",
        "yoy_of",
        "noise_abs",
        "dims",
    }
)
_DIM_KEYS = frozenset({"weights", "drift", "noise", "tet", "shocks", "province_weight_sd"})
_COLUMNS = ("pop", "pop_trend", "econ", "trade", "tour", "rice", "fish", "fiscal", "port", "covid21")


class _ProfileError(ValueError):
    pass


def _month_index(text: str) -> int:
    year, month = text.split("-")
    if not (len(year) == 4 and len(month) == 2 and 1 <= int(month) <= 12):
        raise ValueError(f"not a month YYYY-MM: {text!r}")
    return int(year) * 12 + int(month) - 1


def _floats(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int | float) for v in value):
        raise _ProfileError(f"{where}: expected a list of numbers")
    return tuple(float(v) for v in value)


def _pair(value: Any, default: tuple[float, float], where: str) -> tuple[float, float]:
    if value is None:
        return default
    sd, rho = _floats(value, where)
    return sd, rho


def _shocks(value: Any, where: str) -> tuple[_Shock, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _ProfileError(f"{where}: expected a list of [from, to, factor]")
    out = []
    for item in value:
        first, last, factor = item
        out.append(_Shock(_month_index(str(first)), _month_index(str(last)), float(factor)))
    return tuple(out)


def _opt_float(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    return None if value is None else float(value)


def _dim_profile(codelist: str, spec: Mapping[str, Any], codes: tuple[str, ...], where: str) -> _DimProfile:
    unknown = set(spec) - _DIM_KEYS
    if unknown:
        raise _ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    weights: Mapping[str, Any] = spec["weights"]
    if set(weights) != set(codes):
        raise _ProfileError(f"{where}: weights must cover exactly the codes of {codelist}")
    drift: Mapping[str, Any] = spec.get("drift", {})
    noise: Mapping[str, Any] = spec.get("noise", {})
    tet: Mapping[str, Any] = spec.get("tet", {})
    shocks: Mapping[str, Any] = spec.get("shocks", {})
    default_noise = float(noise.get("default", 0.0))
    return _DimProfile(
        codelist=codelist,
        codes=codes,
        weights=tuple(float(weights[c]) for c in codes),
        drift=tuple(float(drift.get(c, 0.0)) for c in codes),
        noise=tuple(float(noise.get(c, default_noise)) for c in codes),
        tet=tuple(float(tet.get(c, 1.0)) for c in codes),
        shocks=tuple(_shocks(shocks.get(c), f"{where}.shocks.{c}") for c in codes),
        province_weight_sd=float(spec.get("province_weight_sd", 0.0)),
    )


def _profile(
    code: str, entry: Mapping[str, Any], ind: _Indicator, codelists: Mapping[str, tuple[str, ...]]
) -> _Profile:
    where = f"profiles.yaml: {code}"
    unknown = set(entry) - _PROFILE_KEYS
    if unknown:
        raise _ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    anchors_raw: Mapping[Any, Any] = entry.get("anchors") or {}
    anchors = tuple(sorted((int(y), float(v)) for y, v in anchors_raw.items()))
    level = _opt_float(entry, "level")
    yoy_of = entry.get("yoy_of")
    if not anchors and level is None and yoy_of is None:
        raise _ProfileError(f"{where}: needs level, anchors or yoy_of")
    if any(v <= 0 for _, v in anchors) or (level is not None and level <= 0):
        raise _ProfileError(f"{where}: levels must be positive")
    seasonal = _floats(entry["seasonal"], f"{where}.seasonal") if "seasonal" in entry else ()
    if seasonal and len(seasonal) != _PPY[ind.periodicity]:
        raise _ProfileError(f"{where}: seasonal needs {_PPY[ind.periodicity]} values")
    if seasonal:
        mean = sum(seasonal) / len(seasonal)
        seasonal = tuple(s / mean for s in seasonal)
    tet: Mapping[str, Any] = entry.get("tet") or {}
    shares: Mapping[str, Any] = entry.get("shares") or {}
    if any(col not in _COLUMNS for col in shares):
        raise _ProfileError(f"{where}: shares use unknown province columns")
    national_only = bool(entry.get("national_only", False))
    if ind.area_aggregation == "sum" and not national_only and not shares:
        raise _ProfileError(f"{where}: an area-sum indicator needs shares (or national_only)")
    dims: _DimProfile | None = None
    dims_raw: Mapping[str, Any] = entry.get("dims") or {}
    if len(ind.dimensions) > 1 or (dims_raw and tuple(dims_raw) != ind.dimensions):
        raise _ProfileError(f"{where}: dims must describe the indicator's one dimension")
    if ind.dimensions and not dims_raw:
        raise _ProfileError(f"{where}: the indicator has dimensions {ind.dimensions}; describe them in dims")
    if dims_raw:
        if ind.area_aggregation == "sum":
            raise _ProfileError(f"{where}: breakdowns are generated for index-like indicators only")
        ((codelist, spec),) = dims_raw.items()
        dims = _dim_profile(codelist, spec, codelists[codelist], f"{where}.dims.{codelist}")
    base_year = entry.get("base_year")
    return _Profile(
        code=code,
        anchors=anchors,
        level=level,
        growth=float(entry.get("growth", 0.0)),
        step=entry.get("interpolate", "log") == "step",
        seasonal=seasonal,
        tet=(float(tet.get("before", 1.0)), float(tet.get("month", 1.0)), float(tet.get("after", 1.0))),
        covid=float(entry.get("covid", 0.0)),
        shocks=_shocks(entry.get("shocks"), f"{where}.shocks"),
        noise=float(entry.get("noise", 0.0)),
        ar=_pair(entry.get("ar"), (0.0, 0.8), f"{where}.ar"),
        year_noise=float(entry.get("year_noise", 0.0)),
        lower=None if entry.get("allow_negative") else (_opt_float(entry, "min") or 0.0),
        upper=_opt_float(entry, "max"),
        national_only=national_only,
        shares=tuple((str(k), float(v)) for k, v in shares.items()),
        share_key=str(entry.get("share_key", code)),
        share_drift=float(entry.get("share_drift", 0.01)),
        share_ar=_pair(entry.get("share_ar"), (0.02, 0.8), f"{where}.share_ar"),
        share_noise=float(entry.get("share_noise", 0.02)),
        share_year=float(entry.get("share_year", 0.0)),
        share_step=bool(entry.get("share_step", False)),
        spread=float(entry.get("spread", 0.0)),
        spread_from=entry.get("spread_from"),
        spread_elasticity=float(entry.get("spread_elasticity", 0.4)),
        spread_drift=float(entry.get("spread_drift", 0.0)),
        spread_noise=float(entry.get("spread_noise", 0.0)),
        base_year=None if base_year is None else int(base_year),
        yoy_of=None if yoy_of is None else str(yoy_of),
        noise_abs=float(entry.get("noise_abs", 0.0)),
        dims=dims,
    )


def _read_yaml(anchor: str, *parts: str) -> Any:
    resource = files(anchor).joinpath(*parts)
    return yaml.safe_load(resource.read_text(encoding="utf-8"))


@cache
def _setup() -> _Setup:
    # Anchored on the top-level package so that reading the file imports nothing else.
    catalogue = _read_yaml("govops", "catalog", "reference", "catalogue.yaml")
    raw = _read_yaml("govops.demo", "profiles.yaml")
    codelists = {cl["code"]: tuple(str(c["code"]) for c in cl["codes"]) for cl in catalogue["codelists"]}
    indicators = []
    for entry in catalogue["indicators"]:
        if entry.get("formula"):
            continue
        ind = _Indicator(
            code=entry["code"],
            periodicity=str(entry["periodicity"]),
            dimensions=tuple(entry.get("dimensions") or ()),
            area_aggregation=entry["area_aggregation"],
            area_weight=entry.get("area_weight"),
            time_aggregation=entry["time_aggregation"],
            decimals=int(entry.get("decimals", 1)),
        )
        if ind.periodicity not in _PPY:
            raise _ProfileError(f"{ind.code}: the demo generator has no model for periodicity {ind.periodicity}")
        if ind.area_aggregation not in _RULES_AREA or ind.time_aggregation not in _RULES_TIME:
            raise _ProfileError(f"{ind.code}: unknown aggregation rule")
        indicators.append(ind)
    by_code = {i.code: i for i in indicators}
    profiles_raw: Mapping[str, Any] = raw["indicators"]
    missing = sorted(set(by_code) - set(profiles_raw))
    extra = sorted(set(profiles_raw) - set(by_code))
    if missing or extra:
        raise _ProfileError(f"profiles.yaml: no profile for {missing}; profiles of unknown or derived {extra}")
    profiles = {code: _profile(code, profiles_raw[code], by_code[code], codelists) for code in by_code}
    provinces = tuple(
        _Province(code=str(p["code"]), columns={col: float(p[col]) for col in _COLUMNS}) for p in raw["provinces"]
    )
    regional = raw["covid_regional"]
    return _Setup(
        start_year=int(raw["start_year"]),
        warmup_years=int(raw["warmup_years"]),
        tet={int(y): int(m) for y, m in raw["tet"].items()},
        covid={_month_index(str(k)): float(v) for k, v in raw["covid"].items()},
        regional=(_month_index(str(regional["from"])), _month_index(str(regional["to"]))),
        provinces=provinces,
        legacy_weights={str(k): float(v) for k, v in raw["legacy_weights"].items()},
        indicators=tuple(indicators),
        codelists=codelists,
        profiles=profiles,
    )


# --------------------------------------------------------------------------- time axes


@dataclass(frozen=True)
class _Axis:
    freq: str
    ppy: int
    first_year: int
    labels: tuple[str, ...]
    years: tuple[int, ...]
    subs: tuple[int, ...]
    mids: tuple[float, ...]  # fractional year at the middle of the period
    months: tuple[tuple[int, ...], ...]  # month indices covered
    emit_from: int  # first emitted index
    emit_to: int  # one past the last emitted index (complete periods only)

    def index(self, year: int, sub: int) -> int:
        return (year - self.first_year) * self.ppy + sub - 1


def _label(freq: str, year: int, sub: int) -> str:
    if freq == "M":
        return f"{year}-{sub:02d}"
    if freq == "Q":
        return f"{year}-Q{sub}"
    if freq == "S":
        return f"{year}-S{sub}"
    return str(year)


def _axis(freq: str, first_year: int, start_year: int, end: int) -> _Axis:
    """Periods from ``first_year`` to the one containing month index ``end``."""
    ppy = _PPY[freq]
    width = 12 // ppy
    end_year = end // 12
    labels, years, subs, mids, months = [], [], [], [], []
    emit_to = 0
    for year in range(first_year, end_year + 1):
        for sub in range(1, ppy + 1):
            first_month = year * 12 + (sub - 1) * width
            if first_month > end:
                break
            labels.append(_label(freq, year, sub))
            years.append(year)
            subs.append(sub)
            mids.append(year + (sub - 0.5) / ppy)
            months.append(tuple(range(first_month, first_month + width)))
            if first_month + width - 1 <= end:
                emit_to = len(labels)
    return _Axis(
        freq=freq,
        ppy=ppy,
        first_year=first_year,
        labels=tuple(labels),
        years=tuple(years),
        subs=tuple(subs),
        mids=tuple(mids),
        months=tuple(months),
        emit_from=(start_year - first_year) * ppy,
        emit_to=emit_to,
    )


# --------------------------------------------------------------------------- the model


def _trend(prof: _Profile, t: float, year: int, start_year: int) -> float:
    """Smooth national level at fractional year ``t`` (before seasonality and noise)."""
    if not prof.anchors:
        assert prof.level is not None
        return prof.level * math.pow(1.0 + prof.growth, t - start_year - 0.5)
    first_year, first_value = prof.anchors[0]
    last_year, last_value = prof.anchors[-1]
    if prof.step:
        if year > last_year:
            return last_value * math.pow(1.0 + prof.growth, year - last_year)
        value = first_value
        for y, v in prof.anchors:
            if y <= year:
                value = v
        return value
    if t >= last_year + 0.5:
        return last_value * math.pow(1.0 + prof.growth, t - last_year - 0.5)
    points = prof.anchors
    if t <= first_year + 0.5:
        (y0, v0), (y1, v1) = points[0], points[1]
    else:
        k = next(i for i in range(1, len(points)) if t <= points[i][0] + 0.5)
        (y0, v0), (y1, v1) = points[k - 1], points[k]
    w = (t - (y0 + 0.5)) / (y1 - y0)
    return math.exp(math.log(v0) + w * (math.log(v1) - math.log(v0)))


def _shock_factor(shocks: Sequence[_Shock], months: Sequence[int]) -> float:
    if not shocks:
        return 1.0
    total = 0.0
    for m in months:
        f = 1.0
        for s in shocks:
            if s.first <= m <= s.last:
                f *= s.factor
        total += f
    return total / len(months)


def _clamp(value: float, lower: float | None, upper: float | None) -> float:
    if lower is not None and value < lower:
        value = lower
    if upper is not None and value > upper:
        value = upper
    return value


class _Engine:
    """Computes every series once, for the whole axis of its periodicity (warm-up included)."""

    def __init__(self, setup: _Setup, end: int, seed: int) -> None:
        self.setup = setup
        self.seed = seed
        first_year = setup.start_year - setup.warmup_years
        self.axes = {f: _axis(f, first_year, setup.start_year, end) for f in _PPY}
        self.provinces = setup.provinces
        self.pop_total = sum(p.columns["pop"] for p in self.provinces)
        self.by_code = {i.code: i for i in setup.indicators}
        self.values: dict[str, dict[tuple[str, str], list[float]]] = {}
        self.tet_kind = self._tet_kinds(first_year, end)
        # Covid severity of each period: outside the regional window, and inside it (scaled by covid21).
        self.sev: dict[str, tuple[list[float], list[float]]] = {}
        lo, hi = setup.regional
        for f, axis in self.axes.items():
            outside, inside = [], []
            for months in axis.months:
                out = sum(setup.covid.get(m, 0.0) for m in months if not lo <= m <= hi)
                ins = sum(setup.covid.get(m, 0.0) for m in months if lo <= m <= hi)
                outside.append(out / len(months))
                inside.append(ins / len(months))
            self.sev[f] = (outside, inside)

    # -- helpers -------------------------------------------------------------------------------

    def _rng(self, *parts: str) -> random.Random:
        digest = hashlib.sha256("|".join((str(self.seed), *parts)).encode("utf-8")).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _tet_kinds(self, first_year: int, end: int) -> dict[int, int]:
        """Month index -> 0 (month before Tết), 1 (Tết month), 2 (month after)."""
        kinds: dict[int, int] = {}
        for year in range(first_year, end // 12 + 2):
            m = year * 12 + self.setup.tet.get(year, 2) - 1
            kinds[m - 1], kinds[m], kinds[m + 1] = 0, 1, 2
        return kinds

    def severity(self, freq: str, i: int, covid21: float = 1.0) -> float:
        outside, inside = self.sev[freq]
        return outside[i] + covid21 * inside[i]

    # -- national series -------------------------------------------------------------------------

    def national(self, ind: _Indicator, prof: _Profile) -> list[float]:
        """The unrounded national model value of every period of the axis."""
        axis = self.axes[ind.periodicity]
        rng = self._rng("national", ind.code)
        start = self.setup.start_year
        flow = ind.time_aggregation == "sum"
        out: list[float] = []
        ar = 0.0
        year_factor = 1.0
        if prof.yoy_of is not None:
            source = self.series(prof.yoy_of)[(NATION, "")]
            lag = axis.ppy
            for i in range(len(axis.labels)):
                g = rng.gauss(0.0, 1.0)
                if i < lag or source[i - lag] == 0:
                    out.append(0.0)
                else:
                    out.append(100.0 * (source[i] / source[i - lag] - 1.0) + prof.noise_abs * g)
            return out
        for i, t in enumerate(axis.mids):
            g_noise, g_ar, g_year = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
            if axis.subs[i] == 1:
                year_factor = 1.0 + prof.year_noise * g_year
            ar = prof.ar[1] * ar + prof.ar[0] * g_ar
            value = _trend(prof, t, axis.years[i], start)
            if flow:
                value /= axis.ppy
            if prof.seasonal:
                value *= prof.seasonal[axis.subs[i] - 1]
            if axis.ppy == 12:
                kind = self.tet_kind.get(axis.months[i][0])
                if kind is not None:
                    value *= prof.tet[kind]
            value *= 1.0 - prof.covid * self.severity(axis.freq, i)
            value *= _shock_factor(prof.shocks, axis.months[i])
            value *= math.exp(ar) * (1.0 + prof.noise * g_noise) * year_factor
            out.append(value)
        return out

    # -- provincial shares (area-sum indicators) --------------------------------------------------

    def shares(self, ind: _Indicator, prof: _Profile) -> dict[str, list[float]]:
        axis = self.axes[ind.periodicity]
        columns = dict(prof.shares)
        totals = {col: sum(p.columns[col] for p in self.provinces) for col in columns}
        base = {p.code: sum(w * p.columns[col] / totals[col] for col, w in columns.items()) for p in self.provinces}
        pop_weight = columns.get("pop", 0.0) / sum(columns.values())
        raw: dict[str, list[float]] = {}
        for p in self.provinces:
            if base[p.code] <= 0:
                continue  # e.g. no seaport: no data
            drift_rng = self._rng("share-drift", prof.share_key, p.code)
            drift = pop_weight * p.columns["pop_trend"] / 100.0 + prof.share_drift * drift_rng.gauss(0.0, 1.0)
            ar_rng = self._rng("share-ar", prof.share_key, ind.periodicity, p.code)
            noise_rng = self._rng("share-noise", ind.code, p.code)
            sd, rho = prof.share_ar
            ar = 0.0
            year_factor = 1.0
            series = []
            for i, t in enumerate(axis.mids):
                g_ar, g_noise, g_year = ar_rng.gauss(0.0, 1.0), noise_rng.gauss(0.0, 1.0), noise_rng.gauss(0.0, 1.0)
                ar = rho * ar + sd * g_ar
                if axis.subs[i] == 1:
                    year_factor = max(0.2, 1.0 + prof.share_year * g_year)
                when = axis.years[i] + 0.5 if prof.share_step else t
                share = base[p.code] * math.exp(drift * (when - _REF_T) + ar) * year_factor
                share *= max(0.05, 1.0 + prof.share_noise * g_noise)
                share *= max(0.05, 1.0 - prof.covid * self.severity(axis.freq, i, p.columns["covid21"]))
                series.append(share)
            raw[p.code] = series
        for i in range(len(axis.labels)):
            total = sum(s[i] for s in raw.values())
            for s in raw.values():
                s[i] /= total
        return raw

    # -- provincial level factors (mean, weighted, none) --------------------------------------------

    def level_factors(self, ind: _Indicator, prof: _Profile) -> dict[str, list[float]]:
        axis = self.axes[ind.periodicity]
        ref = prof.base_year + 0.5 if prof.base_year is not None else _REF_T
        levels: dict[str, float] = {}
        drifts: dict[str, float] = {}
        econ_total = sum(p.columns["econ"] for p in self.provinces)
        for p in self.provinces:
            rng = self._rng("level", ind.code, p.code)
            z_level, z_drift = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
            if prof.spread_from == "income":
                per_head = (p.columns["econ"] / p.columns["pop"]) / (econ_total / self.pop_total)
                levels[p.code] = per_head**prof.spread_elasticity
            else:
                levels[p.code] = math.exp(prof.spread * z_level)
            drifts[p.code] = prof.spread_drift * z_drift
        out: dict[str, list[float]] = {}
        for p in self.provinces:
            rng = self._rng("level-noise", ind.code, p.code)
            ar = 0.0
            series = []
            for t in axis.mids:
                g_ar, g_noise = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
                ar = 0.8 * ar + prof.spread_noise * g_ar
                factor = levels[p.code] * math.exp(drifts[p.code] * (t - ref) + ar)
                series.append(factor * (1.0 + 0.5 * prof.spread_noise * g_noise))
            out[p.code] = series
        # Population-weighted mean 1 in every period, so that the nation stays on its own path;
        # then the uneven regional impact of covid on top.
        for i in range(len(axis.mids)):
            mean = sum(out[p.code][i] * p.columns["pop"] for p in self.provinces) / self.pop_total
            national = 1.0 - prof.covid * self.severity(axis.freq, i)
            for p in self.provinces:
                factor = out[p.code][i] / mean
                local = 1.0 - prof.covid * self.severity(axis.freq, i, p.columns["covid21"])
                if prof.covid and national > 0.1 and local > 0.1:
                    factor *= local / national
                out[p.code][i] = factor
        return out

    # -- one indicator ------------------------------------------------------------------------------

    def series(self, code: str) -> dict[tuple[str, str], list[float]]:
        """Rounded values of every (area, breakdown code) of an indicator; "" is the total."""
        if code not in self.values:
            ind = self.by_code[code]
            prof = self.setup.profiles[code]
            if prof.dims is not None:
                self.values[code] = self._breakdown(ind, prof, prof.dims)
            else:
                self.values[code] = self._plain(ind, prof)
        return self.values[code]

    def _weights(self, ind: _Indicator, i: int) -> dict[str, float] | None:
        """Provincial weights for period ``i`` of ``ind``, or None for a plain mean."""
        if ind.area_aggregation != "weighted" or ind.area_weight is None:
            return None
        axis = self.axes[ind.periodicity]
        weight = self.by_code[ind.area_weight]
        w_axis = self.axes[weight.periodicity]
        if w_axis.ppy > axis.ppy:
            raise _ProfileError(f"{ind.code}: weight {weight.code} is more frequent than the indicator")
        sub = (axis.subs[i] - 1) * w_axis.ppy // axis.ppy + 1
        j = w_axis.index(axis.years[i], sub)
        values = self.series(weight.code)
        return {p.code: values[(p.code, "")][j] for p in self.provinces}

    def _mean(self, ind: _Indicator, i: int, values: Mapping[str, float]) -> float:
        weights = self._weights(ind, i)
        if weights is None:
            return sum(values.values()) / len(values)
        total = sum(weights[a] for a in values)
        return sum(weights[a] * v for a, v in values.items()) / total

    def _plain(self, ind: _Indicator, prof: _Profile) -> dict[tuple[str, str], list[float]]:
        d = ind.decimals
        national = self.national(ind, prof)
        out: dict[tuple[str, str], list[float]] = {}
        if prof.national_only:
            out[(NATION, "")] = [round(_clamp(v, prof.lower, prof.upper), d) for v in national]
            return out
        n = len(national)
        if ind.area_aggregation == "sum":
            shares = self.shares(ind, prof)
            for code, share in shares.items():
                out[(code, "")] = [round(_clamp(national[i] * share[i], prof.lower, prof.upper), d) for i in range(n)]
            out[(NATION, "")] = [round(sum(out[(c, "")][i] for c in shares), d) for i in range(n)]
            return out
        factors = self.level_factors(ind, prof)
        for code, factor in factors.items():
            out[(code, "")] = [round(_clamp(national[i] * factor[i], prof.lower, prof.upper), d) for i in range(n)]
        if ind.area_aggregation == "none":
            out[(NATION, "")] = [round(_clamp(v, prof.lower, prof.upper), d) for v in national]
        else:
            out[(NATION, "")] = [round(self._mean(ind, i, {c: out[(c, "")][i] for c in factors}), d) for i in range(n)]
        return out

    def _breakdown(self, ind: _Indicator, prof: _Profile, dims: _DimProfile) -> dict[tuple[str, str], list[float]]:
        """Index-like indicators broken down by a code list: the total is the weighted mean of the codes."""
        d = ind.decimals
        axis = self.axes[ind.periodicity]
        national = self.national(ind, prof)
        n = len(national)
        ref = prof.base_year + 0.5 if prof.base_year is not None else _REF_T
        codes = dims.codes
        # National value of each code.
        groups: list[list[float]] = []
        for k, code in enumerate(codes):
            rng = self._rng("code", ind.code, code)
            series = []
            for i, t in enumerate(axis.mids):
                g = rng.gauss(0.0, 1.0)
                value = national[i] * math.exp(dims.drift[k] * (t - ref))
                value *= _shock_factor(dims.shocks[k], axis.months[i]) * (1.0 + dims.noise[k] * g)
                if axis.ppy == 12 and self.tet_kind.get(axis.months[i][0]) == 1:
                    value *= dims.tet[k]
                series.append(value)
            groups.append(series)
        out: dict[tuple[str, str], list[float]] = {}
        factors = self.level_factors(ind, prof)
        for p in self.provinces:
            rng = self._rng("code-weights", ind.code, p.code)
            weights = [w * math.exp(dims.province_weight_sd * rng.gauss(0.0, 1.0)) for w in dims.weights]
            wsum = sum(weights)
            local: list[list[float]] = []
            for k, code in enumerate(codes):
                rng_k = self._rng("code-level", ind.code, p.code, code)
                drift = prof.spread_drift * rng_k.gauss(0.0, 1.0)
                series = []
                for i, t in enumerate(axis.mids):
                    g = rng_k.gauss(0.0, 1.0)
                    value = groups[k][i] * factors[p.code][i] * math.exp(drift * (t - ref))
                    series.append(value * (1.0 + 0.5 * dims.noise[k] * g))
                local.append(series)
                out[(p.code, code)] = [round(_clamp(v, prof.lower, prof.upper), d) for v in series]
            out[(p.code, "")] = [
                round(sum(weights[k] * local[k][i] for k in range(len(codes))) / wsum, d) for i in range(n)
            ]
        wsum = sum(dims.weights)
        for k, code in enumerate(codes):
            if ind.area_aggregation == "none":
                out[(NATION, code)] = [round(v, d) for v in groups[k]]
            else:
                out[(NATION, code)] = [
                    round(self._mean(ind, i, {p.code: out[(p.code, code)][i] for p in self.provinces}), d)
                    for i in range(n)
                ]
        if ind.area_aggregation == "none":
            out[(NATION, "")] = [
                round(sum(dims.weights[k] * groups[k][i] for k in range(len(codes))) / wsum, d) for i in range(n)
            ]
        else:
            out[(NATION, "")] = [
                round(self._mean(ind, i, {p.code: out[(p.code, "")][i] for p in self.provinces}), d) for i in range(n)
            ]
        return out

    # -- splitting a new province among its predecessors -------------------------------------------

    def split(self, new: str, olds: Sequence[str], label: str, value: float, decimals: int) -> list[tuple[str, float]]:
        """Share ``value`` among ``olds`` so that the parts add up exactly (in units of the last decimal)."""
        scale = 10**decimals
        units = round(value * scale)
        rng = self._rng("split", new, label)
        weights = [self.setup.legacy_weights.get(old, 1.0) * max(0.2, 1.0 + 0.1 * rng.gauss(0.0, 1.0)) for old in olds]
        total = sum(weights)
        raw = [units * w / total for w in weights]
        parts = [math.floor(r) for r in raw]
        remainder = units - sum(parts)
        order = sorted(range(len(olds)), key=lambda k: (parts[k] - raw[k], k))
        for k in order[:remainder]:
            parts[k] += 1
        return [(old, part / scale) for old, part in zip(olds, parts, strict=True)]


# --------------------------------------------------------------------------- public entry point


def _check_predecessors(
    predecessors: Mapping[str, Sequence[str]] | None, provinces: Sequence[str]
) -> dict[str, list[str]]:
    if not predecessors:
        return {}
    unknown = sorted(set(predecessors) - set(provinces))
    if unknown:
        raise ValueError(f"predecessors: {', '.join(unknown)} are not among the 34 current provinces")
    out: dict[str, list[str]] = {}
    for new, olds in predecessors.items():
        codes = list(olds) or [new]
        if len(set(codes)) != len(codes):
            raise ValueError(f"predecessors of {new}: a code is listed twice")
        out[new] = codes
    return out


def generate(
    *, end_month: str, predecessors: dict[str, list[str]] | None = None, seed: int = 20250701
) -> Iterator[DemoObservation]:
    """Yield made-up observations of every stored catalogue indicator, from 2015 to ``end_month``.

    ``end_month`` is ``YYYY-MM``; quarters and years are emitted once they are complete by then.
    ``predecessors`` maps a current province to the pre-2025 provinces it absorbed (the continuing
    code included, e.g. ``{"79": ["74", "77", "79"]}``); when given, ``ENT_NEW`` before 2025-07 is
    reported under those codes, split so that the parts add up to the new province's value.

    Observations come indicator by indicator (catalogue order), then period by period, the nation
    first and then the provinces by code, the total before its breakdowns.
    """
    try:
        end = _month_index(end_month)
    except ValueError:
        raise ValueError(f"end_month must look like 2025-07, not {end_month!r}") from None
    setup = _setup()
    if end < setup.start_year * 12:
        raise ValueError(f"end_month must be {setup.start_year}-01 or later")
    province_codes = [p.code for p in setup.provinces]
    splits = _check_predecessors(predecessors, province_codes)
    engine = _Engine(setup, end, seed)
    areas = [NATION, *province_codes]
    cutoff = _REORGANISED[0] * 12 + _REORGANISED[1] - 1
    for ind in setup.indicators:
        values = engine.series(ind.code)
        axis = engine.axes[ind.periodicity]
        prof = setup.profiles[ind.code]
        codes = ("", *(prof.dims.codes if prof.dims else ()))
        dim = ind.dimensions[0] if ind.dimensions else ""
        for i in range(axis.emit_from, axis.emit_to):
            label = axis.labels[i]
            status = "provisional" if i >= axis.emit_to - 2 else "final"
            before = axis.months[i][-1] < cutoff
            for area in areas:
                for code in codes:
                    series = values.get((area, code))
                    if series is None:
                        continue
                    value = series[i]
                    if ind.code == "ENT_NEW" and before and area in splits:
                        for old, part in engine.split(area, splits[area], label, value, ind.decimals):
                            yield DemoObservation(ind.code, old, label, part, {}, status)
                        continue
                    dims = {dim: code} if code else {}
                    yield DemoObservation(ind.code, area, label, value, dims, status)
