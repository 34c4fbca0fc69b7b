"""The audit trail: every access recorded with what came back; the hash chain catches any tampering; AuditEvent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from joinedup.access.audit.audit_event import audit_event
from joinedup.access.audit.verify import verify
from joinedup.access.gate import AccessGate
from joinedup.fhir.errors import NotFound
from joinedup.fhir.search_request import parse_search
from joinedup.fhir.validation import validate_resource
from joinedup.store.governance_schema import audit_head, audit_log

from .conftest import GP, HOSPITAL


def _some_accesses(gate: AccessGate) -> None:
    gate.read(GP, "Patient", "pat-1")
    gate.search(GP, parse_search("Observation", [("subject", "Patient/pat-2")]))
    with pytest.raises(NotFound):
        gate.read(HOSPITAL, "Patient", "pat-3")


def test_reads_and_searches_are_recorded_with_what_came_back(gate: AccessGate) -> None:
    before = len(gate.audit.entries())
    _some_accesses(gate)
    read, search, refused = gate.audit.entries()[before:]
    assert (read.action, read.user, read.role, read.organisation) == ("read", GP.user, "gp", GP.organisation)
    assert read.what == ["Patient/pat-1"] and read.patients == ["pat-1"]
    assert search.action == "search" and search.patients == ["pat-2"]
    assert search.what and all(w.startswith("Observation/pat-2-") for w in search.what)
    assert search.detail["returned"] == len(search.what)
    assert (refused.outcome, refused.detail["error"]) == ("failure", "NotFound")
    assert [e.action for e in gate.audit.about_patient("pat-3")] == ["read"]
    assert verify(gate._store.engine).ok


def _tamper_and_verify(gate: AccessGate, change: str) -> str:
    _some_accesses(gate)
    engine = gate._store.engine
    with engine.begin() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc())).first()
        assert last is not None
        if change == "alter":
            conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(entry=audit_log.c.entry + " "))
        elif change == "alter-column":
            conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(user_ref="Practitioner/someone-else"))
        elif change == "delete":
            conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
        elif change == "truncate":
            conn.execute(delete(audit_log).where(audit_log.c.seq == last.seq))
        elif change == "insert":
            row = dict(last._mapping)
            conn.execute(update(audit_head).values(seq=last.seq + 1))
            conn.execute(insert(audit_log).values(**{**row, "seq": last.seq + 1}))
    verdict = verify(engine)
    assert not verdict.ok
    return verdict.message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("alter", "audit entry 2 was altered"),
        ("alter-column", "audit entry 2 was altered"),
        ("delete", "audit entry 2 was removed"),
        ("truncate", "were cut off the end"),
        ("insert", "does not follow"),
    ],
)
def test_verify_detects_altered_inserted_and_deleted_entries(gate: AccessGate, change: str, expected: str) -> None:
    assert expected in _tamper_and_verify(gate, change)


def test_audit_verify_command_exits_non_zero_with_one_line(gate: AccessGate, database_url: str) -> None:
    _some_accesses(gate)
    env = {**os.environ, "JOINEDUP_DATABASE_URL": database_url}
    command = [str(Path(sys.executable).with_name("joinedup")), "audit", "verify"]
    good = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert "audit trail intact" in good.stderr
    with gate._store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(action="search"))
    bad = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "audit entry 1 was altered" in bad.stderr


def test_entries_export_as_valid_fhir_audit_events(gate: AccessGate) -> None:
    _some_accesses(gate)
    for entry in gate.audit.entries():
        event = audit_event(entry, "http://127.0.0.1:8000/fhir")
        validate_resource(event)
        assert event["agent"][0]["who"]


def test_concurrent_accesses_share_commits_and_keep_one_unbroken_chain(gate: AccessGate) -> None:
    """Group commit: many threads reading at once each get their own entry, numbered once, in one valid chain."""
    from concurrent.futures import ThreadPoolExecutor

    before = len(gate.audit.entries())
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda n: gate.read(GP, "Patient", f"pat-{1 + n % 2}"), range(120)))
    added = gate.audit.entries()[before:]
    assert len(added) == 120
    assert [e.seq for e in added] == list(range(added[0].seq, added[0].seq + 120))
    assert {tuple(e.patients) for e in added} == {("pat-1",), ("pat-2",)}
    assert verify(gate._store.engine).ok


_APPENDER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from joinedup.access.audit.trail import Actor, AuditTrail
from joinedup.store.engine import make_engine

trail = AuditTrail(make_engine(sys.argv[1]))
actor = Actor("Device/appender-" + sys.argv[2], "system")
with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(lambda n: trail.record(actor, "read", what=[f"Patient/p{n}"], patients=[f"p{n}"]), range(60)))
"""


def test_appends_from_several_processes_keep_one_unbroken_chain(gate: AccessGate, database_url: str) -> None:
    """The server runs several processes: their group commits queue for the chain one after another (on SQLite
    through the writers' file lock), never interleave, and every entry is numbered once."""
    before = len(gate.audit.entries())
    appenders = [
        subprocess.Popen([sys.executable, "-c", _APPENDER, database_url, str(n)], stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    for appender in appenders:
        _, errors = appender.communicate(timeout=120)
        assert appender.returncode == 0, errors
    added = gate.audit.entries()[before:]
    assert len(added) == 180
    assert [e.seq for e in added] == list(range(added[0].seq, added[0].seq + 180))
    assert {e.user for e in added} == {f"Device/appender-{n}" for n in range(3)}
    assert verify(gate._store.engine).ok


def test_a_failed_append_writes_nothing_and_the_next_append_goes_on(gate: AccessGate, database_url: str) -> None:
    """An entry that cannot be made (its detail is not JSON) fails after the chain's lock is taken: the caller gets
    the error, nothing of it is written, and the lock and the connection are let go for the next append. A failure
    inside the database (a NULL user; on PostgreSQL also a person id longer than its column) rolls back the same way."""
    from joinedup.access.audit.trail import Actor

    actor = Actor("Device/test", "system")
    gate.audit.record(actor, "read", what=["Patient/p1"], patients=["p1"])
    before = gate.audit.entries()
    with pytest.raises(TypeError):
        gate.audit.record(actor, "read", patients=["p2"], detail={"not JSON": object()})
    from sqlalchemy.exc import DBAPIError

    nobody = Actor(None, "system")  # type: ignore[arg-type]  # breaks audit_log's NOT NULL user_ref in the database
    with pytest.raises(DBAPIError):  # the driver's error (sqlite3's, psycopg's), as SQLAlchemy's
        gate.audit.record(nobody, "read", what=["Patient/p2"], patients=["p2"])
    if database_url.startswith("postgresql"):
        with pytest.raises(DBAPIError):
            gate.audit.record(actor, "read", patients=["p" * 65])
    assert [e.seq for e in gate.audit.entries()] == [e.seq for e in before]
    assert gate.audit.about_patient("p2") == []
    seq = gate.audit.record(actor, "read", what=["Patient/p3"], patients=["p3"])
    assert seq == before[-1].seq + 1
    assert [e.seq for e in gate.audit.about_patient("p3")] == [seq]
    assert verify(gate._store.engine).ok
