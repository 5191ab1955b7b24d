"""The sandbox's state: plain dict entities in named collections.

Every write goes through :meth:`SandboxState.put` / :meth:`SandboxState.delete`, which is what
lets the state persist. With a ``path`` the state lives in a SQLite file (stdlib ``sqlite3``):
each request runs inside :meth:`transaction`, which takes SQLite's write lock, first applies
what other processes wrote since this process last looked (a global sequence number per row),
and at the end writes back only the entities this request changed. So the web process, the
worker and a standalone server can share one sandbox and agree after a restart. Without a
``path`` (tests) the state is in memory only.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

COLLECTIONS = (
    "services",
    "staff_members",
    "resources",
    "locations",
    "events",  # Calendar V3 events (class sessions, course sessions, appointments)
    "contacts",
    "members",
    "bookings",
    "multi_service_bookings",
    "attendances",
    "checkouts",
    "carts",  # eCommerce Cart V2
    "orders",
    "order_transactions",  # keyed by order id: {id, orderId, payments[], refunds[]}
    "plans",
    "plan_orders",
    "programs",
    "pools",
    "balances",  # keyed by pool id (balance id == pool id)
    "benefit_transactions",
    "meta",  # counters and settings, e.g. {"id": "order_number", "value": 10000}
)


class SandboxState:
    def __init__(
        self,
        path: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        self._data: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        self._dirty: set[tuple[str, str]] = set()
        # Secondary indexes: coll -> name -> (keys_of, key -> ids); see lookup().
        self._indexes: dict[str, dict[str, tuple[Callable[[dict[str, Any]], Iterable[Any]], dict[Any, set[str]]]]] = {}
        # First previous value of each entity changed in the current transaction, for rollback.
        self._undo: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        # Seeded ids make tests and the demo reproducible; None uses real randomness.
        self._rng = random.Random(seed) if seed is not None else None
        self._seen_seq = 0
        self._depth = 0
        self.path = path
        self._conn: sqlite3.Connection | None = None
        if path:
            self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # A demo emulator: a crash may lose the last write, never corrupt the file.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS entities ("
                " coll TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT,"
                " PRIMARY KEY (coll, id))"
            )
            self._conn.execute("CREATE INDEX IF NOT EXISTS entities_seq ON entities (seq)")
            with self.transaction():
                pass

    # -- time and ids ---------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock

    def new_id(self) -> str:
        if self._rng is not None:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        return str(uuid.uuid4())

    def next_counter(self, name: str, start: int = 10000) -> int:
        row = self.get("meta", name) or {"id": name, "value": start}
        row = {**row, "value": int(row["value"]) + 1}
        self.put("meta", row)
        return row["value"]

    # -- entities -------------------------------------------------------------------------

    def get(self, coll: str, entity_id: str | None) -> dict[str, Any] | None:
        if not entity_id:
            return None
        return self._data[coll].get(entity_id)

    def edit(self, coll: str, entity_id: str | None) -> dict[str, Any] | None:
        """A private deep copy to change and then :meth:`put` (``get`` returns the live row)."""
        entity = self.get(coll, entity_id)
        return copy.deepcopy(entity) if entity is not None else None

    def put(self, coll: str, entity: dict[str, Any]) -> dict[str, Any]:
        self._remember(coll, entity["id"])
        self._set(coll, entity["id"], entity)
        return entity

    def delete(self, coll: str, entity_id: str) -> None:
        self._remember(coll, entity_id)
        self._set(coll, entity_id, None)

    def _set(self, coll: str, entity_id: str, entity: dict[str, Any] | None) -> None:
        """The one place rows change, so the secondary indexes stay right."""
        previous = self._data[coll].get(entity_id)
        for keys_of, index in self._indexes.get(coll, {}).values():
            if previous is not None:
                for key in keys_of(previous):
                    ids = index.get(key)
                    if ids is not None:
                        ids.discard(entity_id)
            if entity is not None:
                for key in keys_of(entity):
                    index.setdefault(key, set()).add(entity_id)
        if entity is None:
            self._data[coll].pop(entity_id, None)
        else:
            self._data[coll][entity_id] = entity

    def lookup(
        self, coll: str, index: str, keys_of: Callable[[dict[str, Any]], Iterable[Any]], key: Any
    ) -> list[dict[str, Any]]:
        """Entities of ``coll`` whose ``keys_of(entity)`` contains ``key``, via a kept index.

        The index ``index`` is built on first use and kept up to date on every write, so a
        handler can find "the bookings of this session" without scanning every booking.
        ``keys_of`` must be the same function for the same index name.
        """
        by_coll = self._indexes.setdefault(coll, {})
        if index not in by_coll:
            built: dict[Any, set[str]] = {}
            for entity_id, entity in self._data[coll].items():
                for k in keys_of(entity):
                    built.setdefault(k, set()).add(entity_id)
            by_coll[index] = (keys_of, built)
        rows = self._data[coll]
        return [rows[i] for i in sorted(by_coll[index][1].get(key, ())) if i in rows]

    def _remember(self, coll: str, entity_id: str) -> None:
        key = (coll, entity_id)
        if self._depth and key not in self._undo:
            previous = self._data[coll].get(entity_id)
            self._undo[key] = copy.deepcopy(previous)
        self._dirty.add(key)

    def all(self, coll: str) -> list[dict[str, Any]]:
        return list(self._data[coll].values())

    def find(self, coll: str, pred: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [e for e in self._data[coll].values() if pred(e)]

    def count(self, coll: str) -> int:
        return len(self._data[coll])

    # -- persistence ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run one request atomically: catch up, act, write back what changed.

        Nested calls join the outer transaction. On an exception nothing is written and every
        entity the request changed is put back as it was, so a rejected request changes nothing.
        """
        with self._lock:
            self._depth += 1
            outer = self._depth == 1
            try:
                if outer and self._conn is not None:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._catch_up()
                yield
                if outer:
                    self._flush()
                    if self._conn is not None:
                        self._conn.execute("COMMIT")
            except BaseException:
                if outer:
                    if self._conn is not None:
                        self._conn.execute("ROLLBACK")
                    for (coll, entity_id), previous in self._undo.items():
                        self._set(coll, entity_id, previous)
                    self._dirty.clear()
                    self._undo.clear()
                raise
            finally:
                self._depth -= 1

    def _catch_up(self) -> None:
        assert self._conn is not None
        rows = self._conn.execute(
            "SELECT coll, id, seq, body FROM entities WHERE seq > ? ORDER BY seq", (self._seen_seq,)
        ).fetchall()
        for coll, entity_id, seq, body in rows:
            if coll not in self._data:
                continue
            self._set(coll, entity_id, None if body is None else json.loads(body))
            self._seen_seq = max(self._seen_seq, seq)

    def _flush(self) -> None:
        if self._conn is not None and self._dirty:
            (max_seq,) = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM entities").fetchone()
            seq = max(max_seq, self._seen_seq)
            rows = []
            for coll, entity_id in sorted(self._dirty):
                seq += 1
                entity = self._data[coll].get(entity_id)
                rows.append((coll, entity_id, seq, None if entity is None else json.dumps(entity)))
            self._conn.executemany(
                "INSERT INTO entities (coll, id, seq, body) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (coll, id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
                rows,
            )
            self._seen_seq = seq
        self._dirty.clear()
        self._undo.clear()

    def copy_from(self, other: SandboxState) -> None:
        """Write every entity of ``other`` into this state in one transaction (bulk loading)."""
        with self.transaction():
            for coll in COLLECTIONS:
                for entity in other.all(coll):
                    self.put(coll, entity)

    def is_empty(self) -> bool:
        return not any(self._data[c] for c in COLLECTIONS if c != "meta")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
