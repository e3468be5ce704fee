"""The chain rule between named nodes, as a tutorial writes it: each edge's local derivative
and the backward pass walked edge by edge (the explain panel, the graph walk-through)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .graph_compile import Node
from .graph_values import Value, unbroadcast
from .ops import NO_GRAD_INPUTS


@dataclass(frozen=True)
class Edge:
    """One chain-rule term of the backward pass between two named nodes."""

    parent: str  # the node the gradient comes from (closer to the output)
    child: str  # the node it flows into
    upstream: Value  # d output / d parent
    local: Value  # d parent / d child (through the parent's own expression)
    term: Value  # upstream * local
    total: Value  # d output / d child after adding this term


class ChainRule:
    """The part of ``Graph`` that explains its gradients between named nodes."""

    nodes: list[Node]
    index: dict[str, int]
    _vals: list[Value]
    _prog: list[tuple[int, Any, tuple[int, ...]]]
    _spans: dict[int, tuple[int, int]]
    _depends_on_param: list[bool]

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
                        gj = unbroadcast(gj, vals[j])
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
