"""Which rows of a graph scenario's data each iteration sees: mini-batches, epochs, the order
of rows drawn per epoch (moved out of engine/runner.py as it is; ``Run`` holds one)."""

from __future__ import annotations

import numpy as np

from .errors import ScenarioError
from .graph import Graph
from .run import RunConfig


class Batcher:
    """Feeds the graph's data nodes one mini-batch per iteration (full batch without batch_size).

    Each epoch visits the rows in an order shuffled by ``numpy.random.default_rng(seed)``.
    """

    def __init__(self, g: Graph, cfg: RunConfig) -> None:
        self.g, self.cfg = g, cfg
        self.full = {d: g.value(d) for d in g.data}
        self.n = 0
        self.per_epoch = 1
        if cfg.batch_size and self.full:
            lengths = {d: np.shape(v)[0] for d, v in self.full.items() if np.ndim(v) > 0}
            self.n = min(lengths.values()) if lengths else 0
            if len(set(lengths.values())) > 1:
                raise ScenarioError(
                    f"{g.source}: [run] key 'batch_size': mini-batches need data arrays of one "
                    f"length, got " + ", ".join(f"{d}: {n}" for d, n in lengths.items())
                )
            self.per_epoch = max(1, -(-self.n // cfg.batch_size))
        self.size = cfg.batch_size if self.n else None  # rows per batch; None: full batch
        self.rng = np.random.default_rng(cfg.seed)
        self.order: np.ndarray | None = None
        self.drawn: int | None = None  # the epoch whose order of rows ``order`` is
        # iteration iter0 starts epoch epoch0 (0, 0 unless a session changed the batching)
        self.iter0, self.epoch0 = 0, 0
        self.rows: int | None = None  # rows in the data nodes now (None: every row)

    def position(self, iteration: int) -> tuple[int, int | None]:
        """(epoch, batch within the epoch) of ``iteration``; batch None without mini-batches,
        where each iteration is an epoch."""
        if self.size is None:
            return self.epoch0 + iteration - self.iter0, None
        epoch, batch = divmod(iteration - self.iter0, self.per_epoch)
        return self.epoch0 + epoch, batch

    def epoch_limit_reached(self, iteration: int) -> bool:
        return self.cfg.epochs is not None and \
            iteration - self.iter0 >= (self.cfg.epochs - self.epoch0) * self.per_epoch

    def sizes(self) -> list[int]:
        """The batch sizes an epoch has: batch_size, and a shorter last batch if any."""
        return [] if self.size is None else sorted({self.size, self.n % self.size} - {0})

    def take(self, rows: int | None) -> None:
        """Set the data nodes to their first ``rows`` rows (None: every row)."""
        for d, v in self.full.items():
            if np.ndim(v) > 0:
                self.g.set_value(d, v if rows is None else v[:rows])
        self.rows = rows

    def carry_on(self, old: Batcher, iteration: int) -> None:
        """Go on from ``old`` (the same data under other settings) at ``iteration``: with the
        same batch size the epoch in progress goes on with its order of rows; with another,
        the epoch in progress ends there and the next one starts (each full batch is an
        epoch). Orders are drawn on from where ``old`` drew them."""
        self.rng.bit_generator.state = old.rng.bit_generator.state
        if self.size == old.size:
            self.iter0, self.epoch0 = old.iter0, old.epoch0
            self.order, self.drawn = old.order, old.drawn
            return
        epoch, batch = old.position(iteration)
        self.iter0, self.epoch0 = iteration, epoch + (1 if batch else 0)

    def next(self, iteration: int) -> tuple[int | None, int | None]:
        """Set the data for ``iteration``; return (epoch, batch within the epoch)."""
        epoch, batch = self.position(iteration)
        if batch is None or self.size is None:
            return (epoch if self.cfg.rule == "gradient" else None), None
        if epoch != self.drawn:  # each epoch's order is drawn once (a state seen again: none)
            self.order, self.drawn = self.rng.permutation(self.n), epoch
        assert self.order is not None
        idx = self.order[batch * self.size:(batch + 1) * self.size]
        for d, v in self.full.items():
            if np.ndim(v) > 0:
                self.g.set_value(d, v[idx])
        self.rows = len(idx)
        return epoch, batch
