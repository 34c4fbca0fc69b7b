"""The test PostgreSQL server is a real server: version, JSONB, loopback only, and it cleans up after itself."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .postgres_server import ENV_URL, PostgresServer, find_pg_bin

pytestmark = pytest.mark.postgres


def _binaries_present() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or shutil.which("initdb") is not None


@pytest.fixture(autouse=True)
def _require_postgres() -> None:
    # Only a non-root developer machine without PostgreSQL may skip: as root (CI) a missing server is a failure.
    if not _binaries_present() and os.geteuid() != 0:
        pytest.skip("PostgreSQL binaries are absent and we are not root: run `sudo bash scripts/ensure-postgres.sh`")


def test_a_real_postgresql_server_starts_serves_and_stops() -> None:
    server = PostgresServer()
    server.start()
    directory = server.directory
    name = f"probe_{uuid.uuid4().hex[:8]}"
    try:
        url = server.create_database(name)
        assert make_url(url).drivername == "postgresql+psycopg"
        assert make_url(url).database == name
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar_one()
                version_num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
                conn.execute(text("CREATE TABLE doc (body jsonb NOT NULL)"))
                conn.execute(
                    text("INSERT INTO doc VALUES (CAST(:a AS jsonb)), (CAST(:b AS jsonb))"),
                    {
                        "a": '{"resourceType": "Patient", "name": [{"family": "Ó Briain"}]}',
                        "b": '{"resourceType": "Observation"}',
                    },
                )
                family = conn.execute(
                    text("SELECT body #>> '{name,0,family}' FROM doc WHERE body @> '{\"resourceType\": \"Patient\"}'")
                ).scalar_one()
                encoding = conn.execute(text("SHOW server_encoding")).scalar_one()
                listen = conn.execute(text("SHOW listen_addresses")).scalar_one()
                fsync = conn.execute(text("SHOW fsync")).scalar_one()
        finally:
            engine.dispose()
        assert version_num >= 150000, version
        assert family == "Ó Briain"
        assert encoding == "UTF8"
        if not os.environ.get(ENV_URL):
            assert listen == "127.0.0.1"
            assert fsync == "off"
        server.drop_database(name)
        admin = create_engine(server.admin_url)
        try:
            with admin.connect() as conn:
                left = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        finally:
            admin.dispose()
        assert left == 0
    finally:
        server.stop()
    assert server.directory is None
    if not os.environ.get(ENV_URL):
        assert directory is not None
        assert not directory.exists()


@pytest.mark.skipif(bool(os.environ.get(ENV_URL)), reason=f"{ENV_URL} is set: no local server is started")
def test_a_failed_start_reports_the_server_log_and_cleans_up() -> None:
    server = PostgresServer(settings={"shared_buffers": "'not a size'"})
    with pytest.raises(RuntimeError) as failure, server:
        pytest.fail("the server started with an invalid setting")
    message = str(failure.value)
    assert "shared_buffers" in message  # from the server log, not just pg_ctl's "could not start server"
    assert server.directory is None
    logged = re.search(r"--- server log \((.+?)\) ---", message)
    assert logged is not None, message
    assert not Path(logged.group(1)).parent.exists()


def test_find_pg_bin_finds_initdb_and_pg_ctl() -> None:
    bin_dir = find_pg_bin()
    assert (bin_dir / "initdb").exists()
    assert (bin_dir / "pg_ctl").exists()
