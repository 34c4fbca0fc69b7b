"""The person index as FHIR resources: Person (one per human), Provenance (one per decision), Task (a review item).

Pure: builds and reads resource dicts, no I/O. Ids are derived (uuid5) from what they record, so writing the same
decision twice writes the same resource and a re-run of the batch changes nothing (decision 0200).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from joinedup.fhir.source import SOURCE_URI_PREFIX

from .decisions import Method, PairDecision

Resource = dict[str, Any]

CODE_SYSTEM = "https://joinedup.example/fhir/CodeSystem/person-index"
INDEX_SOURCE = f"{SOURCE_URI_PREFIX}person-index"
INDEX_TAG = {"system": CODE_SYSTEM, "code": "person-index", "display": "Maintained by the person index"}
REVIEW_CODE = "link-review"
EVIDENCE_URL = "https://joinedup.example/fhir/StructureDefinition/match-evidence"
ENGINE_SYSTEM = "https://joinedup.example/fhir/NamingSystem/linkage-engine"
USER_SYSTEM = "https://joinedup.example/fhir/NamingSystem/user"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ENGINE_ROLE = "assembler"  # the engine put the person together
REVIEWER_ROLE = "verifier"  # a person checked it
_IDS = uuid.UUID("3c8f2b1e-6a4d-5e7f-8b9c-0d1e2f3a4b5c")


class Assurance(Enum):
    """Person.link.assurance (decision 0200)."""

    CONFIRMED = "level4"  # the deterministic rule, a reviewer, or the Person made for this record alone
    PROBABLE = "level3"  # an automatic probabilistic link
    AWAITING_REVIEW = "level2"  # on its own until a reviewer decides


class Activity(Enum):
    """What a Provenance records (Provenance.activity, in the person index's code system)."""

    LINK = "link"
    REVIEW = "send-to-review"
    ACCEPT = "accept-link"
    REJECT = "reject-link"
    MERGE = "merge"
    UNMERGE = "unmerge"


HUMAN_ACTIVITIES = frozenset({Activity.ACCEPT, Activity.REJECT, Activity.MERGE, Activity.UNMERGE})


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_IDS, "|".join(parts)))


def patient_ref(patient_id: str) -> str:
    return f"Patient/{patient_id}"


def ref_id(reference: Any, resource_type: str) -> str | None:
    """The id of a 'Type/id' Reference of the given type, else None."""
    value = reference.get("reference") if isinstance(reference, dict) else None
    if isinstance(value, str) and value.startswith(f"{resource_type}/"):
        return value.split("/", 2)[1]
    return None


def _meta() -> dict[str, Any]:
    return {"source": INDEX_SOURCE, "tag": [dict(INDEX_TAG)]}


# --- Person -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonState:
    """A Person as the index sees it: its id, whether active, and each linked Patient's assurance."""

    id: str
    links: dict[str, Assurance]  # Patient id → assurance
    active: bool = True
    merged_into: str | None = None  # an inactive Person left pointing at the one it was merged into


def person_resource(state: PersonState) -> Resource:
    links: list[dict[str, Any]] = [
        {"target": {"reference": patient_ref(pid)}, "assurance": state.links[pid].value} for pid in sorted(state.links)
    ]
    if state.merged_into:
        links.append({"target": {"reference": f"Person/{state.merged_into}"}, "assurance": "level4"})
    resource: Resource = {"resourceType": "Person", "id": state.id, "meta": _meta(), "active": state.active}
    if links:
        resource["link"] = links
    return resource


def person_state(resource: Resource) -> PersonState:
    links: dict[str, Assurance] = {}
    merged_into: str | None = None
    for link in resource.get("link") or []:
        target = link.get("target")
        if (pid := ref_id(target, "Patient")) is not None:
            links[pid] = Assurance(link.get("assurance", Assurance.CONFIRMED.value))
        elif (other := ref_id(target, "Person")) is not None:
            merged_into = other
    return PersonState(str(resource["id"]), links, bool(resource.get("active", True)), merged_into)


# --- Provenance -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    """Who or what decided: the engine (with its model and nickname-table versions) or a signed-in user."""

    kind: str  # ENGINE_ROLE or REVIEWER_ROLE
    identifier_system: str
    identifier: str
    display: str

    @classmethod
    def engine(cls, model_version: str, nickname_version: str) -> Agent:
        label = f"JoinedUp person index (model {model_version}, nickname table {nickname_version})"
        return cls(ENGINE_ROLE, ENGINE_SYSTEM, f"joinedup-person-index/{model_version}", label)

    @classmethod
    def reviewer(cls, user: str) -> Agent:
        return cls(REVIEWER_ROLE, USER_SYSTEM, user, user)

    def as_fhir(self) -> dict[str, Any]:
        return {
            "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": self.kind}]},
            "who": {
                "identifier": {"system": self.identifier_system, "value": self.identifier},
                "display": self.display,
            },
        }


def evidence_extension(decision: PairDecision) -> list[dict[str, Any]]:
    """The match, field by field: method, probability, total weight, then each field's level and weight."""
    parts: list[dict[str, Any]] = [
        {"url": "method", "valueCode": decision.method.value},
        {"url": "outcome", "valueCode": decision.outcome.value},
        {"url": "matchProbability", "valueDecimal": round(decision.match_probability, 6)},
        {"url": "matchWeight", "valueDecimal": round(decision.match_weight, 4)},
    ]
    for contribution in decision.contributions:
        parts.append(
            {
                "url": "field",
                "extension": [
                    {"url": "name", "valueString": contribution.field},
                    {"url": "level", "valueString": contribution.level},
                    {"url": "weight", "valueDecimal": round(contribution.weight, 4)},
                ],
            }
        )
    return [{"url": EVIDENCE_URL, "extension": parts}]


def provenance_resource(
    provenance_id: str,
    activity: Activity,
    agent: Agent,
    targets: Sequence[str],
    patient_ids: Iterable[str],
    recorded: str,
    reason: str,
    decision: PairDecision | None = None,
    removed: str | None = None,
) -> Resource:
    """targets: 'Person/…' or 'Task/…' references; entity: every source Patient the decision was about (role
    'source'), and for an unmerge the Patient taken out (role 'removal')."""
    resource: Resource = {
        "resourceType": "Provenance",
        "id": provenance_id,
        "meta": _meta(),
        "target": [{"reference": t} for t in targets],
        "recorded": recorded,
        "activity": {"coding": [{"system": CODE_SYSTEM, "code": activity.value}], "text": reason},
        "agent": [agent.as_fhir()],
        "entity": [
            {"role": "removal" if pid == removed else "source", "what": {"reference": patient_ref(pid)}}
            for pid in sorted(set(patient_ids) | ({removed} if removed else set()))
        ],
    }
    if decision is not None:
        resource["extension"] = evidence_extension(decision)
    return resource


@dataclass(frozen=True)
class FieldEvidence:
    field: str
    level: str
    weight: float


@dataclass(frozen=True)
class Evidence:
    method: str
    outcome: str
    match_probability: float
    match_weight: float
    fields: tuple[FieldEvidence, ...]


def evidence_of(provenance: Resource) -> Evidence | None:
    """The field-by-field evidence recorded on a Provenance, if any."""
    for extension in provenance.get("extension") or []:
        if extension.get("url") != EVIDENCE_URL:
            continue
        values: dict[str, Any] = {}
        fields: list[FieldEvidence] = []
        for part in extension.get("extension") or []:
            if part.get("url") == "field":
                sub = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in part["extension"]}
                fields.append(FieldEvidence(str(sub["name"]), str(sub["level"]), float(sub["weight"])))
            else:
                values[part["url"]] = next(v for k, v in part.items() if k.startswith("value"))
        return Evidence(
            str(values.get("method", "")),
            str(values.get("outcome", "")),
            float(values.get("matchProbability", 0.0)),
            float(values.get("matchWeight", 0.0)),
            tuple(fields),
        )
    return None


def activity_of(provenance: Resource) -> Activity | None:
    for coding in (provenance.get("activity") or {}).get("coding") or []:
        if coding.get("system") == CODE_SYSTEM:
            try:
                return Activity(coding.get("code"))
            except ValueError:
                return None
    return None


def entity_patients(provenance: Resource) -> tuple[list[str], str | None]:
    """(the Patients a Provenance is about, the one an unmerge took out or None)."""
    about: list[str] = []
    removed: str | None = None
    for entity in provenance.get("entity") or []:
        if (pid := ref_id(entity.get("what"), "Patient")) is None:
            continue
        if entity.get("role") == "removal":
            removed = pid
        else:
            about.append(pid)
    return about, removed


# --- Task (a review item) -------------------------------------------------------------------------------------------


class ReviewStatus(Enum):
    OPEN = "requested"
    ACCEPTED = "completed"
    REJECTED = "rejected"
    SUPERSEDED = "cancelled"  # the two records were joined or parted some other way before anyone reviewed


@dataclass(frozen=True)
class ReviewItem:
    """A candidate link for a human: the arriving record, its best candidate (None when too sparse to match)."""

    id: str
    patient_id: str
    candidate_id: str | None
    method: Method
    match_probability: float
    reason: str
    status: ReviewStatus = ReviewStatus.OPEN
    provenance_id: str | None = None  # the engine's Provenance with the evidence


def review_id(patient_id: str, candidate_id: str | None) -> str:
    pair = sorted(p for p in (patient_id, candidate_id) if p)
    return derived_id("review", *pair)


def task_resource(item: ReviewItem, authored: str) -> Resource:
    """A review item as a Task. The Patients are Task.input (not Task.for) so review work stays out of the
    person's own record and timeline."""
    inputs: list[dict[str, Any]] = [
        {"type": {"text": "record"}, "valueReference": {"reference": patient_ref(item.patient_id)}},
        {"type": {"text": "method"}, "valueCode": item.method.value},
        {"type": {"text": "match probability"}, "valueDecimal": round(item.match_probability, 6)},
    ]
    if item.candidate_id:
        inputs.insert(
            1, {"type": {"text": "candidate"}, "valueReference": {"reference": patient_ref(item.candidate_id)}}
        )
    resource: Resource = {
        "resourceType": "Task",
        "id": item.id,
        "meta": _meta(),
        "status": item.status.value,
        "intent": "proposal",
        "priority": "routine",
        "code": {
            "coding": [{"system": CODE_SYSTEM, "code": REVIEW_CODE, "display": "Review a possible record link"}],
            "text": "Are these records the same person?",
        },
        "description": item.reason,
        "authoredOn": authored,
        "input": inputs,
    }
    if item.provenance_id:
        resource["relevantHistory"] = [{"reference": f"Provenance/{item.provenance_id}"}]
    return resource


def review_item(task: Resource) -> ReviewItem:
    patient_id: str | None = None
    candidate_id: str | None = None
    method = Method.PROBABILISTIC
    probability = 0.0
    for entry in task.get("input") or []:
        label = (entry.get("type") or {}).get("text")
        if label == "record":
            patient_id = ref_id(entry.get("valueReference"), "Patient")
        elif label == "candidate":
            candidate_id = ref_id(entry.get("valueReference"), "Patient")
        elif label == "method":
            method = Method(entry.get("valueCode"))
        elif label == "match probability":
            probability = float(entry.get("valueDecimal", 0.0))
    if patient_id is None:
        raise ValueError("a review Task without its record")
    history = [ref_id(h, "Provenance") for h in task.get("relevantHistory") or []]
    return ReviewItem(
        id=str(task["id"]),
        patient_id=patient_id,
        candidate_id=candidate_id,
        method=method,
        match_probability=probability,
        reason=str(task.get("description") or ""),
        status=ReviewStatus(task.get("status")),
        provenance_id=next((h for h in history if h), None),
    )
