"""Check ids reserved in blocks per process: unique across processes, above stored rows."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Engine, insert

from service.check_ids import CheckIds
from service.models import Check
from tests.service.conftest import Persona
from tests.service.test_writer import _rows, writer_of


def _engine(app: Flask) -> Engine:
    engine: Engine = app.extensions["spamward.engine"]
    return engine


def test_two_processes_never_get_the_same_id(app: Flask) -> None:
    one, other = CheckIds(_engine(app), block=3), CheckIds(_engine(app), block=3)
    taken = [i for _ in range(5) for i in one.take() + other.take(2)]
    assert len(taken) == 15
    assert len(set(taken)) == 15


def test_a_batch_larger_than_a_block_gets_all_its_ids_at_once(app: Flask) -> None:
    ids = CheckIds(_engine(app), block=10)
    taken = ids.take(3) + ids.take(25)
    assert len(set(taken)) == 28


def test_new_ids_are_above_checks_stored_without_one(app: Flask, alice: Persona) -> None:
    rows = _rows(app, alice.site_id, 3)
    for row in rows:
        del row["id"]  # as rows stored before ids were reserved
    with _engine(app).begin() as connection:
        connection.execute(insert(Check), rows)
        stored = [r.id for r in connection.execute(Check.__table__.select())]
    fresh = CheckIds(_engine(app)).take(5)
    assert min(fresh) > max(stored)


def test_a_forked_worker_does_not_hand_out_its_parents_ids(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = CheckIds(_engine(app), block=10)
    parents = ids.take(2)
    monkeypatch.setattr("service.check_ids.os.getpid", lambda: -1)
    childs = ids.take(8)
    assert not set(childs) & set(range(min(parents), min(parents) + 10))


def test_rows_stored_with_reserved_ids_keep_them(app: Flask, alice: Persona) -> None:
    writer = writer_of(app)
    rows = _rows(app, alice.site_id, 4)
    for row in rows:
        writer.submit(row)
    assert writer.flush(timeout=30)
    with _engine(app).connect() as connection:
        stored = {r.guid: r.id for r in connection.execute(Check.__table__.select())}
    assert stored == {row["guid"]: row["id"] for row in rows}


def test_rows_queued_without_an_id_get_one_when_stored(app: Flask, alice: Persona) -> None:
    writer = writer_of(app)
    rows = _rows(app, alice.site_id, 3)
    for row in rows[1:]:
        del row["id"]  # comment-checks: Akismet's answer carries no id
    for row in rows:
        writer.submit(row)
    assert writer.flush(timeout=30)
    with _engine(app).connect() as connection:
        stored = [r.id for r in connection.execute(Check.__table__.select())]
    assert len(set(stored)) == 3
    assert rows[0]["id"] in stored


def test_an_id_counts_as_issued_once_some_process_reserved_it(app: Flask) -> None:
    one, other = CheckIds(_engine(app), block=10), CheckIds(_engine(app), block=10)
    assert not one.was_issued(1)
    taken = one.take() + other.take()
    assert all(one.was_issued(i) for i in taken)
    assert other.was_issued(min(taken))
    assert not one.was_issued(max(taken) + 10)
