"""The test PostgreSQL server is a real server: version, JSONB, and it cleans up after itself."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from .postgres_server import PostgresServer


def test_a_real_postgresql_server_starts_serves_and_stops() -> None:
    server = PostgresServer()
    server.start()
    try:
        url = server.create_database("probe")
        engine = create_engine(url)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version_num")).scalar_one()
            value = conn.execute(text("""SELECT '{"a": {"b": 2}}'::jsonb #>> '{a,b}'""")).scalar_one()
        engine.dispose()
        assert int(version) >= 150000
        assert value == "2"
        server.drop_database("probe")
    finally:
        directory = server.directory
        server.stop()
    assert directory is None or not directory.exists()
