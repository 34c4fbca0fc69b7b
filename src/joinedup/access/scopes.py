"""SMART on FHIR scopes (v2 `user/Observation.rs`, `system/*.cruds`; v1 `.read`/`.write` understood too).

A token's scopes limit what its holder may do on top of their role: which resource types and which interactions
(c create, r read, u update, d delete, s search). The gate checks the interaction; the visibility condition limits
the types returned, so includes and `$everything` never return a type the token may not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)$")
V1 = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class GrantedScopes:
    """What the scopes allow: per resource type ('*' for every type), the interaction letters."""

    allowed: dict[str, frozenset[str]]
    contexts: frozenset[str]  # patient, user, system

    def permits(self, resource_type: str, interaction: str) -> bool:
        return interaction in self.allowed.get(resource_type, frozenset()) | self.allowed.get("*", frozenset())

    def readable_types(self) -> frozenset[str] | None:
        """Types that may be read (None: all)."""
        if "r" in self.allowed.get("*", frozenset()):
            return None
        return frozenset(t for t, letters in self.allowed.items() if "r" in letters)


def parse_scopes(scopes: str | tuple[str, ...] | list[str]) -> GrantedScopes:
    """Resource scopes of the string; others (openid, fhirUser, launch/…) are ignored here."""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    allowed: dict[str, set[str]] = {}
    contexts: set[str] = set()
    for item in items:
        match = _SCOPE.match(item)
        if not match or not match.group(3):
            continue
        context, resource_type, letters = match.groups()
        contexts.add(context)
        allowed.setdefault(resource_type, set()).update(V1.get(letters, letters))
    return GrantedScopes({t: frozenset(v) for t, v in allowed.items()}, frozenset(contexts))


def is_resource_scope(item: str) -> bool:
    match = _SCOPE.match(item)
    return bool(match and match.group(3))


_INTERACTIONS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}
_WHO = {"user": "you may see", "patient": "the chosen person's record", "system": "the whole store"}


def describe_scope(item: str) -> str:
    """A plain-English line for the consent page: 'Read and search Observation records you may see'."""
    if item == "offline_access":
        return "Keep this access through the working day (8 hours) without asking you again"
    match = _SCOPE.match(item)
    if not match or not match.group(3):
        return item
    context, resource_type, letters = match.groups()
    words = [_INTERACTIONS[letter] for letter in V1.get(letters, letters)]
    what = "all kinds of" if resource_type == "*" else resource_type
    doing = ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]
    return f"{doing.capitalize()} {what} records {_WHO[context]}"
