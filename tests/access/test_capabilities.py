"""roles.json, the code and the declarations stay in step (decision 0315): every capability a role is granted is
declared by the domain that owns it, every declared capability (and so every one code can check) is granted to some
role, and no check in the code names a capability by a string literal."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import joinedup
from joinedup.access.capabilities import declare, declared
from joinedup.access.roles import catalogue
from joinedup.identity.permissions import PERSON_INDEX_LINK

SRC = Path(joinedup.__file__).parent


def _all_declared() -> dict[str, str]:
    """Import every domain's `permissions` module (wherever it is), then read the registry."""
    for module in pkgutil.walk_packages(joinedup.__path__, "joinedup."):
        if module.name.endswith(".permissions"):
            importlib.import_module(module.name)
    return {name: d.domain for name, d in declared().items()}


def test_every_capability_roles_json_grants_is_declared_in_code() -> None:
    known = _all_declared()
    granted = {c for r in catalogue().roles.values() for c in r.capabilities}
    undeclared = sorted(granted - set(known))
    assert undeclared == [], f"roles.json grants capabilities no code declares: {undeclared}"


def test_every_declared_capability_is_granted_to_some_role() -> None:
    granted = {c for r in catalogue().roles.values() for c in r.capabilities}
    never = sorted(set(_all_declared()) - granted)
    assert never == [], f"code declares capabilities roles.json never grants: {never}"


def test_no_check_names_a_capability_by_a_string_literal() -> None:
    """Checks take the declared value (a `Capability`, which mypy keeps apart from str): `.may("…")` or
    `.require("…")` anywhere in the code is a check that could drift from roles.json."""
    literal = re.compile(r"\.(may|require)\(\s*[\"']")
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(SRC.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []


def test_each_capability_belongs_to_one_domain() -> None:
    _all_declared()
    with pytest.raises(ValueError, match="already declared by identity"):
        declare("care", {str(PERSON_INDEX_LINK): "a second owner"})


def test_linking_people_is_a_capability_of_its_own() -> None:
    """Merging, unmerging, accepting and rejecting links: care home staff and link workers no longer may."""
    holders = {name for name, r in catalogue().roles.items() if r.may(PERSON_INDEX_LINK)}
    assert holders == {
        "gp", "nurse", "hospital-doctor", "social-worker", "mental-health-practitioner", "spa-triage",
        "mdg-coordinator", "system",
    }  # fmt: skip
    assert _all_declared()["person-index.link"] == "identity"
