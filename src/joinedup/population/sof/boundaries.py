"""lowBoundary() and highBoundary() for decimals, dates, dateTimes and times (FHIRPath 2.0 / SQL on FHIR v2).

The type is taken from the element's name (valueDateTime, valueTime) where a choice element says it, otherwise
from the value's shape: a value is a date unless it carries a time. Date arithmetic is string work that reads the
same on DuckDB and Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .expressions import Compiler, Val


def boundary(compiler: Compiler, base: Val, low: bool) -> Val:
    from .expressions import Val

    d = compiler.d
    item = compiler.item(base).sql
    text = d.as_str(item)
    string_type = "VARCHAR" if d.name == "duckdb" else "string"
    element = base.element
    if element.endswith("Time") and not element.endswith("DateTime"):
        tail = (":00.000", ".000") if low else (":59.999", ".999")
        return Val(
            f"(CASE length({text}) WHEN 5 THEN {text} || '{tail[0]}' WHEN 8 THEN {text} || '{tail[1]}' "
            f"ELSE {text} END)",
            "str",
        )
    date_low = (
        f"(CASE length({text}) WHEN 4 THEN {text} || '-01-01' WHEN 7 THEN {text} || '-01' "
        f"ELSE substr({text}, 1, 10) END)"
    )
    cast = "TRY_CAST" if d.name == "duckdb" else "CAST"
    month_end = f"CAST(last_day({cast}({text} || '-01' AS DATE)) AS {string_type})"
    date_high = (
        f"(CASE length({text}) WHEN 4 THEN {text} || '-12-31' WHEN 7 THEN {month_end} ELSE substr({text}, 1, 10) END)"
    )
    day = date_low if low else date_high
    if element.endswith(("DateTime", "Instant")) or element in ("issued", "recorded", "lastUpdated"):
        clock = "T00:00:00.000+14:00" if low else "T23:59:59.999-12:00"
        return Val(f"(CASE WHEN length({text}) <= 10 THEN {day} || '{clock}' ELSE {text} END)", "str")
    raw = d.raw_text(item)
    decimals = f"CAST(CASE WHEN instr({raw}, '.') > 0 THEN length({raw}) - instr({raw}, '.') ELSE 0 END AS INTEGER)"
    sign = "-" if low else "+"
    # Rounded to 9 places (a constant scale: Spark needs one) to drop binary floating-point noise.
    number = f"round({d.as_num(item)} {sign} 0.5 * power(10, -{decimals}), 9)"
    return Val(
        f"(CASE WHEN {item} IS NULL THEN NULL WHEN {d.is_num(item)} THEN {d.from_num(number)} "
        f"ELSE {d.from_str(day)} END)",
        "item",
    )
