"""When the code being served was built: the CapabilityStatement's date (and anything else that must say which
build answered). Read once per process."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def build_date() -> str:
    """The day (UTC) of the newest file of the installed package — its sources, templates and data — so a change to
    what the server does moves the date, and an unchanged build keeps it."""
    root = Path(__file__).parent
    newest = max(
        path.stat().st_mtime
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    return datetime.fromtimestamp(newest, tz=UTC).date().isoformat()
