"""No import cycles: the import graph of engine/ and tui/ (every import, at module level or in a
function, plus the kinds the registries load by name) has none, and every engine module can be
the first one a fresh interpreter imports. The two registries of kinds agree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "tui")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports (the most specific known module of each import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    known = {module_name(p) for p in files}
    graph = {module_name(p): imported_modules(p, known) for p in files}
    # the registries import their kinds by name (importlib), on first use
    from engine import kinds
    from tui import kinds as views

    graph["engine.kinds"] |= set(kinds.KINDS.values())
    graph["tui.kinds"] |= set(views.KINDS.values())
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert {"engine.scenario", "engine.kinds.graph", "engine.run", "tui.kinds.network"} <= \
        set(graph)
    assert "engine.kinds.graph" in graph["engine.kinds"]  # the registry's edges are in
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_run_configuration_is_not_in_the_format_module() -> None:
    import engine.scenario

    assert not hasattr(engine.scenario, "RunConfig") and not hasattr(engine.scenario, "RUN_KEYS")


ENGINE_MODULES = sorted(module_name(p) for p in (ROOT / "engine").rglob("*.py"))


@pytest.mark.parametrize("name", ENGINE_MODULES)
def test_every_engine_module_imports_first_in_a_fresh_interpreter(name: str) -> None:
    p = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr


def test_the_two_registries_list_the_same_kinds() -> None:
    from engine import kinds
    from tui import kinds as views

    assert list(kinds.KINDS) == list(views.KINDS)
    for name in kinds.names():
        assert kinds.get(name).name == name
        assert views.get(name).name == name
    implied = {k.implied_by: k.name for k in map(kinds.get, kinds.names()) if k.implied_by}
    assert implied == kinds.IMPLIED_BY  # the registry's line agrees with each kind
