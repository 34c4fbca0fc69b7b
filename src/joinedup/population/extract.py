"""The views kept as typed columns between refreshes, re-read only from the input files that changed.

A view's rows each come from one resource, so the rows a file gives depend on that file alone. The first refresh
into a DuckDB file reads every ndjson file once and stores each view's rows in `x_<view>`, tagged with the file
they came from; `extract_file` records each file's size, modification time and the signature of the views that
read it. A later refresh stats the files and re-reads only those that are new or changed (dropping the rows of
the ones that are gone, and re-reading every file of a type whose views changed). `v_<view>` is then a SQL view
over `x_<view>` without the tag, so everything after the views reads compact columns, never JSON, and gets the
same tables as a from-scratch run (tests/population/test_extract.py checks both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from .loading import NdjsonSource, ndjson_relation
from .views_catalogue import VIEW_NAMES, ViewGroup, drop_relation, view_groups

MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS extract_file (
    file_no INTEGER PRIMARY KEY, resource_type VARCHAR, path VARCHAR, size BIGINT, mtime_ns BIGINT,
    signature VARCHAR)
"""
FILE_COLUMN = "extract_file_no"
# Raised whenever how a file is read changes in a way the views' SQL does not show (loading.ndjson_relation):
# every extracted file is then read again.
EXTRACT_FORMAT = "1"


@dataclass
class ExtractReport:
    """What one refresh of the extract did: files re-read, kept and dropped, and the rows of every view."""

    files_read: int = 0
    files_kept: int = 0
    files_dropped: int = 0
    bytes_read: int = 0
    view_rows: dict[str, int] | None = None


@dataclass(frozen=True)
class _Stored:
    file_no: int
    size: int
    mtime_ns: int
    signature: str


def refresh_views(
    con: duckdb.DuckDBPyConnection,
    source: NdjsonSource,
    progress: Callable[[str], None] | None = None,
) -> ExtractReport:
    """Bring `x_<view>` up to date with the files under source.folder and expose each as `v_<view>`."""
    con.execute(MANIFEST_DDL)
    report = ExtractReport(view_rows={})
    for group in view_groups(list(VIEW_NAMES)):
        _refresh_group(con, source, group, report)
        for view in group.views:
            names = ", ".join(f'"{column.name}"' for column in view.columns)
            drop_relation(con, f"v_{view.name}")
            con.execute(f"CREATE VIEW v_{view.name} AS SELECT {names} FROM x_{view.name}")
            row = con.execute(f"SELECT count(*) FROM x_{view.name}").fetchone()
            assert report.view_rows is not None
            report.view_rows[view.name] = int(row[0]) if row else 0
            if progress is not None:
                progress(view.name)
    return report


def _refresh_group(
    con: duckdb.DuckDBPyConnection, source: NdjsonSource, group: ViewGroup, report: ExtractReport
) -> None:
    signature = f"{EXTRACT_FORMAT}:{group.signature()}"
    stored = {
        str(path): _Stored(int(no), int(size), int(mtime), str(sig))
        for no, path, size, mtime, sig in con.execute(
            "SELECT file_no, path, size, mtime_ns, signature FROM extract_file WHERE resource_type = ?",
            [group.resource_type],
        ).fetchall()
    }
    present = {str(path.resolve()): path.stat() for path in source.files(group.resource_type)}
    _ensure_tables(con, group)
    if any(entry.signature != signature for entry in stored.values()):
        # The views changed since the extract was written: every file of the type is read again.
        for path in list(stored):
            _drop_file(con, group, stored.pop(path).file_no)
            report.files_dropped += 1
    for path in sorted(set(stored) - set(present)):
        _drop_file(con, group, stored[path].file_no)
        report.files_dropped += 1
    for path, stat in sorted(present.items()):
        entry = stored.get(path)
        if entry is not None and (entry.size, entry.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            report.files_kept += 1
            continue
        if entry is not None:
            _drop_file(con, group, entry.file_no)
        _read_file(con, group, path, stat.st_size, stat.st_mtime_ns, signature)
        report.files_read += 1
        report.bytes_read += stat.st_size


def _ensure_tables(con: duckdb.DuckDBPyConnection, group: ViewGroup) -> None:
    """`x_<view>` with the view's column types (taken from the view over no rows) and the file tag."""
    empty = ndjson_relation([], group.paths, group.needs_resource)
    for view in group.views:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS x_{view.name} AS "
            f"SELECT *, NULL::INTEGER AS {FILE_COLUMN} FROM ({group.sql(view, empty)}) LIMIT 0"
        )


def _drop_file(con: duckdb.DuckDBPyConnection, group: ViewGroup, file_no: int) -> None:
    con.execute("BEGIN TRANSACTION")
    for view in group.views:
        con.execute(f"DELETE FROM x_{view.name} WHERE {FILE_COLUMN} = ?", [file_no])
    con.execute("DELETE FROM extract_file WHERE file_no = ?", [file_no])
    con.execute("COMMIT")


def _read_file(
    con: duckdb.DuckDBPyConnection, group: ViewGroup, path: str, size: int, mtime_ns: int, signature: str
) -> None:
    """One file's rows into every view of its type, with its manifest entry, in one transaction."""
    relation = ndjson_relation([path], group.paths, group.needs_resource)
    con.execute("BEGIN TRANSACTION")
    row = con.execute("SELECT coalesce(max(file_no), 0) + 1 FROM extract_file").fetchone()
    file_no = int(row[0]) if row else 1
    if len(group.views) > 1:  # the views of one type share one read of the file
        con.execute(f"CREATE OR REPLACE TEMP TABLE view_roots AS SELECT * FROM {relation}")
        relation = "view_roots"
    for view in group.views:
        con.execute(f"INSERT INTO x_{view.name} SELECT *, {file_no} FROM ({group.sql(view, relation)})")
    con.execute(
        "INSERT INTO extract_file VALUES (?, ?, ?, ?, ?, ?)",
        [file_no, group.resource_type, path, size, mtime_ns, signature],
    )
    con.execute("COMMIT")
    con.execute("DROP TABLE IF EXISTS view_roots")
