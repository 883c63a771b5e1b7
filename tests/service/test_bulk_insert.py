"""Check rows inserted through the driver (executemany on SQLite, COPY on PostgreSQL) read back
exactly as rows inserted by SQLAlchemy's own insert do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from model import Decision
from service.bulk_insert import insert_checks
from service.checking import Verdict, check_row
from service.db import get_session
from service.models import Check
from tests.service.conftest import Persona

# What stored text must survive: quotes, backslashes, tabs and newlines (COPY's own syntax),
# non-ASCII, and JSON with nesting, floats and nulls.
AWKWARD_TEXT = 'Tab\there, "quotes", back\\slash, \\N, new\nline, Zoë ✓ — 日本語'
EXPLANATION = {"tokens": [{"token": "zoë", "weight": 0.1234}], "rules": [], "bias": -1e-05}


def _rows(app: Flask, site_id: int, count: int, **overrides: Any) -> list[dict[str, Any]]:
    verdict = Verdict(0.8125, Decision.UNSURE, True, EXPLANATION)
    created = datetime(2026, 11, 26, 18, 30, 15, 123456, tzinfo=UTC)
    ids = app.extensions["spamward.check_ids"].take(count)
    fields = {"comment_content": AWKWARD_TEXT, "comment_author": "Zoë", "is_test": "1"}
    return [
        {**check_row(site_id, fields, verdict, "m-1", "api", created, ids[n]), **overrides}
        for n in range(count)
    ]


def _stored(app: Flask, ids: list[int]) -> list[dict[str, Any]]:
    """The stored rows, every column but id and guid, in the order of `ids`."""
    with app.app_context():
        checks = get_session().scalars(select(Check).where(Check.id.in_(ids))).all()
        by_id = {c.id: c for c in checks}
        columns = [c.key for c in Check.__table__.columns if c.key not in ("id", "guid")]
        return [{key: getattr(by_id[i], key) for key in columns} for i in ids]


def test_rows_inserted_through_the_driver_read_back_as_sqlalchemys_insert_stores_them(
    app: Flask, alice: Persona
) -> None:
    ours, theirs = _rows(app, alice.site_id, 3), _rows(app, alice.site_id, 3)
    with app.app_context():
        connection = get_session().connection()
        insert_checks(connection, ours)
        connection.execute(insert(Check), theirs)
        get_session().commit()
    stored = _stored(app, [r["id"] for r in ours])
    assert stored == _stored(app, [r["id"] for r in theirs])
    assert stored[0]["content"] == AWKWARD_TEXT
    assert stored[0]["fields"]["comment_author"] == "Zoë"
    assert stored[0]["explanation"] == EXPLANATION
    assert (stored[0]["decision"], stored[0]["discard"], stored[0]["is_test"]) == (
        "unsure",
        True,
        True,
    )


def test_a_row_breaking_a_constraint_raises_sqlalchemys_integrity_error_and_stores_nothing(
    app: Flask, alice: Persona
) -> None:
    rows = _rows(app, alice.site_id, 3)
    rows[2]["guid"] = rows[0]["guid"]
    with app.app_context():
        session = get_session()
        with pytest.raises(IntegrityError):
            insert_checks(session.connection(), rows)
        session.rollback()
    with app.app_context():
        assert get_session().scalars(select(Check.id)).all() == []


def test_rows_whose_keys_differ_are_refused_as_sqlalchemys_insert_refuses_them(
    app: Flask, alice: Persona
) -> None:
    rows = _rows(app, alice.site_id, 2)
    del rows[1]["content"]
    with app.app_context(), pytest.raises(StatementError, match="content"):
        insert_checks(get_session().connection(), rows)


def test_sqlite_gets_one_prepared_insert_and_postgresql_a_copy_with_no_insert(
    app: Flask, alice: Persona
) -> None:
    engine = app.extensions["spamward.engine"]
    statements: list[tuple[str, bool]] = []

    def record(*args: Any) -> None:
        statements.append((args[2], args[5]))  # the statement, and whether executemany

    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            insert_checks(get_session().connection(), _rows(app, alice.site_id, 3))
            get_session().commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inserts = [(sql, many) for sql, many in statements if "INSERT INTO checks" in sql]
    if engine.dialect.name == "sqlite":
        assert inserts == [(inserts[0][0], True)]
        assert inserts[0][0].endswith("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    else:
        assert inserts == []
    with app.app_context():
        assert len(get_session().scalars(select(Check.id)).all()) == 3


def test_no_rows_is_nothing_to_do(app: Flask) -> None:
    with app.app_context():
        insert_checks(get_session().connection(), [])
        assert get_session().scalars(select(Check.id)).all() == []
