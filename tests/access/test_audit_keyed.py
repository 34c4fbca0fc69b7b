"""The keyed audit chain, its signed checkpoints and its people index against someone who can write to the database
(decision 0312): each kind of tampering is found by verify, on SQLite and PostgreSQL, and an untouched trail
verifies intact, across a key rotation and from a legacy (plain SHA-256) segment on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, delete, insert, select, text, update

from joinedup.access.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    append_checkpoint,
    load_public_key,
    load_signing_key,
    make_checkpoint,
    public_key_file,
    read_checkpoints,
)
from joinedup.access.audit.keys import KeyedHasher, Keyring, keyed_hash, load_keyring, read_keyring, rotate
from joinedup.access.audit.people_index import FTS_TABLE, people_tokens
from joinedup.access.audit.trail import GENESIS, Actor, AuditTrail, chain_hash, entry_json, now_micros
from joinedup.access.audit.verify import Verdict, verify
from joinedup.store.engine import make_engine
from joinedup.store.governance_schema import audit_head, audit_log, audit_subjects
from joinedup.store.migrate import downgrade, upgrade

GP = Actor("PractitionerRole/role-gp-1", "gp", "Organization/practice", "treatment", "10.0.0.1", "api")
NURSE = Actor("PractitionerRole/role-nurse-1", "nurse", "Organization/community", "treatment", "10.0.0.2", "web")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


@pytest.fixture
def key_file(tmp_path: Path, engine: Engine) -> Path:
    path = tmp_path / "keys" / "audit.key"
    load_keyring("", path, lambda: 0)
    return path


@pytest.fixture
def signing_key(tmp_path: Path) -> Ed25519PrivateKey:
    return load_signing_key(tmp_path / "keys" / "audit-signing.key")


def _accesses(trail: AuditTrail, count: int = 6) -> None:
    for n in range(count):
        actor = GP if n % 2 else NURSE
        people = [f"pat-{n}", f"pat-{n + 1}"] if n % 3 else []
        trail.record(actor, "search", "success", [f"Observation/obs-{n}"], people, {"returned": n})


def _people(conn: Connection, seq: int) -> list[str]:
    body = orjson.loads(conn.execute(select(audit_log.c.entry).where(audit_log.c.seq == seq)).scalar_one())
    return list(body["patients"])


def _rehash(conn: Connection, from_seq: int, digest: Callable[[str, str], str], key_id: str | None) -> None:
    """What someone who can write to the database does to hide a change: every hash from `from_seq` on recomputed
    (with whatever they have instead of the key), and the head moved to match."""
    previous = GENESIS
    if from_seq > 1:
        previous = conn.execute(select(audit_log.c.entry_hash).where(audit_log.c.seq == from_seq - 1)).scalar_one()
    rows = conn.execute(select(audit_log.c.seq, audit_log.c.entry).where(audit_log.c.seq >= from_seq)).all()
    for row in sorted(rows):
        new_hash = digest(previous, row.entry)
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == row.seq)
            .values(prev_hash=previous, entry_hash=new_hash, key_id=key_id)
        )
        previous = new_hash
    conn.execute(update(audit_head).values(seq=max(r.seq for r in rows), entry_hash=previous))


def _drop_person(conn: Connection, seq: int, people: list[str], keep: list[str]) -> None:
    """Rewrite the people index of one entry to name `keep` instead of `people`."""
    if conn.dialect.name == "sqlite":
        # A contentless FTS5 row is deleted by naming exactly what it holds.
        conn.execute(
            text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, people) VALUES ('delete', :seq, :tokens)"),
            {"seq": seq, "tokens": people_tokens(people)},
        )
        if keep:
            conn.execute(
                text(f"INSERT INTO {FTS_TABLE}(rowid, people) VALUES (:seq, :tokens)"),
                {"seq": seq, "tokens": people_tokens(keep)},
            )
        return
    conn.execute(delete(audit_subjects).where(audit_subjects.c.seq == seq))
    if keep:
        conn.execute(insert(audit_subjects), [{"seq": seq, "patient_id": p} for p in keep])


def _alter(conn: Connection) -> None:
    conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(entry=audit_log.c.entry + " "))


def _insert_in_the_middle(conn: Connection) -> None:
    rows = [dict(r._mapping) for r in conn.execute(select(audit_log).where(audit_log.c.seq >= 3))]
    conn.execute(delete(audit_log).where(audit_log.c.seq >= 3))
    for row in rows:
        conn.execute(insert(audit_log).values(**{**row, "seq": row["seq"] + 1}))
    copied = next(r for r in rows if r["seq"] == 3)
    conn.execute(insert(audit_log).values(**{**copied, "seq": 3}))
    conn.execute(update(audit_head).values(seq=audit_head.c.seq + 1))


def _delete(conn: Connection) -> None:
    conn.execute(delete(audit_log).where(audit_log.c.seq == 3))


def _truncate_and_move_the_head(conn: Connection) -> None:
    """Entries cut off the end and the head put back to match: only the signed checkpoint shows it."""
    conn.execute(delete(audit_log).where(audit_log.c.seq >= 5))
    last_hash = conn.execute(select(audit_log.c.entry_hash).where(audit_log.c.seq == 4)).scalar_one()
    conn.execute(update(audit_head).values(seq=4, entry_hash=last_hash))


def _reorder(conn: Connection) -> None:
    second, third = (dict(r._mapping) for r in conn.execute(select(audit_log).where(audit_log.c.seq.in_([2, 3]))))
    conn.execute(delete(audit_log).where(audit_log.c.seq.in_([2, 3])))
    conn.execute(insert(audit_log).values(**{**third, "seq": 2}))
    conn.execute(insert(audit_log).values(**{**second, "seq": 3}))


def _rehash_with_plain_sha256(conn: Connection) -> None:
    _alter(conn)
    key_id = conn.execute(select(audit_log.c.key_id).where(audit_log.c.seq == 2)).scalar_one()
    _rehash(conn, 2, chain_hash, key_id)


def _rehash_as_a_legacy_trail(conn: Connection) -> None:
    _alter(conn)
    _rehash(conn, 1, chain_hash, None)


def _rehash_with_a_key_of_their_own(conn: Connection) -> None:
    _alter(conn)
    key_id = conn.execute(select(audit_log.c.key_id).where(audit_log.c.seq == 2)).scalar_one()
    _rehash(conn, 2, lambda previous, entry: keyed_hash(b"not the key, guessed" * 2, previous, entry), key_id)


def _delete_people_row(conn: Connection) -> None:
    people = _people(conn, 3)
    _drop_person(conn, 3, people, people[1:])


def _change_people_row(conn: Connection) -> None:
    people = _people(conn, 3)
    _drop_person(conn, 3, people, [*people[1:], "pat-somebody-else"])


def _add_people_row(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(f"INSERT INTO {FTS_TABLE}(rowid, people) VALUES (1, :tokens)"), {"tokens": people_tokens(["pat-9"])}
        )
    else:
        conn.execute(insert(audit_subjects).values(seq=1, patient_id="pat-9"))


TAMPERING: dict[str, tuple[Callable[[Connection], None], str]] = {
    "alter": (_alter, "audit entry 2 was altered"),
    "insert in the middle": (_insert_in_the_middle, "audit entry 4 does not follow entry 3"),
    "delete": (_delete, "audit entry 3 was removed"),
    "truncate below a checkpoint": (_truncate_and_move_the_head, "a checkpoint signed at"),
    "reorder": (_reorder, "audit entry 2 does not follow entry 1"),
    "rewrite and rehash with SHA-256": (_rehash_with_plain_sha256, "audit entry 2 was altered"),
    "rewrite and rehash as a legacy trail": (_rehash_as_a_legacy_trail, "audit entry 1 has no key id"),
    "rewrite and rehash with another key": (_rehash_with_a_key_of_their_own, "audit entry 2 was altered"),
    "delete a people-index row": (_delete_people_row, "the people index of audit entry 3 was changed"),
    "change a people-index row": (_change_people_row, "the people index of audit entry 3 was changed"),
    "add a people-index row": (_add_people_row, "the people index of audit entry 1 was changed"),
}


@pytest.mark.parametrize("change", list(TAMPERING))
def test_each_kind_of_tampering_is_found(
    engine: Engine, key_file: Path, signing_key: Ed25519PrivateKey, change: str
) -> None:
    keyring = read_keyring(key_file)
    trail = AuditTrail(engine, keyring)
    _accesses(trail)
    checkpoint = make_checkpoint(engine, signing_key)
    assert checkpoint.seq == 6
    assert verify(engine, keyring, [checkpoint]).ok
    tamper, expected = TAMPERING[change]
    with engine.begin() as conn:
        tamper(conn)
    verdict = verify(engine, keyring, [checkpoint])
    assert not verdict.ok
    assert expected in verdict.message
    assert "pat-" not in verdict.message  # entry numbers only, never a person


def test_an_untouched_trail_verifies_across_a_key_rotation(
    engine: Engine, key_file: Path, signing_key: Ed25519PrivateKey
) -> None:
    first = read_keyring(key_file)
    _accesses(AuditTrail(engine, first), 3)
    before = make_checkpoint(engine, signing_key)
    second = rotate(key_file)
    assert second.current != first.current and set(first.keys) < set(second.keys)
    _accesses(AuditTrail(engine, second), 3)
    after = make_checkpoint(engine, signing_key)
    with engine.connect() as conn:
        key_ids = conn.execute(select(audit_log.c.key_id).order_by(audit_log.c.seq)).scalars().all()
        fourth = conn.execute(select(audit_log.c.prev_hash).where(audit_log.c.seq == 4)).scalar_one()
    assert key_ids == [first.current] * 3 + [second.current] * 3
    assert fourth == before.head  # the new segment chains on from the old head
    verdict = verify(engine, read_keyring(key_file), [before, after])
    assert verdict.ok, verdict.message
    assert verdict.message == "audit trail intact: 6 entries, 2 signed checkpoints match"
    without_the_new_key = verify(engine, first, [before])
    assert not without_the_new_key.ok
    assert f"audit entry 4 names key '{second.current}'" in without_the_new_key.message


def _legacy_entries(engine: Engine, count: int) -> str:
    """Entries as the chain wrote them before it was keyed: plain SHA-256, no key id."""
    previous = GENESIS
    with engine.begin() as conn:
        for seq in range(1, count + 1):
            recorded = now_micros()
            body = entry_json(seq, recorded, GP, "read", "success", [f"Patient/pat-{seq}"], [f"pat-{seq}"], {})
            digest = chain_hash(previous, body)
            conn.execute(
                insert(audit_log).values(
                    seq=seq, recorded=recorded, action="read", outcome="success", user_ref=GP.user, role=GP.role,
                    organisation=GP.organisation, purpose=GP.purpose, client_address=GP.client_address, entry=body,
                    prev_hash=previous, entry_hash=digest,
                )
            )  # fmt: skip
            if engine.dialect.name == "sqlite":
                conn.execute(
                    text(f"INSERT INTO {FTS_TABLE}(rowid, people) VALUES (:seq, :tokens)"),
                    {"seq": seq, "tokens": people_tokens([f"pat-{seq}"])},
                )
            else:
                conn.execute(insert(audit_subjects).values(seq=seq, patient_id=f"pat-{seq}"))
            previous = digest
        conn.execute(update(audit_head).values(seq=count, entry_hash=previous))
    return previous


def test_the_legacy_segment_verifies_and_the_keyed_chain_follows_on(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy_head = _legacy_entries(engine, 4)
    monkeypatch.setenv("JOINEDUP_AUDIT_KEY_FILE", str(tmp_path / "made.key"))
    _accesses(AuditTrail(engine), 2)  # as a server would: the keyring made on first use, the legacy entries counted
    keyring = read_keyring(tmp_path / "made.key")
    assert keyring.legacy_through == 4
    with engine.connect() as conn:
        fifth = conn.execute(select(audit_log.c.prev_hash, audit_log.c.key_id).where(audit_log.c.seq == 5)).one()
    assert (fifth.prev_hash, fifth.key_id) == (legacy_head, keyring.current)
    assert verify(engine, keyring).message == "audit trail intact: 6 entries, no signed checkpoints to check"
    # A legacy entry can no longer be changed and rehashed either: the keyed entry after it holds its hash.
    with engine.begin() as conn:
        _alter(conn)
        _rehash(conn, 2, chain_hash, None)
        conn.execute(update(audit_log).where(audit_log.c.seq > 4).values(key_id=keyring.current))
    assert "audit entry 5 was altered" in verify(engine, keyring).message


def test_a_configured_key_is_kept_in_the_keyring_when_the_setting_changes(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    old = load_keyring("an operator's first key, long enough", path, lambda: 0)
    _accesses(AuditTrail(engine, old), 2)
    new = load_keyring("the key that replaced it, also long", path, lambda: 0)
    _accesses(AuditTrail(engine, new), 2)
    assert new.current != old.current
    assert verify(engine, read_keyring(path)).ok
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_forged_or_edited_checkpoint_is_refused(
    engine: Engine, key_file: Path, signing_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    _accesses(AuditTrail(engine, read_keyring(key_file)), 2)
    path = tmp_path / "checkpoints.jsonl"
    append_checkpoint(path, make_checkpoint(engine, signing_key))
    public = load_public_key(public_key_file(tmp_path / "keys" / "audit-signing.key"))
    assert [c.seq for c in read_checkpoints(path, public)] == [2]
    line = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps({**line, "seq": 1}) + b"\n")  # moved back to hide what came after
    with pytest.raises(CheckpointError, match=r"checkpoint line 1 of .* has a signature that does not match"):
        read_checkpoints(path, public)
    stranger = Ed25519PrivateKey.generate()
    forged = make_checkpoint(engine, stranger)
    path.write_bytes(forged.line() + b"\n")
    with pytest.raises(CheckpointError, match="signature that does not match"):
        read_checkpoints(path, public)


def _cli(database_url: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("joinedup")), "audit", *args]
    return subprocess.run(
        command, env={**os.environ, **env, "JOINEDUP_DATABASE_URL": database_url}, capture_output=True, text=True
    )


def test_checkpoint_and_verify_commands(engine: Engine, database_url: str, tmp_path: Path) -> None:
    env = {
        "JOINEDUP_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "JOINEDUP_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "signing" / "audit-signing.key"),
        "JOINEDUP_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
    }
    keyring = load_keyring("", tmp_path / "audit.key", lambda: 0)
    _accesses(AuditTrail(engine, keyring), 5)
    made = _cli(database_url, "checkpoint", "--stdout", env=env)
    assert made.returncode == 0, made.stderr
    printed = Checkpoint(**orjson.loads(made.stdout))
    assert printed.seq == 5 and "checkpoint of audit entry 5 signed to" in made.stderr
    assert (tmp_path / "signing" / "audit-signing.pub").is_file()
    intact = _cli(database_url, "verify", env=env)
    assert intact.returncode == 0, intact.stderr
    assert "audit trail intact: 5 entries, 1 signed checkpoint matches" in intact.stderr

    with engine.begin() as conn:
        _truncate_and_move_the_head(conn)
    broken = _cli(database_url, "verify", env=env)
    assert broken.returncode == 1
    assert broken.stderr.strip().count("\n") == 0  # one line
    assert "ends at entry 4 but a checkpoint signed at" in broken.stderr

    # A backup's checkpoints travel apart from it and are named on the command line.
    elsewhere = tmp_path / "backup-checkpoints.jsonl"
    elsewhere.write_text(made.stdout)
    named = _cli(database_url, "verify", "--checkpoints", str(elsewhere), env=env)
    assert named.returncode == 1 and "covers entry 5" in named.stderr
    no_keyring = _cli(database_url, "verify", "--key-file", str(tmp_path / "missing.key"), env=env)
    assert no_keyring.returncode == 1 and "no audit keyring at" in no_keyring.stderr


def test_migration_0008_keeps_the_plain_chain_as_the_legacy_segment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrating.sqlite3'}"
    upgrade(url, "0007")
    engine = make_engine(url)
    try:
        previous, rows = GENESIS, []
        for seq in (1, 2):
            body = entry_json(seq, now_micros(), GP, "read", "success", [], [], {})
            digest = chain_hash(previous, body)
            rows.append(
                {"seq": seq, "recorded": orjson.loads(body)["recorded"], "action": "read", "outcome": "success",
                 "user_ref": GP.user, "role": GP.role, "organisation": GP.organisation, "purpose": GP.purpose,
                 "client_address": GP.client_address, "entry": body, "prev_hash": previous, "entry_hash": digest}
            )  # fmt: skip
            previous = digest
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO audit_log (seq, recorded, action, outcome, user_ref, role, organisation, purpose, "
                "client_address, entry, prev_hash, entry_hash) VALUES (:seq, :recorded, :action, :outcome, "
                ":user_ref, :role, :organisation, :purpose, :client_address, :entry, :prev_hash, :entry_hash)"
            ), rows)  # fmt: skip
            conn.execute(update(audit_head).values(seq=2, entry_hash=previous))
    finally:
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    try:
        keyring = load_keyring("", tmp_path / "audit.key", AuditTrail(engine)._last_unkeyed)
        assert keyring.legacy_through == 2
        AuditTrail(engine, keyring).record(GP, "read", patients=["pat-1"])
        verdict: Verdict = verify(engine, keyring)
        assert verdict.ok and verdict.entries == 3
        assert not verify(engine, Keyring(keyring.current, keyring.keys, 0)).ok  # no legacy segment vouched for
    finally:
        engine.dispose()
    downgrade(url, "0007")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 3
    finally:
        engine.dispose()


@pytest.mark.parametrize("key_length", [16, 32, 64, 65, 100])
def test_the_appenders_hmac_is_the_standard_one(key_length: int) -> None:
    key = bytes(range(key_length))
    entry = entry_json(7, 1_700_000_000_000_000, GP, "read", "success", ["Patient/pat-é"], ["pat-é"], {"n": 1})
    assert KeyedHasher(key)(GENESIS, entry) == keyed_hash(key, GENESIS, entry)
    assert KeyedHasher(key)(GENESIS, entry) != chain_hash(GENESIS, entry)
