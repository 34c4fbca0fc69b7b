"""The audit's person index (decision 0015): "who has looked at my record" finds exactly that person's entries,
newest first, on both databases; on SQLite migration 0007 carries the old rows into the FTS5 table and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from joinedup.access.audit.people_index import person_token
from joinedup.access.audit.trail import GENESIS, Actor, AuditTrail, chain_hash, entry_json, now_micros
from joinedup.store.engine import make_engine
from joinedup.store.governance_schema import audit_head, audit_log, audit_subjects
from joinedup.store.migrate import downgrade, upgrade

GP = Actor("PractitionerRole/gp-1", role="gp", organisation="Organization/practice")

# FHIR ids are case-sensitive and may hold '-' and '.': none of these may find another's entries.
LOOKALIKES = ["abc", "ABC", "a.b-c", "a", "ab", "a-b.c", "x" * 64]


def test_each_person_finds_only_their_own_entries_newest_first(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        trail = AuditTrail(engine)
        expected: dict[str, list[int]] = {p: [] for p in LOOKALIKES}
        for round_number in range(3):
            for index, person in enumerate(LOOKALIKES):
                together = [person, LOOKALIKES[(index + round_number) % len(LOOKALIKES)]]
                seq = trail.record(GP, "search", what=[f"Task/t-{index}"], patients=together)
                for named in set(together):
                    expected[named].append(seq)
        trail.record(GP, "signin")  # an entry about nobody is in no one's list
        for person, seqs in expected.items():
            found = trail.about_patient(person)
            assert [e.seq for e in found] == sorted(seqs, reverse=True), person
            assert all(person in e.patients for e in found)
        assert [e.seq for e in trail.about_patient("abc", limit=2)] == sorted(expected["abc"], reverse=True)[:2]
        assert trail.about_patient("nobody") == []
    finally:
        engine.dispose()


def test_a_token_is_the_ids_bytes_in_hex() -> None:
    assert person_token("a.B-1") == "612e422d31"
    assert person_token("abc") != person_token("ABC")


def _entry(conn: object, seq: int, previous: str, people: list[str]) -> str:
    text_ = entry_json(seq, now_micros(), GP, "read", "success", [f"Patient/{people[0]}"], people, {})
    digest = chain_hash(previous, text_)
    conn.execute(  # type: ignore[attr-defined]
        insert(audit_log).values(
            seq=seq, recorded=now_micros(), action="read", outcome="success", user_ref=GP.user, entry=text_,
            prev_hash=previous, entry_hash=digest,
        )
    )  # fmt: skip
    return digest


def test_sqlite_migration_carries_the_person_rows_into_the_index_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrating.sqlite3'}"
    upgrade(url, "0006")
    engine = make_engine(url)
    people_of = {1: ["pat-1", "Pat-1"], 2: ["pat-2"], 3: ["pat-1", "pat.3"]}
    try:
        with engine.begin() as conn:
            previous = GENESIS
            for seq, people in people_of.items():
                previous = _entry(conn, seq, previous, people)
                conn.execute(insert(audit_subjects), [{"seq": seq, "patient_id": p} for p in people])
            conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=3, entry_hash=previous))
    finally:
        engine.dispose()

    upgrade(url)
    engine = make_engine(url)
    try:
        trail = AuditTrail(engine)
        assert [e.seq for e in trail.about_patient("pat-1")] == [3, 1]
        assert [e.seq for e in trail.about_patient("Pat-1")] == [1]
        assert [e.seq for e in trail.about_patient("pat.3")] == [3]
        with engine.connect() as conn:
            tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
        assert "audit_subjects" not in tables and "audit_people" in tables
        trail.record(GP, "read", patients=["pat-2"])  # written after the migration: found the same way
        assert [e.seq for e in trail.about_patient("pat-2")] == [4, 2]
    finally:
        engine.dispose()

    downgrade(url, "0006")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = set(conn.execute(select(audit_subjects.c.seq, audit_subjects.c.patient_id)).tuples())
        assert rows == {(s, p) for s, ps in people_of.items() for p in ps} | {(4, "pat-2")}
    finally:
        engine.dispose()


@pytest.mark.parametrize("bad", ['"', "OR", "*", "NEAR(a b)"])
def test_ids_that_look_like_query_syntax_are_not_read_as_syntax(tmp_path: Path, bad: str) -> None:
    url = f"sqlite:///{tmp_path / 'syntax.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        trail = AuditTrail(engine)
        trail.record(GP, "read", patients=["pat-1"])
        assert trail.about_patient(bad) == []
    finally:
        engine.dispose()
