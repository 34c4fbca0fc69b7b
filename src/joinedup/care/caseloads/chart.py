"""Each worker's load as a small server-rendered SVG bar chart (as the population pages draw theirs: no JavaScript,
nothing downloaded). The chart is an `<svg role="img">` with a title and a description; the page's table of the same
figures is the accessible alternative. Every bar has its number written beside it, so colour is never the only
way to read it."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from .team import WorkerLoad

SERIES = (("Open episodes", "#005eb8"), ("Open tasks, not overdue", "#330072"), ("Overdue tasks", "#d5281b"))
INK = "#212b32"
FONT = 'font-family="Frutiger W01, Arial, sans-serif" font-size="13"'


def load_chart(loads: Sequence[WorkerLoad], ident: str = "team-load") -> Markup:
    label_width, bar_width, row, legend = 170, 360, 26, 24
    height = legend * len(SERIES) + max(len(loads), 1) * row + 16
    width = label_width + bar_width + 60
    biggest = max((w.episodes + w.tasks for w in loads), default=0) or 1
    description = "; ".join(
        f"{w.member.name}: {w.episodes} open episodes, {w.tasks} open tasks of which {w.overdue} overdue" for w in loads
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'style="max-width: {width * 1.25:.0f}px" aria-labelledby="{ident}-title {ident}-desc" {FONT}>'
        f'<title id="{ident}-title">Each worker\'s load</title>'
        f'<desc id="{ident}-desc">{escape(description or "The team has no workers.")}</desc>'
    ]
    for number, (name, colour) in enumerate(SERIES):
        y = 4 + number * legend
        parts.append(f'<rect x="0" y="{y}" width="14" height="14" fill="{colour}"/>'
                     f'<text x="20" y="{y + 12}" fill="{INK}">{escape(name)}</text>')  # fmt: skip
    top = legend * len(SERIES) + 8
    for index, load in enumerate(loads):
        y = top + index * row
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">'
                     f"{escape(load.member.name)}</text>")  # fmt: skip
        x = float(label_width)
        for value, (_, colour) in zip((load.episodes, load.tasks - load.overdue, load.overdue), SERIES, strict=True):
            size = bar_width * value / biggest
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{size:.1f}" height="{row - 8}" fill="{colour}"/>')
            x += size
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" fill="{INK}">{load.episodes + load.tasks}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
