"""A fast, conservative pre-check derived from the fhir.resources R4B models (docs/decisions/0002).

The authority stays the pydantic validation of fhir.resources. For each resource type we compile, from the
model's *pydantic core schema* (what pydantic actually runs, not its lossy JSON Schema export), a JSON Schema
that accepts a subset of what pydantic accepts, and run it with jsonschema-rs (Rust). The contract is one-way:

* ``is_known_valid(resource) is True`` ⇒ ``Model.model_validate(resource)`` succeeds;
* ``False`` means only "not known valid": the caller runs pydantic, whose verdict and located errors stand.

Every core-schema node is translated exactly or more strictly, and anything the compiler does not recognise
becomes ``false`` (defer to pydantic). Deliberately stricter than pydantic, so such content takes the slow path:

* ``null`` anywhere (pydantic allows it for optional elements and as a placeholder in primitive arrays);
* pydantic's lax coercions (``"true"``/``1`` for booleans, numeric strings, a complex element given as a JSON
  string, a primitive written under its Python field name such as ``gender__ext``);
* a required primitive carried only by its ``_element`` extension;
* ``resourceType`` inside a datatype, and an embedded resource anywhere but ``contained`` at the root
  (``Bundle.entry.resource``, ``Parameters.parameter.resource``, ...); contained resources are checked by
  recursing with the fast validator of their own type;
* strings outside the conservative shapes below: base64 with line breaks, UUIDs other than lower-case v4,
  fractional seconds beyond 9 digits.

Regular expressions are spelled with explicit character classes (never ``\\s``/``\\S``/``\\d``) so that the
Rust regex engine in jsonschema-rs and pydantic's (Rust) engine cannot disagree on what whitespace is.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Final

import jsonschema_rs
from fhir.resources.R4B import get_fhir_model_class
from fhir_core import types as fhir_types
from fhir_core.constraints import FHIR_TYPES_MAPS
from fhir_core.fhirabstractmodel import FHIRAbstractModel

JsonSchema = dict[str, Any] | bool

# Unicode White_Space, which is what ``\s`` means to the Rust regex engine pydantic uses.
_WS: Final = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# fhir_core String: '[ \r\n\t\S]+' (search) ⇔ at least one character that is not "other" whitespace.
_STRING_PATTERN: Final = "[^\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_CODE_PATTERN: Final = f"^[^{_WS}]+([{_WS}][^{_WS}]+)*$"

# pydantic pattern (as it sits in the core schema) -> an equivalent pattern for jsonschema-rs, or None when the
# pattern matches every string. A pattern that is not listed makes the element defer to pydantic.
_KNOWN_PATTERNS: Final[Mapping[str, str | None]] = {
    "[ \r\n\t\\S]+": _STRING_PATTERN,
    "^[^\\s]+(\\s[^\\s]+)*$": _CODE_PATTERN,
    "^[A-Za-z0-9\\-.]+$": "^[A-Za-z0-9.-]+$",
    "\\S*": None,  # uri, canonical: matches the empty prefix of any string
    "\\s*(\\S|\\s)*": None,  # markdown: likewise
    "^urn:oid:[0-2](\\.(0|[1-9][0-9]*))+$": "^urn:oid:[0-2](\\.(0|[1-9][0-9]*))+$",
}

# Dates: the fhir_core regexes, plus calendar validity (pydantic parses full dates, so 2019-02-29 fails there).
_YEAR: Final = "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_LEAP_YEAR: Final = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_FULL_DATE: Final = (
    f"({_YEAR}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
    f"|{_LEAP_YEAR}-02-29)"
)
_PARTIAL_DATE: Final = f"{_YEAR}(-(0[1-9]|1[0-2]))?"
_TIME: Final = "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?"
_ZONE: Final = "(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_DATE_PATTERN: Final = f"^({_PARTIAL_DATE}|{_FULL_DATE})$"
_DATETIME_PATTERN: Final = f"^({_PARTIAL_DATE}|{_FULL_DATE}(T{_TIME}{_ZONE})?)$"
_INSTANT_PATTERN: Final = f"^{_FULL_DATE}T{_TIME}{_ZONE}$"
_TIME_PATTERN: Final = f"^{_TIME}$"
# Canonical base64 (b64decode accepts it); whitespace-wrapped base64 defers to pydantic.
_BASE64_PATTERN: Final = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_UUID4_PATTERN: Final = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
# Finite numbers only: NaN and infinities fail both bounds, as pydantic's Decimal refuses them.
_FLOAT_MAX: Final = 1.7976931348623157e308

_SCHEMA_KEYS: Final = frozenset({"type", "ref", "metadata", "serialization"})
_EMBEDDED_RESOURCE: Final = "contained"


def _string(pattern: str | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if pattern is not None:
        schema["pattern"] = pattern
    return schema


def _plain(schema: Mapping[str, Any], allowed: Iterable[str] = ()) -> bool:
    """True when a core-schema node carries no constraint beyond the keys we translate."""
    return set(schema) <= _SCHEMA_KEYS | set(allowed)


def _function_of(schema: Mapping[str, Any]) -> Any:
    return schema["function"]["function"]


def _closure(function: Any) -> dict[str, Any]:
    cells = function.__closure__ or ()
    return {name: cell.cell_contents for name, cell in zip(function.__code__.co_freevars, cells, strict=True)}


def _is_local(function: Any, qualname: str) -> bool:
    return getattr(function, "__module__", None) == "fhir_core.types" and function.__qualname__ == qualname


def _is_bound(function: Any, owner: type[Any], name: str, defined_on: type[Any] | None = None) -> bool:
    """``function`` is the classmethod ``name`` of ``defined_on`` (default: ``owner``), bound to ``owner``."""
    own = (defined_on or owner).__dict__.get(name)
    return getattr(function, "__self__", None) is owner and getattr(function, "__func__", None) is getattr(
        own, "__func__", object()
    )


class _Compiler:
    """Translate the core schemas of one resource type (and the datatypes it reaches) into one JSON Schema."""

    def __init__(self) -> None:
        self.defs: dict[str, JsonSchema] = {}
        self.contained_type: type[Any] | None = None

    def root(self, model: type[Any]) -> JsonSchema:
        body = self.model(model, root=True)
        if isinstance(body, bool):
            return body
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **body, "$defs": self.defs}

    def ref(self, model: type[Any]) -> JsonSchema:
        name = f"{model.__module__.rsplit('.', 1)[-1]}.{model.__name__}"
        if name not in self.defs:
            self.defs[name] = False  # placeholder, so that recursive datatypes terminate
            self.defs[name] = self.model(model, root=False)
        return {"$ref": f"#/$defs/{name}"}

    def model(self, model: type[Any], *, root: bool) -> JsonSchema:
        schema: Mapping[str, Any] = model.__pydantic_core_schema__
        constraints: list[dict[str, Any]] = []
        allow_resource_type = False
        while schema["type"] != "model-fields":
            kind = schema["type"]
            if kind == "function-after" and _is_bound_method(
                _function_of(schema), FHIRAbstractModel, "validate_after_model_construction"
            ):
                constraints.extend(_after_construction_rules(model))
            elif kind == "function-before" and _is_bound(
                _function_of(schema), model, "reject_null_complex_elements", FHIRAbstractModel
            ):
                pass  # nulls never pass the fast path
            elif (
                kind == "function-before"
                and getattr(_function_of(schema), "__qualname__", "")
                == "FHIRPrimitiveExtension.validate_extension_or_fhir_comment_required"
                and _is_r4b(model)
            ):
                constraints.append({"anyOf": [{"required": [name]} for name in ("id", "extension", "fhir_comments")]})
            elif kind == "model" and schema["cls"] is model:
                if schema.get("config", {}).get("extra_fields_behavior") != "forbid":
                    return False
                # FHIRAbstractModel.__init__ pops resourceType and checks it against the model's type.
                allow_resource_type = bool(schema.get("custom_init")) and model.has_resource_base()
            else:
                return False
            schema = schema["schema"]
        if schema.get("extra_behavior") not in (None, "forbid"):
            return False
        properties: dict[str, JsonSchema] = {}
        required: list[str] = []
        for name, field in schema["fields"].items():
            alias = field.get("validation_alias") or name
            if not isinstance(alias, str) or field["type"] != "model-field":
                return False
            field_schema = field["schema"]
            if field_schema["type"] != "default":
                required.append(alias)
            embedded = _embedded_resource_class(field_schema) if root and alias == _EMBEDDED_RESOURCE else None
            if embedded is not None:
                self.contained_type = embedded
                properties[alias] = {
                    "type": "array",
                    "items": {"type": "object", "required": ["resourceType"]},
                }
            else:
                properties[alias] = self.node(field_schema)
        if allow_resource_type:
            if "resourceType" in properties:
                return False
            properties["resourceType"] = {"const": model.__resource_type__}
            if root:
                required.append("resourceType")
        result: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            result["required"] = sorted(set(required))
        if constraints:
            result["allOf"] = constraints
        return result

    def node(self, schema: Mapping[str, Any]) -> JsonSchema:
        kind = schema["type"]
        if kind in ("default", "nullable"):
            return self.node(schema["schema"])  # optional elements are simply absent; null defers
        if kind == "str":
            return _str_node(schema)
        if kind == "bool" and _plain(schema):
            return {"type": "boolean"}
        if kind == "int" and _plain(schema, ("ge", "le")):
            result: dict[str, Any] = {"type": "integer"}
            if "ge" in schema:
                result["minimum"] = schema["ge"]
            if "le" in schema:
                result["maximum"] = schema["le"]
            return result
        if kind == "list" and _plain(schema, ("items_schema", "min_length", "max_length")):
            array: dict[str, Any] = {"type": "array", "items": self.node(schema["items_schema"])}
            if "min_length" in schema:
                array["minItems"] = schema["min_length"]
            if "max_length" in schema:
                array["maxItems"] = schema["max_length"]
            return array
        if kind == "union" and _plain(schema, ("choices",)):
            choices = [choice[0] if isinstance(choice, tuple) else choice for choice in schema["choices"]]
            return {"anyOf": [self.node(choice) for choice in choices]}
        if kind == "uuid" and _plain(schema, ("version",)) and schema.get("version") == 4:
            return _string(_UUID4_PATTERN)
        if kind == "function-wrap":
            return self.wrapped(schema)
        if kind == "function-after":
            function = _function_of(schema)
            inner = schema["schema"]
            encoder = getattr(getattr(function, "__self__", None), "encoder", None)
            if (
                getattr(function, "__qualname__", "") == "EncodedBytes.decode"
                and encoder is not None
                and encoder.__qualname__ == "Base64Encoder"
                and inner["type"] == "bytes"
                and _plain(inner)
            ):
                return _string(_BASE64_PATTERN)
        return False

    def wrapped(self, schema: Mapping[str, Any]) -> JsonSchema:
        function = _function_of(schema)
        inner = schema["schema"]
        if _is_local(function, "FhirBase.__get_pydantic_core_schema__.<locals>._validate"):
            cells = _closure(function)
            fhir_type = cells.get("cls")
            if inner["type"] != "any" or not isinstance(fhir_type, type):
                return False
            if issubclass(fhir_type, fhir_types.FhirElementOrResourceBase):
                return False  # an embedded resource outside root `contained`: defer
            return self.ref(cells["source_type"].get_model_klass())
        precision_ok = inner.get("microseconds_precision", "truncate") == "truncate"
        if _is_bound(function, fhir_types.Date, "_validate"):
            return _string(_DATE_PATTERN) if inner["type"] == "date" and _plain(inner) else False
        if _is_bound(function, fhir_types.DateTime, "_validate"):
            ok = inner["type"] == "datetime" and _plain(inner, ("microseconds_precision",)) and precision_ok
            return _string(_DATETIME_PATTERN) if ok else False
        if _is_bound(function, fhir_types.Instant, "_validate"):
            ok = inner["type"] == "datetime" and _plain(inner, ("microseconds_precision",)) and precision_ok
            return _string(_INSTANT_PATTERN) if ok else False
        if _is_local(function, "Time.__get_pydantic_core_schema__.<locals>._validate"):
            ok = inner["type"] == "time" and _plain(inner, ("microseconds_precision",)) and precision_ok
            return _string(_TIME_PATTERN) if ok and _closure(function).get("cls") is fhir_types.Time else False
        if _is_local(function, "Decimal.__get_pydantic_core_schema__.<locals>._validate"):
            if inner["type"] == "decimal" and _plain(inner) and _closure(function).get("cls") is fhir_types.Decimal:
                return {"type": "number", "minimum": -_FLOAT_MAX, "maximum": _FLOAT_MAX}
            return False
        if _is_local(function, "Url.__get_pydantic_core_schema__.<locals>._validate"):
            # For a str input the wrapper returns early or hands the value to the inner str validator.
            ok = inner["type"] == "str" and _plain(inner) and _closure(function).get("cls") is fhir_types.Url
            return _string() if ok else False
        return False


def _is_bound_method(function: Any, owner: type[Any], name: str) -> bool:
    """``function`` is ``owner.name`` (a plain method, as pydantic stores after-validators)."""
    return getattr(function, "__func__", function) is owner.__dict__.get(name)


def _is_r4b(model: type[Any]) -> bool:
    return str(model.__module__).startswith("fhir.resources.R4B.")


def _str_node(schema: Mapping[str, Any]) -> JsonSchema:
    if not _plain(schema, ("pattern", "min_length", "max_length")):
        return False
    extra: dict[str, Any] = {}
    if "min_length" in schema:
        extra["minLength"] = schema["min_length"]
    if "max_length" in schema:
        extra["maxLength"] = schema["max_length"]
    if "pattern" not in schema:
        return _string(**extra)
    if schema["pattern"] not in _KNOWN_PATTERNS:
        return False
    return _string(_KNOWN_PATTERNS[schema["pattern"]], **extra)


def _after_construction_rules(model: type[Any]) -> list[dict[str, Any]]:
    """FHIRAbstractModel's after-validator: required primitives and choice ([x]) elements."""
    instance = model.model_construct()
    rules: list[dict[str, Any]] = []
    # A required primitive: demand the value itself (its extension alone satisfies pydantic: that defers).
    required = [name for name, _ext in instance.get_required_fields()]
    if required:
        rules.append({"required": sorted(required)})
    exclusive: dict[str, JsonSchema] = {}
    for names in instance.get_one_of_many_fields().values():
        aliases = [model.model_fields[name].alias or name for name in names]
        for alias in aliases:
            others = [{"required": [other]} for other in aliases if other != alias]
            exclusive[alias] = {"not": {"anyOf": others}} if others else True
        if model.model_fields[names[0]].json_schema_extra["one_of_many_required"] is True:
            rules.append({"anyOf": [{"required": [alias]} for alias in aliases]})
    if exclusive:
        rules.append({"dependentSchemas": exclusive})
    return rules


def _embedded_resource_class(field_schema: Mapping[str, Any]) -> type[Any] | None:
    """The fhirtypes class of a list-of-resources field (DomainResource.contained), else None."""
    schema = field_schema
    while schema["type"] in ("default", "nullable"):
        schema = schema["schema"]
    if schema["type"] != "list":
        return None
    item = schema["items_schema"]
    if item["type"] != "function-wrap" or not _is_local(
        _function_of(item), "FhirBase.__get_pydantic_core_schema__.<locals>._validate"
    ):
        return None
    fhir_type = _closure(_function_of(item)).get("cls")
    if isinstance(fhir_type, type) and issubclass(fhir_type, fhir_types.FhirElementOrResourceBase):
        return fhir_type
    return None


class FastValidator:
    """The compiled check for one resource type; ``__call__`` answers "known valid"."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        compiler = _Compiler()
        self.schema = compiler.root(model)
        self._contained_type = compiler.contained_type
        self._validator = (
            jsonschema_rs.Draft202012Validator(
                self.schema, validate_formats=False, pattern_options=jsonschema_rs.RegexOptions()
            )
            if isinstance(self.schema, dict)
            else None
        )

    def __call__(self, resource: Any) -> bool:
        if self._validator is None:
            return False
        try:
            if not self._validator.is_valid(resource):
                return False
        except (ValueError, TypeError, OverflowError):  # content jsonschema-rs cannot read: let pydantic judge
            return False
        contained = resource.get(_EMBEDDED_RESOURCE)
        return contained is None or all(self._contained_valid(item) for item in contained)

    def _contained_valid(self, item: dict[str, Any]) -> bool:
        """As pydantic does: pick the model from the item's resourceType, then validate it as a resource."""
        fhir_type = self._contained_type
        resource_type = item.get("resourceType")
        if fhir_type is None or not isinstance(resource_type, str):
            return False
        model = _embedded_model(fhir_type._prefix, resource_type)
        if model is None:
            return False
        validator = fast_validator(resource_type)
        return validator is not None and validator.model is model and validator(item)


@cache
def _embedded_model(prefix: str, resource_type: str) -> type[Any] | None:
    """The model pydantic picks for an embedded resource (FhirElementOrResourceBase), if it is a resource."""
    dotted = FHIR_TYPES_MAPS.get(f"{prefix}{resource_type}Type")
    if dotted is None:
        return None
    module, _, name = dotted.rpartition(".")
    model: type[Any] = getattr(importlib.import_module(module), name)
    if not model.has_resource_base() or model.__resource_type__ != resource_type:
        return None
    return model


@cache
def fast_validator(resource_type: str) -> FastValidator | None:
    """The fast check for an R4B resource type, built on first use and kept; None when R4B lacks the type."""
    try:
        model: type[Any] = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ModuleNotFoundError):
        return None
    if not model.has_resource_base():
        return None
    return FastValidator(model)


def is_known_valid(resource: Mapping[str, Any], resource_type: str) -> bool:
    """True only when pydantic's validation of ``resource`` as ``resource_type`` would succeed."""
    validator = fast_validator(resource_type)
    return validator is not None and validator(resource)


__all__ = ["FastValidator", "JsonSchema", "fast_validator", "is_known_valid"]
