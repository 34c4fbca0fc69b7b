"""This sub-domain's FHIR $operations, declared once (decision 0314) and registered by care/install.py."""

from __future__ import annotations

from joinedup.api.operations import Operation

OPERATIONS: tuple[Operation, ...] = ()
