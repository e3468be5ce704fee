"""Session scripts: the one format every kind's session writes and ``gdlab replay`` reads
(docs/sessions.md)."""

from __future__ import annotations

import json
from typing import Any

FORMAT_VERSION = 1


def script_text(actions: list[dict[str, Any]]) -> str:
    """A replay script (JSON) of ``actions``."""
    return json.dumps({"gdlab_session": FORMAT_VERSION, "actions": actions}, indent=2) + "\n"
