"""Inserting many check rows at once through the database driver.

SQLAlchemy's `insert(Check)` with a list of rows costs about twice the CPU of the driver doing
the same (measured with the seed comments' rows: on SQLite about 20 µs a row against 11; on
PostgreSQL about 30 µs of client CPU and 40-60 µs of server CPU against 10 and 20-30 with
COPY). The background writer, the batch endpoint and the in-line store (writer off or
backlogged) store every check through here:

- SQLite: one prepared INSERT, run by the driver's `executemany` (`exec_driver_sql`);
- PostgreSQL with psycopg: `COPY checks (...) FROM STDIN`, one row at a time into the stream;
- any other database or driver, or rows whose keys differ: SQLAlchemy's own insert (which
  refuses rows whose keys differ, with its own error).

Values go through the columns' own bind processors, so that what is stored is what
SQLAlchemy's insert stores (JSON by the engine's serializer, datetimes as SQLite's text).
A driver error from COPY is raised as SQLAlchemy's exception for it, as `execute` would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, insert
from sqlalchemy.exc import DBAPIError

from service.models import Check

_TABLE = Check.__table__
_INSERT = insert(Check)
Processor = Callable[[Any], Any] | None


def insert_checks(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert check rows, each with the same keys (its id among them), in the connection's
    transaction."""
    if not rows:
        return
    keys = tuple(rows[0])
    dialect = connection.dialect
    if not _plain(dialect, keys, rows):
        connection.execute(_INSERT, list(rows))
    elif dialect.name == "sqlite":
        connection.exec_driver_sql(_statement(dialect, keys), _values(dialect, keys, rows))
    else:
        _copy(connection, keys, rows)


def _plain(dialect: Dialect, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]) -> bool:
    """Whether the driver's own way applies: a known driver, columns' keys, the same in all."""
    driver_known = dialect.name == "sqlite" or (
        dialect.name == "postgresql" and dialect.driver == "psycopg"
    )
    return (
        driver_known
        and all(key in _TABLE.c for key in keys)
        and all(tuple(row) == keys for row in rows)
    )


@functools.lru_cache(maxsize=16)
def _statement(dialect: Dialect, keys: tuple[str, ...]) -> str:
    """SQLite's prepared INSERT or PostgreSQL's COPY for these columns, built once per key set.

    The columns' names are quoted where the database needs it (the keys are column keys).
    """
    columns = ", ".join(dialect.identifier_preparer.quote(_TABLE.c[key].name) for key in keys)
    if dialect.name == "sqlite":
        marks = ", ".join("?" * len(keys))
        return f"INSERT INTO checks ({columns}) VALUES ({marks})"  # noqa: S608
    return f"COPY checks ({columns}) FROM STDIN"


def _values(
    dialect: Dialect, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Each row's values in the order of `keys`, as the columns' bind processors make them."""
    steps = list(zip(keys, _processors(dialect, keys), strict=True))
    return [tuple(row[k] if p is None else p(row[k]) for k, p in steps) for row in rows]


@functools.lru_cache(maxsize=16)
def _processors(dialect: Dialect, keys: tuple[str, ...]) -> tuple[Processor, ...]:
    """The bind processor of each column named in `keys` (None where values go as they are)."""
    return tuple(_TABLE.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys)


def _copy(connection: Connection, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows in (PostgreSQL, psycopg 3)."""
    dialect = connection.dialect
    sql = _statement(dialect, keys)
    error = dialect.loaded_dbapi.Error
    driver_connection: Any = connection.connection.driver_connection
    try:
        with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for values in _values(dialect, keys, rows):
                copy.write_row(values)
    except error as exc:
        raise DBAPIError.instance(sql, None, exc, error, dialect=dialect) from exc
