"""PostgreSQL's pooled connections are pinged only after lying idle (store/engine.py `_ping_after_idle`).

A connection in steady use goes straight to work (no ping: two of an audited read's six trips to the server were
pings); one left idle is tested on checkout, and one that the server has cut is replaced without the caller seeing
an error.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text

from joinedup.store import engine as engine_module
from joinedup.store.engine import make_engine

from ..support.postgres_server import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.admin_url  # any database will do: the tests ask only for their connection's server process


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _pings(engine: Engine) -> list[str]:
    sent: list[str] = []
    original = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        sent.append("ping")
        return original(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return sent


def test_a_connection_in_steady_use_is_not_pinged(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    pings = _pings(engine)
    first = _backend_pid(engine)
    assert [_backend_pid(engine) for _ in range(5)] == [first] * 5  # the same pooled connection each time
    assert pings == []
    engine.dispose()


def test_an_idle_connection_cut_by_the_server_is_replaced_unseen(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    pings = _pings(engine)
    cut = _backend_pid(engine)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # as a server restart or a firewall's idle timeout would
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut}).scalar_one()
    admin.dispose()
    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_SECONDS", 0.0)  # the pooled connection has lain idle
    replaced = _backend_pid(engine)  # no error reaches the caller
    assert replaced != cut
    assert pings  # it was the ping that found the cut connection
    engine.dispose()


def test_an_idle_connection_still_alive_is_pinged_and_kept(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    pings = _pings(engine)
    first = _backend_pid(engine)
    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_SECONDS", 0.0)
    assert _backend_pid(engine) == first
    assert pings == ["ping"]
    engine.dispose()
