"""Small server-rendered SVG charts for the population pages: no JavaScript, nothing downloaded.

Each chart is an `<svg role="img">` with a title and a description; the page puts a table of the same figures
beside it, which is the accessible alternative (screen readers and anyone who wants the numbers). Colours are
NHS identity colours that keep contrast against white; every series also has a text label in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# NHS blue, warm yellow, orange, red: the four levels; dark grey for a single series.
SERIES_COLOURS = ("#005eb8", "#ffb81c", "#ed8b00", "#d5281b", "#330072", "#007f3b")
INK = "#212b32"
GRID = "#d8dde0"
FONT = 'font-family="Frutiger W01, Arial, sans-serif" font-size="13"'


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


def _open(width: int, height: int, title: str, description: str, ident: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'style="max-width: {width * 1.25:.0f}px" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="population-chart" {FONT}>'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
    )


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = []
    for number, one in enumerate(series):
        top = y + number * 20
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        parts.append(
            f'<rect x="{x}" y="{top}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 20}" y="{top + 12}" fill="{INK}">{escape(one.name)}</text>'
        )
    return "".join(parts)


def _ceiling(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value * (1 - 1e-9))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"


def stacked_bars(
    labels: Sequence[str], series: Sequence[Series], title: str, description: str, ident: str, percent: bool = False
) -> Markup:
    """Horizontal bars, one per label, each split by series (percent: the values are shares summing to 1)."""
    label_width, bar_width, row = 150, 440, 22
    legend_width = 240
    width, height = label_width + bar_width + legend_width + 20, max(len(labels) * row + 40, len(series) * 20 + 30)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = 1.0 if percent else _ceiling(max(totals, default=0))
    parts = [_open(width, height, title, description, ident)]
    for i, label in enumerate(labels):
        y = 10 + i * row
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        x = float(label_width)
        for number, one in enumerate(series):
            size = bar_width * one.values[i] / top if top else 0
            colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{size:.1f}" height="{row - 6}" fill="{colour}"/>')
            x += size
    axis_y = 14 + len(labels) * row
    parts.append(f'<line x1="{label_width}" y1="{axis_y}" x2="{label_width + bar_width}" y2="{axis_y}" '
                 f'stroke="{GRID}"/>')  # fmt: skip
    end = "100%" if percent else _number(top)
    parts.append(f'<text x="{label_width}" y="{axis_y + 16}" fill="{INK}">0</text>')
    parts.append(f'<text x="{label_width + bar_width}" y="{axis_y + 16}" text-anchor="end" fill="{INK}">{end}</text>')
    parts.append(_legend(series, label_width + bar_width + 20, 10))
    parts.append("</svg>")
    return Markup("".join(parts))


def pyramid(bands: Sequence[str], left: Series, right: Series, title: str, description: str, ident: str) -> Markup:
    """A population pyramid: age bands from oldest at the top, `left` and `right` (e.g. women and men) outwards."""
    half, centre_gap, row = 220, 70, 20
    width = 2 * half + centre_gap + 20
    height = len(bands) * row + 50
    top = _ceiling(max([*left.values, *right.values], default=0))
    centre = 10 + half + centre_gap / 2
    parts = [_open(width, height, title, description, ident)]
    parts.append(f'<text x="{10 + half}" y="14" text-anchor="end" fill="{INK}">{escape(left.name)}</text>')
    parts.append(f'<text x="{10 + half + centre_gap}" y="14" fill="{INK}">{escape(right.name)}</text>')
    for position, band in enumerate(reversed(range(len(bands)))):
        y = 22 + position * row
        size_left = half * left.values[band] / top
        size_right = half * right.values[band] / top
        parts.append(
            f'<rect x="{10 + half - size_left:.1f}" y="{y}" width="{size_left:.1f}" height="{row - 4}" '
            f'fill="{SERIES_COLOURS[0]}"/>'
            f'<rect x="{10 + half + centre_gap:.1f}" y="{y}" width="{size_right:.1f}" height="{row - 4}" '
            f'fill="{SERIES_COLOURS[4]}"/>'
            f'<text x="{centre}" y="{y + 13}" text-anchor="middle" fill="{INK}">{escape(bands[band])}</text>'
        )
    axis_y = 30 + len(bands) * row
    parts.append(f'<text x="10" y="{axis_y}" fill="{INK}">{_number(top)}</text>')
    parts.append(f'<text x="{width - 10}" y="{axis_y}" text-anchor="end" fill="{INK}">{_number(top)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(
    labels: Sequence[str], values: Sequence[float], title: str, description: str, ident: str, every: int = 1
) -> Markup:
    """Vertical columns (a histogram or counts per period); every: label every n-th column."""
    left, plot_width, plot_height = 50, 600, 200
    width, height = left + plot_width + 20, plot_height + 60
    top = _ceiling(max(values, default=0))
    step = plot_width / max(len(values), 1)
    parts = [_open(width, height, title, description, ident)]
    for fraction in (0.0, 0.5, 1.0):
        y = 10 + plot_height * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y}" x2="{left + plot_width}" y2="{y}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" fill="{INK}">{_number(top * fraction)}'
                     "</text>")  # fmt: skip
    for i, value in enumerate(values):
        size = plot_height * value / top
        x = left + i * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{10 + plot_height - size:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{size:.1f}" fill="{SERIES_COLOURS[0]}"/>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{plot_height + 28}" text-anchor="middle" fill="{INK}">'
                f"{escape(labels[i])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def calibration(points: Sequence[tuple[float, float]], title: str, description: str, ident: str) -> Markup:
    """Observed against predicted (both 0..1) with the line of perfect calibration."""
    left, size = 50, 260
    top = _ceiling(max([max(p, o) for p, o in points], default=0.1))
    parts = [_open(left + size + 20, size + 60, title, description, ident)]

    def at(value: float) -> float:
        return value / top * size

    parts.append(f'<line x1="{left}" y1="{10 + size}" x2="{left + size}" y2="10" stroke="{GRID}" '
                 'stroke-dasharray="4 4"/>')  # fmt: skip
    parts.append(f'<line x1="{left}" y1="{10 + size}" x2="{left + size}" y2="{10 + size}" stroke="{INK}"/>'
                 f'<line x1="{left}" y1="10" x2="{left}" y2="{10 + size}" stroke="{INK}"/>')  # fmt: skip
    for predicted, observed in points:
        parts.append(f'<circle cx="{left + at(predicted):.1f}" cy="{10 + size - at(observed):.1f}" r="5" '
                     f'fill="{SERIES_COLOURS[0]}"/>')  # fmt: skip
    parts.append(f'<text x="{left + size / 2}" y="{size + 45}" text-anchor="middle" fill="{INK}">'
                 f"Predicted (up to {top:.0%})</text>")  # fmt: skip
    parts.append(f'<text x="14" y="{10 + size / 2}" transform="rotate(-90 14 {10 + size / 2})" text-anchor="middle" '
                 f'fill="{INK}">Observed</text>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
