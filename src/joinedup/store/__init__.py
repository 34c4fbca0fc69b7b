"""The one store: versioned FHIR resources, their search index, history, bulk load and export."""
