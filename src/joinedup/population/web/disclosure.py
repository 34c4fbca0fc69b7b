"""Small-number suppression for every aggregate the population pages show.

A count of 1 to 7 people (or events) could point at someone, so it is shown as "<8", and the share worked out
from it is not shown at all; every other count is rounded to the nearest 5, so that suppressed cells cannot be
worked back from a total and its other cells. Zero stays zero (it discloses no one). Charts plot the same
published numbers as their tables (a suppressed cell as zero). The case-finding list and its CSV are not
aggregates: they are the direct-care list for the neighbourhood's MDG, keyed by pseudonym (decision 0400).
"""

from __future__ import annotations

SMALLEST_SHOWN = 8
ROUND_TO = 5
SUPPRESSED = f"<{SMALLEST_SHOWN}"


def suppressed(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


def published(count: int) -> int:
    """The number a chart plots: 0 for a suppressed count, otherwise rounded to the nearest 5."""
    if suppressed(count):
        return 0
    return int(ROUND_TO * round(count / ROUND_TO))


def shown(count: int) -> str:
    """The number a table shows: "<8" for a suppressed count, otherwise rounded to the nearest 5."""
    return SUPPRESSED if suppressed(count) else f"{published(count):,}"


def shown_share(count: int, total: int) -> str:
    """A percentage of a group, or "" where the count or the group is suppressed (the share would disclose it)."""
    if suppressed(count) or suppressed(total) or total == 0:
        return ""
    return f"{published(count) / published(total) * 100:.1f}%"
