"""Where the bundled scenarios live: the installed package ``gdlab_scenarios`` (``scenarios/``).

Found through ``importlib.resources``, so a regular install (a wheel, pipx) finds them as well as
an editable one; nothing is read relative to the source tree.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_dir() -> Path:
    """The folder of the bundled scenario files (a real folder: gdlab is installed unzipped)."""
    return Path(str(resources.files("gdlab_scenarios"))).resolve()


BUNDLED_DIR = bundled_dir()
