"""The payment report's figures, kept per session and worked out again only where something
changed (``models.report_figures``).

A session's kept figures are its facts rows (``selectors.reports_facts``) counted and summed by
everything a report can filter its rows on — status, way, attendance, payment status, and which
methods money came in by — so any report over any range and filters adds up from them exactly as
it would from the rows themselves (``reports.report_read``).

**Fresh, always.** The database's triggers write a :class:`~bookings_app.models.ReportMark` in
the same transaction as every change the facts read. Reading the figures (:func:`session_groups`)
first folds the marks in — takes them out of the log and forgets the figures of the sessions they
name — then works out, in one facts query, every session of the range that has no figures, and
keeps them. All of it in one transaction that only one reader (or fold) runs at a time (an
advisory lock on PostgreSQL; SQLite's write lock, ``transaction_mode=IMMEDIATE``), so:

* a change committed before the fold is seen by the facts query that follows it;
* a change committed after the fold read the log leaves its mark in the log, and the next read
  works that session out again;
* two readers never keep figures out of order (one could otherwise keep what it read before a
  change after the other had taken the change's mark).

Every worker poll folds the marks in too (:func:`marks_fold`, from ``tasks.worker_recover``), so
the log stays as small as the number of sessions touched between polls, and then works out last
and this month's sessions that have no figures (:func:`figures_warm`): a manager's report finds
them kept.
``tests/selectors/test_reports_cache.py`` holds the kept figures to figures worked out afresh
after every kind of write the app makes.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bookings_app.models import Booking, ReportMark, ReportSessionFigures, Session
from bookings_app.money import CENT
from bookings_app.selectors import reports_facts as facts
from bookings_app.selectors.precompiled import ids_in
from bookings_app.selectors.report_metrics import MEASURES, metrics_add
from bookings_app.selectors.reports_facts import Scope
from bookings_app.selectors.sessions import day_bounds

logger = logging.getLogger(__name__)

# A kept group: its words (what a report filters on), then its numbers — the count, then MEASURES.
WORDS = ("status", "way", "att", "payment_status", "methods")
MONEY_MEASURES = frozenset(MEASURES) - {"people"}
# ``methods``: one bit per method the group's rows took money by (``c_<method> <> 0``), and one
# each for rows with something due and something collected — the rows behind a money figure
# are those with some of it (``reports.Metric``), so the drill-down can count them from here.
METHOD_BITS = {method: 1 << i for i, method in enumerate(facts.METHODS)}
AMOUNT_BITS = {
    **{f"c_{method.lower()}": bit for method, bit in METHOD_BITS.items()},
    "due": 1 << len(METHOD_BITS),
    "collected": 1 << (len(METHOD_BITS) + 1),
}
_LOCK_KEY = 0x5245504F5254  # "REPORT": the advisory lock of the kept figures (PostgreSQL)


def session_groups(scope: Scope, *, sums: bool = False) -> dict[int, Any]:
    """Every session in ``scope``: its kept groups (:data:`WORDS`, the count, :data:`MEASURES`;
    money in cents) — or with ``sums``, every report number of it unfiltered (metric name → the
    count or cents) —, fresh: see the module's docstring. A session without bookings has none."""
    field = "sums" if sums else "groups"
    with transaction.atomic():
        _lock()
        _fold()
        ids = list(scope.sessions().order_by().values_list("pk", flat=True))
        in_scope = scope.sessions().order_by().values("pk")
        kept: dict[int, Any] = dict(
            ReportSessionFigures.objects.filter(session_id__in=in_scope).values_list("session_id", field)
        )
        missing = [pk for pk in ids if pk not in kept]
        if missing:
            made = _work_out(scope, missing)
            now = timezone.now()
            figures = [
                ReportSessionFigures(
                    session_id=pk, groups=made.get(pk, []), sums=_sums(made.get(pk, [])), computed_at=now
                )
                for pk in missing
            ]
            ReportSessionFigures.objects.bulk_create(figures, batch_size=500)
            kept.update((f.session_id, getattr(f, field)) for f in figures)
    return kept


def marks_fold() -> int:
    """Take the marks out of the log and forget the figures of the sessions they name (the next
    report works those out again). The number of marks taken."""
    with transaction.atomic():
        _lock()
        return _fold()


def figures_warm(*, today: date | None = None) -> int:
    """Work out the figures of last month's and this month's sessions that have none kept — what
    managers open most — so the first report after a deploy, or after a busy hour at the desk,
    does not wait for them. Every worker poll runs it after folding the marks in. The number of
    sessions in those two months."""
    today = today or timezone.localdate()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    return len(session_groups(Scope(start=start, end=end)))


def figures_forget() -> None:
    """Forget every session's kept figures: the next report works every session out again (the
    bench; and after rows were written with the database's triggers switched off, e.g. a
    ``pg_restore --disable-triggers`` of only some tables: ``manage.py shell -c "from
    bookings_app.selectors import reports_cache; reports_cache.figures_forget()"``)."""
    with transaction.atomic():
        _lock()
        _fold()
        ReportSessionFigures.objects.all().delete()


def _sums(groups: list[list[Any]]) -> dict[str, int]:
    """A session's report numbers, unfiltered: its groups added up by the metrics."""
    found: dict[str, int] = {}
    for group in groups:
        metrics_add(found, (group[0], group[1], group[2]), group[5:])
    return found


def money(cents: int) -> Decimal:
    """A kept amount (cents) as money."""
    return (Decimal(cents) / 100).quantize(CENT)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _fold() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ReportMark._meta.db_table} RETURNING session_id, service_id")  # noqa: S608
        marks = cursor.fetchall()
    if not marks:
        return 0
    sessions = {session for session, _ in marks if session is not None}
    services = {service for _, service in marks if service is not None}
    figures = ReportSessionFigures.objects
    if sessions:
        figures.filter(ids_in("session_id", sessions)).delete()
    if services:
        figures.filter(session_id__in=Session.objects.filter(ids_in("service_id", services)).values("pk")).delete()
        at_sessions = Booking.objects.filter(ids_in("service_id", services), session__isnull=False)
        figures.filter(session_id__in=at_sessions.values("session_id")).delete()
    return len(marks)


def _work_out(scope: Scope, ids: list[int]) -> dict[int, list[list[Any]]]:
    """The groups of these sessions (all within ``scope``'s range), from one facts query."""
    sql, params = facts.facts_sql(Scope(start=scope.start, end=scope.end, session_ids=tuple(ids)))
    bits = " + ".join(f"CASE WHEN f.{name} <> 0 THEN {bit} ELSE 0 END" for name, bit in AMOUNT_BITS.items())
    sums = ", ".join(f"SUM(f.{name})" for name in MEASURES)
    query = (
        f"SELECT f.sess, f.status, f.way, f.att, f.payment_status, {bits}, COUNT(*), {sums}"  # noqa: S608 - constants
        f" FROM ({sql}) f GROUP BY 1, 2, 3, 4, 5, 6"
    )
    made: dict[int, list[list[Any]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for sess, status, way, att, payment_status, methods, count, people, *amounts in cursor.fetchall():
            cents = [int(money_value(value) * 100) for value in amounts]
            made.setdefault(sess, []).append(
                [status, way, att, payment_status, methods, count, int(people or 0), *cents]
            )
    return made


def money_value(value: Any) -> Decimal:
    """An amount as the database gave it (SQLite: a float or an int) to the penny."""
    return Decimal(str(value or 0)).quantize(CENT)
