"""Capabilities are declared in code by the domain that owns them, and checked by the gate (decision 0315).

A domain declares what its checks mean once, beside its code:

    CAPABILITIES = declare("identity", {"person-index.link": "decide whether records belong to the same person"})
    LINK = CAPABILITIES["person-index.link"]

and checks only the declared value (`handle.require(LINK)`): `Capability` is a distinct type, so mypy refuses a
string literal where a check expects one. `roles.json` grants capabilities by name; tests/access/test_capabilities.py
fails when it grants one no code declares, or when code declares (and so may check) one no role is granted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NewType

Capability = NewType("Capability", str)


@dataclass(frozen=True)
class Declared:
    domain: str
    name: Capability
    meaning: str


_DECLARED: dict[str, Declared] = {}


class Capabilities(Mapping[str, Capability]):
    """One domain's declared capabilities, looked up by name (a KeyError for a name it did not declare)."""

    def __init__(self, domain: str, names: Mapping[str, str]) -> None:
        self.domain = domain
        self._names = {name: Capability(name) for name in names}

    def __getitem__(self, name: str) -> Capability:
        return self._names[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def declare(domain: str, meanings: Mapping[str, str]) -> Capabilities:
    """Declare a domain's capabilities (name → what holding it lets a role do). A name belongs to one domain."""
    for name, meaning in meanings.items():
        known = _DECLARED.get(name)
        if known is not None and known.domain != domain:
            raise ValueError(f"capability '{name}' is already declared by {known.domain}")
        if not meaning.strip():
            raise ValueError(f"capability '{name}' needs a meaning")
        _DECLARED[name] = Declared(domain, Capability(name), meaning)
    return Capabilities(domain, meanings)


def declared() -> dict[str, Declared]:
    """Every capability declared by the modules imported so far (import the domains' modules to see them all)."""
    return dict(_DECLARED)
