"""Roles and their capabilities, read from versioned data (`data/roles.json`), never hard-coded in the checks.

Each role is modelled on a national RBAC job role and holds capabilities (what it may do) and the sensitive
categories it may see outside the team that wrote them. The catalogue's version is recorded in every audit entry,
so a decision can always be traced to the rules it was made under.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from joinedup.fhir.errors import Forbidden

from .capabilities import Capability
from .permissions import OWN_RECORD_READ, RECORD_READ_CLINICAL, SECONDARY_USE_READ


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    national_rbac: str
    capabilities: frozenset[str]
    sensitive: frozenset[str]  # sensitive categories (labels.py) this role may see outside the authoring team

    def may(self, capability: Capability) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True)
class RoleCatalogue:
    version: str
    roles: dict[str, Role]
    aliases: dict[str, str]

    def get(self, name: str) -> Role:
        """The role by name or alias; an unknown role is refused rather than given a default."""
        role = self.roles.get(self.aliases.get(name, name))
        if role is None:
            raise Forbidden(f"The role '{name}' is not known")
        return role

    def known(self, name: str) -> bool:
        return self.aliases.get(name, name) in self.roles


@lru_cache(maxsize=1)
def catalogue() -> RoleCatalogue:
    raw = json.loads(resources.files("joinedup.access").joinpath("data", "roles.json").read_text(encoding="utf-8"))
    roles = {
        name: Role(
            name=name,
            label=str(spec["label"]),
            national_rbac=str(spec.get("national_rbac", "")),
            capabilities=frozenset(spec["capabilities"]),
            sensitive=frozenset(spec.get("sensitive", [])),
        )
        for name, spec in raw["roles"].items()
    }
    return RoleCatalogue(version=str(raw["version"]), roles=roles, aliases=dict(raw.get("aliases", {})))


def role(name: str) -> Role:
    return catalogue().get(name)


def purpose_of(name: str) -> str:
    """The purpose a role's API calls are made for: secondary use (analytics, pseudonymised) for a role whose only
    access to personal records is secondary use, direct care ("treatment") for everyone else."""
    held = role(name)
    if held.may(SECONDARY_USE_READ) and not held.may(RECORD_READ_CLINICAL) and not held.may(OWN_RECORD_READ):
        return "analytics"
    return "treatment"
