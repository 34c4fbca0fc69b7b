"""Trends over time: each refresh keeps a snapshot of the levels of need and the mean predicted risk, by place,
neighbourhood and GP practice, at its index date.

A trend is the series of those snapshots, so it grows as refreshes run (monthly or quarterly in practice) and can
be backfilled by refreshing at earlier index dates (`joinedup population refresh --history-quarters N` scores the
place again at each of the N quarter ends before the index date). A snapshot is replaced, not duplicated, when the
same index date is refreshed again, so refreshes stay idempotent. Only aggregates are kept: no person-level rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

GROUPINGS = {"place": "'Whole place'", "neighbourhood": "coalesce(s.neighbourhood, 'Not known')",
             "practice": "coalesce(s.practice_id, 'Not known')"}  # fmt: skip


def quarter_ends_before(index_date: date, quarters: int) -> list[date]:
    """The last day of each of the `quarters` calendar quarters before the one holding `index_date`, oldest first."""
    ends: list[date] = []
    year, quarter = index_date.year, (index_date.month - 1) // 3  # the quarter before index_date's (0-based)
    for _ in range(quarters):
        if quarter == 0:
            year, quarter = year - 1, 4
        month = quarter * 3
        following = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(date.fromordinal(following.toordinal() - 1))
        quarter -= 1
    return sorted(ends)


def record_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Keep this refresh's levels and mean risk at its index date(s)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS trend_snapshot (index_date DATE, grouping VARCHAR, grp VARCHAR, level INTEGER, "
        "level_name VARCHAR, people BIGINT, mean_risk DOUBLE)"
    )
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM trend_snapshot WHERE index_date IN (SELECT DISTINCT index_date FROM segment)")
        for grouping, expression in GROUPINGS.items():
            con.execute(
                f"INSERT INTO trend_snapshot SELECT s.index_date, '{grouping}', {expression}, s.level, "
                "any_value(s.level_name), count(*), avg(r.probability) "
                "FROM segment s JOIN risk r USING (person_id, index_date) WHERE s.level IS NOT NULL "
                "GROUP BY s.index_date, 3, s.level"
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class TrendSeries:
    """One group's snapshots: for each index date, adults per level (1..4) and their mean predicted risk."""

    grouping: str
    group: str
    dates: tuple[date, ...]
    people: tuple[tuple[int, ...], ...]  # per date, adults in levels 1..4
    mean_risk: tuple[float, ...]  # per date, over the group's adults
    level_names: dict[int, str]


def groups(con: duckdb.DuckDBPyConnection, grouping: str) -> list[str]:
    if not _has_snapshots(con):
        return []
    rows = con.execute("SELECT DISTINCT grp FROM trend_snapshot WHERE grouping = ? ORDER BY 1", [grouping]).fetchall()
    return [str(r[0]) for r in rows]


def series(con: duckdb.DuckDBPyConnection, grouping: str, group: str) -> TrendSeries:
    rows = (
        con.execute(
            "SELECT index_date, level, level_name, people, mean_risk FROM trend_snapshot "
            "WHERE grouping = ? AND grp = ? ORDER BY index_date, level",
            [grouping, group],
        ).fetchall()
        if _has_snapshots(con)
        else []
    )
    by_date: dict[date, list[int]] = {}
    risk_sum: dict[date, float] = {}
    names: dict[int, str] = {}
    for when, level, name, people, mean_risk in rows:
        by_date.setdefault(when, [0, 0, 0, 0])[int(level) - 1] = int(people)
        risk_sum[when] = risk_sum.get(when, 0.0) + float(mean_risk) * int(people)
        names[int(level)] = str(name)
    dates = tuple(sorted(by_date))
    people = tuple(tuple(by_date[d]) for d in dates)
    mean_risk = tuple(risk_sum[d] / max(1, sum(by_date[d])) for d in dates)
    return TrendSeries(grouping, group, dates, people, mean_risk, names)


def _has_snapshots(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'trend_snapshot'").fetchone()
    return bool(found and found[0])
