"""Copy a loaded SQLite store into a PostgreSQL database, table by table, for the PostgreSQL serving figures.

Serving is measured on stores of over a million resources. Loading that many through `joinedup load` a second
time would add most of an hour to every run and measure nothing new (ingest is measured on its own sample), so the
PostgreSQL serving store is the SQLite store's own rows, written with COPY: the same resources, versions and
search index rows that the loader made.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from joinedup.store.engine import make_engine, refresh_statistics
from joinedup.store.migrate import upgrade
from joinedup.store.schema import INDEX_TABLES, resource_versions, resources

BOOLEAN_COLUMNS = {"deleted"}


def _columns(table_name: str) -> list[str]:
    tables = {resources.name: resources, resource_versions.name: resource_versions}
    tables.update({table.name: table for table in INDEX_TABLES.values()})
    return [column.name for column in tables[table_name].columns]


def copy_store(sqlite_file: Path, postgres_url: str, progress: Callable[[str, int], None] | None = None) -> int:
    """Copy every store table; returns the number of resources copied."""
    upgrade(postgres_url)
    source = sqlite3.connect(sqlite_file)
    url = make_url(postgres_url).set(drivername="postgresql")
    names = [resources.name, resource_versions.name, *(t.name for t in INDEX_TABLES.values())]
    with psycopg.connect(url.render_as_string(hide_password=False)) as target:
        for name in names:
            columns = _columns(name)
            booleans = [i for i, c in enumerate(columns) if c in BOOLEAN_COLUMNS]
            copied = 0
            with target.cursor() as cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {', '.join(columns)} FROM {name}"):
                    if booleans:
                        row = tuple(bool(v) if i in booleans else v for i, v in enumerate(row))
                    copy.write_row(row)
                    copied += 1
            if progress:
                progress(name, copied)
        target.execute("SELECT setval(pg_get_serial_sequence('resources', 'pk'), (SELECT max(pk) FROM resources))")
        target.commit()
    count = int(source.execute("SELECT count(*) FROM resources").fetchone()[0])
    source.close()
    engine = make_engine(postgres_url)
    refresh_statistics(engine)
    engine.dispose()
    return count
