"""Check ids handed out before the row is stored, so that an answer can carry the id of a check
that still waits in the background writer.

Each process reserves a block of ids in one short statement and hands them out from memory: on
PostgreSQL from the table's own sequence (what a plain INSERT would use), on SQLite from a
one-row counter that starts above the largest stored id. Every insert into `checks` takes its
id from here, so ids never collide across processes or instances. Ids are unique, not in time
order across processes: order checks by `created_at`. A restart leaves the rest of a block
unused. Blocks are 1,000 ids: on SQLite a reservation waits for other writers' transactions
(about 6 ms under load, measured), which a JSON check that needs an id then waits too; 100 ids
a block made that one check in a hundred.
"""

from __future__ import annotations

import os
import threading
from collections import deque

from sqlalchemy import Engine, text

RESERVE_ON_POSTGRESQL = text(
    "SELECT nextval(pg_get_serial_sequence('checks', 'id')) FROM generate_series(1, :count)"
)
# Above every stored id too: rows inserted before the counter existed keep theirs.
RESERVE_ON_SQLITE = text(
    "INSERT INTO check_id_counter (name, next_id) "
    "VALUES ('checks', (SELECT coalesce(max(id), 0) + 1 FROM checks) + :count) "
    "ON CONFLICT (name) DO UPDATE SET next_id = max(check_id_counter.next_id, "
    "(SELECT coalesce(max(id), 0) + 1 FROM checks)) + :count "
    "RETURNING next_id"
)
# The largest id ever handed out, or NULL; ids are handed out from sequence and counter only.
ISSUED_ON_POSTGRESQL = text(
    "SELECT pg_sequence_last_value(pg_get_serial_sequence('checks', 'id')::regclass)"
)
ISSUED_ON_SQLITE = text("SELECT next_id - 1 FROM check_id_counter WHERE name = 'checks'")


class CheckIds:
    """A process's supply of check ids, refilled a block at a time."""

    def __init__(self, engine: Engine, block: int = 1000) -> None:
        self.engine = engine
        self.block = block
        self._free: deque[int] = deque()
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def take(self, count: int = 1) -> list[int]:
        """`count` ids no other check has or will be given."""
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker must not hand out its parent's ids again.
                self._free.clear()
                self._pid = os.getpid()
            if len(self._free) < count:
                self._free.extend(self._reserve(max(self.block, count - len(self._free))))
            return [self._free.popleft() for _ in range(count)]

    def was_issued(self, check_id: int) -> bool:
        """Whether some process may have been given `check_id` (stored or not yet)."""
        postgres = self.engine.dialect.name == "postgresql"
        query = ISSUED_ON_POSTGRESQL if postgres else ISSUED_ON_SQLITE
        with self.engine.connect() as connection:
            issued = connection.scalar(query)
        return issued is not None and check_id <= int(issued)

    def _reserve(self, count: int) -> list[int]:
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                return [int(i) for i in connection.scalars(RESERVE_ON_POSTGRESQL, {"count": count})]
            end = int(connection.execute(RESERVE_ON_SQLITE, {"count": count}).scalar_one())
        return list(range(end - count, end))
