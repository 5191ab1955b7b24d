"""Lookups by lists of ids, and queries compiled to SQL once per process.

The roster reads everything about its rows by their ids: the contacts, attendance, order lines,
payments, desk actions and plans of 120 people. Two costs came with that, both in Python and
neither in the database:

- ``field__in=ids`` makes every id a parameter: each prepared by Django, quoted by psycopg into a
  statement too long for its cache, and the long statement parsed again by the server.
  :func:`ids_in` sends the list as one parameter instead: ``field = ANY(%s)`` with an array on
  PostgreSQL (the same plan as ``IN (…)``). Elsewhere it is the usual ``IN (…)``, unless the
  list is a slot of a precompiled query (below): then SQLite reads it as one JSON parameter.
- Building a queryset and compiling it to SQL cost Django 0.3–0.6 ms of CPU per query, more than
  PostgreSQL takes to run these lookups. A query whose only inputs are lists of ids — each an
  :class:`Ids` slot in its :func:`ids_in` — has the same SQL every time: :class:`Precompiled`
  compiles it on first use (per database) and afterwards only fills its slots. The rows still
  come through Django's own iterables (model instances, ``values_list``, the database's
  converters), from the compiler kept since.

``tests/selectors/test_precompiled.py`` holds a precompiled query to the answers of the same
queryset run as usual.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import F, Model, QuerySet
from django.db.models.lookups import In

T = TypeVar("T")


class Ids:
    """A named slot for a list of ids in a :class:`Precompiled` query's :func:`ids_in`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Ids({self.name!r})"


class _IdsIn(In):
    """``field__in=ids`` for integer ids, or for an :class:`Ids` slot filled when run."""

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, Ids):
            return self.rhs
        return [int(pk) for pk in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        if not isinstance(self.rhs, Ids):
            return super().as_sql(compiler, connection)
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"Ids slots are for PostgreSQL and SQLite, not {connection.vendor}.")
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, self.rhs)  # noqa: S608 (a column)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)


def ids_in(field: str, ids: Iterable[int] | Ids) -> In:
    """A filter for the rows whose integer ``field`` (a primary or foreign key, or a path to one:
    ``"member__contact_id"``) is one of ``ids`` — as ``field__in=ids`` means it — or one of the
    ids a :class:`Precompiled` query is run with for the slot ``ids``. For ``filter()``."""
    return _IdsIn(F(field), ids if isinstance(ids, Ids) else list(ids))


def ids_param(ids: Iterable[int], vendor: str) -> Any:
    """The value of an :class:`Ids` slot's one parameter: an array on PostgreSQL, JSON on SQLite."""
    values = [int(pk) for pk in ids]
    return values if vendor == "postgresql" else json.dumps(values)


class Precompiled(Generic[T]):
    """A query built by ``build`` (which takes no arguments: every input is an :class:`Ids` slot),
    compiled to SQL once per database and process, then run with ``run(slot=ids, …)``: a list
    of what the queryset yields (model instances, or tuples for ``values_list``).

    Thread-safe: what is kept (the SQL, its parameters, the compiler's description of the
    columns) is only read once made; each run gets its own compiler, on its own thread's
    connection."""

    def __init__(self, build: Callable[[], QuerySet[Any, T]]) -> None:
        self._build = build
        self._model: type[Model] | None = None  # known once built
        self._compiled: dict[str, tuple[QuerySet[Any, T], Any, str, tuple[Any, ...]]] = {}
        self._lock = threading.Lock()

    def _compile(self) -> tuple[QuerySet[Any, T], Any, str, tuple[Any, ...]]:
        found = self._compiled.get(router.db_for_read(self._model)) if self._model is not None else None
        if found is not None:
            return found
        with self._lock:
            queryset = self._build()
            self._model = queryset.model
            alias = queryset.db
            found = self._compiled.get(alias)
            if found is None:
                compiler = queryset.query.get_compiler(using=alias)
                sql, params = compiler.as_sql()  # also fills the compiler's columns (select, …)
                found = self._compiled[alias] = (queryset, compiler, sql, tuple(params))
        return found

    def run(self, **slots: Iterable[int]) -> list[T]:
        queryset, compiler, sql, params = self._compile()
        connection = connections[queryset.db]
        filled = tuple(ids_param(slots[p.name], connection.vendor) if isinstance(p, Ids) else p for p in params)
        ran = copy.copy(compiler)
        ran.connection = connection
        ran.as_sql = lambda *args, **kwargs: (sql, filled)
        fresh = queryset.all()
        fresh.query.get_compiler = lambda *args, **kwargs: ran  # Django's own iterable, this SQL
        return list(fresh)


def precompiled(build: Callable[[], QuerySet[Any, T]]) -> Precompiled[T]:
    """Decorate a function that builds a query of :class:`Ids` slots: it becomes its
    :class:`Precompiled` query (``.run(slot=ids)``)."""
    return Precompiled(build)
