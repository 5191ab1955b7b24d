"""Read queries for the screens. Each screen costs a fixed number of queries, whatever the
number of sessions or participants: counts come from SQL aggregates, related rows from
``select_related``/``prefetch_related``, never from a query per row."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import formats, timezone

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
    SyncState,
    normalise_phone,
    normalise_text,
)

# How often the sync polls Wix; the header warns when the last success is older than twice this.
DEFAULT_SYNC_INTERVAL_SECONDS = 120

PLAN_OPTIONS = (Booking.PaymentOption.MEMBERSHIP, Booking.PaymentOption.MEMBERSHIP_OFFLINE)


# --- shared building blocks ------------------------------------------------------------------


def _roster_q(*, session_id: object, service_id: object) -> Q:
    """The bookings on a session's roster: booked onto the event itself, or — for a course —
    booked onto the course's schedule (no session; they attend every session of the course)."""
    return Q(session_id=session_id) | Q(session__isnull=True, service_id=service_id, service__type=Service.Type.COURSE)


def _session_roster_q(session: Session) -> Q:
    """``_roster_q`` for one session. With the session's service loaded (``session_get`` loads
    it) the course test is made here rather than in SQL: a class's roster is then just its own
    bookings, a query without the join to the service and the OR, which PostgreSQL plans and
    runs faster."""
    if not Session._meta.get_field("service").is_cached(session):
        return _roster_q(session_id=session.pk, service_id=session.service_id)
    q = Q(session_id=session.pk)
    if session.service.type == Service.Type.COURSE:
        q |= Q(session__isnull=True, service_id=session.service_id)
    return q


def _outer_roster_q() -> Q:
    """``_roster_q`` inside a subquery on sessions: the course test reads the outer query's
    service (already joined for ``select_related``) instead of joining the service again in
    every subquery."""
    is_course = Exact(OuterRef("service__type"), Value(Service.Type.COURSE))
    return Q(session_id=OuterRef("pk")) | Q(is_course, session__isnull=True, service_id=OuterRef("service_id"))


def _charged_to_plan_q() -> Q:
    """A booking paid with a pricing plan: a standing plan payment on its order, or — with no
    order mirrored — a settled booking whose chosen payment option is a plan."""
    # A plan payment names the line it paid for: on an order shared by several bookings it
    # pays for that line's booking only.
    plan_payment = Payment.objects.filter(
        Q(line_item_id="") | Q(line_item_id=OuterRef("line_item_id")),
        order_id=OuterRef("order_id"),
        method=Payment.Method.PLAN,
        status__in=Payment.COUNTED_STATUSES,
    )
    paid_line = OrderLineItem.objects.filter(Exists(plan_payment), booking_id=OuterRef("pk"))
    any_line = OrderLineItem.objects.filter(booking_id=OuterRef("pk"))
    return Q(Exists(paid_line)) | Q(
        ~Exists(any_line),
        selected_payment_option__in=PLAN_OPTIONS,
        payment_status__in=Booking.SETTLED_PAYMENT_STATUSES,
    )


def _sum(queryset: QuerySet, column: str) -> Coalesce:
    """SUM(column) over ``queryset`` as a scalar subquery (no GROUP BY), 0 when empty."""
    total = queryset.order_by().values(total=Func(F(column), function="SUM", output_field=IntegerField()))
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def _with_stats(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Annotate sessions with their roster numbers, all in the sessions' own query.

    Correlated subqueries rather than JOIN + Sum: a course session's bookings hang off the
    service, a class's off the event, and attendance off the session — joining several of
    those one-to-many paths at once would multiply rows and inflate the sums.
    """
    active = Booking.objects.filter(
        _outer_roster_q(),
        status__in=Booking.ACTIVE_STATUSES,
    )
    plan = _charged_to_plan_q()
    attended = Attendance.objects.filter(session_id=OuterRef("pk"), status=Attendance.Status.ATTENDED)
    pending = Booking.objects.filter(_outer_roster_q(), pending_sync=True)
    return sessions.select_related("service", "staff").annotate(
        places=Coalesce("capacity", "service__default_capacity"),
        booked=_sum(active, "total_participants"),
        plan_count=_sum(active.filter(plan), "total_participants"),
        paid_count=_sum(
            active.filter(payment_status__in=Booking.SETTLED_PAYMENT_STATUSES).exclude(plan),
            "total_participants",
        ),
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


def _with_unpaid(sessions: list[Session]) -> list[Session]:
    # Derived here rather than in SQL, where it would evaluate the three subqueries again.
    for session in sessions:
        session.unpaid_count = session.booked - session.paid_count - session.plan_count
    return sessions


# --- Today -----------------------------------------------------------------------------------


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and end of ``day`` in the business time zone, as aware datetimes."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def session_day_list(*, day: date, service_id: int | None = None, staff_id: int | None = None) -> list[Session]:
    """The day's sessions (classes, course sessions, appointments) in start order, each
    annotated with ``places``, ``booked``, ``paid_count``, ``plan_count``, ``unpaid_count``,
    ``checked_in`` and ``pending_count`` — one query."""
    start, end = day_bounds(day)
    sessions = _sessions_with_stats().filter(start__gte=start, start__lt=end)
    if service_id is not None:
        sessions = sessions.filter(service_id=service_id)
    if staff_id is not None:
        sessions = sessions.filter(staff_id=staff_id)
    return _with_unpaid(list(sessions.order_by("start", "pk")))


def session_get(*, ref: str) -> Session | None:
    """A session by Wix event id, or by our pk for one not yet in Wix, with its roster numbers."""
    match = Q(wix_id=ref)
    if ref.isdigit() and len(ref) < 19:  # fits a 64-bit primary key
        match |= Q(pk=int(ref))
    exact_wix_id_first = Case(When(wix_id=ref, then=Value(0)), default=Value(1))
    session = _sessions_with_stats().filter(match).order_by(exact_wix_id_first).first()
    return _with_unpaid([session])[0] if session else None


# --- Roster ----------------------------------------------------------------------------------

_STATUS_LABELS = dict(Booking.Status.choices)
_PAYMENT_STATUS_LABELS = dict(Booking.PaymentStatus.choices)


@dataclass
class RosterRow:
    booking: Booking
    contact: Contact
    attendance: str  # Attendance.Status value
    attendees: int
    methods: list[str] = field(default_factory=list)  # Payment.Method values, in order of payment
    charged_to_plan: bool = False
    amount_due: Decimal | None = None  # None: nothing to collect
    currency: str = ""
    due_from_order: bool = False  # False: no order yet, the due amount is the service price
    order_numbers: list[str] = field(default_factory=list)
    shared_order: bool = False  # the order also pays for other bookings; its balance is theirs too
    desk: DeskRowState | None = None  # filled by roster_desk_state_attach for the desk actions
    urls: dict[str, str] = field(default_factory=dict)  # the row's desk action URLs, filled by the views
    key: str = ""  # the row's form token (idempotency key), filled by the views with ``urls``

    @property
    def method_labels(self) -> list[str]:
        return [Payment.Method(m).label for m in self.methods]

    # The row's attribute values and labels, made here once rather than by filters and
    # conditions in the template, which renders them for every row of a 120-person class.
    @property
    def pk(self) -> str:
        return str(self.booking.pk)

    @property
    def css(self) -> str:
        attention = " has-attention" if self.desk and self.desk.attention else ""
        return f"booking status-{self.booking.status.lower()}{attention}"

    @property
    def status_css(self) -> str:
        return f"status-{self.booking.status.lower()}"

    @property
    def payment_css(self) -> str:
        return f"pay-{self.booking.payment_status.lower()}{' pay-plan' if self.charged_to_plan else ''}"

    @property
    def waiting(self) -> bool:
        """A change made here that Wix has not confirmed yet."""
        return self.booking.pending_sync or bool(self.desk and self.desk.waiting)

    @property
    def due_text(self) -> str:
        """What is due with its currency ("12.00 GBP"), the number as the template would show it."""
        if self.amount_due is None:
            return ""
        return f"{formats.localize(self.amount_due)} {self.currency}".rstrip()

    # What the roster shows, worked out once per row here rather than in the template, which
    # renders it for every row (``get_FOO_display()`` rebuilds its choices on every call).
    @property
    def status_label(self) -> str:
        return _STATUS_LABELS.get(self.booking.status, self.booking.status)

    @property
    def payment_label(self) -> str:
        """The payment badge: "Plan" for a booking charged to a plan, else the payment status."""
        if self.charged_to_plan:
            return "Plan"
        return _PAYMENT_STATUS_LABELS.get(self.booking.payment_status, self.booking.payment_status)

    @property
    def payment_methods(self) -> list[str]:
        """How it was paid, next to the badge: the mirror's payments then the desk's (without a
        second "Plan" beside a "Plan" badge)."""
        labels = (self.desk.method_labels if self.desk else None) or self.method_labels
        return [label for label in labels if not (self.charged_to_plan and label == "Plan")]

    @property
    def is_settled(self) -> bool:
        return self.charged_to_plan or self.booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES

    @property
    def checked_in(self) -> bool:
        return self.attendance == Attendance.Status.ATTENDED

    @property
    def has_actions(self) -> bool:
        """The row gets a line of desk actions: a live booking with something left to do (a
        "quiet" row keeps its one action in the attendance cell)."""
        return (
            self.desk is not None
            and not self.desk.quiet
            and self.booking.status not in (Booking.Status.CANCELED, Booking.Status.DECLINED)
        )

    @property
    def offers_payment(self) -> bool:
        """The desk can take money on the row: something is due, and nothing needs attention first."""
        return self.amount_due is not None and not (self.desk and self.desk.attention)


def _search_q(search: str, prefix: str = "") -> Q | None:
    """Match a name (every word), an email or a phone number fragment."""
    words = normalise_text(search).split()
    if not words:
        return None
    by_name = Q()
    for word in words:
        by_name &= Q(**{f"{prefix}search_name__contains": word})
    match = by_name | Q(**{f"{prefix}search_email__contains": search.strip().casefold()})
    digits = normalise_phone(search)
    if len(digits) >= 3:
        match |= Q(**{f"{prefix}search_phone__contains": digits})
    return match


# Mirror columns the roster never shows: the last Wix payload (a JSON document per row, decoded
# into dicts and lists on every load) and the sync bookkeeping. Deferred on the roster's bookings,
# and its contacts load only what a row shows; code that does read another field still gets it
# (one query for that row), so leave them out only here.
_MIRROR_BOOKKEEPING = ("raw", "revision", "wix_updated_at", "synced_at")
_ROSTER_DEFERRED = (*_MIRROR_BOOKKEEPING, "wix_created_at")
_ROSTER_CONTACT_FIELDS = ("id", "wix_id", "first_name", "last_name", "email", "phone")


class _OrderLine(NamedTuple):
    """What a row needs of one of its booking's order lines, and of that line's order."""

    booking_id: int
    order_id: int
    line_item_id: str
    order_lines: int  # lines on the order: more than one, and its balance is shared
    number: str
    wix_id: str | None
    balance: Decimal
    currency: str


def roster_row_list(
    *, session: Session, search: str = "", include_cancelled: bool = False, booking_ids: list[int] | None = None
) -> list[RosterRow]:
    """Everyone on ``session``'s roster, by surname, filtered by name/email/phone (or just
    ``booking_ids``, for re-rendering rows after a desk action).

    Five plain queries however many rows — the bookings, their contacts, their attendance at
    this session, their order lines with the orders' balances, and those orders' counted
    payments (and one for the service, unless the session comes with it) — each a simple
    lookup by id, rather than one query with joins and correlated subqueries: those cost more
    to build in Python and to plan in PostgreSQL than the lookups cost to run, and a join to
    every contact grows with the contact list. Whether a booking is charged to a plan is worked
    out from the lines and payments already loaded (``_on_plan``). The money comes as plain
    values, not model instances, and the bookings share the session's service rather than each
    loading a copy.
    """
    bookings_qs = Booking.objects.filter(_session_roster_q(session)).defer(*_ROSTER_DEFERRED)
    if booking_ids is not None:
        bookings_qs = bookings_qs.filter(pk__in=booking_ids)
    if not include_cancelled:
        bookings_qs = bookings_qs.filter(status__in=Booking.ROSTER_STATUSES)
    match = _search_q(search, prefix="contact__")
    if match is not None:
        bookings_qs = bookings_qs.filter(match)
    bookings = list(bookings_qs)
    if not bookings:
        return []
    ids = [b.pk for b in bookings]
    _share_services(bookings, session)
    contacts = Contact.objects.only(*_ROSTER_CONTACT_FIELDS).in_bulk({b.contact_id for b in bookings})
    cache_contact = Booking._meta.get_field("contact").set_cached_value
    for booking in bookings:
        cache_contact(booking, contacts[booking.contact_id])
    attendance = {
        booking_id: (status, attendees)
        for booking_id, status, attendees in Attendance.objects.filter(
            session_id=session.pk, booking_id__in=ids
        ).values_list("booking_id", "status", "number_of_attendees")
    }
    lines: dict[int, list[_OrderLine]] = {}
    for line in (
        OrderLineItem.objects.filter(booking_id__in=ids)
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
    ):
        line = _OrderLine(*line)
        lines.setdefault(line.booking_id, []).append(line)
    payments: dict[int, list[tuple[str, str]]] = {}
    if lines:
        order_ids = {line.order_id for booking_lines in lines.values() for line in booking_lines}
        for order_id, method, line_item_id in (
            Payment.objects.filter(order_id__in=order_ids, status__in=Payment.COUNTED_STATUSES)
            .values_list("order_id", "method", "line_item_id")
            .order_by("wix_created_at", "pk")
        ):
            payments.setdefault(order_id, []).append((method, line_item_id))
    # By surname, then first name, the same on every database: case, accents and punctuation
    # aside ("de Vries" among the D's, "Ó'Brien" among the O's).
    bookings.sort(key=lambda b: (normalise_text(b.contact.last_name), normalise_text(b.contact.first_name), b.pk))
    return [_roster_row(b, attendance.get(b.pk, (None, 0)), lines.get(b.pk, []), payments) for b in bookings]


def _on_plan(booking: Booking, lines: list[_OrderLine], payments: dict[int, list[tuple[str, str]]]) -> bool:
    """``_charged_to_plan_q`` for one booking, from its order lines and their orders' counted
    payments as the roster loads them: a plan payment on its order that is for its line (or for
    no line in particular), or — with no order mirrored — a settled booking whose chosen payment
    option is a plan. ``tests/test_selectors.py`` holds the two to the same answers."""
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


def _roster_row(
    booking: Booking,
    attendance: tuple[str | None, int | None],
    lines: list[_OrderLine],
    payments: dict[int, list[tuple[str, str]]],
) -> RosterRow:
    status, attendees = attendance
    row = RosterRow(
        booking=booking,
        contact=booking.contact,
        attendance=status or Attendance.Status.NOT_SET,
        attendees=attendees or 0,
        charged_to_plan=_on_plan(booking, lines, payments),
        currency=booking.service.currency,
    )
    orders: dict[int, _OrderLine] = {}
    for line in lines:
        orders.setdefault(line.order_id, line)
        row.shared_order = row.shared_order or line.order_lines > 1
        for method, line_item_id in payments.get(line.order_id, ()):
            # A plan payment names the line it paid for; on a shared order it may be someone else's.
            if method == Payment.Method.PLAN and line_item_id not in ("", line.line_item_id):
                continue
            if method not in row.methods:
                row.methods.append(method)
    if not row.methods and row.charged_to_plan:
        row.methods.append(Payment.Method.PLAN)
    row.order_numbers = [o.number or o.wix_id or str(o.order_id) for o in orders.values()]
    if orders:
        row.due_from_order = True
        row.amount_due = sum((o.balance for o in orders.values()), Decimal("0"))
        row.currency = next(iter(orders.values())).currency or row.currency
    elif not row.is_settled and booking.service.price:
        row.amount_due = booking.service.price * booking.total_participants
    if row.amount_due is not None and row.amount_due <= 0:
        row.amount_due = None
    return row


def contact_search(*, query: str, limit: int = 20) -> list[Contact]:
    """Contacts matching a name (every word), an email or a phone fragment, by surname."""
    match = _search_q(query)
    if match is None:
        return []
    return list(Contact.objects.filter(match).order_by("last_name", "first_name", "pk")[:limit])


# --- desk actions on the roster ----------------------------------------------------------------

OPEN_ACTION_STATUSES = (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING, DeskAction.Status.NEEDS_ATTENTION)
# What a manager may reverse once Wix has it (services.desk.action_reverse).
REVERSIBLE_KINDS = (DeskAction.Kind.WALK_IN, DeskAction.Kind.PAYMENT, DeskAction.Kind.PLAN_CHARGE)
# The reverse of an action, as a new action, names the one it reverses in its params.
REVERSE_KINDS = (DeskAction.Kind.CANCEL_BOOKING, DeskAction.Kind.VOID_PLAN_CHARGE, DeskAction.Kind.REFUND)
REVERSE_LABELS = {
    DeskAction.Kind.WALK_IN: "Cancel the booking",
    DeskAction.Kind.PLAN_CHARGE: "Void the plan charge (credit back)",
    DeskAction.Kind.PAYMENT: "Record a refund",
}
PAYMENT_METHOD_LABELS = {"CASH": "Cash", "CARD": "Card", "CHECK": "Cheque"}


@dataclass
class DeskRowState:
    """What the desk shows and offers on one roster row beyond the mirror's own state."""

    balances: list[BenefitBalance] = field(default_factory=list)  # plans that can pay for this booking
    attention: list[DeskAction] = field(default_factory=list)  # NEEDS_ATTENTION, oldest first
    undoable: list[DeskAction] = field(default_factory=list)  # still inside the undo window
    waiting: bool = False  # an action is queued or running: Wix does not have it yet
    reversible: list[tuple[DeskAction, str]] = field(default_factory=list)  # synced: (action, what reversing does)
    method_labels: list[str] = field(default_factory=list)  # how it was paid: the mirror's payments, then the desk's
    unsynced_paid: Decimal = Decimal("0")  # money taken at the desk that Wix has not heard of yet
    synced_paid: Decimal = Decimal("0")  # money taken at the desk that Wix has

    quiet: bool = False  # nothing to do on the row: paid (or nothing due) and checked in, nothing pending

    @property
    def undo_seconds(self) -> int:
        """Seconds left on the newest undoable action (for the countdown on the Undo button)."""
        if not self.undoable:
            return 0
        left = (self.undoable[-1].run_after - timezone.now()).total_seconds()
        return max(0, round(left))


def balance_covers(balance: BenefitBalance, service: Service) -> bool:
    """Whether a plan balance can pay for ``service`` now: active, with credit, in Wix, and
    covering the service (an empty coverage list means the mirror doesn't know: Wix decides
    when the charge is pushed — as ``services.desk`` judges it)."""
    if (balance.status or "").upper() != "ACTIVE":
        return False
    if not balance.unlimited and (balance.remaining_credits is None or balance.remaining_credits < 1):
        return False
    if not balance.wix_id or not balance.member.wix_id:
        return False
    covered = balance.covered_service_ids or []
    return not covered or service.wix_id in covered


def roster_desk_state_attach(
    *, rows: list[RosterRow], can_reverse: bool = False, now: datetime | None = None
) -> list[RosterRow]:
    """Give every row its ``desk`` state — two queries however many rows: the bookings' desk
    actions that still matter, and the plan balances of the people on the rows. ``can_reverse``:
    the viewer may reverse synced actions (a row offering that is never "quiet")."""
    now = now or timezone.now()
    booking_ids = [r.booking.pk for r in rows]
    contact_ids = {r.contact.pk for r in rows}
    states = {r.booking.pk: DeskRowState() for r in rows}
    if not rows:
        return rows
    actions = (
        DeskAction.objects.filter(booking_id__in=booking_ids)
        .filter(
            Q(status__in=OPEN_ACTION_STATUSES)
            | Q(status=DeskAction.Status.SYNCED, kind__in=REVERSIBLE_KINDS)
            | Q(kind__in=REVERSE_KINDS)
        )
        .exclude(status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED))
        .order_by("created_at", "pk")
    )
    reversed_ids: set[str] = set()
    by_booking: dict[int, list[DeskAction]] = {}
    for action in actions:
        by_booking.setdefault(action.booking_id, []).append(action)
        if action.kind in REVERSE_KINDS:
            reversed_ids.add(str((action.params or {}).get("reverses", "")))
    for booking_id, booking_actions in by_booking.items():
        state = states[booking_id]
        for action in booking_actions:
            if action.status == DeskAction.Status.NEEDS_ATTENTION:
                state.attention.append(action)
            elif action.status in (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING):
                state.waiting = True
                if action.can_undo(now=now):
                    state.undoable.append(action)
            elif action.kind in REVERSIBLE_KINDS and str(action.pk) not in reversed_ids:
                state.reversible.append((action, REVERSE_LABELS[action.kind]))
            if action.kind == DeskAction.Kind.PAYMENT:
                label = PAYMENT_METHOD_LABELS.get(str((action.params or {}).get("method", "")).upper())
                if label and label not in state.method_labels:
                    state.method_labels.append(label)
                amount = Decimal(str((action.params or {}).get("amount") or "0"))
                if action.status == DeskAction.Status.SYNCED:
                    state.synced_paid += amount
                else:
                    state.unsynced_paid += amount
            elif action.kind == DeskAction.Kind.PLAN_CHARGE and "Plan" not in state.method_labels:
                state.method_labels.append("Plan")
    balances = (
        BenefitBalance.objects.filter(member__contact_id__in=contact_ids, status__iexact="ACTIVE")
        .filter(Q(unlimited=True) | Q(remaining_credits__gt=0))
        .select_related("member")
        .order_by("unlimited", "remaining_credits", "pk")  # use up the pass with fewest credits first
    )
    by_contact: dict[int, list[BenefitBalance]] = {}
    for balance in balances:
        by_contact.setdefault(balance.member.contact_id, []).append(balance)
    for row in rows:
        state = states[row.booking.pk]
        state.balances = [b for b in by_contact.get(row.contact.pk, []) if balance_covers(b, row.booking.service)]
        state.method_labels = [*row.method_labels, *(m for m in state.method_labels if m not in row.method_labels)]
        state.quiet = (
            row.amount_due is None
            and row.attendance == Attendance.Status.ATTENDED
            and not state.attention
            and not state.undoable
            and not (can_reverse and state.reversible)
        )
        if row.amount_due is not None:
            # The mirrored order's balance already counts what Wix has; the list price counts nothing.
            taken = state.unsynced_paid + (Decimal("0") if row.due_from_order else state.synced_paid)
            if taken:
                left = row.amount_due - taken
                row.amount_due = left if left > 0 else None
        row.desk = state
    return rows


def roster_booking_get(*, session: Session, booking_id: int) -> Booking | None:
    """A booking on ``session``'s roster (a course booking belongs to every course session)."""
    return (
        Booking.objects.filter(_session_roster_q(session), pk=booking_id)
        .select_related("contact", "service", "session")
        .first()
    )


def desk_action_get(*, session: Session, action_id: int) -> DeskAction | None:
    """A desk action on one of ``session``'s roster bookings."""
    return (
        DeskAction.objects.filter(
            pk=action_id,
            booking__in=Booking.objects.filter(_session_roster_q(session)),
        )
        .select_related("booking")
        .first()
    )


def roster_contact_ids(*, session: Session, contact_ids: list[int]) -> set[int]:
    """Which of ``contact_ids`` already hold a place on ``session``'s roster. One query."""
    return set(
        Booking.objects.filter(
            _session_roster_q(session),
            contact_id__in=contact_ids,
            status__in=Booking.ROSTER_STATUSES,
        ).values_list("contact_id", flat=True)
    )


def desk_action_key_used(*, key: str) -> bool:
    """Whether a desk action was already made with this form token (a re-sent form)."""
    return DeskAction.objects.filter(idempotency_key=key).exists()


def appointment_service_list() -> list[Service]:
    """The services booked as appointments, for the "Book appointment" screen."""
    return list(Service.objects.filter(type=Service.Type.APPOINTMENT, hidden=False).order_by("name"))


# --- header ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    last_success_at: datetime | None
    stale: bool  # no successful sync for more than twice the sync interval
    failing: bool  # some entity's last attempt failed after its last success: Wix unreachable?
    last_error: str
    running: bool

    @property
    def never(self) -> bool:
        return self.last_success_at is None


def sync_status_get(*, now: datetime | None = None) -> SyncStatus:
    """How fresh the mirror is, for the header. One query (two when something is failing)."""
    now = now or timezone.now()
    interval = timedelta(seconds=getattr(settings, "WIX_SYNC_INTERVAL_SECONDS", DEFAULT_SYNC_INTERVAL_SECONDS))
    failing_q = Q(last_error_at__isnull=False) & (
        Q(last_success_at__isnull=True) | Q(last_error_at__gt=F("last_success_at"))
    )
    agg = SyncState.objects.aggregate(
        last_success=Max("last_success_at"),
        failing=Count("pk", filter=failing_q),
        running=Count("pk", filter=Q(running=True)),
    )
    last_success = agg["last_success"]
    last_error = ""
    if agg["failing"]:
        latest = SyncState.objects.filter(failing_q).order_by("-last_error_at").values_list("last_error", flat=True)
        last_error = latest.first() or ""
    return SyncStatus(
        last_success_at=last_success,
        stale=last_success is not None and now - last_success > 2 * interval,
        failing=bool(agg["failing"]),
        last_error=last_error,
        running=bool(agg["running"]),
    )
