"""The graph kind's views: the iteration table (tui/report.py), CSV, JSONL, the charts of
``--plot`` (tui/plots.py) and the app's run view."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from engine.runner import Run
from engine.scenario import Scenario

from .. import output_file, report
from ..formatting import output_width
from .base import Views, chosen_variant, emit


def _render(outcomes: list[report.Outcome], args: argparse.Namespace, compare: bool) -> str:
    if args.format == "csv":
        return report.to_csv(outcomes)
    if args.format == "jsonl":
        return report.to_jsonl(outcomes)
    if compare and len(outcomes) > 1:
        return report.compare_table(outcomes, args.every, _width(args))
    return report.table(outcomes[0], args.every, _width(args))


def _width(args: argparse.Namespace) -> int | None:
    """The width a table is cut to: the terminal's (or $COLUMNS); none into a file."""
    return None if getattr(args, "out", None) else output_width(sys.stdout)


def _plot(sc: Scenario, outcomes: list[report.Outcome], args: argparse.Namespace) -> None:
    if args.plot and args.format == "table" and not args.out:
        from ..plots import print_run_charts

        print_run_charts(sc, outcomes)


def _charted(args: argparse.Namespace) -> bool:
    """Whether charts follow the table (they read every state: the run keeps its trace)."""
    return bool(args.plot and args.format == "table" and not args.out)


@contextmanager
def _output(args: argparse.Namespace) -> Iterator[TextIO]:
    """Where a streamed output goes: stdout, or ``--out`` written atomically."""
    if getattr(args, "out", None):
        with output_file.atomic_output(args.out, force=args.force) as fh:
            yield fh
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        yield sys.stdout
        sys.stdout.flush()


def _stream(runs: list[Run], args: argparse.Namespace, compare: bool) -> None:
    """Write the runs as they go (tui/graph_stream.py): memory does not grow with them."""
    from .. import graph_stream as gs

    with _output(args) as out:
        if args.format == "csv":
            gs.write_csv(runs, out)
        elif args.format == "jsonl":
            gs.write_jsonl(runs, out)
        elif compare and len(runs) > 1:
            gs.write_compare_table(runs, args.every, out, _width(args))
        else:
            gs.write_table(runs[0], args.every, out, _width(args))


class GraphViews(Views):
    """Iteration tables of graph scenarios; the run view in the app."""

    name = "graph"

    def run(self, sc: Scenario, args: argparse.Namespace) -> int:
        variant = chosen_variant(sc, args)
        if not _charted(args):
            _stream([Run(sc, variant, keep=False)], args, compare=False)  # type: ignore[arg-type]
            return 0
        outcome = report.Outcome.of(Run(sc, variant))  # type: ignore[arg-type]
        emit(_render([outcome], args, compare=False), args)
        _plot(sc, [outcome], args)
        return 0

    def compare(self, sc: Scenario, args: argparse.Namespace, variants: list[str | None]) -> int:
        if not _charted(args):
            _stream([Run(sc, v, keep=False) for v in variants], args,  # type: ignore[arg-type]
                    compare=True)
            return 0
        outcomes = [report.Outcome.of(Run(sc, v)) for v in variants]  # type: ignore[arg-type]
        emit(_render(outcomes, args, compare=True), args)
        _plot(sc, outcomes, args)
        return 0

    def screen(self, app: Any, sc: Scenario, ref: str | Path, variant: str | None) -> Any:
        from ..screens.run import RunScreen

        app.session.open(str(ref), variant)
        return RunScreen(app.session)


VIEWS = GraphViews()
