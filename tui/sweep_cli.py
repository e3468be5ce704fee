"""``gdlab sweep``: a grid of settings of one scenario, run in parallel, as a table and a picture.

Rows go to stdout in grid order as points finish (a point that finishes early waits for those
before it), or to ``--out`` atomically at the end; the progress bar (points done, left, time
left) goes to stderr. ``--resume FILE`` skips the runs whose rows FILE holds and appends each new
row to it as soon as it finishes. Ctrl-C stops the sweep: the rows finished so far are printed
(and written to ``--out``), the exit status is 130, and ``--resume`` picks up from there.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from engine.errors import GdlabError
from engine.sweep.driver import SweepRun
from engine.sweep.execute import make_backend
from engine.sweep.grid import Grid, parse_grid_option
from engine.sweep.plan import Plan, plan_sweep
from engine.sweep.point import ScenarioSource
from engine.sweep.rows import InOrder, PointStats, best_point, point_stats, read_rows, row_json

from . import output_file
from .progress import ProgressBar
from .sweep_plot import color_wanted, sweep_picture, value_label
from .sweep_report import PointAssembler, PointTable, csv_cells, csv_header, csv_line

EXIT_INTERRUPTED = 130


def add_parser(sub: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """The ``sweep`` subcommand and its options (``parents``: the options every command has)."""
    sp = sub.add_parser("sweep", parents=list(parents),
                        help="run a grid of settings in parallel: a table and a picture",
                        description="Run a scenario over a grid of settings (each point one "
                                    "ordinary run), on local cores or a Dask cluster.")
    sp.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    sp.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                    help="a swept key and its values (repeatable): 0.1,0.5,1 or 0.01:1.1:0.01 "
                         "(start:stop:step) or lin(0,1,11) or log(1e-3,1,4); "
                         "default: the scenario's [sweep] table")
    sp.add_argument("--seeds", type=int, metavar="N", help="repeat each point over N seeds")
    sp.add_argument("--metric", help="what to report (an unknown name lists the available ones)")
    sp.add_argument("--variant", help="the variant to sweep (default: the first)")
    sp.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="KEY=VALUE", help="override a key for every point")
    sp.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    sp.add_argument("--out", type=Path, help="write the output to FILE (atomically)")
    sp.add_argument("--force", action="store_true",
                    help="overwrite --out; run a grid larger than the limit")
    sp.add_argument("--plot", action="store_true",
                    help="draw the metric: a line over one key, a heat map over two")
    where = sp.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="local worker processes (default: one per core)")
    where.add_argument("--cluster", metavar="ADDRESS",
                       help="run on the Dask scheduler at ADDRESS (pip install 'gdlab[cluster]')")
    sp.add_argument("--resume", type=Path, metavar="FILE.jsonl",
                    help="skip the runs whose rows FILE holds; append new rows to it")


def build_grid(args: argparse.Namespace, file_grid: Grid | None) -> Grid:
    """The command line's --grid/--metric/--seeds/--variant over the file's [sweep] table."""
    base = file_grid or Grid(())
    axes = tuple(parse_grid_option(g) for g in args.grid) if args.grid else base.axes
    if args.seeds is not None and args.seeds < 1:
        raise GdlabError(f"--seeds: expected an integer >= 1, got {args.seeds}")
    return Grid(axes, args.seeds or base.seeds, args.metric or base.metric,
                args.variant if args.variant is not None else base.variant)


def prepare(args: argparse.Namespace) -> Plan:
    """Read the scenario and check the sweep; GdlabError (exit 2) on any mistake."""
    source = ScenarioSource.read(args.scenario)
    sc = source.load(args.overrides)
    return plan_sweep(source, build_grid(args, sc.sweep), args.overrides, force=args.force)


class Output:
    """Where the rows go: stdout as they come, or collected for an atomic --out."""

    def __init__(self, args: argparse.Namespace, plan: Plan) -> None:
        self.format, self.plan = args.format, plan
        self.out: Path | None = args.out
        self.parts: list[str] = []
        self.table = PointTable(plan)
        self.points = PointAssembler(plan.grid.seeds)
        self.stats: list[PointStats] = []
        self.bar: ProgressBar | None = None

    def write(self, text: str) -> None:
        if self.out is not None:
            self.parts.append(text)
            return
        if self.bar is not None:
            self.bar.clear()
        sys.stdout.write(text)
        sys.stdout.flush()
        if self.bar is not None:
            self.bar.redraw()

    def start(self) -> None:
        if self.format == "table":
            self.write(self.table.header())
        elif self.format == "csv":
            self.write(csv_line(csv_header(self.plan)))

    def rows(self, rows: list[dict[str, Any]]) -> None:
        """Runs, in grid order: JSONL lines, or table/CSV lines for the points they complete."""
        for row in rows:
            if self.format == "jsonl":
                self.write(row_json(row))
            self._points(self.points.add(row))

    def _points(self, done: list[PointStats]) -> None:
        self.stats += done
        for s in done:
            if self.format == "table":
                self.write(self.table.row(s))
            elif self.format == "csv":
                self.write(csv_line(csv_cells(self.plan, s)))

    def finish(self, force: bool) -> None:
        self._points(self.points.flush())
        if self.out is not None:
            output_file.write_atomic(self.out, "".join(self.parts), force=force)
            print(f"wrote {self.out}", file=sys.stderr)


def _summary(plan: Plan, stats: list[PointStats]) -> str:
    """How the points ended, and the best one."""
    counts: dict[str, int] = {}
    for s in stats:
        for reason, n in s.stops.items():
            counts[reason] = counts.get(reason, 0) + n
    runs = sum(counts.values())
    text = f"{runs} run{'s' if runs != 1 else ''}: " + ", ".join(
        f"{n} {r}" for r, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    best = best_point(stats, plan.best)
    if best is not None:
        where = ", ".join(f"{k} = {value_label(best.settings[k])}" for k in plan.grid.keys)
        lowest = "lowest" if plan.best == "min" else "highest"
        text += f"\nbest ({lowest} {plan.metric}): {where} -> {best.mean:.6g}"
    return text + "\n"


class _Appender:
    """Appends each new row to the --resume file at once (a Ctrl-C or a crash keeps it)."""

    def __init__(self, path: Path | None) -> None:
        self.fh: TextIO | None = None
        if path is not None:
            if path.exists() and not path.is_file():
                raise GdlabError(f"--resume {path}: not a regular file")
            try:
                self.fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise GdlabError(f"--resume {path}: cannot write to it ({exc})") from None

    def add(self, row: dict[str, Any]) -> None:
        if self.fh is not None:
            self.fh.write(row_json(row))
            self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep; print its rows, summary and picture. 0 when done, 130 when interrupted."""
    if args.out is not None and args.resume is not None and \
            args.out.resolve() == args.resume.resolve():
        raise GdlabError(f"--out and --resume name the same file ({args.out}): the resume file "
                         "already gets every row")
    if args.out is not None and args.out.exists() and not args.force:
        raise GdlabError(f"{args.out}: already exists (use --force to overwrite)")
    plan = prepare(args)
    run = SweepRun(plan, read_rows(args.resume, plan) if args.resume else None)
    backend = make_backend(args.workers, args.cluster)
    output = Output(args, plan)
    order = InOrder(list(range(run.total)))
    appender = _Appender(args.resume)
    shape = " x ".join(f"{a.key} ({len(a.values)})" for a in plan.grid.axes)
    seeds = f" x {plan.grid.seeds} seeds" if plan.grid.seeds > 1 else ""
    resumed = f", {run.resumed} already in {args.resume}" if run.resumed else ""
    interrupted = False
    try:
        with backend:
            print(f"sweeping {plan.scenario}: {shape}{seeds} = {run.total} runs{resumed}; "
                  f"{plan.metric} on {backend.description}", file=sys.stderr)
            if backend.note:
                print(f"gdlab: {backend.note}", file=sys.stderr)
            output.start()
            for i in sorted(run.rows):  # the rows resumed, in their place in grid order
                output.rows(order.add(i, run.rows[i]))
            bar = ProgressBar("sweep", len(run.todo), unit=" runs", eta=True)
            output.bar = bar
            for k, (i, row) in enumerate(run.run(backend), 1):
                appender.add(row)
                output.rows(order.add(i, row))
                bar.update(k)
            bar.close()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        appender.close()
        if output.bar is not None:
            output.bar.clear()
            output.bar = None
    output.rows(order.rest())
    output.finish(args.force)
    stats = point_stats(run.ordered())
    text = _summary(plan, stats)
    if args.format == "table" and args.out is None:
        sys.stdout.write("\n" + text)
    else:
        sys.stderr.write(text)
    if args.plot and stats and (args.format == "table" or args.out is not None):
        cols = shutil.get_terminal_size((100, 30)).columns
        best = best_point(stats, plan.best)
        sys.stdout.write("\n" + sweep_picture(
            stats, plan.grid.keys, [a.values for a in plan.grid.axes], plan.metric, best,
            color_wanted(sys.stdout), max(60, min(cols, 200))))
    if interrupted:
        hint = "; run the same command again to resume" if args.resume else \
            "; --resume FILE.jsonl keeps rows to resume from"
        print(f"gdlab: interrupted: {run.finished} of {run.total} runs finished{hint}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
