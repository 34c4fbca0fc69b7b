"""The capability the person index checks (decision 0315)."""

from __future__ import annotations

from joinedup.access.capabilities import declare

CAPABILITIES = declare(
    "identity",
    {
        "person-index.link": "decide whether records belong to the same person: accept or reject a suggested "
        "link, merge two persons, take a record out of a person",
    },
)
PERSON_INDEX_LINK = CAPABILITIES["person-index.link"]
