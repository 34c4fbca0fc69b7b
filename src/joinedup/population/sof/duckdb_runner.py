"""Running compiled views on DuckDB over a `resources` table of JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import orjson

from .views import CompiledView, ViewTable, compile_view

RESOURCES_DDL = "CREATE TABLE IF NOT EXISTS resources (resource_type VARCHAR, id VARCHAR, resource JSON)"


def load_resources(con: duckdb.DuckDBPyConnection, resources: Iterable[dict[str, Any]]) -> None:
    """Small loads (tests, the conformance suite): rows through executemany."""
    con.execute(RESOURCES_DDL)
    rows = [(r["resourceType"], r.get("id"), orjson.dumps(r).decode()) for r in resources]
    if rows:
        con.executemany("INSERT INTO resources VALUES (?, ?, ?)", rows)


def run_view(con: duckdb.DuckDBPyConnection, view: dict[str, Any] | CompiledView) -> list[dict[str, Any]]:
    """A view's rows as dictionaries, values in Python types (collection columns parsed from JSON)."""
    return run_view_table(con, view).rows


def run_view_table(con: duckdb.DuckDBPyConnection, view: dict[str, Any] | CompiledView) -> ViewTable:
    """A view's result with its column names as the engine reports them (known even when there are no rows)."""
    compiled = view if isinstance(view, CompiledView) else compile_view(view, "duckdb")
    cursor = con.execute(compiled.sql)
    names = [column[0] for column in cursor.description or ()]
    collections = {c.name for c in compiled.columns if c.collection}
    result = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        for name in collections:
            if row[name] is not None:
                row[name] = orjson.loads(row[name])
        result.append(row)
    return ViewTable(names, result)
