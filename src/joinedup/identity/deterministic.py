"""The deterministic rule, applied before any probabilistic linkage: a valid NHS number plus the same birth date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from joinedup.fhir.nhs_number import is_valid

from .record import LinkageRecord

RULE = "valid NHS number (Modulo 11) and the same date of birth"


def links(left: LinkageRecord, right: LinkageRecord) -> bool:
    """True when both carry the same NHS number, valid by Modulo 11, and the same full date of birth."""
    return (
        left.nhs_number is not None
        and left.nhs_number == right.nhs_number
        and is_valid(left.nhs_number)
        and left.birth_date is not None
        and left.birth_date == right.birth_date
    )


def pairs(records: Iterable[LinkageRecord]) -> list[tuple[str, str]]:
    """Record-key pairs linked by the rule: each record of a group tied to the group's first (enough for clusters)."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in records:
        if record.nhs_number and record.birth_date and is_valid(record.nhs_number):
            groups[(record.nhs_number, record.birth_date)].append(record.key)
    return [(keys[0], other) for keys in groups.values() for other in keys[1:]]
