"""The official SQL on FHIR v2 test suite (../shared/data/sql-on-fhir-v2/tests), shared by its runs on each engine.

Every case of every file is a test; each engine's module ends with a test that the cases which ran to a pass are
exactly the cases the files hold, so that a case skipped or left out (by a skip, a selection or an error in reading
the files) fails the run instead of passing unseen. Rows are compared as multisets (the specification does not fix
row order), decimals to 1e-9; a case's `expectColumns` is checked against the columns the engine returned, rows or
no rows.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from joinedup.population.sof.views import ViewTable

SUITE = Path(__file__).resolve().parents[3] / "shared" / "data" / "sql-on-fhir-v2" / "tests"
ABSENT = f"SQL on FHIR suite not found at {SUITE}"

Case = dict[str, Any]
Resources = list[dict[str, Any]]


def case_id(path: Path, number: int, case: Case) -> str:
    return f"{path.stem}-{number}-{case['title']}"


def _files() -> list[Path]:
    return sorted(SUITE.glob("*.json"))


def expected_ids() -> set[str]:
    """Every case the suite's files hold, read afresh (not from the parametrisation, which it checks)."""
    found = set()
    for path in _files():
        for number, case in enumerate(json.loads(path.read_text())["tests"]):
            found.add(case_id(path, number, case))
    return found


def cases() -> list[Any]:
    """One pytest parameter (resources, case) per case, with its id; one skipped parameter when the suite is absent."""
    if not SUITE.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=ABSENT))]
    params = []
    for path in _files():
        suite = json.loads(path.read_text())
        for number, case in enumerate(suite["tests"]):
            params.append(pytest.param(suite["resources"], case, id=case_id(path, number, case)))
    return params


def _normal(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 9) + 0.0
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def multiset(rows: list[dict[str, Any]]) -> Counter[tuple[tuple[str, Any], ...]]:
    return Counter(tuple(sorted((k, _normal(v)) for k, v in row.items())) for row in rows)


def check_case(case: Case, run: Callable[[], ViewTable], errors: tuple[type[BaseException], ...]) -> None:
    """Run one case and check it: the error it expects, or its rows and (when it names them) its columns."""
    if case.get("expectError"):
        with pytest.raises(errors):
            run()
        return
    table = run()
    if "expectColumns" in case:
        assert table.columns == case["expectColumns"]
        assert all(list(row) == case["expectColumns"] for row in table.rows)
    assert multiset(table.rows) == multiset(case["expect"])


class Ledger:
    """The cases that ran to a pass on one engine, for the module's closing count."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.passed: set[str] = set()

    def record(self, request: pytest.FixtureRequest) -> None:
        self.passed.add(request.node.callspec.id)

    def check_every_case_ran(self) -> None:
        if not SUITE.is_dir():
            pytest.skip(ABSENT)
        expected = expected_ids()
        assert len(expected) > 100, f"only {len(expected)} cases read from {SUITE}"
        missing = sorted(expected - self.passed)
        assert not missing, (
            f"{len(expected) - len(missing)} of {len(expected)} SQL on FHIR cases ran and passed on {self.engine}; "
            f"not run or not passed: {missing[:20]}{' …' if len(missing) > 20 else ''}"
        )
        assert self.passed == expected
