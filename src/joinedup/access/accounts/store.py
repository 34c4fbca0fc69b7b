"""Accounts in the database, and signing in with one.

No user enumeration: an unknown username, a wrong password, a wrong or missing security code and a locked account
all give the same answer (None) after the same work (an Argon2 verification against a dummy hash when there is no
account). Every attempt is audited: sign-in or failed sign-in, with the username tried and where from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update

from joinedup.store.engine import WRITE
from joinedup.store.governance_schema import accounts, oauth_tokens

from ..audit.trail import Actor, AuditTrail, now_micros
from ..context import AccessContext
from ..permissions import ACCOUNTS_MANAGE
from ..roles import catalogue, role
from .sessions import SessionStore
from .throttle import Throttle

HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
DUMMY_HASH = HASHER.hash("no such account: the same work either way")
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
MINIMUM_PASSWORD = 12


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    user_ref: str
    role: str
    organisation: str | None
    organisation_name: str | None
    has_totp: bool


def fold(username: str) -> str:
    return username.strip().casefold()


def local_account(username: str) -> str:
    """The key of a local account in sessions and tokens (OIDC users are 'oidc:…', demo users 'demo:…')."""
    return f"local:{fold(username)}"


class AccountStore:
    def __init__(self, engine: Engine, audit: AuditTrail) -> None:
        self.engine = engine
        self.audit = audit
        self.sessions = SessionStore(engine)
        self.throttle = Throttle(engine, "sign-in")  # failed sign-ins per name tried and per address (throttle.py)

    def end_access(self, account: str) -> None:
        """Sign the account out everywhere at once: its web sessions and its tokens and codes end."""
        self.sessions.end_account(account)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(delete(oauth_tokens).where(oauth_tokens.c.account == account))

    def set_active(self, by: AccessContext, username: str, active: bool) -> None:
        """Enable or disable an account (administrators only); disabling ends its sessions and tokens at once."""
        target = [f"Account/{fold(username)}"]
        if not role(by.role).may(ACCOUNTS_MANAGE):
            self.audit.record(Actor.of(by), "permission-change", "failure", target)
            raise PermissionError("Only administrators may enable or disable accounts")
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(update(accounts).where(accounts.c.username == fold(username)).values(active=active))
        if not active:
            self.end_access(local_account(username))
        change = "account enabled" if active else "account disabled"
        self.audit.record(Actor.of(by), "permission-change", "success", target, [], {"change": change})

    def create(
        self,
        username: str,
        password: str,
        display_name: str,
        user_ref: str,
        role_name: str,
        organisation: str | None,
        organisation_name: str | None,
        totp_secret: str | None = None,
        by: Actor | None = None,
    ) -> Account:
        role(role_name)  # refuses an unknown role
        if len(password) < MINIMUM_PASSWORD:
            raise ValueError(f"A password needs at least {MINIMUM_PASSWORD} characters")
        name = fold(username)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                insert(accounts).values(
                    username=name, password_hash=HASHER.hash(password), display_name=display_name,
                    user_ref=user_ref, role=role_name, organisation=organisation,
                    organisation_name=organisation_name, totp_secret=totp_secret, failed_attempts=0,
                    locked_until=None, active=True, created=now_micros(),
                )
            )  # fmt: skip
        self.audit.record(
            by or Actor("Device/accounts", "system", via="system"), "permission-change", "success",
            [f"Account/{name}"], [], {"change": "account created", "role": role_name, "catalogue": catalogue().version},
        )  # fmt: skip
        return Account(
            name, display_name, user_ref, role_name, organisation, organisation_name, totp_secret is not None
        )

    def exists(self, username: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(accounts.c.username).where(accounts.c.username == fold(username))).first()
                is not None
            )

    def set_password(self, username: str, password: str, by: Actor) -> None:
        """A new password (and the lock lifted); audited as a permission change."""
        if len(password) < MINIMUM_PASSWORD:
            raise ValueError(f"A password needs at least {MINIMUM_PASSWORD} characters")
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                update(accounts)
                .where(accounts.c.username == fold(username))
                .values(password_hash=HASHER.hash(password), failed_attempts=0, locked_until=None)
            )
        self.audit.record(by, "permission-change", "success", [f"Account/{fold(username)}"], [], {"change": "password"})

    def set_role(self, by: AccessContext, username: str, role_name: str) -> None:
        if not role(by.role).may(ACCOUNTS_MANAGE):
            self.audit.record(Actor.of(by), "permission-change", "failure", [f"Account/{fold(username)}"])
            raise PermissionError("Only administrators may change roles")
        role(role_name)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            before = conn.execute(select(accounts.c.role).where(accounts.c.username == fold(username))).scalar_one()
            conn.execute(update(accounts).where(accounts.c.username == fold(username)).values(role=role_name))
        self.end_access(local_account(username))  # a privilege change: sign in again, under a new session
        self.audit.record(
            Actor.of(by), "permission-change", "success", [f"Account/{fold(username)}"], [],
            {"change": "role", "from": before, "to": role_name},
        )  # fmt: skip

    def sign_in(self, username: str, password: str, code: str | None, client_address: str | None) -> Account | None:
        name = fold(username)
        now = now_micros()
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.username == name)).first()
        ok = _password_matches(row.password_hash if row is not None else DUMMY_HASH, password) and row is not None
        if row is not None and ok and row.totp_secret:
            ok = bool(code) and pyotp.TOTP(row.totp_secret).verify(str(code).strip(), valid_window=1)
        locked = row is not None and row.locked_until is not None and row.locked_until > now
        usable = row is not None and bool(row.active) and not locked
        actor = Actor(f"Account/{name}", None if row is None else row.role, None, None, client_address, "web")
        if row is None or not ok or not usable:
            if row is not None:
                self._count_failure(name, int(row.failed_attempts), now)
            why = "locked" if locked else "credentials"
            self.audit.record(actor, "sign-in-failed", "failure", [f"Account/{name}"], [], {"why": why})
            return None
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                update(accounts).where(accounts.c.username == name).values(failed_attempts=0, locked_until=None)
            )
        account = Account(name, row.display_name, row.user_ref, row.role, row.organisation, row.organisation_name,
                          row.totp_secret is not None)  # fmt: skip
        self.audit.record(
            Actor(row.user_ref, row.role, row.organisation, None, client_address, "web"), "sign-in", "success",
            [f"Account/{name}"],
        )  # fmt: skip
        return account

    def _count_failure(self, name: str, failures: int, now: int) -> None:
        failures += 1
        values: dict[str, object] = {"failed_attempts": failures}
        if failures >= MAX_FAILURES:
            values["locked_until"] = now + LOCK_SECONDS * 1_000_000
            values["failed_attempts"] = 0
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(update(accounts).where(accounts.c.username == name).values(**values))


def _password_matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
