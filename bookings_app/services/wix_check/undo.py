"""Taking back what the ``--write`` round trip made: refunds, cancellations, credits.

``Made`` is the ledger the round trip fills as it goes (each id the moment Wix gives it);
``undo_all`` runs in a ``finally`` and works through it in the safe order — the plan payment
refunded (its credit back), the cash refunded, each booking cancelled with its current revision
(the first one after a stale one, to settle that status) — and lists whatever it could not
undo, with its Wix id, as a ``Leftover``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from bookings_app.wix import (
    WixClient,
    WixConflict,
    WixError,
    benefit_programs,
    bookings,
    extended_bookings,
    orders,
)

from .outcome import Answer, Check, CheckReport, Leftover, Status, describe

UNDO = "Undo (--write)"
CLOSED = ("CANCELED", "DECLINED")
UNPAID = ("NOT_PAID", "PARTIALLY_PAID")
QUIET = {"notifyParticipants": False}

T = TypeVar("T")


@dataclass
class Clock:
    """Time for the round trip's bounded waits (tests pass a fake one)."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wait_seconds: float = 20.0
    poll_seconds: float = 1.0

    def poll(self, read: Callable[[], T], done: Callable[[T], bool], *, wait: float | None = None) -> tuple[T, float]:
        """Read until ``done`` or the wait is over; returns the last value and the seconds waited."""
        limit = self.wait_seconds if wait is None else wait
        started = self.monotonic()
        while True:
            value = read()
            waited = self.monotonic() - started
            if done(value) or waited >= limit:
                return value, waited
            self.sleep(self.poll_seconds)


@dataclass
class Made:
    """Everything the round trip made in Wix, recorded the moment Wix gave its id."""

    bookings: list[dict[str, Any]] = field(default_factory=list)  # as created
    orders: dict[str, str] = field(default_factory=dict)  # booking id → order id
    extra_orders: list[str] = field(default_factory=list)  # a second order from one cart
    contacts: list[str] = field(default_factory=list)
    cash: tuple[str, str, str] | None = None  # order id, payment id, amount
    plan_payment: tuple[str, str] | None = None  # order id, payment id
    redemption: str | None = None  # benefit transaction id
    pool_id: str | None = None
    credits_at_start: Decimal | None = None
    plan_refunded: bool = False


def credits(wix: WixClient, pool_id: str) -> Decimal | None:
    """The pool's available credits (None: unlimited, or unreadable)."""
    answer = benefit_programs.query_balances(
        wix, query={"filter": {"id": {"$in": [pool_id]}}, "cursorPaging": {"limit": 1}}
    )
    found = next((b for b in answer.get("balances") or [] if b.get("id") == pool_id), None)
    raw = ((found or {}).get("amount") or {}).get("available")
    try:
        return Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None


def booking_now(wix: WixClient, booking_id: str) -> dict[str, Any] | None:
    """The booking as Wix holds it now (Query Extended Bookings by id)."""
    answer = extended_bookings.query_extended_bookings(
        wix, query={"filter": {"id": booking_id}, "cursorPaging": {"limit": 1}}
    )
    return next(
        (
            e.get("booking")
            for e in answer.get("extendedBookings") or []
            if (e.get("booking") or {}).get("id") == booking_id
        ),
        None,
    )


def undo_all(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    """Undo everything in ``made``; each failure becomes a line and a ``Leftover``."""
    for step in (_refund_plan, _cancel_redemption, _refund_cash, _cancel_bookings, _cancel_extra, _contacts_left):
        try:
            step(wix, report, made, clock)
        except Exception as err:  # noqa: BLE001 - one failed undo step must not stop the others
            report.add(Check(UNDO, step.__name__.strip("_").replace("_", " "), Status.FAILED, f"stopped: {err}"))
    _credits_back(wix, report, made)


def _refund_plan(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    if made.plan_payment is None:
        return
    order_id, payment_id = made.plan_payment
    try:
        before = credits(wix, made.pool_id) if made.pool_id else None
    except WixError:
        before = None
    try:
        orders.refund_payments(wix, order_id=order_id, payment_refunds=[{"paymentId": payment_id}])
    except WixError as err:
        report.add(
            Check(
                UNDO,
                "Refund the plan payment",
                Status.FAILED,
                f"Refund Payments refused it ({describe(err)}); the booking will be cancelled with a refund instead.",
            )
        )
        return
    made.plan_refunded = True
    if made.pool_id is None or before is None:
        report.add(Check(UNDO, "Refund the plan payment", Status.OK, f"refunded payment {payment_id}."))
        return
    after, waited = clock.poll(lambda: credits(wix, made.pool_id or ""), lambda now: now is not None and now > before)
    back = after is not None and after > before
    report.answer(
        Answer(
            "Does refunding a plan payment give the credit back?",
            f"yes: {before} → {after} credits" + (f" after {waited:.0f} s" if waited >= 1 else "")
            if back
            else f"no: still {after} credits after {waited:.0f} s",
            key="refund_returns_credit",
            value=back,
            detail=f"Refund Payments of membership payment {payment_id} on order {order_id}",
        )
    )
    report.add(
        Check(
            UNDO,
            "Refund the plan payment",
            Status.OK if back else Status.FAILED,
            f"refunded; credits {before} → {after}." if back else f"refunded, but the credit is not back ({after}).",
        )
    )


def _cancel_redemption(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    if made.redemption is None:
        return
    try:
        credit_back(wix, made.pool_id or "", made.redemption)
    except WixError as err:
        report.add(Check(UNDO, "Give the test credit back", Status.FAILED, describe(err)))
        report.leftovers.append(
            Leftover(
                "a plan credit redeemed by the check",
                made.redemption,
                f"Give one credit back to the member's plan (pool {made.pool_id}) in the dashboard.",
            )
        )
        return
    made.redemption = None
    report.add(Check(UNDO, "Give the test credit back", Status.OK, "the credit is back."))


def credit_back(wix: WixClient, pool_id: str, redemption_id: str) -> None:
    """Give a redemption's credits back with Change Balance (public; Cancel Redemption has no public
    SDK function): its amount, read by id from Query Transactions, added to the pool. The key is
    the redemption's, so a repeat is ALREADY_EXECUTED — done either way."""
    found = (
        benefit_programs.query_transactions(
            wix, query={"filter": {"id": redemption_id}, "cursorPaging": {"limit": 1}}
        ).get("transactions")
        or []
    )
    amount = str((found[0].get("amount") if found else None) or "1")
    pool = ((found[0].get("pool") or {}).get("id") if found else None) or pool_id
    try:
        benefit_programs.change_balance(
            wix, pool_id=pool, idempotency_key=f"front-desk-wix-check-undo:{redemption_id}", adjust_by=amount
        )
    except WixError as err:
        if err.code != "ALREADY_EXECUTED":
            raise


def _refund_cash(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    if made.cash is None:
        return
    order_id, payment_id, amount = made.cash
    refund = {"paymentId": payment_id, "amount": {"amount": amount}, "externalRefund": True}
    try:
        orders.refund_payments(wix, order_id=order_id, payment_refunds=[refund])
    except WixError as err:
        report.add(Check(UNDO, "Refund the cash payment", Status.FAILED, describe(err)))
        report.leftovers.append(
            Leftover(
                f"a cash payment of {amount} on order {order_id}",
                payment_id,
                "Record the refund on the order in the Wix dashboard (Orders → the order → Refund).",
            )
        )
        return
    status = orders.get_order(wix, order_id=order_id)["order"].get("paymentStatus")
    report.add(Check(UNDO, "Refund the cash payment", Status.OK, f"refunded outside Wix; the order is now {status}."))


def _cancel_bookings(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    for index, created in enumerate(made.bookings):
        booking_id = created["id"]
        name = f"Cancel test booking {index + 1}"
        try:
            current = booking_now(wix, booking_id)
            if current is None:
                raise WixError(f"booking {booking_id} is not found", code="BOOKING_NOT_FOUND")
            if current.get("status") in CLOSED:
                report.add(Check(UNDO, name, Status.OK, f"already {current['status']}."))
                continue
            if index == 0:
                _stale_revision(wix, report, created, current)
                current = booking_now(wix, booking_id) or current
                if current.get("status") in CLOSED:
                    report.add(Check(UNDO, name, Status.OK, f"{current['status']} (by the stale-revision test)."))
                    continue
            canceled = _cancel(wix, made, current)
        except WixError as err:
            report.add(Check(UNDO, name, Status.FAILED, describe(err)))
            report.leftovers.append(Leftover("a test booking", booking_id, "Cancel it in the Wix Bookings calendar."))
            continue
        report.add(Check(UNDO, name, Status.OK, f"{canceled.get('status')} (booking {booking_id})."))


def _cancel(wix: WixClient, made: Made, current: dict[str, Any]) -> dict[str, Any]:
    """Cancel with the current revision; waive the charges of an order still owed, give a plan
    payment back if its refund failed. One retry on a moved revision, one without waiving."""
    booking_id = current["id"]
    order_id = made.orders.get(booking_id)
    waive = False
    if order_id:
        try:
            waive = orders.get_order(wix, order_id=order_id)["order"].get("paymentStatus") in UNPAID
        except WixError:
            waive = False
    plan_order = made.plan_payment is not None and made.plan_payment[0] == order_id
    flow = {"withRefund": True} if plan_order and not made.plan_refunded else None
    for attempt in range(3):
        try:
            return bookings.cancel_booking(
                wix,
                booking_id=booking_id,
                revision=str(current.get("revision") or ""),
                participant_notification=QUIET,
                flow_control_settings=flow,
                waive_charges=True if waive else None,
            )["booking"]
        except WixConflict:
            if attempt == 2:
                raise
            current = booking_now(wix, booking_id) or current
        except WixError:
            if not waive and flow is None:
                raise
            waive, flow = False, None
    raise AssertionError("unreachable")


def _stale_revision(wix: WixClient, report: CheckReport, created: dict[str, Any], current: dict[str, Any]) -> None:
    """Cancel once with a revision that is not the current one, to learn Wix's status for it."""
    now_revision = str(current.get("revision") or "")
    stale = str(created.get("revision") or "")
    if not stale or stale == now_revision:
        stale = str(int(now_revision) + 1) if now_revision.isdigit() else "1"
    question = "What does Cancel Booking answer for a stale revision?"
    try:
        bookings.cancel_booking(wix, booking_id=current["id"], revision=stale, participant_notification=QUIET)
    except WixError as err:
        report.answer(
            Answer(
                question,
                describe(err),
                key="status.stale_revision",
                value=err.status,
                detail=f"revision {stale} sent, the booking was at {now_revision}",
            )
        )
        return
    report.answer(
        Answer(
            question,
            "HTTP 200: Wix cancelled it anyway (the revision is not checked)",
            key="status.stale_revision",
            value=200,
            detail=f"revision {stale} sent, the booking was at {now_revision}",
        )
    )


def _cancel_extra(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    """A second order from placing one cart twice, and a plan order left owing after its booking went."""
    for order_id in made.extra_orders:
        try:
            orders.cancel_order(wix, order_id=order_id, send_order_canceled_email=False)
        except WixError as err:
            report.add(Check(UNDO, "Cancel the extra order", Status.FAILED, describe(err)))
            report.leftovers.append(Leftover("an extra order", order_id, "Cancel it in the Wix dashboard (Orders)."))
        else:
            report.add(Check(UNDO, "Cancel the extra order", Status.OK, f"order {order_id} cancelled."))
    for booking_id, order_id in made.orders.items():
        order = orders.get_order(wix, order_id=order_id)["order"]
        if order.get("status") == "CANCELED" or order.get("paymentStatus") not in UNPAID:
            continue
        try:
            orders.cancel_order(wix, order_id=order_id, send_order_canceled_email=False)
        except WixError as err:
            report.leftovers.append(
                Leftover(
                    f"an unpaid order for cancelled test booking {booking_id} ({describe(err)})",
                    order_id,
                    "Cancel it in the Wix dashboard (Orders).",
                )
            )


def _contacts_left(wix: WixClient, report: CheckReport, made: Made, clock: Clock) -> None:
    for contact_id in made.contacts:
        report.leftovers.append(
            Leftover("a duplicate contact Wix let the check create", contact_id, "Delete it in Contacts.")
        )


def _credits_back(wix: WixClient, report: CheckReport, made: Made) -> None:
    if made.pool_id is None or made.credits_at_start is None:
        return
    try:
        now = credits(wix, made.pool_id)
    except WixError as err:
        report.add(Check(UNDO, "Plan credits as before", Status.FAILED, f"could not read them: {describe(err)}"))
        return
    if now == made.credits_at_start:
        report.add(Check(UNDO, "Plan credits as before", Status.OK, f"{now} credits, as at the start."))
        return
    report.add(
        Check(
            UNDO, "Plan credits as before", Status.FAILED, f"{now} credits now, {made.credits_at_start} at the start."
        )
    )
    if any(made.pool_id in (left.wix_id, left.todo) or made.pool_id in left.todo for left in report.leftovers):
        return  # already listed (a redemption that could not be cancelled)
    report.leftovers.append(
        Leftover(
            f"plan credits changed from {made.credits_at_start} to {now}",
            made.pool_id,
            "Correct the member's remaining sessions in the Wix dashboard (Pricing Plans).",
        )
    )
