"""The drift page's narrow queries (``selectors.drift``), compiled once per process and database
connection, then run again with each read's moments.

Building and compiling a kind's query took Django about two milliseconds — seven kinds, a third of
the page's time in Python — and what changes from one read to the next is only the
:class:`~bookings_app.selectors.drift_cases.Window`'s four moments, which the SQL carries as
parameters. So a kind's query is compiled once with stand-in moments, and each read swaps its own
moments in for them. Before keeping it, the query is compiled a second time with other stand-ins:
kept only if the SQL is the same and the parameters differ exactly where the moments are (a
query that worked something else out of the moments would differ elsewhere, and is then always
built and compiled afresh). The rows go through the compiler's own converters and column order,
as ``values_list`` gives them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from bookings_app.selectors.drift_cases import Window

MOMENTS = tuple(f.name for f in fields(Window))
# Two sets of stand-ins no read ever has: each moment its own microsecond, a different year each set.
_STAND_INS = tuple(
    Window(**{name: datetime(year, 1, 1, 0, 0, 0, 100 + i, tzinfo=UTC) for i, name in enumerate(MOMENTS)})
    for year in (1971, 1972)
)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    moments: dict[int, str]  # the parameter's position → the moment it carries
    compiler: Any  # the SQLCompiler that made the SQL: its converters read the rows


_local = threading.local()  # each thread its own connection, so its own compiled queries


def narrow_rows(key: tuple[Any, ...], w: Window, make: Callable[[Window], QuerySet[Any]]) -> list[tuple[Any, ...]]:
    """The rows of ``make(w)`` (a ``values_list`` queryset), from its SQL compiled once for ``key``
    (what else shapes the query: the kind, the page size …)."""
    cache: dict[tuple[Any, ...], _Compiled | None] = getattr(_local, "compiled", None) or {}
    _local.compiled = cache
    full_key = (connection.alias, connection.vendor, *key)
    if full_key not in cache:
        cache[full_key] = _compile(make)
    compiled = cache[full_key]
    if compiled is None:
        return list(make(w))
    values = {name: _adapt(getattr(w, name)) for name in MOMENTS}
    params = [values[compiled.moments[i]] if i in compiled.moments else p for i, p in enumerate(compiled.params)]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    return list(compiled.compiler.results_iter(results=[fetched], tuple_expected=True))


def forget() -> None:
    """Compile again on the next read (tests that change what a query is made of)."""
    _local.compiled = {}


def _adapt(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _compile(make: Callable[[Window], QuerySet[Any]]) -> _Compiled | None:
    first, second = (make(w) for w in _STAND_INS)
    compiler = first.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    sql_again, params_again = second.query.get_compiler(connection=connection).as_sql()
    if sql != sql_again or len(params) != len(params_again):
        return None
    stand_ins = [{_adapt(getattr(w, name)): name for name in MOMENTS} for w in _STAND_INS]
    moments: dict[int, str] = {}
    for i, (one, other) in enumerate(zip(params, params_again, strict=True)):
        if _same(one, other):
            if _is_stand_in(one, stand_ins):
                return None
            continue
        name = _stand_in(one, stand_ins[0])
        if name is None or name != _stand_in(other, stand_ins[1]):
            return None  # something else differs with the moments: compile every time
        moments[i] = name
    # The columns in values_list's order, as the queryset itself would give them (Django 5.2
    # selects them in that order: ``Query.selected``).
    if list(getattr(first.query, "selected", None) or ()) != list(first._fields):  # noqa: SLF001 - values_list's names
        return None
    return _Compiled(sql, tuple(params), moments, compiler)


def _same(one: Any, other: Any) -> bool:
    """The same parameter in both compilations: equal, or (psycopg's ``Jsonb``, a JSON lookup's
    value, which compares by identity) wrapping equal values."""
    if one == other:
        return True
    return type(one) is type(other) and hasattr(one, "obj") and one.obj == other.obj


def _stand_in(value: Any, stand_ins: dict[Any, str]) -> str | None:
    try:
        return stand_ins.get(value)
    except TypeError:  # not hashable: no stand-in
        return None


def _is_stand_in(value: Any, stand_ins: list[dict[Any, str]]) -> bool:
    return any(_stand_in(value, s) is not None for s in stand_ins)
