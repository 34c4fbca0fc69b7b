"""The loader's look-up of what is already stored is planned afresh on PostgreSQL (store/bulk_writer.py).

psycopg prepares a statement it has run five times, and PostgreSQL may then keep a generic plan for it. Chosen
while a load into an empty store had only begun, that plan was a sequential scan of `resources`, kept as the table
grew: three quarters of a 114,000-resource load's time (decision 0019). The look-up must never run on a generic
plan, however many batches a load has and whatever the table held when it started.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from joinedup.store import bulk_load
from joinedup.store.bulk_load import Loader
from joinedup.store.bulk_writer import EXISTING_LOOKUP_POSTGRES
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ..conftest import migrated_database
from ..fixtures import patient

pytestmark = pytest.mark.postgres

BATCH = 10
BATCHES = 12  # more than psycopg's prepare threshold (5) and PostgreSQL's custom-plan trial (5)


@pytest.fixture(params=["postgresql"])
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from migrated_database(request, tmp_path)


def _lookup_plans(engine: Engine) -> list[tuple[int, int]]:
    """(generic plans, custom plans) of the look-up as prepared on the connection the loader used."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE starts_with(statement, %(head)s)",
            {"head": EXISTING_LOOKUP_POSTGRES.split(" WHERE ")[0]},
        ).all()
    return [(int(generic), int(custom)) for generic, custom in rows]


def test_the_existing_lookup_never_runs_on_a_generic_plan(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_load, "BATCH_LINES", BATCH)
    feed = tmp_path / "feeds" / "gp"
    feed.mkdir(parents=True)
    (feed / "Patient.ndjson").write_bytes(
        b"\n".join(orjson.dumps(patient(f"p{n}")) for n in range(BATCH * BATCHES)) + b"\n"
    )
    # One pooled connection, so the statement psycopg prepared is on the connection asked afterwards.
    store = FhirStore(make_engine(postgres_url, pool_size=1))
    try:
        report = Loader(store, workers=1).load([feed])
        assert report.created == BATCH * BATCHES
        plans = _lookup_plans(store.engine)
        assert plans, "the look-up ran often enough to be prepared, on the connection asked"
        assert all(generic == 0 for generic, _custom in plans), plans
        assert sum(custom for _generic, custom in plans) >= BATCHES - 5
        again = Loader(store, workers=1).load([feed])  # and it still finds every resource: nothing written twice
        assert (again.created, again.unchanged) == (0, BATCH * BATCHES)
    finally:
        store.engine.dispose()
