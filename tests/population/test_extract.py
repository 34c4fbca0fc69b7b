"""An incremental refresh (views kept between runs, only changed files re-read) gives exactly the tables of a
from-scratch run, on a small generated place: first run, unchanged files, and files changed, added and removed."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from joinedup.population.loading import NdjsonSource
from joinedup.population.refresh import refresh
from joinedup.population.views_catalogue import VIEW_NAMES
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_place

INDEX = date(2024, 12, 31)
RESULT_TABLES = (
    *(f"v_{name}" for name in VIEW_NAMES),
    "person_map",
    "person",
    "person_features",
    "risk",
    "segment",
    "case_finding",
)


@pytest.fixture(scope="module")
def small_place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("place")
    generate_place(out, SynthConfig(people=300, seed=5))
    return out


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in RESULT_TABLES}


def _from_scratch(feeds: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect()
    refresh(con, INDEX, source=NdjsonSource(feeds))
    tables = _tables(con)
    con.close()
    return tables


def _change_feeds(feeds: Path) -> None:
    """A partner sends more encounters, one feed disappears and a new one arrives."""
    gp = feeds / "gp" / "Encounter.ndjson"
    first = orjson.loads(gp.read_bytes().splitlines()[0])
    extra = [{**first, "id": f"{first['id']}-again-{n}"} for n in range(3)]
    with gp.open("ab") as out:
        out.write(b"".join(orjson.dumps(resource) + b"\n" for resource in extra))
    (feeds / "voluntary" / "Encounter.ndjson").unlink()
    (feeds / "hospice").mkdir()
    shutil.copy(feeds / "acute" / "Condition.ndjson", feeds / "hospice" / "Condition.ndjson")


def test_incremental_refresh_matches_a_from_scratch_run(small_place: Path, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    shutil.copytree(small_place / "feeds", feeds)
    con = duckdb.connect(str(tmp_path / "population.duckdb"))

    cold = refresh(con, INDEX, source=NdjsonSource(feeds), incremental=True)
    assert cold.extract is not None and cold.extract.files_read > 0 and cold.extract.files_kept == 0
    assert _tables(con) == _from_scratch(feeds)

    warm = refresh(con, INDEX, source=NdjsonSource(feeds), incremental=True)
    assert warm.extract is not None
    assert (warm.extract.files_read, warm.extract.files_dropped) == (0, 0)
    assert warm.extract.files_kept == cold.extract.files_read

    _change_feeds(feeds)
    changed = refresh(con, INDEX, source=NdjsonSource(feeds), incremental=True)
    assert changed.extract is not None
    assert (changed.extract.files_read, changed.extract.files_dropped) == (2, 1)  # gp encounters, hospice; voluntary
    assert changed.view_rows["encounter"] == warm.view_rows["encounter"] + 3 - _lines(
        small_place / "feeds" / "voluntary" / "Encounter.ndjson"
    )
    assert _tables(con) == _from_scratch(feeds)
    con.close()


def _lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def test_the_extract_survives_reopening_the_database(small_place: Path, tmp_path: Path) -> None:
    database = tmp_path / "population.duckdb"
    con = duckdb.connect(str(database))
    refresh(con, INDEX, source=NdjsonSource(small_place / "feeds"), incremental=True)
    before = _tables(con)
    con.close()
    again = duckdb.connect(str(database))
    report = refresh(again, INDEX, source=NdjsonSource(small_place / "feeds"), incremental=True)
    assert report.extract is not None and report.extract.files_read == 0
    assert _tables(again) == before
    again.close()


def test_an_incremental_refresh_needs_a_folder_of_ndjson() -> None:
    with pytest.raises(ValueError, match="ndjson"):
        refresh(duckdb.connect(), INDEX, incremental=True)


def test_views_that_changed_since_the_extract_read_every_file_again(small_place: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "population.duckdb"))
    first = refresh(con, INDEX, source=NdjsonSource(small_place / "feeds"), incremental=True)
    before = _tables(con)
    con.execute("UPDATE extract_file SET signature = 'written by older views' WHERE resource_type = 'Encounter'")
    again = refresh(con, INDEX, source=NdjsonSource(small_place / "feeds"), incremental=True)
    assert first.extract is not None and again.extract is not None
    encounter_files = len(list((small_place / "feeds").glob("*/Encounter.ndjson")))
    assert again.extract.files_read == again.extract.files_dropped == encounter_files
    assert _tables(con) == before
    con.close()
