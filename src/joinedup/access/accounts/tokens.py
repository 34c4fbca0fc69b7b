"""OAuth2 bearer tokens for API clients: client credentials for systems (SMART Backend Services style scopes).

A token is 32 random bytes shown once; only its SHA-256 is stored, with who it stands for (the client's role and
organisation), the scopes granted (those asked for that the client is registered for) and when it expires.
Issuing is audited; so is every call made with it (as the gate audits every call).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select

from joinedup.store.engine import WRITE
from joinedup.store.governance_schema import oauth_clients, oauth_tokens

from ..audit.trail import Actor, AuditTrail, now_micros
from ..roles import role
from ..scopes import is_resource_scope, parse_scopes
from .store import DUMMY_HASH, HASHER

TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class TokenHolder:
    client_id: str
    user_ref: str
    role: str
    organisation: str | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scope: str
    expires_in: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _granted(requested: list[str], allowed: str) -> list[str]:
    """Each requested resource scope is granted when every interaction it names is within the client's scopes."""
    permitted = parse_scopes(allowed)
    granted = []
    for item in requested:
        if not is_resource_scope(item):
            continue
        asked = parse_scopes(item)
        if all(permitted.permits(t, letter) for t, letters in asked.allowed.items() for letter in letters):
            granted.append(item)
    return granted


class TokenService:
    def __init__(self, engine: Engine, audit: AuditTrail) -> None:
        self.engine = engine
        self.audit = audit

    def register_client(
        self, client_id: str, secret: str, name: str, role_name: str, organisation: str | None, scopes: str
    ) -> None:
        role(role_name)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                insert(oauth_clients).values(
                    client_id=client_id, secret_hash=HASHER.hash(secret), name=name, role=role_name,
                    organisation=organisation, scopes=scopes, redirect_uris="", active=True,
                )
            )  # fmt: skip
        self.audit.record(
            Actor("Device/accounts", "system", via="system"), "permission-change", "success",
            [f"Device/{client_id}"], [], {"change": "client registered", "role": role_name, "scopes": scopes},
        )  # fmt: skip

    def client_credentials(
        self, client_id: str, secret: str, scope: str, client_address: str | None
    ) -> IssuedToken | None:
        """A token for a registered client with the right secret, or None (the same for any failure)."""
        with self.engine.connect() as conn:
            client = conn.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id)).first()
        ok: bool
        try:
            ok = HASHER.verify(client.secret_hash if client is not None else DUMMY_HASH, secret)
        except (VerificationError, InvalidHashError):
            ok = False
        actor = Actor(f"Device/{client_id}", None if client is None else client.role, None, None, client_address, "api")
        if client is None or not ok or not client.active:
            self.audit.record(actor, "token-refused", "failure", [f"Device/{client_id}"])
            return None
        granted = _granted(scope.split(), client.scopes)
        token = secrets.token_urlsafe(32)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(delete(oauth_tokens).where(oauth_tokens.c.expires < now_micros()))
            conn.execute(
                insert(oauth_tokens).values(
                    token_hash=_digest(token), kind="access", client_id=client_id, user_ref=f"Device/{client_id}",
                    role=client.role, organisation=client.organisation, scopes=" ".join(granted),
                    expires=now_micros() + TOKEN_SECONDS * 1_000_000, detail=None,
                )
            )  # fmt: skip
        self.audit.record(actor, "token-issued", "success", [f"Device/{client_id}"], [], {"scope": " ".join(granted)})
        return IssuedToken(token, " ".join(granted), TOKEN_SECONDS)

    def holder(self, token: str) -> TokenHolder | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(oauth_tokens).where(
                    oauth_tokens.c.token_hash == _digest(token),
                    oauth_tokens.c.kind == "access",
                    oauth_tokens.c.expires > now_micros(),
                )
            ).first()
        if row is None:
            return None
        return TokenHolder(row.client_id, row.user_ref, row.role, row.organisation, tuple(row.scopes.split()))
