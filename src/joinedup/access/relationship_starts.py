"""Work that starts a care relationship (decision 0500): a front door such as a single point of access takes
contacts about anyone in the place, so its staff must be able to trace a person by their demographics and record the
contact before any relationship exists — and the contact's open work then is the relationship.

A domain registers which capability may do this and for which resource types (`care/install.py` registers triage
for its contacts and triage Tasks); the gate then
- answers `trace`: a Patient search by NHS number, or by name and date of birth, across the whole place, Patient
  resources only (no includes), audited as the caller's `trace`;
- lets a write of one of those types about a person who exists, but with whom the caller has no relationship yet,
  through, audited with `started_relationship` naming the capability.
Nothing else changes: every other read and write keeps the ordinary rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from joinedup.fhir.errors import Forbidden, InvalidRequest
from joinedup.fhir.search_request import ParamCriterion, SearchRequest

from .capabilities import Capability
from .roles import role

IDENTIFYING = frozenset({"identifier"})
DEMOGRAPHIC = frozenset({"name", "family", "given"})


@dataclass
class RelationshipStarts:
    _allowed: dict[Capability, frozenset[str]] = field(default_factory=dict)

    def allow(self, capability: Capability, resource_types: frozenset[str]) -> None:
        self._allowed[capability] = self._allowed.get(capability, frozenset()) | resource_types

    def capability_for(self, role_name: str, resource_type: str) -> Capability | None:
        """The registered capability the role holds that lets it start a relationship with this type, if any."""
        held = role(role_name)
        return next((c for c, types in self._allowed.items() if resource_type in types and held.may(c)), None)

    def may_trace(self, role_name: str, capability: Capability) -> None:
        if capability not in self._allowed or not role(role_name).may(capability):
            raise Forbidden("Tracing a person is for the single point of access's staff")


def check_trace(request: SearchRequest) -> None:
    """A trace names someone: an NHS number, or a name with a date of birth; Patients only, nothing included."""
    if request.resource_type != "Patient" or request.includes or request.revincludes:
        raise InvalidRequest("A trace searches Patients only, with nothing included", location="Patient")
    names = {c.parameter.name for c in request.criteria if isinstance(c, ParamCriterion)}
    if any(not isinstance(c, ParamCriterion) for c in request.criteria):
        raise InvalidRequest("A trace takes plain criteria only", location="Patient")
    if not (names & IDENTIFYING or (names & DEMOGRAPHIC and "birthdate" in names)):
        raise InvalidRequest("Trace by NHS number, or by name and date of birth", location="Patient")
