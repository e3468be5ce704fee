"""How many numbers a compiled graph's values will hold, worked out before anything is computed.

A graph of a few lines can ask for far more memory than a machine has: ``sum(a*b)`` with ``a``
of shape (1000000, 1) and ``b`` of shape (1, 1000000) broadcasts to 10^12 numbers, and a
thousand nodes over a million rows of data hold 10^9. ``check_values`` follows the compiled
instructions once with shapes instead of values (numpy's broadcasting and matrix-product rules)
and refuses the graph, naming the node where the count passes MAX_GRAPH_VALUES, before the
first forward pass allocates anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import ScenarioError
from .limits import MAX_GRAPH_VALUES

if TYPE_CHECKING:
    from .graph import Graph

Shape = tuple[int, ...]


def _broadcast(shapes: Sequence[Shape]) -> Shape | None:
    """numpy's broadcast of ``shapes``; None if they do not fit (the forward pass says so)."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _matmul(a: Shape, b: Shape) -> Shape | None:
    """The shape of ``a @ b`` (numpy's rules: a 1-d operand is a row or a column, the leading
    axes broadcast); None if the product is not defined."""
    if not a or not b:
        return None
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return None
    batch = _broadcast([a2[:-2], b2[:-2]])
    if batch is None:
        return None
    out = [*batch, a2[-2], b2[-1]]
    if len(b) == 1:
        out.pop(-1)  # the column b became
    if len(a) == 1:
        out.pop(-1 if len(b) == 1 else -2)  # the row a became
    return tuple(out)


def node_shape(op_name: str, reduces: bool, ins: Sequence[Shape]
               ) -> tuple[Shape | None, int]:
    """(the result's shape, the numbers the operation holds: its result, or for a reduction
    the element-wise terms it adds up); (None, 0) when the shapes do not fit."""
    if op_name in ("sum", "mean"):
        return (), 1  # numpy adds up in place
    if op_name == "matmul" and len(ins) == 2:
        out = _matmul(ins[0], ins[1])
        return (out, math.prod(out)) if out is not None else (None, 0)
    if op_name == "l2" or len(ins) == 1:  # each input on its own (l2: a sum of squares)
        work = max(math.prod(s) for s in ins)
        return ((), work) if reduces else (ins[0], work)
    out = _broadcast(ins)
    if out is None:
        return None, 0
    return ((), math.prod(out)) if reduces else (out, math.prod(out))


def check_values(g: Graph) -> None:
    """Raise ScenarioError if the graph's values would hold more than MAX_GRAPH_VALUES numbers:
    the parameters, data and constants, plus what every instruction computes."""
    shapes: list[Shape | None] = [tuple(np.shape(v)) if n.kind != "op" else None
                                  for n, v in zip(g.nodes, g._vals, strict=True)]
    total = sum(math.prod(s) for s in shapes if s is not None)
    if total > MAX_GRAPH_VALUES:
        raise ScenarioError(f"{g.source}: the parameters and data hold {total:,} numbers, more "
                            f"than the limit of {MAX_GRAPH_VALUES:,} for a graph")
    for i, _f, ins in g._prog:
        ins_shapes = [shapes[j] for j in ins]
        if any(s is None for s in ins_shapes):
            continue  # after a node whose shapes do not fit: the forward pass stops there
        op = g.nodes[i].op
        assert op is not None
        shape, work = node_shape(op.name, op.reduces, ins_shapes)  # type: ignore[arg-type]
        shapes[i] = shape
        total += work
        if total > MAX_GRAPH_VALUES:
            raise ScenarioError(
                f"{g.source}: [graph] node '{g.describe(i)}': the graph's values would hold "
                f"{total:,} numbers up to this node ({work:,} in it), more than the limit of "
                f"{MAX_GRAPH_VALUES:,} for a graph: use less data or smaller arrays")
