"""How a person's choices are recorded as FHIR Consent so that the store can find them by search parameters.

Consent.provision.type is not a search parameter in R4, so an objection is found by its category: an active Consent
whose category is one of these codes, with `provision.type = deny`, is an objection. Writing one is all it takes;
it applies from the next query (the checks run inside the SQL).
"""

from __future__ import annotations

from typing import Any

CONSENT_CATEGORY = "https://joinedup.example/fhir/CodeSystem/consent-category"
# Objects to their record being shared beyond the organisation that wrote each part (direct care).
OBJECTS_TO_SHARING = "objects-to-sharing"
# National data opt-out style: no use of their record beyond their own care (analytics, planning, research).
OPTS_OUT_OF_SECONDARY_USE = "opts-out-of-secondary-use"


def objection(patient_id: str, category: str, consent_id: str | None = None) -> dict[str, Any]:
    """A Consent recording the person's objection (category is one of the codes above)."""
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": category}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "provision": {"type": "deny"},
    }
    if consent_id is not None:
        consent["id"] = consent_id
    return consent
