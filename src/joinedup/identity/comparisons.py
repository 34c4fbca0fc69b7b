"""The comparisons of the linkage model, each level defined once and run two ways.

A level is data: `splink_level` turns it into a Splink comparison level (SQL for DuckDB or Spark), `level_holds`
evaluates the same condition in Python for the incremental matcher. Levels are tried in order; the first that
holds is the pair's level, as in Splink's CASE WHEN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import jellyfish
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from .record import LinkageRecord


class Kind(Enum):
    NULL = "null"  # either side missing: no evidence
    EXACT = "exact"
    JARO_WINKLER = "jaro_winkler"  # similarity >= threshold
    LEVENSHTEIN = "levenshtein"  # distance <= threshold
    CROSS = "cross"  # column a on one side equals column b on the other (e.g. date with day/month swapped)
    INTERSECT = "intersect"  # the two arrays share a value
    ALL = "all"  # every part holds
    ANY = "any"  # at least one part holds
    ELSE = "else"


@dataclass(frozen=True)
class Level:
    label: str
    kind: Kind
    columns: tuple[str, ...] = ()
    threshold: float = 0.0
    parts: tuple[Level, ...] = ()


@dataclass(frozen=True)
class FieldComparison:
    name: str  # Splink's output column name; the field named in explanations
    description: str
    levels: tuple[Level, ...] = field(default_factory=tuple)


def null(column: str) -> Level:
    return Level(f"{column} missing", Kind.NULL, (column,))


def exact(column: str, label: str | None = None) -> Level:
    return Level(label or f"{column} exact", Kind.EXACT, (column,))


def jaro_winkler(column: str, threshold: float) -> Level:
    return Level(f"{column} Jaro-Winkler >= {threshold}", Kind.JARO_WINKLER, (column,), threshold)


def levenshtein(column: str, distance: int) -> Level:
    return Level(f"{column} Levenshtein <= {distance}", Kind.LEVENSHTEIN, (column,), float(distance))


def cross(column: str, other: str, label: str) -> Level:
    return Level(label, Kind.CROSS, (column, other))


def intersect(column: str, label: str) -> Level:
    return Level(label, Kind.INTERSECT, (column,))


def all_of(label: str, *parts: Level) -> Level:
    return Level(label, Kind.ALL, parts=parts)


def any_of(label: str, *parts: Level) -> Level:
    return Level(label, Kind.ANY, parts=parts)


ELSE = Level("all other", Kind.ELSE)
NAMES_SWAPPED = cross("given_name", "family_name", "given and family names swapped")
SAME_ADDRESS_LINE = any_of(
    "same address line (similar, or the same words in another order)",
    jaro_winkler("address_line", 0.9),
    exact("address_key"),
)

NHS_NUMBER = FieldComparison(
    "nhs_number", "NHS number (valid numbers only)", (null("nhs_number"), exact("nhs_number"), ELSE)
)
GIVEN_NAME = FieldComparison(
    "given_name",
    "Given name: exact, nickname, edit distance, phonetic",
    (
        null("given_name"),
        exact("given_name"),
        exact("given_canonical", "nickname of the same name"),
        jaro_winkler("given_name", 0.92),
        exact("given_metaphone", "sounds the same (Metaphone)"),
        jaro_winkler("given_name", 0.8),
        NAMES_SWAPPED,
        ELSE,
    ),
)
FAMILY_NAME = FieldComparison(
    "family_name",
    "Family name: exact, edit distance, phonetic",
    (
        null("family_name"),
        exact("family_name"),
        jaro_winkler("family_name", 0.92),
        exact("family_metaphone", "sounds the same (Metaphone)"),
        levenshtein("family_name", 2),
        jaro_winkler("family_name", 0.8),
        NAMES_SWAPPED,
        ELSE,
    ),
)
BIRTH_DATE = FieldComparison(
    "birth_date",
    "Date of birth: exact, day and month swapped, one or two digits different, same year",
    (
        null("birth_date"),
        exact("birth_date"),
        cross("birth_date", "birth_date_swapped", "day and month swapped"),
        levenshtein("birth_date", 1),
        levenshtein("birth_date", 2),
        exact("birth_year", "same year"),
        ELSE,
    ),
)
ADDRESS = FieldComparison(
    "address",
    "Address: same postcode and line, same postcode, same line, shared address history, same sector",
    (
        null("postcodes"),
        all_of("same postcode and address line", exact("postcode"), SAME_ADDRESS_LINE),
        exact("postcode", "same current postcode"),
        SAME_ADDRESS_LINE,
        intersect("postcodes", "a postcode shared across address history (moved)"),
        exact("postcode_sector", "same postcode sector"),
        ELSE,
    ),
)
SEX = FieldComparison("sex", "Administrative gender", (null("sex"), exact("sex"), ELSE))

ALL_COMPARISONS: tuple[FieldComparison, ...] = (NHS_NUMBER, GIVEN_NAME, FAMILY_NAME, BIRTH_DATE, ADDRESS, SEX)


def by_name(names: Sequence[str]) -> tuple[FieldComparison, ...]:
    """The comparisons with these names, in the order given."""
    known = {c.name: c for c in ALL_COMPARISONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown comparisons {unknown}; known: {sorted(known)}")
    return tuple(known[n] for n in names)


# --- Splink (SQL) -----------------------------------------------------------------------------------------------


def splink_level(level: Level) -> ComparisonLevelCreator:
    """The Splink comparison level for a level (dialect-neutral: Splink writes the SQL for each engine)."""
    creator: ComparisonLevelCreator
    if level.kind is Kind.NULL:
        creator = cll.NullLevel(level.columns[0])
    elif level.kind is Kind.EXACT:
        creator = cll.ExactMatchLevel(level.columns[0])
    elif level.kind is Kind.JARO_WINKLER:
        creator = cll.JaroWinklerLevel(level.columns[0], level.threshold)
    elif level.kind is Kind.LEVENSHTEIN:
        creator = cll.LevenshteinLevel(level.columns[0], int(level.threshold))
    elif level.kind is Kind.CROSS:
        a, b = level.columns
        creator = cll.CustomLevel(f"({a}_l = {b}_r) OR ({b}_l = {a}_r)", base_dialect_str="duckdb")
    elif level.kind is Kind.INTERSECT:
        creator = cll.ArrayIntersectLevel(level.columns[0], min_intersection=1)
    elif level.kind is Kind.ALL:
        creator = cll.And(*(splink_level(part) for part in level.parts))
    elif level.kind is Kind.ANY:
        creator = cll.Or(*(splink_level(part) for part in level.parts))
    else:
        creator = cll.ElseLevel()
    return creator.configure(label_for_charts=level.label)


def splink_comparison(comparison: FieldComparison) -> ComparisonCreator:
    return cl.CustomComparison(
        comparison_levels=[splink_level(level) for level in comparison.levels],
        output_column_name=comparison.name,
        comparison_description=comparison.description,
    )


# --- Python -----------------------------------------------------------------------------------------------------


def _value(record: LinkageRecord, column: str) -> Any:
    return getattr(record, column)


def level_holds(level: Level, left: LinkageRecord, right: LinkageRecord) -> bool:
    """The level's condition in Python, with SQL's null semantics (a comparison with a missing value is false)."""
    if level.kind is Kind.ELSE:
        return True
    if level.kind is Kind.ALL:
        return all(level_holds(part, left, right) for part in level.parts)
    if level.kind is Kind.ANY:
        return any(level_holds(part, left, right) for part in level.parts)
    if level.kind is Kind.CROSS:
        a, b = level.columns
        return _equal(_value(left, a), _value(right, b)) or _equal(_value(left, b), _value(right, a))
    column = level.columns[0]
    lv, rv = _value(left, column), _value(right, column)
    if level.kind is Kind.NULL:
        return lv is None or rv is None
    if lv is None or rv is None:
        return False
    if level.kind is Kind.EXACT:
        return bool(lv == rv)
    if level.kind is Kind.JARO_WINKLER:
        return jellyfish.jaro_winkler_similarity(lv, rv) >= level.threshold
    if level.kind is Kind.LEVENSHTEIN:
        return jellyfish.levenshtein_distance(lv, rv) <= level.threshold
    return bool(set(lv) & set(rv))  # INTERSECT


def _equal(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a == b)


def level_index(comparison: FieldComparison, left: LinkageRecord, right: LinkageRecord) -> int:
    """The index (in `comparison.levels`) of the first level that holds for the pair."""
    for index, level in enumerate(comparison.levels):
        if level_holds(level, left, right):
            return index
    raise AssertionError(f"comparison {comparison.name} has no else level")
