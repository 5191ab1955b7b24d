"""The drift page's narrow queries (``selectors.drift``), compiled once per process and database
connection, then run again with each read's moments.

Building and compiling a kind's query took Django about two milliseconds — seven kinds, a third of
the page's time in Python — and what changes from one read to the next is only the
:class:`Window`'s four moments, which the SQL carries as parameters (the class lives here so that
``drift_cases`` can read through this module too, with no import cycle). So a kind's query is
compiled once with stand-in moments, and each read swaps its own moments in for them. Before
keeping it, the query is compiled a second time with other stand-ins: kept only if the SQL is the
same and the parameters differ exactly where the moments are (a query that worked something else
out of the moments would differ elsewhere, and is then always built and compiled afresh). The
rows go through the compiler's own converters and column order, as ``values_list`` gives them.

The pages' rows (the cases' desk actions, line items … with what ``select_related`` joins in) are
read the same way by their pks (:func:`page_rows`), and so are what their words need (their
orders, what the bookings owe): compiled once for a number of pks (rounded up to a multiple of
``PK_STEP``, the last pk repeated to fill it), then run again with each page's. Building those
queries took Django about seven milliseconds a page, more than reading them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.utils import timezone


@dataclass(frozen=True)
class Window:
    """The moments every kind is measured against, worked out once per read."""

    now: datetime
    grace: datetime  # before this, a disagreement the sync could mend is not waited for any more
    stuck: datetime  # actions waiting (or needing attention) since before this are stuck
    since: datetime  # older than this is history

    @classmethod
    def at(cls, now: datetime | None = None) -> Window:
        now = now or timezone.now()
        return cls(
            now=now,
            grace=now - timedelta(minutes=settings.DRIFT_GRACE_MINUTES),
            stuck=now - timedelta(minutes=settings.DRIFT_STUCK_MINUTES),
            since=now - timedelta(days=settings.DRIFT_LOOKBACK_DAYS),
        )


MOMENTS = tuple(f.name for f in fields(Window))
# Two sets of stand-ins no read ever has: each moment its own microsecond, a different year each set;
# pks far beyond any table's, a different range each set.
_STAND_INS = tuple(
    Window(**{name: datetime(year, 1, 1, 0, 0, 0, 100 + i, tzinfo=UTC) for i, name in enumerate(MOMENTS)})
    for year in (1971, 1972)
)
_STAND_IN_PKS = (7_100_000_000_000_000, 7_200_000_000_000_000)
PK_STEP = 5  # a page's pks are padded to a multiple of this: a few compiled shapes, not one per count


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    moments: dict[int, str | int]  # the parameter's position → the moment (or the pk's place) it carries
    compiler: Any  # the SQLCompiler that made the SQL: its converters read the rows
    instances: bool  # model instances (``page_rows``), not tuples


_local = threading.local()  # each thread its own connection, so its own compiled queries


def narrow_rows(key: tuple[Any, ...], w: Window, make: Callable[[Window], QuerySet[Any]]) -> list[tuple[Any, ...]]:
    """The rows of ``make(w)`` (a ``values_list`` queryset), from its SQL compiled once for ``key``
    (what else shapes the query: the kind, the page size …)."""
    return _rows(key, lambda stand_in, _pks: make(stand_in), w, [])


def page_rows(key: tuple[Any, ...], pks: list[int], make: Callable[[list[int]], QuerySet[Any]]) -> list[Any]:
    """The rows of ``make(pks)`` — a queryset of model instances, or of ``values_list`` tuples,
    whose SQL holds each of ``pks`` once — from its SQL compiled once for ``key`` and the number
    of pks (rounded up to a multiple of ``PK_STEP``)."""
    if not pks:
        return list(make(pks))
    size = -(-len(pks) // PK_STEP) * PK_STEP
    padded = [*pks, *[pks[-1]] * (size - len(pks))]
    return _rows((*key, "pks", size), lambda _w, stand_in: make(stand_in), None, padded)


def _rows(
    key: tuple[Any, ...], make: Callable[[Any, list[int]], QuerySet[Any]], w: Window | None, pks: list[int]
) -> list[Any]:
    cache: dict[tuple[Any, ...], _Compiled | None] = getattr(_local, "compiled", None) or {}
    _local.compiled = cache
    full_key = (connection.alias, connection.vendor, *key)
    if full_key not in cache:
        cache[full_key] = _compile(make, len(pks))
    compiled = cache[full_key]
    if compiled is None:
        return list(make(w, pks))
    values: dict[str | int, Any] = dict(enumerate(pks))
    if w is not None:
        values.update({name: _adapt(getattr(w, name)) for name in MOMENTS})
    params = [values[compiled.moments[i]] if i in compiled.moments else p for i, p in enumerate(compiled.params)]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    if compiled.instances:
        return list(_instances(compiled.compiler, fetched))
    return list(compiled.compiler.results_iter(results=[fetched], tuple_expected=True))


def _instances(compiler: Any, fetched: list[Any]) -> Any:
    """Model instances from rows of ``compiler``'s SQL, as Django's ``ModelIterable`` makes them
    (the row's own columns, then what ``select_related`` joined, then the annotations)."""
    select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, connection.alias)
    for row in compiler.results_iter(results=[fetched]):
        obj = model.from_db(connection.alias, names, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in (annotations or {}).items():
            setattr(obj, name, row[position])
        yield obj


def forget() -> None:
    """Compile again on the next read (tests that change what a query is made of)."""
    _local.compiled = {}


def _adapt(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _compile(make: Callable[[Any, list[int]], QuerySet[Any]], pk_count: int) -> _Compiled | None:
    pk_sets = [[base + i for i in range(pk_count)] for base in _STAND_IN_PKS]
    first, second = (make(w, pks) for w, pks in zip(_STAND_INS, pk_sets, strict=True))
    compiler = first.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    sql_again, params_again = second.query.get_compiler(connection=connection).as_sql()
    if sql != sql_again or len(params) != len(params_again):
        return None
    stand_ins: list[dict[Any, str | int]] = [
        {**{_adapt(getattr(w, name)): name for name in MOMENTS}, **{pk: i for i, pk in enumerate(pks)}}
        for w, pks in zip(_STAND_INS, pk_sets, strict=True)
    ]
    moments: dict[int, str | int] = {}
    for i, (one, other) in enumerate(zip(params, params_again, strict=True)):
        if _same(one, other):
            if _is_stand_in(one, stand_ins):
                return None
            continue
        name = _stand_in(one, stand_ins[0])
        if name is None or name != _stand_in(other, stand_ins[1]):
            return None  # something else differs with the moments: compile every time
        moments[i] = name
    if sorted(i for i in moments.values() if isinstance(i, int)) != list(range(pk_count)):
        return None  # not every pk in the SQL once
    if first._prefetch_related_lookups or first._known_related_objects:  # noqa: SLF001 - read outside the SQL
        return None
    if first._iterable_class is ModelIterable:  # noqa: SLF001 - what the queryset gives
        return _Compiled(sql, tuple(params), moments, compiler, instances=True)
    # The columns in values_list's order, as the queryset itself would give them (Django 5.2
    # selects them in that order: ``Query.selected``).
    if first._iterable_class is not ValuesListIterable:  # noqa: SLF001 - as above
        return None
    if list(getattr(first.query, "selected", None) or ()) != list(first._fields):  # noqa: SLF001 - values_list's names
        return None
    return _Compiled(sql, tuple(params), moments, compiler, instances=False)


def _same(one: Any, other: Any) -> bool:
    """The same parameter in both compilations: equal, or (psycopg's ``Jsonb``, a JSON lookup's
    value, which compares by identity) wrapping equal values."""
    if one == other:
        return True
    return type(one) is type(other) and hasattr(one, "obj") and one.obj == other.obj


def _stand_in(value: Any, stand_ins: dict[Any, str | int]) -> str | int | None:
    if isinstance(value, bool):  # True == 1: never a pk's stand-in
        return None
    try:
        return stand_ins.get(value)
    except TypeError:  # not hashable: no stand-in
        return None


def _is_stand_in(value: Any, stand_ins: list[dict[Any, str | int]]) -> bool:
    return any(_stand_in(value, s) is not None for s in stand_ins)
