"""Sensitive information: which FHIR security labels (meta.security) put a resource in which sensitive category.

A resource carrying any of these labels is withheld from everyone outside the organisation that wrote it, unless
their role grants the category (roles.json `sensitive`). Codes are HL7 v3 ActCode information-sensitivity codes
where one exists, v3 Confidentiality R/V for anything marked restricted, and JoinedUp's own code system for the
two categories HL7 has no single code for (safeguarding, gender identity).
"""

from __future__ import annotations

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
JOINEDUP_SENSITIVITY = "https://joinedup.example/fhir/CodeSystem/information-sensitivity"

# category -> the (system, code) labels that place a resource in it
SENSITIVE_LABELS: dict[str, tuple[tuple[str, str], ...]] = {
    "sexual-health": ((ACT_CODE, "SEX"), (ACT_CODE, "STD")),
    "hiv": ((ACT_CODE, "HIV"),),
    "substance-misuse": ((ACT_CODE, "ETH"), (ACT_CODE, "SUD")),
    "gender-identity": ((JOINEDUP_SENSITIVITY, "gender-identity"),),
    "safeguarding": ((JOINEDUP_SENSITIVITY, "safeguarding"), (ACT_CODE, "SDV")),
    "psychotherapy-notes": ((ACT_CODE, "PSYTHPN"),),
    "restricted": ((CONFIDENTIALITY, "R"), (CONFIDENTIALITY, "V")),
}


def withheld_labels(granted: frozenset[str]) -> list[tuple[str, str]]:
    """The labels whose resources a role with these granted categories may not see outside the authoring team."""
    return [label for category, labels in SENSITIVE_LABELS.items() if category not in granted for label in labels]


def label(category: str) -> dict[str, str]:
    """The first (preferred) security label of a category, as a FHIR Coding."""
    system, code = SENSITIVE_LABELS[category][0]
    return {"system": system, "code": code}
