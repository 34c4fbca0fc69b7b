"""Fuzzing the FHIR API from its OpenAPI description (schemathesis), in-process against the ASGI app, both
databases: no 5xx, and no response that reveals a withheld resource.

The place is the access matrix's (tests/access/test_matrix_place.py). One caller is a nurse with a relationship
with two of its four people, so some Observations are withheld from them by relationship, some by objection and
some by sensitivity; the other is an analyst (secondary use: pseudonymised, objections and sensitive records held
back, decision 0330), whose answers must also never carry anybody's name. Every response body is searched for the
text of each withheld Observation.

The published description types `resource_type`, `resource_id` and search parameters only as free strings, so
most generated requests would stop at "unknown resource type". The test narrows them (types and ids of the place,
the search parameters the gate must hold under) before generating: bounded, derandomised, nothing downloaded.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import insert

from joinedup.access.audit.trail import now_micros
from joinedup.app import create_app
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.governance_schema import oauth_tokens

from ..access import test_matrix_place as mx
from ..web import place as web_place

EXAMPLES_PER_OPERATION = 40
TYPES = ["Observation", "Patient", "Group", "Consent", "EpisodeOfCare", "Organization", "Basic"]
SEARCH_PARAMETERS: dict[str, list[str]] = {
    "subject": [f"Patient/{s.patient_id}" for s in mx.SUBJECTS],
    "code": [f"{mx.SNOMED}|{c}" for c in mx.KINDS.values()] + list(mx.KINDS.values()),
    "_include": ["Observation:subject", "Group:member", "*"],
    "_revinclude": ["Observation:subject", "Consent:patient", "*"],
    "_has:Observation:subject:code": list(mx.KINDS.values()),
    "_total": ["accurate", "estimate", "none"],
    "_count": ["0", "1", "1000", "-1"],
    "_security": ["http://terminology.hl7.org/CodeSystem/v3-ActCode|SEX", "R"],
    "_sort": ["_id", "-_lastUpdated", "date"],
    "_elements": ["id", "code,subject"],
    "_summary": ["count", "true", "text"],
    "_type": ["Observation", "Observation,Patient"],
    "_since": ["2000-01-01", "not-a-date"],
    "name": [s.family for s in mx.SUBJECTS],
}

REFERENCE = {"type": "object", "properties": {"reference": {"type": "string", "enum": [
    *(f"Patient/{s.patient_id}" for s in mx.SUBJECTS), "Patient/does-not-exist", "Group/x"]}}}  # fmt: skip
# A resource body: a type of the place, an id (some withheld from the caller), a person, a security label.
BODY = {
    "type": "object",
    "properties": {
        "resourceType": {"type": "string", "enum": TYPES},
        "id": {"type": "string", "enum": [e.resource["id"] for e in mx.entries()][:40]},
        "status": {"type": "string", "enum": ["final", "active", "amended", "bogus"]},
        "subject": REFERENCE,
        "patient": REFERENCE,
        "code": {"type": "object", "properties": {"text": {"type": "string"}}},
        "meta": {
            "type": "object",
            "properties": {
                "security": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "system": {"type": "string", "enum": ["http://terminology.hl7.org/CodeSystem/v3-ActCode"]},
                            "code": {"type": "string", "enum": ["SEX", "PSYTHPN"]},
                        },
                    },
                }
            },
        },
    },
    "required": ["resourceType"],
}

FUZZ_FIGURES: dict[str, int] = {"requests": 0, "server_errors": 0, "leaks": 0}


def _narrowed(schema: dict[str, Any]) -> dict[str, Any]:
    """The app's description with the path parameters given the place's values and searches their parameters."""
    narrowed = copy.deepcopy(schema)
    ids = sorted({e.resource["id"] for e in mx.entries()} | {"does-not-exist"})
    values = {
        "resource_type": TYPES,
        "resource_id": ids,
        "patient_id": [s.patient_id for s in mx.SUBJECTS] + ["does-not-exist"],
        "group_id": [f"{s.patient_id}-group" for s in mx.SUBJECTS],
        "version_id": ["1", "2", "x"],
        "task_id": ["does-not-exist"],
        "person_id": ["does-not-exist"],
        "job_id": ["does-not-exist"],
        "name": ["Observation.ndjson"],
    }
    for path, item in narrowed["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in values:
                    parameter["schema"] = {"type": "string", "enum": values[parameter["name"]]}
            if method in ("post", "put") and "{resource_type}" in path and "_search" not in path:
                operation["requestBody"] = {"required": False, "content": {"application/fhir+json": {"schema": BODY}}}
            if method == "get" and (path.endswith("{resource_type}") or path.endswith("$everything")):
                known = {p["name"] for p in operation.get("parameters", [])}
                operation.setdefault("parameters", []).extend(
                    {"name": name, "in": "query", "required": False, "schema": {"type": "string", "enum": choices}}
                    for name, choices in SEARCH_PARAMETERS.items()
                    if name not in known
                )
    return narrowed


def _sees(caller: mx.User, entry: mx.Entry) -> bool:
    return mx.secondary_visible(entry) if mx.secondary_use(caller) else mx.visible(caller, entry)


@pytest.mark.parametrize("role", ["nurse", "analyst"])
def test_fuzzed_fhir_api_never_fails_and_never_reveals(database_url: str, tmp_path: Path, role: str) -> None:
    url = database_url
    store = FhirStore(make_engine(url))
    web_place.load(store, mx.resources())
    caller = mx.user_for(role, mx.subject(True, False))
    token = uuid.uuid4().hex
    with store.engine.begin() as conn:
        conn.execute(insert(oauth_tokens).values(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), kind="access", client_id="fuzz",
            user_ref=caller.user, role=caller.role, organisation=caller.organisation, scopes="user/*.cruds",
            expires=now_micros() + 3600 * 1_000_000, detail=None))  # fmt: skip
    withheld = {  # the marker text is in code.text (kept by pseudonymisation) and in valueString
        e.resource["valueString"]: e.key
        for e in mx.entries()
        if e.resource["resourceType"] == "Observation" and "valueString" in e.resource and not _sees(caller, e)
    }
    if mx.secondary_use(caller):  # pseudonymised: no name of anyone
        withheld |= {s.family: f"the name of Patient/{s.patient_id}" for s in mx.SUBJECTS}
    assert withheld, "the fuzzed place must withhold something from the caller"
    app = create_app(Settings(database_url=url, environment="test", export_dir=tmp_path / "exports"))
    schema = schemathesis.openapi.from_dict(_narrowed(app.openapi()))
    schema.app = app
    schema.location = "/api/openapi.json"
    problems: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    fhir = [op for op in operations if op.path.startswith("/fhir")]
    assert len(fhir) >= 25, f"only {len(fhir)} FHIR operations described"
    for operation in fhir:

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers={"authorization": f"Bearer {token}", "prefer": "handling=lenient"})
            FUZZ_FIGURES["requests"] += 1
            label = f"{case.method} {case.formatted_path}?{case.query or ''}"
            if response.status_code >= 500:
                FUZZ_FIGURES["server_errors"] += 1
                problems.append(f"{label}: {response.status_code} {response.text[:200]}")
            shown = [key for text, key in withheld.items() if text in response.text]
            if shown:
                FUZZ_FIGURES["leaks"] += 1
                problems.append(f"{label}: reveals {shown}")

        run()
    store.engine.dispose()
    print(f"\nfuzz: {FUZZ_FIGURES['requests']} requests over {len(fhir)} operations")
    assert not problems, f"{len(problems)} fuzzed requests went wrong:\n" + "\n".join(problems[:30])
