"""Where Splink runs: DuckDB on one machine, Spark (local mode or a cluster) beyond it. Same settings on both."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

import duckdb
import pandas  # type: ignore[import-untyped]
from splink import DuckDBAPI
from splink.internals.database_api import DatabaseAPISubClass

from .record import COLUMNS, LinkageRecord, columns_of

MEMORY_LIMIT = "6GB"
_DUCKDB_TYPES = {"string": "VARCHAR", "array<string>": "VARCHAR[]", "boolean": "BOOLEAN"}


class Backend(Protocol):
    """An engine for Splink: its database API and how linkage records become its input tables."""

    name: str

    def db_api(self) -> DatabaseAPISubClass: ...

    def input_tables(self, records: Sequence[LinkageRecord], split_by_source: bool) -> tuple[list[Any], list[str]]:
        """(tables, aliases): one table, or one per source (for link-only) named by source."""
        ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query over the engine's tables (e.g. Splink's predictions) as tuples."""
        ...


def _sources(records: Sequence[LinkageRecord]) -> list[str]:
    return sorted({r.source for r in records})


class DuckDBBackend:
    """DuckDB in process (in memory unless a database file is given)."""

    name = "duckdb"

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection | None = None,
        threads: int | None = None,
        memory_limit: str = MEMORY_LIMIT,
    ) -> None:
        self.connection = connection or duckdb.connect()
        self.connection.execute("SET enable_progress_bar = false")
        # One thread per core; a memory cap so a borough's blocking spills to disk rather than crowd out the
        # machine's other work (DuckDB's default is 80% of RAM).
        self.connection.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
        self.connection.execute(f"SET memory_limit = '{memory_limit}'")
        self._counter = 0

    def db_api(self) -> DatabaseAPISubClass:
        return DuckDBAPI(connection=self.connection)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql).fetchall()

    def input_tables(self, records: Sequence[LinkageRecord], split_by_source: bool) -> tuple[list[Any], list[str]]:
        self._counter += 1
        table = f"linkage_records_{self._counter}"
        frame = pandas.DataFrame(columns_of(records))
        view = f"{table}_input"
        self.connection.register(view, frame)
        casts = ", ".join(f"CAST({name} AS {_DUCKDB_TYPES[kind]}) AS {name}" for name, kind in COLUMNS)
        self.connection.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {casts} FROM {view}")
        self.connection.unregister(view)
        if not split_by_source:
            return [table], ["records"]
        tables: list[Any] = []
        for index, source in enumerate(_sources(records)):
            name = f"{table}_s{index}"
            self.connection.execute(
                f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {table} WHERE source = ?", [source]
            )
            tables.append(name)
        return tables, _sources(records)


class SparkBackend:
    """Spark through pyspark; `local_session` starts local mode with Splink's similarity functions registered."""

    name = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    @staticmethod
    def local_session(cores: int = 2, app_name: str = "joinedup-linkage") -> Any:
        from joinedup.spark import local_session

        return local_session(app_name, cores)

    def db_api(self) -> DatabaseAPISubClass:
        from splink import SparkAPI

        api: DatabaseAPISubClass = SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=self.spark, num_partitions_on_repartition=2, break_lineage_method="persist"
        )
        return api

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def input_tables(self, records: Sequence[LinkageRecord], split_by_source: bool) -> tuple[list[Any], list[str]]:
        schema = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
        columns = columns_of(records)
        rows = list(zip(*(columns[name] for name, _ in COLUMNS), strict=True))
        frame = self.spark.createDataFrame(rows, schema=schema)
        if not split_by_source:
            return [frame], ["records"]
        sources = _sources(records)
        return [frame.filter(frame.source == s) for s in sources], sources
