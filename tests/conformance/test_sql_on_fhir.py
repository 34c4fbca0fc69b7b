"""The official SQL on FHIR v2 test suite (../shared/data/sql-on-fhir-v2/tests), run on DuckDB.

Each test case's resources are loaded into a fresh in-memory DuckDB, its view compiled to one SQL query and run;
rows are compared as multisets (the specification does not fix row order), decimals to 1e-9.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from joinedup.population.sof.duckdb_runner import load_resources, run_view

SUITE = Path(__file__).resolve().parents[3] / "shared" / "data" / "sql-on-fhir-v2" / "tests"


def _cases() -> list[Any]:
    if not SUITE.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"SQL on FHIR suite not found at {SUITE}"))]
    cases = []
    for path in sorted(SUITE.glob("*.json")):
        suite = json.loads(path.read_text())
        for number, case in enumerate(suite["tests"]):
            cases.append(pytest.param(suite["resources"], case, id=f"{path.stem}-{number}-{case['title']}"))
    return cases


def _normal(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 9) + 0.0
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _multiset(rows: list[dict[str, Any]]) -> Counter[tuple[tuple[str, Any], ...]]:
    return Counter(tuple(sorted((k, _normal(v)) for k, v in row.items())) for row in rows)


def run_case(resources: list[dict[str, Any]], case: dict[str, Any]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        load_resources(con, resources)
        return run_view(con, case["view"])
    finally:
        con.close()


@pytest.mark.parametrize(("resources", "case"), _cases())
def test_sql_on_fhir_case(resources: list[dict[str, Any]], case: dict[str, Any]) -> None:
    if case.get("expectError"):
        with pytest.raises((ValueError, duckdb.Error)):
            run_case(resources, case)
        return
    rows = run_case(resources, case)
    assert _multiset(rows) == _multiset(case["expect"])
    if "expectColumns" in case:
        assert all(list(row) == case["expectColumns"] for row in rows)
