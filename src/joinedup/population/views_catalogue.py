"""The population views (SQL on FHIR ViewDefinitions kept as versioned JSON in `views/`), run into DuckDB tables."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import duckdb
import orjson

from .sof.views import CompiledView, compile_view

VIEW_NAMES = (
    "patient",
    "person_link",
    "condition",
    "encounter",
    "admission",
    "medication",
    "observation",
    "service",
    "care_home_residence",
    "death",
    "consent",
)


@cache
def view_definition(name: str) -> dict[str, Any]:
    text = resources.files("joinedup.population").joinpath("views", f"{name}.json").read_bytes()
    definition: dict[str, Any] = orjson.loads(text)
    return definition


def compiled_views(dialect: str = "duckdb", source: str = "resources") -> list[CompiledView]:
    return [compile_view(view_definition(name), dialect, source) for name in VIEW_NAMES]


def build_views(con: duckdb.DuckDBPyConnection, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Each view as a table `v_<name>`; returns the row counts."""
    counts: dict[str, int] = {}
    for view in compiled_views():
        con.execute(f"CREATE OR REPLACE TABLE v_{view.name} AS {view.sql}")
        row = con.execute(f"SELECT count(*) FROM v_{view.name}").fetchone()
        counts[view.name] = int(row[0]) if row else 0
        if progress is not None:
            progress(view.name)
    return counts
