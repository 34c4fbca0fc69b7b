"""The whole SQL on FHIR v2 suite (sof_suite.py) on Spark SQL: the same compiled views as on DuckDB, every case.

All cases share the test process's one local Spark session (tests/population/spark_session.py); each registers its
file's resources as a temporary view and runs one query. The last test checks that every case in the files ran and
passed: without Java the cases skip and that test fails, saying so (`make test` installs Java).
"""

from __future__ import annotations

from typing import Any

import pytest
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException

from joinedup.population.sof.spark_runner import register_resources, run_view_table

from ..population.spark_session import spark_session
from .sof_suite import Ledger, cases, check_case

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]
LEDGER = Ledger("Spark")


@pytest.mark.parametrize(("resources", "case"), cases())
def test_sql_on_fhir_case_on_spark(
    request: pytest.FixtureRequest, resources: list[dict[str, Any]], case: dict[str, Any]
) -> None:
    spark = spark_session()
    register_resources(spark, resources)
    # the compiler refuses a view with a ValueError; Spark raises its analysis and runtime errors as its own
    check_case(case, lambda: run_view_table(spark, case["view"]), (ValueError, PySparkException, Py4JJavaError))
    LEDGER.record(request)


def test_every_case_ran_on_spark() -> None:
    LEDGER.check_every_case_ran()
