"""Salford's four levels for adults, from the configurable rules in `data/segmentation_rules.json`."""

from __future__ import annotations

from typing import Any

import duckdb

from .code_sets import data_json


def rules() -> dict[str, Any]:
    return data_json("segmentation_rules.json")


def segment_sql(rule_set: dict[str, Any] | None = None) -> str:
    """The statement that builds `segment`: each adult's level, its name and the rule that placed them."""
    chosen = rule_set or rules()
    cases_level, cases_reason = [], []
    for level in sorted(chosen["levels"], key=lambda item: -int(item["level"])):
        for rule in level["rules"]:
            # The rule text is trusted configuration (see the file's "about"); it is wrapped, never interpolated
            # from user input.
            cases_level.append(f"WHEN coalesce(({rule['when']}), false) THEN {int(level['level'])}")
            reason = str(rule["reason"]).replace("'", "''")
            cases_reason.append(f"WHEN coalesce(({rule['when']}), false) THEN '{reason}'")
    names = " ".join(f"WHEN {int(level['level'])} THEN '{level['name']}'" for level in chosen["levels"])
    return f"""
        CREATE OR REPLACE TABLE segment AS
        WITH placed AS (
            SELECT f.person_id, f.index_date, f.age, f.neighbourhood, f.practice_id,
                   CASE {" ".join(cases_level)} END AS level, CASE {" ".join(cases_reason)} END AS reason
            FROM person_features f JOIN risk r USING (person_id, index_date)
            WHERE f.age >= 18)
        SELECT *, CASE level {names} END AS level_name FROM placed
    """


def build_segments(con: duckdb.DuckDBPyConnection, rule_set: dict[str, Any] | None = None) -> None:
    """`segment` at the scored index date, from the rules (default: data/segmentation_rules.json)."""
    con.execute(segment_sql(rule_set))


def shares(con: duckdb.DuckDBPyConnection, by: str) -> list[tuple[str, int, int, float]]:
    """(group, level, people, share of the group) by 'neighbourhood' or 'practice_id'."""
    if by not in ("neighbourhood", "practice_id"):
        raise ValueError("shares are by neighbourhood or practice_id")
    rows = con.execute(f"""
        SELECT coalesce({by}, 'unknown') AS grp, level, count(*) AS people,
               round(count(*) / sum(count(*)) OVER (PARTITION BY coalesce({by}, 'unknown')), 4)
        FROM segment GROUP BY ALL ORDER BY grp, level""").fetchall()
    return [(str(g), int(level), int(n), float(s)) for g, level, n, s in rows]
