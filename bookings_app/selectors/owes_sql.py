"""The owes list's SQL (``selectors.owes``): the bookings that may owe with their orders' balance
summed in SQL, and the reads by lists of ids of the list, its printout and its export, each
compiled to SQL once per process (``precompiled``): building and compiling a queryset costs
Django about half a millisecond of CPU, and a page of the list runs a dozen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Case, DecimalField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Value, When

from bookings_app import money
from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    Order,
    OrderLineItem,
    Service,
    Session,
)
from bookings_app.selectors.precompiled import Ids, Precompiled, ids_in, precompiled
from bookings_app.selectors.queries import written_off_q

_BOOKING_FIELDS = (
    "id",
    "wix_id",
    "session_id",
    "service_id",
    "contact_id",
    "status",
    "payment_status",
    "selected_payment_option",
    "total_participants",
    "pending_sync",
    "wix_created_at",
)
_SESSION_FIELDS = ("session__id", "session__wix_id", "session__title", "session__start", "session__status")
_SERVICE_FIELDS = (
    "service__id",
    "service__wix_id",
    "service__name",
    "service__type",
    "service__price",
    "service__currency",
)
# A mirror row's copy of Wix's payload and its sync bookkeeping: what no money or plan rule reads.
_MIRROR_BOOKKEEPING = ("raw", "revision", "wix_updated_at", "synced_at")
CANCELLED = ("CANCELLED", "CANCELED", "cancelled", "canceled")  # a session's status
CONTACT_TUPLE = ("pk", "first_name", "last_name", "email", "phone")  # owes.OwedContact
_CONTACT_FIELDS = ("id", "wix_id", "first_name", "last_name", "email", "phone")


# The orders a booking is on, its balance summed over them (cancelled ones too, each order once:
# what ``money.roster_due`` sums; NULL with no order), and whether they pay for another booking.
_ORDERS = OrderLineItem.objects.filter(booking_id=OuterRef(OuterRef("pk"))).values("order_id")
ORDER_BALANCE = Subquery(
    Order.objects.filter(pk__in=_ORDERS)
    .order_by()
    .values(balances=Func(F("balance"), function="SUM", output_field=DecimalField(max_digits=12, decimal_places=2))),
    output_field=DecimalField(max_digits=12, decimal_places=2),
)
SHARED_ORDER = Exists(OrderLineItem.objects.filter(order_id__in=_ORDERS).exclude(booking_id=OuterRef("pk")))
ROW = (
    "pk",
    "contact_id",
    "service_id",
    "session_id",
    "status",
    "payment_status",
    "total_participants",
    "balance",  # None: no order
    "shared",  # an order of it pays for another booking too
)


def owing_base() -> QuerySet[Booking]:
    """Bookings that may owe: taking a place, not paid or free, not written off."""
    return (
        Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES)
        .exclude(payment_status__in=Booking.SETTLED_PAYMENT_STATUSES)
        .exclude(written_off_q())
    )


def owing_rows(bookings: QuerySet[Booking]) -> QuerySet[Booking, tuple[Any, ...]]:
    """``bookings`` as :data:`ROW` tuples, their orders' balance and sharing worked out in SQL."""
    return bookings.annotate(balance=ORDER_BALANCE, shared=SHARED_ORDER).values_list(*ROW)


# The queries of every request, each compiled to SQL once per process (``precompiled``): the
# bookings that may owe on the range's sessions or courses (the list without a search), the
# services' prices, and the order lines of the bookings whose order pays for others too.


def _owing_on(*, sessions: bool, courses: bool) -> Precompiled[tuple[Any, ...]]:
    """The bookings query on the range's sessions, its courses or both: three queries rather
    than one with an empty list, as PostgreSQL plans an ``OR`` (a bitmap of both, in parallel
    workers) slower than the one condition it needs."""

    def build() -> QuerySet[Booking, tuple[Any, ...]]:
        on_session = Q(ids_in("session_id", Ids("sessions")))
        on_course = Q(session__isnull=True) & Q(ids_in("service_id", Ids("courses")))
        where = (on_session | on_course) if sessions and courses else on_session if sessions else on_course
        return owing_rows(owing_base().filter(where))

    return Precompiled(build)


OWING = {(s, c): _owing_on(sessions=s, courses=c) for s, c in ((True, False), (False, True), (True, True))}


def sessions_in(start: datetime, stop: datetime) -> QuerySet[Session, tuple[Any, ...]]:
    """The sessions starting in [``start``, ``stop``) and not cancelled, oldest first: (pk, start,
    title, service pk, whether it is a course's first — no session of its course before it)."""
    live = Session.objects.exclude(status__in=CANCELLED)
    earlier = live.filter(service_id=OuterRef("service_id"), start__lt=OuterRef("start"))
    first = Case(When(service__type=Service.Type.COURSE, then=~Exists(earlier)), default=Value(False))
    return (
        live.filter(start__gte=start, start__lt=stop)
        .annotate(course_first=first)
        .values_list("pk", "start", "title", "service_id", "course_first")
    )


@precompiled
def services() -> QuerySet[Service, tuple[Any, ...]]:
    return Service.objects.values_list("pk", "price", "currency", "name")


@precompiled
def lines_of() -> QuerySet[OrderLineItem, tuple[int, int]]:
    return OrderLineItem.objects.filter(ids_in("booking_id", Ids("bookings"))).values_list("booking_id", "order_id")


# ``owes._money_dues``'s queries, compiled once: the bookings with desk money on its way (any), those
# of the list among them and the part paid without an order (with their services), and their
# desk actions on their way (``money.inflight_by_booking``'s query, oldest first).


@precompiled
def live() -> QuerySet[DeskAction, int]:
    return DeskAction.objects.filter(kind__in=money.CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES).values_list(
        "booking_id", flat=True
    )


@precompiled
def money_bookings() -> QuerySet[Booking]:
    return (
        Booking.objects.filter(ids_in("pk", Ids("bookings")))
        .select_related("service")
        .defer(*_MIRROR_BOOKKEEPING, *(f"service__{name}" for name in _MIRROR_BOOKKEEPING))
    )


@precompiled
def inflight() -> QuerySet[DeskAction]:
    return DeskAction.objects.filter(
        ids_in("booking_id", Ids("bookings")), kind__in=money.CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES
    ).order_by("pk")


# The printout's and the export's reads, compiled once: everyone's contacts as tuples, their
# bookings' attendance and "pays later" marks.


@precompiled
def contacts() -> QuerySet[Contact, tuple[Any, ...]]:
    """Contacts as ``owes.OwedContact``'s fields."""
    return Contact.objects.filter(ids_in("pk", Ids("contacts"))).order_by().values_list(*CONTACT_TUPLE)


@precompiled
def attendance() -> QuerySet[Attendance, tuple[int, int, str]]:
    return Attendance.objects.filter(ids_in("booking_id", Ids("bookings"))).values_list(
        "booking_id", "session_id", "status"
    )


@precompiled
def later() -> QuerySet[DeskAction, int]:
    return (
        DeskAction.objects.filter(ids_in("booking_id", Ids("bookings")), kind=DeskAction.Kind.PAY_LATER)
        .exclude(status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED))
        .values_list("booking_id", flat=True)
    )


# The screen's rows, compiled once (one query however many; ``in_bulk`` would split a long list
# into batches on SQLite). An attendance is one per booking and session; a course booking (no
# session) has none, as before.
_PAY_LATER = DeskAction.objects.filter(booking_id=OuterRef("pk"), kind=DeskAction.Kind.PAY_LATER).exclude(
    status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED)
)
_ATTENDANCE = Attendance.objects.filter(booking_id=OuterRef("pk"), session_id=OuterRef("session_id")).values("status")


@precompiled
def screen_bookings() -> QuerySet[Booking]:
    return (
        Booking.objects.filter(ids_in("pk", Ids("bookings")))
        .select_related("session", "service", "contact")
        .only(*_BOOKING_FIELDS, *_SESSION_FIELDS, *_SERVICE_FIELDS, *(f"contact__{name}" for name in _CONTACT_FIELDS))
        .annotate(owes_attendance=Subquery(_ATTENDANCE[:1]), owes_later=Exists(_PAY_LATER))
        .order_by()
    )


@precompiled
def plan_balances() -> QuerySet[BenefitBalance]:
    return (
        BenefitBalance.objects.filter(ids_in("member__contact_id", Ids("contacts")), status__iexact="ACTIVE")
        .filter(Q(unlimited=True) | Q(remaining_credits__gt=0))
        .select_related("member", "plan_order")
        .defer(*(f"{prefix}{name}" for prefix in ("", "member__", "plan_order__") for name in _MIRROR_BOOKKEEPING))
        .order_by("pk")
    )
