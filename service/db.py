"""The database: one engine per app, a session per request, and migrations with Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.json_codec import stored_json

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if not url.startswith("sqlite"):
        return create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=5, json_serializer=stored_json
        )
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=stored_json)
    # SQLAlchemy's SQLite compiler drops table hints; ours renders them, so a query can say
    # `INDEXED BY` where SQLite's planner, without statistics, would pick a worse index.
    compiler = engine.dialect.statement_compiler
    engine.dialect.statement_compiler = type(
        "HintingSQLiteCompiler",
        (compiler,),
        {"get_from_hint_text": lambda self, table, text: text},
    )

    @event.listens_for(engine, "connect")
    def _tune(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        # WAL lets readers and one writer work at once; NORMAL sync is safe with WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration pointed at our migrations and this engine's URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def init_app(app: Flask, engine: Engine) -> None:
    """Keep the engine on the app and close each request's session at teardown."""
    app.extensions["spamward.engine"] = engine
    app.extensions["spamward.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    """The current app's engine."""
    engine: Engine = current_app.extensions["spamward.engine"]
    return engine


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["spamward.sessions"]()
    session: Session = g.db_session
    return session


def _close_session(_: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
