"""A SQL on FHIR v2 ViewDefinition compiled into one SQL query.

Per resource the compiler builds the list of the view's rows (each row a list of JSON items, one per column) as
one SQL expression — forEach is a flat-map, unionAll a concatenation, nested selects a cross product — and the
query explodes that list. So the engine, not Python, walks the resources; the same plan runs on DuckDB or Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dialects import DIALECTS, STRING_TYPES, Dialect
from .elements import is_known_type
from .expressions import ROOT, Compiler, Env, Val, constant_value
from .fhirpath import FhirPathError
from .root_paths import resolve_root_paths

# `repeat` follows its paths recursively; SQL lambdas cannot recurse, so the recursion is unrolled to this depth.
REPEAT_DEPTH = 8


class ViewDefinitionError(ValueError):
    """A view definition that is not valid (or uses something this runner does not support)."""


@dataclass(frozen=True)
class Column:
    name: str
    fhir_type: str
    collection: bool
    path: str = ""


@dataclass(frozen=True)
class CompiledView:
    name: str
    resource: str
    columns: tuple[Column, ...]
    sql: str


@dataclass(frozen=True)
class ViewTable:
    """A view's result as an engine ran it: column names in the engine's order, and rows keyed by them."""

    columns: list[str]
    rows: list[dict[str, Any]]


def _columns(select: dict[str, Any]) -> list[Column]:
    """The columns a select contributes, in the order the specification gives: column, select, unionAll."""
    found = [
        Column(str(c["name"]), str(c.get("type", "")), bool(c.get("collection", False)), str(c.get("path", "")))
        for c in select.get("column", [])
    ]
    for child in select.get("select", []):
        found.extend(_columns(child))
    options = select.get("unionAll", [])
    if options:
        names = [[c.name for c in _columns(option)] for option in options]
        if any(n != names[0] for n in names):
            raise ViewDefinitionError("every unionAll option must have the same columns in the same order")
        found.extend(_columns(options[0]))
    return found


class _RowBuilder:
    def __init__(self, dialect: Dialect, env: Env) -> None:
        self.d = dialect
        self.env = env
        self.fp = Compiler(env)

    def rows(self, select: dict[str, Any], context: Val, row_index: str) -> str:
        """SQL for the list of rows one select yields from a single item `context`."""
        iterate = [key for key in ("forEach", "forEachOrNull", "repeat") if key in select]
        if len(iterate) > 1:
            raise ViewDefinitionError("a select may have only one of forEach, forEachOrNull and repeat")
        if not iterate:
            return self.body(select, context, row_index)
        key = iterate[0]
        if key == "repeat":
            # Descendants reached by several paths may be of several types: the generic plan for them.
            items = Val(self.repeat(select[key], context.sql), "coll")
        else:
            items = self.path_items(select[key], context)
        var, index = self.env.fresh(), self.env.fresh()
        each = Val(var, "item", fhir_type=items.fhir_type)
        per_item = self.d.lam([var, index], self.body(select, each, self._zero_based(index)))
        if self.d.name == "duckdb":
            flat = self.d.flatten(f"list_transform({items.sql}, {per_item})")
        else:
            flat = self.d.flatten(f"transform({items.sql}, {per_item})")
        if key != "forEachOrNull":
            return flat
        # The one row for an empty collection: nulls, except that %rowIndex is 0 there.
        null_row = [self.d.from_num("0") if c.path == "%rowIndex" else self.d.null_item for c in _columns(select)]
        nulls = self.d.array([self.d.array(null_row)])
        return f"(CASE WHEN {self.d.length(items.sql)} = 0 THEN {nulls} ELSE {flat} END)"

    def _zero_based(self, index: str) -> str:
        return f"({index} - 1)" if self.d.name == "duckdb" else index

    def path_items(self, path: object, context: Val) -> Val:
        if not isinstance(path, str):
            raise ViewDefinitionError("forEach and forEachOrNull take a FHIRPath string")
        items = self.fp.compile_text(path, context)
        return Val(self.fp.coll(items).sql, "coll", fhir_type=items.fhir_type)

    def repeat(self, paths: object, context: str, depth: int = REPEAT_DEPTH) -> str:
        """Pre-order descendants: each item reached by a path, then (recursively) what its paths reach."""
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise ViewDefinitionError("repeat takes a list of FHIRPath strings")
        children = self.d.concat([self.path_items(p, Val(context, "item")).sql for p in paths])
        if depth == 1:
            return children
        var = self.env.fresh()
        deeper = self.d.concat([self.d.array([var]), self.repeat(paths, var, depth - 1)])
        return self.d.flat_map(children, self.d.lam([var], deeper))

    def body(self, select: dict[str, Any], context: Val, row_index: str) -> str:
        saved, self.env.row_index = self.env.row_index, row_index
        parts: list[str] = []
        if select.get("column"):
            parts.append(self.d.array([self.d.array([self.column(c, context) for c in select["column"]])]))
        parts.extend(self.rows(child, context, row_index) for child in select.get("select", []))
        if select.get("unionAll"):
            parts.append(self.d.concat([self.rows(o, context, row_index) for o in select["unionAll"]]))
        self.env.row_index = saved
        if not parts:
            return self.d.array([self.d.array([])]) if self.d.name == "spark" else "[[]::JSON[]]"
        return self.product(parts)

    def product(self, parts: list[str]) -> str:
        result = parts[0]
        for part in parts[1:]:
            left, right = self.env.fresh(), self.env.fresh()
            inner = self.d.transform(part, self.d.lam([right], self.d.concat([left, right])))
            result = self.d.flat_map(result, self.d.lam([left], inner))
        return result

    def single_row(self, select: dict[str, Any], context: Val) -> list[Val] | None:
        """The column values when a select yields exactly one row per resource (no forEach, repeat or unionAll
        anywhere), so the query can select them directly instead of building and exploding a list of rows."""
        if any(key in select for key in ("forEach", "forEachOrNull", "repeat", "unionAll")):
            return None
        values = [self.column_value(c, context) for c in select.get("column", [])]
        for child in select.get("select", []):
            nested = self.single_row(child, context)
            if nested is None:
                return None
            values.extend(nested)
        return values

    def column(self, column: dict[str, Any], context: Val) -> str:
        value = self.column_value(column, context)
        return value.sql if value.kind == "item" else self.fp.item(value).sql

    def column_value(self, column: dict[str, Any], context: Val) -> Val:
        """A column's value: a single JSON item, or a SQL string where the path gives one (no JSON round trip)."""
        path = column.get("path")
        if not isinstance(path, str) or not isinstance(column.get("name"), str):
            raise ViewDefinitionError("a column needs a name and a FHIRPath path")
        value = self.fp.compile_text(path, context)
        if column.get("collection") is True:
            return Val(self.d.from_str(self.d.json_array_text(self.fp.coll(value).sql)), "item")
        if value.kind == "str":
            return value
        return self.fp.item(value, strict=True)


def compile_view(
    view: dict[str, Any],
    dialect: str | Dialect = "duckdb",
    source: str = "resources",
    root_paths: dict[str, int] | None = None,
) -> CompiledView:
    """One SQL query over `source` (columns resource_type, resource) giving the view's rows.

    With root_paths (DuckDB), `source` instead holds resources of the view's type only, with columns `jp1`, `jp2`,
    ...: the JSON values at root_paths' paths in their order (one parse per resource, shared by the views of one
    type); the paths this view reads are added to root_paths.
    """
    d = DIALECTS[dialect] if isinstance(dialect, str) else dialect
    resource = view.get("resource")
    if not isinstance(resource, str) or not resource:
        raise ViewDefinitionError("a view definition needs a resource type")
    if not view.get("select"):
        raise ViewDefinitionError("a view definition needs at least one select")
    duck = d.name == "duckdb"
    roots = (root_paths if root_paths is not None else {}) if duck else None
    env = Env(d, resource_type=resource, root_elements=roots, typed=duck)
    root = Val(ROOT, "item", fhir_type=resource if duck and is_known_type(resource) else "")
    try:
        for constant in view.get("constant", []):
            name, value = constant_value(d, constant)
            env.constants[name] = value
        columns = tuple(_columns({"select": view["select"]}))
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise ViewDefinitionError("column names must be unique within a view")
        builder = _RowBuilder(d, env)
        direct = builder.single_row({"select": view["select"]}, root) if duck else None
        rows = "" if direct is not None else builder.body({"select": view["select"]}, root, "0")
        filters = [] if root_paths is not None else [f"t.resource_type = {d.lit(resource)}"]
        for where in view.get("where", []):
            value = builder.fp.compile_text(where["path"], root)
            filters.append(f"coalesce({builder.fp.bool_(value, strict=True)}, false)")
    except FhirPathError as error:
        raise ViewDefinitionError(str(error)) from error
    types = ["string" if c.collection else c.fhir_type for c in columns]
    condition = f" WHERE {' AND '.join(filters)}" if filters else ""
    if direct is not None:
        outputs = ", ".join(
            f"{_output(d, builder.fp, value, kind)} AS {_quote(d, c.name)}"
            for value, kind, c in zip(direct, types, columns, strict=True)
        )
        sql = f"SELECT {outputs} FROM {{table}} t{condition}"
    else:
        outputs = ", ".join(
            f"{d.cast_column(d.row_value('v.r', i), kind)} AS {_quote(d, c.name)}"
            for i, (kind, c) in enumerate(zip(types, columns, strict=True))
        )
        sql = f"SELECT {outputs} FROM (SELECT {d.explode(rows)} AS r FROM {{table}} t{condition}) v"
    sql = _resolve(sql, env)  # numbers the JSON paths the view reads, before the extraction lists them
    table = source if root_paths is not None else _extracting(source, env)
    return CompiledView(str(view.get("name", resource)), resource, columns, sql.replace("{table}", table))


def _output(d: Dialect, fp: Compiler, value: Val, fhir_type: str) -> str:
    if value.kind == "str" and fhir_type in STRING_TYPES:
        return value.sql
    if value.kind == "item" and value.text and fhir_type in STRING_TYPES:
        return value.text
    return d.cast_column(fp.item(value).sql, fhir_type)


def _resolve(sql: str, env: Env) -> str:
    return sql if env.root_elements is None else resolve_root_paths(sql, env.root_elements)


def _extracting(source: str, env: Env) -> str:
    """`source` with, on DuckDB, the JSON paths the view reads extracted in one parse per resource."""
    if not env.root_elements:
        return source
    paths = ", ".join(env.dialect.lit(path) for path in env.root_elements)
    columns = ", ".join(f"root[{n}] AS jp{n}" for n in range(1, len(env.root_elements) + 1))
    extracted = f"(SELECT resource_type, resource, json_extract(resource, [{paths}]) AS root FROM {source})"
    return f"(SELECT resource_type, resource, {columns} FROM {extracted})"


def _quote(d: Dialect, name: str) -> str:
    return f"`{name}`" if d.name == "spark" else '"' + name.replace('"', '""') + '"'
