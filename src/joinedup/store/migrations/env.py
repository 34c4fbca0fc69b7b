"""Alembic environment: the URL comes from the caller's Settings (never from a global)."""

from __future__ import annotations

from alembic import context

from joinedup.store.engine import make_engine
from joinedup.store.schema import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "joinedup passes the database URL"

if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
