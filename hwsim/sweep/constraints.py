"""Sweep constraints: small boolean expressions over parameters and outputs, checked without running code.

``units.mxu.rows * units.mxu.cols <= 65536``, ``area_mm2 <= 400``, ``latency_s < 2e-3 and bound == "memory"``.
Names are dotted paths (swept parameters as written in the space, output columns such as ``area_mm2`` or
``energy_j.dram.hbm``). The text is parsed with :mod:`ast` and every node is checked against a short list
(arithmetic, comparisons, ``and``/``or``/``not``, numbers, strings and the functions in ``FUNCTIONS``);
nothing else (attributes, subscripts, lambdas, imports, other calls) is accepted, so a space file cannot
run code. Only then is the checked tree compiled and evaluated, with no builtins.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from types import CodeType
from typing import Any, Mapping

from hwsim.errors import SpecError

FUNCTIONS = {"min": min, "max": max, "abs": abs, "log2": math.log2, "log10": math.log10, "sqrt": math.sqrt}
_KEYWORDS = {"and", "or", "not", "in", "True", "False", "None", "is"}
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.\w+)*")
_STRING = re.compile(r"""("[^"]*"|'[^']*')""")
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.BinOp,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.Compare, ast.Eq, ast.NotEq,
            ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Constant, ast.Name, ast.Load, ast.Call,
            ast.Tuple, ast.List)


class ConstraintError(Exception):
    """A constraint could not be evaluated on a point (a name has no value there)."""


@dataclass(frozen=True)
class Constraint:
    """A checked, compiled constraint; ``names`` are the dotted paths it reads."""

    text: str
    names: tuple[str, ...]
    _code: CodeType
    _vars: tuple[str, ...]

    def __reduce__(self):  # code objects do not pickle: workers re-parse the (already checked) text
        return (parse_constraint, (self.text,))

    def __call__(self, values: Mapping[str, Any]) -> bool:
        """True when the point satisfies the constraint.

        >>> c = parse_constraint("units.mxu.rows * units.mxu.cols <= 4096")
        >>> c({"units.mxu.rows": 64, "units.mxu.cols": 64}), c({"units.mxu.rows": 128, "units.mxu.cols": 64})
        (True, False)
        """
        try:
            env = {v: values[n] for v, n in zip(self._vars, self.names)}
        except KeyError as e:
            raise ConstraintError(f"constraint {self.text!r}: no value for {e.args[0]}") from None
        try:
            return bool(eval(self._code, {"__builtins__": {}, **FUNCTIONS}, env))  # noqa: S307 (checked AST)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
            raise ConstraintError(f"constraint {self.text!r}: {e}") from None


def parse_constraint(text: str, file: str = "<space>", field: str = "constraints") -> Constraint:
    """Check and compile one constraint; a SpecError names what is not allowed."""
    names: list[str] = []

    def sub(m: re.Match) -> str:
        word = m.group(0)
        if word in _KEYWORDS or word in FUNCTIONS:
            return word
        if word not in names:
            names.append(word)
        return f"_v{names.index(word)}"

    parts = _STRING.split(text)  # odd items are string literals: leave them alone
    masked = "".join(p if i % 2 else _NAME.sub(sub, p) for i, p in enumerate(parts))
    try:
        tree = ast.parse(masked.strip(), mode="eval")
    except SyntaxError as e:
        raise SpecError(file, field, f"cannot parse {text!r}: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise SpecError(file, field, f"{text!r} uses {type(node).__name__}, which constraints do not allow",
                            allowed="arithmetic, comparisons, and/or/not, numbers, strings, "
                                    + ", ".join(FUNCTIONS))
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS
                                           or node.keywords):
            raise SpecError(file, field, f"{text!r} calls something other than a plain allowed function",
                            allowed=", ".join(FUNCTIONS))
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
            raise SpecError(file, field, f"{text!r}: constant {node.value!r} is not a number or string")
    if not isinstance(tree.body, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
        raise SpecError(file, field, f"{text!r} is not a comparison", allowed="e.g. 'area_mm2 <= 400'")
    if not names:
        raise SpecError(file, field, f"{text!r} names no parameter or output")
    code = compile(tree, "<constraint>", "eval")
    return Constraint(text, tuple(names), code, tuple(f"_v{i}" for i in range(len(names))))
