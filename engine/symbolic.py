"""Derivatives written as formulas, for the explain panel: dz/db = 3*y + 2*x = 3*9 + 2*18 = 63.

The graph computes gradients numerically; this module writes the same derivative the way a
tutorial does, in terms of the named nodes, by differentiating each node's parsed expression
and chaining through the named nodes. Only scalar elementary operations have a formula here;
for anything else (sums over data, losses, matrix products) ``total_derivative`` returns None
and the view shows the numeric chain-rule terms instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from .expr import Expr
from .graph import Graph
from .limits import MAX_FORMULA_NODES

ZERO = Expr("const", "0", value=0.0)
ONE = Expr("const", "1", value=1.0)


def const(v: float) -> Expr:
    return Expr("const", f"{v:g}", value=float(v))


def name(n: str) -> Expr:
    return Expr("name", n, name=n)


def op(o: str, *args: Expr) -> Expr:
    return simplify(Expr("op", "", name=o, args=args))


def _is(e: Expr, v: float) -> bool:
    return e.kind == "const" and e.value == v


def _neg(e: Expr) -> bool:
    return e.kind == "op" and e.name == "neg"


def simplify(e: Expr) -> Expr:
    """Fold constants and drop the zeros and ones the chain rule leaves behind."""
    if e.kind != "op":
        return e
    a = e.args
    if all(x.kind == "const" for x in a) and e.name in _FOLD:
        try:
            return const(_FOLD[e.name](*(x.value for x in a)))
        except (ArithmeticError, ValueError):
            return e
    if e.name == "add":
        if _is(a[0], 0):
            return a[1]
        if _is(a[1], 0):
            return a[0]
        if _neg(a[1]):  # a + (-b) -> a - b
            return op("sub", a[0], a[1].args[0])
        if a[0].kind == "const" and a[1].kind != "const":  # constants last: y - 1
            return op("add", a[1], a[0])
        if a[1].kind == "const" and a[1].value < 0:
            return op("sub", a[0], const(-a[1].value))
    if e.name == "sub":
        if _is(a[1], 0):
            return a[0]
        if _is(a[0], 0):
            return op("neg", a[1])
        if _neg(a[1]):  # a - (-b) -> a + b
            return op("add", a[0], a[1].args[0])
    if e.name == "mul":
        if _is(a[0], 0) or _is(a[1], 0):
            return ZERO
        if _is(a[0], 1):
            return a[1]
        if _is(a[1], 1):
            return a[0]
        if _is(a[0], -1):
            return op("neg", a[1])
        if _neg(a[0]):  # (-a)*b -> -(a*b)
            return op("neg", op("mul", a[0].args[0], a[1]))
        if _neg(a[1]):  # a*(-b) -> -(a*b)
            return op("neg", op("mul", a[0], a[1].args[0]))
        if a[1].kind == "const" and a[0].kind != "const":  # constants first: 3*y, not y*3
            return op("mul", a[1], a[0])
        if a[0].kind == "const" and a[1].kind == "op" and a[1].name == "mul" \
                and a[1].args[0].kind == "const":  # 2*(3*x) -> 6*x
            return op("mul", const(a[0].value * a[1].args[0].value), a[1].args[1])
    if e.name == "div":
        if _is(a[0], 0):
            return ZERO
        if _is(a[1], 1):
            return a[0]
    if e.name == "neg" and _neg(a[0]):
        return a[0].args[0]
    if e.name == "neg" and a[0].kind == "op" and a[0].name == "mul" \
            and a[0].args[0].kind == "const":  # -(2*x) -> -2*x
        return op("mul", const(-a[0].args[0].value), a[0].args[1])
    if e.name == "pow" and _is(a[1], 1):
        return a[0]
    return e


_FOLD: dict[str, Callable[..., float]] = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x**y, "neg": lambda x: -x,
}


def derivative(e: Expr, wrt: str) -> Expr | None:
    """d e / d wrt as a formula, treating every other name as a constant; None if unknown.

    The tree is walked with an explicit stack (children before their parent), not recursion.
    """
    done: list[Expr | None] = []
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        x, ready = stack.pop()
        if x.kind == "const":
            done.append(ZERO)
        elif x.kind == "name":
            done.append(ONE if x.name == wrt else ZERO)
        elif ready:
            n = len(x.args)
            ds = done[len(done) - n:]
            del done[len(done) - n:]
            done.append(_rule(x, ds))
        else:
            stack.append((x, True))
            stack.extend((a, False) for a in reversed(x.args))
    return done[0]


def _rule(e: Expr, ds: list[Expr | None]) -> Expr | None:
    """The derivative of the operation ``e`` given its operands' derivatives ``ds``."""
    a = e.args
    if any(d is None for d in ds):
        return None
    if all(_is(d, 0) for d in ds):
        return ZERO
    n = e.name
    if n == "add":
        return op("add", ds[0], ds[1])
    if n == "sub":
        return op("sub", ds[0], ds[1])
    if n == "mul":  # (ab)' = a'b + ab'
        return op("add", op("mul", ds[0], a[1]), op("mul", a[0], ds[1]))
    if n == "div":  # (a/b)' = a'/b - a b'/b^2
        return op("sub", op("div", ds[0], a[1]),
                  op("div", op("mul", a[0], ds[1]), op("pow", a[1], const(2))))
    if n == "neg":
        return op("neg", ds[0])
    if n == "pow":
        if a[1].kind != "const":
            return None
        c = a[1].value  # (a^c)' = c a^(c-1) a'
        return op("mul", op("mul", const(c), op("pow", a[0], const(c - 1))), ds[0])
    unary = {
        "exp": lambda x: op("exp", x),
        "log": lambda x: op("div", ONE, x),
        "sqrt": lambda x: op("div", ONE, op("mul", const(2), op("sqrt", x))),
        "sin": lambda x: op("cos", x),
        "cos": lambda x: op("neg", op("sin", x)),
        "tanh": lambda x: op("sub", ONE, op("pow", op("tanh", x), const(2))),
        "sigmoid": lambda x: op("mul", op("sigmoid", x), op("sub", ONE, op("sigmoid", x))),
    }
    if n in unary:
        return op("mul", unary[n](a[0]), ds[0])
    return None


def size(e: Expr, limit: int = MAX_FORMULA_NODES) -> int:
    """The number of nodes of ``e`` as printed (a shared sub-formula counts each time it is
    written), counted up to ``limit + 1``: enough to tell a formula too long to show."""
    n, stack = 0, [e]
    while stack and n <= limit:
        x = stack.pop()
        n += 1
        stack.extend(x.args)
    return n


def total_derivative(graph: Graph, output: str, param: str) -> Expr | None:
    """d output / d param through the named nodes: sum over refs r of (d node/d r) * D(r).

    The result is written in the names of the nodes (dz/db = 3*y + 2*x), not expanded down
    to the parameters. None when a step has no formula, or when the formula (or a node's own
    expression) has more than MAX_FORMULA_NODES terms: a formula that long explains nothing.
    The named nodes are taken in evaluation order, so no recursion follows a long chain.
    """
    trees = graph.trees
    if output not in trees:
        return ONE if output == param else ZERO
    formulas: dict[str, Expr | None] = {param: ONE}  # D(n) of each [graph] node so far
    for n in graph.order:
        total: Expr | None = ZERO
        for r in sorted(trees[n].names(), key=lambda x: graph.index[x]):
            inner = formulas.get(r, ZERO)  # a parameter other than ``param``, or data: 0
            if inner is None:
                total = None
                break
            if _is(inner, 0):
                continue
            local = derivative(trees[n], r) if size(trees[n]) <= MAX_FORMULA_NODES else None
            if local is None:
                total = None
                break
            total = op("add", total, op("mul", local, inner))
        if total is not None and size(total) > MAX_FORMULA_NODES:
            total = None
        formulas[n] = total
        if n == output:
            break
    return formulas[output]


_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYM = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "**"}


def to_text(e: Expr, values: Mapping[str, float] | None = None,
            num: Callable[[float], str] = lambda v: f"{v:g}") -> str:
    """The formula as text; with ``values``, each name replaced by its number.

    Written with an explicit stack (operands before their operation), so that a formula as
    long as MAX_FORMULA_NODES is as safe to print as a short one.
    """
    out: list[str] = []
    # (node, parent precedence, right operand?, parent op, operands done?)
    stack: list[tuple[Expr, int, bool, str, bool]] = [(e, 0, False, "", False)]
    while stack:
        x, parent, right, parent_op, ready = stack.pop()
        if x.kind == "const":
            s = f"{x.value:g}" if math.isfinite(x.value) else str(x.value)
            out.append(f"({s})" if x.value < 0 and parent else s)
            continue
        if x.kind == "name":
            if values is None:
                out.append(x.name)
                continue
            s = num(values[x.name])
            out.append(f"({s})" if s.startswith("-") and parent else s)
            continue
        p = _PREC.get(x.name)
        if not ready:
            stack.append((x, parent, right, parent_op, True))
            if p is None:  # a function call: its arguments stand alone
                kids = [(a, 0, False, "", False) for a in x.args]
            elif x.name == "neg":
                kids = [(x.args[0], p, False, "neg", False)]
            else:
                kids = [(x.args[0], p, False, x.name, False), (x.args[1], p, True, x.name, False)]
            stack.extend(reversed(kids))
            continue
        k = len(x.args)
        parts = out[len(out) - k:]
        del out[len(out) - k:]
        if p is None:
            out.append(f"{x.name}({', '.join(parts)})")
            continue
        s = "-" + parts[0] if x.name == "neg" else parts[0] + _SYM[x.name] + parts[1]
        # parentheses when the parent binds tighter, on the right of - and /, and around a
        # quotient inside a product; a product inside a product needs none (a*b*c)
        if p < parent or (x.name == "div" and parent == 2) or \
                (right and p == parent and parent_op in ("sub", "div")):
            s = f"({s})"
        out.append(s)
    return out[0]
