"""What a BaRS referral asks, in the platform's referral shape (decision 0500): the words the receiving team reads,
the urgency, the sender as the requester, and the identifiers that make the message and its ServiceRequest
recognisable again. No I/O."""

from __future__ import annotations

from typing import Any

from joinedup.care.referrals.model import NewReferral
from joinedup.care.vocabulary import vocabulary

from .message import Message

Resource = dict[str, Any]
ODS_SYSTEMS = ("https://fhir.nhs.uk/Id/ods-organization-code", "https://fhir.nhs.uk/id/ods-organization-code")
URGENCY_OF_PRIORITY = {"stat": "same-day", "asap": "same-day", "urgent": "72-hours", "routine": "routine"}
NOTHING_GIVEN = "Not given in the message"


def words_of(concept: Any) -> str | None:
    """A CodeableConcept in words: its text, else its codings' displays."""
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    shown = [str(c["display"]) for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("display")]
    return "; ".join(shown) or None


def _care_plan_outcomes(message: Message) -> tuple[list[str], list[str]]:
    """The coded outcomes (the sender's assessment: symptoms, disposition) and the free-text ones (its consultation
    summary) of the CarePlans the ServiceRequest is based on."""
    coded: list[str] = []
    text: list[str] = []
    for based_on in message.focus.get("basedOn") or []:
        plan = message.resolve((based_on or {}).get("reference"))
        if plan is None or plan.get("resourceType") != "CarePlan":
            continue
        for activity in plan.get("activity") or []:
            for concept in activity.get("outcomeCodeableConcept") or []:
                words = words_of(concept)
                if words and concept.get("coding"):
                    coded.append(words)
                elif words:
                    text.append(words)
    return coded, text


def what_is_asked(focus: Resource) -> str:
    for concept in (focus.get("code"), *(focus.get("category") or [])):
        if words := words_of(concept):
            return words
    return "Referral received by message (BaRS)"


def why(message: Message, coded_outcomes: list[str]) -> str:
    reasons = [w for c in message.focus.get("reasonCode") or [] if (w := words_of(c))]
    return "; ".join(reasons or coded_outcomes) or NOTHING_GIVEN


def note_of(message: Message, text_outcomes: list[str]) -> str | None:
    focus = message.focus
    parts = [str(n["text"]) for n in focus.get("note") or [] if isinstance(n, dict) and n.get("text")]
    if focus.get("patientInstruction"):
        parts.append(f"Told to the person: {focus['patientInstruction']}")
    parts.extend(text_outcomes)
    source = message.header.get("source") or {}
    if source.get("name"):
        parts.append(f"Sent from {source['name']} by BaRS message")
    return "\n\n".join(parts) or None


def requester_of(sender: Resource, directory_id: str | None) -> Resource:
    """The sender as the receiver is shown it (the standard: always shown): our directory's Organization when we
    hold it, else a logical reference by its ODS code; its name as the message gives it kept as the display."""
    name = str(sender.get("name") or "The sending organisation (not named in the message)")
    if directory_id is not None:
        return {"reference": f"Organization/{directory_id}", "display": name}
    found: Resource = {"type": "Organization", "display": name}
    if code := ods_code_of(sender):
        found["identifier"] = {"system": ODS_SYSTEMS[0], "value": code}
    return found


def ods_code_of(organisation: Resource) -> str | None:
    for identifier in organisation.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") in ODS_SYSTEMS and identifier.get("value"):
            return str(identifier["value"])
    return None


def identifiers_of(message: Message) -> tuple[dict[str, str], ...]:
    """The message's id (a resend is recognised by it), the sender's id for its ServiceRequest (an update finds the
    referral by it), and the ServiceRequest's own identifiers as the sender gave them."""
    words = vocabulary()
    found = [
        {"system": words.system("bars_message"), "value": message.message_id},
        {"system": words.system("bars_servicerequest"), "value": message.sender_key},
    ]
    for identifier in message.focus.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            found.append({"system": str(identifier["system"]), "value": str(identifier["value"])})
    return tuple(found)


def new_referral(message: Message, patient_id: str, service_id: str) -> NewReferral:
    coded, text = _care_plan_outcomes(message)
    code = message.focus.get("code")
    return NewReferral(
        patient=f"Patient/{patient_id}",
        service=f"HealthcareService/{service_id}",
        what=what_is_asked(message.focus),
        reason=why(message, coded),
        urgency=URGENCY_OF_PRIORITY.get(str(message.focus.get("priority")), "routine"),
        requester=None,  # set by the caller as a reference or a logical one (requester_of)
        what_code=code if isinstance(code, dict) and code.get("coding") else None,
        note=note_of(message, text),
        identifiers=identifiers_of(message),
    )
