"""Scenario files (TOML) -> validated ``Scenario``: the one place that knows the file format.

A file is read, its shape is checked against the limits (nesting depth, array sizes), the
``--set KEY=VALUE`` overrides are applied to the raw TOML, and then ``[scenario]`` (name, title,
description, kind) and ``[variants]`` are read here, while the kind's own tables go to the
kind's validator (engine/kinds/). Every mistake is one line naming the file, the table and the
key. Variants: flat keys change [run]; a sub-table changes that table (``[variants.big.model]``),
where the kind allows it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from . import confine, kinds
from . import validate as v
from .bundled import BUNDLED_DIR, course_rank
from .errors import ScenarioError
from .files import read_text_limited
from .kinds.base import FLAT_TABLE, Scenario
from .limits import MAX_SCENARIO_BYTES

SCENARIO_KEYS = ("name", "title", "description", "kind")

__all__ = ["BUNDLED_DIR", "Scenario", "bundled_scenarios", "find_scenario", "load_scenario",
           "parse_override", "parse_scenario", "with_run"]


# --- loading ----------------------------------------------------------------------------

def find_scenario(name_or_path: str | Path, search: list[Path] | None = None) -> Path:
    """Resolve a path, or the name of a bundled scenario (``target_z``), to a file."""
    try:
        return _find(name_or_path, search)
    except (OSError, ValueError) as exc:  # a name the system refuses: too long, a NUL in it
        name = str(name_or_path)
        name = name if len(name) <= 80 else name[:60] + f"... ({len(name)} characters)"
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(f"{name}: not a scenario file ({reason})") from None


def _find(name_or_path: str | Path, search: list[Path] | None) -> Path:
    p = Path(name_or_path)
    if p.is_file():
        return p
    stem = p.name[:-5] if p.name.endswith(".toml") else p.name
    if p.parent == Path("."):
        for d in [*(search or []), BUNDLED_DIR]:
            cand = d / f"{stem}.toml"
            if cand.is_file():
                return cand
    if p.is_dir():
        raise ScenarioError(f"{p}: is a folder, not a scenario file")
    if p.exists():  # a FIFO, a device: never opened (reading one would block or never end)
        raise ScenarioError(f"{p}: not a regular file, so not a scenario file")
    raise ScenarioError(
        f"{name_or_path}: no such scenario file (nor a bundled scenario of that name; "
        "`gdlab list` shows them)"
    )


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped with gdlab, in the order of a course (``bundled.COURSE``)."""
    return sorted(BUNDLED_DIR.glob("*.toml"), key=course_rank)


def parse_override(text: str) -> dict[str, Any]:
    """``"run.tolerance=1e-6"`` -> {"run": {"tolerance": 1e-06}}: a TOML key = value line.

    Keys are TOML keys (``variants."lr_0.1".lr=0.5`` works); a value that is not TOML (a bare
    word) is taken as a string.
    """
    where = f"--set {_shown(text)}"
    if "=" not in text:
        raise ScenarioError(f"{where}: expected KEY=VALUE, e.g. run.tolerance=1e-6")
    try:
        table = _toml(text, where)
    except ScenarioError as exc:
        if "TOML syntax error" not in str(exc):
            raise
        key, raw = text.split("=", 1)
        quoted = raw.strip().replace("\\", "\\\\").replace('"', '\\"')
        try:
            table = tomllib.loads(f'{key.strip()} = "{quoted}"')
        except tomllib.TOMLDecodeError:
            raise ScenarioError(f"{where}: the key must name a table and a key, "
                                "e.g. run.lr=0.1") from None
    v.check_limits(table, where)
    node: Any = table
    depth = 0
    while isinstance(node, dict) and len(node) == 1:
        node = next(iter(node.values()))
        depth += 1
    if depth < 2:
        raise ScenarioError(f"{where}: the key must name a table and a key, e.g. run.lr")
    return table


def _shown(text: str) -> str:
    """A --set argument as a message quotes it: whole if short, else its start and length."""
    if len(text) <= 80:
        return repr(text)
    return f"{text[:60]!r}... ({len(text):,} characters)"


def _merge(base: dict[str, Any], extra: dict[str, Any], text: str) -> None:
    for k, x in extra.items():
        if isinstance(x, dict):
            nxt = base.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ScenarioError(f"--set {_shown(text)}: '{k}' is not a table")
            _merge(nxt, x, text)
        else:
            base[k] = x


def load_scenario(
    name_or_path: str | Path, overrides: list[str] | None = None,
    search: list[Path] | None = None,
) -> Scenario:
    """Read, override and validate a scenario file; raise ScenarioError on any mistake."""
    if Path(name_or_path).parent != Path("."):  # a path, not a name: refused before it is
        confine.check_scenario_file(name_or_path)  # looked for (served mode; see confine.py)
    path = find_scenario(name_or_path, search)
    confine.check_scenario_file(path)
    source = path.name if path.parent.resolve() == BUNDLED_DIR else str(path)
    text = read_text_limited(path, MAX_SCENARIO_BYTES, "a scenario file", ScenarioError, source)
    return parse_scenario(text, source=source, path=path, overrides=overrides)


def _toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; every failure (syntax, Python's limits) is one line naming ``source``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: tables or arrays nested more than {v.MAX_DEPTH} deep "
                            "(the limit)") from None
    except ValueError as exc:  # an integer too long for Python to read
        raise ScenarioError(f"{source}: a number is too long to read ({exc})") from None


def parse_scenario(
    text: str, source: str = "<scenario>", path: Path | None = None,
    overrides: list[str] | None = None,
) -> Scenario:
    """Validate scenario TOML text (see docs/scenarios.md for every key)."""
    raw = _toml(text, source)
    v.check_limits(raw, source)
    for ov in overrides or []:
        change = parse_override(ov)
        _merge(raw, change, ov)
        _propagate(raw.get("variants"), change)
    return _validate(raw, source, path)


def _propagate(variants: Any, change: dict[str, Any]) -> None:
    """`--set run.lr=0.5` means "this lr", so it also replaces a variant's own lr (and
    `--set model.init=...` a variant's own [variants.NAME.model] init)."""
    if not isinstance(variants, dict):
        return
    for name, keys in change.items():
        if name in ("scenario", "variants") or not isinstance(keys, dict):
            continue
        for table in variants.values():
            if not isinstance(table, dict):
                continue
            own = table if name == FLAT_TABLE else table.get(name)
            if isinstance(own, dict):
                for key, value in keys.items():
                    if key in own and not isinstance(value, dict):
                        own[key] = value


def _expect_table(raw: dict, key: str, source: str) -> dict:
    x = raw.get(key, {})
    if not isinstance(x, dict):
        raise ScenarioError(f"{source}: [{key}] must be a table, got {v.typed(x)}")
    return x


def _validate(raw: dict[str, Any], source: str, path: Path | None) -> Scenario:
    meta = _expect_table(raw, "scenario", source)
    for key, x in meta.items():
        if key not in SCENARIO_KEYS:
            raise ScenarioError(
                f"{source}: [scenario] unknown key '{key}' (expected: {', '.join(SCENARIO_KEYS)})"
            )
        if not isinstance(x, str):
            raise v.fail(v.key_at(source, "scenario", key), "a string", x, wrong_type=True)
    kind = kinds.kind_of(meta.get("kind"), list(raw), source)
    allowed = ("scenario", *kind.tables, "variants", "sweep")
    for key in raw:
        if key not in allowed:
            others = [k for k in kinds.names() if k != kind.name and key in kinds.get(k).tables]
            hint = f"; [{key}] belongs to {' and '.join(others)} scenarios" if others else ""
            raise ScenarioError(f"{source}: unknown table [{key}] (expected: "
                                f"{', '.join(allowed)} for a {kind.name} scenario{hint})")
    tables = {name: _expect_table(raw, name, source) for name in kind.tables}
    variants = {name: _variant(name, table, kind, source)
                for name, table in _expect_table(raw, "variants", source).items()}
    default_name = path.stem if path is not None else "scenario"
    name = meta.get("name", default_name)
    info = {"path": path, "source": source, "name": name, "title": meta.get("title", name),
            "description": meta.get("description", "")}
    return _with_sweep(kind.validate(info, tables, variants), raw)


def _with_sweep(sc: Scenario, raw: dict[str, Any]) -> Scenario:
    """Read the [sweep] table (engine.sweep.grid checks its keys and value lists) and keep it on
    the scenario; its keys and metric are checked against the scenario where a sweep is planned
    (engine.sweep.plan: `gdlab sweep`, `gdlab check`, the app)."""
    if "sweep" in raw:
        from .sweep.grid import grid_from_table

        sc.sweep = grid_from_table(raw["sweep"], sc.source)
    return sc


def _variant(name: str, table: Any, kind: kinds.Kind, source: str) -> dict[str, dict[str, Any]]:
    """One [variants.NAME] table as table -> changed keys (flat keys change [run])."""
    where = f"[variants.{name}]"
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: {where} must be a table of [run] keys")
    out: dict[str, dict[str, Any]] = {FLAT_TABLE: {}}
    for key, x in table.items():
        if key in kind.tables and key != FLAT_TABLE and isinstance(x, dict):
            if key not in kind.variant_tables:
                allowed = ", ".join(f"[{t}]" for t in kind.variant_tables)
                raise ScenarioError(f"{source}: {where} table '{key}': a variant of a "
                                    f"{kind.name} scenario changes {allowed} keys only")
            out[key] = dict(x)
        else:
            out[FLAT_TABLE][key] = x
    return out


def with_run(sc: Scenario, **changes: Any) -> Scenario:
    """A copy of ``sc`` with [run] keys changed (for the app's settings panel)."""
    return sc.with_run(**changes)
