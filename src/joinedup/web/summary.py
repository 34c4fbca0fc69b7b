"""The record summary: problems, medications, allergies, frailty and risk, the care team across organisations,
active care plans, open referrals and tasks — each line naming the organisation that recorded it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .fhir_display import concept, first_concept, long_date
from .record_resources import RecordResources

Resource = dict[str, Any]
CLOSED_TASK = frozenset({"completed", "cancelled", "rejected", "failed", "entered-in-error"})
OPEN_REFERRAL = frozenset({"active", "draft", "on-hold"})
INACTIVE_CLINICAL = frozenset({"inactive", "resolved", "remission", "refuted"})
FRAILTY_AND_RISK_CODES = frozenset({"713636003", "763264000", "445414007", "225338004"})


@dataclass(frozen=True, slots=True)
class SummaryLine:
    text: str
    detail: str
    source: str
    since: str = ""


@dataclass(frozen=True, slots=True)
class TeamMember:
    name: str
    role: str
    organisation: str


@dataclass
class Summary:
    problems: list[SummaryLine] = field(default_factory=list)
    medications: list[SummaryLine] = field(default_factory=list)
    allergies: list[SummaryLine] = field(default_factory=list)
    risks: list[SummaryLine] = field(default_factory=list)
    care_team: list[TeamMember] = field(default_factory=list)
    care_plans: list[SummaryLine] = field(default_factory=list)
    referrals: list[SummaryLine] = field(default_factory=list)
    tasks: list[SummaryLine] = field(default_factory=list)


def _clinical_status(resource: Resource) -> str:
    return concept(resource.get("clinicalStatus")).lower()


def _line(record: RecordResources, resource: Resource, text: str, detail: str = "", since: str = "") -> SummaryLine:
    return SummaryLine(text or "Not described", detail, record.source(resource).name, long_date(since))


def problems(record: RecordResources) -> list[SummaryLine]:
    return [
        _line(record, r, concept(r.get("code")), first_concept(r.get("category")), r.get("onsetDateTime", ""))
        for r in record.of_type("Condition")
        if _clinical_status(r) not in INACTIVE_CLINICAL and r.get("verificationStatus", {}) != "entered-in-error"
    ]


def medications(record: RecordResources) -> list[SummaryLine]:
    found = []
    for r in record.of_type("MedicationRequest", "MedicationStatement"):
        if r.get("status") != "active":
            continue
        medicine = concept(r.get("medicationCodeableConcept")) or record.named(r.get("medicationReference"))
        dosage = next((d.get("text", "") for d in r.get("dosageInstruction") or r.get("dosage") or []), "")
        found.append(_line(record, r, medicine, dosage, r.get("authoredOn", "")))
    return found


def allergies(record: RecordResources) -> list[SummaryLine]:
    return [
        _line(record, r, concept(r.get("code")), first_concept(r.get("reaction", [{}])[0].get("manifestation")))
        for r in record.of_type("AllergyIntolerance")
        if _clinical_status(r) not in INACTIVE_CLINICAL
    ]


def risks(record: RecordResources) -> list[SummaryLine]:
    found = []
    for r in record.of_type("RiskAssessment"):
        outcome = first_concept([p.get("outcome", {}) for p in r.get("prediction") or []])
        found.append(
            _line(record, r, concept(r.get("code")) or "Risk assessment", outcome, r.get("occurrenceDateTime", ""))
        )
    for r in record.of_type("Observation"):
        codes = {c.get("code") for c in (r.get("code") or {}).get("coding") or []}
        if codes & FRAILTY_AND_RISK_CODES:
            value = r.get("valueQuantity", {}).get("value", concept(r.get("valueCodeableConcept")))
            found.append(_line(record, r, concept(r.get("code")), str(value), r.get("effectiveDateTime", "")))
    return found


def care_team(record: RecordResources, patients: list[Resource]) -> list[TeamMember]:
    members: list[TeamMember] = []
    for team in record.of_type("CareTeam"):
        if team.get("status") not in {None, "active", "proposed"}:
            continue
        for participant in team.get("participant") or []:
            organisation = record.named(participant.get("onBehalfOf")) or record.source(team).name
            name = record.named(participant.get("member")) or "Not named"
            members.append(TeamMember(name, first_concept(participant.get("role")), organisation))
    for episode in record.of_type("EpisodeOfCare"):
        if episode.get("status") == "active" and episode.get("careManager"):
            organisation = record.named(episode.get("managingOrganization")) or record.source(episode).name
            member = TeamMember(record.named(episode["careManager"]), "Key worker", organisation)
            if all(m.name != member.name or m.organisation != member.organisation for m in members):
                members.append(member)
    for patient in patients:
        for practice in patient.get("generalPractitioner") or []:
            name = record.named(practice)
            if name and all(m.organisation != name for m in members):
                members.append(TeamMember("Registered GP practice", "GP practice", name))
    return members


def care_plans(record: RecordResources) -> list[SummaryLine]:
    return [
        _line(
            record,
            r,
            str(r.get("title") or first_concept(r.get("category"))),
            str(r.get("description", "")),
            (r.get("period") or {}).get("start", ""),
        )
        for r in record.of_type("CarePlan")
        if r.get("status") == "active"
    ]


def referrals(record: RecordResources) -> list[SummaryLine]:
    found = []
    for r in record.of_type("ServiceRequest"):
        if r.get("status") in OPEN_REFERRAL:
            to = ", ".join(n for n in (record.named(p) for p in r.get("performer") or []) if n)
            found.append(_line(record, r, concept(r.get("code")), f"To {to}" if to else "", r.get("authoredOn", "")))
    return found


def tasks(record: RecordResources) -> list[SummaryLine]:
    found = []
    for r in record.of_type("Task"):
        if r.get("status") not in CLOSED_TASK:
            owner = record.named(r.get("owner"))
            text = str(r.get("description") or concept(r.get("code")))
            found.append(_line(record, r, text, f"With {owner}" if owner else "", r.get("authoredOn", "")))
    return found


def summarise(record: RecordResources, patients: list[Resource]) -> Summary:
    return Summary(
        problems=problems(record),
        medications=medications(record),
        allergies=allergies(record),
        risks=risks(record),
        care_team=care_team(record, patients),
        care_plans=care_plans(record),
        referrals=referrals(record),
        tasks=tasks(record),
    )
