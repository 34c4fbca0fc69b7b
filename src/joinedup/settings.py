"""One Settings object (pydantic-settings): environment variables JOINEDUP_*, then an optional TOML file."""

from __future__ import annotations

import os
import secrets
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
    export_dir: Path = Path("./var/exports")
    demo_people: int = 2000
    demo_dir: Path = Path("./var/demo")
    session_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Signs the web session cookie; set it when more than one process serves the pages",
    )
    break_glass_hours: float = Field(default=4.0, description="How long a break-glass access lasts")
    session_max_age: int = Field(default=8 * 3600, description="Seconds a web sign-in lasts")
    identity_link_threshold: float = Field(
        default=0.99, description="Person index: link automatically at or above this match probability"
    )
    identity_review_threshold: float = Field(
        default=0.2, description="Person index: send to review at or above this match probability (below: new person)"
    )
    node_modules: Path = Field(
        default=Path("./node_modules"), description="Where `npm ci` put nhsuk-frontend and htmx.org for the pages"
    )
    population_db: Path = Field(
        default=Path("./var/population.duckdb"), description="The DuckDB file `joinedup population refresh` writes"
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
