"""The nickname table: familiar given names mapped to one canonical form (Bill → william, Peggy → margaret).

The table is package data (`data/nicknames.csv`), versioned in its header so a trained model can say which table
it was trained with.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_TABLE = "nicknames.csv"


@dataclass(frozen=True)
class NicknameTable:
    version: str
    canonical_of: dict[str, str]

    def canonical(self, given: str) -> str:
        """The canonical form of an already normalised given name; the name itself when the table does not know it."""
        return self.canonical_of.get(given, given)


def parse(text: str) -> NicknameTable:
    """Read the table: '#' comment lines (one says 'version X'), then a nickname,canonical CSV."""
    version = "unversioned"
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            if "version" in line:
                version = line.split("version", 1)[1].strip(" :")
            continue
        if line.strip():
            body.append(line)
    mapping: dict[str, str] = {}
    for row in csv.DictReader(body):
        nickname, canonical = row["nickname"].strip(), row["canonical"].strip()
        if nickname in mapping and mapping[nickname] != canonical:
            raise ValueError(f"nickname {nickname!r} maps to both {mapping[nickname]!r} and {canonical!r}")
        mapping[nickname] = canonical
    return NicknameTable(version=version, canonical_of=mapping)


@lru_cache(maxsize=1)
def default_table() -> NicknameTable:
    """The table shipped with the package."""
    text = resources.files("joinedup.identity").joinpath("data").joinpath(_TABLE).read_text(encoding="utf-8")
    return parse(text)
