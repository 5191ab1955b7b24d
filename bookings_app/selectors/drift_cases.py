"""What a drift case says: its kind, what happened in plain words, since when, and the fixes that
apply (``selectors.drift`` finds the cases; this module turns their rows into :class:`DriftCase`).

Each kind's rows come with what its words need (``related``: ``select_related`` and nothing per
row); building them costs at most one more query per page (the orders of the desk's payments, or
what the attended bookings still owe).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from bookings_app import money
from bookings_app.models import Attendance, Booking, DeskAction, OrderLineItem, Session
from bookings_app.selectors import drift_sql
from bookings_app.selectors.drift_sql import Window
from bookings_app.wix import dashboard

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus

PAID_AT_DESK = "paid_at_desk"
PAID_IN_WIX = "paid_in_wix"
ATTENDED_UNPAID = "attended_unpaid"
PLAN_CREDITS = "plan_credits"
STUCK_ATTENTION = "stuck_attention"
STUCK_WAITING = "stuck_waiting"
OVER_CAPACITY = "over_capacity"

# The fixes a case may offer (``DriftCase.fixes``).
RETRY = "retry"  # send the desk action again
RESYNC = "resync"  # read this booking (its order, the member's plans) from Wix again, in the background
PAY = "pay"  # record the payment, through the desk's own payment action
ROSTER = "roster"  # the session's roster, where the desk can act on it
PAGE = "page"  # the package's or course's own page, whose retry knows what it is made of

# Actions with a page of their own (and a retry that knows what they are made of).
OWN_PAGE_KINDS = (Kind.PACKAGE, Kind.COURSE_BUILD, Kind.COURSE_CANCEL)
METHOD_WORDS = {"CASH": "cash", "CARD": "card", "CHECK": "cheque"}


@dataclass(frozen=True)
class DriftKind:
    code: str
    title: str
    explains: str  # why it matters, in a sentence


KINDS: dict[str, DriftKind] = {
    k.code: k
    for k in (
        DriftKind(
            PAID_AT_DESK,
            "Paid at the desk, unpaid in Wix",
            "Wix accepted the desk's payment, but its order (or the booking) still says unpaid.",
        ),
        DriftKind(PAID_IN_WIX, "Paid in Wix, not on the booking", "The order is paid; the booking does not show it."),
        DriftKind(ATTENDED_UNPAID, "Came but did not pay", "Checked in at a session that has ended, and not paid."),
        DriftKind(
            PLAN_CREDITS,
            "Plan charged, credits did not go down",
            "Wix accepted the plan charge, but the plan still has the credits it had before.",
        ),
        DriftKind(STUCK_ATTENTION, "Needs attention for too long", "Wix refused a desk action and nobody decided."),
        DriftKind(STUCK_WAITING, "Waiting for Wix for too long", "A desk action has not reached Wix yet."),
        DriftKind(OVER_CAPACITY, "Over capacity", "More people are booked than the session has places."),
    )
}


@dataclass
class DriftCase:
    """One disagreement: what happened, since when, on what, and the fixes that apply."""

    kind: str
    pk: int  # of the row it is read from (the action, line item, attendance or session)
    since: datetime
    what: str
    booking: Booking | None = None
    session: Session | None = None
    action: DeskAction | None = None
    fixes: list[str] = field(default_factory=list)
    wix_url: str | None = None  # "open in Wix": the dashboard page of the order, booking list …
    page_url: str = ""  # PAGE: the package's or course's own page
    due: Decimal | None = None  # what a payment would take (PAY)
    currency: str = ""
    retry_blocked: str = ""  # why RETRY is not offered now, where it would be the fix
    urls: dict[str, str] = field(default_factory=dict)  # the fixes' URLs (the page fills them in)

    @property
    def key(self) -> str:
        """The case's id on the page (its HTML id and the fix forms' ``case``)."""
        return f"{self.kind}-{self.pk}"


# --- the rows each kind is built from ------------------------------------------------------------

_BOOKING = ("booking__contact", "booking__service", "booking__session")
_ACTION = (*_BOOKING, "contact", "session", "created_by")


# The kinds read from desk actions: their pages' rows are read together, in one query (``related``
# joins for any of them what each needs).
ACTION_KINDS = (PAID_AT_DESK, PLAN_CREDITS, STUCK_ATTENTION, STUCK_WAITING)


def related(kind: str, rows: QuerySet[Any]) -> QuerySet[Any]:
    """``rows`` (of ``kind``'s query) with what their words need, joined in — without the Wix
    payloads (``raw``), which no case shows and which cost more to read than the rest. The same
    for every kind of ``ACTION_KINDS``, so one query reads the rows of all of them."""
    if kind in ACTION_KINDS:
        joined = (*_ACTION, "package", "course_build", "course_cancel")
        return rows.select_related(*joined).defer(*_raw(_ACTION))
    if kind == PAID_IN_WIX:
        return rows.select_related("order", *_BOOKING).defer("order__raw", *_raw(_BOOKING))
    if kind == ATTENDED_UNPAID:
        return rows.select_related(*_BOOKING, "session__service").defer(
            "raw", "session__raw", "session__service__raw", *_raw(_BOOKING)
        )
    # when the last place was overbooked, for these sessions only
    latest = Booking.objects.filter(session_id=OuterRef("pk"), status__in=Booking.ACTIVE_STATUSES).order_by(
        "-wix_created_at", "-pk"
    )
    return (
        rows.select_related("service")
        .defer("raw", "service__raw")
        .annotate(latest_booked=Subquery(latest.values("wix_created_at")[:1]))
    )


def _raw(paths: tuple[str, ...]) -> list[str]:
    """The ``raw`` payload of each mirror row on ``paths`` (a booking's contact, service …)."""
    mirrors = [p for p in paths if p not in ("created_by",)]
    return [f"{p}__raw" for p in mirrors] + (["booking__raw"] if "booking__contact" in paths else [])


def build(kind: str, rows: list[Any], w: Window) -> list[DriftCase]:
    if not rows:
        return []
    return _BUILDERS[kind](rows, w)


# --- one builder per kind --------------------------------------------------------------------------


def _paid_at_desk(actions: list[DeskAction], w: Window) -> list[DriftCase]:
    lines = drift_sql.page_rows(("orders",), [a.booking_id for a in actions], _orders)
    orders = {line.booking_id: line.order for line in lines}  # the latest order of each booking
    cases = []
    for a in actions:
        booking = a.booking
        order = orders.get(booking.pk)
        if order is not None:
            wix_says = f"Wix's order #{order.number or '?'} says {_status_words(order.payment_status)}"
        else:
            wix_says = f"the booking in Wix says {booking.get_payment_status_display().lower()}"
        cases.append(
            DriftCase(
                kind=PAID_AT_DESK,
                pk=a.pk,
                since=a.since,
                what=f"{booking.contact}: {_took(a, booking)} at the desk on {_when(a.created_at)}; "
                f"Wix accepted it, but {wix_says}.",
                booking=booking,
                session=booking.session,
                action=a,
                fixes=[RESYNC],
                wix_url=dashboard.order_url(settings.WIX, order.wix_id if order else None)
                or dashboard.bookings_list_url(settings.WIX),
            )
        )
    return cases


def _orders(booking_ids: list[int]) -> QuerySet[OrderLineItem]:
    """The bookings' lines with their orders, oldest order first."""
    return (
        OrderLineItem.objects.filter(booking_id__in=booking_ids)
        .exclude(order__status="CANCELED")
        .select_related("order")
        .order_by("order__wix_created_at", "pk")
    )


def _paid_in_wix(lines: list[OrderLineItem], w: Window) -> list[DriftCase]:
    return [
        DriftCase(
            kind=PAID_IN_WIX,
            pk=line.pk,
            since=line.since,
            what=f"{line.booking.contact}: Wix's order #{line.order.number or '?'} is paid, but the booking says "
            f"“{line.booking.get_payment_status_display().lower()}”.",
            booking=line.booking,
            session=line.booking.session,
            fixes=[RESYNC],
            wix_url=dashboard.order_url(settings.WIX, line.order.wix_id),
        )
        for line in lines
    ]


def _dues(bookings: list[Booking]) -> dict[int, Decimal]:
    """What each booking still owes by the desk's rule (``money.due``), in two queries whatever
    they are: their orders' balances and the desk's payments Wix has. Nothing of theirs is on its
    way to Wix (the kind leaves those out), so nothing is in flight."""
    ids = [b.pk for b in bookings]
    orders: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for booking_id, order_id, balance in drift_sql.page_rows(("balances",), ids, _balances):
        orders[booking_id][order_id] = balance
    synced: dict[int, Decimal] = defaultdict(Decimal)
    for booking_id, params in drift_sql.page_rows(("synced",), ids, _synced):
        synced[booking_id] += Decimal(params.get("amount") or "0")
    return {b.pk: money.due(b, orders.get(b.pk), [], synced) for b in bookings}


def _balances(ids: list[int]) -> QuerySet[OrderLineItem]:
    return (
        OrderLineItem.objects.filter(booking_id__in=ids)
        .exclude(order__status="CANCELED")
        .values_list("booking_id", "order_id", "order__balance")
    )


def _synced(ids: list[int]) -> QuerySet[DeskAction]:
    return DeskAction.objects.filter(booking_id__in=ids, kind=Kind.PAYMENT, status=Status.SYNCED).values_list(
        "booking_id", "params"
    )


def _attended_unpaid(attendances: list[Attendance], w: Window) -> list[DriftCase]:
    dues = _dues([a.booking for a in attendances])
    cases = []
    for a in attendances:
        booking, session = a.booking, a.session
        due = dues.get(booking.pk) or Decimal("0")
        cases.append(
            DriftCase(
                kind=ATTENDED_UNPAID,
                pk=a.pk,
                since=a.since,
                what=f"{booking.contact} was checked in at {session.title or session.service.name} on "
                f"{_when(session.start)} and has "
                + ("paid only part of it." if booking.payment_status == PS.PARTIALLY_PAID else "not paid."),
                booking=booking,
                session=session,
                fixes=[PAY, ROSTER] if due > 0 else [ROSTER],
                due=due if due > 0 else None,
                currency=booking.service.currency,
                wix_url=dashboard.bookings_list_url(settings.WIX),
            )
        )
    return cases


def _plan_credits(actions: list[DeskAction], w: Window) -> list[DriftCase]:
    cases = []
    for a in actions:
        booking = a.booking
        who = booking.contact if booking else a.contact
        plan = a.params.get("plan_name") or "their plan"
        cases.append(
            DriftCase(
                kind=PLAN_CREDITS,
                pk=a.pk,
                since=a.since,
                what=f"{who}: {plan} was charged at the desk on {_when(a.created_at)} with {_number(a.credits_before)} "
                f"credit{'s' if a.credits_before != 1 else ''} left; the plan still shows {_number(a.credits_now)}.",
                booking=booking,
                session=booking.session if booking else a.session,
                action=a,
                fixes=[RESYNC] if booking else [],
                wix_url=dashboard.contact_url(settings.WIX, who.wix_id if who else None),
            )
        )
    return cases


def _stuck(actions: list[DeskAction], w: Window) -> list[DriftCase]:
    cases = []
    for a in actions:
        booking = a.booking
        who = a.contact or (booking.contact if booking else None)
        what = a.get_kind_display() + (f" for {who}" if who else "")
        case = DriftCase(
            kind=STUCK_ATTENTION if a.status == Status.NEEDS_ATTENTION else STUCK_WAITING,
            pk=a.pk,
            since=a.since,
            what="",
            booking=booking,
            session=a.session or (booking.session if booking else None),
            action=a,
            wix_url=dashboard.bookings_list_url(settings.WIX) if booking else None,
        )
        if a.status == Status.NEEDS_ATTENTION:
            case.what = f"{what}: Wix refused it — {a.message or a.error_code or 'no reason given'}"
        else:
            tries = f"{a.attempts} tr{'ies' if a.attempts != 1 else 'y'}" if a.attempts else "not tried yet"
            error = f"; last answer: {a.last_error[:160]}" if a.last_error else ""
            case.what = f"{what} has not reached Wix ({tries}{error})."
        case.page_url = _own_page(a)
        if case.page_url:
            case.fixes.append(PAGE)
        elif a.status == Status.RUNNING and a.next_attempt_at and a.next_attempt_at > w.now:
            case.retry_blocked = "Being sent to Wix right now."
        else:
            case.fixes.append(RETRY)
        if case.session is not None and booking is not None:
            case.fixes.append(ROSTER)
        cases.append(case)
    return cases


def _over_capacity(sessions: list[Session], w: Window) -> list[DriftCase]:
    return [
        DriftCase(
            kind=OVER_CAPACITY,
            pk=s.pk,
            since=s.since,
            what=f"{s.title or s.service.name} on {_when(s.start)}: {s.booked} booked for {s.places} "
            f"place{'s' if s.places != 1 else ''}"
            + (f" (the last booked {_when(s.latest_booked)})." if s.latest_booked else "."),
            session=s,
            fixes=[ROSTER],
            wix_url=dashboard.calendar_url(settings.WIX),
        )
        for s in sessions
    ]


_BUILDERS = {
    PAID_AT_DESK: _paid_at_desk,
    PAID_IN_WIX: _paid_in_wix,
    ATTENDED_UNPAID: _attended_unpaid,
    PLAN_CREDITS: _plan_credits,
    STUCK_ATTENTION: _stuck,
    STUCK_WAITING: _stuck,
    OVER_CAPACITY: _over_capacity,
}


# --- words -----------------------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    """ "Sat 21 Nov 07:00" in the business's time zone (strftime: Django's date_format looks the
    format up again for every call, a tenth of a millisecond each)."""
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _took(action: DeskAction, booking: Booking) -> str:
    if action.kind == Kind.PLAN_CHARGE:
        return f"a credit of {action.params.get('plan_name') or 'their plan'} was charged"
    amount = money.format_money(action.params.get("amount"), booking.service.currency)
    return f"{amount} {METHOD_WORDS.get(action.params.get('method'), 'payment')} was taken"


def _status_words(status: str) -> str:
    return (status or "nothing").replace("_", " ").lower()


def _own_page(action: DeskAction) -> str:
    if action.kind == Kind.PACKAGE and _one(action, "package") is not None:
        return reverse("package", args=[action.package.pk])
    if action.kind == Kind.COURSE_BUILD and _one(action, "course_build") is not None:
        return reverse("course_build", args=[action.course_build.pk])
    if action.kind == Kind.COURSE_CANCEL and _one(action, "course_cancel") is not None:
        return reverse("course_page", args=[action.course_cancel.service_id])
    return ""


def _one(action: DeskAction, name: str) -> Any:
    """A reverse one-to-one (``action.package`` …), or None when there is none."""
    try:
        return getattr(action, name)
    except ObjectDoesNotExist:
        return None


def _number(value: object) -> str:
    """A count of credits as people write it: "5", "2.5" — the same whether the database gave
    5, 5.0 or Decimal("5.00") (PostgreSQL keeps the column's two places)."""
    return f"{Decimal(str(value)).normalize():f}"
