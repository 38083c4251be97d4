"""The small formula language of derived indicators.

A formula is an arithmetic expression over indicator codes and numbers with ``+ - * /`` and
parentheses, and four time functions: ``yoy(x)`` (% change against the same period last year),
``pop(x)`` (% change against the previous period), ``lag(x, n)`` and ``ytd(x)`` (year to date,
cumulated by the indicator's time rule). Python's own parser reads it; only these node kinds
are accepted, so a formula can never run code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from govops.errors import GovopsError

FUNCTIONS = {"yoy": 1, "pop": 1, "lag": 2, "ytd": 1}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr

    @property
    def references(self) -> frozenset[str]:
        return frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS)

    def years_back(self, of: Callable[[str], int]) -> int:
        """How many calendar years before a period's own the formula may read; `of` tells it for a reference.

        yoy and pop reach into the year before, lag(x, n) at most n years, ytd stays within the year.
        """

        def walk(node: ast.expr) -> int:
            if isinstance(node, ast.Name):
                return of(node.id)
            if isinstance(node, ast.UnaryOp):
                return walk(node.operand)
            if isinstance(node, ast.BinOp):
                return max(walk(node.left), walk(node.right))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                inner = walk(node.args[0])
                if node.func.id == "ytd":
                    return inner
                if node.func.id == "lag":
                    lag = node.args[1]
                    assert isinstance(lag, ast.Constant) and isinstance(lag.value, int)
                    return inner + lag.value
                return inner + 1
            return 0

        return walk(self.tree)


def _reject(text: str, why: str) -> GovopsError:
    return GovopsError(
        f"formula {text!r}: {why}",
        code="invalid_formula",
        hint="use indicator codes, numbers, + - * /, parentheses, yoy(X), pop(X), lag(X, n), ytd(X)",
    )


@lru_cache(maxsize=1024)
def parse_formula(text: str) -> Formula:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _reject(text, f"not a valid expression ({exc.msg})") from None
    _check(text, tree)
    return Formula(text=text.strip(), tree=tree)


def _check(text: str, node: ast.expr) -> None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
        _check(text, node.left)
        _check(text, node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        _check(text, node.operand)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _reject(text, f"{node.id} is a function; call it as {node.id}(X)")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            raise _reject(text, f"unknown function {ast.unparse(node.func)!r}")
        if len(node.args) != FUNCTIONS[name]:
            raise _reject(text, f"{name}() takes {FUNCTIONS[name]} argument(s)")
        _check(text, node.args[0])
        if name == "lag":
            lag = node.args[1]
            if not (isinstance(lag, ast.Constant) and type(lag.value) is int and lag.value > 0):
                raise _reject(text, "lag(X, n) needs a positive whole number n")
    else:
        raise _reject(text, f"{ast.unparse(node)!r} is not allowed")
