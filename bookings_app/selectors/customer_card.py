"""The customer card's reads: who they are, the notes and alerts staff keep about them, their
emergency contact, membership and plans with credits left, visits, payments, and the bookings
that may still owe something — all from the mirror and our own rows, never from Wix.

A fixed number of queries whatever the customer's history: each list is one query (limited to
what the card shows), the history's totals one aggregate. What a booking still owes is the
desk's rule (``money.amounts_due``), applied by the caller to :attr:`CustomerCardRead.open_bookings`
(selectors use models only). The check-in alerts of many customers at once (search hits, the
sign-in sheet) are one query each: :func:`customer_alerts`, :func:`sign_in_sheet_notes`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, FilteredRelation, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings_app.models import (
    Attendance,
    BenefitBalance,
    Booking,
    Contact,
    CustomerNote,
    DeskAction,
    EmergencyContact,
    Member,
    Order,
    OrderLineItem,
    Payment,
    PlanOrder,
)

RECENT_VISITS = 12
UPCOMING_VISITS = 6
PAYMENTS_SHOWN = 12
ARCHIVED_NOTES_SHOWN = 20
# The order alerts are shown in: what could hurt someone first.
_A = CustomerNote.Alert
ALERT_ORDER = [_A.MEDICAL, _A.WAIVER, _A.PAYMENT, _A.OTHER]
_ALERT_RANK = {alert.value: i for i, alert in enumerate(ALERT_ORDER)}
_MIRROR_BOOKKEEPING = ("raw", "revision", "wix_updated_at", "synced_at")


@dataclass
class Visit:
    """One booking in the card's visits: its attendance at its session, or — a course booking,
    which attends every session of the course — how many sessions it was checked in at."""

    booking: Booking
    attendance: str = Attendance.Status.NOT_SET
    sessions_attended: int = 0

    @property
    def when(self) -> datetime | None:
        return self.booking.session.start if self.booking.session else None

    @property
    def attendance_label(self) -> str:
        return Attendance.Status(self.attendance).label


@dataclass
class PaymentLine:
    """A payment on one of the customer's orders, with what it paid for (its order's lines)."""

    payment: Payment
    what: str


@dataclass
class CustomerCardRead:
    contact: Contact
    member: Member | None
    emergency: EmergencyContact | None
    notes: list[CustomerNote]  # current: alerts first (medical first), then the newest
    archived_notes: list[CustomerNote]
    plan_orders: list[PlanOrder]  # newest first, each with ``card_balances`` (its plan credits)
    other_balances: list[BenefitBalance]  # balances whose plan order is not mirrored
    upcoming: list[Visit]
    recent: list[Visit]
    visits_attended: int
    last_attended: datetime | None
    open_bookings: list[Booking]  # taking a place (confirmed, pending): what may still owe, service and session loaded
    payments: list[PaymentLine]
    payments_on_the_way: list[DeskAction] = field(default_factory=list)  # money the desk took, not in Wix yet

    @property
    def alerts(self) -> list[str]:
        """The alert kinds of the current notes, most serious first, each once."""
        return sorted({n.alert for n in self.notes if n.alert}, key=_ALERT_RANK.__getitem__)

    @property
    def alert_labels(self) -> list[tuple[str, str]]:
        return [(alert, CustomerNote.Alert(alert).label) for alert in self.alerts]


def customer_card_read(*, contact_id: int) -> CustomerCardRead | None:
    """Everything the customer card shows of ``contact_id``, or None when there is no such
    contact. At most twelve queries, however long their history."""
    contact = (
        Contact.objects.filter(pk=contact_id)
        .select_related("member", "emergency_contact")
        .defer(*_MIRROR_BOOKKEEPING)
        .first()
    )
    if contact is None:
        return None
    member = _one_to_one(contact, "member")
    notes = list(
        CustomerNote.objects.filter(contact=contact)
        .select_related("created_by", "updated_by")
        .order_by("-updated_at", "-pk")
    )
    current = sorted(
        (n for n in notes if not n.is_archived), key=lambda n: (_ALERT_RANK.get(n.alert, len(_ALERT_RANK)),)
    )
    plan_orders, other_balances = _plans(member)
    upcoming, recent = _visits(contact)
    stats = Attendance.objects.filter(booking__contact=contact, status=Attendance.Status.ATTENDED).aggregate(
        n=Count("pk"), last=Max("session__start")
    )
    return CustomerCardRead(
        contact=contact,
        member=member,
        emergency=_one_to_one(contact, "emergency_contact"),
        notes=current,
        archived_notes=[n for n in notes if n.is_archived][:ARCHIVED_NOTES_SHOWN],
        plan_orders=plan_orders,
        other_balances=other_balances,
        upcoming=upcoming,
        recent=recent,
        visits_attended=stats["n"] or 0,
        last_attended=stats["last"],
        open_bookings=list(
            Booking.objects.filter(contact=contact, status__in=Booking.ACTIVE_STATUSES)
            .select_related("service", "session")
            .defer(*_MIRROR_BOOKKEEPING, *(f"service__{f}" for f in _MIRROR_BOOKKEEPING))
            .order_by(Coalesce("session__start", "wix_created_at").asc(nulls_last=True), "pk")
        ),
        payments=_payments(contact),
        payments_on_the_way=list(
            DeskAction.objects.filter(
                Q(booking__contact=contact) | Q(booking__isnull=True, contact=contact),
                kind__in=(*DeskAction.MONEY_KINDS, DeskAction.Kind.REFUND),
                status__in=DeskAction.LIVE_STATUSES,
            )
            .select_related("booking__service", "booking__session")
            .order_by("-created_at", "-pk")[:PAYMENTS_SHOWN]
        ),
    )


def customer_contact_get(*, contact_id: int) -> Contact | None:
    """The contact a note or emergency-contact form is about. One query."""
    return Contact.objects.filter(pk=contact_id).defer(*_MIRROR_BOOKKEEPING).first()


def customer_note_get(*, contact_id: int, note_id: int) -> CustomerNote | None:
    """One of ``contact_id``'s notes (another customer's note is not found). One query."""
    return CustomerNote.objects.filter(pk=note_id, contact_id=contact_id).first()


def _one_to_one(contact: Contact, name: str) -> object | None:
    try:
        return getattr(contact, name)
    except ObjectDoesNotExist:
        return None


def _plans(member: Member | None) -> tuple[list[PlanOrder], list[BenefitBalance]]:
    """The member's plan orders, newest first, each with its balances; and the balances of no
    plan order the mirror holds. Two queries (none for a contact who is not a member)."""
    if member is None:
        return [], []
    orders = list(PlanOrder.objects.filter(member=member).defer("raw").order_by("-start", "-pk"))
    by_order: dict[int | None, list[BenefitBalance]] = defaultdict(list)
    for balance in BenefitBalance.objects.filter(member=member).defer("raw").order_by("name", "pk"):
        by_order[balance.plan_order_id].append(balance)
    known = set()
    for order in orders:
        order.card_balances = by_order.get(order.pk, [])
        known.add(order.pk)
    others = [b for order_id, balances in by_order.items() if order_id not in known for b in balances]
    return orders, others


def _visits(contact: Contact) -> tuple[list[Visit], list[Visit]]:
    """The next few bookings (not cancelled) and the latest ones before now (cancelled too, for
    the history), with their attendance. Three queries."""
    now = timezone.now()
    base = (
        Booking.objects.filter(contact=contact)
        .select_related("service", "session")
        .defer(*_MIRROR_BOOKKEEPING, *(f"service__{f}" for f in _MIRROR_BOOKKEEPING))
    )
    upcoming = list(
        base.filter(session__start__gte=now, status__in=Booking.ROSTER_STATUSES).order_by("session__start", "pk")[
            :UPCOMING_VISITS
        ]
    )
    recent = list(
        base.filter(Q(session__start__lt=now) | Q(session__isnull=True))
        .annotate(when=Coalesce("session__start", "wix_created_at"))
        .order_by("-when", "-pk")[:RECENT_VISITS]
    )
    ids = [b.pk for b in (*upcoming, *recent)]
    at_session: dict[int, str] = {}
    attended: dict[int, int] = defaultdict(int)
    sessions = {b.pk: b.session_id for b in (*upcoming, *recent)}
    for booking_id, session_id, status in Attendance.objects.filter(booking_id__in=ids).values_list(
        "booking_id", "session_id", "status"
    ):
        if session_id == sessions[booking_id]:
            at_session[booking_id] = status
        if status == Attendance.Status.ATTENDED:
            attended[booking_id] += 1

    def visit(booking: Booking) -> Visit:
        return Visit(
            booking=booking,
            attendance=at_session.get(booking.pk, Attendance.Status.NOT_SET),
            sessions_attended=attended.get(booking.pk, 0),
        )

    return [visit(b) for b in upcoming], [visit(b) for b in recent]


def _payments(contact: Contact) -> list[PaymentLine]:
    """The latest payments on the customer's orders (theirs as buyer, or holding one of their
    bookings), each with what its order was for. Two queries."""
    # A UNION of two indexed lookups: one query with an OR across the join scanned every order.
    orders = (
        Order.objects.filter(contact=contact)
        .values("pk")
        .union(OrderLineItem.objects.filter(booking__contact=contact).values("order_id"))
    )
    payments = list(
        Payment.objects.filter(order_id__in=orders)
        .select_related("order")
        .defer(*_MIRROR_BOOKKEEPING, *(f"order__{f}" for f in _MIRROR_BOOKKEEPING))
        .order_by(Coalesce("wix_created_at", "order__wix_created_at").desc(nulls_last=True), "-pk")[:PAYMENTS_SHOWN]
    )
    lines: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for order_id, line_item_id, name in OrderLineItem.objects.filter(
        order_id__in={p.order_id for p in payments}
    ).values_list("order_id", "line_item_id", "name"):
        lines[order_id].append((line_item_id, name))
    out = []
    for payment in payments:
        order_lines = lines.get(payment.order_id, [])
        named = [name for line_id, name in order_lines if payment.line_item_id and line_id == payment.line_item_id]
        names = named or [name for _, name in order_lines]
        out.append(PaymentLine(payment=payment, what=", ".join(n for n in names if n)))
    return out


# --- alerts of many customers at once ------------------------------------------------------------


def customer_alerts(*, contact_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Contact pk → their current alerts as (kind, label), most serious first, each kind once.
    One query."""
    kinds: dict[int, set[str]] = defaultdict(set)
    for contact_id, alert in (
        CustomerNote.objects.filter(contact_id__in=list(contact_ids), archived_at__isnull=True)
        .exclude(alert="")
        .values_list("contact_id", "alert")
    ):
        kinds[contact_id].add(alert)
    return {
        contact_id: [(a, CustomerNote.Alert(a).label) for a in sorted(found, key=_ALERT_RANK.__getitem__)]
        for contact_id, found in kinds.items()
    }


@dataclass
class SheetNotes:
    """What the sign-in sheet prints under a participant: their emergency contact and the text
    of their current alerts."""

    emergency: EmergencyContact | None = None
    alerts: list[CustomerNote] = field(default_factory=list)


def sign_in_sheet_notes(*, contact_ids: Iterable[int]) -> dict[int, SheetNotes]:
    """Contact pk → their emergency contact and current alert notes (most serious first), for
    those who have either. One query: the contacts joined to their emergency contact and to their
    current alerts (a row per alert), as plain values made into unsaved rows for the template."""
    alerts = FilteredRelation(
        "desk_notes", condition=Q(desk_notes__archived_at__isnull=True) & ~Q(desk_notes__alert="")
    )
    rows = (
        Contact.objects.filter(pk__in=list(contact_ids))
        .annotate(current=alerts)
        .filter(Q(emergency_contact__isnull=False) | Q(current__isnull=False))
        .values_list(
            "pk",
            "emergency_contact__name",
            "emergency_contact__phone",
            "emergency_contact__relationship",
            "current__pk",
            "current__alert",
            "current__text",
        )
    )
    out: dict[int, SheetNotes] = {}
    for contact_id, name, phone, relationship, note_id, alert, text in rows:
        notes = out.setdefault(contact_id, SheetNotes())
        if name is not None and notes.emergency is None:
            notes.emergency = EmergencyContact(contact_id=contact_id, name=name, phone=phone, relationship=relationship)
        if note_id is not None:
            notes.alerts.append(CustomerNote(pk=note_id, contact_id=contact_id, alert=alert, text=text))
    for notes in out.values():
        notes.alerts.sort(key=lambda n: (_ALERT_RANK[n.alert], -n.pk))
    return out
