"""Getting resources into DuckDB's `resources` table: from bulk ndjson folders or from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from .sof.duckdb_runner import RESOURCES_DDL


def load_ndjson(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """Every `<Type>.ndjson` under folder (Bulk Data names files by type, so the name gives the type)."""
    con.execute("DROP TABLE IF EXISTS resources")
    pattern = str(folder / "**" / "*.ndjson").replace("'", "''")
    con.execute(
        "CREATE TABLE resources AS SELECT regexp_extract(filename, '([A-Za-z]+)[.]ndjson$', 1) AS resource_type, "
        f"NULL::VARCHAR AS id, json AS resource FROM read_ndjson_objects('{pattern}', filename = true)"
    )
    row = con.execute("SELECT count(*) FROM resources").fetchone()
    return int(row[0]) if row else 0


def load_store(con: duckdb.DuckDBPyConnection, engine: Any, batch_size: int = 50_000) -> int:
    """The store's current (not deleted) resources, read in batches through SQLAlchemy Core.

    Reads the `resources` table directly, as the analytics mirror of the whole place: analysts see pseudonymised
    outputs, never these rows (see decision 0400).
    """
    import pandas as pd  # type: ignore[import-untyped]  # pandas ships no stubs in the lock
    from sqlalchemy import select

    from joinedup.store.schema import resources as table

    con.execute("DROP TABLE IF EXISTS resources")
    con.execute(RESOURCES_DDL)
    query = select(table.c.resource_type, table.c.id, table.c.content).where(table.c.deleted.is_(False))
    total = 0
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(query)
        for rows in result.partitions(batch_size):
            frame = pd.DataFrame(
                {
                    "resource_type": [r[0] for r in rows],
                    "id": [r[1] for r in rows],
                    "resource": [bytes(r[2]).decode() for r in rows],
                }
            )
            con.register("batch_frame", frame)
            con.execute("INSERT INTO resources SELECT resource_type, id, resource FROM batch_frame")
            con.unregister("batch_frame")
            total += len(rows)
    return total
