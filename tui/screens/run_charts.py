"""The run view's charts: the error (or loss), the parameters' paths and the loss landscape,
each drawn from at most ``CHART_POINTS`` states sampled from the session's trace."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.errors import GdlabError
from engine.landscape import compute_landscape, grid_bounds

from ..plots import MAX_POINTS as CHART_POINTS  # states a chart samples, however long
from ..plots import fit_landscape
from ..widgets.charts import ErrorChart, LandscapeChart, TrajectoryChart

if TYPE_CHECKING:
    from ..session import Session
    from ..widgets.probe import Probe


class Charts:
    """The part of ``RunScreen`` that samples the trace and draws its three charts."""

    session: Session
    log_scale: bool
    frames: int
    _shown: int
    _traj: list[str]
    _land: list[str] | None
    _extent: tuple[np.ndarray, np.ndarray] | None
    _probe: Probe | None

    def _series(self, names: list[str], last: int | None = None
                ) -> tuple[list[int], dict[str, list[float]]]:
        """At most CHART_POINTS states of the trace (the newest ``last`` of them, else all,
        evenly spaced, the newest always) and the named numbers of each (Trace.column)."""
        recs = self.session.records
        n = min(self._shown, len(recs))
        first = 0 if last is None else max(0, n - last)
        step = max(1, -(-(n - first) // CHART_POINTS))
        xs = list(range(first, n, step))
        if xs and xs[-1] != n - 1:
            xs.append(n - 1)
        out = {}
        for name in names:
            ys = recs.column(name, first, n, step)
            if len(ys) < len(xs):
                ys = np.append(ys, recs.column(name, n - 1, n))
            out[name] = ys.tolist()
        return xs, out

    def _draw_charts(self) -> None:
        s = self.session
        run = s.run
        assert run is not None
        cfg = run.cfg
        label = s.variant or (s.scenario.name if s.scenario else "run")
        err = "delta" if cfg.rule == "target" else "loss"
        xs, ys = self._series([err] + [f"param:{p}" for p in self._traj])
        self.query_one(ErrorChart).show({label: (xs, [abs(v) for v in ys[err]])},
                                        self.log_scale,
                                        "|delta|" if cfg.rule == "target" else "loss")
        self.query_one(TrajectoryChart).show({p: (xs, ys[f"param:{p}"]) for p in self._traj})
        chart = self.query_one(LandscapeChart)
        names = self._land
        if names is None or not self._traj or chart.size.width < 10:
            chart.display = names is not None
            chart.show(None, {})
        else:
            chart.display = True
            # the whole path from the start, framed as `gdlab run --plot` frames it (its
            # extent, kept as it grows); drawn from at most CHART_POINTS of its states (the
            # first and the last among them)
            _, xy = self._series([f"param:{names[0]}", f"param:{names[1]}"])
            path = list(zip(xy[f"param:{names[0]}"], xy[f"param:{names[1]}"], strict=True)) or \
                [(float(run.start[names[0]]), float(run.start[names[1]]))]
            bounds = grid_bounds(path if self._extent is None else
                                 [tuple(self._extent[0]), tuple(self._extent[1])])
            try:
                land = fit_landscape(
                    lambda nx, ny: compute_landscape(self._probe.graph, cfg, path, nx=nx, ny=ny,
                                                     bounds=bounds),
                    chart.size.width, chart.size.height)
            except (GdlabError, ValueError, ArithmeticError) as exc:
                chart.show(None, {}, f"no landscape: {exc}")
            else:
                chart.show(land, {label: path})
        self.frames += 1
