"""The whole refresh on Spark local mode gives DuckDB's tables row for row, on a small generated place."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from joinedup.population.loading import NdjsonSource
from joinedup.population.refresh import refresh
from joinedup.population.spark_refresh import register_ndjson, spark_refresh
from joinedup.population.views_catalogue import VIEW_NAMES
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_place

from .spark_session import spark_session

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

INDEX = date(2024, 12, 31)
TABLES = (
    *(f"v_{name}" for name in VIEW_NAMES),
    "person_map",
    "person",
    "person_features",
    "risk",
    "segment",
    "case_finding",
)


def _value(value: Any) -> Any:
    """One cell as plain Python: Spark gives decimals where DuckDB gives doubles (efi, rounded in SQL), and
    arrays as lists either way; probabilities are compared to 12 decimal places (the same model, two engines'
    float formatting)."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 12)
    if isinstance(value, (list, tuple)):
        return tuple(_value(item) for item in value)
    return value


def _rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_value(cell) for cell in row) for row in rows), key=repr)


def test_spark_refresh_agrees_with_duckdb_row_for_row(tmp_path: Path) -> None:
    spark = spark_session()
    generate_place(tmp_path, SynthConfig(people=60, seed=9))
    feeds = tmp_path / "feeds"
    con = duckdb.connect()
    duck = refresh(con, INDEX, source=NdjsonSource(feeds))
    register_ndjson(spark, feeds)
    sparked = spark_refresh(spark, INDEX)
    assert sparked.auc == pytest.approx(duck.model.auc)
    for table in TABLES:
        columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
        assert spark.table(table).columns == columns, table
        ours = _rows(con.execute(f"SELECT * FROM {table}").fetchall())
        theirs = _rows(spark.table(table).collect())
        assert theirs == ours, table
    for table in ("v_encounter", "person", "person_features", "risk", "segment", "case_finding"):
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None and row[0] > 0, f"{table} is empty: the comparison above would prove little"
