"""Pure FHIR R4 rules: resource types, search parameters, validation, references. No I/O here."""
