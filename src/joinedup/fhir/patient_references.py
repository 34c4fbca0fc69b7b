"""Which people a resource concerns, read from its JSON bytes without parsing the whole resource: the Patient
itself, and every Patient it refers to. The audit (who was shown) and bulk export (who was included) both ask."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PATIENT_REFERENCE = re.compile(rb'"reference"\s*:\s*"Patient/([A-Za-z0-9\-.]{1,64})"')


def patients_in(resource_type: str, resource_id: str, raw: bytes | None) -> set[str]:
    found = {m.decode("ascii") for m in _PATIENT_REFERENCE.findall(raw or b"")}
    if resource_type == "Patient":
        found.add(resource_id)
    return found


def patients_of_all(items: Iterable[tuple[str, str, bytes | None]]) -> set[str]:
    found: set[str] = set()
    for resource_type, resource_id, raw in items:
        found |= patients_in(resource_type, resource_id, raw)
    return found
