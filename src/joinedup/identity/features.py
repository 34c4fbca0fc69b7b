"""From a FHIR R4 Patient (a dict) to the linkage record the person index compares."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

import jellyfish

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, is_valid
from joinedup.fhir.nhs_number import normalise as normalise_nhs_number
from joinedup.fhir.source import source_of

from . import normalise
from .nicknames import NicknameTable, default_table
from .record import LinkageRecord

_GENDERS = frozenset({"male", "female", "other"})
_MIN_IDENTIFYING_FIELDS = 3


@lru_cache(maxsize=1 << 16)
def phonetic(name: str | None) -> str | None:
    """The Metaphone code of a normalised name (jellyfish); None for no name."""
    if not name:
        return None
    return jellyfish.metaphone(name) or None


def patient_to_record(
    patient: dict[str, Any],
    source: str | None = None,
    *,
    today: date | None = None,
    nicknames: NicknameTable | None = None,
) -> LinkageRecord:
    """Derive the linkage record; `source` defaults to the Patient's meta.source (or 'unknown')."""
    table = nicknames or default_table()
    source_name = source or source_of(patient) or "unknown"
    nhs_valid, nhs_rejected = _nhs_number(patient)
    given_tokens, family = _name(patient)
    given = given_tokens[0] if given_tokens else None
    canonical = table.canonical(given) if given else None
    birth = normalise.birth_date(patient.get("birthDate"))
    current, previous = _addresses(patient, today or date.today())
    postcodes = _unique([code for code in (_postcode(a) for a in [*current[:1], *current[1:], *previous]) if code])
    postcode = _postcode(current[0]) if current else None
    gender = patient.get("gender")
    line = normalise.address_line(current[0].get("line")) if current else None
    record = LinkageRecord(
        source=source_name,
        patient_id=str(patient.get("id") or ""),
        nhs_number=nhs_valid,
        nhs_number_rejected=nhs_rejected,
        given_name=given,
        given_canonical=canonical,
        given_metaphone=phonetic(canonical),
        middle_names=" ".join(given_tokens[1:]) or None,
        family_name=family,
        family_metaphone=phonetic(family),
        name_key=" ".join(sorted((given, family))) if given and family else None,
        birth_date=birth,
        birth_date_swapped=normalise.swapped_day_month(birth),
        birth_year=birth[:4] if birth else None,
        sex=gender if gender in _GENDERS else None,
        postcode=postcode,
        postcode_sector=normalise.postcode_sector(postcode),
        address_line=line,
        address_key=" ".join(sorted(set(line.split(" ")))) if line else None,
        postcodes=tuple(postcodes) or None,
    )
    return replace(record, sparse=True) if is_sparse(record) else record


def is_sparse(record: LinkageRecord) -> bool:
    """Too little to match on: no valid NHS number and fewer than three of given, family, birth date, postcode."""
    if record.nhs_number:
        return False
    present = sum(1 for value in (record.given_name, record.family_name, record.birth_date, record.postcode) if value)
    return present < _MIN_IDENTIFYING_FIELDS


def _nhs_number(patient: dict[str, Any]) -> tuple[str | None, str | None]:
    """(a valid NHS number, a rejected one): an identifier failing Modulo 11 is never used for linkage."""
    rejected: str | None = None
    for identifier in patient.get("identifier") or []:
        if not isinstance(identifier, dict) or identifier.get("system") != NHS_NUMBER_SYSTEM:
            continue
        value = identifier.get("value")
        if not isinstance(value, str):
            continue
        if is_valid(value):
            return normalise_nhs_number(value), None
        rejected = rejected or value
    return None, rejected


def _name(patient: dict[str, Any]) -> tuple[list[str], str | None]:
    """Given-name tokens and the family name of the Patient's official (else usual, else first current) name."""
    names = [n for n in patient.get("name") or [] if isinstance(n, dict) and n.get("use") not in ("old", "maiden")]
    if not names:
        return [], None
    ranked = sorted(names, key=lambda n: {"official": 0, "usual": 1}.get(str(n.get("use")), 2))
    chosen = ranked[0]
    given: list[str] = []
    for part in chosen.get("given") or []:
        given.extend(normalise.name_tokens(part))
    family = normalise.family_name(chosen.get("family"))
    if not given and not family and chosen.get("text"):
        tokens = normalise.name_tokens(chosen["text"])
        return tokens[:-1], (tokens[-1] if tokens else None)
    return given, family


def _addresses(patient: dict[str, Any], today: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(current addresses, home first; previous addresses, latest first) by Address.use and Address.period."""
    current: list[dict[str, Any]] = []
    previous: list[dict[str, Any]] = []
    for address in patient.get("address") or []:
        if not isinstance(address, dict):
            continue
        period = address.get("period") or {}
        end = period.get("end")
        ended = isinstance(end, str) and end[:10] < today.isoformat()
        (previous if ended or address.get("use") == "old" else current).append(address)
    current.sort(key=lambda a: 0 if a.get("use") == "home" else 1)
    previous.sort(key=lambda a: str((a.get("period") or {}).get("end") or ""), reverse=True)
    return current, previous


def _postcode(address: dict[str, Any]) -> str | None:
    value = address.get("postalCode")
    return normalise.postcode(value) if isinstance(value, str) else None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
