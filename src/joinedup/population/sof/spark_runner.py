"""Running compiled views on Spark SQL (pyspark) over a `resources` temporary view of JSON text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from .views import CompiledView, ViewTable, compile_view

# pyspark ships no type information, so the session and frames are Any here.
SparkSession = Any


def local_session(cores: int = 2, app_name: str = "joinedup-population") -> SparkSession:
    """A local-mode session sized for this machine (the process's one session: joinedup.spark)."""
    from joinedup.spark import local_session as shared_session

    return shared_session(app_name, cores)


def register_resources(spark: SparkSession, resources: Iterable[dict[str, Any]], name: str = "resources") -> None:
    """The resources as a temporary view (resource_type, id, resource JSON text)."""
    rows = [(r["resourceType"], r.get("id"), orjson.dumps(r).decode()) for r in resources]
    frame = spark.createDataFrame(rows, "resource_type string, id string, resource string").coalesce(1)
    frame.createOrReplaceTempView(name)


def run_view(spark: SparkSession, view: dict[str, Any] | CompiledView) -> list[dict[str, Any]]:
    return run_view_table(spark, view).rows


def run_view_table(spark: SparkSession, view: dict[str, Any] | CompiledView) -> ViewTable:
    """A view's result with its column names as Spark reports them (known even when there are no rows)."""
    compiled = view if isinstance(view, CompiledView) else compile_view(view, "spark")
    collections = {c.name for c in compiled.columns if c.collection}
    frame = spark.sql(compiled.sql)
    result = []
    for record in frame.collect():
        row = record.asDict()
        for name in collections:
            if row[name] is not None:
                row[name] = orjson.loads(row[name])
        result.append(row)
    return ViewTable(list(frame.columns), result)
