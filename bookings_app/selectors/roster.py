"""The roster's reads: the bookings on a session's roster with what a row needs of them
(contacts, attendance, order lines and their orders' payments), the desk actions that still
matter for them, and their people's plan balances. ``bookings_app.roster_rows`` turns them
into the rows the roster shows; ``services.desk.settle`` reads the same for its suggestions."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    OrderLineItem,
    Payment,
    Service,
    Session,
    WriteOff,
    normalise_text,
)
from bookings_app.selectors.precompiled import Ids, Precompiled, ids_in, precompiled
from bookings_app.selectors.queries import PLAN_OPTIONS, search_q, session_roster_q

# Mirror columns the roster never shows: the last Wix payload (a JSON document per row, decoded
# into dicts and lists on every load) and the sync bookkeeping. Deferred on the roster's bookings,
# and its contacts load only what a row shows; code that does read another field still gets it
# (one query for that row), so leave them out only here.
_MIRROR_BOOKKEEPING = ("raw", "revision", "wix_updated_at", "synced_at")
_ROSTER_DEFERRED = (*_MIRROR_BOOKKEEPING, "wix_created_at")
_ROSTER_CONTACT_FIELDS = ("id", "wix_id", "first_name", "last_name", "email", "phone")
# The roster's sort key of a name, kept per process: the same few hundred names are sorted again
# on every roster refresh, and normalising one costs more than looking it up.
_sort_text = functools.lru_cache(maxsize=8192)(normalise_text)

# What the worker keeps on a desk action (Wix's answers, the fields it changed, the last error):
# never shown on a row, and the biggest part of an action after a morning's syncing. The
# plans' mirror bookkeeping is left out of their read in the same way.
_ACTION_DEFERRED = ("steps", "before", "last_error")

# The desk actions a roster row shows: open ones, synced ones that can be reversed, reversals.
OPEN_ACTION_STATUSES = (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING, DeskAction.Status.NEEDS_ATTENTION)
# What a manager may reverse once Wix has it (services.desk.action_reverse).
REVERSIBLE_KINDS = (DeskAction.Kind.WALK_IN, DeskAction.Kind.PAYMENT, DeskAction.Kind.PLAN_CHARGE)


class OrderLine(NamedTuple):
    """What a row needs of one of its booking's order lines, and of that line's order."""

    booking_id: int
    order_id: int
    line_item_id: str
    order_lines: int  # lines on the order: more than one, and its balance is shared
    number: str
    wix_id: str | None
    balance: Decimal
    currency: str


# Order pk → its counted payments, oldest first: (Payment.Method value, the line it paid for or "").
Payments = dict[int, list[tuple[str, str]]]


@dataclass
class RosterRead:
    """The bookings on a roster, by surname, with what their rows are made of."""

    bookings: list[Booking]  # their contacts (the fields a row shows) and services loaded
    attendance: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)  # booking pk → status, attendees
    lines: dict[int, list[OrderLine]] = field(default_factory=dict)  # booking pk → its order lines
    payments: Payments = field(default_factory=dict)
    written_off: set[int] = field(default_factory=set)  # booking pks a manager wrote off (standing)

    def attendance_status(self, booking_id: int) -> str:
        return self.attendance.get(booking_id, (None, 0))[0] or Attendance.Status.NOT_SET

    def orders(self, booking_id: int) -> dict[int, OrderLine]:
        """Order pk → the booking's first line on it (an order counts once however many lines)."""
        orders: dict[int, OrderLine] = {}
        for line in self.lines.get(booking_id, []):
            orders.setdefault(line.order_id, line)
        return orders

    def order_balances(self, booking_id: int) -> list[Decimal]:
        """The balance of every order the booking is on (cancelled ones too), once each."""
        return [o.balance for o in self.orders(booking_id).values()]

    def charged_to_plan(self, booking: Booking) -> bool:
        return on_plan(booking, self.lines.get(booking.pk, []), self.payments)


def roster_read(
    *, session: Session, search: str = "", include_cancelled: bool = False, booking_ids: list[int] | None = None
) -> RosterRead:
    """Everyone on ``session``'s roster, by surname, filtered by name/email/phone (or just
    ``booking_ids``, for re-rendering rows after a desk action).

    Five plain queries however many rows — the bookings (each with whether a manager wrote it
    off), their contacts, their attendance at this session, their order lines with the orders'
    balances, and those orders' counted payments (and one for the service, unless the session
    comes with it) — each a simple lookup by id, rather than one query with joins and correlated
    subqueries: those cost more to build in Python and to plan in PostgreSQL than the lookups
    cost to run, and a join to every contact grows with the contact list. Whether a booking is
    charged to a plan is worked out from the lines and payments already loaded
    (:func:`on_plan`). The money comes as plain values, not model instances, and the bookings
    share the session's service rather than each loading a copy.
    """
    match = search_q(search, prefix="contact__")
    if match is None and Session._meta.get_field("service").is_cached(session):
        is_course = session.service.type == Service.Type.COURSE
        query = _roster_bookings(course=is_course, cancelled=include_cancelled, only=booking_ids is not None)
        bookings = query.run(session=[session.pk], service=[session.service_id], only=booking_ids or [])
    else:
        bookings_qs = Booking.objects.filter(session_roster_q(session))
        if booking_ids is not None:
            bookings_qs = bookings_qs.filter(pk__in=booking_ids)
        if match is not None:
            bookings_qs = bookings_qs.filter(match)
        bookings = list(_roster_bookings_of(bookings_qs, cancelled=include_cancelled))
    if not bookings:
        return RosterRead(bookings=[])
    ids = [b.pk for b in bookings]
    _share_services(bookings, session)
    contacts = {c.pk: c for c in _contacts.run(contacts={b.contact_id for b in bookings})}
    cache_contact = Booking._meta.get_field("contact").set_cached_value
    for booking in bookings:
        cache_contact(booking, contacts[booking.contact_id])
    attendance = {
        booking_id: (status, attendees)
        for booking_id, status, attendees in _attendance.run(bookings=ids, session=[session.pk])
    }
    lines, payments = _lines_and_payments(ids)
    written_off = {b.pk for b in bookings if b.written_off}
    # By surname, then first name, the same on every database: case, accents and punctuation
    # aside ("de Vries" among the D's, "Ó'Brien" among the O's).
    bookings.sort(key=lambda b: (_sort_text(b.contact.last_name), _sort_text(b.contact.first_name), b.pk))
    return RosterRead(bookings=bookings, attendance=attendance, lines=lines, payments=payments, written_off=written_off)


def _roster_bookings_of(bookings: QuerySet[Booking], *, cancelled: bool) -> QuerySet[Booking]:
    """``bookings`` as the roster reads them: without the mirror's bookkeeping, cancelled ones
    only if asked for, each with whether a manager wrote it off."""
    if not cancelled:
        bookings = bookings.filter(status__in=Booking.ROSTER_STATUSES)
    standing_write_off = WriteOff.objects.filter(booking_id=OuterRef("pk"), reversed_at__isnull=True)
    return bookings.defer(*_ROSTER_DEFERRED).annotate(written_off=Exists(standing_write_off))


@functools.cache
def _roster_bookings(*, course: bool, cancelled: bool, only: bool) -> Precompiled[Booking]:
    """The roster's bookings without a search (``session_roster_q`` for a session loaded with
    its service), compiled once for each of its shapes: a class's or a course's, with or
    without the cancelled, all of them or only some (slots ``session``, ``service``, ``only``)."""

    def build() -> QuerySet[Booking]:
        on_roster = ids_in("session_id", Ids("session"))
        if course:
            on_roster = Q(on_roster) | Q(ids_in("service_id", Ids("service")), session__isnull=True)
        bookings = Booking.objects.filter(on_roster)
        if only:
            bookings = bookings.filter(ids_in("pk", Ids("only")))
        return _roster_bookings_of(bookings, cancelled=cancelled)

    return Precompiled(build)


def on_plan(booking: Booking, lines: list[OrderLine], payments: Payments) -> bool:
    """``queries.charged_to_plan_q`` for one booking, from its order lines and their orders' counted
    payments as the roster loads them: a plan payment on its order that is for its line (or for
    no line in particular), or — with no order mirrored — a settled booking whose chosen payment
    option is a plan. ``tests/selectors/test_roster.py`` holds the two to the same answers."""
    if lines:
        return any(
            method == Payment.Method.PLAN and line_item_id in ("", line.line_item_id)
            for line in lines
            for method, line_item_id in payments.get(line.order_id, ())
        )
    return (
        booking.selected_payment_option in PLAN_OPTIONS and booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES
    )


def _share_services(bookings: list[Booking], session: Session) -> None:
    """Give every booking its service without a copy per row: the session's own, as loaded with
    the session (``session_get`` does), or else one query for the services the bookings name
    (and for a booking that names another service, which the mirror should never hold)."""
    services = {}
    if Session._meta.get_field("service").is_cached(session):
        services[session.service_id] = session.service
    missing = {b.service_id for b in bookings} - services.keys()
    if missing:
        services.update(Service.objects.in_bulk(missing))
    cache = Booking._meta.get_field("service").set_cached_value
    for booking in bookings:
        cache(booking, services[booking.service_id])


def roster_desk_actions(*, booking_ids: list[int]) -> list[DeskAction]:
    """The bookings' desk actions that still matter to their rows, oldest first: open ones,
    synced ones that can be reversed, and reversals (not undone or removed). One query."""
    return _desk_actions.run(bookings=booking_ids)


@precompiled
def _desk_actions() -> QuerySet[DeskAction]:
    return (
        DeskAction.objects.filter(ids_in("booking_id", Ids("bookings")))
        .filter(
            Q(status__in=OPEN_ACTION_STATUSES)
            | Q(status=DeskAction.Status.SYNCED, kind__in=REVERSIBLE_KINDS)
            | Q(kind__in=DeskAction.REVERSAL_KINDS)
        )
        .exclude(status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED))
        .defer(*_ACTION_DEFERRED)
        .order_by("created_at", "pk")
    )


def roster_arrivals(*, session: Session, booking_ids: list[int]) -> dict[int, int]:
    """Booking pk → the order its people were checked in to ``session``, for those checked in:
    the attendance row's pk, made when they were first marked (the mirror keeps no check-in
    time). The roster's "arrival" order; one query."""
    return dict(
        Attendance.objects.filter(
            session_id=session.pk, booking_id__in=booking_ids, status=Attendance.Status.ATTENDED
        ).values_list("booking_id", "pk")
    )


def roster_balances(*, contact_ids: Iterable[int]) -> dict[int, list[BenefitBalance]]:
    """Contact pk → their live plan balances (active, with credit or unlimited), the pass with
    the fewest credits first (to be used up first). One query."""
    balances = _balances.run(contacts=contact_ids)
    by_contact: dict[int, list[BenefitBalance]] = {}
    for balance in balances:
        by_contact.setdefault(balance.member.contact_id, []).append(balance)
    return by_contact


def booking_orders_read(*, booking: Booking) -> RosterRead:
    """What a row's amount due is made of, for one booking already loaded (with its contact and
    service): its order lines and their orders' payments — two queries (one with no order) —
    rather than the whole row's reads."""
    return bookings_orders_read(bookings=[booking])


def bookings_orders_read(*, bookings: list[Booking]) -> RosterRead:
    """:func:`booking_orders_read` for bookings of any sessions at once (the owes list): two
    queries however many (one when none has an order)."""
    lines, payments = _lines_and_payments([b.pk for b in bookings])
    return RosterRead(bookings=bookings, lines=lines, payments=payments)


def _lines_and_payments(ids: list[int]) -> tuple[dict[int, list[OrderLine]], Payments]:
    lines: dict[int, list[OrderLine]] = {}
    for line in _lines.run(bookings=ids):
        line = OrderLine(*line)
        lines.setdefault(line.booking_id, []).append(line)
    payments: dict[int, list[tuple[str, str]]] = {}
    if lines:
        order_ids = {line.order_id for booking_lines in lines.values() for line in booking_lines}
        for order_id, method, line_item_id in _payments.run(orders=order_ids):
            payments.setdefault(order_id, []).append((method, line_item_id))
    return lines, payments


# The roster's lookups by id, each compiled to SQL once (``precompiled``).


@precompiled
def _contacts() -> QuerySet[Contact]:
    return Contact.objects.only(*_ROSTER_CONTACT_FIELDS).filter(ids_in("pk", Ids("contacts"))).order_by()


@precompiled
def _attendance() -> QuerySet[Attendance, tuple[int, str, int]]:
    return Attendance.objects.filter(
        ids_in("booking_id", Ids("bookings")), ids_in("session_id", Ids("session"))
    ).values_list("booking_id", "status", "number_of_attendees")


@precompiled
def _balances() -> QuerySet[BenefitBalance]:
    return (
        BenefitBalance.objects.filter(ids_in("member__contact_id", Ids("contacts")), status__iexact="ACTIVE")
        .filter(Q(unlimited=True) | Q(remaining_credits__gt=0))
        .select_related("member")
        .defer(*_MIRROR_BOOKKEEPING, *(f"member__{name}" for name in _MIRROR_BOOKKEEPING))
        .order_by("unlimited", "remaining_credits", "pk")
    )


@precompiled
def _lines() -> QuerySet[OrderLineItem, tuple]:
    return (
        OrderLineItem.objects.filter(ids_in("booking_id", Ids("bookings")))
        .annotate(order_lines=Count("order__line_items"))
        .values_list(
            "booking_id",
            "order_id",
            "line_item_id",
            "order_lines",
            "order__number",
            "order__wix_id",
            "order__balance",
            "order__currency",
        )
        .order_by("pk")
    )


@precompiled
def _payments() -> QuerySet[Payment, tuple[int, str, str]]:
    return (
        Payment.objects.filter(ids_in("order_id", Ids("orders")), status__in=Payment.COUNTED_STATUSES)
        .values_list("order_id", "method", "line_item_id")
        .order_by("wix_created_at", "pk")
    )
