"""Where the views read resources: bulk ndjson folders read in place, or DuckDB's `resources` table (loaded from
ndjson or from the store)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb

if TYPE_CHECKING:
    from joinedup.access.handle import SystemHandle

from .sof.dialects import duckdb_string
from .sof.duckdb_runner import RESOURCES_DDL

POPULATION_PURPOSE = "population-views"  # the system handle's purpose: audited as 'Device/population-views'


class ResourceSource(Protocol):
    def relation(self, resource_type: str, paths: list[str], with_resource: bool) -> str:
        """A SQL relation of the resources of one type with columns `jp1`, `jp2`, ...: the JSON values at `paths`
        (simple `$.a.b` paths; NULL where absent), and with_resource, the resource itself as `resource`."""
        ...


def _extracted(paths: list[str], document: str, extra: str, relation: str) -> str:
    """The values at paths as columns jp1..jpN, from one JSON parse of `document` per row of relation."""
    if not paths:
        return f"(SELECT NULL AS jp0{extra} FROM {relation})"
    listed = ", ".join(duckdb_string(path) for path in paths)
    columns = ", ".join(f"root[{n}] AS jp{n}" for n in range(1, len(paths) + 1))
    return (
        f"(SELECT {columns}{extra} FROM (SELECT json_extract({document}, [{listed}]) AS root{extra} FROM {relation}))"
    )


@dataclass(frozen=True)
class TableSource:
    """Resources from a loaded table (columns resource_type, resource): one JSON parse per resource."""

    table: str = "resources"

    def relation(self, resource_type: str, paths: list[str], with_resource: bool) -> str:
        extra = ", resource" if with_resource else ""
        of_type = f"(SELECT resource FROM {self.table} WHERE resource_type = {duckdb_string(resource_type)})"
        return _extracted(paths, "resource", extra, of_type)


@dataclass(frozen=True)
class NdjsonSource:
    """Resources read in place from a Bulk Data folder (`<source>/<Type>.ndjson`), with no load step.

    DuckDB's ndjson reader, told which elements to keep, reads a file two to three times as fast as reading whole
    objects and extracting from them, so that is the plan unless a view needs the whole resource. The chains of
    0..1 elements the views read (R4 cardinality, see sof/elements.py) are read as nested STRUCTs down to the JSON
    value they reach, so nothing is parsed twice; this trusts the files to have R4's shape, as Bulk Data files do.
    """

    folder: Path

    def files(self, resource_type: str) -> list[Path]:
        """The files holding resource_type, in a stable order (Bulk Data names a file by its type)."""
        return sorted(self.folder.glob(f"**/{resource_type}.ndjson"))

    def relation(self, resource_type: str, paths: list[str], with_resource: bool) -> str:
        return ndjson_relation([str(path) for path in self.files(resource_type)], paths, with_resource)


def ndjson_relation(files: list[str], paths: list[str], with_resource: bool) -> str:
    """The relation `ResourceSource.relation` describes, over the named ndjson files of one resource type."""
    if not files:
        columns = ", ".join(f"NULL::JSON AS jp{n}" for n in range(1, len(paths) + 1))
        return f"(SELECT {columns}{',' if paths else ''} NULL::JSON AS resource WHERE false)"
    listed = "[" + ", ".join(duckdb_string(name) for name in files) + "]"
    if with_resource or not paths:
        objects = f"(SELECT json AS resource FROM read_ndjson_objects({listed}))"
        return _extracted(paths, "resource", ", resource" if with_resource else "", objects)
    tree = _path_tree(paths)
    columns = ", ".join(f"{duckdb_string(top)}: {duckdb_string(_sql_type(node))}" for top, node in tree.items())
    values = ", ".join(f"{_reader(path, tree)} AS jp{n}" for n, path in enumerate(paths, start=1))
    return f"(SELECT {values} FROM read_ndjson({listed}, columns = {{{columns}}}))"


# The elements read from a file: element -> what is read below it, or None where the element is kept whole (JSON).
PathTree = dict[str, "PathTree | None"]


def _path_tree(paths: list[str]) -> PathTree:
    tree: PathTree = {}
    for path in paths:
        node = tree
        steps = path.split(".")[1:]
        for position, step in enumerate(steps):
            if position == len(steps) - 1:
                node[step] = None  # kept whole, even where a longer path reads inside it too
                break
            if step in node and node[step] is None:
                break
            child = node.setdefault(step, {})
            assert child is not None
            node = child
    return tree


def _sql_type(node: PathTree | None) -> str:
    if node is None:
        return "JSON"
    return "STRUCT(" + ", ".join(f'"{name}" {_sql_type(child)}' for name, child in node.items()) + ")"


def _reader(path: str, tree: PathTree) -> str:
    """The SQL for the value at path, from the columns read as `tree` describes."""
    steps = path.split(".")[1:]
    sql, node = '"' + steps[0] + '"', tree[steps[0]]
    for position, step in enumerate(steps[1:], start=1):
        if node is None:
            return f"json_extract({sql}, {duckdb_string('$.' + '.'.join(steps[position:]))})"
        sql, node = f"struct_extract({sql}, {duckdb_string(step)})", node[step]
    return sql


def load_ndjson(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """Every `<Type>.ndjson` under folder (Bulk Data names files by type, so the name gives the type)."""
    con.execute("DROP TABLE IF EXISTS resources")
    pattern = str(folder / "**" / "*.ndjson").replace("'", "''")
    con.execute(
        "CREATE TABLE resources AS SELECT regexp_extract(filename, '([A-Za-z]+)[.]ndjson$', 1) AS resource_type, "
        f"NULL::VARCHAR AS id, json AS resource FROM read_ndjson_objects('{pattern}', filename = true)"
    )
    row = con.execute("SELECT count(*) FROM resources").fetchone()
    return int(row[0]) if row else 0


def load_store(con: duckdb.DuckDBPyConnection, system: SystemHandle, batch_size: int = 50_000) -> int:
    """The store's current (not deleted) resources, read in batches through the system's handle
    (`gate.for_system(POPULATION_PURPOSE)`): a documented system read of the whole place, audited as the system's
    with how many rows it gave, as the analytics mirror of the place. Analysts see pseudonymised outputs, never
    these rows (see decisions 0400 and 0313).
    """
    import pandas as pd  # type: ignore[import-untyped]  # pandas ships no stubs in the lock

    con.execute("DROP TABLE IF EXISTS resources")
    con.execute(RESOURCES_DDL)
    total = 0
    for rows in system.current_resources(batch_size):
        frame = pd.DataFrame(
            {
                "resource_type": [r[0] for r in rows],
                "id": [r[1] for r in rows],
                "resource": [r[2].decode() for r in rows],
            }
        )
        con.register("batch_frame", frame)
        con.execute("INSERT INTO resources SELECT resource_type, id, resource FROM batch_frame")
        con.unregister("batch_frame")
        total += len(rows)
    return total
