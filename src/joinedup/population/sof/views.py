"""A SQL on FHIR v2 ViewDefinition compiled into one SQL query.

Per resource the compiler builds the list of the view's rows (each row a list of JSON items, one per column) as
one SQL expression — forEach is a flat-map, unionAll a concatenation, nested selects a cross product — and the
query explodes that list. So the engine, not Python, walks the resources; the same plan runs on DuckDB or Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dialects import DIALECTS, Dialect
from .expressions import ROOT, Compiler, Env, Val, constant_value
from .fhirpath import FhirPathError

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

    def rows(self, select: dict[str, Any], context: str, row_index: str) -> str:
        """SQL for the list of rows one select yields from a single item `context`."""
        iterate = [key for key in ("forEach", "forEachOrNull", "repeat") if key in select]
        if len(iterate) > 1:
            raise ViewDefinitionError("a select may have only one of forEach, forEachOrNull and repeat")
        if not iterate:
            return self.body(select, context, row_index)
        key = iterate[0]
        items = self.repeat(select[key], context) if key == "repeat" else self.path_items(select[key], context)
        var, index = self.env.fresh(), self.env.fresh()
        per_item = self.d.lam([var, index], self.body(select, var, self._zero_based(index)))
        if self.d.name == "duckdb":
            flat = self.d.flatten(f"list_transform({items}, {per_item})")
        else:
            flat = self.d.flatten(f"transform({items}, {per_item})")
        if key != "forEachOrNull":
            return flat
        # The one row for an empty collection: nulls, except that %rowIndex is 0 there.
        null_row = [self.d.from_num("0") if c.path == "%rowIndex" else self.d.null_item for c in _columns(select)]
        nulls = self.d.array([self.d.array(null_row)])
        return f"(CASE WHEN {self.d.length(items)} = 0 THEN {nulls} ELSE {flat} END)"

    def _zero_based(self, index: str) -> str:
        return f"({index} - 1)" if self.d.name == "duckdb" else index

    def path_items(self, path: object, context: str) -> str:
        if not isinstance(path, str):
            raise ViewDefinitionError("forEach and forEachOrNull take a FHIRPath string")
        return self.fp.coll(self.fp.compile_text(path, Val(context, "item"))).sql

    def repeat(self, paths: object, context: str, depth: int = REPEAT_DEPTH) -> str:
        """Pre-order descendants: each item reached by a path, then (recursively) what its paths reach."""
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise ViewDefinitionError("repeat takes a list of FHIRPath strings")
        children = self.d.concat([self.path_items(p, context) for p in paths])
        if depth == 1:
            return children
        var = self.env.fresh()
        deeper = self.d.concat([self.d.array([var]), self.repeat(paths, var, depth - 1)])
        return self.d.flat_map(children, self.d.lam([var], deeper))

    def body(self, select: dict[str, Any], context: str, row_index: str) -> str:
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

    def column(self, column: dict[str, Any], context: str) -> str:
        path = column.get("path")
        if not isinstance(path, str) or not isinstance(column.get("name"), str):
            raise ViewDefinitionError("a column needs a name and a FHIRPath path")
        value = self.fp.compile_text(path, Val(context, "item"))
        if column.get("collection") is True:
            return self.d.from_str(self.d.json_array_text(self.fp.coll(value).sql))
        return self.fp.item(value, strict=True).sql


def compile_view(view: dict[str, Any], dialect: str | Dialect = "duckdb", source: str = "resources") -> CompiledView:
    """One SQL query over `source` (columns resource_type, resource) giving the view's rows."""
    d = DIALECTS[dialect] if isinstance(dialect, str) else dialect
    resource = view.get("resource")
    if not isinstance(resource, str) or not resource:
        raise ViewDefinitionError("a view definition needs a resource type")
    if not view.get("select"):
        raise ViewDefinitionError("a view definition needs at least one select")
    env = Env(d, resource_type=resource, root_elements={} if d.name == "duckdb" else None)
    try:
        for constant in view.get("constant", []):
            name, value = constant_value(d, constant)
            env.constants[name] = value
        columns = tuple(_columns({"select": view["select"]}))
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise ViewDefinitionError("column names must be unique within a view")
        builder = _RowBuilder(d, env)
        rows = builder.body({"select": view["select"]}, ROOT, "0")
        filters = [f"t.resource_type = {d.lit(resource)}"]
        for where in view.get("where", []):
            value = builder.fp.compile_text(where["path"], Val(ROOT, "item"))
            filters.append(f"coalesce({builder.fp.bool_(value, strict=True)}, false)")
    except FhirPathError as error:
        raise ViewDefinitionError(str(error)) from error
    outputs = ", ".join(
        f"{d.cast_column(d.row_value('v.r', i), 'string' if c.collection else c.fhir_type)} AS {_quote(d, c.name)}"
        for i, c in enumerate(columns)
    )
    table = source
    if env.root_elements:
        paths = ", ".join(d.lit(f"$.{name}") for name in env.root_elements)
        table = f"(SELECT resource_type, resource, json_extract(resource, [{paths}]) AS root FROM {source})"
    inner = f"SELECT {d.explode(rows)} AS r FROM {table} t WHERE {' AND '.join(filters)}"
    sql = f"SELECT {outputs} FROM ({inner}) v"
    return CompiledView(str(view.get("name", resource)), resource, columns, sql)


def _quote(d: Dialect, name: str) -> str:
    return f"`{name}`" if d.name == "spark" else '"' + name.replace('"', '""') + '"'
