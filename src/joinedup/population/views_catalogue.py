"""The population views (SQL on FHIR ViewDefinitions kept as versioned JSON in `views/`), run into DuckDB tables."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import duckdb
import orjson

from .loading import ResourceSource, TableSource
from .sof.views import CompiledView, compile_view

_ROOTS = "\u00abview roots\u00bb"  # stands for the relation of one type's extracted paths until it is known
_READS_RESOURCE = re.compile(r"\bt\.resource\b")

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


def build_views(
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[str], None] | None = None,
    source: ResourceSource | None = None,
) -> dict[str, int]:
    """Each view as a table `v_<name>`; returns the row counts."""
    return build_views_of(con, list(VIEW_NAMES), source, progress)


def build_views_of(
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    source: ResourceSource | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """The named views as tables `v_<name>`; returns the row counts.

    The views of one resource type share one JSON parse per resource: the paths they read are extracted together
    (into a temporary table when more than one view reads them), since parsing is most of the time a view takes.
    """
    resources_of = source or TableSource()
    counts: dict[str, int] = {}
    for group in view_groups(names):
        relation = resources_of.relation(group.resource_type, group.paths, group.needs_resource)
        if len(group.views) > 1:
            con.execute(f"CREATE OR REPLACE TEMP TABLE view_roots AS SELECT * FROM {relation}")
            relation = "view_roots"
        for view in group.views:
            drop_relation(con, f"v_{view.name}")
            con.execute(f"CREATE TABLE v_{view.name} AS {group.sql(view, relation)}")
            row = con.execute(f"SELECT count(*) FROM v_{view.name}").fetchone()
            counts[view.name] = int(row[0]) if row else 0
            if progress is not None:
                progress(view.name)
    con.execute("DROP TABLE IF EXISTS view_roots")
    return counts


@dataclass(frozen=True)
class ViewGroup:
    """The views of one resource type, compiled to read one relation of the paths they all need."""

    resource_type: str
    views: list[CompiledView]
    paths: list[str]
    needs_resource: bool

    def sql(self, view: CompiledView, relation: str) -> str:
        return view.sql.replace(_ROOTS, relation)

    def signature(self) -> str:
        """Changes whenever what the group reads or computes changes (a view, the compiler, the paths)."""
        text = "\n".join([self.resource_type, *self.paths, str(self.needs_resource), *(v.sql for v in self.views)])
        return hashlib.sha256(text.encode()).hexdigest()


def view_groups(names: list[str]) -> list[ViewGroup]:
    by_type: dict[str, list[str]] = {}
    for name in names:
        by_type.setdefault(str(view_definition(name)["resource"]), []).append(name)
    groups = []
    for resource_type, of_type in by_type.items():
        paths: dict[str, int] = {}
        views = [compile_view(view_definition(name), "duckdb", _ROOTS, paths) for name in of_type]
        needs_resource = any(_READS_RESOURCE.search(view.sql) for view in views)
        groups.append(ViewGroup(resource_type, views, list(paths), needs_resource))
    return groups


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view called name, if there is one (a refresh may turn one into the other)."""
    found = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
    ).fetchone()
    if found is not None:
        con.execute(f"DROP {'VIEW' if found[0] == 'VIEW' else 'TABLE'} {name}")
