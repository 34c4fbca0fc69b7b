"""The linkage record: what the person index compares, derived from one source Patient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

KEY_SEPARATOR = "|"


def record_key(source: str, patient_id: str) -> str:
    """The record's unique id across all sources: 'source|Patient id'."""
    return f"{source}{KEY_SEPARATOR}{patient_id}"


@dataclass(frozen=True)
class LinkageRecord:
    """One source Patient as comparable, normalised fields. None means 'not known'; never an empty string."""

    source: str
    patient_id: str
    nhs_number: str | None = None  # only a number that passes Modulo 11
    given_name: str | None = None
    given_canonical: str | None = None  # nickname table applied: bill → william
    given_metaphone: str | None = None
    middle_names: str | None = None
    family_name: str | None = None
    family_metaphone: str | None = None
    name_key: str | None = None  # given and family name sorted: finds records with the two swapped
    birth_date: str | None = None  # YYYY-MM-DD
    birth_date_swapped: str | None = None  # day and month exchanged, when they differ
    birth_year: str | None = None
    sex: str | None = None  # FHIR administrative gender, 'unknown' dropped
    postcode: str | None = None  # current address
    postcode_sector: str | None = None
    address_line: str | None = None  # current address lines, folded
    address_key: str | None = None  # the address line's words, sorted: the same address written in another order
    postcodes: tuple[str, ...] | None = None  # current and previous addresses
    sparse: bool = False
    nhs_number_rejected: str | None = None  # an NHS number given but failing Modulo 11: kept to show, never used

    @property
    def key(self) -> str:
        return record_key(self.source, self.patient_id)

    def to_row(self) -> dict[str, Any]:
        """A flat row for a linkage table (DuckDB or Spark): the fields plus `unique_id`."""
        row = asdict(self)
        row["postcodes"] = list(self.postcodes) if self.postcodes else None
        row["unique_id"] = self.key
        return row


def columns_of(records: Sequence[LinkageRecord]) -> dict[str, list[Any]]:
    """The records as one list per column of `COLUMNS` (a column-wise table is built about twice as fast as from
    one dict per record, which matters at half a million records)."""
    columns: dict[str, list[Any]] = {}
    for name, _ in COLUMNS:
        if name == "unique_id":
            columns[name] = [r.key for r in records]
        elif name == "postcodes":
            columns[name] = [list(r.postcodes) if r.postcodes else None for r in records]
        else:
            columns[name] = [getattr(r, name) for r in records]
    return columns


# The columns of a linkage table, in order, with their SQL types (the same names on DuckDB and Spark).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("unique_id", "string"),
    ("source", "string"),
    ("patient_id", "string"),
    ("nhs_number", "string"),
    ("given_name", "string"),
    ("given_canonical", "string"),
    ("given_metaphone", "string"),
    ("middle_names", "string"),
    ("family_name", "string"),
    ("family_metaphone", "string"),
    ("name_key", "string"),
    ("birth_date", "string"),
    ("birth_date_swapped", "string"),
    ("birth_year", "string"),
    ("sex", "string"),
    ("postcode", "string"),
    ("postcode_sector", "string"),
    ("address_line", "string"),
    ("address_key", "string"),
    ("postcodes", "array<string>"),
    ("sparse", "boolean"),
    ("nhs_number_rejected", "string"),
)
