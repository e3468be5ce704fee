"""Served mode in the app: whether a session is a browser's, and where its files go.

``gdlab serve`` passes its folders to each session's process in the environment (``GDLAB_SERVE``);
a session started by any web driver without them is served too, with the strictest settings.
This module is the one place that decides deliver or write: every screen exports through
``export_text``/``export_screenshot`` and saves a scenario through ``save_scenario``. Locally they
write files (atomically, never replacing an existing one unless asked); served, exports are
downloads in the browser (Textual's ``deliver_text``) and nothing is written on the server except
a new scenario into ``--save-dir``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from textual.app import App

from engine.confine import Confinement

from . import output_file

ENV = "GDLAB_SERVE"

MIME_TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".json": "application/json",
              ".svg": "image/svg+xml", ".toml": "application/toml"}


@dataclass(frozen=True)
class ServeConfig:
    """What ``gdlab serve`` shares: folders of scenarios, and the one a new scenario saves into."""

    dirs: tuple[Path, ...] = ()
    save_dir: Path | None = None

    def to_env(self) -> str:
        """The value of ``GDLAB_SERVE`` that carries this configuration to a session."""
        return json.dumps({"dirs": [str(d) for d in self.dirs],
                           "save_dir": str(self.save_dir) if self.save_dir else None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ServeConfig | None:
        """The configuration ``gdlab serve`` put in the environment, or None (not served)."""
        raw = environ.get(ENV)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return cls(tuple(Path(d) for d in data["dirs"]),
                       Path(data["save_dir"]) if data["save_dir"] else None)
        except (ValueError, KeyError, TypeError):
            return cls()  # garbled: served all the same, with nothing shared but the bundled

    @property
    def scenario_dirs(self) -> list[Path]:
        """The folders the picker lists: those given, then the save folder."""
        return list(dict.fromkeys([*self.dirs, *([self.save_dir] if self.save_dir else [])]))

    def confinement(self) -> Confinement:
        """The engine's policy for this configuration."""
        return Confinement.of(self.dirs, self.save_dir)


def config(app: App) -> ServeConfig | None:
    """The app's serve configuration, or None when it runs locally."""
    return getattr(app, "served", None)


def is_served(app: App) -> bool:
    """Whether ``app`` is given to a browser (a serve configuration, or a web driver)."""
    return config(app) is not None or app.is_web


def default_target(app: App, filename: str) -> str:
    """What an export or save field starts with: a file name served, a full path locally."""
    return filename if is_served(app) else str(Path.cwd() / filename)


def _deliver(app: App, name: str, text: str) -> str:
    filename = Path(name).name or "gdlab.txt"
    app.deliver_text(io.StringIO(text), save_filename=filename, open_method="download",
                     mime_type=MIME_TYPES.get(Path(filename).suffix.lower(), "text/plain"),
                     encoding="utf-8")
    return f"sent {filename} to your browser as a download"


def export_text(app: App, target: str, text: str, *, force: bool = False) -> str:
    """Deliver ``text`` to the browser (served) or write it to ``target`` (locally);
    returns what to tell the user. GdlabError/OSError when a local write is refused."""
    if is_served(app):
        return _deliver(app, target, text)
    path = Path(target).expanduser()
    output_file.write_atomic(path, text, force=force)
    return f"wrote {path}"


def export_screenshot(app: App, target: str, *, force: bool = False) -> str:
    """The screen as SVG, delivered (served) or written to ``target`` (locally)."""
    return export_text(app, target, app.export_screenshot(), force=force)


def save_scenario(app: App, target: str, text: str) -> tuple[str, Path | None]:
    """A new scenario's file: written locally, into ``--save-dir`` served, else a download.
    Returns the message and the file written (None for a download); never overwrites."""
    cfg = config(app)
    if not is_served(app):
        path = Path(target).expanduser()
    elif cfg is not None and cfg.save_dir is not None:
        path = cfg.confinement().save_path(target)  # a plain file name, inside --save-dir
    else:
        return _deliver(app, target, text), None
    output_file.write_atomic(path, text)
    return f"wrote {path}", path
