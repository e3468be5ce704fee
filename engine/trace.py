"""The trace of a graph run: every evaluated state as one row of float64 numbers, in chunks.

A record (``IterationRecord``) holds dicts and floats: about 3 KB a state. The trace keeps the
same numbers as one row of a columnar float64 store instead, its layout (``Layout``) taken from
the run's first regular state: each parameter's value, the scalar nodes' values, then the
rule's numbers (target: delta, factors; gradient: loss, gradients, their norm, the learning
rate, epoch and batch) and the step. Rows are appended to a growing buffer that is frozen into
a numpy chunk every ``CHUNK`` rows; a million states of Rosenbrock (8 numbers) take 64 MB.

Records are made from the rows on demand (``record(i)``), equal to the ones the runner made
before, so that every view prints the same bytes. A state that does not fit the layout (the
final one, whose step is empty; a diverged one; a value of another type or shape) is kept whole
as its record. Headless runs keep no history: ``drop()`` forgets the rows already written out.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

from .records import IterationRecord
from .trace_layout import Layout, number

__all__ = ["CHUNK", "Layout", "Trace", "Traces"]

CHUNK = 1 << 16  # rows per frozen chunk


class Trace(Sequence[IterationRecord]):
    """Every state of one run (``keep``) or those not yet written out (``drop()``), as rows of
    one ``Layout``; ``self[i]`` is state i's record, made on demand."""

    def __init__(self, rule: str, keep: bool = True, first: int = 0) -> None:
        self.rule = rule
        self.keep = keep
        self.first = first  # the iteration of state 0 (a run continued after a setting)
        self.layout: Layout | None = None
        self.chunks: list[np.ndarray] = []  # frozen, CHUNK rows each
        self.buf = array("d")  # the rows after the chunks
        self.odd: dict[int, IterationRecord] = {}  # states kept whole
        self.base = 0  # index of the first row still held (after drop)
        self.n = 0  # states written

    def __len__(self) -> int:
        return self.n

    def add(self, rec: IterationRecord) -> None:
        """Append a state given as its record (kept whole if it does not fit the layout)."""
        if self.layout is None:
            self.layout = Layout.of(rec)
            if self.layout is not None:  # the states before it were kept whole
                self.buf.extend([math.nan] * (self.layout.width * (self.n - self.base)))
        row = self.layout.row(rec) if self.layout is not None else None
        if row is None:
            self.odd[self.n] = rec
            row = [math.nan] * (self.layout.width if self.layout is not None else 0)
        self.add_row(row)

    def add_row(self, row: Sequence[float]) -> None:
        """Append a row of the layout (the runner's fast path writes rows directly)."""
        buf = self.buf
        buf.extend(row)
        self.n += 1
        width = self.layout.width if self.layout is not None else 0
        if width and len(buf) >= CHUNK * width:
            self._freeze(width)

    def _freeze(self, width: int) -> None:
        """The buffer is a full chunk: keep it as a numpy chunk (or forget it, without
        ``keep``). The chunks list is replaced before the buffer, so that a reader in another
        thread sees a row in one or the other."""
        if self.keep:
            chunk = np.frombuffer(self.buf, dtype=np.float64).reshape(-1, width).copy()
            self.chunks = [*self.chunks, chunk]
        else:
            self.base = self.n
        self.buf = array("d")

    def room(self) -> int:
        """Rows that fit before the newest chunk is frozen (the runner's loop writes up to
        that many into ``buf`` and then calls ``extended``)."""
        width = self.layout.width if self.layout is not None else 0
        return CHUNK - len(self.buf) // width if width else 1

    def extended(self, k: int) -> None:
        """``k`` rows were written into ``buf`` directly: count them, freeze a full chunk."""
        self.n += k
        width = self.layout.width if self.layout is not None else 0
        if width and len(self.buf) >= CHUNK * width:
            self._freeze(width)

    def pop(self) -> None:
        """Forget the newest state (a setting changed: it is evaluated again)."""
        if self.n <= self.base:
            raise IndexError("pop from an empty trace")
        self.n -= 1
        self.odd.pop(self.n, None)
        width = self.layout.width if self.layout is not None else 0
        if not self.buf and self.chunks:  # the newest row is in the last frozen chunk
            self.buf = array("d", self.chunks.pop().ravel().tolist())
        if width:
            del self.buf[len(self.buf) - width:]

    def drop(self, keep_last: bool = False) -> None:
        """Forget every state held (they have been written out); the count goes on. With
        ``keep_last`` the newest state stays, kept whole (it may still be withdrawn: pop)."""
        last = self.record(self.n - 1) if keep_last and self.n > self.base else None
        self.chunks.clear()
        self.buf = array("d")
        self.odd.clear()
        self.base = self.n
        if last is not None:
            self.base = self.n - 1
            self.odd[self.base] = last
            self.buf.extend([math.nan] * (self.layout.width if self.layout is not None else 0))

    def row(self, i: int) -> list[float]:
        """State ``i``'s row as floats (meaningless for a state kept whole)."""
        if i < self.base or i >= self.n:
            raise IndexError(f"state {i} is not held (held: {self.base}..{self.n - 1})")
        width = self.layout.width if self.layout is not None else 0
        buf, chunks = self.buf, self.chunks  # in this order: see _freeze
        k = i - self.base
        c, r = divmod(k, CHUNK)
        if c < len(chunks):
            return chunks[c][r].tolist()
        r = k - len(chunks) * CHUNK
        return buf[r * width:(r + 1) * width].tolist()

    def blocks(self, start: int, stop: int) -> Iterator[tuple[int, list[list[float]]]]:
        """The rows from ``start`` to ``stop`` in blocks: (index of the block's first, its
        rows as lists of floats). A state kept whole (``odd``) has a row of NaN here."""
        width = self.layout.width if self.layout is not None else 0
        i = max(start, self.base)
        stop = min(stop, self.n)
        while i < stop:
            buf, chunks = self.buf, self.chunks  # in this order: see _freeze
            k = i - self.base
            c, r = divmod(k, CHUNK)
            if c < len(chunks):
                block = chunks[c][r:min(CHUNK, r + stop - i)].tolist()
            elif width:
                r = k - len(chunks) * CHUNK
                flat = buf[r * width:(r + stop - i) * width].tolist()
                block = [flat[j:j + width] for j in range(0, len(flat), width)]
            else:
                block = [[] for _ in range(stop - i)]
            if not block:
                return
            yield i, block
            i += len(block)

    def record(self, i: int) -> IterationRecord:
        """State ``i``'s record, equal to the one the runner would have made."""
        if i < 0:
            i += self.n
        rec = self.odd.get(i)
        if rec is not None:
            return rec
        assert self.layout is not None
        return self.layout.record(self.first + i, self.row(i), self.rule)

    @overload
    def __getitem__(self, i: int) -> IterationRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[IterationRecord]: ...

    def __getitem__(self, i: int | slice) -> IterationRecord | list[IterationRecord]:
        if isinstance(i, slice):
            return [self.record(k) for k in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.record(i)

    def __iter__(self) -> Iterator[IterationRecord]:
        for i in range(self.base, self.n):
            yield self.record(i)

    def column(self, name: str, start: int = 0, stop: int | None = None, step: int = 1
               ) -> np.ndarray:
        """One number of every ``step``-th state as an array (NaN for a state kept whole):
        "output", "loss", "grad_norm", "lr", "delta", a value's name, "param:NAME",
        "grad:NAME", "factor:NAME", "step:NAME" (scalars only)."""
        stop = self.n if stop is None else min(stop, self.n)
        start = max(start, self.base)
        idx = np.arange(start, stop, step)
        if self.layout is None or not len(idx):
            return np.array([number(self.odd[i], name) if i in self.odd else math.nan
                             for i in idx.tolist()], dtype=float)
        col = self.layout.index(name)
        out = np.full(len(idx), math.nan)
        if col is not None:
            buf, chunks = self.buf, self.chunks  # in this order: see _freeze
            k = idx - self.base
            c = k // CHUNK
            nchunks = len(chunks)
            for ci in np.unique(c[c < nchunks]):
                sel = c == ci
                out[sel] = chunks[ci][k[sel] - ci * CHUNK, col]
            sel = c >= nchunks
            if sel.any():
                width = self.layout.width
                rest = k[sel] - nchunks * CHUNK
                lo, hi = int(rest[0]), int(rest[-1]) + 1
                # a copy of the buffer's rows: a view would stop the runner's thread growing it
                part = np.frombuffer(buf[lo * width:hi * width], dtype=np.float64)
                out[sel] = part.reshape(-1, width)[rest - lo, col]
        for j, i in enumerate(idx.tolist()):
            if i in self.odd:
                out[j] = number(self.odd[i], name)
        return out


class Traces(Sequence[IterationRecord]):
    """A session's trace: the traces of the runs it went through, one after another (a
    setting changed between steps continues the iterations in a new run)."""

    def __init__(self) -> None:
        self.parts: list[Trace] = []
        self.starts: list[int] = []  # index of each part's first state
        self.frozen: int | None = None  # a snapshot: the states the parts held then
        self.extra: list[IterationRecord] = []  # a snapshot's records after them

    def snapshot(self, extra: Sequence[IterationRecord] = ()) -> Traces:
        """The states held now (the parts may grow on: the snapshot does not), then ``extra``
        (a paused trace's last row)."""
        t = Traces()
        t.parts, t.starts, t.frozen = list(self.parts), list(self.starts), self._held()
        t.extra = list(extra)
        return t

    def held(self) -> list[tuple[Trace, int]]:
        """Each part and how many of its states are in view (all, unless a snapshot)."""
        n = self._held()
        return [(p, max(0, min(len(p), n - s))) for p, s in zip(self.parts, self.starts,
                                                                 strict=True)]

    def _held(self) -> int:
        live = self.starts[-1] + len(self.parts[-1]) if self.parts else 0
        return live if self.frozen is None else min(live, self.frozen)

    def settle(self) -> None:
        """A session's steps are in: nothing to do for a trace that keeps every state
        (``gdlab replay``'s streamed trace passes them on here)."""

    def extend(self, trace: Trace) -> None:
        """Follow ``trace`` (it may still grow, but only while it is the last)."""
        self.starts.append(len(self))
        self.parts.append(trace)

    def __len__(self) -> int:
        return self._held() + len(self.extra)

    def _part(self, i: int) -> tuple[Trace, int]:
        from bisect import bisect_right

        k = bisect_right(self.starts, i) - 1
        while k > 0 and len(self.parts[k]) == 0:
            k -= 1
        return self.parts[k], i - self.starts[k]

    @overload
    def __getitem__(self, i: int) -> IterationRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[IterationRecord]: ...

    def __getitem__(self, i: int | slice) -> IterationRecord | list[IterationRecord]:
        n = len(self)
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        held = self._held()
        if i >= held:
            return self.extra[i - held]
        part, k = self._part(i)
        return part.record(k)

    def __iter__(self) -> Iterator[IterationRecord]:
        for part, n in self.held():
            for i in range(part.base, n):
                yield part.record(i)
        yield from self.extra

    def pop(self) -> None:
        """Forget the newest state."""
        while self.parts and not len(self.parts[-1]):
            self.parts.pop()
            self.starts.pop()
        if not self.parts:
            raise IndexError("pop from an empty trace")
        self.parts[-1].pop()

    def column(self, name: str, start: int = 0, stop: int | None = None, step: int = 1
               ) -> np.ndarray:
        """``Trace.column`` across the parts."""
        n = self._held()
        stop = n if stop is None else min(stop, n)
        idx = np.arange(start, stop, step)
        out = np.full(len(idx), math.nan)
        for part, first in zip(self.parts, self.starts, strict=True):
            sel = (idx >= first) & (idx < first + len(part))
            if sel.any():
                local = idx[sel] - first
                lo, hi = int(local[0]), int(local[-1]) + 1
                out[sel] = part.column(name, lo, hi, step)
        return out
