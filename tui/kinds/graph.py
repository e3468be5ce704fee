"""The graph kind's views: the iteration table (tui/report.py), CSV, JSONL, the charts of
``--plot`` (tui/plots.py) and the app's run view."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.runner import Run
from engine.scenario import Scenario

from .. import report
from ..formatting import output_width
from .base import Views, chosen_variant, emit


def _render(outcomes: list[report.Outcome], args: argparse.Namespace, compare: bool) -> str:
    if args.format == "csv":
        return report.to_csv(outcomes)
    if args.format == "jsonl":
        return report.to_jsonl(outcomes)
    width = None if getattr(args, "out", None) else output_width(sys.stdout)
    if compare and len(outcomes) > 1:
        return report.compare_table(outcomes, args.every, width)
    return report.table(outcomes[0], args.every, width)


def _plot(sc: Scenario, outcomes: list[report.Outcome], args: argparse.Namespace) -> None:
    if args.plot and args.format == "table" and not args.out:
        from ..plots import print_run_charts

        print_run_charts(sc, outcomes)


class GraphViews(Views):
    """Iteration tables of graph scenarios; the run view in the app."""

    name = "graph"

    def run(self, sc: Scenario, args: argparse.Namespace) -> int:
        outcome = report.Outcome.of(Run(sc, chosen_variant(sc, args)))  # type: ignore[arg-type]
        emit(_render([outcome], args, compare=False), args)
        _plot(sc, [outcome], args)
        return 0

    def compare(self, sc: Scenario, args: argparse.Namespace, variants: list[str | None]) -> int:
        outcomes = [report.Outcome.of(Run(sc, v)) for v in variants]  # type: ignore[arg-type]
        emit(_render(outcomes, args, compare=True), args)
        _plot(sc, outcomes, args)
        return 0

    def screen(self, app: Any, sc: Scenario, ref: str | Path, variant: str | None) -> Any:
        from ..screens.run import RunScreen

        app.session.open(str(ref), variant)
        return RunScreen(app.session)


VIEWS = GraphViews()
