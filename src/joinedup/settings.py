"""One Settings object (pydantic-settings): environment variables JOINEDUP_*, then an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOINEDUP_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///./var/joinedup.sqlite3",
        description="SQLAlchemy URL; postgresql+psycopg://… selects PostgreSQL",
    )
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    max_request_bytes: int = 16 * 1024 * 1024
    api_threads: int = Field(
        default=2,
        ge=1,
        description="Threads per worker process for the FHIR read, search and $everything calls (decision 0018)",
    )
    export_dir: Path = Path("./var/exports")
    demo_people: int = 2000
    demo_dir: Path = Path("./var/demo")
    served_on_loopback: bool = Field(
        default=False,
        description="Set by `joinedup serve` when it listens on a loopback address: only then, and only in development "
        "and test, does the sign-in page offer its one-click demo users (decision 0311)",
    )
    session_secret: str = Field(
        default="", description="Signs the web session cookie; empty: the key file, made on first use (decision 0311)"
    )
    session_secret_file: Path = Field(
        default=Path("./var/session.key"),
        description="Where the session cookie's signing key is kept when not set, shared by every server process",
    )
    pseudonym_key: str = Field(
        default="",
        description="Keys the pseudonyms secondary use sees (decision 0330); empty: the key file, made on first use",
    )
    pseudonym_key_file: Path = Field(
        default=Path("./var/pseudonym.key"), description="Where the pseudonymisation key is kept when not set"
    )
    break_glass_hours: float = Field(default=4.0, description="How long a break-glass access lasts")
    # --- the audit trail's keys and checkpoints (decision 0312): kept outside the database ----------------------
    audit_key: str = Field(
        default="",
        description="Keys the audit chain's HMAC (decision 0312); empty: the keyring file's current key, made on "
        "first use. A key set here is added to the keyring file so that entries it signed still verify after it",
    )
    audit_key_file: Path = Field(
        default=Path("./var/audit.key"), description="The audit keyring: every key that has signed the chain"
    )
    audit_checkpoint_file: Path = Field(
        default=Path("./var/audit-checkpoints.jsonl"), description="Where `joinedup audit checkpoint` appends"
    )
    audit_signing_key_file: Path = Field(
        default=Path("./var/audit-signing.key"),
        description="The Ed25519 key that signs checkpoints, made on first use; its public key beside it (.pub)",
    )
    session_max_age: int = Field(default=8 * 3600, description="Seconds a web sign-in lasts")
    identity_link_threshold: float = Field(
        default=0.99, description="Person index: link automatically at or above this match probability"
    )
    identity_review_threshold: float = Field(
        default=0.2, description="Person index: send to review at or above this match probability (below: new person)"
    )
    person_index_keys_dir: Path = Field(
        default=Path("./var/person-index"),
        description="Person index: the folder of a non-SQLite store's blocking table (SQLite's sits beside its file)",
    )
    node_modules: Path = Field(
        default=Path("./node_modules"), description="Where `npm ci` put nhsuk-frontend and htmx.org for the pages"
    )
    population_db: Path = Field(
        default=Path("./var/population.duckdb"), description="The DuckDB file `joinedup population refresh` writes"
    )

    # --- sign-in and tokens (decision 0310) ---------------------------------------------------------------------
    sign_in_failures_per_account: int = Field(
        default=10, description="Failed sign-ins per username tried (known or not) in the window before 429; 0: none"
    )
    sign_in_failures_per_address: int = Field(
        default=50, description="Failed sign-ins per client address in the window before 429; 0: none"
    )
    token_failures_per_client: int = Field(
        default=10, description="Failed /auth/token requests per client id in the window before 429; 0: none"
    )
    token_failures_per_address: int = Field(
        default=50, description="Failed /auth/token requests per client address in the window before 429; 0: none"
    )
    rate_limit_window_seconds: int = Field(default=15 * 60, description="The window the failure limits count in")
    hsts: bool = Field(
        default=False, description="Send HSTS on every response (served only over TLS); otherwise only when the "
        "request came over TLS, directly or as X-Forwarded-Proto from a trusted proxy",
    )  # fmt: skip
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses of reverse proxies whose X-Forwarded-Proto is believed"
    )
    oidc_issuer: str = Field(default="", description="OpenID Connect provider's issuer; empty: no OIDC sign-in")
    oidc_discovery_url: str = Field(
        default="", description="Its discovery document; empty: <issuer>/.well-known/openid-configuration"
    )
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = Field(
        default="openid profile email nationalrbacaccess", description="CIS2 gives roles for 'nationalrbacaccess'"
    )
    oidc_label: str = Field(default="NHS Care Identity Service 2", description="The provider's name on the button")
    oidc_roles_claim: str = Field(
        default="nhsid_nrbac_roles", description="Dotted path to the role claim: a list of role objects or strings"
    )
    oidc_role_code_field: str = Field(default="role_code", description="In a role object: the role code")
    oidc_org_code_field: str = Field(default="org_code", description="In a role object: the ODS organisation code")
    oidc_role_id_field: str = Field(default="person_roleid", description="In a role object: the role's identifier")
    oidc_selected_role_claim: str = Field(
        default="selected_roleid", description="Claim naming the role the user chose at the provider (CIS2)"
    )
    oidc_org_claim: str = Field(
        default="", description="Dotted path to an ODS code claim, for providers whose roles are plain strings"
    )
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description="Provider role code → JoinedUp role (roles.json); a CIS2 code 'S0010:G0020:R8000' matches on "
        "the whole code or on any one of its parts",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("JOINEDUP_CONFIG", "joinedup.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url.rstrip('/')}/fhir"
