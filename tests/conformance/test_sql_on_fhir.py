"""The official SQL on FHIR v2 test suite (sof_suite.py) on DuckDB: each case's resources loaded into a fresh
in-memory DuckDB, its view compiled to one SQL query and run. The last test checks that every case in the files ran
and passed, so it and the cases stay in one worker (an xdist group) and in file order."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from joinedup.population.sof.duckdb_runner import load_resources, run_view_table
from joinedup.population.sof.views import ViewTable

from .sof_suite import Ledger, cases, check_case

pytestmark = pytest.mark.xdist_group("sof-duckdb")
LEDGER = Ledger("DuckDB")


def run_case(resources: list[dict[str, Any]], case: dict[str, Any]) -> ViewTable:
    con = duckdb.connect()
    try:
        load_resources(con, resources)
        return run_view_table(con, case["view"])
    finally:
        con.close()


@pytest.mark.parametrize(("resources", "case"), cases())
def test_sql_on_fhir_case(
    request: pytest.FixtureRequest, resources: list[dict[str, Any]], case: dict[str, Any]
) -> None:
    check_case(case, lambda: run_case(resources, case), (ValueError, duckdb.Error))
    LEDGER.record(request)


def test_every_case_ran_on_duckdb() -> None:
    LEDGER.check_every_case_ran()
