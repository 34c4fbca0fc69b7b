"""Keys from the index rows alone (decision 0016).

When the asker's visibility adds no condition, a search led by an index lookup takes its page's keys from the
lead's index rows, without a `resources` row per candidate. That is right only because index rows exist for live,
current versions alone: these tests hold the store to that (deletes, updates, a type's rows) on both databases,
and show which searches take the index path and which keep the row check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, literal

from joinedup.fhir.search_request import parse_search
from joinedup.store.context import SYSTEM, StoreContext
from joinedup.store.fhir_store import FhirStore
from joinedup.store.search_compiler import matching_shape, page_query


def _task(task_id: str, owner: str, status: str, *, on: str = "2024-03-01") -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "id": task_id,
        "status": status,
        "intent": "order",
        "owner": {"reference": owner},
        "authoredOn": on,
    }


def _ids(store: FhirStore, resource_type: str, pairs: list[tuple[str, str]], ctx: StoreContext = SYSTEM) -> list[str]:
    page = store.search(ctx, parse_search(resource_type, pairs))
    return [found["id"] for found in page.matches]


class _EveryRow:
    """A visibility that adds a condition which every row meets: the gated path, with the same answers."""

    def condition(self, resource_row: FromClause) -> ColumnElement[bool] | None:
        return resource_row.c.pk > literal(0)


def test_deleted_and_updated_resources_leave_no_index_rows_behind(store: FhirStore) -> None:
    for number in range(6):
        store.update(SYSTEM, "Task", f"t{number}", _task(f"t{number}", "Organization/o1", "requested"))
    store.delete(SYSTEM, "Task", "t1")
    store.update(SYSTEM, "Task", "t2", _task("t2", "Organization/o2", "requested"))
    store.update(SYSTEM, "Task", "t3", _task("t3", "Organization/o1", "completed"))
    pairs = [("owner", "Organization/o1"), ("status", "requested")]
    assert _ids(store, "Task", pairs) == ["t0", "t4", "t5"]
    gated = StoreContext(actor="test", visibility=_EveryRow())
    assert _ids(store, "Task", pairs, gated) == ["t0", "t4", "t5"]
    store.update(SYSTEM, "Task", "t1", _task("t1", "Organization/o1", "requested"))  # back after its delete
    assert _ids(store, "Task", pairs) == ["t0", "t1", "t4", "t5"]


def _condition(condition_id: str, codes: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": condition_id,
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": system, "code": code} for system, code in codes]},
    }


def test_a_resource_with_several_matching_index_rows_is_listed_once_and_pages_stay_whole(store: FhirStore) -> None:
    # the same code in two systems: two index rows of `code=X` for each Condition
    for number in range(7):
        codes = [("http://snomed.info/sct", "X"), ("http://example.org/local", "X")]
        store.update(SYSTEM, "Condition", f"c{number}", _condition(f"c{number}", codes))
    store.update(SYSTEM, "Condition", "c9", _condition("c9", [("http://snomed.info/sct", "Y")]))
    first = store.search(SYSTEM, parse_search("Condition", [("code", "X"), ("_count", "3")]))
    assert [found["id"] for found in first.matches] == ["c0", "c1", "c2"] and first.has_next
    last = store.search(SYSTEM, parse_search("Condition", [("code", "X"), ("_count", "3"), ("_offset", "6")]))
    assert [found["id"] for found in last.matches] == ["c6"] and not last.has_next
    counted = store.search(SYSTEM, parse_search("Condition", [("code", "X"), ("_summary", "count")]))
    assert counted.total == 7


def test_a_date_led_search_lists_a_resource_once_though_two_dates_match(store: FhirStore) -> None:
    for number in range(3):
        store.update(SYSTEM, "Task", f"t{number}", _task(f"t{number}", "Organization/o1", "requested"))
    pairs = [("authored-on", "ge2024-03-01"), ("authored-on", "le2024-03-01")]
    assert _ids(store, "Task", pairs) == ["t0", "t1", "t2"]
    assert store.search(SYSTEM, parse_search("Task", [*pairs, ("_total", "accurate")])).total == 3


def _keys_sql(pairs: list[tuple[str, str]], ctx: StoreContext = SYSTEM) -> str:
    request = parse_search("Task", pairs)
    shape = matching_shape(request, ctx.visibility)
    statement = page_query(request, shape.row, shape.conditions, index_lead=shape.index_lead())
    text = str(statement.compile())
    return text[: text.index(") AS page_keys")]


def test_which_searches_take_their_keys_from_the_index_rows() -> None:
    led = _keys_sql([("owner", "Organization/o1"), ("status", "requested")])
    assert "lead_rows" in led and "FROM resources" not in led
    # a visibility with a condition needs each candidate's row: the gate's condition is on it
    gated = _keys_sql([("owner", "Organization/o1")], StoreContext(actor="test", visibility=_EveryRow()))
    assert "lead_rows" not in gated and "FROM resources AS r" in gated
    # nothing leads a search by _id, or one of `:missing` only
    assert "lead_rows" not in _keys_sql([("_id", "t1")])
    assert "lead_rows" not in _keys_sql([("owner:missing", "true")])
    # a sort keeps the row (its sort values and order are worked out per candidate)
    request = parse_search("Task", [("owner", "Organization/o1"), ("_sort", "-authored-on")])
    shape = matching_shape(request, SYSTEM.visibility)
    sorted_sql = str(page_query(request, shape.row, shape.conditions, index_lead=shape.index_lead()).compile())
    assert "lead_rows" not in sorted_sql
