"""Text normalisation for linkage: case, accents, punctuation, titles; UK postcodes; dates of birth."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_HYPHENS_APOSTROPHES = re.compile(r"[-'’`´]")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Names, postcodes and address lines repeat across half a million records: normalising each distinct text once
# halves the time to derive a borough's linkage records.
_CACHE_SIZE = 1 << 16
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "lady", "lord"})


@lru_cache(maxsize=_CACHE_SIZE)
def fold(text: str) -> str:
    """Lower case, accents removed (é → e, ß → ss), any non-letter dropped, hyphens and apostrophes closed up."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_text = _HYPHENS_APOSTROPHES.sub("", ascii_text)
    letters = _NOT_LETTER.sub(" ", ascii_text)
    return _SPACES.sub(" ", letters).strip()


def name_tokens(text: str | None) -> list[str]:
    """A name as normalised tokens without titles: 'Dr. Anne-Marie  O'Brien' → ['annemarie', 'obrien']."""
    if not text:
        return []
    return [token for token in fold(text).split(" ") if token and token not in _TITLES]


def family_name(text: str | None) -> str | None:
    """A family name as one normalised string ('Smith-Jones' → 'smithjones'), or None when nothing is left."""
    joined = "".join(name_tokens(text))
    return joined or None


@lru_cache(maxsize=_CACHE_SIZE)
def postcode(text: str | None) -> str | None:
    """Upper case without spaces ('sw1a 1aa' → 'SW1A1AA'); None when empty."""
    if not text:
        return None
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return cleaned or None


def postcode_sector(code: str | None) -> str | None:
    """The sector of a UK postcode ('SW1A1AA' → 'SW1A1'); for other formats, all but the last character."""
    if not code:
        return None
    match = _UK_POSTCODE.match(code)
    if match:
        return match.group(1) + match.group(2)[0]
    return code[:-1] or None


def address_line(lines: list[str] | None) -> str | None:
    """The address lines joined and folded to one comparable string ('12, High St.' → '12 high st')."""
    if not lines:
        return None
    return _folded_address(" ".join(lines))


@lru_cache(maxsize=_CACHE_SIZE)
def _folded_address(joined: str) -> str | None:
    decomposed = unicodedata.normalize("NFKD", joined.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = _SPACES.sub(" ", re.sub(r"[^a-z0-9 ]+", " ", ascii_text)).strip()
    return cleaned or None


def birth_date(text: str | None) -> str | None:
    """A full date of birth 'YYYY-MM-DD' as given; partial or malformed dates are not used for linkage."""
    if not text:
        return None
    candidate = text[:10]
    return candidate if _DATE.match(candidate) else None


def swapped_day_month(date: str | None) -> str | None:
    """The same date with day and month exchanged ('1980-03-07' → '1980-07-03') when that differs, else None."""
    if date is None:
        return None
    match = _DATE.match(date)
    if not match:
        return None
    year, month, day = match.groups()
    if month == day:
        return None
    return f"{year}-{day}-{month}"
