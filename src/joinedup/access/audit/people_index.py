"""The audit's index of the people each entry concerns, which answers a resident's "who has looked at my record".

Every audited answer names the people it showed (a Tasks page, up to 50), and the index is written in the entry's
own transaction, so an entry is never committed unfindable. How it is stored differs by database (decision 0015):

- **SQLite**: `audit_people`, an FTS5 table without content: one row per entry (its rowid is the entry's number)
  holding one token per person. FTS5 gathers a transaction's tokens in memory and writes them as one small sorted
  segment, merging segments later in sequential passes; a B-tree row per person instead dirtied one random leaf
  page per person (a 4 KB WAL frame, then a random write at checkpoint), about 1.5 ms of a 50-person commit
  against about 0.2 ms.
- **PostgreSQL**: `audit_subjects`, a row per person under a B-tree on (patient_id, seq). PostgreSQL's writers do
  not share one lock, and its pages are written back by its own background writer, not inside a commit.

A token is the hexadecimal of the id's UTF-8 bytes: FHIR ids are case-sensitive and may hold '-' and '.', which
every FTS5 tokenizer either folds or splits on; hex has neither problem and maps back to exactly one id.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, Select, TextualSelect, select, text

from joinedup.store.governance_schema import audit_subjects

FTS_TABLE = "audit_people"
_MATCH_FTS = text(f"SELECT rowid AS seq FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :phrase").columns(seq=BigInteger)


def person_token(patient_id: str) -> str:
    return patient_id.encode("utf-8").hex()


def people_tokens(patient_ids: Iterable[str]) -> str:
    """An entry's row of the FTS5 index: one token per person."""
    return " ".join(person_token(p) for p in patient_ids)


def entries_about(dialect_name: str, patient_id: str) -> Select[tuple[int]] | TextualSelect:
    """The numbers of the entries that concern this person, as a subquery."""
    if dialect_name == "sqlite":
        # A one-token phrase: the quotes keep FTS5 from reading the token as query syntax.
        return _MATCH_FTS.bindparams(phrase=f'"{person_token(patient_id)}"')
    return select(audit_subjects.c.seq).where(audit_subjects.c.patient_id == patient_id)
