"""The fast pre-check (fast_schema) never says "valid" where fhir.resources' pydantic validation would not.

Verdicts and located issues of `validation_issues` must be exactly those of the pydantic-only path: on every
Synthea resource, on a systematic sweep of mutations of one resource per type, on Hypothesis-generated stacks of
mutations, and on every FHIR primitive type fed with generated strings, numbers and shapes.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir_core import types as fhir_types
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from joinedup.fhir import fast_schema, validation
from joinedup.fhir.errors import FhirError, Issue
from joinedup.fhir.resource_types import R4_RESOURCE_TYPES

from ..conftest import SHARED

Json = Any
Location = tuple[str | int, ...]
SYNTHEA = SHARED / "data" / "synthea"
_SKIP_REASON = f"../shared is absent ({SYNTHEA} not found): shared test material lives beside the project in CI"


@cache
def _corpus() -> tuple[Json, ...]:
    resources: list[Json] = []
    for path in sorted(SYNTHEA.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        resources.extend(entry["resource"] for entry in bundle.get("entry", []))
    return tuple(resources)


def corpus() -> tuple[Json, ...]:
    if not SYNTHEA.is_dir():
        pytest.skip(_SKIP_REASON)
    return _corpus()


def one_per_type() -> list[Json]:
    seen: dict[str, Json] = {}
    for resource in corpus():
        current = seen.get(resource["resourceType"])
        if current is None or len(json.dumps(resource)) > len(json.dumps(current)):
            seen[resource["resourceType"]] = resource  # the richest example of each type
    return list(seen.values())


def pydantic_only_issues(resource: Json, expected_type: str | None = None) -> list[Issue]:
    """The behaviour before the fast path existed: every resource goes through pydantic."""
    return validation.validation_issues(resource, expected_type, fast=False)


def pydantic_valid(resource: Json) -> bool:
    model = get_fhir_model_class(resource["resourceType"])
    return validation._pydantic_issues(model, resource, resource["resourceType"]) == []


def fast_valid(resource: Json) -> bool:
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    return isinstance(resource_type, str) and fast_schema.is_known_valid(resource, resource_type)


def outcome(check: Callable[[Json], list[Issue]], resource: Json) -> object:
    try:
        return check(resource)
    except FhirError as error:
        return (type(error).__name__, error.message)
    except Exception as error:  # a crash must at least be the same crash
        return (type(error).__name__, str(error))


def assert_equivalent(resource: Json) -> bool:
    """Fast "valid" implies pydantic "valid", and validation_issues is unchanged. Returns the fast verdict."""
    fast = fast_valid(resource)
    if fast:
        assert pydantic_valid(resource), f"fast path accepted what pydantic refuses: {json.dumps(resource)[:2000]}"
    assert outcome(validation.validation_issues, resource) == outcome(pydantic_only_issues, resource)
    return fast


# --- mutations --------------------------------------------------------------------------------------------


def locations(node: Json, prefix: Location = ()) -> Iterator[Location]:
    """Every place in a resource: each object member and each array item, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from locations(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from locations(value, (*prefix, index))


def parent_of(resource: Json, location: Location) -> Json:
    node = resource
    for part in location[:-1]:
        node = node[part]
    return node


WRONG_TYPES: tuple[Json, ...] = ("text", 7, 2.5, True, {}, [], {"x": 1}, ["a"], [{}], None, 0, -1, 2**40)
BAD_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "  two  spaces",
    "tab\there",
    "a\x0bb",
    "\x85",
    "\u3000",
    "\ufeff",
    "x\n",
    "2019-02-29",
    "2020-02-29",
    "2021-04-31",
    "2021-13-01",
    "2021-00-10",
    "0000",
    "2021-01-01T10:00:00",
    "2021-01-01T10:00Z",
    "2021-01-01T24:00:00Z",
    "2021-01-01T23:59:60Z",
    "2021-01-01T10:00:00+15:00",
    "2021-01-01T10:00:00.1234567890123Z",
    "2021-01-01 10:00:00Z",
    "10:61:00",
    "has space",
    "bad/id",
    "a" * 65,
    "a" * 256,
    "urn:uuid:not-a-uuid",
    "0e4a7d2c-8f6b-4c1a-9d3e-2b5f6a7c8d9e",
    "AAECAw==",
    "AAECAw=",
    "not base64!",
    "http://",
    "1.5",
    "true",
)
EXTENSIONS: tuple[Json, ...] = (
    {},
    {"extension": []},
    {"id": "a"},
    {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
    {"fhir_comments": "note"},
    "x",
    [None],
)
CHOICE_TYPES = ("String", "Boolean", "Integer", "DateTime", "Period", "Quantity", "CodeableConcept", "Reference")


def _choice_prefix(key: str) -> str | None:
    for suffix in (*CHOICE_TYPES, "Decimal", "Date", "Instant", "Uri", "Code", "Age", "Range", "Ratio", "Time"):
        if key.endswith(suffix) and len(key) > len(suffix) and key[: -len(suffix)][-1].islower():
            return key[: -len(suffix)]
    return None


def mutate(resource: Json, location: Location, kind: str, pick: Callable[[tuple[Json, ...]], Json]) -> Json:
    """A copy of ``resource`` with one mutation of ``kind`` at ``location`` (unchanged when it does not apply)."""
    result = orjson.loads(orjson.dumps(resource))
    parent = parent_of(result, location)
    last = location[-1]
    value = parent[last]
    if kind == "drop":
        del parent[last]
    elif kind == "unknown":
        target = value if isinstance(value, dict) else parent if isinstance(parent, dict) else None
        if target is not None:
            target["unknownElement"] = pick(WRONG_TYPES)
    elif kind == "retype":
        parent[last] = pick(WRONG_TYPES)
    elif kind == "bad_string":
        parent[last] = pick(BAD_STRINGS)
    elif kind == "empty":
        parent[last] = "" if isinstance(value, str) else [] if isinstance(value, list) else {}
    elif kind == "wrap":
        parent[last] = value[0] if isinstance(value, list) and value else [value]
    elif kind == "choice" and isinstance(last, str) and isinstance(parent, dict):
        prefix = _choice_prefix(last)
        if prefix is not None:
            other = pick(tuple(t for t in CHOICE_TYPES if prefix + t != last))
            parent[prefix + other] = pick(WRONG_TYPES[:3]) if other in ("String", "Integer") else value
    elif kind == "extension" and isinstance(last, str) and isinstance(parent, dict):
        parent["_" + last] = pick(EXTENSIONS)
    elif kind == "extension_only" and isinstance(last, str) and isinstance(parent, dict):
        del parent[last]
        parent["_" + last] = pick(EXTENSIONS)
    elif kind == "null_item" and isinstance(value, list):
        value.append(None)
    return result


KINDS = ("drop", "unknown", "retype", "bad_string", "empty", "wrap", "choice", "extension", "extension_only")


def contain(host: Json, guest: Json) -> Json:
    result = copy.deepcopy(host)
    result.setdefault("contained", []).append(copy.deepcopy(guest))
    return result


# --- tests ------------------------------------------------------------------------------------------------


def test_every_synthea_resource_takes_the_fast_path_and_is_valid() -> None:
    resources = corpus()
    assert resources
    for resource in resources:
        assert fast_valid(resource), resource["resourceType"]
        assert pydantic_valid(resource)
        assert validation.validation_issues(resource) == pydantic_only_issues(resource) == []


@pytest.mark.slow
def test_systematic_mutation_sweep() -> None:
    """Every mutation kind at every location of the richest resource of each type (~30,000 cases)."""
    counts: Counter[str] = Counter()
    for resource in one_per_type():
        for index, location in enumerate(list(locations(resource))):
            for kind in KINDS:
                choice = index + len(kind)

                def pick(options: tuple[Json, ...], choice: int = choice) -> Json:
                    return options[choice % len(options)]

                mutated = mutate(resource, location, kind, pick)
                fast = fast_valid(mutated)
                counts["cases"] += 1
                if fast:
                    counts["fast valid"] += 1
                    assert pydantic_valid(mutated), (kind, location, json.dumps(mutated)[:2000])
    assert counts["cases"] > 10_000
    assert 0 < counts["fast valid"] < counts["cases"]


NO_EXPLAIN = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


@settings(
    max_examples=400,
    deadline=None,
    phases=NO_EXPLAIN,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_generated_mutations_keep_verdicts_and_locations(data: st.DataObject) -> None:
    resources = corpus()
    resource = data.draw(st.sampled_from(resources), label="resource")
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        places = list(locations(resource))
        if not places:
            break
        location = data.draw(st.sampled_from(places), label="location")
        kind = data.draw(st.sampled_from((*KINDS, "null_item")), label="kind")
        resource = mutate(resource, location, kind, lambda options: data.draw(st.sampled_from(options)))
    if data.draw(st.booleans(), label="as contained"):
        host = data.draw(st.sampled_from(resources), label="host")
        if "contained" in host or data.draw(st.booleans()):
            resource = contain(host, resource) if resource.get("resourceType") else resource
    event("fast valid" if assert_equivalent(resource) else "pydantic decides")


def _carrier(element: str, value: Json) -> Json:
    """A Patient whose one extension carries ``value`` as ``element`` (every primitive type is a value[x])."""
    return {"resourceType": "Patient", "extension": [{"url": "http://example.org/x", element: value}]}


PRIMITIVE_PATTERNS: dict[str, str] = {
    "valueDate": fhir_types.Date.pattern.pattern,
    "valueDateTime": fhir_types.DateTime.pattern.pattern,
    "valueInstant": fhir_types.Instant.pattern.pattern,
    "valueTime": fhir_types.Time.pattern.pattern,
    "valueCode": r"[a-z]{1,3}([ \t\n\x0b\x85\u3000][a-z]{1,3}){0,2}",
    "valueId": r"[A-Za-z0-9.\-_ ]{0,70}",
    "valueOid": r"urn:oid:[0-3](\.(0|[1-9][0-9]*|00))+",
    "valueUuid": r"(urn:uuid:)?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
    "valueBase64Binary": r"([A-Za-z0-9+/]{4}|[ \n]){0,4}([A-Za-z0-9+/=]{2,4})?",
    "valueUrl": r"(https?|urn|mailto|ftp)?:?(//)?[a-z0-9.:/\-]{0,20}",
}
TRICKY_TEXT = st.text(alphabet=st.sampled_from(list("aZ09 -.:+T/=\t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u3000\ufeff")))
NUMBERS = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans())
PRIMITIVE_ELEMENTS = (
    *PRIMITIVE_PATTERNS,
    "valueString",
    "valueMarkdown",
    "valueUri",
    "valueCanonical",
    "valueBoolean",
    "valueInteger",
    "valuePositiveInt",
    "valueUnsignedInt",
    "valueDecimal",
)


@settings(max_examples=1500, deadline=None, phases=NO_EXPLAIN)
@given(st.data())
def test_generated_primitive_values(data: st.DataObject) -> None:
    element = data.draw(st.sampled_from(PRIMITIVE_ELEMENTS), label="element")
    strategies = [TRICKY_TEXT, NUMBERS, st.text(max_size=5), st.sampled_from(BAD_STRINGS)]
    if element in PRIMITIVE_PATTERNS:
        strategies.append(st.from_regex(PRIMITIVE_PATTERNS[element], fullmatch=True))
    value = data.draw(st.one_of(*strategies), label="value")
    event(f"{element}: {'fast valid' if assert_equivalent(_carrier(element, value)) else 'pydantic decides'}")


@pytest.mark.parametrize(
    ("element", "value", "fast"),
    [
        ("valueDate", "2020-02-29", True),
        ("valueDate", "2019-02-29", False),
        ("valueDate", "2000-02-29", True),
        ("valueDate", "1900-02-29", False),
        ("valueDateTime", "2021-01-01T23:59:60.5+14:00", True),
        ("valueDateTime", "2021-01-01T10:00:00", False),
        ("valueInstant", "2021-01-01", False),
        ("valueTime", "24:00:00", False),
        ("valueCode", "a\x0bb", True),
        ("valueCode", "a  b", False),
        ("valueString", "\x85", False),
        ("valueString", "\x1c", True),
        ("valueDecimal", math.nan, False),
        ("valueDecimal", math.inf, False),
        ("valueDecimal", True, False),
        ("valueDecimal", 10**30, True),
        ("valueInteger", 2**31, False),
        ("valuePositiveInt", 0, False),
        ("valueUuid", "0e4a7d2c-8f6b-4c1a-9d3e-2b5f6a7c8d9e", True),
        ("valueBase64Binary", "AAECAw==", True),
        ("valueBase64Binary", "AAEC\nAw==", False),
    ],
)
def test_primitive_edges(element: str, value: Json, fast: bool) -> None:
    assert assert_equivalent(_carrier(element, value)) is fast


def test_conservative_deferrals_still_get_pydantic_verdicts() -> None:
    """Content the fast path will not vouch for, though pydantic accepts it: the resource is still valid."""
    accepted_by_pydantic = [
        {"resourceType": "Patient", "gender": None},
        {"resourceType": "Patient", "active": "true"},
        {"resourceType": "Patient", "maritalStatus": '{"text": "married"}'},
        {"resourceType": "Patient", "name": [{"given": ["A", None], "_given": [None, {"id": "x"}]}]},
        {"resourceType": "Patient", "gender__ext": {"id": "x"}},
        {
            "resourceType": "Observation",
            "code": {"text": "x"},
            "_status": {"extension": [{"url": "http://example.org/why", "valueString": "unknown"}]},
        },
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}]},
    ]
    for resource in accepted_by_pydantic:
        assert pydantic_valid(resource)
        assert not fast_valid(resource)
        assert validation.validation_issues(resource) == pydantic_only_issues(resource)


def test_choice_elements_are_mutually_exclusive() -> None:
    both = {"resourceType": "Patient", "deceasedBoolean": True, "deceasedDateTime": "2020-01-01"}
    assert not fast_valid(both)
    assert not pydantic_valid(both)
    one = {"resourceType": "Patient", "deceasedBoolean": True}
    assert fast_valid(one)


def test_contained_resources_are_checked_with_their_own_type() -> None:
    good = {"resourceType": "Patient", "id": "p", "contained": [{"resourceType": "Organization", "id": "o"}]}
    assert assert_equivalent(good)
    bad = {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "bogus": 1}]}
    assert not assert_equivalent(bad)
    issues = validation.validation_issues(bad)
    assert issues and issues[0].location is not None and issues[0].location.startswith("Patient.contained[0]")
    nested = contain({"resourceType": "Patient"}, contain({"resourceType": "Organization"}, {"resourceType": "X"}))
    assert not fast_valid(nested)


def test_every_r4b_resource_type_compiles() -> None:
    """All R4 types that R4B models get a real validator, and an empty instance is judged like pydantic does."""
    compiled = 0
    for resource_type in sorted(R4_RESOURCE_TYPES):
        validator = fast_schema.fast_validator(resource_type)
        if validator is None:
            continue
        assert isinstance(validator.schema, dict), resource_type
        compiled += 1
        assert_equivalent({"resourceType": resource_type})
    assert compiled > 120
