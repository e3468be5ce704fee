"""The safe expression language of scenario files: Python's ``ast``, whitelisted, never eval'd.

``parse("2*w + 3*b", known)`` returns a small tree of ``Expr`` nodes (constants, names, op
applications) that the graph compiles. Only numbers, known names, the operators
``+ - * / ** @`` (and unary ``-``/``+``) and calls of the op table's functions are accepted;
everything else is refused with a message naming the file, the node and the offending text.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from .errors import ExpressionError
from .ops import CONSTANTS, FUNCTIONS

MAX_LENGTH = 10_000  # characters; a scenario expression longer than this is surely a mistake

_BINOPS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
    ast.MatMult: "matmul",
}

_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "boolean operators",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment expressions",
    ast.Starred: "starred arguments",
    ast.List: "list literals",
    ast.Tuple: "tuples",
    ast.Dict: "dict literals",
    ast.Set: "set literals",
    ast.JoinedStr: "strings",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.Slice: "slices",
}


@dataclass(frozen=True)
class Expr:
    """One node of a parsed expression: a constant, a name, or an op applied to children."""

    kind: str  # "const", "name" or "op"
    text: str  # the source text of this sub-expression, as the person wrote it
    value: float = 0.0  # for "const"
    name: str = ""  # for "name"; the op name for "op"
    args: tuple[Expr, ...] = ()

    def names(self) -> set[str]:
        """Every name this expression refers to."""
        if self.kind == "name":
            return {self.name}
        out: set[str] = set()
        for a in self.args:
            out |= a.names()
        return out


def parse(
    text: str,
    known: Collection[str],
    *,
    source: str = "<expression>",
    where: str = "expression",
    functions: Mapping[str, object] | None = None,
) -> Expr:
    """Parse ``text`` into an ``Expr`` tree, refusing anything outside the whitelist.

    ``known`` are the names the expression may use; ``where`` names the key in messages
    (e.g. "[graph] node 'z'"); ``functions`` overrides the callable names (name -> object with
    an ``arity`` attribute), which the data generator uses for ``uniform(...)`` and friends.
    """
    funcs = FUNCTIONS if functions is None else functions

    def fail(problem: str) -> ExpressionError:
        return ExpressionError(f"{source}: {where}: {problem} in {text!r}")

    if not isinstance(text, str):
        raise ExpressionError(f"{source}: {where}: expected an expression string, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise fail(f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError(f"{source}: {where}: empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise fail(f"invalid syntax{col} ({exc.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise fail("expression nested too deeply") from None
    src = text.strip()

    def seg(node: ast.AST) -> str:
        return ast.get_source_segment(src, node) or src

    def conv(node: ast.AST) -> Expr:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise fail(f"only numbers are allowed as constants, not {seg(node)!r}")
            try:
                return Expr("const", seg(node), value=float(v))
            except OverflowError:
                raise fail(f"number too large: {seg(node)}") from None
        if isinstance(node, ast.Name):
            if node.id in known:
                return Expr("name", node.id, name=node.id)
            if node.id in CONSTANTS:
                return Expr("const", node.id, value=CONSTANTS[node.id])
            if node.id in funcs:
                raise fail(f"'{node.id}' is a function: call it as {node.id}(...)")
            defined = ", ".join(sorted(known)) or "none"
            raise fail(f"unknown name '{node.id}' (defined names: {defined})")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                hint = ""
                if isinstance(node.op, ast.BitXor):  # x^2 as written in prose: ^ is xor in Python
                    hint = f" (use ** for powers: {seg(node).replace('^', '**')})"
                raise fail(f"operator not allowed: {seg(node)!r}{hint}")
            return Expr("op", seg(node), name=op, args=(conv(node.left), conv(node.right)))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return conv(node.operand)
            if isinstance(node.op, ast.USub):
                inner = conv(node.operand)
                if inner.kind == "const":
                    return Expr("const", seg(node), value=-inner.value)
                return Expr("op", seg(node), name="neg", args=(inner,))
            raise fail(f"operator not allowed: {seg(node)!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise fail(f"only the listed functions may be called, not {seg(node.func)!r}")
            fname = node.func.id
            if fname not in funcs:
                allowed = ", ".join(sorted(funcs))
                raise fail(f"call of '{fname}' is not allowed (functions: {allowed})")
            if node.keywords:
                raise fail(f"keyword arguments are not allowed: {seg(node)!r}")
            for a in node.args:
                if isinstance(a, ast.Starred):
                    raise fail(f"starred arguments are not allowed: {seg(node)!r}")
            arity = getattr(funcs[fname], "arity", -1)
            n = len(node.args)
            if (arity >= 0 and n != arity) or (arity < 0 and n == 0):
                want = f"{arity} argument{'s' if arity != 1 else ''}" if arity >= 0 else \
                    "at least 1 argument"
                raise fail(f"{fname}() takes {want}, got {n}")
            return Expr("op", seg(node), name=fname, args=tuple(conv(a) for a in node.args))
        what = _REFUSED.get(type(node), type(node).__name__)
        raise fail(f"{what} not allowed: {seg(node)!r}")

    try:
        return conv(tree.body)
    except RecursionError:
        raise fail("expression nested too deeply") from None


def evaluate(expr: Expr, env: Mapping[str, object], apply: Callable[..., object]) -> object:
    """Evaluate a parsed tree directly: ``apply(op_name, *args)`` computes each op application."""
    if expr.kind == "const":
        return expr.value
    if expr.kind == "name":
        return env[expr.name]
    return apply(expr.name, *(evaluate(a, env, apply) for a in expr.args))
