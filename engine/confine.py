"""Served mode's confinement: which files a remote user may make gdlab read or write.

When ``gdlab serve`` gives the app to browsers, whoever reaches the port acts with the server's
user's rights. The policy installed here (once per process: each browser session is a process of
its own) limits that to the bundled scenarios, the folders named on the command line and a save
folder. Every check resolves symbolic links first, and every refusal names the rule that was
broken -- never a line or a cell of the file, so that an error cannot be used to read a file
outside what is allowed. Without a policy (the local app, the command line) every check passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .bundled import BUNDLED_DIR
from .errors import GdlabError


class ConfinementError(GdlabError):
    """A file or folder outside what served mode allows; the message states the rule."""


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


@dataclass(frozen=True)
class Confinement:
    """The folders a served session may read scenarios from, and the one it may save into."""

    roots: tuple[Path, ...]
    save_dir: Path | None = None

    @classmethod
    def of(cls, dirs: Iterable[str | Path] = (), save_dir: str | Path | None = None
           ) -> Confinement:
        """The bundled scenarios, ``dirs`` and ``save_dir``, each resolved once."""
        save = _resolved(save_dir) if save_dir is not None else None
        roots = [BUNDLED_DIR, *(_resolved(d) for d in dirs), *([save] if save else [])]
        return cls(tuple(dict.fromkeys(roots)), save)

    def allows(self, path: str | Path) -> bool:
        """Whether ``path`` (after resolving symbolic links) lies inside one of the roots."""
        real = _resolved(path)
        return any(_inside(real, root) for root in self.roots)

    def scenario_file(self, path: str | Path) -> None:
        """Refuse a scenario file outside the bundled scenarios and the served folders."""
        if not self.allows(path):
            raise ConfinementError(
                f"{path}: refused in served mode: scenario files are opened only from the "
                "bundled scenarios and the folders given to `gdlab serve`")

    def folder(self, path: str | Path) -> None:
        """Refuse a folder or file to add ("add a folder") outside the served folders."""
        if not self.allows(path):
            raise ConfinementError(
                f"{path}: refused in served mode: only the bundled scenarios and the folders "
                "given to `gdlab serve` (and what lies inside them) can be added")

    def data_path(self, path: str | Path, scenario_dir: str | Path | None, where: str) -> None:
        """Refuse data named by a scenario unless it lies inside the scenario's own folder
        (itself a served folder), after resolving symbolic links."""
        rule = (f"{where}: refused in served mode: a scenario's data must lie inside the "
                "scenario's own folder (after resolving symbolic links)")
        if scenario_dir is None or not self.allows(scenario_dir):
            raise ConfinementError(f"{rule}; this scenario has no served folder")
        if not _inside(_resolved(path), _resolved(scenario_dir)):
            raise ConfinementError(rule)

    def save_path(self, name: str) -> Path:
        """The file ``name`` inside the save folder; refused without one, or for a name that
        is not a plain file name (no folders, no ``..``)."""
        if self.save_dir is None:
            raise ConfinementError("refused in served mode: nothing is saved on the server "
                                   "without `gdlab serve --save-dir DIR` (download it instead)")
        plain = Path(name).name == name and name not in ("", ".", "..")
        path = self.save_dir / name
        if not plain or not _inside(_resolved(path), self.save_dir):
            raise ConfinementError(f"{name}: refused in served mode: give a plain file name; "
                                   f"it is saved in {self.save_dir}")
        return path


_active: Confinement | None = None


def install(policy: Confinement | None) -> None:
    """Make ``policy`` this process's confinement (None lifts it: tests, the local app)."""
    global _active
    _active = policy


def active() -> Confinement | None:
    """This process's confinement, or None outside served mode."""
    return _active


def check_scenario_file(path: str | Path) -> None:
    """``Confinement.scenario_file`` under the active policy (nothing outside served mode)."""
    if _active is not None:
        _active.scenario_file(path)


def check_folder(path: str | Path) -> None:
    """``Confinement.folder`` under the active policy (nothing outside served mode)."""
    if _active is not None:
        _active.folder(path)


def check_data_path(path: str | Path, scenario_dir: str | Path | None, where: str) -> None:
    """``Confinement.data_path`` under the active policy (nothing outside served mode)."""
    if _active is not None:
        _active.data_path(path, scenario_dir, where)
