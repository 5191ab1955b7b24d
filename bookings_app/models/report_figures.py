"""The payment report's figures kept per session, and the marks that say which are out of date.

A month's report reads some 14,000 bookings with their orders, payments, attendance and the
desk's actions (``selectors.reports_facts``): 150–250 ms every time, though almost all of it —
last week's sessions, last month's — has not changed since the report was last read.
:class:`ReportSessionFigures` keeps each session's facts rows counted and summed by the words a
report can filter on (``selectors.reports_cache``), so a report adds up kept numbers and works
out only the sessions something has changed at since.

**What says a session changed** is the database, not the code that writes: triggers on every
table the facts read (bookings, sessions, services, attendance, order lines, orders, payments,
desk actions, write-offs — migration ``0018_report_figures``) add a :class:`ReportMark` row for
the session (or, for a course booking, a course's price or its sessions, the service: all its
sessions) whenever a row is added, removed, or a column the facts read changes. Whoever writes —
the sync's upserts, a desk action, the worker, a bulk update, a data migration, a hand-written
SQL fix — the mark is made in the same transaction as the change, so it cannot be lost or seen
before the change. The marks are a plain log (no unique key: adding one never waits on another
transaction); the report and every worker poll fold them in (``reports_cache.marks_fold``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ReportMark(models.Model):
    """Something at this session (or at every session of this service) changed since its figures
    were kept. Written only by the database's triggers."""

    session_id = models.BigIntegerField(null=True, blank=True)
    service_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"report mark: session {self.session_id} / service {self.service_id}"


class ReportSessionFigures(models.Model):
    """One session's report figures as last worked out: ``groups`` is a list of
    ``[status, way, att, payment_status, methods, count, people, due, c_cash, c_card, c_check,
    c_online, c_plan, c_other]`` (money in cents; ``methods`` a bit per method the rows took
    money by), one per distinct combination of the first five among its facts rows."""

    session_id = models.BigIntegerField(primary_key=True)
    groups = models.JSONField(default=list, blank=True)
    # Every report number of the session, unfiltered (``report_metrics.METRICS`` name → the
    # count, or cents): the groups added up once, for a report without row filters.
    sums = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"report figures of session {self.session_id}"
