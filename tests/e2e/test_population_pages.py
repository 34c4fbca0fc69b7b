"""The population pages in a real browser: an MDG coordinator opens the overview (charts with their tables), the
shares by neighbourhood and the case-finding list, with axe-core on each. The app runs on its own server here, with
the DuckDB file a refresh of the hand-built people wrote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pytest
from playwright.sync_api import Page, expect

from joinedup.population.refresh import refresh
from joinedup.population.sof.duckdb_runner import load_resources
from joinedup.settings import Settings
from joinedup.store.engine import make_engine
from joinedup.store.fhir_store import FhirStore
from joinedup.store.migrate import upgrade

from ..population.people import place as population_place
from ..web import place
from .conftest import check_accessibility, serve
from .test_journey import sign_in

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def population_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("e2e-population")
    con = duckdb.connect(str(folder / "population.duckdb"))
    load_resources(con, population_place())
    refresh(con, date(2024, 12, 31), history=[date(2024, 9, 30)])
    con.close()
    url = f"sqlite:///{folder / 'place.sqlite3'}"
    upgrade(url)
    store = FhirStore(make_engine(url))
    place.load(store, place.place(people=4, entries=4))
    store.engine.dispose()
    yield from serve(lambda base: Settings(database_url=url, environment="test", export_dir=folder / "exports",
                                          base_url=base, population_db=folder / "population.duckdb",
                                          served_on_loopback=True))  # fmt: skip


def test_an_mdg_coordinator_reads_the_population_pages(page: Page, population_url: str) -> None:
    sign_in(page, population_url, "MDG coordinator")
    page.get_by_role("link", name="Population health").first.click()
    expect(page.get_by_role("heading", name="Population health", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Adults by age band and sex")).to_be_visible()
    expect(page.get_by_role("table", name="Adults by age band, sex and level")).to_be_visible()
    check_accessibility(page, "population-01-overview")

    page.get_by_role("link", name="By neighbourhood").click()
    expect(page.get_by_role("heading", name="Levels of need by neighbourhood")).to_be_visible()
    check_accessibility(page, "population-02-shares")

    page.get_by_role("link", name="Trends").click()
    expect(page.get_by_role("heading", name="Trends over time: Whole place")).to_be_visible()
    expect(
        page.get_by_role("table", name="Adults in each level and their mean predicted risk, by refresh date")
    ).to_be_visible()
    page.get_by_label("Show").select_option("neighbourhood")
    page.get_by_role("button", name="Show trends").click()
    expect(page.get_by_role("heading", name="Trends over time: ZS1")).to_be_visible()
    check_accessibility(page, "population-02b-trends")

    page.get_by_role("link", name="Case finding").click()
    expect(page.get_by_role("table", name="Case-finding list for ZS1")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the ZS1 list as CSV").click()
    assert download.value.suggested_filename == "case-finding-ZS1.csv"
    check_accessibility(page, "population-03-case-finding")
