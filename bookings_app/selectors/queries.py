"""The query pieces the selectors share: which bookings are on a session's roster, which are
paid with a plan, which are written off, which contacts match a search."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.lookups import Exact

from bookings_app.models import (
    Booking,
    DeskAction,
    OrderLineItem,
    Payment,
    Service,
    Session,
    WriteOff,
    normalise_phone,
    normalise_text,
)

PLAN_OPTIONS = (Booking.PaymentOption.MEMBERSHIP, Booking.PaymentOption.MEMBERSHIP_OFFLINE)


def roster_q(*, session_id: object, service_id: object) -> Q:
    """The bookings on a session's roster: booked onto the event itself, or — for a course —
    booked onto the course's schedule (no session; they attend every session of the course)."""
    return Q(session_id=session_id) | Q(session__isnull=True, service_id=service_id, service__type=Service.Type.COURSE)


def session_roster_q(session: Session) -> Q:
    """``roster_q`` for one session. With the session's service loaded (``session_get`` loads
    it) the course test is made here rather than in SQL: a class's roster is then just its own
    bookings, a query without the join to the service and the OR, which PostgreSQL plans and
    runs faster."""
    if not Session._meta.get_field("service").is_cached(session):
        return roster_q(session_id=session.pk, service_id=session.service_id)
    q = Q(session_id=session.pk)
    if session.service.type == Service.Type.COURSE:
        q |= Q(session__isnull=True, service_id=session.service_id)
    return q


def outer_roster_q() -> Q:
    """``roster_q`` inside a subquery on sessions: the course test reads the outer query's
    service (already joined for ``select_related``) instead of joining the service again in
    every subquery."""
    is_course = Exact(OuterRef("service__type"), Value(Service.Type.COURSE))
    return Q(session_id=OuterRef("pk")) | Q(is_course, session__isnull=True, service_id=OuterRef("service_id"))


def plan_paid_lines(booking: OuterRef) -> QuerySet[OrderLineItem]:
    """The order lines of ``booking`` (an outer reference) that a standing plan payment paid."""
    # A plan payment names the line it paid for: on an order shared by several bookings it
    # pays for that line's booking only.
    plan_payment = Payment.objects.filter(
        Q(line_item_id="") | Q(line_item_id=OuterRef("line_item_id")),
        order_id=OuterRef("order_id"),
        method=Payment.Method.PLAN,
        status__in=Payment.COUNTED_STATUSES,
    )
    return OrderLineItem.objects.filter(Exists(plan_payment), booking_id=booking)


def charged_to_plan_q() -> Q:
    """A booking paid with a pricing plan: a standing plan payment on its order, or — with no
    order mirrored — a settled booking whose chosen payment option is a plan."""
    paid_line = plan_paid_lines(OuterRef("pk"))
    any_line = OrderLineItem.objects.filter(booking_id=OuterRef("pk"))
    return Q(Exists(paid_line)) | Q(
        ~Exists(any_line),
        selected_payment_option__in=PLAN_OPTIONS,
        payment_status__in=Booking.SETTLED_PAYMENT_STATUSES,
    )


def written_off_q() -> Q:
    """A booking whose debt a manager wrote off (a standing write-off, not reversed): off the
    owes list and out of the "unpaid" counts, though Wix still says NOT_PAID (models.write_offs)."""
    return Q(Exists(WriteOff.objects.filter(booking_id=OuterRef("pk"), reversed_at__isnull=True)))


def search_q(search: str, prefix: str = "") -> Q | None:
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


def desk_plan_q() -> Q:
    """A booking paid with a plan as the desk sees it: a plan charge of the desk's still on its
    way to Wix; else, with no money change of the desk's on its way (a void, a refund, a payment
    instead), what the mirror says (``charged_to_plan_q``). A charge Wix has is the mirror's to
    count, so nothing is counted twice; a void on its way makes the booking unpaid at once."""
    live = DeskAction.objects.filter(booking_id=OuterRef("pk"), status__in=DeskAction.LIVE_STATUSES)
    charging = live.filter(kind=DeskAction.Kind.PLAN_CHARGE)
    money_moving = live.filter(kind__in=(*DeskAction.MONEY_KINDS, *DeskAction.REVERSAL_KINDS))
    return Q(Exists(charging)) | (~Q(Exists(money_moving)) & charged_to_plan_q())
