"""The FHIR R4 REST API at /fhir."""
