"""Layering: the engine never imports the user interface, and the headless command line does
not import the app's libraries at module level."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
TUI = ROOT / "tui"
FORBIDDEN_IN_ENGINE = {"textual", "plotext", "textual_plotext", "tui", "rich"}
HEADLESS = ["cli.py", "commands.py", "report.py", "formatting.py", "network_report.py",
            "replay.py", "session.py",
            "kinds/__init__.py", "kinds/base.py", "kinds/graph.py", "kinds/network.py",
            "sweep_cli.py", "sweep_report.py", "sweep_plot.py"]


def imports(path: Path, top_level_only: bool = False, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute top-level package) of every import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    pkg_parts = path.relative_to(root).with_suffix("").parts[:-1]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            found.append((node.lineno, mod.split(".")[0]))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.append((node.lineno, str(node.args[0].value).split(".")[0]))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.append((node.lineno, str(node.args[0].value).split(".")[0]))
    return found


ENGINE_FILES = sorted(ENGINE.rglob("*.py"))


def test_engine_has_modules():
    names = {p.name for p in ENGINE_FILES}
    assert {"ops.py", "expr.py", "graph.py", "optim.py", "rules.py", "runner.py",
            "scenario.py", "sources.py", "run.py", "records.py", "validate.py", "train.py"} <= names


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_does_not_import_the_user_interface(path):
    bad = [(line, mod) for line, mod in imports(path) if mod in FORBIDDEN_IN_ENGINE]
    assert bad == [], f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("name", HEADLESS)
def test_headless_modules_do_not_import_the_app_at_module_level(name):
    path = TUI / name
    if not path.exists():
        pytest.skip(f"{name} not present")
    bad = [(line, mod) for line, mod in imports(path, top_level_only=True)
           if mod in {"textual", "plotext", "textual_plotext"}]
    assert bad == []
    # and not through tui modules that do (the app, the plots)
    local = [mod for _, mod in imports(path, top_level_only=True)]
    assert "app" not in local


def test_import_scanner_sees_relative_and_absolute_imports(tmp_path):
    probe = tmp_path / "engine" / "data" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("import textual\nfrom ...tui import cli\nfrom .. import ops\n"
                     "def f():\n    import plotext\n    __import__('tui.app')\n",
                     encoding="utf-8")
    got = [m for _, m in imports(probe, root=tmp_path)]
    assert got == ["textual", "tui", "engine", "plotext", "tui"]
    assert [m for _, m in imports(probe, top_level_only=True, root=tmp_path)] == \
        ["textual", "tui", "engine"]


def test_every_package_is_listed_for_the_wheel():
    """pyproject.toml lists the packages by hand (scenarios/ installs as gdlab_scenarios), so a
    new sub-package that is not listed would be missing from a regular install."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in (ENGINE, TUI)
             for p in top.rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "gdlab_scenarios" in listed
