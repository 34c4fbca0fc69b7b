"""Folding text for FHIR string search: case-insensitive and accent-insensitive (R4 3.1.1.5.7)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    if text.isascii():  # the common case, and casefold() equals lower() on ASCII
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
