"""The owes list: everyone with a booking that still owes money, grouped by person, oldest first.

Which bookings: taking a place (confirmed or pending), on a session in the range that has begun
(a booking for Friday's class is not owed on Tuesday) and is not cancelled — or a course booking
(booked onto the course, no session of its own) whose course's first session is in the range
and has begun — not paid or free, and not written off by a manager (``queries.written_off_q``).

What each owes is the amount the roster row and Settle show (``money.roster_due`` less the
desk's actions on their way, ``money.due_from_roster``): an order's balance as mirrored, else
the list price; less what the desk took that Wix has not heard of yet. A booking that owes
nothing by that rule is left out. An order that pays for several bookings (a family's, a
package's) is owed once: by the oldest of its bookings in the list, which says so.

A month of a busy season is thousands of bookings, and the page must total them all to order
the people and say what is owed in all, in well under a tenth of a second. So the bookings come
as plain values with their orders' balance summed in SQL (:data:`_ORDER_BALANCE`): for a
booking with nothing of the desk's on its way and no part payment without an order, the rule
above is just that balance, else the list price (:func:`_plain_due`, held to ``money``'s answers
by ``tests/selectors/test_owes.py``). The others — a payment or plan charge still on its way,
money the desk took before Wix had an order — are few, and go through ``money`` itself. Only
the people shown (one page; everyone for the printout and the export) are loaded as rows.

A fixed number of queries however long the list: the bookings (two: on sessions, on courses),
the orders shared by several of them, the desk's money on its way (and, for the few concerned,
their rows, orders and payments), then for the people shown their bookings, contacts,
attendance, plans and "pay later" marks — on the screen one query (the bookings with their
session, service and contact, attendance and mark) and their plans. Every query whose inputs
are lists of ids (the bookings' too, without a search) is compiled to SQL once per process
(``precompiled``): building and compiling a queryset costs Django about half a millisecond
each, and the list runs a dozen.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import DecimalField, Exists, F, Func, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

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
    WriteOff,
)
from bookings_app.selectors.precompiled import Ids, Precompiled, ids_in, precompiled
from bookings_app.selectors.queries import search_q, written_off_q
from bookings_app.selectors.roster import bookings_orders_read

PER_PAGE = 30
ZERO = Decimal("0")
PS = Booking.PaymentStatus
_CANCELLED = ("CANCELLED", "CANCELED", "cancelled", "canceled")
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
_STATUS_LABELS = dict(Booking.Status.choices)
_PAYMENT_LABELS = dict(PS.choices)
_CONTACT_FIELDS = ("id", "wix_id", "first_name", "last_name", "email", "phone")
_ATTENDANCE_LABELS = {status: Attendance.Status(status).label for status in Attendance.Status.values}


class OwedContact(NamedTuple):
    """A person on the printed reminders or the export: what they show of the contact (one tuple
    rather than a model instance each: those lists hold everyone)."""

    pk: int
    first_name: str
    last_name: str
    email: str
    phone: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        return self.full_name


@dataclass(slots=True)
class OwedBooking:
    booking_id: int
    contact_id: int
    due: Decimal
    when: datetime  # the session's start; a course booking: the course's first session
    currency: str
    shares_order: bool = False  # its order also pays for other bookings: they owe nothing more
    title: str = ""  # its session's title, else its service's name (what the list calls it)
    session_id: int | None = None  # None: a course booking
    status: str = ""  # the booking's status and payment status, as mirrored
    payment_status: str = ""
    booking: Booking | None = None  # loaded for the people shown: its session (None: a course's) and service
    attendance: str = Attendance.Status.NOT_SET
    marked_later: bool = False  # the desk marked it "pays later"
    plan: BenefitBalance | None = None  # a plan of theirs that can pay it (credits counted across their list)
    error: str = ""  # why a settle refused it (the screen sets it)

    @property
    def what(self) -> str:
        return self.title

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    @property
    def payment_label(self) -> str:
        return _PAYMENT_LABELS.get(self.payment_status, self.payment_status)

    @property
    def attendance_label(self) -> str:
        return _ATTENDANCE_LABELS.get(self.attendance) or Attendance.Status(self.attendance).label


@dataclass(slots=True)
class Debtor:
    """One person on the list: their owed bookings, oldest first."""

    contact_id: int
    bookings: list[OwedBooking]
    contact: Contact | OwedContact | None = None  # loaded for the people shown (the screen: a Contact)
    total: Decimal = ZERO  # what they owe in all (the sum of their bookings' ``due``)

    @property
    def oldest(self) -> datetime:
        return self.bookings[0].when

    @property
    def currency(self) -> str:
        return self.bookings[0].currency

    @property
    def booking_ids(self) -> str:
        return ",".join(str(b.booking_id) for b in self.bookings)

    @property
    def on_plan(self) -> list[OwedBooking]:
        return [b for b in self.bookings if b.plan is not None]


@dataclass
class OwesRead:
    people: list[Debtor]  # the page asked for (everyone without a page)
    people_total: int = 0
    bookings_total: int = 0
    total: Decimal = ZERO
    currency: str = ""
    page: int = 1
    pages: int = 1


# How much of each person shown is loaded (:func:`_attach`): the screen's rows act on bookings
# (their rows, attendance, "pays later", a plan that can pay); the export lists attendance and
# "pays later"; the printed reminders only the person and what they owe for.
SCREEN, EXPORT, PRINT = "screen", "export", "print"


def owes_read(
    *,
    start: datetime,
    end: datetime,
    search: str = "",
    page: int | None = 1,
    now: datetime | None = None,
    detail: str = SCREEN,
) -> OwesRead:
    """The owes list for sessions starting in [``start``, ``end``) (and before ``now``), by person,
    the person owing longest first; ``search`` by name, email or phone; ``page`` of
    :data:`PER_PAGE` people (past the last: the last), None for everyone; ``detail``: what is
    loaded for the people returned (:data:`SCREEN`, :data:`EXPORT` or :data:`PRINT`).

    The bookings stay plain tuples (:func:`_owed`) until the people returned are known: the
    totals, the count and the order of everyone come from them, and only those returned get a
    :class:`Debtor` and :class:`OwedBooking` each (a page: 30 people, not the range's 2,000)."""
    now = now or timezone.now()
    owed = _owed(start=start, stop=min(end, now), search=search)
    oldest: dict[int, datetime] = {}  # contact pk → their oldest owed booking's start (``owed`` is oldest first)
    total = ZERO
    for item in owed:
        oldest.setdefault(item[_CONTACT], item[_WHEN])
        total += item[_DUE]
    order = sorted(oldest, key=lambda contact_id: (oldest[contact_id], contact_id))
    pages = max(1, math.ceil(len(order) / PER_PAGE))
    read = OwesRead(
        people=[],
        people_total=len(order),
        bookings_total=len(owed),
        total=total,
        currency=_currency(owed),
        pages=1 if page is None else pages,
    )
    if page is not None:
        read.page = min(max(page, 1), pages)
        order = order[(read.page - 1) * PER_PAGE : read.page * PER_PAGE]
    read.people = _debtors(owed, order)
    _attach(read.people, detail)
    return read


# A booking owed, as :func:`_owed` gives it: a plain tuple of plain values (no model, no object of
# ours: a range holds thousands, and tuples of plain values are not even tracked by Python's
# garbage collector once it has seen them).
_WHEN, _PK, _CONTACT, _DUE, _CURRENCY, _SHARES, _TITLE, _SESSION, _STATUS, _PAYMENT = range(10)


def _debtors(owed: list[tuple[Any, ...]], order: list[int]) -> list[Debtor]:
    """The people ``order`` lists (contact pks), in that order, each with their owed bookings."""
    people = {contact_id: Debtor(contact_id=contact_id, bookings=[]) for contact_id in order}
    for when, pk, contact_id, due, currency, shares, title, session_id, status, payment_status in owed:
        person = people.get(contact_id)
        if person is not None:
            person.bookings.append(
                OwedBooking(
                    booking_id=pk,
                    contact_id=contact_id,
                    due=due,
                    when=when,
                    currency=currency,
                    shares_order=shares,
                    title=title,
                    session_id=session_id,
                    status=status,
                    payment_status=payment_status,
                )
            )
            person.total += due
    return list(people.values())


# The orders a booking is on, its balance summed over them (cancelled ones too, each order once:
# what ``money.roster_due`` sums; NULL with no order), and whether they pay for another booking.
_ORDERS = OrderLineItem.objects.filter(booking_id=OuterRef(OuterRef("pk"))).values("order_id")
_ORDER_BALANCE = Subquery(
    Order.objects.filter(pk__in=_ORDERS)
    .order_by()
    .values(balances=Func(F("balance"), function="SUM", output_field=DecimalField(max_digits=12, decimal_places=2))),
    output_field=DecimalField(max_digits=12, decimal_places=2),
)
_SHARED_ORDER = Exists(OrderLineItem.objects.filter(order_id__in=_ORDERS).exclude(booking_id=OuterRef("pk")))
_ROW = (
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


def _owing_base() -> QuerySet[Booking]:
    """Bookings that may owe: taking a place, not paid or free, not written off."""
    return (
        Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES)
        .exclude(payment_status__in=Booking.SETTLED_PAYMENT_STATUSES)
        .exclude(written_off_q())
    )


def _owing_rows(bookings: QuerySet[Booking]) -> QuerySet[Booking, tuple[Any, ...]]:
    """``bookings`` as :data:`_ROW` tuples, their orders' balance and sharing worked out in SQL."""
    return bookings.annotate(balance=_ORDER_BALANCE, shared=_SHARED_ORDER).values_list(*_ROW)


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
        return _owing_rows(_owing_base().filter(where))

    return Precompiled(build)


_OWING = {(s, c): _owing_on(sessions=s, courses=c) for s, c in ((True, False), (False, True), (True, True))}


@precompiled
def _services() -> QuerySet[Service, tuple[Any, ...]]:
    return Service.objects.values_list("pk", "price", "currency", "name")


@precompiled
def _lines_of() -> QuerySet[OrderLineItem, tuple[int, int]]:
    return OrderLineItem.objects.filter(ids_in("booking_id", Ids("bookings"))).values_list("booking_id", "order_id")


def _owed(*, start: datetime, stop: datetime, search: str) -> list[tuple[Any, ...]]:
    """Every booking owing in the range with what it owes, oldest first (see :data:`_WHEN`)."""
    if stop <= start:
        return []
    base = _owing_base()
    match = search_q(search, prefix="contact__")
    if match is not None:
        base = base.filter(match)
    # The sessions and services as their own small reads: a start or a price per booking would be
    # thousands of values to read and convert.
    sessions = list(
        Session.objects.filter(start__gte=start, start__lt=stop)
        .exclude(status__in=_CANCELLED)
        .values_list("pk", "start", "title")
    )
    starts = {pk: at for pk, at, _ in sessions}
    titles = {pk: title for pk, _, title in sessions}
    course_starts = dict(
        Session.objects.filter(service__type=Service.Type.COURSE)
        .exclude(status__in=_CANCELLED)
        .values("service_id")
        .annotate(first=Min("start"))
        .filter(first__gte=start, first__lt=stop)
        .values_list("service_id", "first")
    )
    if not starts and not course_starts:
        return []
    if match is None:  # the usual case: the same SQL every time, compiled once (``precompiled``)
        rows = _OWING[bool(starts), bool(course_starts)].run(sessions=starts, courses=course_starts)
    else:
        where = Q(ids_in("session_id", starts)) if starts else Q()  # one parameter, not one per session
        if course_starts:
            where |= Q(session__isnull=True, service_id__in=list(course_starts))
        rows = list(_owing_rows(base.filter(where)))
    if not rows:
        return []
    prices = {pk: (price, currency, name) for pk, price, currency, name in _services.run()}

    shared: dict[int, set[int]] = defaultdict(set)  # booking pk → its orders (one pays for others too)
    sharing = [row[0] for row in rows if row[8]]
    if sharing:
        for booking_id, order_id in _lines_of.run(bookings=sharing):
            shared[booking_id].add(order_id)
    dues = _money_dues(rows)
    owed: list[tuple[Any, ...]] = []
    claimed: set[int] = set()  # orders already owed by an older booking in the list
    # Oldest first: by start (the session's; a course booking's, its course's first), then pk.
    rows.sort(key=lambda row: (starts[row[3]] if row[3] else course_starts[row[2]], row[0]))
    for pk, contact_id, service_id, session_id, status, payment_status, participants, balance, _ in rows:
        price, currency, service_name = prices[service_id]
        due = dues[pk] if pk in dues else _plain_due(balance, price, participants)
        if due <= 0:
            continue
        orders = shared.get(pk)
        if orders:
            if not claimed.isdisjoint(orders):
                continue
            claimed |= orders
        when = starts[session_id] if session_id else course_starts[service_id]
        title = (titles[session_id] if session_id else "") or service_name
        owed.append((when, pk, contact_id, due, currency, bool(orders), title, session_id, status, payment_status))
    return owed


def _plain_due(balance: Decimal | None, price: Decimal | None, participants: int) -> Decimal:
    """``money.due_from_roster`` of a booking that is not paid, free or charged to a plan, with
    nothing of the desk's on its way and no part payment without an order: its orders' balance
    (``balance``, None without an order; ``money.roster_due``: 0 when not above it), else its list
    price (``money.list_price``)."""
    if balance is not None:
        return max(balance or ZERO, ZERO)
    return (price or ZERO) * participants


def _money_dues(rows: list[tuple[Any, ...]]) -> dict[int, Decimal]:
    """What the bookings :func:`_plain_due` cannot answer for owe, by ``money``'s own rule: those
    with the desk's money on its way, and those part paid with no order (the desk's payments Wix
    has count). A handful of queries, and only when there are such bookings."""
    live = set(_live.run())
    # (a row: pk, …, payment status [5], …, orders' balance [7], None without an order; see _ROW)
    ids = [r[0] for r in rows if r[0] in live or (r[5] == PS.PARTIALLY_PAID and r[7] is None)]
    if not ids:
        return {}
    bookings = _money_bookings.run(bookings=ids)
    read = bookings_orders_read(bookings=bookings)
    inflight: dict[int, list[DeskAction]] = defaultdict(list)  # ``money.inflight_by_booking``'s
    for action in _inflight.run(bookings=ids):
        inflight[action.booking_id].append(action)
    synced = money.synced_payments([b for b in bookings if not read.order_balances(b.pk)], inflight)
    dues = {}
    for booking in bookings:
        charged_to_plan = read.charged_to_plan(booking)
        balances = read.order_balances(booking.pk)
        dues[booking.pk] = money.due_from_roster(
            booking,
            roster_amount=money.roster_due(
                booking=booking,
                order_balances=balances,
                settled=charged_to_plan or booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES,
            ),
            due_from_order=bool(balances),
            charged_to_plan=charged_to_plan,
            inflight=inflight.get(booking.pk, []),
            synced=synced,
        )
    return dues


# ``_money_dues``'s queries, compiled once: the bookings with desk money on its way (any), those
# of the list among them and the part paid without an order (with their services), and their
# desk actions on their way (``money.inflight_by_booking``'s query, oldest first).


@precompiled
def _live() -> QuerySet[DeskAction, int]:
    return DeskAction.objects.filter(kind__in=money.CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES).values_list(
        "booking_id", flat=True
    )


@precompiled
def _money_bookings() -> QuerySet[Booking]:
    return Booking.objects.filter(ids_in("pk", Ids("bookings"))).select_related("service")


@precompiled
def _inflight() -> QuerySet[DeskAction]:
    return DeskAction.objects.filter(
        ids_in("booking_id", Ids("bookings")), kind__in=money.CHAINED_KINDS, status__in=DeskAction.LIVE_STATUSES
    ).order_by("pk")


def _attach(people: list[Debtor], detail: str = SCREEN) -> None:
    """What the people shown need: their contacts; for the export and the screen, each booking's
    attendance at its session and the desk's "pays later" marks; for the screen, the bookings
    (with session and service) and a plan that can pay (two queries, :func:`_attach_rows`). The
    printout and the export hold everyone in the range: their contacts come as
    :class:`OwedContact` tuples, and every list of ids goes as one parameter (``ids_in``)."""
    if not people:
        return
    if detail == SCREEN:
        _attach_rows(people)
        return
    contacts = {row[0]: OwedContact(*row) for row in _contacts.run(contacts=[p.contact_id for p in people])}
    if detail == PRINT:
        for person in people:
            person.contact = contacts.get(person.contact_id)
        return
    ids = [item.booking_id for person in people for item in person.bookings]
    attendance = {(booking_id, session_id): status for booking_id, session_id, status in _attendance.run(bookings=ids)}
    later = set(_later.run(bookings=ids))
    for person in people:  # the export
        person.contact = contacts.get(person.contact_id)
        for item in person.bookings:
            key = (item.booking_id, item.session_id)
            item.attendance = attendance.get(key, Attendance.Status.NOT_SET)
            item.marked_later = item.booking_id in later


def _attach_rows(people: list[Debtor]) -> None:
    """The screen's people: each booking's row (with its session, service and contact, its
    attendance at its session and whether the desk marked it "pays later", in one query) and a
    plan that can pay it (one query)."""
    ids = [item.booking_id for person in people for item in person.bookings]
    bookings = {b.pk: b for b in _screen_bookings.run(bookings=ids)}
    balances = owes_plan_balances(contact_ids=[p.contact_id for p in people])
    cache_contact = Booking._meta.get_field("contact").set_cached_value
    for person in people:
        used: dict[int, int] = defaultdict(int)
        for item in person.bookings:
            item.booking = booking = bookings[item.booking_id]
            if person.contact is None:
                person.contact = booking.contact
            else:
                cache_contact(booking, person.contact)  # one Contact for all of a person's rows
            status = booking.owes_attendance
            item.attendance = Attendance.Status.NOT_SET if status is None else status
            item.marked_later = booking.owes_later
            item.plan = owes_plan_for(booking, balances.get(person.contact_id, []), used)


# The printout's and the export's reads, compiled once: everyone's contacts as tuples, their
# bookings' attendance and "pays later" marks.


@precompiled
def _contacts() -> QuerySet[Contact, tuple[Any, ...]]:
    return Contact.objects.filter(ids_in("pk", Ids("contacts"))).order_by().values_list(*OwedContact._fields)


@precompiled
def _attendance() -> QuerySet[Attendance, tuple[int, int, str]]:
    return Attendance.objects.filter(ids_in("booking_id", Ids("bookings"))).values_list(
        "booking_id", "session_id", "status"
    )


@precompiled
def _later() -> QuerySet[DeskAction, int]:
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
def _screen_bookings() -> QuerySet[Booking]:
    return (
        Booking.objects.filter(ids_in("pk", Ids("bookings")))
        .select_related("session", "service", "contact")
        .only(*_BOOKING_FIELDS, *_SESSION_FIELDS, *_SERVICE_FIELDS, *(f"contact__{name}" for name in _CONTACT_FIELDS))
        .annotate(owes_attendance=Subquery(_ATTENDANCE[:1]), owes_later=Exists(_PAY_LATER))
        .order_by()
    )


def owes_bookings_due(*, booking_ids: list[int]) -> list[tuple[Booking, Decimal]]:
    """The bookings (each once, with contact, service and session) and what each owes by the
    desk's rule (``money.amounts_due``: what a settle or a write-off takes), by session start.
    Three queries."""
    bookings = list(
        Booking.objects.filter(pk__in=booking_ids)
        .select_related("contact", "service", "session")
        .order_by("session__start", "pk")
    )
    dues = money.amounts_due(bookings)
    return [(b, dues[b.pk]) for b in bookings]


def written_off_list(*, start: datetime, end: datetime, limit: int = 200) -> list[WriteOff]:
    """Write-offs of bookings on sessions in [``start``, ``end``) — the owes list's range — or made
    in it, newest first (taken back ones too), at most ``limit``. One query."""
    return list(
        WriteOff.objects.filter(
            Q(booking__session__start__gte=start, booking__session__start__lt=end)
            | Q(created_at__gte=start, created_at__lt=end)
        )
        .select_related("contact", "booking__session", "booking__service", "created_by", "reversed_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def write_off_get(*, pk: int) -> WriteOff | None:
    return WriteOff.objects.filter(pk=pk).first()


def owes_plan_balances(*, contact_ids: list[int]) -> dict[int, list[BenefitBalance]]:
    """Contact pk → their live plan balances (active, with credit or unlimited), with what
    ``money.best_balance`` ranks them by. One query."""
    balances: dict[int, list[BenefitBalance]] = defaultdict(list)
    for balance in _plan_balances.run(contacts=contact_ids):
        balances[balance.member.contact_id].append(balance)
    return balances


_MIRROR_BOOKKEEPING = ("raw", "revision", "wix_updated_at", "synced_at")  # what no plan rule reads


@precompiled
def _plan_balances() -> QuerySet[BenefitBalance]:
    return (
        BenefitBalance.objects.filter(ids_in("member__contact_id", Ids("contacts")), status__iexact="ACTIVE")
        .filter(Q(unlimited=True) | Q(remaining_credits__gt=0))
        .select_related("member", "plan_order")
        .defer(*(f"{prefix}{name}" for prefix in ("", "member__", "plan_order__") for name in _MIRROR_BOOKKEEPING))
        .order_by("pk")
    )


def owes_plan_for(booking: Booking, balances: list[BenefitBalance], used: dict[int, int]) -> BenefitBalance | None:
    """The plan ``money.best_balance`` would suggest, with the credits the person's older bookings
    in the list would take from it already counted (``used``: balance pk → credits; updated)."""
    fitting = [b for b in balances if money.plan_problem(booking, b, b.member, already_used=used[b.pk]) is None]
    best = money.best_balance(booking, fitting)
    if best is not None and not best.unlimited:
        used[best.pk] += money.credits_needed(booking)
    return best


def _currency(owed: list[tuple[Any, ...]]) -> str:
    """The currency the list's money is in: the one most of it is in (a site sells in one)."""
    counts: dict[str, int] = defaultdict(int)
    for item in owed:
        counts[item[_CURRENCY]] += 1
    return max(counts, key=counts.__getitem__) if counts else ""
