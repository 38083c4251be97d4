"""The two sides of a validation rule: the catalogue's formula language, plus `children(X)`, the sum of X over the
areas directly below (the 34 provinces of the nation).

A side is checked against the catalogue when a rule is saved (every code known, one frequency, sides in the same
quantity: money against money, persons against persons) and compiled into a function of (area, period) that reads
values through a getter, converted into their quantity's base unit so that billions and trillions of dong compare.
A derived indicator (TRADE_BALANCE = EXPORTS - IMPORTS) stands for its formula.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from govops.catalog.formulas import FUNCTIONS, parse_formula
from govops.errors import GovopsError, lazy_gettext
from govops.periods import Period, PeriodError
from govops.quality.facts import Facts

CHILDREN = "children"
PERCENT = "percent"
HINT = lazy_gettext(
    "use indicator codes, numbers, + - * /, parentheses, yoy(X), pop(X), lag(X, n), ytd(X) and children(X), "
    "the sum of X over the areas directly below"
)


def _invalid(side: str, text: str) -> GovopsError:
    return GovopsError.of(
        "invalid_expression",
        lazy_gettext("the %(side)s side, %(expression)s, is not a formula govops can read"),
        HINT,
        where=side,
        side=side,
        expression=text,
    )


@dataclass(frozen=True)
class Expression:
    """A parsed side: its text, its syntax tree (children() calls kept), and the codes it names."""

    text: str
    tree: ast.expr
    references: frozenset[str]


def parse_expression(text: str, *, side: str) -> Expression:
    """Read a side of a rule; GovopsError (`invalid_expression`) when it is not the formula language."""
    cleaned = text.strip()
    try:
        tree = ast.parse(cleaned, mode="eval").body
    except SyntaxError:
        raise _invalid(side, cleaned) from None
    references: set[str] = set()
    # Each children(X) is checked as a formula of its own and stands as a plain name in the rest.
    stand_ins: dict[str, ast.expr] = {}

    class _Lift(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if isinstance(node.func, ast.Name) and node.func.id == CHILDREN:
                if len(node.args) != 1 or node.keywords:
                    raise _invalid(side, cleaned)
                inner = _formula(ast.unparse(node.args[0]), side, cleaned)
                references.update(inner.references)
                name = f"CHILDREN_{len(stand_ins)}_"
                stand_ins[name] = node
                return ast.Name(id=name, ctx=ast.Load())
            return self.generic_visit(node)

    lifted = _Lift().visit(ast.parse(cleaned, mode="eval")).body
    outer = _formula(ast.unparse(lifted), side, cleaned)
    references.update(code for code in outer.references if code not in stand_ins)
    return Expression(text=cleaned, tree=tree, references=frozenset(references))


def _formula(text: str, side: str, whole: str) -> Expression:
    try:
        formula = parse_formula(text)
    except GovopsError:
        raise _invalid(side, whole) from None
    return Expression(text=formula.text, tree=formula.tree, references=formula.references)


# --- checking against the catalogue ------------------------------------------------------------------------------


def quantity(expression: Expression, indicators: Mapping[str, Facts], *, side: str) -> str | None:
    """What the side measures (a unit's quantity: `usd`, `persons`; `percent` for a change; a product or ratio of
    quantities), or None for a plain number. Refuses unknown codes and sums of different quantities."""

    def walk(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant):
            return None
        if isinstance(node, ast.Name):
            ind = indicators.get(node.id)
            if ind is None:
                raise GovopsError.of(
                    "unknown_indicator",
                    lazy_gettext("the %(side)s side names %(indicator)s, which is not in the catalogue"),
                    lazy_gettext("use the code of an indicator of the catalogue (GET /api/v1/indicators)"),
                    where=side,
                    side=side,
                    indicator=node.id,
                )
            return ind.quantity
        if isinstance(node, ast.UnaryOp):
            return walk(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add | ast.Sub):
                if left is not None and right is not None and left != right:
                    raise different_units(side, left, right)
                return left or right
            if left is None or right is None:
                return left or right
            return f"{left}{'*' if isinstance(node.op, ast.Mult) else '/'}{right}"
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        inner = walk(node.args[0])
        return PERCENT if node.func.id in ("yoy", "pop") else inner

    return walk(expression.tree)


def different_units(side: str, left: str, right: str) -> GovopsError:
    return GovopsError.of(
        "different_units",
        lazy_gettext("the %(side)s side compares or adds %(left)s with %(right)s, which are different units"),
        lazy_gettext("compare figures of the same unit (money with money, persons with persons)"),
        where=side,
        side=side,
        left=left,
        right=right,
    )


def frequencies(expression: Expression, indicators: Mapping[str, Facts]) -> set[str]:
    """The frequencies of the stored indicators the side reads (a derived one's through its formula)."""
    return {ind.periodicity for ind in stored_indicators(expression, indicators).values()}


def stored_indicators(expression: Expression, indicators: Mapping[str, Facts]) -> dict[str, Facts]:
    out: dict[str, Facts] = {}

    def add(code: str) -> None:
        ind = indicators.get(code)
        if ind is None or code in out:
            return
        if ind.formula:
            for inner in parse_formula(ind.formula).references:
                add(inner)
        else:
            out[code] = ind

    for code in expression.references:
        add(code)
    return out


# --- evaluating --------------------------------------------------------------------------------------------------

# (code, area id, period) -> the stored value in its quantity's base unit, or None.
Getter = Callable[[str, int, Period], float | None]
# (code, area id, period) -> the sum over the area's children, or None unless every child has a value.
ChildrenGetter = Callable[[str, int, Period], float | None]


@dataclass
class Reading:
    """One side's value at an area and period, and how many of the values it read were there."""

    value: float | None
    present: int = 0
    missing: int = 0


class Evaluator:
    """A side compiled against the catalogue; `at(area, period, get, children)` reads it.

    `zero_for_missing`: a missing value counts as 0 (DHIS2's NEVER_SKIP and SKIP_IF_ALL_VALUES_MISSING), else the
    side has no value when one it reads is missing.
    """

    def __init__(self, expression: Expression, indicators: Mapping[str, Facts]) -> None:
        self.expression = expression
        self.indicators = indicators

    def at(
        self, area_id: int, period: Period, get: Getter, children: ChildrenGetter, *, zero_for_missing: bool
    ) -> Reading:
        reading = Reading(None)
        counted: set[tuple[str, str, int, Period]] = set()

        def read(kind: str, code: str, area: int, when: Period) -> float | None:
            ind = self.indicators[code]
            if ind.formula:
                return value(parse_formula(ind.formula).tree, area, when, kind == CHILDREN)
            found = (children if kind == CHILDREN else get)(code, area, when)
            key = (kind, code, area, when)
            if key not in counted:
                counted.add(key)
                if found is None:
                    reading.missing += 1
                else:
                    reading.present += 1
            return found

        def value(node: ast.expr, area: int, when: Period, below: bool) -> float | None:
            if isinstance(node, ast.Constant):
                assert isinstance(node.value, int | float)
                return float(node.value)
            if isinstance(node, ast.Name):
                found = read(CHILDREN if below else "own", node.id, area, when)
                return 0.0 if found is None and zero_for_missing else found
            if isinstance(node, ast.UnaryOp):
                inner = value(node.operand, area, when, below)
                return None if inner is None else -inner if isinstance(node.op, ast.USub) else inner
            if isinstance(node, ast.BinOp):
                a, b = value(node.left, area, when, below), value(node.right, area, when, below)
                if a is None or b is None:
                    return None
                if isinstance(node.op, ast.Add):
                    return a + b
                if isinstance(node.op, ast.Sub):
                    return a - b
                if isinstance(node.op, ast.Mult):
                    return a * b
                return a / b if b else None
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            name, arg = node.func.id, node.args[0]
            try:
                if name == CHILDREN:
                    return value(arg, area, when, True)
                if name == "lag":
                    lag = node.args[1]
                    assert isinstance(lag, ast.Constant) and isinstance(lag.value, int)
                    return value(arg, area, when - lag.value, below)
                if name == "ytd":
                    parts = [value(arg, area, p, below) for p in when.year_to_date()]
                    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
                before = when.same_period_last_year() if name == "yoy" else when.previous()
            except PeriodError:
                return None
            now, then = value(arg, area, when, below), value(arg, area, before, below)
            return None if now is None or not then else (now / then - 1.0) * 100.0

        reading.value = value(self.expression.tree, area_id, period, False)
        return reading


assert set(FUNCTIONS) == {"yoy", "pop", "lag", "ytd"}, "a new formula function needs its evaluation here"
