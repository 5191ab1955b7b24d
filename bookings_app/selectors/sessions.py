"""Sessions with their roster numbers: the Today list and a session's header."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Literal

from django.db.models import (
    BigIntegerField,
    Case,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings_app.models import Attendance, Booking, Session
from bookings_app.selectors.precompiled import Ids, ids_in, precompiled
from bookings_app.selectors.queries import desk_plan_q, outer_roster_q, written_off_q


def _sum(queryset: QuerySet, column: str) -> Coalesce:
    """SUM(column) over ``queryset`` as a scalar subquery (no GROUP BY), 0 when empty."""
    total = queryset.order_by().values(total=Func(F(column), function="SUM", output_field=IntegerField()))
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def _with_stats(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Annotate sessions with their roster numbers, all in the sessions' own query.

    Correlated subqueries rather than JOIN + Sum: a course session's bookings hang off the
    service, a class's off the event, and attendance off the session — joining several of
    those one-to-many paths at once would multiply rows and inflate the sums.

    The desk's own changes count before Wix has them: the mirror changed optimistically (payment
    status, attendance), and a plan charge on its way counts as plan (``queries.desk_plan_q``). A booking a
    manager wrote off is not "unpaid" any more (``written_off_count``), though Wix still says so.
    """
    active = Booking.objects.filter(
        outer_roster_q(),
        status__in=Booking.ACTIVE_STATUSES,
    )
    plan = desk_plan_q()
    # Checked in among the people on the roster: a booking cancelled after its check-in is not.
    attended = Attendance.objects.filter(
        session_id=OuterRef("pk"), status=Attendance.Status.ATTENDED, booking__status__in=Booking.ROSTER_STATUSES
    )
    pending = Booking.objects.filter(outer_roster_q(), pending_sync=True)
    # Plan, paid and written off in one pass over the bookings (``_MONEY_SHARES``): as three sums
    # each worked the plan test out again for every booking, most of the day list's time.
    share = Case(
        When(plan, then=Value(_MONEY_SHARES["plan_count"])),
        When(payment_status__in=Booking.SETTLED_PAYMENT_STATUSES, then=Value(_MONEY_SHARES["paid_count"])),
        When(written_off_q(), then=Value(_MONEY_SHARES["written_off_count"])),
        default=Value(0),
        output_field=BigIntegerField(),
    )
    money = (
        active.annotate(share=share)
        .order_by()
        .values(total=Func(F("total_participants") * F("share"), function="SUM", output_field=BigIntegerField()))
    )
    return sessions.select_related("service", "staff").annotate(
        places=Coalesce("capacity", "service__default_capacity"),
        booked=_sum(active, "total_participants"),
        money_shares=Coalesce(Subquery(money, output_field=BigIntegerField()), Value(0)),
        checked_in=_sum(attended, "number_of_attendees"),
        pending_count=Coalesce(
            Subquery(pending.order_by().values(n=Func(F("pk"), function="COUNT")), output_field=IntegerField()),
            Value(0),
        ),
    )


@functools.cache
def _sessions_with_stats() -> QuerySet[Session]:
    """Every session with its roster numbers (``_with_stats``), built once per process: building
    those subqueries costs more than running them, and every roster request needs them. Callers
    only derive querysets from it (``filter``, ``order_by``), which copies it; it is never
    evaluated itself, so it holds no rows and is safe to share between threads."""
    return _with_stats(Session.objects.all())


@precompiled
def _stats_by_ids() -> QuerySet[Session]:
    """Sessions by id with their roster numbers, in start order: the numbers' seven subqueries
    compiled to SQL once per process (compiling them cost 3 ms of CPU per request, a third of
    Today's main query), run with the ids of the sessions wanted."""
    return _sessions_with_stats().filter(ids_in("pk", Ids("sessions"))).order_by("start", "pk")


def _stats_for(pks: list[int]) -> list[Session]:
    """The sessions ``pks`` with every roster number, in start order."""
    return _with_unpaid(_stats_by_ids.run(sessions=pks)) if pks else []


@functools.cache
def _sessions_with_booked() -> QuerySet[Session]:
    """Sessions with ``places`` and ``booked`` only: what the walk-in search needs to say
    "full" (the other numbers' subqueries cost more to plan than the search itself)."""
    active = Booking.objects.filter(outer_roster_q(), status__in=Booking.ACTIVE_STATUSES)
    return Session.objects.select_related("service", "staff").annotate(
        places=Coalesce("capacity", "service__default_capacity"), booked=_sum(active, "total_participants")
    )


@functools.cache
def _sessions_plain() -> QuerySet[Session]:
    """Sessions with ``places`` but no roster numbers: the roster works those out from its rows
    (``roster_list.numbers_from_rows``)."""
    return Session.objects.select_related("service", "staff").annotate(
        places=Coalesce("capacity", "service__default_capacity")
    )


Numbers = Literal["all", "booked", "none"]


# Each booking's people counted in one of three parts of one 64-bit sum: plan (a plan charge
# first, whatever the payment status), else paid (settled), else written off — the order the
# three were counted in before. A part holds up to a million people, a session far fewer.
_MONEY_SHARES = {"plan_count": 1, "paid_count": 1 << 20, "written_off_count": 1 << 40}
_MONEY_PART = (1 << 20) - 1


def _with_unpaid(sessions: list[Session]) -> list[Session]:
    # Derived here rather than in SQL, where it would evaluate the three subqueries again.
    for session in sessions:
        shares = session.money_shares
        session.plan_count = shares & _MONEY_PART
        session.paid_count = (shares >> 20) & _MONEY_PART
        session.written_off_count = shares >> 40
        session.unpaid_count = session.booked - session.paid_count - session.plan_count - session.written_off_count
    return sessions


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and end of ``day`` in the business time zone, as aware datetimes."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def session_day_list(*, day: date, service_id: int | None = None, staff_id: int | None = None) -> list[Session]:
    """The day's sessions (classes, course sessions, appointments) in start order, each
    annotated with ``places``, ``booked``, ``paid_count``, ``plan_count``, ``unpaid_count``,
    ``written_off_count``, ``checked_in`` and ``pending_count`` — two queries (the day's ids,
    then their numbers)."""
    start, end = day_bounds(day)
    sessions = Session.objects.filter(start__gte=start, start__lt=end)
    if service_id is not None:
        sessions = sessions.filter(service_id=service_id)
    if staff_id is not None:
        sessions = sessions.filter(staff_id=staff_id)
    return _stats_for(list(sessions.values_list("pk", flat=True)))


def session_get(*, ref: str, numbers: Numbers = "all") -> Session | None:
    """A session by Wix event id, or by our pk for one not yet in Wix, with its roster numbers
    (``numbers="all"``), with ``places`` and ``booked`` only (``"booked"``), or with ``places``
    only (``"none"``: the caller works the numbers out itself)."""
    match = Q(wix_id=ref)
    if ref.isascii() and ref.isdigit() and len(ref) < 19:  # our pk: ASCII digits that fit a 64-bit key
        match |= Q(pk=int(ref))
    exact_wix_id_first = Case(When(wix_id=ref, then=Value(0)), default=Value(1))
    if numbers == "all":
        pk = Session.objects.filter(match).order_by(exact_wix_id_first).values_list("pk", flat=True).first()
        return _stats_for([pk])[0] if pk is not None else None
    base = {"booked": _sessions_with_booked, "none": _sessions_plain}[numbers]()
    return base.filter(match).order_by(exact_wix_id_first).first()


def session_upcoming_list(
    *, service_id: int, after: datetime, until: datetime, exclude_pk: int | None = None, limit: int = 30
) -> list[Session]:
    """The service's sessions starting in [``after``, ``until``), not cancelled and already in Wix
    (``exclude_pk`` left out), in start order, at most ``limit``, each with the roster numbers of
    ``session_day_list`` — one query."""
    sessions = (
        _sessions_with_stats()
        .filter(service_id=service_id, start__gte=after, start__lt=until, wix_id__isnull=False)
        .exclude(status__in=("CANCELLED", "CANCELED", "cancelled", "canceled"))
    )
    if exclude_pk is not None:
        sessions = sessions.exclude(pk=exclude_pk)
    return _with_unpaid(list(sessions.order_by("start", "pk")[:limit]))
