"""A graph evaluated at many parameter points at once, for the loss landscape: every leaf
gets a leading grid axis and the reductions reduce over the data axes only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ExpressionError
from .graph_compile import Node
from .graph_values import Value
from .ops import BATCHED


class Batched:
    """The part of ``Graph`` that evaluates its output over a grid of parameter values."""

    nodes: list[Node]
    index: dict[str, int]
    data: list[str]
    source: str
    _vals: list[Value]
    _prog: list[tuple[int, Any, tuple[int, ...]]]

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
