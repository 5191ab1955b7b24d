"""Read queries for the screens. Each screen costs a fixed number of queries, whatever the
number of sessions or participants: counts come from SQL aggregates, related rows from
``select_related``/``prefetch_related``, never from a query per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings_app.models import (
    Attendance,
    Booking,
    Contact,
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
    return Q(Exists(paid_line)) | Q(
        selected_payment_option__in=PLAN_OPTIONS, payment_status__in=Booking.SETTLED_PAYMENT_STATUSES
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
        _roster_q(session_id=OuterRef("pk"), service_id=OuterRef("service_id")),
        status__in=Booking.ACTIVE_STATUSES,
    )
    plan = _charged_to_plan_q()
    attended = Attendance.objects.filter(session_id=OuterRef("pk"), status=Attendance.Status.ATTENDED)
    pending = Booking.objects.filter(
        _roster_q(session_id=OuterRef("pk"), service_id=OuterRef("service_id")), pending_sync=True
    )
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
    sessions = Session.objects.filter(start__gte=start, start__lt=end)
    if service_id is not None:
        sessions = sessions.filter(service_id=service_id)
    if staff_id is not None:
        sessions = sessions.filter(staff_id=staff_id)
    return _with_unpaid(list(_with_stats(sessions).order_by("start", "pk")))


def session_get(*, ref: str) -> Session | None:
    """A session by Wix event id, or by our pk for one not yet in Wix, with its roster numbers."""
    match = Q(wix_id=ref)
    if ref.isdigit() and len(ref) < 19:  # fits a 64-bit primary key
        match |= Q(pk=int(ref))
    exact_wix_id_first = Case(When(wix_id=ref, then=Value(0)), default=Value(1))
    session = _with_stats(Session.objects.filter(match)).order_by(exact_wix_id_first).first()
    return _with_unpaid([session])[0] if session else None


# --- Roster ----------------------------------------------------------------------------------


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

    @property
    def method_labels(self) -> list[str]:
        return [Payment.Method(m).label for m in self.methods]

    @property
    def is_settled(self) -> bool:
        return self.charged_to_plan or self.booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES

    @property
    def checked_in(self) -> bool:
        return self.attendance == Attendance.Status.ATTENDED


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


def roster_row_list(*, session: Session, search: str = "", include_cancelled: bool = False) -> list[RosterRow]:
    """Everyone on ``session``'s roster, by surname, filtered by name/email/phone.

    Three queries however many rows: the bookings (with contact, service and attendance),
    their order line items with orders, and those orders' payments.
    """
    bookings = Booking.objects.filter(_roster_q(session_id=session.pk, service_id=session.service_id))
    if not include_cancelled:
        bookings = bookings.filter(status__in=Booking.ROSTER_STATUSES)
    match = _search_q(search, prefix="contact__")
    if match is not None:
        bookings = bookings.filter(match)
    attendance = Attendance.objects.filter(booking_id=OuterRef("pk"), session_id=session.pk)
    line_items = OrderLineItem.objects.select_related("order").annotate(order_lines=Count("order__line_items"))
    bookings = (
        bookings.select_related("contact", "service")
        .annotate(
            attendance_status=Subquery(attendance.values("status")[:1]),
            attendees=Subquery(attendance.values("number_of_attendees")[:1]),
            on_plan=ExpressionWrapper(_charged_to_plan_q(), output_field=BooleanField()),
        )
        .prefetch_related(
            Prefetch("line_items", queryset=line_items),
            Prefetch(
                "line_items__order__payments",
                queryset=Payment.objects.filter(status__in=Payment.COUNTED_STATUSES).order_by("wix_created_at", "pk"),
            ),
        )
        .order_by("contact__last_name", "contact__first_name", "pk")
    )
    return [_roster_row(b) for b in bookings]


def _roster_row(booking: Booking) -> RosterRow:
    row = RosterRow(
        booking=booking,
        contact=booking.contact,
        attendance=booking.attendance_status or Attendance.Status.NOT_SET,
        attendees=booking.attendees or 0,
        charged_to_plan=booking.on_plan,
        currency=booking.service.currency,
    )
    orders = {}
    for item in booking.line_items.all():
        orders.setdefault(item.order_id, item.order)
        row.shared_order = row.shared_order or item.order_lines > 1
        for payment in item.order.payments.all():
            # A plan payment names the line it paid for; on a shared order it may be someone else's.
            if payment.method == Payment.Method.PLAN and payment.line_item_id not in ("", item.line_item_id):
                continue
            if payment.method not in row.methods:
                row.methods.append(payment.method)
    if not row.methods and row.charged_to_plan:
        row.methods.append(Payment.Method.PLAN)
    row.order_numbers = [o.number or o.wix_id or str(o.pk) for o in orders.values()]
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
