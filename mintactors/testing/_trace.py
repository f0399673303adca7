"""Reading a trace back for assertions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["read_trace"]


def read_trace(source: str | Path) -> list[dict[str, Any]]:
    """Parse JSON-lines trace text, or the file at a path, into a list of events."""
    text = source.read_text() if isinstance(source, Path) else source
    return [json.loads(line) for line in text.splitlines() if line]
