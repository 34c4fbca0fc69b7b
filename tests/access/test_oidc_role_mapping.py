"""The provider's role claim to a JoinedUp role: CIS2's role objects, plain string claims at a dotted path, the
role chosen at the provider, and roles that are never granted by sign-in."""

from __future__ import annotations

from typing import Any

from joinedup.access.oidc.role_mapping import MappedRole, map_role
from joinedup.settings import Settings

CIS2 = Settings(oidc_role_map={"R8000": "gp", "R8001": "nurse", "R0001": "system", "R9999": "not-a-role"})
ROLES: list[dict[str, Any]] = [
    {"person_roleid": "1", "role_code": "S0030:G0100:R0570", "org_code": "RXX"},  # not mapped
    {"person_roleid": "2", "role_code": "S8000:G8000:R8001", "org_code": "P84001"},
    {"person_roleid": "3", "role_code": "S8000:G8000:R8000", "org_code": "P84002"},
]


def test_cis2_first_mapped_role_when_none_was_chosen() -> None:
    assert map_role({"nhsid_nrbac_roles": ROLES}, CIS2) == MappedRole("nurse", "S8000:G8000:R8001", "P84001", "2")


def test_cis2_only_the_role_chosen_at_the_provider_counts() -> None:
    chosen = map_role({"nhsid_nrbac_roles": ROLES, "selected_roleid": "3"}, CIS2)
    assert chosen == MappedRole("gp", "S8000:G8000:R8000", "P84002", "3")
    assert map_role({"nhsid_nrbac_roles": ROLES, "selected_roleid": "1"}, CIS2) is None  # chose an unmapped one


def test_the_whole_code_maps_too() -> None:
    settings = Settings(oidc_role_map={"S0030:G0100:R0570": "hospital-doctor"})
    assert map_role({"nhsid_nrbac_roles": ROLES}, settings) == MappedRole(
        "hospital-doctor", "S0030:G0100:R0570", "RXX", "1"
    )


def test_machine_roles_unknown_roles_and_residents_are_never_granted() -> None:
    for code in ("R0001", "R9999"):
        claims = {"nhsid_nrbac_roles": [{"role_code": f"S1:G1:{code}", "org_code": "X"}]}
        assert map_role(claims, CIS2) is None
    resident = Settings(oidc_role_map={"citizen": "resident"}, oidc_roles_claim="roles")
    assert map_role({"roles": ["citizen"]}, resident) is None


def test_plain_string_roles_at_a_dotted_path_with_an_organisation_claim() -> None:
    settings = Settings(
        oidc_roles_claim="realm_access.roles", oidc_org_claim="org.ods", oidc_role_map={"social-work": "social-worker"}
    )
    claims = {"realm_access": {"roles": ["offline_access", "social-work"]}, "org": {"ods": "SAL01"}}
    assert map_role(claims, settings) == MappedRole("social-worker", "social-work", "SAL01", None)
    assert map_role({"realm_access": {"roles": "social-work"}}, settings) == MappedRole(
        "social-worker", "social-work", None, None
    )
    assert map_role({}, settings) is None
