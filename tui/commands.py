"""The headless commands behind ``gdlab run``, ``compare``, ``list``, ``check`` and ``data``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import kinds
from engine.errors import GdlabError, describe_file
from engine.scenario import Scenario, bundled_scenarios, load_scenario

from .kinds import get as kind_views


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an existing --out before any work is done (not after a long run)."""
    out = getattr(args, "out", None)
    if out is not None and Path(out).exists() and not args.force:
        raise GdlabError(f"{out}: already exists (use --force to overwrite)")
    if args.every < 1:
        raise GdlabError("--every: expected an integer >= 1")


def cmd_run(args: argparse.Namespace) -> int:
    """Run one variant of a scenario and print its records (through its kind's views)."""
    _check_out(args)
    sc = load_scenario(args.scenario, args.overrides)
    return kind_views(sc.kind).run(sc, args)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several variants of a scenario and print them side by side."""
    _check_out(args)
    sc = load_scenario(args.scenario, args.overrides)
    return kind_views(sc.kind).compare(sc, args, _variants(sc, args.variants))


def _variants(sc: Scenario, wanted: str | None) -> list[str | None]:
    """The variants ``--variants`` names (comma-separated, each once), else all of them."""
    if wanted is not None:
        known = f"(variants: {', '.join(sc.variants) or 'none'})"
        names = [v.strip() for v in wanted.split(",")]
        if not any(names):
            raise GdlabError(f"--variants {wanted!r}: names no variant {known}")
        if not all(names):
            raise GdlabError(f"--variants {wanted!r}: an empty name between commas {known}")
        for i, v in enumerate(names):
            sc.check_variant(v)
            if v in names[:i]:
                raise GdlabError(f"--variants {wanted!r}: '{v}' is named twice")
        return list(names)
    if not sc.variants:
        return [None]
    return list(sc.variants)


def cmd_list(args: argparse.Namespace) -> int:
    """Bundled scenarios and those in the given folders: name, rule, title."""
    from .formatting import output_width, render_table, wrap_lines

    files: list[Path] = list(bundled_scenarios())
    for d in args.dirs:
        if not d.is_dir():
            raise GdlabError(f"{d}: no such folder")
        files += sorted(d.glob("*.toml"))
    rows = []
    for f in files:
        try:
            sc = load_scenario(f)
            rows.append([f.stem, sc.label, ", ".join(sc.variants) or "-", sc.title])
        except Exception as exc:  # one bad file is listed as invalid, the others still are
            rows.append([f.stem, "invalid", "-", describe_file(f, exc)])
    table = render_table(["scenario", "rule", "variants", "title"], rows, left=(0, 1, 2, 3))
    width = output_width(sys.stdout)
    if width is not None and max(len(line) for line in table.splitlines()) > width:
        # narrower than the table: each scenario's name, rule and title, its variants below
        name_w = max(len(r[0]) for r in rows)
        table = "\n".join(
            wrap_lines(f"{r[0].ljust(name_w)}  {r[1]}: {r[3]}", width)
            + ("" if r[2] == "-" else "\n" + wrap_lines(f"  variants: {r[2]}", width))
            for r in rows)
    print(table)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate scenario files: exit 0 when all are valid, 2 otherwise."""
    bad = 0
    for name in args.scenarios:
        try:
            sc = load_scenario(name, args.overrides)
            kinds.get(sc.kind).check(sc)  # every check a run makes, data shapes too
            sweep = ""
            if sc.sweep is not None:  # every value of the grid, as `gdlab sweep` checks it
                from engine.sweep.plan import plan_sweep
                from engine.sweep.point import ScenarioSource

                plan = plan_sweep(ScenarioSource.read(name), sc.sweep, args.overrides, force=True)
                sweep = f", a sweep of {len(plan.points):,} runs"
            print(f"ok: {sc.source} ({sc.name}: {sc.label}, "
                  f"{len(sc.variants)} variant{'s' if len(sc.variants) != 1 else ''}{sweep})")
        except Exception as exc:  # each file is checked, whatever the one before did
            if args.debug:
                raise
            print(f"gdlab: error: {describe_file(name, exc)}", file=sys.stderr)
            bad += 1
    return 2 if bad else 0


def cmd_data(args: argparse.Namespace) -> int:
    """``gdlab data fetch mnist``: download, verify and cache the full MNIST."""
    if args.data_command != "fetch":
        raise GdlabError("usage: gdlab data fetch mnist [--dest DIR]")
    from engine.data.fetch import fetch_mnist

    from .progress import ProgressBar

    bars: dict[str, ProgressBar] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = ProgressBar(name, total)
        bar.update(done)
        if total is not None and done >= total:
            bar.close()

    mirrors = [m if m.endswith("/") else m + "/" for m in args.mirror] if args.mirror else None
    dest = fetch_mnist(args.dest, mirrors=mirrors, progress=progress)
    for bar in bars.values():
        bar.close()
    print(f"MNIST is ready in {dest}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a recorded app session headlessly."""
    from .replay import replay_main

    return replay_main(args)


def cmd_open(scenario: str | None, dirs: list[Path], headless: bool = False) -> int:
    """Open the Textual app (optionally on a scenario); its exit status for the shell.

    The app shows a person's mistakes in its error panel and goes on; if it stops on an
    error it could not handle, the status is not 0 (Textual has printed what happened).
    """
    try:
        from .app import GdlabApp
    except ImportError as exc:
        if "textual" in str(exc) or "app" in str(exc):
            raise GdlabError("the app is not available in this build; use `gdlab run SCENARIO` "
                             "(see `gdlab --help`)") from None
        raise
    app = GdlabApp(scenario=scenario, dirs=dirs)
    app.run(headless=headless)
    return app.return_code or 0
