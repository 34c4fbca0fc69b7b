"""Turning FHIR datatypes into the words a page shows (pure: no I/O, British English, NHS date style)."""

from __future__ import annotations

from datetime import date
from typing import Any

from joinedup.fhir.nhs_number import NHS_NUMBER_SYSTEM, format_3_3_4

Resource = dict[str, Any]
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def human_name(names: list[Resource] | None) -> str:
    """'Margaret ASHWORTH' style is for wristbands; pages show 'Margaret Ashworth', the official name first."""
    if not names:
        return "Name not recorded"
    chosen = next((n for n in names if n.get("use") == "official"), names[0])
    if chosen.get("text"):
        return str(chosen["text"])
    parts = [*chosen.get("prefix", []), *chosen.get("given", []), chosen.get("family", "")]
    return " ".join(str(p) for p in parts if p) or "Name not recorded"


def address(addresses: list[Resource] | None) -> str:
    if not addresses:
        return "Not recorded"
    chosen = next((a for a in addresses if a.get("use") == "home"), addresses[0])
    if chosen.get("text"):
        return str(chosen["text"])
    parts = [*chosen.get("line", []), chosen.get("city"), chosen.get("postalCode")]
    return ", ".join(str(p) for p in parts if p) or "Not recorded"


def nhs_number(patient: Resource) -> str | None:
    for identifier in patient.get("identifier") or []:
        if identifier.get("system") == NHS_NUMBER_SYSTEM and identifier.get("value"):
            return format_3_3_4(str(identifier["value"]))
    return None


def local_identifiers(patient: Resource) -> list[str]:
    return [
        str(i["value"])
        for i in patient.get("identifier") or []
        if i.get("value") and i.get("system") != NHS_NUMBER_SYSTEM
    ]


def concept(value: Resource | None) -> str:
    """A CodeableConcept's text, else its first coding's display, else its code."""
    if not value:
        return ""
    if value.get("text"):
        return str(value["text"])
    for coding in value.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    for coding in value.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    return ""


def first_concept(values: list[Resource] | None) -> str:
    for value in values or []:
        text = concept(value)
        if text:
            return text
    return ""


def parse_day(text: str | None) -> date | None:
    """The calendar day of a FHIR date or dateTime ('2024', '2024-03' and '2024-03-05T…' all work)."""
    if not text or len(text) < 4 or not text[:4].isdigit():
        return None
    try:
        year = int(text[:4])
        month = int(text[5:7]) if len(text) >= 7 else 1
        day = int(text[8:10]) if len(text) >= 10 else 1
        return date(year, month, day)
    except ValueError:
        return None


def long_date(text: str | None) -> str:
    """'5 March 2024' (or 'March 2024', '2024' for partial dates); '' when absent."""
    if not text:
        return ""
    found = parse_day(text)
    if found is None:
        return text
    if len(text) == 4:
        return str(found.year)
    if len(text) == 7:
        return f"{MONTHS[found.month - 1]} {found.year}"
    return f"{found.day} {MONTHS[found.month - 1]} {found.year}"


def age(birth: str | None, today: date) -> int | None:
    born = parse_day(birth)
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def reference_key(value: Resource | None) -> str | None:
    """'Organization/x' from a Reference, or None for contained, logical or absent references."""
    if not value:
        return None
    text = value.get("reference")
    if isinstance(text, str) and "/" in text and not text.startswith("#"):
        parts = text.split("/")
        return f"{parts[-2]}/{parts[-1]}" if "_history" not in parts else f"{parts[-4]}/{parts[-3]}"
    return None


def reference_id(value: Resource | None, resource_type: str) -> str | None:
    key = reference_key(value)
    if key and key.startswith(f"{resource_type}/"):
        return key.split("/", 1)[1]
    return None
