"""The SQL each engine needs for the handful of primitives the view compiler builds on.

A FHIRPath collection is a list of JSON values: `JSON[]` on DuckDB, `array<string>` on Spark (objects and arrays as
JSON text, primitives as their text). A single item is a `JSON` (DuckDB) or `string` (Spark). Everything else in
the compiler is engine-neutral, so a view compiles to the same logic on both engines.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC_JSON = "('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT')"


def duckdb_string(text: str) -> str:
    """A standard SQL string literal: quotes doubled, backslashes literal."""
    return "'" + text.replace("'", "''") + "'"


def spark_string(text: str) -> str:
    """A Spark SQL string literal: Spark reads backslash escapes and would join doubled quotes as two literals."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def json_path_member(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a FHIR element name: {name!r}")
    return name


class Dialect(ABC):
    """Primitives over collections (lists of JSON items) and single items."""

    name: str
    empty: str
    null_item: str

    @abstractmethod
    def lit(self, text: str) -> str:
        """A string literal."""

    @abstractmethod
    def nav(self, item: str, name: str) -> str:
        """The collection of a single item's child element `name` (an array's items, a value, or nothing)."""

    def nav_value(self, value: str) -> str:
        raise NotImplementedError

    @abstractmethod
    def lam(self, params: list[str], body: str) -> str: ...

    @abstractmethod
    def transform(self, coll: str, lam: str) -> str: ...

    @abstractmethod
    def filter(self, coll: str, lam: str) -> str: ...

    @abstractmethod
    def flatten(self, coll_of_colls: str) -> str: ...

    @abstractmethod
    def length(self, coll: str) -> str: ...

    @abstractmethod
    def slice(self, coll: str, start: str, count: str) -> str:
        """Items from 1-based `start`, at most `count` of them."""

    @abstractmethod
    def item(self, coll: str, position: int) -> str:
        """The 1-based item, NULL when absent."""

    @abstractmethod
    def concat(self, colls: list[str]) -> str: ...

    @abstractmethod
    def array(self, items: list[str]) -> str: ...

    @abstractmethod
    def as_str(self, item: str) -> str: ...

    @abstractmethod
    def as_num(self, item: str) -> str: ...

    @abstractmethod
    def as_bool(self, item: str) -> str:
        """TRUE/FALSE for a JSON boolean, NULL for anything else."""

    @abstractmethod
    def is_bool(self, item: str) -> str: ...

    @abstractmethod
    def is_num(self, item: str) -> str: ...

    @abstractmethod
    def raw_text(self, item: str) -> str:
        """The item's text as written (a decimal keeps its trailing zeros)."""

    @abstractmethod
    def from_str(self, value: str) -> str: ...

    @abstractmethod
    def from_num(self, value: str) -> str: ...

    @abstractmethod
    def from_bool(self, value: str) -> str: ...

    @abstractmethod
    def json_array_text(self, coll: str) -> str: ...

    @abstractmethod
    def join(self, strings: str, separator: str) -> str: ...

    @abstractmethod
    def regexp_extract(self, value: str, pattern: str, group: int) -> str: ...

    @abstractmethod
    def error(self, message: str) -> str: ...

    @abstractmethod
    def cast_column(self, item: str, fhir_type: str) -> str:
        """A row value (single item) as the column's SQL type."""

    @abstractmethod
    def explode(self, rows: str) -> str:
        """A set-returning expression yielding one row (a list of items) per element of `rows`."""

    @abstractmethod
    def row_value(self, row: str, position: int) -> str:
        """The 0-based `position` of an exploded row."""

    def flat_map(self, coll: str, lam: str) -> str:
        return self.flatten(self.transform(coll, lam))


STRING_TYPES = {
    "string",
    "id",
    "code",
    "uri",
    "url",
    "canonical",
    "oid",
    "uuid",
    "markdown",
    "base64Binary",
    "date",
    "dateTime",
    "instant",
    "time",
}


class DuckDBDialect(Dialect):
    name = "duckdb"
    empty = "[]::JSON[]"
    null_item = "NULL::JSON"

    def lit(self, text: str) -> str:
        return duckdb_string(text)

    def nav(self, item: str, name: str) -> str:
        path = self.lit(f"$.{json_path_member(name)}")
        many = self.lit(f"$.{name}[*]")
        return (
            f"(CASE coalesce(json_type({item}, {path}), 'NULL') WHEN 'ARRAY' THEN json_extract({item}, {many}) "
            f"WHEN 'NULL' THEN {self.empty} ELSE [json_extract({item}, {path})] END)"
        )

    def nav_value(self, value: str) -> str:
        """The collection a child value already extracted (possibly NULL) stands for."""
        return (
            f"(CASE coalesce(json_type({value}), 'NULL') WHEN 'ARRAY' THEN json_extract({value}, '$[*]') "
            f"WHEN 'NULL' THEN {self.empty} ELSE [{value}] END)"
        )

    def lam(self, params: list[str], body: str) -> str:
        return f"lambda {', '.join(params)}: {body}"

    def transform(self, coll: str, lam: str) -> str:
        return f"list_transform({coll}, {lam})"

    def filter(self, coll: str, lam: str) -> str:
        return f"list_filter({coll}, {lam})"

    def flatten(self, coll_of_colls: str) -> str:
        return f"flatten({coll_of_colls})"

    def length(self, coll: str) -> str:
        return f"len({coll})"

    def slice(self, coll: str, start: str, count: str) -> str:
        return f"list_slice({coll}, {start}, ({start}) + ({count}) - 1)"

    def item(self, coll: str, position: int) -> str:
        return f"({coll})[{position}]"

    def concat(self, colls: list[str]) -> str:
        return colls[0] if len(colls) == 1 else f"list_concat({', '.join(colls)})"

    def array(self, items: list[str]) -> str:
        return f"[{', '.join(items)}]"

    def as_str(self, item: str) -> str:
        return f"json_extract_string({item}, '$')"

    def as_num(self, item: str) -> str:
        return f"TRY_CAST(json_extract_string({item}, '$') AS DOUBLE)"

    def as_bool(self, item: str) -> str:
        return f"(CASE WHEN json_type({item}) = 'BOOLEAN' THEN ({item})::BOOLEAN END)"

    def is_bool(self, item: str) -> str:
        return f"(json_type({item}) = 'BOOLEAN')"

    def is_num(self, item: str) -> str:
        return f"(json_type({item}) IN {_NUMERIC_JSON})"

    def raw_text(self, item: str) -> str:
        return f"CAST({item} AS VARCHAR)"

    def from_str(self, value: str) -> str:
        return f"to_json({value})"

    def from_num(self, value: str) -> str:
        return f"to_json({value})"

    def from_bool(self, value: str) -> str:
        return f"to_json({value})"

    def json_array_text(self, coll: str) -> str:
        return f"CAST(to_json({coll}) AS VARCHAR)"

    def join(self, strings: str, separator: str) -> str:
        return f"array_to_string({strings}, {separator})"

    def regexp_extract(self, value: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({value}, {self.lit(pattern)}, {group}), '')"

    def error(self, message: str) -> str:
        return f"error({self.lit(message)})"

    def cast_column(self, item: str, fhir_type: str) -> str:
        if fhir_type in ("integer", "positiveInt", "unsignedInt", "integer64"):
            return f"TRY_CAST(json_extract_string({item}, '$') AS BIGINT)"
        if fhir_type == "decimal":
            return self.as_num(item)
        if fhir_type == "boolean":
            return self.as_bool(item)
        if fhir_type in STRING_TYPES:
            return self.as_str(item)
        return f"CAST({item} AS VARCHAR)"

    def explode(self, rows: str) -> str:
        return f"unnest({rows})"

    def row_value(self, row: str, position: int) -> str:
        return f"{row}[{position + 1}]"


class SparkDialect(Dialect):
    """Spark SQL 3.5: items are strings; `get_json_object` reads a child, `from_json` splits an array."""

    name = "spark"
    empty = "CAST(array() AS array<string>)"
    null_item = "CAST(NULL AS string)"

    def lit(self, text: str) -> str:
        return spark_string(text)

    def nav(self, item: str, name: str) -> str:
        child = f"get_json_object({item}, {self.lit('$.' + json_path_member(name))})"
        return (
            f"(CASE WHEN {child} IS NULL THEN {self.empty} WHEN startswith({child}, '[') "
            f"THEN from_json({child}, 'array<string>') ELSE array({child}) END)"
        )

    def lam(self, params: list[str], body: str) -> str:
        head = params[0] if len(params) == 1 else f"({', '.join(params)})"
        return f"{head} -> {body}"

    def transform(self, coll: str, lam: str) -> str:
        return f"transform({coll}, {lam})"

    def filter(self, coll: str, lam: str) -> str:
        return f"filter({coll}, {lam})"

    def flatten(self, coll_of_colls: str) -> str:
        return f"flatten({coll_of_colls})"

    def length(self, coll: str) -> str:
        return f"size({coll})"

    def slice(self, coll: str, start: str, count: str) -> str:
        empty_when = f"({start}) > size({coll}) OR ({count}) < 1"
        return f"(CASE WHEN {empty_when} THEN {self.empty} ELSE slice({coll}, {start}, {count}) END)"

    def item(self, coll: str, position: int) -> str:
        return f"try_element_at({coll}, {position})"

    def concat(self, colls: list[str]) -> str:
        return colls[0] if len(colls) == 1 else f"concat({', '.join(colls)})"

    def array(self, items: list[str]) -> str:
        return f"array({', '.join(items)})"

    def as_str(self, item: str) -> str:
        return item

    def as_num(self, item: str) -> str:
        return f"CAST({item} AS DOUBLE)"

    def as_bool(self, item: str) -> str:
        return f"(CASE {item} WHEN 'true' THEN true WHEN 'false' THEN false END)"

    def is_bool(self, item: str) -> str:
        return f"({item} IN ('true', 'false'))"

    def is_num(self, item: str) -> str:
        return f"(CAST({item} AS DOUBLE) IS NOT NULL)"

    def raw_text(self, item: str) -> str:
        return item

    def from_str(self, value: str) -> str:
        return f"CAST({value} AS string)"

    def from_num(self, value: str) -> str:
        return f"CAST({value} AS string)"

    def from_bool(self, value: str) -> str:
        return f"CAST({value} AS string)"

    def json_array_text(self, coll: str) -> str:
        return f"to_json({coll})"

    def join(self, strings: str, separator: str) -> str:
        return f"array_join({strings}, {separator})"

    def regexp_extract(self, value: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({value}, {self.lit(pattern)}, {group}), '')"

    def error(self, message: str) -> str:
        return f"raise_error({self.lit(message)})"

    def cast_column(self, item: str, fhir_type: str) -> str:
        if fhir_type in ("integer", "positiveInt", "unsignedInt", "integer64"):
            return f"CAST({item} AS BIGINT)"
        if fhir_type == "decimal":
            return self.as_num(item)
        if fhir_type == "boolean":
            return self.as_bool(item)
        return item

    def explode(self, rows: str) -> str:
        return f"explode({rows})"

    def row_value(self, row: str, position: int) -> str:
        return f"{row}[{position}]"


DIALECTS: dict[str, Dialect] = {"duckdb": DuckDBDialect(), "spark": SparkDialect()}
