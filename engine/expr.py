"""The safe expression language of scenario files: Python's ``ast``, whitelisted, never eval'd.

``parse("2*w + 3*b", known)`` returns a small tree of ``Expr`` nodes (constants, names, op
applications) that the graph compiles. Only numbers, known names, the operators
``+ - * / ** @`` (and unary ``-``/``+``) and calls of the op table's functions are accepted;
everything else is refused with a message naming the file, the node and the offending text.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from .errors import ExpressionError
from .limits import MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_NESTING, MAX_EXPRESSION_OPERATIONS
from .ops import CONSTANTS, FUNCTIONS

MAX_LENGTH = MAX_EXPRESSION_LENGTH  # the name tests and older code know

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
        out: set[str] = set()
        stack = [self]
        while stack:  # no recursion: a sum of a thousand terms is a thousand levels deep
            e = stack.pop()
            if e.kind == "name":
                out.add(e.name)
            stack.extend(e.args)
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
    The text is measured against the limits of engine/limits.py before Python's parser sees
    it, and the tree is converted without recursion, so a long sum is as safe as a short one.
    """
    funcs = FUNCTIONS if functions is None else functions

    def fail(problem: str) -> ExpressionError:
        return ExpressionError(f"{source}: {where}: {problem} in {_excerpt(text)}")

    if not isinstance(text, str):
        raise ExpressionError(f"{source}: {where}: expected an expression string, got "
                              f"{_excerpt(text)}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{source}: {where}: expression longer than {MAX_LENGTH} "
                              f"characters (the limit; it has {len(text)})")
    if not text.strip():
        raise ExpressionError(f"{source}: {where}: empty expression")
    src = text.strip()
    _check_measure(*_measure(src), fail)
    try:
        with warnings.catch_warnings():  # a string's "\." warns (SyntaxWarning, shown on 3.12+)
            warnings.simplefilter("ignore")  # before the one-line error below refuses it
            tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise fail(f"invalid syntax{col} ({exc.msg})") from None
    except ValueError as exc:  # a NUL character, an integer of thousands of digits
        raise fail(f"invalid syntax ({exc})") from None
    except (RecursionError, MemoryError):
        raise fail("invalid syntax (too complex for Python's parser)") from None
    return _convert(tree.body, known, funcs, _Segments(src), fail)


def _excerpt(text: object, limit: int = 120) -> str:
    """``repr`` of the text, shortened in the middle when long: messages stay one short line."""
    r = repr(text)
    return r if len(r) <= limit else f"{r[:limit // 2]} ... {r[-limit // 2:]} ({len(r)} characters)"


# One token at a time, left to right: what counts is only how many operators, calls and open
# brackets the text has, never what it means (Python's parser decides that afterwards).
_TOKEN = re.compile(r"""
    (?P<number>(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?[jJ]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<string>[rRbBuUfF]{0,2}(?:'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?))
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<separator>[,:;])
  | (?P<space>\s+|\\\n|\#[^\n]*)
  | (?P<operator>\*\*|//|<<|>>|<=|>=|==|!=|->|:=|.)
""", re.VERBOSE | re.DOTALL)


def _measure(src: str) -> tuple[int, int]:
    """(operations, deepest bracket nesting) of an expression, counted on its tokens.

    An operation is an operator (``+ - * / ** @``, and anything else Python would parse as
    one), a function call, or a keyword. Every node of Python's tree above a leaf needs such
    a token or an open bracket, so the tree is at most ``operations + nesting + 1`` deep
    before the parser builds it. A string is one operation (the language has none).
    """
    ops = depth = deepest = 0
    prev = ""  # the kind of the previous token that is not space
    prev_text = ""
    for m in _TOKEN.finditer(src):
        kind = m.lastgroup
        if kind == "space":
            continue
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
            # a call (after a name or a closing bracket), a subscript or a literal
            if m.group() != "(" or prev == "close" or (prev == "name" and
                                                      not keyword.iskeyword(prev_text)):
                ops += 1
        elif kind == "close":
            depth -= 1
        elif kind in ("operator", "string") or (kind == "name" and keyword.iskeyword(m.group())):
            ops += 1
        prev, prev_text = kind, m.group()
    return ops, deepest


def _check_measure(ops: int, nesting: int, fail: Callable[[str], ExpressionError]) -> None:
    if nesting > MAX_EXPRESSION_NESTING:
        raise fail(f"brackets nested {nesting} deep (the limit is {MAX_EXPRESSION_NESTING})")
    if ops > MAX_EXPRESSION_OPERATIONS:
        raise fail(f"{ops} operators and calls (the limit is {MAX_EXPRESSION_OPERATIONS} per "
                   "expression: split it into named [graph] nodes)")


class _Segments:
    """The source text of each ast node (``ast.get_source_segment`` without re-splitting the
    text for every node, which made a long expression quadratic)."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.lines = [ln.encode("utf-8") for ln in _LINE_ENDS.split(src)]
        self.lines = [a + b for a, b in zip(self.lines[::2], self.lines[1::2] + [b""],
                                            strict=True)]

    def __call__(self, node: ast.AST) -> str:
        try:
            first, last = node.lineno - 1, node.end_lineno - 1
            col, end = node.col_offset, node.end_col_offset
        except AttributeError:
            return self.src
        if first == last:
            return self.lines[first][col:end].decode("utf-8", "replace")
        parts = [self.lines[first][col:], *self.lines[first + 1:last], self.lines[last][:end]]
        return b"".join(parts).decode("utf-8", "replace")


_LINE_ENDS = re.compile(r"(\r\n|\r|\n)")


def _convert(root: ast.AST, known: Collection[str], funcs: Mapping[str, object],
             seg: Callable[[ast.AST], str], fail: Callable[[str], ExpressionError]) -> Expr:
    """The whitelisted ast as an ``Expr`` tree, built with an explicit stack (no recursion).

    Each node is checked when first reached, in reading order, so the first offending node
    is the one reported; it is built once its children are.
    """
    done: list[Expr] = []  # finished sub-trees, in order
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    while stack:
        node, built = stack.pop()
        if built:
            done.append(_build(node, done, seg))
            continue
        leaf = _leaf(node, known, funcs, seg, fail)
        if leaf is not None:
            done.append(leaf)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node, funcs, seg, fail)))
    assert len(done) == 1
    return done[0]


def _leaf(node: ast.AST, known: Collection[str], funcs: Mapping[str, object],
          seg: Callable[[ast.AST], str], fail: Callable[[str], ExpressionError]) -> Expr | None:
    """A constant or a name as an Expr; None for an operation (checked by ``_children``)."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise fail(f"only numbers are allowed as constants, not {_excerpt(seg(node))}")
        try:
            return Expr("const", seg(node), value=float(v))
        except OverflowError:
            raise fail(f"number too large: {seg(node)[:40]}") from None
    if isinstance(node, ast.Name):
        if node.id in known:
            return Expr("name", node.id, name=node.id)
        if node.id in CONSTANTS:
            return Expr("const", node.id, value=CONSTANTS[node.id])
        if node.id in funcs:
            raise fail(f"'{node.id}' is a function: call it as {node.id}(...)")
        defined = ", ".join(sorted(known)) or "none"
        raise fail(f"unknown name '{node.id}' (defined names: {defined})")
    return None


def _children(node: ast.AST, funcs: Mapping[str, object], seg: Callable[[ast.AST], str],
              fail: Callable[[str], ExpressionError]) -> list[ast.AST]:
    """Check an operation node on its own (operator, callee, arity); return its operands."""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            hint = ""
            if isinstance(node.op, ast.BitXor):  # x^2 as written in prose: ^ is xor in Python
                hint = f" (use ** for powers: {_excerpt(seg(node).replace('^', '**'))[1:-1]})"
            raise fail(f"operator not allowed: {_excerpt(seg(node))}{hint}")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.UAdd | ast.USub):
            raise fail(f"operator not allowed: {_excerpt(seg(node))}")
        return [node.operand]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise fail(f"only the listed functions may be called, not {_excerpt(seg(node.func))}")
        fname = node.func.id
        if fname not in funcs:
            allowed = ", ".join(sorted(funcs))
            raise fail(f"call of '{fname}' is not allowed (functions: {allowed})")
        if node.keywords:
            raise fail(f"keyword arguments are not allowed: {_excerpt(seg(node))}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise fail(f"starred arguments are not allowed: {_excerpt(seg(node))}")
        arity = getattr(funcs[fname], "arity", -1)
        n = len(node.args)
        if (arity >= 0 and n != arity) or (arity < 0 and n == 0):
            want = f"{arity} argument{'s' if arity != 1 else ''}" if arity >= 0 else \
                "at least 1 argument"
            raise fail(f"{fname}() takes {want}, got {n}")
        return list(node.args)
    what = _REFUSED.get(type(node), type(node).__name__)
    raise fail(f"{what} not allowed: {_excerpt(seg(node))}")


def _build(node: ast.AST, done: list[Expr], seg: Callable[[ast.AST], str]) -> Expr:
    """The Expr of a checked operation node, taking its operands off the end of ``done``."""
    if isinstance(node, ast.BinOp):
        right, left = done.pop(), done.pop()
        return Expr("op", seg(node), name=_BINOPS[type(node.op)], args=(left, right))
    if isinstance(node, ast.UnaryOp):
        inner = done.pop()
        if isinstance(node.op, ast.UAdd):
            return inner
        if inner.kind == "const":
            return Expr("const", seg(node), value=-inner.value)
        return Expr("op", seg(node), name="neg", args=(inner,))
    assert isinstance(node, ast.Call)
    n = len(node.args)
    args = tuple(done[len(done) - n:])
    del done[len(done) - n:]
    return Expr("op", seg(node), name=node.func.id, args=args)


def evaluate(expr: Expr, env: Mapping[str, object], apply: Callable[..., object]) -> object:
    """Evaluate a parsed tree directly: ``apply(op_name, *args)`` computes each op application.

    Operands are computed left to right before their operation (the order in which the data
    generator draws its random numbers), with an explicit stack instead of recursion.
    """
    values: list[object] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e.kind == "const":
            values.append(e.value)
        elif e.kind == "name":
            values.append(env[e.name])
        elif ready:
            n = len(e.args)
            args = values[len(values) - n:]
            del values[len(values) - n:]
            values.append(apply(e.name, *args))
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in reversed(e.args))
    return values[0]
