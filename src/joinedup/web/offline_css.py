"""The NHS.UK frontend's stylesheets as the app serves them: with nothing fetched from another host.

The package's built CSS loads the Frutiger web font from assets.nhs.uk (`@font-face` rules with remote URLs). The
font is licensed and not in the npm package, so on a network without internet every page waited for a font that
never came. Here those rules are removed and the body's font stack gains local system fonts: Frutiger is still used
where a machine has it installed, and otherwise the operating system's own interface font.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

# An @font-face rule whose sources include a URL on another host (the only kind the package has).
REMOTE_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*url\(\s*['\"]?https?://[^}]*\}", re.IGNORECASE)
# The body's stack, minified (`Frutiger W01,arial,sans-serif`) or not (`"Frutiger W01", arial, sans-serif`).
NHS_FONT_STACK = re.compile(r'font-family:\s*"?Frutiger W01"?\s*,\s*arial\s*,\s*sans-serif', re.IGNORECASE)
LOCAL_FONT_STACK = (
    'font-family:"Frutiger W01","Frutiger LT W01",Frutiger,system-ui,-apple-system,"Segoe UI",Roboto,'
    '"Helvetica Neue",arial,"Liberation Sans","Noto Sans",sans-serif'
)


def offline_stylesheet(css: str) -> str:
    """The stylesheet without remote @font-face rules, the body's font stack ending in local fonts."""
    return NHS_FONT_STACK.sub(LOCAL_FONT_STACK, REMOTE_FONT_FACE.sub("", css))


@functools.lru_cache(maxsize=16)
def _rewritten(path: Path, modified_ns: int) -> bytes:
    return offline_stylesheet(path.read_text(encoding="utf-8")).encode()


def offline_stylesheet_file(path: Path) -> bytes:
    """A stylesheet from disk, rewritten once per version of the file."""
    return _rewritten(path, path.stat().st_mtime_ns)
