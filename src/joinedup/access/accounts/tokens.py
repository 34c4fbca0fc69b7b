"""OAuth2 bearer tokens for API clients: client credentials for systems (SMART Backend Services style scopes),
and authorisation codes with PKCE for apps acting for a signed-in user (SMART v2 standalone launch, `user/` scopes).

A token or code is 32 random bytes shown once; only its SHA-256 is stored, with who it stands for (the client's
role and organisation, or the user's), the scopes granted (those asked for that the client is registered for)
and when it expires. A user's token carries the user's account so that disabling the account or changing its
role ends it (AccountStore.end_access). Codes live 2 minutes and are spent by their first exchange. Issuing,
refusing and exchanging are audited; so is every call made with a token (as the gate audits every call).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select

from joinedup.store.engine import WRITE
from joinedup.store.governance_schema import oauth_clients, oauth_tokens

from ..audit.trail import Actor, AuditTrail, now_micros
from ..roles import role
from ..scopes import is_resource_scope, parse_scopes
from .store import DUMMY_HASH, HASHER
from .throttle import Throttle

TOKEN_SECONDS = 3600
CODE_SECONDS = 120
REFRESH_SECONDS = 8 * 3600  # a working day: the app asks the user again the next day
OFFLINE = "offline_access"


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
    refresh_token: str | None = None  # for a user's token with offline_access


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    confidential: bool
    redirect_uris: tuple[str, ...]
    scopes: str


@dataclass(frozen=True)
class Grant:
    """Who a user's code (and the token it becomes) stands for."""

    account: str
    user_ref: str
    role: str
    organisation: str | None


class TokenRefused(Exception):
    """An OAuth2 error for the token endpoint: `error` is the RFC 6749 code (invalid_grant, invalid_client…)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


def pkce_challenge(verifier: str) -> str:
    """S256: BASE64URL(SHA-256(verifier)) without padding (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _granted(requested: list[str], allowed: str, context: str | None = None) -> list[str]:
    """Each requested resource scope is granted when every interaction it names is within the client's scopes
    (and, for a user's token, when it is a `user/` scope: a user's token never acts as a system)."""
    permitted = parse_scopes(allowed)
    granted = []
    for item in requested:
        if not is_resource_scope(item) or (context is not None and not item.startswith(f"{context}/")):
            continue
        asked = parse_scopes(item)
        if all(permitted.permits(t, letter) for t, letters in asked.allowed.items() for letter in letters):
            granted.append(item)
    return granted


class TokenService:
    def __init__(self, engine: Engine, audit: AuditTrail) -> None:
        self.engine = engine
        self.audit = audit
        self.throttle = Throttle(engine, "token")  # failed token requests per client id and per address (throttle.py)

    def register_client(
        self,
        client_id: str,
        secret: str | None,
        name: str,
        role_name: str,
        organisation: str | None,
        scopes: str,
        redirect_uris: tuple[str, ...] = (),
    ) -> None:
        """A client: confidential with a secret, or public (secret None: an app that proves itself by PKCE alone).
        Apps that act for users list their redirect URIs, which must match exactly."""
        role(role_name)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(
                insert(oauth_clients).values(
                    client_id=client_id, secret_hash=HASHER.hash(secret) if secret is not None else None, name=name,
                    role=role_name, organisation=organisation, scopes=scopes, redirect_uris=" ".join(redirect_uris),
                    active=True,
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

    # --- user tokens: authorisation code with PKCE ---------------------------------------------------------------
    def client(self, client_id: str) -> Client | None:
        """An active registered client, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id)).first()
        if row is None or not row.active:
            return None
        uris = tuple(str(row.redirect_uris or "").split())
        return Client(row.client_id, row.name, row.secret_hash is not None, uris, row.scopes)

    def user_scopes(self, client: Client, requested: str) -> list[str]:
        """The `user/` scopes asked for that the client is registered for (and offline_access, for a refresh token,
        when it is registered for that too). No resource scope: nothing to grant."""
        granted = _granted(requested.split(), client.scopes, context="user")
        if granted and OFFLINE in requested.split() and OFFLINE in client.scopes.split():
            granted.append(OFFLINE)
        return granted

    def issue_code(
        self, client: Client, grant: Grant, scopes: list[str], redirect_uri: str, challenge: str,
        client_address: str | None,
    ) -> str:  # fmt: skip
        """A one-use code for the user's approval of these scopes for this client."""
        code = secrets.token_urlsafe(32)
        detail = orjson.dumps({"redirect_uri": redirect_uri, "challenge": challenge}).decode("utf-8")
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(delete(oauth_tokens).where(oauth_tokens.c.expires < now_micros()))
            conn.execute(
                insert(oauth_tokens).values(
                    token_hash=_digest(code), kind="code", client_id=client.client_id, user_ref=grant.user_ref,
                    role=grant.role, organisation=grant.organisation, scopes=" ".join(scopes),
                    expires=now_micros() + CODE_SECONDS * 1_000_000, detail=detail, account=grant.account,
                )
            )  # fmt: skip
        actor = Actor(grant.user_ref, grant.role, grant.organisation, None, client_address, "web")
        self.audit.record(
            actor, "token-approved", "success", [f"Device/{client.client_id}"], [], {"scope": " ".join(scopes)}
        )
        return code

    def _authenticate(self, client_id: str, secret: str | None) -> Client:
        """The client of a code exchange: a confidential one must give its secret, a public one none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id)).first()
        ok: bool
        if row is not None and row.secret_hash is None:
            ok = not secret  # a public client proves itself by PKCE; a secret it cannot have is a wrong one
        else:
            try:  # an unknown client costs the same Argon2 work as a known one
                ok = HASHER.verify(row.secret_hash if row is not None else DUMMY_HASH, secret or "")
            except (VerificationError, InvalidHashError):
                ok = False
        if row is None or not row.active or not ok:
            raise TokenRefused("invalid_client", "The client is not known or its credentials are not right")
        return Client(row.client_id, row.name, row.secret_hash is not None, tuple(row.redirect_uris.split()),
                      row.scopes)  # fmt: skip

    def exchange_code(
        self, client_id: str, secret: str | None, code: str, redirect_uri: str, verifier: str,
        client_address: str | None,
    ) -> IssuedToken:  # fmt: skip
        """The user's access token for a code: spent at once (a second exchange finds nothing), refused when it
        has expired, was issued to another client or redirect URI, or the PKCE verifier does not match."""
        actor = Actor(f"Device/{client_id}", None, None, None, client_address, "api")
        try:
            client = self._authenticate(client_id, secret)
            row = self._spend("code", code)
            if row is None or row.expires <= now_micros():
                raise TokenRefused("invalid_grant", "The code is not known, was used already or has expired")
            detail = orjson.loads(row.detail or "{}")
            if row.client_id != client.client_id:
                raise TokenRefused("invalid_grant", "The code was issued to another client")
            if detail.get("redirect_uri") != redirect_uri:
                raise TokenRefused("invalid_grant", "The redirect_uri is not the one the code was issued for")
            if not hmac.compare_digest(str(detail.get("challenge", "")), pkce_challenge(verifier or "")):
                raise TokenRefused("invalid_grant", "The code_verifier does not match the code_challenge")
        except TokenRefused as refused:
            self.audit.record(actor, "token-refused", "failure", [f"Device/{client_id}"], [], {"error": refused.error})
            raise
        return self._issue_for_user(row, "authorization_code", client_address)

    def refresh(
        self, client_id: str, secret: str | None, refresh_token: str, client_address: str | None
    ) -> IssuedToken:
        """New tokens for a refresh token, which is spent (rotated): a second use finds nothing."""
        actor = Actor(f"Device/{client_id}", None, None, None, client_address, "api")
        try:
            client = self._authenticate(client_id, secret)
            row = self._spend("refresh", refresh_token)
            if row is None or row.expires <= now_micros() or row.client_id != client.client_id:
                raise TokenRefused("invalid_grant", "The refresh token is not known, was used already or has expired")
        except TokenRefused as refused:
            self.audit.record(actor, "token-refused", "failure", [f"Device/{client_id}"], [], {"error": refused.error})
            raise
        return self._issue_for_user(row, "refresh_token", client_address)

    def _spend(self, kind: str, value: str) -> Any:
        """The row of a one-use code or refresh token, deleted in the same transaction (None: not there)."""
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            where = (oauth_tokens.c.token_hash == _digest(value), oauth_tokens.c.kind == kind)
            row = conn.execute(select(oauth_tokens).where(*where)).first()
            if row is not None:
                conn.execute(delete(oauth_tokens).where(*where))
        return row

    def _issue_for_user(self, grant: Any, how: str, client_address: str | None) -> IssuedToken:
        """An access token (and a refresh token with offline_access) standing for the same user and scopes."""
        token = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32) if OFFLINE in grant.scopes.split() else None
        issued = [("access", token, TOKEN_SECONDS)] + ([("refresh", refresh, REFRESH_SECONDS)] if refresh else [])
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            for kind, value, seconds in issued:
                conn.execute(
                    insert(oauth_tokens).values(
                        token_hash=_digest(value), kind=kind, client_id=grant.client_id, user_ref=grant.user_ref,
                        role=grant.role, organisation=grant.organisation, scopes=grant.scopes,
                        expires=now_micros() + seconds * 1_000_000, detail=None, account=grant.account,
                    )
                )  # fmt: skip
        self.audit.record(
            Actor(grant.user_ref, grant.role, grant.organisation, None, client_address, "api"), "token-issued",
            "success", [f"Device/{grant.client_id}"], [], {"scope": grant.scopes, "grant": how},
        )  # fmt: skip
        return IssuedToken(token, grant.scopes, TOKEN_SECONDS, refresh)

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
