"""The population pages through the real app: who may see them, the charts with their tables, the case-finding
list with pseudonymised keys only, and its CSV download. Results come from a real refresh of the hand-built people.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from joinedup.app import create_app
from joinedup.population.case_finding import CSV_COLUMNS
from joinedup.population.refresh import refresh
from joinedup.population.sof.duckdb_runner import load_resources
from joinedup.population.trends import quarter_ends_before, record_snapshot
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore

from ..web import place as web_place
from ..web.conftest import sign_in_as
from .people import place

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def population_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("population") / "population.duckdb"
    con = duckdb.connect(str(path))
    load_resources(con, place())
    refresh(con, date(2024, 12, 31), history=quarter_ends_before(date(2024, 12, 31), 2))
    con.close()
    return path


@pytest.fixture(scope="module")
def app_client(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, population_db: Path
) -> Iterator[TestClient]:
    """One app for the module (a place to sign in to, the refreshed results, an analyst's account)."""
    tmp_path = tmp_path_factory.mktemp("population-pages")
    database = tmp_path / "joinedup.sqlite3"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    store = FhirStore(make_engine(url))
    web_place.load(store, web_place.place(people=4, entries=4))
    store.engine.dispose()
    settings = Settings(database_url=url, environment="test", export_dir=tmp_path / "exports",
                        population_db=population_db, served_on_loopback=True)  # fmt: skip
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        gate = client.app.state.services.gate  # type: ignore[attr-defined]
        # Analysts have no demo user: a local account with the analyst role.
        gate.accounts.create("analyst.one", PASSWORD, "Ana Lyst", "Practitioner/analyst-1", "analyst", None, None)
        yield client


@pytest.fixture
def pages(app_client: TestClient) -> TestClient:
    app_client.cookies.clear()  # each test starts signed out
    return app_client


def _sign_in_as_analyst(web: TestClient) -> None:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get("/sign-in").text)
    assert found is not None
    data = {"username": "analyst.one", "password": PASSWORD, "csrf": found.group(1), "next": "/"}
    assert web.post("/sign-in", data=data, follow_redirects=False).status_code == 303


def test_an_analyst_sees_the_charts_each_with_a_table(pages: TestClient) -> None:
    _sign_in_as_analyst(pages)
    overview = pages.get("/population")
    assert overview.status_code == 200
    page = overview.text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 5
    assert page.count('class="population-chart"') == 5 and page.count('<title id="') == 5
    for caption in ("Adults by age band, sex and level", "People by predicted risk", "Emergency admissions each month",
                    "Predicted and observed emergency admissions, by tenth of predicted risk"):  # fmt: skip
        assert caption in page
    assert 'href="/population"' in page  # the header links here for analysts
    for by, heading in (("neighbourhood", "Levels of need by neighbourhood"), ("practice", "by GP practice")):
        shares = pages.get(f"/population/shares?by={by}")
        assert shares.status_code == 200 and heading in shares.text and 'role="img"' in shares.text
    by_neighbourhood = pages.get("/population/shares?by=neighbourhood").text
    assert "ZS1" in by_neighbourhood
    # Three adults in all: every count is suppressed, and no share is worked out from one.
    assert "&lt;8" in by_neighbourhood and "%)" not in by_neighbourhood
    assert "&lt;8" in page and "counts of 1 to 7 are shown as &lt;8" in page


def test_trends_show_each_refreshed_date_with_its_table(pages: TestClient, population_db: Path) -> None:
    assert quarter_ends_before(date(2024, 12, 31), 2) == [date(2024, 6, 30), date(2024, 9, 30)]
    assert quarter_ends_before(date(2025, 2, 14), 1) == [date(2024, 12, 31)]
    _sign_in_as_analyst(pages)
    trend = pages.get("/population/trends")
    assert trend.status_code == 200
    page = trend.text
    assert page.count('class="population-chart"') == 2  # levels over time, and mean risk over time
    for when in ("30 June 2024", "30 September 2024", "31 December 2024"):
        assert f'<th scope="row">{when}</th>' in page
    assert "&lt;8" in page and "not shown (fewer than 8 adults)" in page  # three adults: all suppressed
    by_neighbourhood = pages.get("/population/trends?by=neighbourhood&group=ZS1")
    assert by_neighbourhood.status_code == 200 and "Trends over time: ZS1" in by_neighbourhood.text
    unknown = pages.get("/population/trends?by=practice&group=nowhere")  # falls back to the first practice
    assert unknown.status_code == 200
    con = duckdb.connect(str(population_db))
    try:
        before = con.execute("SELECT count(*), sum(people) FROM trend_snapshot").fetchone()
        record_snapshot(con)  # refreshing the same date again replaces its snapshot, never duplicates it
        assert con.execute("SELECT count(*), sum(people) FROM trend_snapshot").fetchone() == before
        dates = {r[0] for r in con.execute("SELECT DISTINCT index_date FROM trend_snapshot").fetchall()}
        assert dates == {date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)}
    finally:
        con.close()


def test_the_case_finding_list_shows_pseudonymised_keys_only(pages: TestClient, population_db: Path) -> None:
    _sign_in_as_analyst(pages)
    con = duckdb.connect(str(population_db), read_only=True)
    listed = [
        row[0] for row in con.execute("SELECT person_id FROM case_finding WHERE neighbourhood = 'ZS1'").fetchall()
    ]
    nhs_numbers = [row[0] for row in con.execute("SELECT nhs_number FROM v_patient WHERE nhs_number > ''").fetchall()]
    con.close()
    assert listed and nhs_numbers
    page = pages.get("/population/case-finding?neighbourhood=ZS1").text
    assert all(key in page for key in listed)
    assert not any(number in page for number in nhs_numbers)
    assert "ZS1 2AB" not in page and "1948-" not in page  # no postcode or birth date
    download = pages.get("/population/case-finding.csv?neighbourhood=ZS1")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="case-finding-ZS1.csv"' in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert tuple(rows[0]) == CSV_COLUMNS and [row[2] for row in rows[1:]] == listed
    assert pages.get("/population/case-finding?neighbourhood=NOWHERE").status_code == 404


def test_an_mdg_coordinator_may_see_the_pages_but_not_a_gp_or_resident(pages: TestClient) -> None:
    sign_in_as(pages, "mdg-coordinator")
    assert pages.get("/population/case-finding").status_code == 200
    sign_in_as(pages, "gp")
    assert pages.get("/population").status_code == 403
    assert pages.get("/population/case-finding.csv").status_code == 403
    sign_in_as(pages, "resident")
    assert pages.get("/population/case-finding").status_code == 403


def test_signed_out_visitors_go_to_sign_in(pages: TestClient) -> None:
    response = pages.get("/population", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
