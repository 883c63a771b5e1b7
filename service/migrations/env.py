"""Alembic environment: run migrations on the connection or URL the service hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from service.models import Base

config = context.config


def run() -> None:
    """Run migrations online, on a given connection or a fresh engine for the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _migrate(fresh)
    engine.dispose()


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


run()
