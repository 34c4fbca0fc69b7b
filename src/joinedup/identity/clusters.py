"""From pairwise links to persons: connected components, with person ids that stay put when clusters are rebuilt."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping

# Person ids are UUIDs derived from a member's record key in this namespace (uuid5), so a rebuild is reproducible.
PERSON_NAMESPACE = uuid.UUID("8a0f6d8e-4b7c-5d3e-9f1a-2c6b0e7d4a19")


def connected_components(keys: Iterable[str], links: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """Every key in exactly one component; two keys share one when a chain of links joins them (union-find)."""
    parent: dict[str, str] = {key: key for key in keys}

    def find(key: str) -> str:
        root = parent.setdefault(key, key)
        while root != parent[root]:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    for left, right in links:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, set[str]] = {}
    for key in list(parent):
        groups.setdefault(find(key), set()).add(key)
    return sorted((frozenset(g) for g in groups.values()), key=lambda g: min(g))


def new_person_id(members: Iterable[str], taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A reproducible id from the smallest member key, stepped past any id already taken."""
    anchor = min(members)
    candidate = str(uuid.uuid5(PERSON_NAMESPACE, anchor))
    step = 0
    while candidate in taken:
        step += 1
        candidate = str(uuid.uuid5(PERSON_NAMESPACE, f"{anchor}#{step}"))
    return candidate


def assign_person_ids(
    components: Iterable[frozenset[str]], previous: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Record key → person id. A component keeps the id most of its members had (largest components choose
    first); a merge keeps one of the ids, a split leaves the id with the larger part; new persons get new ids."""
    previous = previous or {}
    ordered = sorted(components, key=lambda c: (-len(c), min(c)))
    # Ids a new person may not take: every previous one and every one given out here. One set, grown in place
    # (a union per component made a borough's 250,000 persons quadratic: most of an hour).
    taken: set[str] = set(previous.values())
    claimed: set[str] = set()
    result: dict[str, str] = {}
    for component in ordered:
        votes = Counter(previous[k] for k in component if k in previous)
        choices = [pid for pid, _ in sorted(votes.items(), key=lambda item: (-item[1], item[0])) if pid not in claimed]
        person = choices[0] if choices else new_person_id(component, taken)
        claimed.add(person)
        taken.add(person)
        for key in component:
            result[key] = person
    return result
