"""`joinedup accounts` and `joinedup clients`: the registration authority's commands, audited, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from joinedup.access.audit.trail import AuditTrail
from joinedup.access.audit.verify import verify
from joinedup.store.engine import make_engine
from joinedup.store.governance_schema import accounts, oauth_clients

JOINEDUP = str(Path(sys.executable).parent / "joinedup")
PASSWORD = "correct horse battery staple"


def run(database: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOINEDUP_DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run([JOINEDUP, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.sqlite3"
    assert run(path, "db", "upgrade").returncode == 0
    return path


def test_create_disable_enable_and_change_role_are_audited(database: Path) -> None:
    created = run(
        database, "accounts", "create", "a.nurse", "--role", "nurse", "--user", "PractitionerRole/n1",
        "--name", "A Nurse", "--password", PASSWORD,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    engine = make_engine(f"sqlite:///{database}")
    try:

        def state() -> tuple[str, bool]:
            with engine.connect() as conn:
                row = conn.execute(select(accounts.c.role, accounts.c.active)).one()
            return str(row.role), bool(row.active)

        assert state() == ("nurse", True)
        assert run(database, "accounts", "disable", "a.nurse").returncode == 0
        assert state() == ("nurse", False)
        assert run(database, "accounts", "enable", "a.nurse").returncode == 0
        assert run(database, "accounts", "set-role", "a.nurse", "social-worker").returncode == 0
        assert state() == ("social-worker", True)
        changes = [e for e in AuditTrail(engine).entries() if e.action == "permission-change"]
        assert len(changes) == 4 and {e.user for e in changes[1:]} == {"Device/joinedup-cli"}
        assert verify(engine).ok
    finally:
        engine.dispose()


def test_bad_input_is_one_line_and_non_zero(database: Path) -> None:
    unknown_role = run(
        database, "accounts", "create", "x", "--role", "wizard", "--user", "PractitionerRole/x", "--name", "X",
        "--password", PASSWORD,
    )  # fmt: skip
    assert unknown_role.returncode == 2 and "unknown role 'wizard'" in unknown_role.stderr
    assert unknown_role.stderr.strip().count("\n") == 0
    short = run(
        database, "accounts", "create", "x", "--role", "nurse", "--user", "PractitionerRole/x", "--name", "X",
        "--password", "short",
    )  # fmt: skip
    assert short.returncode == 2 and "at least" in short.stderr
    missing = run(database, "accounts", "disable", "nobody")
    assert missing.returncode == 2 and "no account named 'nobody'" in missing.stderr


def test_register_a_client_prints_its_secret_once_and_keeps_only_a_hash(database: Path) -> None:
    registered = run(database, "clients", "register", "gp-system", "--role", "system", "--scopes", "system/*.rs")
    assert registered.returncode == 0, registered.stderr
    secret = registered.stdout.strip().removeprefix("secret (shown once): ")
    assert len(secret) >= 40
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(oauth_clients.c.secret_hash, oauth_clients.c.scopes)).one()
        assert secret not in str(stored.secret_hash) and stored.scopes == "system/*.rs"
    finally:
        engine.dispose()
    again = run(database, "clients", "register", "gp-system", "--role", "system", "--scopes", "system/*.rs")
    assert again.returncode == 2 and "already registered" in again.stderr
