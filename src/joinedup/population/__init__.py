"""Population health: SQL on FHIR views, scores, the risk model, segmentation and case finding."""
