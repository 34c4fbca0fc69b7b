"""The population views give the same rows on Spark as on DuckDB (hand-built place)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from joinedup.population.sof import duckdb_runner, spark_runner
from joinedup.population.views_catalogue import VIEW_NAMES, view_definition

from .people import place
from .spark_session import spark_session

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]


def _sorted(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted((k, repr(v)) for k, v in row.items())) for row in rows)


def test_views_agree_row_for_row() -> None:
    spark = spark_session()
    spark_runner.register_resources(spark, place())
    con = duckdb.connect()
    duckdb_runner.load_resources(con, place())
    for name in VIEW_NAMES:
        view = view_definition(name)
        assert _sorted(spark_runner.run_view(spark, view)) == _sorted(duckdb_runner.run_view(con, view)), name
