"""A reverse-mode autodiff graph of named nodes, built and checked once, then re-run.

``Graph.build(params, data, nodes)`` parses every expression, checks names and cycles, and
compiles the whole graph into a flat list of instructions in topological order. Each iteration
then only runs that list forwards (``forward``) and backwards (``gradients``): no objects are
created per operation, which is what makes a scalar scenario cheap to iterate thousands of
times. Gradients flowing into a node along several paths add up; broadcasting is undone in the
backward pass by summing over the broadcast axes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import NumericError, ScenarioError
from .expr import Expr
from .graph_batched import Batched
from .graph_compile import GraphBuilder, Node
from .graph_explain import ChainRule, Edge
from .graph_values import Value, as_value, is_finite, numeric_message, unbroadcast
from .ops import NO_GRAD_INPUTS

__all__ = ["Edge", "Graph", "Node", "Value", "as_value"]


class Graph(GraphBuilder, ChainRule, Batched):
    """Named nodes compiled once into instructions; forward and backward re-run them.

    Built by ``GraphBuilder.build`` (engine/graph_compile.py); explained edge by edge by
    ``ChainRule`` (engine/graph_explain.py); evaluated over a grid by ``Batched``
    (engine/graph_batched.py)."""

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
            raise NumericError(self.describe(i), numeric_message(exc)) from exc

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
            if v is not None and not is_finite(v):
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
                            gj = unbroadcast(gj, vals[j])
                        prev = grads[j]
                        grads[j] = gj if prev is None else prev + gj
            return grads
        except (ArithmeticError, ValueError) as exc:
            raise NumericError(self.nodes[out].label, "gradient: " + numeric_message(exc)) \
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
