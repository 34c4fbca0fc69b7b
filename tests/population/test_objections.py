"""Secondary use honours objections in the population figures (decision 0403): people who opted out of secondary
use, or objected to sharing, leave no trace in any figure, on every DuckDB path the refresh has (the loaded
`resources` table, ndjson read in place, and the incremental extract), and through the pages.

The oracle needs no hand-typed figures: the golden place (people.py) with two objectors added must give exactly
the tables of the golden place alone. The objectors are built to count if they were counted: each has records
that make them a case-finding candidate, one of them with a second source record (another organisation, the same
NHS number) that carries no objection itself.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.population.loading import NdjsonSource
from joinedup.population.refresh import refresh
from joinedup.population.sof.duckdb_runner import load_resources
from joinedup.population.web import results
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ..web import place as web_place
from ..web.conftest import sign_in_as
from .people import OLIVE, PERCY, objectors, place

INDEX = date(2024, 12, 31)
# Every table the refresh leaves for the pages, and the views under them.
FIGURES = (
    "v_patient", "v_person_link", "v_condition", "v_encounter", "v_admission", "v_medication", "v_observation",
    "v_service", "v_care_home_residence", "v_death", "v_consent", "person_map", "person", "person_features", "risk",
    "segment", "case_finding", "trend_snapshot",
)  # fmt: skip


OBJECTOR_RECORDS = {"gp-olive", "acute-olive", "gp-percy"}
OBJECTOR_PEOPLE = {f"nhs-{hashlib.md5(n.encode()).hexdigest()[:16]}" for n in (OLIVE, PERCY)}


def _write_ndjson(folder: Path, resources: list[dict[str, Any]]) -> Path:
    by_source: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for resource in resources:
        source = str((resource.get("meta") or {}).get("source", "gp")).rsplit("/", 1)[-1]
        by_source[(source, resource["resourceType"])].append(orjson.dumps(resource))
    for (source, resource_type), lines in by_source.items():
        (folder / source).mkdir(parents=True, exist_ok=True)
        (folder / source / f"{resource_type}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def _refreshed(path: str, resources: list[dict[str, Any]], folder: Path) -> duckdb.DuckDBPyConnection:
    """The refresh of these resources by one of the refresh's paths, in a DuckDB file in folder."""
    con = duckdb.connect(str(folder / "population.duckdb"))
    if path == "loaded table":
        load_resources(con, resources)
        refresh(con, INDEX)
    else:
        feeds = _write_ndjson(folder / "feeds", resources)
        refresh(con, INDEX, source=NdjsonSource(feeds), incremental=path == "incremental extract")
    return con


def _figures(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in FIGURES}


PATHS = ("loaded table", "ndjson in place", "incremental extract")


@pytest.mark.parametrize("path", PATHS)
def test_objectors_leave_no_trace_in_any_figure(path: str, tmp_path: Path) -> None:
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    with_objectors = _refreshed(path, place() + objectors(), tmp_path / "with")
    without = _refreshed(path, place(), tmp_path / "without")
    try:
        figures = _figures(with_objectors)
        assert figures == _figures(without)
        text = repr(figures)
        assert not any(key in text for key in OBJECTOR_RECORDS | OBJECTOR_PEOPLE)
        # The figures are not empty: the comparison above would prove little otherwise.
        assert figures["case_finding"] and figures["risk"] and figures["v_admission"]
        report = with_objectors.execute("SELECT report FROM refresh_report").fetchone()
        assert report is not None and orjson.loads(report[0])["withheld_people"] == 2
        assert results.admissions_trend(with_objectors) == results.admissions_trend(without)
    finally:
        with_objectors.close()
        without.close()


def test_a_withdrawn_objection_counts_the_person_again(tmp_path: Path) -> None:
    """The incremental extract keeps every record's rows, and only the views over them leave objectors out: when
    Olive's opt-out is withdrawn, the next refresh counts her (and Percy stays out)."""
    con = _refreshed("incremental extract", place() + objectors(), tmp_path)
    olive = f"nhs-{hashlib.md5(OLIVE.encode()).hexdigest()[:16]}"
    try:
        assert con.execute("SELECT count(*) FROM person WHERE person_id = ?", [olive]).fetchone() == (0,)
        consents = tmp_path / "feeds" / "acute" / "Consent.ndjson"
        withdrawn = {**orjson.loads(consents.read_bytes()), "status": "inactive"}
        consents.write_bytes(orjson.dumps(withdrawn) + b"\n")
        report = refresh(con, INDEX, source=NdjsonSource(tmp_path / "feeds"), incremental=True)
        assert report.extract is not None and report.extract.files_read == 1  # the Consent file alone
        assert report.withheld_people == 1
        people = {row[0] for row in con.execute("SELECT person_id FROM person").fetchall()}
        assert olive in people and not (OBJECTOR_PEOPLE - {olive}) & people
        listed = con.execute("SELECT count(*) FROM v_admission WHERE patient_id = 'acute-olive'").fetchone()
        assert listed == (2,)
    finally:
        con.close()


def _pages_app(folder: Path, template: Path, resources: list[dict[str, Any]]) -> TestClient:
    """The app over a refresh of these resources (the loaded-table path), signed in as an MDG coordinator."""
    _refreshed("loaded table", resources, folder).close()
    database = folder / "joinedup.sqlite3"
    shutil.copyfile(template, database)
    store = FhirStore(make_engine(f"sqlite:///{database}"))
    web_place.load(store, web_place.place(people=4, entries=4))  # the demo users' organisations, to sign in
    store.engine.dispose()
    settings = Settings(
        database_url=f"sqlite:///{database}",
        environment="test",
        export_dir=folder / "exports",
        population_db=folder / "population.duckdb",
        pseudonym_key_file=folder / "pseudonym.key",
        served_on_loopback=True,  # the demo sign-in is offered only on loopback (decision 0311)
    )
    return TestClient(create_app(settings), base_url="http://127.0.0.1:8000")


@pytest.fixture(scope="module")
def both_apps(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, TestClient]]:
    """The pages over the golden place with the objectors, and over the golden place alone."""
    with_objectors = _pages_app(tmp_path_factory.mktemp("with-objectors"), sqlite_template, place() + objectors())
    without = _pages_app(tmp_path_factory.mktemp("without-objectors"), sqlite_template, place())
    with with_objectors, without:
        for client in (with_objectors, without):
            sign_in_as(client, "mdg-coordinator")
        yield with_objectors, without


PAGES = (
    "/population",
    "/population/shares?by=neighbourhood",
    "/population/shares?by=practice",
    "/population/trends",
    "/population/case-finding?neighbourhood=ZS1",
    "/population/case-finding.csv",
)


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_and_the_download_are_those_of_the_place_without_objectors(
    both_apps: tuple[TestClient, TestClient], url: str
) -> None:
    """Every figure on every page (probabilities, the calibration table and the listed keys included) and the CSV
    are exactly what the place without the objectors gives."""
    with_objectors, without = both_apps
    shown, wanted = with_objectors.get(url), without.get(url)
    assert shown.status_code == wanted.status_code == 200
    assert _without_tokens(shown.text) == _without_tokens(wanted.text)
    assert not any(key in shown.text for key in OBJECTOR_PEOPLE | OBJECTOR_RECORDS)
    if "case-finding" in url:
        assert "nhs-" in shown.text  # the list is not empty: someone is listed, and not them


def _without_tokens(page: str) -> str:
    """A page without its per-session form tokens (the two apps sign in separately)."""
    return re.sub(r'name="csrf" value="[^"]*"', 'name="csrf"', page)
