"""A reverse-mode autodiff graph of named nodes, built and checked once, then re-run.

``Graph.build(params, data, nodes)`` parses every expression, checks names and cycles, and
compiles the whole graph into a flat list of instructions in topological order. Each iteration
then only runs that list forwards (``forward``) and backwards (``gradients``): no objects are
created per operation, which is what makes a scalar scenario cheap to iterate thousands of
times. Gradients flowing into a node along several paths add up; broadcasting is undone in the
backward pass by summing over the broadcast axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ExpressionError, NumericError, ScenarioError
from .expr import Expr, parse
from .limits import MAX_GRAPH_NODES
from .ops import BATCHED, FUNCTIONS, NO_GRAD_INPUTS, OPS, Op, const_operand, const_pow
from .shapes import check_values

Value = Any  # float | np.ndarray

_IDENTITY = Op("id", 1, lambda a: a, lambda g, o, a: (g,), "", "d a/da = 1")


@dataclass
class Node:
    """One node: a parameter, a data array, a constant or an operation on other nodes."""

    index: int
    label: str  # the given name, or the source text of an anonymous sub-expression
    kind: str  # "param", "data", "const" or "op"
    named: bool  # params, data and [graph] nodes are named; sub-expressions are not
    owner: int  # the named node whose expression created this node (itself if named)
    op: Op | None = None
    inputs: tuple[int, ...] = ()
    expr: str = ""  # for named op nodes: the expression as written
    refs: tuple[str, ...] = field(default=())  # named nodes the expression refers to directly


@dataclass(frozen=True)
class Edge:
    """One chain-rule term of the backward pass between two named nodes."""

    parent: str  # the node the gradient comes from (closer to the output)
    child: str  # the node it flows into
    upstream: Value  # d output / d parent
    local: Value  # d parent / d child (through the parent's own expression)
    term: Value  # upstream * local
    total: Value  # d output / d child after adding this term


def _unbroadcast(g: Value, like: Value) -> Value:
    """Sum ``g`` over the axes along which ``like`` was broadcast, giving ``like``'s shape."""
    if type(like) is float or np.ndim(like) == 0:
        return float(np.sum(g))
    shape = np.shape(like)
    g = np.asarray(g)
    if g.shape == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return np.broadcast_to(g, shape)


def _numeric_message(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, OverflowError):
        return "overflow (a value became infinite)"
    return str(exc) or "math domain error"


def _is_finite(v: Value) -> bool:
    if type(v) is float:
        return math.isfinite(v)
    return bool(np.all(np.isfinite(v)))


def as_value(v: Any) -> Value:
    """A parameter or data value as the graph holds it: a float or a float64 array."""
    if isinstance(v, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(v, int | float | np.floating | np.integer):
        return float(v)
    arr = np.array(v, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


class Graph:
    """Named nodes compiled once into instructions; forward and backward re-run them."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.index: dict[str, int] = {}
        self.params: list[str] = []
        self.data: list[str] = []
        self.order: list[str] = []  # named [graph] nodes in topological order
        self.trees: dict[str, Expr] = {}  # each [graph] node's parsed expression
        self._vals: list[Value] = []
        self._prog: list[tuple[int, Any, tuple[int, ...]]] = []
        self._depends_on_param: list[bool] = []
        self._bprog_cache: dict[int, list[tuple[int, Any, tuple[int, ...], tuple[int, ...]]]] = {}
        self._reach_cache: dict[int, list[bool]] = {}
        self._spans: dict[int, tuple[int, int]] = {}  # named node -> its range of _prog
        self._fast: list[tuple[int, Any, Any, int]] | None = None
        self._fast_back: dict[int, list[tuple[Any, ...]]] = {}
        self._scalar = True  # every leaf is a float: no numpy, no errstate, no unbroadcasting
        self.source = "<graph>"

    # --- construction -----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        params: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
        nodes: Mapping[str, str] | None = None,
        source: str = "<graph>",
    ) -> Graph:
        """Parse, check and compile a graph; raise ScenarioError naming file and node."""
        g = cls()
        g.source = source
        data = data or {}
        nodes = nodes or {}
        for kind, table in (("param", params), ("data", data)):
            for name, v in table.items():
                if name in g.index:
                    raise ScenarioError(f"{source}: name '{name}' is defined twice")
                g._add(Node(len(g.nodes), name, kind, True, len(g.nodes)), as_value(v))
                (g.params if kind == "param" else g.data).append(name)
        size = len(g.nodes) + len(nodes)
        if size > MAX_GRAPH_NODES:
            raise ScenarioError(f"{source}: {size} parameters, data and [graph] nodes (the limit "
                                f"is {MAX_GRAPH_NODES} nodes in a graph)")
        for name in nodes:
            if name in g.index:
                raise ScenarioError(
                    f"{source}: [graph] node '{name}' has the name of a {g.nodes[g.index[name]].kind}"
                )
            if name in FUNCTIONS:
                raise ScenarioError(f"{source}: [graph] node '{name}': '{name}' is a function name")
        known = set(g.index) | set(nodes)
        trees: dict[str, Expr] = {}
        for name, text in nodes.items():
            trees[name] = parse(text, known, source=source, where=f"[graph] node '{name}'")
        g.trees = trees
        g.order = _topological(trees, nodes, source)
        for name in g.order:
            g._compile_named(name, nodes[name], trees[name])
            if len(g.nodes) > MAX_GRAPH_NODES:
                raise ScenarioError(
                    f"{source}: [graph] node '{name}': the graph has grown to {len(g.nodes)} "
                    f"nodes with the sub-expressions (the limit is {MAX_GRAPH_NODES})"
                )
        check_values(g)  # before anything is computed: no node may ask for gigabytes
        g._scalar = all(type(g._vals[n.index]) is float for n in g.nodes if n.kind != "op")
        g._depends_on_param = [False] * len(g.nodes)
        for n in g.nodes:
            g._depends_on_param[n.index] = n.kind == "param" or any(
                g._depends_on_param[j] for j in n.inputs
            )
        return g

    def _add(self, node: Node, value: Value = None) -> int:
        self.nodes.append(node)
        self._vals.append(value)
        if node.named:
            self.index[node.label] = node.index
        return node.index

    def _compile_named(self, name: str, text: str, tree: Expr) -> None:
        start = len(self._prog)
        self._compile_expression(name, text, tree)
        if name in self.index:  # the instructions of its own expression, for local_gradients
            self._spans[self.index[name]] = (start, len(self._prog))

    def _compile_expression(self, name: str, text: str, tree: Expr) -> None:
        owner = len(self.nodes) if tree.kind != "op" else -1
        if tree.kind == "const":
            self._add(Node(len(self.nodes), name, "const", True, owner, expr=text), tree.value)
            return
        if tree.kind == "name":
            i = self._add(Node(len(self.nodes), name, "op", True, owner, _IDENTITY,
                               (self.index[tree.name],), text, (tree.name,)))
            self._prog.append((i, _IDENTITY.forward, (self.index[tree.name],)))
            return
        # the named node is created last, so reserve its owner index by compiling children first
        first = len(self.nodes)
        root = self._compile_tree(tree, owner=-1)
        node = self.nodes[root]
        node.label, node.named, node.expr = name, True, text
        node.refs = tuple(sorted(tree.names(), key=lambda n: self.index[n]))
        self.index[name] = root
        for n in self.nodes[first:]:
            n.owner = root

    def _compile_tree(self, root: Expr, owner: int) -> int:
        """Add the nodes of one expression tree (children first, left to right); return the
        root's index. An explicit stack, not recursion: a tree may be a thousand levels deep."""
        done: list[int] = []  # node indices of finished sub-trees, in order
        stack: list[tuple[Expr, Op | None, int]] = [(root, None, 0)]
        while stack:
            t, op, n = stack.pop()
            if op is not None:  # its n operands are compiled: add the operation itself
                ins = tuple(done[len(done) - n:])
                del done[len(done) - n:]
                i = self._add(Node(len(self.nodes), t.text, "op", False, owner, op, ins))
                self._prog.append((i, op.forward, ins))
                done.append(i)
                continue
            if t.kind == "name":
                done.append(self.index[t.name])
                continue
            if t.kind == "const":
                done.append(self._add(Node(len(self.nodes), t.text, "const", False, owner),
                                      t.value))
                continue
            op, operands = self._operation(t)
            stack.append((t, op, len(operands)))
            stack.extend((a, None, 0) for a in reversed(operands))
        return done[0]

    @staticmethod
    def _operation(t: Expr) -> tuple[Op, tuple[Expr, ...]]:
        """The op an expression node compiles to and the operands that become inputs: a
        constant exponent or operand is folded into a unary op (w**2, 2*w) when it can be."""
        op = OPS[t.name]
        if op.name == "pow" and t.args[1].kind == "const":
            fwd, bwd = const_pow(t.args[1].value)
            return Op(f"pow{t.args[1].value:g}", 1, fwd, bwd, "**", OPS["pow"].derivative), \
                (t.args[0],)
        if len(t.args) == 2 and (t.args[0].kind == "const") != (t.args[1].kind == "const"):
            left = t.args[0].kind == "const"
            c, other = (t.args[0], t.args[1]) if left else (t.args[1], t.args[0])
            special = const_operand(op.name, c.value, left)
            if special is not None:
                return Op(op.name, 1, special[0], special[1], op.symbol, op.derivative), (other,)
        return op, t.args

    # --- values -----------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every named node: parameters, data, then [graph] nodes in evaluation order."""
        return self.params + self.data + self.order

    def set_value(self, name: str, value: Any) -> None:
        """Set a parameter (or data array) to a new value; call ``forward`` afterwards."""
        i = self.index[name]
        if self.nodes[i].kind not in ("param", "data"):
            raise KeyError(f"'{name}' is computed, not set")
        self._vals[i] = value if isinstance(value, np.ndarray) and value.dtype.kind == "f" \
            else as_value(value)
        if type(self._vals[i]) is not float:
            self._scalar = False
        elif not self._scalar:
            self._scalar = all(type(self._vals[n.index]) is float
                               for n in self.nodes if n.kind != "op")

    def value(self, name: str) -> Value:
        """The current value of a named node (after ``forward``)."""
        return self._vals[self.index[name]]

    def values(self, names: Iterable[str] | None = None) -> dict[str, Value]:
        """Current values of the given named nodes (all named nodes by default)."""
        return {n: self._vals[self.index[n]] for n in (names or self.names())}

    def forward(self) -> None:
        """Evaluate every node in topological order.

        Raises NumericError naming the node where a scalar computation divides by zero or
        leaves its domain (log, sqrt, a fractional power of a negative number) or where
        ``exp`` overflows. Other overflows give inf, and arrays turn every such case into
        inf/nan: ``first_nonfinite`` names the node where that first happened.
        """
        vals = self._vals
        try:
            if self._scalar:
                self._run_forward(vals)
            else:
                with np.errstate(all="ignore"):
                    self._run_forward(vals)
        except (ArithmeticError, ValueError) as exc:
            i = self._failing_instruction()
            node = self.nodes[i]
            if isinstance(exc, ValueError) and any(
                isinstance(vals[j], np.ndarray) for j in node.inputs
            ):
                shapes = ", ".join(str(np.shape(vals[j])) for j in node.inputs)
                raise ScenarioError(
                    f"{self.source}: [graph] node '{self.describe(i)}': shapes {shapes} do not "
                    f"fit together ({exc})"
                ) from None
            raise NumericError(self.describe(i), _numeric_message(exc)) from exc

    def _run_forward(self, vals: list[Value]) -> None:
        # (node, forward, first input, second input or -1 for unary or -2 for n-ary)
        fast = self._fast
        if fast is None:
            fast = self._fast = [
                (i, f, ins[0], ins[1]) if len(ins) == 2 else
                (i, f, ins[0], -1) if len(ins) == 1 else (i, f, ins, -2)
                for i, f, ins in self._prog
            ]
        for i, f, a, b in fast:
            if b >= 0:
                vals[i] = f(vals[a], vals[b])
            elif b == -1:
                vals[i] = f(vals[a])
            else:
                vals[i] = f(*[vals[j] for j in a])

    def _failing_instruction(self) -> int:
        """Re-run the program one instruction at a time to find the one that raises."""
        vals = self._vals
        with np.errstate(all="ignore"):
            for i, f, ins in self._prog:
                try:
                    vals[i] = f(*[vals[j] for j in ins])
                except (ArithmeticError, ValueError):
                    return i
        return -1

    def describe(self, i: int) -> str:
        """A node's label, with its named owner for a sub-expression: "2*w (in x)"."""
        n = self.nodes[i]
        if n.named or n.owner < 0:
            return n.label
        return f"{n.label} (in {self.nodes[n.owner].label})"

    def first_nonfinite(self) -> str | None:
        """The first node (in evaluation order) whose value holds a NaN or an infinity."""
        for n in self.nodes:
            v = self._vals[n.index]
            if v is not None and not _is_finite(v):
                return self.describe(n.index)
        return None

    # --- gradients --------------------------------------------------------------------

    def _backward_program(self, out: int) -> list[tuple[int, Any, tuple[int, ...], tuple[int, ...]]]:
        prog = self._bprog_cache.get(out)
        if prog is not None:
            return prog
        needed = [False] * len(self.nodes)
        needed[out] = True
        prog = []
        for i, _f, ins in reversed(self._prog):
            if i > out or not needed[i]:
                continue
            node = self.nodes[i]
            skip = NO_GRAD_INPUTS.get(node.op.name, ())
            want = tuple(
                k for k, j in enumerate(ins) if self._depends_on_param[j] and k not in skip
            )
            if not want:
                continue
            for k in want:
                needed[ins[k]] = True
            prog.append((i, node.op.backward, ins, want))
        self._bprog_cache[out] = prog
        self._reach_cache[out] = needed
        return prog

    def backward(self, output: str, seed: Value = 1.0) -> list[Value]:
        """d output / d node for every node (None where the output does not depend on it).

        Call ``forward`` first. Contributions along different paths are added.
        """
        out = self.index[output]
        grads = self._backward(out, seed)
        reach = self._reach_cache[out]
        return [g if r else None for g, r in zip(grads, reach, strict=True)]

    def _backward(self, out: int, seed: Value) -> list[Value]:
        prog = self._backward_program(out)
        vals = self._vals
        try:
            if self._scalar:
                # all floats: start every gradient at 0.0 and just add (no None, no shapes)
                grads: list[Value] = [0.0] * len(self.nodes)
                grads[out] = seed
                fast = self._fast_back.get(out)
                if fast is None:
                    fast = self._fast_back[out] = [
                        (i, bwd, ins[0], ins[1], 0 in want, 1 in want) if len(ins) == 2 else
                        (i, bwd, ins[0], -1, True, False) if len(ins) == 1 else
                        (i, bwd, ins, -2, want, False)
                        for i, bwd, ins, want in prog
                    ]
                for i, bwd, a, b, wa, wb in fast:
                    if b >= 0:
                        ga, gb = bwd(grads[i], vals[i], vals[a], vals[b])
                        if wa:
                            grads[a] += ga
                        if wb:
                            grads[b] += gb
                    elif b == -1:
                        grads[a] += bwd(grads[i], vals[i], vals[a])[0]
                    else:
                        local = bwd(grads[i], vals[i], *[vals[j] for j in a])
                        for k in wa:
                            grads[a[k]] += local[k]
                return grads
            grads = [None] * len(self.nodes)
            grads[out] = seed
            with np.errstate(all="ignore"):
                for i, bwd, ins, want in prog:
                    g = grads[i]
                    if g is None:
                        continue
                    local = bwd(g, vals[i], *[vals[j] for j in ins])
                    for k in want:
                        j = ins[k]
                        gj = local[k]
                        if type(gj) is not float and np.shape(gj) != np.shape(vals[j]):
                            gj = _unbroadcast(gj, vals[j])
                        prev = grads[j]
                        grads[j] = gj if prev is None else prev + gj
            return grads
        except (ArithmeticError, ValueError) as exc:
            raise NumericError(self.nodes[out].label, "gradient: " + _numeric_message(exc)) \
                from exc

    def gradients(self, output: str, wrt: Iterable[str] | None = None) -> dict[str, Value]:
        """d output / d p for the given parameters (all by default); 0.0 where unconnected."""
        out = self.index[output]
        grads = self._backward(out, 1.0)
        if self._scalar:
            index = self.index
            return {name: grads[index[name]] for name in (wrt if wrt is not None else self.params)}
        result: dict[str, Value] = {}
        for name in wrt if wrt is not None else self.params:
            g = grads[self.index[name]]
            if g is None:
                v = self._vals[self.index[name]]
                g = 0.0 if type(v) is float else np.zeros_like(v)
            elif isinstance(g, np.ndarray) and not g.flags.writeable:
                g = np.array(g)
            result[name] = g
        return result

    def named_gradients(self, output: str) -> dict[str, Value]:
        """d output / d node for every named node (None where there is no path)."""
        grads = self.backward(output)
        return {n: grads[self.index[n]] for n in self.names()}

    # --- the chain rule between named nodes, for the explain panel ----------------------

    def local_gradients(self, name: str) -> dict[str, Value]:
        """d name / d ref for each named node its expression refers to, at the current point.

        The backward pass runs only through ``name``'s own sub-expression, stopping at other
        named nodes, so this is the "local derivative" a tutorial writes on an edge (dx/db = 3).
        """
        root = self.index[name]
        node = self.nodes[root]
        if node.kind != "op":
            return {}
        vals = self._vals
        grads: dict[int, Value] = {root: 1.0}
        result: dict[str, Value] = {}
        start, end = self._spans.get(root, (0, len(self._prog)))
        with np.errstate(all="ignore"):
            for i, _f, ins in reversed(self._prog[start:end]):
                if i not in grads:  # only root's own sub-expression gets a gradient
                    continue
                n = self.nodes[i]
                local = n.op.backward(grads[i], vals[i], *[vals[j] for j in ins])
                skip = NO_GRAD_INPUTS.get(n.op.name, ())
                for k, j in enumerate(ins):
                    if k in skip or local[k] is None:
                        continue
                    gj = local[k]
                    if type(gj) is not float and np.shape(gj) != np.shape(vals[j]):
                        gj = _unbroadcast(gj, vals[j])
                    child = self.nodes[j]
                    if child.named:
                        result[child.label] = result[child.label] + gj if child.label in result \
                            else gj
                    elif child.kind == "op":
                        grads[j] = grads[j] + gj if j in grads else gj
        # in the order the expression's names are defined (w before b), not the order visited
        return {r: result[r] for r in node.refs if r in result}

    def walkthrough(self, output: str) -> list[Edge]:
        """The backward pass between named nodes, one chain-rule term per edge, in order.

        A node is visited once every node that uses it has been (so its total is complete),
        and among those ready, in reading order. For target-z: dz/dx = y, dz/dy = x, then
        dz/dw += dz/dx * dx/dw, dz/db += dz/dx * dx/db = 9 * 3 = 27,
        dz/db += dz/dy * dy/db = 18 * 2 = 36, total 63.
        """
        refs: dict[str, list[str]] = {}
        seen, stack = {output}, [output]
        while stack:  # the named nodes the output depends on, with their direct references
            name = stack.pop()
            node = self.nodes[self.index[name]]
            refs[name] = [r for r in node.refs if self._depends_on_param[self.index[r]]] \
                if node.kind == "op" else []
            for r in refs[name]:
                if r not in seen:
                    seen.add(r)
                    stack.append(r)
        users = dict.fromkeys(refs, 0)
        for name in refs:
            for r in refs[name]:
                users[r] += 1
        totals: dict[str, Value] = {output: 1.0}
        edges: list[Edge] = []
        queue = [output]
        while queue:
            name = queue.pop(0)
            upstream = totals[name]
            local = self.local_gradients(name) if refs[name] else {}
            for child in refs[name]:
                if child not in local:
                    continue
                term = upstream * local[child]
                totals[child] = totals[child] + term if child in totals else term
                edges.append(Edge(name, child, upstream, local[child], term, totals[child]))
                users[child] -= 1
                if users[child] == 0:
                    queue.append(child)
        return edges

    # --- many points at once, for the loss landscape ----------------------------------

    def evaluate_batched(self, output: str, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """The output at M points at once: ``params`` maps names to arrays of shape (M,).

        Every leaf gets a leading grid axis (size M for the given parameters, 1 otherwise) and
        reductions (sum, mean, the losses) reduce over the data axes only, so the result has
        shape (M,). Raises ExpressionError for graphs that cannot be evaluated this way
        (matrix products, the fused softmax cross-entropy).
        """
        with np.errstate(all="ignore"):
            return self.batched(output, list(params))(params)

    def batched(self, output: str, names: Sequence[str]
                ) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
        """``evaluate_batched`` prepared once for repeated calls (the landscape's chunks).

        The returned function does not silence numpy's floating-point warnings itself: call it
        inside ``np.errstate(all="ignore")``.
        """
        rank = 1 + max([np.ndim(self._vals[self.index[d]]) for d in self.data] + [0])
        base: list[Value] = list(self._vals)
        for n in self.nodes:
            if n.kind not in ("param", "data") or n.label in names:
                continue
            cur = np.asarray(self._vals[n.index], dtype=float)
            if n.kind == "param" and cur.ndim > 0:
                raise ExpressionError(
                    f"{self.source}: the landscape needs scalar parameters; '{n.label}' is an array"
                )
            # the grid axis first, then numpy's broadcasting: shapes aligned on the right
            base[n.index] = cur.reshape((1,) * (rank - cur.ndim) + cur.shape)
        prog = []
        for i, f, ins in self._prog:
            op = self.nodes[i].op
            if op.name in ("matmul", "softmax_ce"):
                raise ExpressionError(
                    f"{self.source}: the landscape cannot be vectorised through {op.name}"
                )
            prog.append((i, BATCHED.get(op.name, f), ins))
        slots = [(self.index[n], n) for n in names]
        out = self.index[output]
        lead = (1,) * (rank - 1)

        def run(params: Mapping[str, np.ndarray]) -> np.ndarray:
            vals = list(base)
            m = 0
            for idx, name in slots:
                v = np.asarray(params[name], dtype=float)
                m = len(v)
                vals[idx] = v.reshape((m,) + lead)
            for i, f, ins in prog:  # the caller holds np.errstate (once, not per chunk)
                if len(ins) == 2:
                    vals[i] = f(vals[ins[0]], vals[ins[1]])
                elif len(ins) == 1:
                    vals[i] = f(vals[ins[0]])
                else:
                    vals[i] = f(*[vals[j] for j in ins])
            res = np.asarray(vals[out], dtype=float)
            return np.broadcast_to(res.reshape(res.shape[0] if res.ndim else 1), (m,)).copy()

        return run


def _topological(trees: Mapping[str, Expr], nodes: Mapping[str, str], source: str) -> list[str]:
    """The [graph] nodes ordered so that each comes after the nodes it uses; refuse cycles.

    A depth-first search with an explicit stack (a chain of thousands of nodes is fine).
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in trees:
        if state.get(start) is not None:
            continue
        state[start] = 1
        path = [start]
        pending = [iter(sorted(trees[start].names()))]
        while pending:
            name = path[-1]
            dep = next((d for d in pending[-1] if d in trees), None)
            if dep is None:
                pending.pop()
                path.pop()
                state[name] = 2
                order.append(name)
            elif state.get(dep) == 1:
                cycle = " -> ".join(path[path.index(dep):] + [dep])
                raise ExpressionError(
                    f"{source}: [graph] node '{name}': cycle between graph nodes ({cycle}) "
                    f"in {nodes[name]!r}"
                )
            elif state.get(dep) is None:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(sorted(trees[dep].names())))
    return order
