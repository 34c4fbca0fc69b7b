"""Server-side web sessions: the cookie carries only a random identifier; the signed-in user lives here.

A signed cookie alone cannot be taken back before it expires (decision 0303); a row here can. Signing in always
makes a new identifier and deletes the one the browser came with (no session fixation); signing out deletes it;
a role change or a disabled account deletes every session of that account, so the next request is signed out.
Only the identifier's SHA-256 is stored, so a copy of the table signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import orjson
from sqlalchemy import Engine, delete, insert, select

from joinedup.store.engine import WRITE
from joinedup.store.governance_schema import web_sessions

from ..audit.trail import now_micros


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, account: str, signed_in: dict[str, Any], max_age_seconds: int, replacing: str | None) -> str:
        """A new session for the account; the one being replaced (the browser's old identifier) ends."""
        session_id = secrets.token_urlsafe(32)
        now = now_micros()
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(delete(web_sessions).where(web_sessions.c.expires < now))
            if replacing:
                conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == _digest(replacing)))
            conn.execute(
                insert(web_sessions).values(
                    session_hash=_digest(session_id), account=account,
                    signed_in=orjson.dumps(signed_in).decode("utf-8"), created=now,
                    expires=now + max_age_seconds * 1_000_000,
                )
            )  # fmt: skip
        return session_id

    def find(self, session_id: str) -> tuple[str, dict[str, Any]] | None:
        """The account and signed-in user of a live session, or None (unknown, ended or expired)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(web_sessions.c.account, web_sessions.c.signed_in).where(
                    web_sessions.c.session_hash == _digest(session_id), web_sessions.c.expires > now_micros()
                )
            ).first()
        if row is None:
            return None
        stored: Any = orjson.loads(row.signed_in)
        return (str(row.account), stored) if isinstance(stored, dict) else None

    def end(self, session_id: str) -> None:
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == _digest(session_id)))

    def end_account(self, account: str) -> int:
        """End every session of the account (a privilege change or a disabled account); how many ended."""
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            return conn.execute(delete(web_sessions).where(web_sessions.c.account == account)).rowcount
