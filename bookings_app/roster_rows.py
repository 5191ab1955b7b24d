"""The roster's rows: the view model of one participant's row (:class:`RosterRow`, with the
desk's state of it, :class:`DeskRowState`) and its desk actions (URLs and form token).

The roster builds every row once per request (:func:`row_list`, then :func:`desk_state_attach`
and :func:`row_actions_attach`: a fixed number of queries, whatever the number of rows). A desk
click builds the one row it answers with once (:func:`one_row`), after acting; what the click's
form needs first (the amount due, the plans on offer) comes from a lighter read
(:func:`payment_due`, :func:`plan_choices`).

The rows are drawn, each with its version and digest for the roster's refresh, by
``bookings_app.roster_html``; the list's order (``?sort=``), its letters to jump to and its count
line are ``bookings_app.roster_list``'s.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from bookings_app import money, roles, roster_html, roster_list, selectors
from bookings_app.models import Attendance, BenefitBalance, Booking, Contact, DeskAction, Payment, Service, Session

# The desk actions every roster row offers, by the key the template uses: ``row.urls.pay`` …
ROW_ACTIONS = {
    "pay": "desk_pay",
    "plan": "desk_plan",
    "later": "desk_later",
    "attendance": "desk_attendance",
    "row": "roster_row",
    "change": "booking_change",  # reschedule, cancel with the policy shown
}
_ANY_BOOKING = 4_611_686_018_427_387_904  # a booking id no real URL contains (2**62)
REVERSE_LABELS = {
    DeskAction.Kind.WALK_IN: "Cancel the booking",
    DeskAction.Kind.PLAN_CHARGE: "Void the plan charge (credit back)",
    DeskAction.Kind.PAYMENT: "Record a refund",
}
PAYMENT_METHOD_LABELS = {"CASH": "Cash", "CARD": "Card", "CHECK": "Cheque"}
_STATUS_LABELS = dict(Booking.Status.choices)
# The payment badge's words: Wix's two ways of saying nothing is paid yet read the same at the
# desk, as on the sign-in sheet.
_PAYMENT_STATUS_LABELS = {**dict(Booking.PaymentStatus.choices), Booking.PaymentStatus.UNDEFINED: "Not paid"}
# Wix's name for a payment it kept no method for; the desk's own record names it better.
_GENERIC_METHOD = Payment.Method.OTHER.label


@dataclass
class RosterRow:
    """One participant's row: what the mirror says (:func:`row_list`), then what the desk shows
    and offers on it (:func:`desk_state_attach`), its action URLs and form token
    (:func:`row_actions_attach`)."""

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
    desk: DeskRowState | None = None  # filled by desk_state_attach
    urls: dict[str, str] = field(default_factory=dict)  # the row's desk action URLs, filled by row_actions_attach
    key: str = ""  # the row's form token (idempotency key), filled with ``urls``
    version: int = 0  # when the read it was built from began, in µs since the epoch (``data-version``)
    anchor: bool = False  # the first row under its letter, in the list's order (``roster_list.letters_mark``)
    package: selectors.PackageInfo | None = None  # the multi-service package the booking is part of
    written_off: bool = False  # a manager wrote off what it owes: nothing to collect (Wix still says unpaid)

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
    def money_refused(self) -> bool:
        """Wix refused the desk's payment or plan charge of this row: what it shows until staff
        choose is not "Paid" (the desk's own guess) but that Wix said no."""
        return bool(self.desk and any(a.kind in DeskAction.MONEY_KINDS for a in self.desk.attention))

    @property
    def payment_css(self) -> str:
        if self.money_refused:
            return "pay-refused"
        return f"pay-{self.booking.payment_status.lower()}{' pay-plan' if self.charged_to_plan else ''}"

    @property
    def waiting(self) -> bool:
        """A change made here that Wix has not confirmed yet."""
        return self.booking.pending_sync or bool(self.desk and self.desk.waiting)

    @property
    def due_text(self) -> str:
        """What is due, as the app writes money ("£12.00")."""
        return money.format_money(self.amount_due, self.currency)

    @property
    def due_note(self) -> tuple[str, str] | None:
        """What the amount due is (the words beside it, and their title), when it is not simply
        the order's balance: the list price, what is left of it, or a balance shared."""
        if self.amount_due is None:
            return None
        if not self.due_from_order:
            desk = self.desk
            if (desk and (desk.unsynced_paid or desk.synced_paid)) or (
                self.booking.payment_status == Booking.PaymentStatus.PARTIALLY_PAID
            ):
                return "balance", "No order yet: the service price less what has been paid"
            return "list price", "No order yet: the service price"
        if self.shared_order:
            return f"order {', '.join(self.order_numbers)}", "This order pays for several bookings"
        return None

    # What the roster shows, worked out once per row here rather than in the template, which
    # renders it for every row (``get_FOO_display()`` rebuilds its choices on every call).
    @property
    def status_label(self) -> str:
        return _STATUS_LABELS.get(self.booking.status, self.booking.status)

    @property
    def payment_label(self) -> str:
        """The payment badge: "Refused by Wix" while the desk's payment waits on staff, "Plan" for a
        booking charged to a plan, else the payment status."""
        if self.money_refused:
            return "Refused by Wix"
        if self.charged_to_plan:
            return "Plan"
        if self.written_off and not self.is_settled:
            return "Written off"
        return _PAYMENT_STATUS_LABELS.get(self.booking.payment_status, self.booking.payment_status)

    @property
    def payment_methods(self) -> list[str]:
        """How it was paid, next to the badge: the mirror's payments then the desk's (without a
        second "Plan" beside a "Plan" badge)."""
        if self.money_refused:
            return []
        labels = (self.desk.method_labels if self.desk else None) or self.method_labels
        return [label for label in labels if not (self.charged_to_plan and label == "Plan")]

    @property
    def is_settled(self) -> bool:
        return self.charged_to_plan or self.booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES

    @property
    def checked_in(self) -> bool:
        return self.attendance == Attendance.Status.ATTENDED

    @property
    def can_act(self) -> bool:
        """The desk can act on the row: a live booking with its desk state (a cancelled or
        declined one only shows what it was)."""
        return self.desk is not None and self.booking.status not in (Booking.Status.CANCELED, Booking.Status.DECLINED)

    @property
    def name(self) -> str:
        return self.contact.full_name or "(no name)"

    @property
    def contact_title(self) -> str:
        """The name link's title: the whole name (a long one is cut short on the row), then how
        to reach them — one line per person, so the phone and email live here and on the card."""
        return " · ".join(part for part in (self.name, self.contact.phone, self.contact.email) if part)

    @cached_property
    def letter(self) -> str:
        """The letter the row is found under (``data-letter``, the roster's jump to a letter)."""
        return roster_list.name_letter(self.contact.last_name)

    @property
    def offers_payment(self) -> bool:
        """The desk can take money on the row: something is due, and nothing needs attention first."""
        return self.amount_due is not None and not (self.desk and self.desk.attention)


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
    live_kinds: set[str] = field(default_factory=set)  # kinds of its actions not yet done (queued, running, attention)
    plan_on_its_way: bool = False  # a plan charge queued or being sent: nothing is due meanwhile

    quiet: bool = False  # nothing to do on the row: paid (or nothing due) and checked in, nothing pending

    @property
    def undo_seconds(self) -> int:
        """Seconds left on the newest undoable action (for the countdown on the Undo button)."""
        if not self.undoable:
            return 0
        left = (self.undoable[-1].run_after - timezone.now()).total_seconds()
        return max(0, round(left))


def row_list(
    *, session: Session, search: str = "", include_cancelled: bool = False, booking_ids: list[int] | None = None
) -> list[RosterRow]:
    """Everyone on ``session``'s roster as rows, by surname, filtered by name/email/phone (or
    just ``booking_ids``): the five queries of ``selectors.roster_read``, nothing per row. Each
    row's ``version`` is the moment before the read: whatever was written before then, it shows."""
    version = read_version()
    read = selectors.roster_read(
        session=session, search=search, include_cancelled=include_cancelled, booking_ids=booking_ids
    )
    rows = [_row(booking, read, version) for booking in read.bookings]
    if rows and session.service.type == Service.Type.APPOINTMENT:  # only appointments come in packages
        packages = selectors.booking_packages(booking_ids=[r.booking.pk for r in rows])
        for row in rows:
            row.package = packages.get(row.booking.pk)
    return rows


def read_version() -> int:
    """Now, as a row's version: microseconds since the epoch (the web processes share a clock)."""
    return time.time_ns() // 1000


def _row(booking: Booking, read: selectors.RosterRead, version: int) -> RosterRow:
    status, attendees = read.attendance.get(booking.pk, (None, 0))
    lines = read.lines.get(booking.pk, [])
    row = RosterRow(
        booking=booking,
        contact=booking.contact,
        attendance=status or Attendance.Status.NOT_SET,
        attendees=attendees or 0,
        charged_to_plan=read.charged_to_plan(booking),
        currency=booking.service.currency,
        version=version,
        written_off=booking.pk in read.written_off,
    )
    orders: dict[int, selectors.OrderLine] = {}
    for line in lines:
        orders.setdefault(line.order_id, line)
        row.shared_order = row.shared_order or line.order_lines > 1
        for method, line_item_id in read.payments.get(line.order_id, ()):
            # A plan payment names the line it paid for; on a shared order it may be someone else's.
            if method == Payment.Method.PLAN and line_item_id not in ("", line.line_item_id):
                continue
            if method not in row.methods:
                row.methods.append(method)
    if not row.methods and row.charged_to_plan:
        row.methods.append(Payment.Method.PLAN)
    row.order_numbers = [o.number or o.wix_id or str(o.order_id) for o in orders.values()]
    row.due_from_order = bool(orders)
    row.amount_due = money.roster_due(
        booking=booking, order_balances=[o.balance for o in orders.values()], settled=row.is_settled
    )
    if row.written_off:
        row.amount_due = None  # the manager decided not to collect it (``models.write_offs``)
    if orders:
        row.currency = next(iter(orders.values())).currency or row.currency
    return row


def desk_state_attach(
    *, rows: list[RosterRow], session: Session, can_reverse: bool = False, now: datetime | None = None
) -> list[RosterRow]:
    """Give every row its ``desk`` state — two queries however many rows: the bookings' desk
    actions that still matter, and the plan balances of the people on the rows. ``can_reverse``:
    the viewer may reverse synced actions (a row offering that is never "quiet"). The row's
    amount due then counts the money taken at the desk (``money.roster_due_less_desk``)."""
    now = now or timezone.now()
    booking_ids = [r.booking.pk for r in rows]
    contact_ids = {r.contact.pk for r in rows}
    states = {r.booking.pk: DeskRowState() for r in rows}
    if not rows:
        return rows
    actions = selectors.roster_desk_actions(booking_ids=booking_ids)
    reversed_ids: set[str] = set()
    by_booking: dict[int, list[DeskAction]] = {}
    for action in actions:
        if action.kind == DeskAction.Kind.ATTENDANCE and action.session_id not in (None, session.pk):
            continue  # a course booking's check-in at another session of the course: not this row's
        by_booking.setdefault(action.booking_id, []).append(action)
        if action.kind in DeskAction.REVERSAL_KINDS:
            reversed_ids.add(str((action.params or {}).get("reverses", "")))
    for booking_id, booking_actions in by_booking.items():
        state = states[booking_id]
        for action in booking_actions:
            if action.status in DeskAction.LIVE_STATUSES:
                state.live_kinds.add(action.kind)
            if action.status == DeskAction.Status.NEEDS_ATTENTION:
                state.attention.append(action)
            elif action.status in (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING):
                state.waiting = True
                state.plan_on_its_way |= _charging_plan(action)
                if action.can_undo(now=now) and not action.batch_id:  # a batch has one Undo, above the rows
                    state.undoable.append(action)
            elif action.kind in selectors.REVERSIBLE_KINDS and str(action.pk) not in reversed_ids:
                state.reversible.append((action, REVERSE_LABELS[action.kind]))
            if action.kind == DeskAction.Kind.PAYMENT:
                label = PAYMENT_METHOD_LABELS.get(str((action.params or {}).get("method", "")).upper())
                if label and label not in state.method_labels:
                    state.method_labels.append(label)
            elif action.kind == DeskAction.Kind.PLAN_CHARGE and "Plan" not in state.method_labels:
                state.method_labels.append("Plan")
        state.unsynced_paid, state.synced_paid = _paid_at_desk(booking_actions)
    by_contact = selectors.roster_balances(contact_ids=contact_ids)
    for row in rows:
        state = states[row.booking.pk]
        state.balances = [
            b
            for b in by_contact.get(row.contact.pk, [])
            if money.balance_covers(b, row.booking.service, participants=row.booking.total_participants)
        ]
        mirror_labels = row.method_labels
        if state.synced_paid and _GENERIC_METHOD in mirror_labels:
            # A payment the desk took and Wix kept without its method ("Other"): the desk's name.
            mirror_labels = [m for m in mirror_labels if m != _GENERIC_METHOD]
        state.method_labels = [*mirror_labels, *(m for m in state.method_labels if m not in mirror_labels)]
        state.quiet = (
            row.amount_due is None
            and row.attendance == Attendance.Status.ATTENDED
            and not state.attention
            and not state.undoable
            and not (can_reverse and state.reversible)
        )
        row.amount_due = money.roster_due_less_desk(
            row.amount_due,
            due_from_order=row.due_from_order,
            unsynced_paid=state.unsynced_paid,
            synced_paid=state.synced_paid,
            plan_on_its_way=state.plan_on_its_way,
        )
        row.desk = state
    return rows


def _charging_plan(action: DeskAction) -> bool:
    """A plan charge queued or being sent: it pays the whole booking, Wix not knowing yet."""
    return action.kind == DeskAction.Kind.PLAN_CHARGE and action.status in (
        DeskAction.Status.QUEUED,
        DeskAction.Status.RUNNING,
    )


def _paid_at_desk(actions: list[DeskAction]) -> tuple[Decimal, Decimal]:
    """What the desk's payments among a row's ``actions`` took: not in Wix yet, and in Wix."""
    unsynced = synced = Decimal("0")
    for action in actions:
        if action.kind == DeskAction.Kind.PAYMENT:
            amount = Decimal(str((action.params or {}).get("amount") or "0"))
            if action.status == DeskAction.Status.SYNCED:
                synced += amount
            else:
                unsynced += amount
    return unsynced, synced


# --- what a click's form needs, without building the row ------------------------------------------


def payment_due(*, booking: Booking) -> tuple[Decimal | None, str]:
    """The amount due ``booking``'s row shows and its currency, as :func:`row_list` and
    :func:`desk_state_attach` work them out, from a lighter read: its order lines and payments,
    then (when something is due) its desk actions — three queries at most, for ``booking``
    loaded with its service."""
    read = selectors.booking_orders_read(booking=booking)
    orders = read.orders(booking.pk)
    settled = read.charged_to_plan(booking) or booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES
    amount = money.roster_due(booking=booking, order_balances=[o.balance for o in orders.values()], settled=settled)
    currency = (next(iter(orders.values())).currency if orders else "") or booking.service.currency
    if amount is None:
        return None, currency
    actions = selectors.roster_desk_actions(booking_ids=[booking.pk])
    unsynced, synced = _paid_at_desk(actions)
    due = money.roster_due_less_desk(
        amount,
        due_from_order=bool(orders),
        unsynced_paid=unsynced,
        synced_paid=synced,
        plan_on_its_way=any(_charging_plan(a) for a in actions),
    )
    return due, currency


def plan_choices(*, booking: Booking) -> list[BenefitBalance]:
    """The plans ``booking``'s row offers (its ``desk.balances``): one query."""
    balances = selectors.roster_balances(contact_ids=[booking.contact_id]).get(booking.contact_id, [])
    return [b for b in balances if money.balance_covers(b, booking.service, participants=booking.total_participants)]


# --- actions and rendering ------------------------------------------------------------------------


def row_actions_attach(*, rows: list[RosterRow], session: Session) -> list[RosterRow]:
    """Give every row what its forms need: the desk action URLs (``row.urls``), each reversed
    once for the whole list and completed per row with the booking id, and the row's form token
    (``row.key``, see ``DeskActionForm``). Both used to be tags per form per row (``{% url %}``,
    ``{% idempotency_key %}``), most of a 120-row roster's render time.

    The token is this render's random prefix plus the booking id, so it is fresh for every
    render and differs between rows; a row with more than one form adds a suffix per form."""
    marker = f"/{_ANY_BOOKING}/"
    parts = {
        key: reverse(name, args=[session.ref, _ANY_BOOKING]).rpartition(marker) for key, name in ROW_ACTIONS.items()
    }
    card_head, _, card_tail = reverse("customer_card", args=[_ANY_BOOKING]).rpartition(marker)
    history = reverse("audit") + "?booking="  # the audit trail of the booking (managers)
    render_key = secrets.token_hex(10)
    for row in rows:
        middle = f"/{row.booking.pk}/"
        row.urls = {key: head + middle + tail for key, (head, _, tail) in parts.items()}
        row.urls["card"] = f"{card_head}/{row.contact.pk}/{card_tail}"  # the customer card
        row.urls["history"] = f"{history}{row.booking.pk}"
        row.key = f"{render_key}-{row.booking.pk}"
    return rows


def one_row(request: HttpRequest, session: Session, booking_id: int) -> RosterRow | None:
    """One roster row with its desk state and actions, as the roster shows it (a cancelled one
    too): what a desk click answers with, built once, after acting. Seven queries."""
    rows = row_list(session=session, booking_ids=[booking_id], include_cancelled=True)
    desk_state_attach(rows=rows, session=session, can_reverse=request.user.has_perm(roles.VOID_PAYMENTS))
    row_actions_attach(rows=rows, session=session)
    return rows[0] if rows else None


def rows_context(
    *,
    request: HttpRequest,
    session: Session,
    search: str = "",
    include_cancelled: bool = False,
    highlight: int | None = None,
    sort: str | None = None,
) -> dict[str, object]:
    """What the ``roster-rows`` partial needs: the rows with their desk actions, in the order
    ``sort`` asks for (by default the request's own, ``roster_list.sort_from``), rendered (the
    roster, and the desk views that re-render the whole list: a walk-in, check in all), each
    rendered row (``rendered``, for the refresh to send only those that changed), and the
    letters to jump to."""
    sort = roster_list.sort_parse(sort) if sort is not None else roster_list.sort_from(request)
    rows = row_list(session=session, search=search, include_cancelled=include_cancelled)
    desk_state_attach(rows=rows, session=session, can_reverse=request.user.has_perm(roles.VOID_PAYMENTS))
    rows = roster_list.rows_sorted(rows=rows, sort=sort, session=session)
    letters = roster_list.letters_mark(rows)
    row_actions_attach(rows=rows, session=session)
    rendered = roster_html.rows_rendered(request=request, session=session, rows=rows, highlight=highlight)
    return {
        "session": session,
        "rows": rows,
        "rendered": rendered,
        "rows_html": roster_html.joined(rendered),
        "count": roster_list.roster_count(rows),
        "search": search,
        "include_cancelled": include_cancelled,
        "sort": sort,
        "sorts": roster_list.SORTS.items(),
        "letters": letters,
    }
