"""Which people a returned resource concerns (the people an audit entry names): fhir/patient_references.py, which
bulk export shares so that an export names the people it included as a read names the people it showed."""

from __future__ import annotations

from joinedup.fhir.patient_references import patients_in, patients_of_all

__all__ = ["patients_in", "patients_of_all"]
