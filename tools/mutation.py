#!/usr/bin/env python3
"""Mutation testing of the engine with mutmut 3: each module against the tests that cover it.

Why a mapping: mutmut runs the selected tests once to learn which test reaches which function,
then runs, for each mutant, only the tests that reach the mutated function. Selecting for each
module the test files written for it keeps that first run short and keeps the app's slow tests
out. Each module runs in its own scratch copy of the repository (mutmut keeps its state in
``mutants/`` under the folder it runs in), so runs never touch the working tree.

    .venv/bin/python tools/mutation.py                 # every module, in the issue's order
    .venv/bin/python tools/mutation.py ops optim       # some modules
    .venv/bin/python tools/mutation.py --list          # the mapping
    .venv/bin/python tools/mutation.py --survivors ops # re-run ops' survivors with today's tests
    .venv/bin/python tools/mutation.py --resume fetch  # go on with an interrupted run
    .venv/bin/python tools/mutation.py --report        # summarise the last runs again

Needs ``pip install -e ".[mutation]"`` (mutmut). Writes ``summary.md`` and ``summary.json``
(killed / survived / timeout per module, overall score, every survivor by name) in the work
folder (default ``.mutation/`` in the repository, git-ignored), and mutmut's output in
``<module>.log``; ``mutmut show NAME`` run in ``.mutation/<module>/`` prints a survivor's diff.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Module:
    """A module (or a group of files) to mutate, the tests that cover it, and optionally the
    functions that count (the rest of the file is another module's business)."""

    name: str
    files: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = field(default=())
    # pytest arguments of a full run only: tests left out there, as too slow for every mutant
    # (they wait on sockets, where a CPU-time limit never fires); the survivors are re-run
    # against every test (--survivors)
    quick: tuple[str, ...] = field(default=())


# In the order of issue 14: ops, graph, expr, optim, rules, runner, the network model, the IDX
# reader, fetch, the atomic writer.
MODULES: tuple[Module, ...] = (
    Module("ops", ("engine/ops.py",),
           ("tests/test_ops.py", "tests/test_ops_edges.py", "tests/test_ops_large_inputs.py",
            "tests/test_graph.py", "tests/test_vs_torch.py", "tests/test_symbolic.py")),
    Module("graph", ("engine/graph.py", "engine/graph_compile.py", "engine/graph_explain.py",
                     "engine/graph_batched.py", "engine/graph_values.py"),
           ("tests/test_graph.py", "tests/test_graph_edges.py", "tests/test_graph_paths.py",
            "tests/test_ops_edges.py",
            "tests/test_expr.py", "tests/test_rules.py", "tests/test_vs_torch.py",
            "tests/test_symbolic.py")),
    Module("expr", ("engine/expr.py",),
           ("tests/test_expr.py", "tests/test_graph.py", "tests/test_vs_torch.py")),
    Module("optim", ("engine/optim.py",),
           ("tests/test_optim.py", "tests/test_optim_edges.py", "tests/test_optim_trajectories.py",
            "tests/test_optim_explain.py", "tests/test_optim_text.py")),
    Module("rules", ("engine/rules.py",),
           ("tests/test_rules.py", "tests/test_rules_edges.py")),
    Module("runner", ("engine/runner.py",),
           ("tests/test_runner.py", "tests/test_runner_paths.py", "tests/test_trace.py",
            "tests/test_optim_explain.py", "tests/test_compare_every.py",
            "tests/test_check_like_run.py")),
    # the dense network itself: activations and their derivatives, output/cost pairs (BP1),
    # initialisation, forward and backward (BP2-BP4), regularisation
    Module("models", ("engine/models/activations.py", "engine/models/costs.py",
                      "engine/models/dense.py", "engine/models/init.py",
                      "engine/models/regularisation.py"),
           ("tests/test_dense_model.py", "tests/test_dense_gradients.py",
            "tests/test_dense_equations.py", "tests/test_dense_properties.py",
            "tests/test_dense_config.py", "tests/test_dense_edges.py", "tests/test_network_vs_torch.py",
            "tests/test_heatmap.py", "tests/test_train.py", "tests/test_trainer_steps.py")),
    Module("idx", ("engine/data/idx.py",),
           ("tests/test_mnist_idx.py", "tests/test_idx_edges.py")),
    Module("fetch", ("engine/data/fetch.py",),
           ("tests/test_mnist_fetch.py", "tests/test_cli_fetch.py", "tests/test_fetch_edges.py"),
           quick=("-k", "not slow")),  # the mirror that never answers: 10 s a mutant
    Module("write_atomic", ("tui/output_file.py",),
           ("tests/test_write_atomic.py", "tests/test_write_atomic_edges.py", "tests/test_cli.py"),
           ("write_atomic", "check_destination", "atomic_output", "_cannot_write", "_write_all",
            "_write_directly", "_replace", "_replacing")),
)

# What mutmut copies into mutants/ besides the mutated packages: what the tests read.
ALSO_COPY = ("scenarios", "docs", "README.md", "bench", "tools")
KILLED, SURVIVED, TIMEOUT, NO_TESTS = "killed", "survived", "timeout", "no tests"


def _toml_list(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _copy_repository(dest: Path) -> None:
    """The repository's files as they are now (tracked and new, not ignored) into ``dest``."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout
    for rel in filter(None, out.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _configure(dest: Path, m: Module, quick: bool = False) -> list[str]:
    """Append mutmut's section to the copy's pyproject.toml; return the test files that exist.
    ``quick``: a full run, which leaves out the module's slow tests (``Module.quick``)."""
    tests = [t for t in m.tests if (ROOT / t).exists()]
    extra = list(m.quick) if quick else []
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["engine", "tui"]\n'
        f"only_mutate = {_toml_list(m.files)}\n"
        f"also_copy = {_toml_list(ALSO_COPY)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        f'pytest_add_cli_args = {_toml_list(["-p", "no:cacheprovider", *extra])}\n'
        "use_git_change_detection = false\n"
        # a mutant gets (tests' CPU seconds + 1) x 4 x 2 CPU seconds before it counts as a
        # timeout (mutmut's default, x 15, spends most of a run waiting on loops)
        "timeout_multiplier = 4.0\n"
    )
    with open(dest / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(section)
    return tests


def _mutmut() -> str:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        sys.exit("tools/mutation.py: mutmut is not installed: pip install -e '.[mutation]'")
    return str(exe)


def run_module(m: Module, work: Path, max_children: int, patterns: list[str],
               fresh: bool = False) -> int:
    """Run mutmut over one module in a fresh copy under ``work/<name>``; mutmut's exit status.

    With ``patterns`` (mutmut names), re-run only those mutants in the last run's copy with the
    tests as they are now; every other mutant keeps its last verdict (mutmut itself forgets
    them all when the test selection changes).
    """
    dest = work / m.name
    if patterns and not fresh and not (dest / "mutants").exists():
        sys.exit(f"tools/mutation.py: {m.name} has not run yet")
    kept = {} if not patterns or fresh else _exit_codes(dest)
    if not patterns or fresh:
        shutil.rmtree(dest, ignore_errors=True)
        _copy_repository(dest)
    else:  # today's tests and mapping; a changed source is mutated again
        for copy in (dest / "tests", dest / "mutants" / "tests"):  # mutmut copies the first
            shutil.rmtree(copy)
            shutil.copytree(ROOT / "tests", copy,
                            ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
        # another module's changed file is copied too, but its mutants are not this run's
        patterns = patterns + [p for p in _refresh_changed_sources(dest)
                               if _file_of(p) in m.files]
    tests = _configure(dest, m, quick=not patterns)
    names = patterns or _patterns(m)
    print(f"== {m.name}: {', '.join(m.files)} against {', '.join(tests)}", flush=True)
    with open(work / f"{m.name}.log", "w", encoding="utf-8") as log:  # mutmut's spinner
        status = subprocess.run([_mutmut(), "run", "--max-children", str(max_children), *names],
                                cwd=dest, stdout=log, stderr=subprocess.STDOUT).returncode
    if kept:
        _restore_exit_codes(dest, kept, names)
    return status


def resume_module(m: Module, work: Path, max_children: int) -> int:
    """Go on with a module's interrupted run: the mutants without a verdict, in the same copy
    with the same tests (mutmut keeps every verdict it has)."""
    dest = work / m.name
    if not (dest / "mutants").exists():
        sys.exit(f"tools/mutation.py: {m.name} has not run yet")
    print(f"== {m.name}: resuming", flush=True)
    with open(work / f"{m.name}.log", "a", encoding="utf-8") as log:
        return subprocess.run([_mutmut(), "run", "--max-children", str(max_children),
                               *_patterns(m)], cwd=dest, stdout=log,
                              stderr=subprocess.STDOUT).returncode


def _functions(source: str, module: str) -> dict[str, str]:
    """mutmut's name prefix of each function and method -> its source text."""
    out = {}
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[f"{module}.x_{node.name}__mutmut_"] = ast.get_source_segment(source, node) or ""
        elif isinstance(node, ast.ClassDef):
            for f in node.body:
                if isinstance(f, ast.FunctionDef):
                    key = f"{module}.x\u01c1{node.name}\u01c1{f.name}__mutmut_"
                    out[key] = ast.get_source_segment(source, f) or ""
    return out


def _refresh_changed_sources(dest: Path) -> list[str]:
    """Copy every engine/tui file that changed since the copy was made, have mutmut mutate it
    again, and return patterns for the mutants of its changed functions (their numbers mean
    other mutants now)."""
    patterns = []
    for sub in ("engine", "tui"):
        for new in (ROOT / sub).rglob("*.py"):
            rel = new.relative_to(ROOT)
            old = dest / rel
            if old.exists() and old.read_bytes() == new.read_bytes():
                continue
            module = str(rel.with_suffix("")).replace("/", ".")
            before = _functions(old.read_text(encoding="utf-8"), module) if old.exists() else {}
            after = _functions(new.read_text(encoding="utf-8"), module)
            patterns += [k + "*" for k, text in after.items() if before.get(k) != text]
            shutil.copy2(new, old)
            for stale in (dest / "mutants" / rel, dest / "mutants" / f"{rel}.meta"):
                stale.unlink(missing_ok=True)
    return patterns


def _exit_codes(dest: Path) -> dict[str, dict[str, object]]:
    """mutmut's verdicts (exit codes) by .meta file."""
    return {str(meta): json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
            for meta in (dest / "mutants").rglob("*.py.meta")}


def _restore_exit_codes(dest: Path, kept: dict[str, dict[str, object]], rerun: list[str]) -> None:
    for meta_name, old in kept.items():
        meta = Path(meta_name)
        if not meta.exists():
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data.setdefault("exit_code_by_key", {})
        for key, code in old.items():
            if not any(fnmatch.fnmatch(key, r) for r in rerun) and codes.get(key) is None:
                codes[key] = code
        meta.write_text(json.dumps(data, indent=4), encoding="utf-8")


def _patterns(m: Module) -> list[str]:
    """mutmut's name patterns for a module restricted to some functions (none: every mutant)."""
    if not m.functions:
        return []
    mod = m.files[0].removesuffix(".py").replace("/", ".")
    source = (ROOT / m.files[0]).read_text(encoding="utf-8")  # helpers a version may not have
    return [f"{mod}.x_{f}__mutmut_*" for f in m.functions if f"def {f}(" in source]


def _function_of(mutant: str) -> str:
    """``engine.ops.x__add__mutmut_3`` -> ``_add``; a method's -> its name, without the class."""
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key  # noqa: PLC0415

    return orig_function_and_class_names_from_key(mutant)[0]


def _file_of(mutant: str) -> str:
    """``engine.models.dense.xǁDenseNetǁforward__mutmut_4`` -> ``engine/models/dense.py``."""
    module = re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]
    return module.replace(".", "/") + ".py"


def collect(m: Module, work: Path) -> dict[str, object] | None:
    """Counts and survivors of a module's last run, read from mutmut's .meta files."""
    base = work / m.name / "mutants"
    if not base.exists():
        return None
    try:
        from mutmut.stats import status_by_exit_code  # noqa: PLC0415 (only with the extra)
    except ImportError:
        sys.exit("tools/mutation.py: mutmut is not installed: pip install -e '.[mutation]'")
    statuses: dict[str, str] = {}
    for meta in base.rglob("*.py.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for key, code in data.get("exit_code_by_key", {}).items():
            if m.functions and _function_of(key) not in m.functions:
                continue
            if not any(fnmatch.fnmatch(_file_of(key), f) for f in m.files):
                continue  # a file an earlier mapping mutated too
            statuses[key] = status_by_exit_code[code]
    counts: dict[str, int] = {}
    for s in statuses.values():
        counts[s] = counts.get(s, 0) + 1
    return {"module": m.name, "files": list(m.files), "total": len(statuses), "counts": counts,
            "survived": sorted(k for k, s in statuses.items() if s == SURVIVED),
            "other": sorted(f"{k}: {s}" for k, s in statuses.items()
                            if s not in (KILLED, SURVIVED, TIMEOUT))}  # no tests, ...


def _score(killed: int, timeout: int, total: int) -> str:
    return f"{100 * (killed + timeout) / total:.1f}%" if total else "-"


def summarise(results: list[dict], work: Path) -> str:
    """A Markdown table, then the survivors by name. The score is (killed + timeout) / mutants:
    a timeout is a kill (the mutant made a test loop), a mutant no test reaches is not."""
    lines = ["| module | mutants | killed | timeout | survived | no tests | other | score |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    tot = [0] * 6
    for r in results:
        c = r["counts"]
        row = [r["total"], c.get(KILLED, 0), c.get(TIMEOUT, 0), c.get(SURVIVED, 0),
               c.get(NO_TESTS, 0)]
        row.append(row[0] - sum(row[1:]))
        tot = [a + b for a, b in zip(tot, row, strict=True)]
        lines.append(f"| {r['module']} | " + " | ".join(map(str, row))
                     + f" | {_score(row[1], row[2], row[0])} |")
    lines.append("| **all** | " + " | ".join(map(str, tot)) + f" | {_score(*tot[1:3], tot[0])} |")
    for r in results:
        if r["survived"] or r["other"]:
            lines += ["", f"{r['module']}:"] + [f"- survived: {n}" for n in r["survived"]] + \
                [f"- {n}" for n in r["other"]]
    text = "\n".join(lines) + "\n"
    (work / "summary.md").write_text(text, encoding="utf-8")
    (work / "summary.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("modules", nargs="*", help="module names (default: all, in order)")
    p.add_argument("--work", type=Path, default=ROOT / ".mutation", help="scratch folder")
    p.add_argument("--max-children", type=int, default=2, help="mutants tested at once")
    p.add_argument("--mutants", nargs="+", default=[],
                   help="re-run only these mutants (mutmut name patterns) of one module")
    p.add_argument("--survivors", action="store_true",
                   help="re-run the last run's survivors (and untested mutants) with today's tests")
    p.add_argument("--resume", action="store_true",
                   help="go on with an interrupted run (the mutants without a verdict)")
    p.add_argument("--fresh", action="store_true",
                   help="with --mutants: a new copy of today's sources (other verdicts dropped)")
    p.add_argument("--report", action="store_true", help="only summarise the last runs")
    p.add_argument("--list", action="store_true", help="print the module -> tests mapping")
    a = p.parse_args(argv)
    by_name = {m.name: m for m in MODULES}
    unknown = [n for n in a.modules if n not in by_name]
    if unknown:
        p.error(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    chosen = [by_name[n] for n in a.modules] or list(MODULES)
    if a.list:
        for m in chosen:
            print(f"{m.name}: {' '.join(m.files)} <- {' '.join(m.tests)}"
                  + (f" (functions {', '.join(m.functions)})" if m.functions else ""))
        return 0
    if a.mutants and len(chosen) != 1:
        p.error("--mutants needs exactly one module")
    a.work.mkdir(parents=True, exist_ok=True)
    status = 0
    if not a.report:
        for m in chosen:
            if a.resume:
                status |= resume_module(m, a.work, a.max_children)
                continue
            names = a.mutants
            if a.survivors:
                last = collect(m, a.work) or {"survived": [], "other": []}
                names = last["survived"] + [o.split(":")[0] for o in last["other"]
                                            if o.endswith(NO_TESTS)]
                if not names:
                    continue
            status |= run_module(m, a.work, a.max_children, names, a.fresh)
    results = [r for m in (MODULES if a.report else chosen) if (r := collect(m, a.work))]
    print(summarise(results, a.work))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
