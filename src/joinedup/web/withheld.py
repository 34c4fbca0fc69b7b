"""The 'some information is withheld' notice: what the page tells a professional it is not showing them.

Until information governance lands, the gate returns everything it is allowed to, and the page itself keeps back
resources labelled restricted or very restricted (meta.security, v3 Confidentiality R or V): it shows less, never
more. The governance work moves that decision into the gate and reports what it withheld; this module then turns
the gate's report into the same notice, and the templates need not change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .record_resources import SourceOrg

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
RESTRICTED_CODES = frozenset({"R", "V"})


@dataclass(frozen=True)
class WithheldNotice:
    """How many entries are kept back, and from which organisations (their names), for the notice component."""

    count: int
    organisations: tuple[str, ...]
    reason: str = "marked as restricted"

    @property
    def shown(self) -> bool:
        return self.count > 0


def is_restricted(resource: dict[str, Any]) -> bool:
    for label in (resource.get("meta") or {}).get("security") or []:
        if label.get("system") == CONFIDENTIALITY and label.get("code") in RESTRICTED_CODES:
            return True
    return False


def notice_for(withheld: Iterable[dict[str, Any]], source: Callable[[dict[str, Any]], SourceOrg]) -> WithheldNotice:
    by_org: Counter[str] = Counter(source(r).name for r in withheld)
    return WithheldNotice(sum(by_org.values()), tuple(sorted(by_org)))
