"""The organisation's OpenID Connect provider, as an Authlib client: discovery, authorisation code with PKCE (S256),
state and nonce kept in the session, and the ID token's signature (the provider's JWKS), issuer, audience, expiry
and nonce checked by Authlib when the code is exchanged.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]

from joinedup.settings import Settings

NAME = "provider"


def discovery_url(settings: Settings) -> str:
    return settings.oidc_discovery_url or f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration"


def oidc_enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def build_provider(settings: Settings) -> Any:
    """An Authlib Starlette OAuth2 app for the configured provider (metadata fetched on first use)."""
    registry = OAuth()
    registry.register(
        NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        server_metadata_url=discovery_url(settings),
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256", "timeout": 10},
    )
    return registry.create_client(NAME)


def id_token_checks(settings: Settings) -> dict[str, Any]:
    """Claims options beyond Authlib's defaults: the issuer must be the configured one (not merely the one the
    discovery document names); the audience must include our client id (Authlib's ID token class only asks for
    an `azp` when it does not, so a token for another client naming us as `azp` would pass); `exp`, `iat` and
    `sub` must be present."""
    return {
        "iss": {"essential": True, "values": [settings.oidc_issuer]},
        "sub": {"essential": True},
        "aud": {"essential": True, "values": [settings.oidc_client_id]},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
