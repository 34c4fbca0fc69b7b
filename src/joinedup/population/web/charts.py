"""The figures each population page shows, as SVG charts with the tables that carry the same numbers."""

from __future__ import annotations

from typing import Any

import duckdb

from .. import trends
from . import results, svg
from .disclosure import published, suppressed

LEVEL_LABELS = {1: "Level 1", 2: "Level 2", 3: "Level 3", 4: "Level 4"}


def _level_name(names: dict[int, str], level: int) -> str:
    return f"Level {level}: {names.get(level, '')}".rstrip(": ")


def _published_share(shares: results.Shares, group: str, level: int) -> float:
    """A level's share of a group from the published counts (0 where the count is suppressed)."""
    counts, total = shares.people[group]
    return published(counts[level - 1]) / published(total) if published(total) else 0.0


def overview_charts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    pyramid = results.pyramid(con)
    risk = results.risk_distribution(con)
    trend = results.admissions_trend(con)
    bands = pyramid.bands
    # Charts plot the published numbers (small counts suppressed, others rounded), as the tables show them.
    women = svg.Series("Women", tuple(float(published(pyramid.total("female", b))) for b in bands))
    men = svg.Series("Men", tuple(float(published(pyramid.total("male", b))) for b in bands))
    oldest_first = tuple(reversed(bands))  # as the pyramid reads, oldest at the top
    by_level = [
        svg.Series(
            _level_name(pyramid.level_names, level),
            tuple(
                float(published(pyramid.women.get((b, level), 0) + pyramid.men.get((b, level), 0)))
                for b in oldest_first
            ),
        )
        for level in results.LEVELS
    ]
    return {
        "when": pyramid.index_date,
        "pyramid": pyramid,
        "levels": results.LEVELS,
        "level_name": lambda level: _level_name(pyramid.level_names, level),
        "pyramid_svg": svg.pyramid(
            bands,
            women,
            men,
            "Adults by age band and sex",
            "Population pyramid of adults by 10-year age band, women on the left and men on the right. "
            "The table below gives the numbers.",
            "pyramid",
        ),
        "levels_svg": svg.stacked_bars(
            oldest_first,
            by_level,
            "Adults in each level by age band",
            "Bars for each age band split into the four levels of need. The table below gives the numbers.",
            "levels-by-age",
        ),
        "risk": risk,
        "risk_svg": svg.columns(
            risk.bands,
            [float(published(n)) for n in risk.people],
            "People by predicted risk of an emergency admission",
            "Column chart of people in 5-point bands of predicted 12-month emergency admission risk. "
            "The table below gives the numbers.",
            "risk",
            every=4,
        ),
        "calibration_svg": svg.calibration(
            [(p, o) for _, p, o, n in risk.calibration if not suppressed(n)],
            "Predicted against observed risk, by tenth of risk",
            "Each point is a tenth of people ranked by predicted risk; points on the dashed line mean the "
            "predictions match what happened. The table below gives the numbers.",
            "calibration",
        ),
        "trend": trend,
        "trend_svg": svg.columns(
            trend.months,
            [float(published(n)) for n in trend.emergency_admissions],
            "Emergency admissions each month",
            "Column chart of emergency hospital admissions each month across the place. "
            "The table below gives the numbers.",
            "trend",
            every=6,
        ),
    }


def shares_chart(con: duckdb.DuckDBPyConnection, by: str) -> dict[str, Any]:
    shares = results.shares(con, by)
    names = dict(con.execute("SELECT DISTINCT level, level_name FROM segment WHERE level IS NOT NULL").fetchall())
    series = [
        svg.Series(_level_name(names, level), tuple(_published_share(shares, g, level) for g in shares.groups))
        for level in results.LEVELS
    ]
    label = "neighbourhood" if by == "neighbourhood" else "GP practice"
    return {
        "by": by,
        "label": label,
        "shares": shares,
        "levels": results.LEVELS,
        "level_name": lambda level: _level_name(names, level),
        "when": results.index_date(con),
        "shares_svg": svg.stacked_bars(
            shares.groups,
            series,
            f"Share of adults in each level by {label}",
            f"Bars for each {label} split into the four levels of need, as shares of its adults. "
            "The table below gives the numbers.",
            f"shares-{by}",
            percent=True,
        ),
    }


def trends_chart(con: duckdb.DuckDBPyConnection, by: str, group: str) -> dict[str, Any]:
    """Levels of need and mean predicted risk at each refreshed index date, for the place, a neighbourhood or a
    practice (from the snapshots each refresh keeps: population/trends.py)."""
    grouping = by if by in ("neighbourhood", "practice") else "place"
    choices = trends.groups(con, grouping)
    chosen = group if group in choices else (choices[0] if choices else "")
    found = trends.series(con, grouping, chosen)
    labels = tuple(d.strftime("%b %Y") for d in found.dates)
    totals = [sum(people) for people in found.people]
    # Shares are of the published (suppressed, rounded) counts, so the chart says no more than the table does.
    shares = [
        svg.Series(
            _level_name(found.level_names, level),
            tuple(published(people[level - 1]) / max(1, sum(published(n) for n in people)) for people in found.people),
        )
        for level in results.LEVELS
    ]
    label = {"place": "the whole place", "neighbourhood": "neighbourhood", "practice": "GP practice"}[grouping]
    return {
        "by": grouping,
        "label": label,
        "choices": choices,
        "chosen": chosen,
        "trend": found,
        "labels": labels,
        "totals": totals,
        "levels": results.LEVELS,
        "level_name": lambda level: _level_name(found.level_names, level),
        "risk_shown": [not suppressed(total) for total in totals],
        "levels_svg": svg.stacked_bars(
            labels,
            shares,
            f"Share of adults in each level over time: {chosen or label}",
            "Bars for each refresh date split into the four levels of need, as shares of the adults. "
            "The table below gives the numbers.",
            "trend-levels",
            percent=True,
        ),
        "risk_svg": svg.columns(
            labels,
            [100 * r if not suppressed(t) else 0.0 for r, t in zip(found.mean_risk, totals, strict=True)],
            f"Mean predicted risk of an emergency admission over time (%): {chosen or label}",
            "Column chart of the adults' mean predicted 12-month emergency admission risk at each refresh date. "
            "The table below gives the numbers.",
            "trend-risk",
        ),
    }
