"""The same model on Spark (pyspark local mode) scores a small place as DuckDB does."""

from __future__ import annotations

import math
from typing import Any

import pytest

from joinedup.identity.backends import DuckDBBackend, SparkBackend
from joinedup.identity.model import LinkageModel
from joinedup.identity.record import LinkageRecord

from ..population.spark_session import spark_session

# In the "spark" group: the worker's one local session (started like SparkBackend.local_session, with Splink's
# jar), shared with the population and conformance tests instead of a second JVM or a stop and restart.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="module")
def spark() -> Any:
    return spark_session()


def test_spark_predictions_agree_with_duckdb(
    spark: Any, model: LinkageModel, place: tuple[list[LinkageRecord], dict[str, int]]
) -> None:
    records, _ = place
    tiny = [r for r in records if int(r.patient_id[1:]) < 60]
    on_duckdb = {(p.left, p.right): p for p in model.predict(tiny, backend=DuckDBBackend())}
    on_spark = {(p.left, p.right): p for p in model.predict(tiny, backend=SparkBackend(spark))}
    assert len(on_duckdb) > 40
    assert on_spark.keys() == on_duckdb.keys()
    for key, pair in on_duckdb.items():
        assert on_spark[key].levels == pair.levels
        assert math.isclose(on_spark[key].match_weight, pair.match_weight, abs_tol=1e-6)
