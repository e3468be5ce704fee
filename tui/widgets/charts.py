"""Chart widgets of the run and compare views: thin PlotextPlot wrappers over ``tui.plots``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual_plotext import PlotextPlot

from .. import plots


class ErrorChart(PlotextPlot):
    """|delta| or loss per iteration, one line per series; log10 or linear axis."""

    _shown: tuple[plots.Series, bool, str] | None = None

    def on_resize(self) -> None:
        """The legend's room depends on the width: draw again at the new size."""
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, series: plots.Series, log: bool, ylabel: str) -> None:
        """Clear and draw the series again."""
        self._shown = (series, log, ylabel)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if any(len(xs) for xs, _ in series.values()):
            plots.draw_error(plt, series, log=log, ylabel=ylabel, width=self.size.width)
        else:
            plt.title(f"{ylabel} per iteration (no steps yet)")
        self.refresh()


class TrajectoryChart(PlotextPlot):
    """Each trained parameter's value per iteration."""

    _shown: plots.Series | None = None

    def on_resize(self) -> None:
        """The legend's room depends on the width: draw again at the new size."""
        if self._shown is not None:
            self.show(self._shown)

    def show(self, series: plots.Series) -> None:
        """Clear and draw the trajectories again."""
        self._shown = series
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if any(len(xs) for xs, _ in series.values()):
            plots.draw_trajectories(plt, series, width=self.size.width)
        else:
            plt.title("parameters (no steps yet)")
        self.refresh()


class LandscapeChart(PlotextPlot):
    """The output over two trained scalar parameters, with the path taken drawn over it."""

    landscape: Any | None = None  # what is drawn now (None: a note instead)

    def show(self, land: Any | None, paths: dict[str, Sequence[tuple[float, float]]],
             note: str = "") -> None:
        """Clear and draw the landscape (or a note saying why there is none)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.landscape = land
        if land is None:
            plt.title(note or "the landscape needs exactly two trained scalar parameters")
        else:
            plots.draw_landscape(plt, land, paths)
        self.refresh()
