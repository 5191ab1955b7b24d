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
as plain values with their orders' balance summed in SQL (``owes_sql.ORDER_BALANCE``): for a
booking with nothing of the desk's on its way and no part payment without an order, the rule
above is just that balance, else the list price (:func:`_plain_due`, held to ``money``'s answers
by ``tests/selectors/test_owes.py``). The others — a payment or plan charge still on its way,
money the desk took before Wix had an order — are few, and go through ``money`` itself. Only
the people shown (one page; everyone for the printout and the export) are loaded as rows, and
everyone one person at a time, as the printout or the file reaches them (:class:`Everyone`).

A fixed number of queries however long the list: the range's sessions (marking each course's
first), the bookings, the orders shared by several of them, the desk's money on its way (and,
for the few concerned, their rows, orders and payments), then for the people shown their
bookings, contacts, attendance, plans and "pay later" marks — on the screen one query (the
bookings with their session, service and contact, attendance and mark) and their plans. The
queries are ``owes_sql``'s: every one whose inputs are lists of ids (the bookings' too, without
a search) compiled to SQL once per process.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from django.db.models import Q
from django.utils import timezone

from bookings_app import money
from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    WriteOff,
)
from bookings_app.selectors import owes_sql as sql
from bookings_app.selectors.precompiled import ids_in
from bookings_app.selectors.queries import search_q
from bookings_app.selectors.roster import bookings_orders_read

PER_PAGE = 30
ZERO = Decimal("0")
PS = Booking.PaymentStatus
_STATUS_LABELS = dict(Booking.Status.choices)
_PAYMENT_LABELS = dict(PS.choices)
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
    people: list[Debtor] | Everyone  # the screen's page; everyone, made as reached, for the printout and export
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
    if detail == SCREEN:
        read.people = _debtors(owed, order)
        _attach_rows(read.people)
    else:
        read.people = _everyone(owed, order, detail)
    return read


# A booking owed, as :func:`_owed` gives it: a plain tuple of plain values (no model, no object of
# ours: a range holds thousands, and tuples of plain values are not even tracked by Python's
# garbage collector once it has seen them).
_WHEN, _PK, _CONTACT, _DUE, _CURRENCY, _SHARES, _TITLE, _SESSION, _STATUS, _PAYMENT = range(10)


def _debtors(owed: list[tuple[Any, ...]], order: list[int]) -> list[Debtor]:
    """The people ``order`` lists (contact pks), in that order, each with their owed bookings."""
    people = {contact_id: Debtor(contact_id=contact_id, bookings=[]) for contact_id in order}
    for item in owed:
        person = people.get(item[_CONTACT])
        if person is not None:
            person.bookings.append(_owed_booking(item))
            person.total += item[_DUE]
    return list(people.values())


def _owed_booking(item: tuple[Any, ...]) -> OwedBooking:
    when, pk, contact_id, due, currency, shares, title, session_id, status, payment_status = item
    return OwedBooking(
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


class Everyone(Collection[Debtor]):
    """Everyone ``order`` lists, for the printout or the export: each :class:`Debtor` made as the
    page or the file reaches them, and let go once passed. Two thousand people and their
    bookings alive at once were some ten thousand objects for Python's garbage collector to
    carry into its oldest generation, and a full collection (tens of milliseconds) every few
    printouts. What they show (contacts; attendance and "pays later" marks for the export) is
    read beforehand, as plain values; iterating again makes them again."""

    def __init__(
        self,
        owed: list[tuple[Any, ...]],
        order: list[int],
        contacts: dict[int, tuple[Any, ...]],  # as OwedContact's fields, plain tuples
        marks: tuple[dict[tuple[int, int | None], str], set[int]] | None,
    ) -> None:
        self._owed, self._order, self._contacts, self._marks = owed, order, contacts, marks

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, person: object) -> bool:
        return isinstance(person, Debtor) and person.contact_id in self._order

    def __iter__(self) -> Iterator[Debtor]:
        rank = {contact_id: i for i, contact_id in enumerate(self._order)}
        # Each person's bookings together, the people in order; a stable sort keeps theirs oldest first.
        mine = sorted((item for item in self._owed if item[_CONTACT] in rank), key=lambda item: rank[item[_CONTACT]])
        for contact_id, items in groupby(mine, key=itemgetter(_CONTACT)):
            contact = self._contacts.get(contact_id)
            person = Debtor(
                contact_id=contact_id, bookings=[], contact=None if contact is None else OwedContact(*contact)
            )
            for item in items:
                person.bookings.append(booking := _owed_booking(item))
                person.total += item[_DUE]
                if self._marks is not None:
                    attendance, later = self._marks
                    booking.attendance = attendance.get(
                        (booking.booking_id, booking.session_id), Attendance.Status.NOT_SET
                    )
                    booking.marked_later = booking.booking_id in later
            yield person


def _owed(*, start: datetime, stop: datetime, search: str) -> list[tuple[Any, ...]]:
    """Every booking owing in the range with what it owes, oldest first (see :data:`_WHEN`)."""
    if stop <= start:
        return []
    base = sql.owing_base()
    match = search_q(search, prefix="contact__")
    if match is not None:
        base = base.filter(match)
    # The sessions and services as their own small reads: a start or a price per booking would be
    # thousands of values to read and convert.
    # A course's first session (the start of its bookings without a session of their own) is in
    # the range when one of the range's sessions is a course's with none of it before.
    starts, titles, course_starts = {}, {}, {}
    for pk, at, title, service_id, course_first in sql.sessions_in(start, stop):
        starts[pk], titles[pk] = at, title
        if course_first:
            course_starts[service_id] = at
    if not starts and not course_starts:
        return []
    if match is None:  # the usual case: the same SQL every time, compiled once (``precompiled``)
        rows = sql.OWING[bool(starts), bool(course_starts)].run(sessions=starts, courses=course_starts)
    else:
        where = Q(ids_in("session_id", starts)) if starts else Q()  # one parameter, not one per session
        if course_starts:
            where |= Q(session__isnull=True, service_id__in=list(course_starts))
        rows = list(sql.owing_rows(base.filter(where)))
    if not rows:
        return []
    prices = {pk: (price, currency, name) for pk, price, currency, name in sql.services.run()}

    shared: dict[int, set[int]] = defaultdict(set)  # booking pk → its orders (one pays for others too)
    sharing = [row[0] for row in rows if row[8]]
    if sharing:
        for booking_id, order_id in sql.lines_of.run(bookings=sharing):
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
    live = set(sql.live.run())
    # (a row: pk, …, payment status [5], …, orders' balance [7], None without an order; see owes_sql.ROW)
    ids = [r[0] for r in rows if r[0] in live or (r[5] == PS.PARTIALLY_PAID and r[7] is None)]
    if not ids:
        return {}
    bookings = sql.money_bookings.run(bookings=ids)
    read = bookings_orders_read(bookings=bookings)
    inflight: dict[int, list[DeskAction]] = defaultdict(list)  # ``money.inflight_by_booking``'s
    for action in sql.inflight.run(bookings=ids):
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


def _everyone(owed: list[tuple[Any, ...]], order: list[int], detail: str) -> Everyone:
    """The people of ``order`` for the printout (their contacts) or the export (with each
    booking's attendance at its session and the desk's "pays later" marks): three queries at
    most, none for nobody; every list of ids as one parameter (``ids_in``)."""
    if not order:
        return Everyone(owed, order, {}, None)
    # Plain tuples until their person is reached: Python stops tracking those, not a NamedTuple.
    contacts = {row[0]: row for row in sql.contacts.run(contacts=order)}
    if detail == PRINT:
        return Everyone(owed, order, contacts, None)
    shown = set(order)
    ids = [item[_PK] for item in owed if item[_CONTACT] in shown]
    attendance = {
        (booking_id, session_id): status for booking_id, session_id, status in sql.attendance.run(bookings=ids)
    }
    return Everyone(owed, order, contacts, (attendance, set(sql.later.run(bookings=ids))))


def _attach_rows(people: list[Debtor]) -> None:
    """What the screen's people need: each booking's row (with its session, service and contact, its
    attendance at its session and whether the desk marked it "pays later", in one query) and a
    plan that can pay it (one query)."""
    if not people:
        return
    ids = [item.booking_id for person in people for item in person.bookings]
    bookings = {b.pk: b for b in sql.screen_bookings.run(bookings=ids)}
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
    for balance in sql.plan_balances.run(contacts=contact_ids):
        balances[balance.member.contact_id].append(balance)
    return balances


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
