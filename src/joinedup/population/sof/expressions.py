"""FHIRPath (the view-definition subset) compiled to one SQL expression.

Each compiled expression is a `Val`: SQL text plus its kind. `coll` is a collection (list of JSON items), `item`
a single JSON item or NULL, and `str`/`num`/`bool` are SQL scalars where NULL stands for the empty collection.
Keeping scalars as scalars lets `a = b and c` compile to plain SQL rather than lists of one boolean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Literal

from .dialects import Dialect
from .elements import element
from .fhirpath import FhirPathError, Node, parse
from .root_paths import root_path

Kind = Literal["coll", "item", "str", "num", "bool"]
ROOT = "t.resource"  # the SQL for the resource a view reads

_NUMERIC_CONSTANTS = {"integer", "decimal", "positiveInt", "unsignedInt", "integer64"}


@dataclass(frozen=True)
class Val:
    sql: str
    kind: Kind
    element: str = ""  # the last element navigated to, a hint for type-dependent functions (boundaries)
    # DuckDB fast path: the R4 type of the items (when known), and the JSON path (from `anchor`, a JSON item)
    # that produced them, so that further 0..1 steps extend one path instead of walking lists of values.
    fhir_type: str = ""
    anchor: str = ""
    jpath: str = ""
    text: str = ""  # the same value as a SQL string, where that is cheaper than going through the JSON item


@dataclass
class Env:
    """What an expression can refer to besides its context: constants, %rowIndex, lambda names."""

    dialect: Dialect
    constants: dict[str, Val] = field(default_factory=dict)
    row_index: str = "0"
    names: count[int] = field(default_factory=lambda: count(1))
    resource_type: str = ""
    # DuckDB: the JSON paths a view reads from the resource are extracted in one JSON parse per resource; the
    # compiler writes `root_path()` placeholders that `resolve_root_paths` turns into columns `t.jp<n>`.
    # None where the engine navigates the text each time (Spark).
    root_elements: dict[str, int] | None = None
    # Whether member steps may use R4 cardinality (DuckDB; Spark keeps the generic plan).
    typed: bool = False

    def fresh(self) -> str:
        return f"fp{next(self.names)}"


class Compiler:
    """Compiles parsed FHIRPath against a context value."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.d = env.dialect

    # ---- conversions between kinds -------------------------------------------------------------------------
    def coll(self, v: Val) -> Val:
        if v.kind == "coll":
            return v
        item = self.item(v)
        return Val(f"(CASE WHEN {item.sql} IS NULL THEN {self.d.empty} ELSE {self.d.array([item.sql])} END)", "coll")

    def item(self, v: Val, strict: bool = False) -> Val:
        """A single JSON item; with strict, more than one is an error (a column that is not a collection)."""
        match v.kind:
            case "item":
                return v
            case "str":
                return Val(self.d.from_str(v.sql), "item")
            case "num":
                return Val(self.d.from_num(v.sql), "item")
            case "bool":
                return Val(self.d.from_bool(v.sql), "item")
        first = self.d.item(v.sql, 1)
        if not strict:
            return Val(first, "item")
        many = self.d.error("a column that is not a collection returned more than one value")
        return Val(f"(CASE WHEN {self.d.length(v.sql)} > 1 THEN {many} ELSE {first} END)", "item")

    def str_(self, v: Val) -> str:
        if v.kind == "str":
            return v.sql
        if v.kind == "item" and v.text:
            return v.text
        if v.kind in ("num", "bool"):
            return f"CAST({v.sql} AS {'VARCHAR' if self.d.name == 'duckdb' else 'string'})"
        return self.d.as_str(self.item(v).sql)

    def num(self, v: Val) -> str:
        if v.kind == "num":
            return v.sql
        if v.kind == "str":
            return f"TRY_CAST({v.sql} AS DOUBLE)" if self.d.name == "duckdb" else f"CAST({v.sql} AS DOUBLE)"
        return self.d.as_num(self.item(v).sql)

    def bool_(self, v: Val, strict: bool = False) -> str:
        """FHIRPath singleton evaluation: empty is NULL; a single non-boolean is true (or, strict, an error)."""
        if v.kind == "bool":
            return v.sql
        if v.kind in ("str", "num"):
            return f"({v.sql} IS NOT NULL)"
        one = self.item(v).sql
        other = self.d.error("a where path must be boolean") if strict else "true"
        as_bool = self.d.as_bool(one)
        return f"(CASE WHEN {one} IS NULL THEN NULL WHEN {self.d.is_bool(one)} THEN {as_bool} ELSE {other} END)"

    # ---- compilation ---------------------------------------------------------------------------------------
    def compile_text(self, text: str, context: Val) -> Val:
        return self.compile(parse(text), context)

    def compile(self, node: Node, context: Val) -> Val:
        match node.kind:
            case "literal":
                return self.literal(node)
            case "this":
                return context
            case "var":
                return self.variable(node.value)
            case "member":
                base = self.compile(node.children[0], context) if node.children else context
                if not node.children and node.value == self.env.resource_type:
                    return context
                return self.member(base, node.value)
            case "index":
                base = self.coll(self.compile(node.children[0], context))
                index = self.num(self.compile(node.children[1], context))
                return Val(self.d.slice(base.sql, f"CAST({index} AS INTEGER) + 1", "1"), "coll")
            case "call":
                return self.call(node, context)
            case "op":
                return self.operator(node, context)
            case "unary":
                return Val(f"(-{self.num(self.compile(node.children[0], context))})", "num")
        raise FhirPathError(f"unsupported FHIRPath construct: {node.kind}")

    def literal(self, node: Node) -> Val:
        match node.lit_type:
            case "string" | "dateTime" | "time":
                return Val(self.d.lit(node.value), "str")
            case "integer" | "decimal":
                return Val(f"CAST({node.value} AS DOUBLE)", "num")
            case "boolean":
                return Val(node.value, "bool")
            case "empty":
                return Val(self.d.empty, "coll")
        raise FhirPathError(f"unsupported literal {node.lit_type}")

    def variable(self, name: str) -> Val:
        if name == "rowIndex":
            return Val(self.env.row_index, "num")
        if name not in self.env.constants:
            raise FhirPathError(f"unknown constant %{name}")
        return self.env.constants[name]

    def member(self, base: Val, name: str) -> Val:
        typed = self.typed_member(base, name)
        if typed is not None:
            return typed
        if base.kind == "item" and base.sql == ROOT and self.env.root_elements is not None:
            return Val(self.d.nav_value(root_path(f"$.{name}")), "coll", name)
        if base.kind == "item":
            return Val(self.d.nav(base.sql, name), "coll", name)
        if base.kind != "coll":
            return Val(self.d.empty, "coll", name)
        var = self.env.fresh()
        return Val(self.d.flat_map(base.sql, self.d.lam([var], self.d.nav(var, name))), "coll", name)

    def typed_member(self, base: Val, name: str) -> Val | None:
        """A step whose cardinality the R4 definitions give: one JSON path, or None for the generic plan."""
        if not self.env.typed or not base.fhir_type or base.kind not in ("item", "coll"):
            return None
        found = element(base.fhir_type, name)
        if found is None:
            return None
        step = f".{name}[*]" if found.repeats else f".{name}"
        if base.anchor:
            anchor, jpath = base.anchor, base.jpath + step
        elif base.kind == "item":
            anchor, jpath = base.sql, "$" + step
        else:
            # A collection not made by a path (a where() result): the step for each of its items.
            var = self.env.fresh()
            child = self.anchored(var, "$" + step, "coll" if found.repeats else "item")
            if found.repeats:
                sql = self.d.flat_map(base.sql, self.d.lam([var], child))
            else:
                present = self.env.fresh()
                picked = self.d.transform(base.sql, self.d.lam([var], child))
                sql = self.d.filter(picked, self.d.lam([present], f"{present} IS NOT NULL"))
            return Val(sql, "coll", name, found.type_name)
        kind: Kind = "coll" if base.kind == "coll" or found.repeats else "item"
        return Val(self.anchored(anchor, jpath, kind), kind, name, found.type_name, anchor, jpath)

    def anchored(self, anchor: str, jpath: str, kind: Kind) -> str:
        """The SQL for a JSON path from anchor: one item (NULL when absent) or the list of what it reaches."""
        if anchor == ROOT and self.env.root_elements is not None:
            head, star, tail = jpath.partition("[*]")
            if not star:
                return root_path(head)
            anchor, jpath = root_path(head), "$[*]" + tail
        extract = f"json_extract({anchor}, {self.d.lit(jpath)})"
        return extract if kind == "item" else f"coalesce({extract}, {self.d.empty})"

    def anchored_text(self, anchor: str, jpath: str) -> str:
        """The first value a repeating path reaches, as a string: one extraction of strings, no JSON items."""
        if anchor == ROOT and self.env.root_elements is not None:
            head, _, tail = jpath.partition("[*]")
            anchor, jpath = root_path(head), "$[*]" + tail
        return f"json_extract_string({anchor}, {self.d.lit(jpath)})[1]"

    def each(self, base: Val, body: str, var: str) -> Val:
        return Val(self.d.filter(self.coll(base).sql, self.d.lam([var], body)), "coll", fhir_type=base.fhir_type)

    def call(self, node: Node, context: Val) -> Val:
        has_base = node.lit_type == "base"
        base_node = node.children[0] if has_base else None
        args = node.children[1:] if has_base else node.children
        name = node.value
        if name == "ofType":
            return self.of_type(base_node, args, context)
        base = self.compile(base_node, context) if base_node is not None else context
        return self.function(name, base, args)

    def of_type(self, base_node: Node | None, args: tuple[Node, ...], context: Val) -> Val:
        type_name = args[0].value if args else ""
        if base_node is not None and base_node.kind == "member":
            # A choice element: value.ofType(Quantity) is the element valueQuantity.
            choice = base_node.value + type_name[:1].upper() + type_name[1:]
            return self.compile(Node("member", choice, base_node.children), context)
        base = self.compile(base_node, context) if base_node is not None else context
        var = self.env.fresh()
        test = f"{self.d.as_str(self.d.item(self.d.nav(var, 'resourceType'), 1))} = {self.d.lit(type_name)}"
        return self.each(base, test, var)

    def function(self, name: str, base: Val, args: tuple[Node, ...]) -> Val:
        d = self.d
        match name:
            case "exists" | "empty":
                chosen = self.coll(base) if not args else self.where(base, args[0])
                op = ">" if name == "exists" else "="
                return Val(f"({d.length(chosen.sql)} {op} 0)", "bool")
            case "first":
                if self.env.typed:
                    # DuckDB: a list's first item is NULL when the list is empty, which is what an item means.
                    text = self.anchored_text(base.anchor, base.jpath) if base.anchor and base.kind == "coll" else ""
                    return Val(d.item(self.coll(base).sql, 1), "item", base.element, base.fhir_type, text=text)
                return Val(d.slice(self.coll(base).sql, "1", "1"), "coll", base.element)
            case "last":
                items = self.coll(base).sql
                return Val(d.slice(items, f"greatest({d.length(items)}, 1)", "1"), "coll")
            case "count":
                return Val(f"CAST({d.length(self.coll(base).sql)} AS DOUBLE)", "num")
            case "not":
                return Val(f"(NOT {self.bool_(base)})", "bool")
            case "where":
                return self.where(base, args[0])
            case "extension":
                url = self.str_(self.compile(args[0], base))
                var = self.env.fresh()
                test = f"{d.as_str(d.item(d.nav(var, 'url'), 1))} = {url}"
                return self.each(self.member(base, "extension"), test, var)
            case "join":
                separator = self.str_(self.compile(args[0], base)) if args else d.lit("")
                var = self.env.fresh()
                strings = d.transform(self.coll(base).sql, d.lam([var], d.as_str(var)))
                # An empty collection joins to the empty string, as the suite expects.
                return Val(f"coalesce({d.join(strings, separator)}, '')", "str")
            case "getResourceKey":
                return Val(self.str_(self.member(base, "id")), "str")
            case "getReferenceKey":
                return self.reference_key(base, args[0].value if args else "")
            case "lowBoundary" | "highBoundary":
                from .boundaries import boundary

                return boundary(self, base, name == "lowBoundary")
        raise FhirPathError(f"unsupported FHIRPath function {name}()")

    def where(self, base: Val, criterion: Node) -> Val:
        var = self.env.fresh()
        test = self.bool_(self.compile(criterion, Val(var, "item", fhir_type=base.fhir_type)))
        return self.each(base, f"coalesce({test}, false)", var)

    def reference_key(self, base: Val, type_name: str) -> Val:
        reference = self.str_(self.member(base, "reference"))
        if type_name and self.env.typed and type_name.isalpha():
            # The type written into the pattern: one regular expression per reference rather than two.
            typed = rf"(^|[^A-Za-z]){type_name}/([^/]+)(/_history/[^/]+)?$"
            # The usual relative reference `Type/id` by string functions (several times faster than the regular
            # expression, which then only sees the rest: absolute URLs, versions).
            prefix = f"{type_name}/"
            rest = f"substr({reference}, {len(prefix) + 1})"
            simple = f"starts_with({reference}, {self.d.lit(prefix)}) AND NOT contains({rest}, '/')"
            fallback = self.d.regexp_extract(reference, typed, 2)
            return Val(f"(CASE WHEN {simple} THEN nullif({rest}, '') ELSE {fallback} END)", "str")
        pattern = r"([A-Za-z]+)/([^/]+)(/_history/[^/]+)?$"
        key = self.d.regexp_extract(reference, pattern, 2)
        if not type_name:
            return Val(key, "str")
        return Val(
            f"(CASE WHEN {self.d.regexp_extract(reference, pattern, 1)} = {self.d.lit(type_name)} THEN {key} END)",
            "str",
        )

    def operator(self, node: Node, context: Val) -> Val:
        op = node.value
        left = self.compile(node.children[0], context)
        if op in ("is", "as"):
            raise FhirPathError(f"the '{op}' operator is not supported; use ofType()")
        right = self.compile(node.children[1], context)
        if op in ("and", "or"):
            return Val(f"({self.bool_(left)} {op.upper()} {self.bool_(right)})", "bool")
        if op == "xor":
            return Val(f"({self.bool_(left)} <> {self.bool_(right)})", "bool")
        if op == "implies":
            return Val(f"((NOT {self.bool_(left)}) OR {self.bool_(right)})", "bool")
        if op in ("=", "!=", "~", "!~", "<", ">", "<=", ">="):
            return self.comparison(op, left, right)
        if op in ("+", "-", "*", "/", "div", "mod"):
            if op == "+" and "str" in (left.kind, right.kind):
                return Val(f"({self.str_(left)} || {self.str_(right)})", "str")
            sql_op = {"div": "/", "mod": "%"}.get(op, op)
            result = f"({self.num(left)} {sql_op} {self.num(right)})"
            return Val(f"floor{result}" if op == "div" else result, "num")
        if op == "&":
            return Val(f"(coalesce({self.str_(left)}, '') || coalesce({self.str_(right)}, ''))", "str")
        if op == "|":
            return Val(self.d.concat([self.coll(left).sql, self.coll(right).sql]), "coll")
        if op in ("in", "contains"):
            needle, haystack = (left, right) if op == "in" else (right, left)
            var = self.env.fresh()
            found = self.d.filter(
                self.coll(haystack).sql, self.d.lam([var], f"{self.d.as_str(var)} = {self.str_(needle)}")
            )
            return Val(f"({self.d.length(found)} > 0)", "bool")
        raise FhirPathError(f"unsupported operator {op}")

    def comparison(self, op: str, left: Val, right: Val) -> Val:
        sql_op = {"~": "=", "!~": "<>", "!=": "<>"}.get(op, op)
        kinds = {left.kind, right.kind}
        if "bool" in kinds:
            return Val(f"({self.bool_(left)} {sql_op} {self.bool_(right)})", "bool")
        if "num" in kinds:
            return Val(f"({self.num(left)} {sql_op} {self.num(right)})", "bool")
        if "str" in kinds:
            a, b = self.str_(left), self.str_(right)
            if op in ("~", "!~"):
                a, b = f"lower({a})", f"lower({b})"
            return Val(f"({a} {sql_op} {b})", "bool")
        # Two JSON items: numbers compare as numbers, everything else by its text.
        a, b = self.item(left).sql, self.item(right).sql
        d = self.d
        return Val(
            f"(CASE WHEN {d.is_num(a)} AND {d.is_num(b)} THEN {d.as_num(a)} {sql_op} {d.as_num(b)} "
            f"ELSE {d.as_str(a)} {sql_op} {d.as_str(b)} END)",
            "bool",
        )


def constant_value(dialect: Dialect, constant: dict[str, object]) -> tuple[str, Val]:
    """A view's constant as a compiled value, typed by its valueX element."""
    name = constant.get("name")
    values = [(key[5:], value) for key, value in constant.items() if key.startswith("value")]
    if not isinstance(name, str) or len(values) != 1:
        raise FhirPathError("a constant needs a name and exactly one value[x]")
    type_name, value = values[0]
    type_name = type_name[:1].lower() + type_name[1:]
    if type_name == "boolean" and isinstance(value, bool):
        return name, Val("true" if value else "false", "bool")
    if type_name in _NUMERIC_CONSTANTS and isinstance(value, int | float):
        return name, Val(f"CAST({value!r} AS DOUBLE)", "num")
    if isinstance(value, str):
        return name, Val(dialect.lit(value), "str")
    raise FhirPathError(f"constant {name} has an unsupported value")
