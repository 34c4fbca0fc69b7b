"""psycopg keeps the parsed form of our longest kept statements (store/engine.py `_keep_long_statements_parsed`).

The setting is psycopg's module-level limit, so this fails loudly if a psycopg upgrade renames or drops it, rather
than date searches on PostgreSQL silently going back to being parsed on every request.
"""

from __future__ import annotations

from psycopg import _queries

from joinedup.fhir.search_request import parse_search
from joinedup.store.context import SYSTEM
from joinedup.store.engine import make_engine
from joinedup.store.search_compiler import matching_shape, page_query


def test_a_postgresql_engine_raises_psycopgs_statement_cache_limits_above_a_date_search() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")  # nothing connects until a query
    request = parse_search("Encounter", [("date", "ge2023-09-21"), ("date", "le2023-09-21")])
    shape = matching_shape(request, SYSTEM.visibility)
    compiled = page_query(request, shape.row, shape.conditions, index_lead=shape.index_lead()).compile(engine)
    assert len(str(compiled)) > 4096 or len(compiled.params) > 50  # beyond psycopg's own limits
    assert len(str(compiled)) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    engine.dispose()
