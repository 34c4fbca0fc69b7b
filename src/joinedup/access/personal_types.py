"""Which resource types are about a person (the R4 Patient compartment, plus Task) and which are directory data.

A resource of a personal type is shown only under the person-level rules; everything else (organisations, staff,
locations, services, medicines, terminology) is directory information any signed-in role may read.
"""

from __future__ import annotations

PERSONAL_TYPES = frozenset(
    {
        "Account", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse", "AuditEvent",
        "Basic", "BodyStructure", "CarePlan", "CareTeam", "ChargeItem", "Claim", "ClaimResponse",
        "ClinicalImpression", "Communication", "CommunicationRequest", "Composition", "Condition", "Consent",
        "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue", "DeviceRequest",
        "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference", "Encounter",
        "EnrollmentRequest", "EpisodeOfCare", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal",
        "Group", "ImagingStudy", "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "Invoice",
        "List", "MeasureReport", "Media", "MedicationAdministration", "MedicationDispense", "MedicationRequest",
        "MedicationStatement", "MolecularSequence", "NutritionOrder", "Observation", "Patient", "Person",
        "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson", "RequestGroup", "ResearchSubject",
        "RiskAssessment", "Schedule", "ServiceRequest", "Specimen", "SupplyDelivery", "SupplyRequest", "Task",
        "VisionPrescription",
    }
)  # fmt: skip
