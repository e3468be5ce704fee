"""Where each number of a graph run's state is in its trace row (``Layout``), and the record
made back from a row: equal to the record the runner made (see engine/trace.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .records import IterationRecord

Shape = tuple[int, ...] | None  # None: a Python float; a tuple: a float64 array of that shape


def _spec(v: Any) -> Shape | bool:
    """How a value is stored: None for a float, its shape for a float64 array, False if
    neither (the state is then kept whole)."""
    if type(v) is float:
        return None
    if isinstance(v, np.ndarray) and v.dtype == np.float64:
        return v.shape
    return False


def _size(s: Shape) -> int:
    return 1 if s is None else math.prod(s)


@dataclass(frozen=True)
class Layout:
    """Where each number of a state is in its row (see the module's docstring)."""

    rule: str
    params: tuple[tuple[str, Shape], ...]
    values: tuple[str, ...]
    train: tuple[tuple[str, Shape], ...]  # the rule's per-parameter numbers and the step
    batch: bool  # whether a batch number is kept (mini-batches)
    width: int

    @classmethod
    def of(cls, rec: IterationRecord) -> Layout | None:
        """The layout of a regular record (None when it cannot have one)."""
        per = rec.factors if rec.rule == "target" else rec.grads
        if not rec.step or per is None or rec.step.keys() != per.keys():
            return None
        params = tuple((p, _spec(v)) for p, v in rec.params.items())
        train = tuple((p, _spec(v)) for p, v in rec.step.items())
        if any(s is False for _, s in params + train) \
                or any(_spec(per[p]) != s for p, s in train):
            return None
        n = sum(_size(s) for _, s in params) + len(rec.values)
        n += 2 * sum(_size(s) for _, s in train)
        n += 2 if rec.rule == "target" else 4 + (rec.batch is not None)
        return cls(rec.rule, params, tuple(rec.values), train, rec.batch is not None, n)

    def index(self, name: str) -> int | None:
        """The column of a named scalar number (see ``Trace.column``), None if not one."""
        pos = 0
        kind, _, key = name.partition(":")
        for p, s in self.params:
            if kind == "param" and p == key:
                return pos if s is None else None
            pos += _size(s)
        for k in self.values:
            if not key and k == name:
                return pos
            pos += 1
        if self.rule == "target":
            fixed = {"output": pos, "delta": pos + 1}
            pos += 2
        else:
            fixed = {"output": pos, "loss": pos, "grad_norm": pos + 1, "lr": pos + 2,
                     "epoch": pos + 3, "batch": pos + 4 if self.batch else None}
            pos += 4 + self.batch
        if not key:
            return fixed.get(name)
        per = "factor" if self.rule == "target" else "grad"
        for group in (per, "step"):
            for p, s in self.train:
                if kind == group and p == key:
                    return pos if s is None else None
                pos += _size(s)
        return None

    def row(self, rec: IterationRecord) -> list[float] | None:
        """The record as a row, or None if it does not fit this layout."""
        out: list[float] = []
        put = out.append
        if rec.rule != self.rule or not rec.step or len(rec.values) != len(self.values):
            return None
        per = rec.factors if self.rule == "target" else rec.grads
        if per is None:
            return None
        for p, s in self.params:
            if not _put(out, rec.params.get(p), s):
                return None
        for k in self.values:
            v = rec.values.get(k)
            if type(v) is not float:
                return None
            put(v)
        if self.rule == "target":
            if type(rec.delta) is not float or type(rec.output) is not float \
                    or rec.epoch is not None or rec.batch is not None or rec.loss is not None \
                    or rec.grads is not None or rec.lr is not None or rec.grad_norm is not None:
                return None
            out += [rec.output, rec.delta]
        else:
            if type(rec.loss) is not float or rec.output != rec.loss \
                    or type(rec.grad_norm) is not float or type(rec.lr) is not float \
                    or type(rec.epoch) is not int or (rec.batch is not None) != self.batch \
                    or rec.delta is not None or rec.factors is not None:
                return None
            out += [rec.loss, rec.grad_norm, rec.lr, float(rec.epoch)]
            if self.batch:
                put(float(rec.batch))
        for p, s in self.train:
            if not _put(out, per.get(p), s):
                return None
        for p, s in self.train:
            if not _put(out, rec.step.get(p), s):
                return None
        return out if len(out) == self.width and len(per) == len(self.train) \
            and len(rec.step) == len(self.train) else None

    def record(self, i: int, row: Sequence[float], rule: str) -> IterationRecord:
        """The record of ``row`` (state ``i``), as the runner made it (``rule``: the run's)."""
        pos = 0

        def take(s: Shape) -> Any:
            nonlocal pos
            if s is None:
                pos += 1
                return row[pos - 1]
            n = math.prod(s)
            pos += n
            return np.array(row[pos - n:pos], dtype=np.float64).reshape(s)

        params = {p: take(s) for p, s in self.params}
        values = {k: row[pos + j] for j, k in enumerate(self.values)}
        pos += len(self.values)
        if self.rule == "target":
            output, delta = row[pos], row[pos + 1]
            pos += 2
            factors = {p: take(s) for p, s in self.train}
            step = {p: take(s) for p, s in self.train}
            return IterationRecord(i, params, values, output, delta=delta, factors=factors,
                                   step=step, rule=rule)
        loss, norm, lr, epoch = row[pos], row[pos + 1], row[pos + 2], int(row[pos + 3])
        pos += 4
        batch = None
        if self.batch:
            batch = int(row[pos])
            pos += 1
        grads = {p: take(s) for p, s in self.train}
        step = {p: take(s) for p, s in self.train}
        return IterationRecord(i, params, values, loss, loss=loss, grads=grads, step=step,
                               lr=lr, grad_norm=norm, epoch=epoch, batch=batch, rule=rule)


def _put(out: list[float], v: Any, s: Shape) -> bool:
    if s is None:
        if type(v) is not float:
            return False
        out.append(v)
        return True
    if not isinstance(v, np.ndarray) or v.dtype != np.float64 or v.shape != s:
        return False
    out += v.ravel().tolist()
    return True


def number(rec: IterationRecord, name: str) -> float:
    """One named number of a record (see ``Trace.column``); NaN where it has none."""
    kind, _, key = name.partition(":")
    if key:
        group = {"param": rec.params, "grad": rec.grads, "factor": rec.factors,
                 "step": rec.step}[kind] or {}
        v = group.get(key)
    elif name in ("output", "loss", "grad_norm", "lr", "delta"):
        v = getattr(rec, name)
    else:
        v = rec.values.get(name)
    return math.nan if v is None or np.ndim(v) else float(v)
