"""Money at the desk: cash, card or cheque (:func:`payment_record`), one credit of a plan
(:func:`plan_charge`), or "they pay another day" (:func:`pay_later`).

Each kind has one builder (``payment_change``, ``plan_charge_change``, ``pay_later_change``):
the mirror change (on the booking and the plan balance, in memory), the :class:`DeskAction` and
the audit entry, none of them saved. The services here write one; ``settle.settle_commit``
writes a whole roster's in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app import money
from bookings_app.models import AuditEntry, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import ledger
from bookings_app.services.audit import audit_entry
from bookings_app.services.errors import BookingError

Kind = DeskAction.Kind
PS = Booking.PaymentStatus

METHODS = ("CASH", "CARD", "CHECK")
METHOD_LABELS = {"CASH": "cash", "CARD": "card", "CHECK": "cheque"}
# A payment status that a promise to pay later turns into NOT_PAID (the others say more already).
UNPAID_BEFORE_LATER = (PS.UNDEFINED, PS.REFUNDED, PS.FAILED)


@dataclass
class MoneyChange:
    """One money action, built and not yet written: the booking (and ``balance``) changed in
    memory, the action and its audit entry unsaved."""

    booking: Booking
    action: DeskAction
    audit: AuditEntry
    balance: BenefitBalance | None = None  # the plan charged, its credits already taken in memory


def payment_record(*, user: Any, booking: Booking, method: str, amount: Decimal, idempotency_key: str) -> DeskAction:
    """Cash, card or cheque taken at the desk. The full amount due → PAID; less → PARTIALLY_PAID
    (another payment can follow for the rest).

    Raises ``BookingError`` ``method_invalid``, ``amount_invalid`` (not above 0, or more than is
    due), ``already_paid`` (nothing is due, e.g. another desk just took the money),
    ``booking_cancelled``.
    """
    ledger.require_key(idempotency_key)
    method = (method or "").upper()
    if method not in METHODS:
        raise BookingError("Choose cash, card or cheque.", code="method_invalid")
    amount = money.parse_amount(amount)
    with transaction.atomic():
        same = {"method": method, "amount": amount}
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.PAYMENT, params=same)
        if done is not None:
            return done
        due = _due_or_already_paid(booking)
        if amount is None or amount <= 0 or amount > due:
            raise BookingError(f"Enter an amount above 0 and at most {_money(due, booking)}.", code="amount_invalid")
        change = payment_change(
            user=user,
            booking=booking,
            method=method,
            amount=amount,
            due=due,
            key=idempotency_key,
            session=booking.session,
            depends_on=ledger.money_dependency(booking),
            now=timezone.now(),
        )
        return change_write(change)


def plan_charge(*, user: Any, booking: Booking, balance: BenefitBalance, idempotency_key: str) -> DeskAction:
    """Pay the booking with one credit of the customer's plan (``balance``: the pool).

    Raises ``BookingError`` ``plan_not_eligible`` (another member's plan, not active, or it does
    not cover this service), ``no_credits``, ``already_paid``, ``booking_cancelled``.
    """
    ledger.require_key(idempotency_key)
    with transaction.atomic():
        same = {"balance_id": balance.pk}
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.PLAN_CHARGE, params=same)
        if done is not None:
            return done
        balance = BenefitBalance.objects.select_for_update().get(pk=balance.pk)
        problem = money.plan_problem(booking, balance, balance.member)
        if problem is not None:
            raise BookingError(problem[1], code=problem[0])
        due = _due_or_already_paid(booking)
        change = plan_charge_change(
            user=user,
            booking=booking,
            balance=balance,
            due=due,
            key=idempotency_key,
            session=booking.session,
            depends_on=ledger.money_dependency(booking),
            now=timezone.now(),
        )
        return change_write(change)


def pay_later(*, user: Any, booking: Booking, idempotency_key: str) -> DeskAction:
    """They pay another day: NOT_PAID (in ecom mode an order is made so Wix shows it unpaid);
    the booking is on the owes list. Raises ``BookingError`` ``already_paid``, ``booking_cancelled``."""
    ledger.require_key(idempotency_key)
    with transaction.atomic():
        done, booking = ledger.lock_unless_done(booking, idempotency_key, Kind.PAY_LATER)
        if done is not None:
            return done
        due = _due_or_already_paid(booking)
        change = pay_later_change(
            user=user,
            booking=booking,
            due=due,
            key=idempotency_key,
            session=booking.session,
            depends_on=ledger.money_dependency(booking),
            now=timezone.now(),
        )
        return change_write(change)


# --- one builder per kind (also used by settle) ----------------------------------------------------


def payment_change(
    *,
    user: Any,
    booking: Booking,
    method: str,
    amount: Decimal,
    due: Decimal,
    key: str,
    session: Session | None,
    depends_on: DeskAction | None,
    now: datetime,
    batch_id: str = "",
) -> MoneyChange:
    """Cash, card or cheque (``method``) of ``amount`` out of ``due``: all of it → PAID, less → PARTIALLY_PAID."""
    full = amount == due
    before = ledger.booking_money_state(booking)
    booking.payment_status = PS.PAID if full else PS.PARTIALLY_PAID
    ledger.offline_option(booking)
    action = ledger.build_action(
        user=user,
        kind=Kind.PAYMENT,
        key=key,
        now=now,
        booking=booking,
        session=session,
        contact=booking.contact,
        depends_on=depends_on,
        params={"method": method, "amount": str(amount), "full": full, "due": str(due)},
        before={"booking": before},
        batch_id=batch_id,
    )
    took = f"{_money(amount, booking)} {METHOD_LABELS[method]} from {booking.contact}"
    if batch_id:
        summary = f"Settle: took {took}"
    else:
        summary = f"Took {took}" + ("" if full else f" ({_money(due - amount, booking)} still to pay)")
    audit = _audit(
        user=user,
        action=f"payment.{method.lower()}",
        booking=booking,
        summary=summary,
        before=before,
        after={**ledger.booking_money_state(booking), "amount": str(amount)},
        batch_id=batch_id,
    )
    return MoneyChange(booking=booking, action=action, audit=audit)


def plan_charge_change(
    *,
    user: Any,
    booking: Booking,
    balance: BenefitBalance,
    due: Decimal,
    key: str,
    session: Session | None,
    depends_on: DeskAction | None,
    now: datetime,
    batch_id: str = "",
) -> MoneyChange:
    """One credit of ``balance`` (none taken from an unlimited plan) pays the booking."""
    before = ledger.booking_money_state(booking)
    credits_before = balance.remaining_credits
    if not balance.unlimited:
        # One credit per participant: the push redeems (or charges) ``count`` = participants.
        balance.remaining_credits = (balance.remaining_credits or Decimal("0")) - money.credits_needed(booking)
    booking.payment_status = PS.PAID
    booking.selected_payment_option = Booking.PaymentOption.MEMBERSHIP
    action = ledger.build_action(
        user=user,
        kind=Kind.PLAN_CHARGE,
        key=key,
        now=now,
        booking=booking,
        session=session,
        contact=booking.contact,
        depends_on=depends_on,
        params={
            "balance_id": balance.pk,
            "pool_id": balance.wix_id,
            "member_id": balance.member.wix_id,
            "plan_name": balance.name,
            "due": str(due),
        },
        before={"booking": before, "credits": ledger.str_or_none(credits_before)},
        batch_id=batch_id,
    )
    charged = f"{booking.contact}'s {balance.name or 'plan'}"
    if batch_id:
        summary, after = f"Settle: charged {charged}", ledger.booking_money_state(booking)
    else:
        summary = f"Charged {charged}" + ("" if balance.unlimited else f" ({balance.remaining_credits:g} credits left)")
        after = {**ledger.booking_money_state(booking), "credits": ledger.str_or_none(balance.remaining_credits)}
    audit = _audit(
        user=user,
        action="payment.plan",
        booking=booking,
        summary=summary,
        before={**before, "credits": ledger.str_or_none(credits_before)},
        after=after,
        batch_id=batch_id,
    )
    return MoneyChange(booking=booking, action=action, audit=audit, balance=balance)


def pay_later_change(
    *,
    user: Any,
    booking: Booking,
    due: Decimal,
    key: str,
    session: Session | None,
    depends_on: DeskAction | None,
    now: datetime,
    batch_id: str = "",
) -> MoneyChange:
    """``due`` is owed: NOT_PAID unless the booking says more already (part paid, not paid)."""
    before = ledger.booking_money_state(booking)
    if booking.payment_status in UNPAID_BEFORE_LATER:
        booking.payment_status = PS.NOT_PAID
    ledger.offline_option(booking)
    action = ledger.build_action(
        user=user,
        kind=Kind.PAY_LATER,
        key=key,
        now=now,
        booking=booking,
        session=session,
        contact=booking.contact,
        depends_on=depends_on,
        params={"due": str(due)},
        before={"booking": before},
        batch_id=batch_id,
    )
    if batch_id:
        summary = f"Settle: {booking.contact} owes {_money(due, booking)}"
    else:
        summary = f"{booking.contact} will pay {_money(due, booking)} later"
    audit = _audit(
        user=user,
        action="payment.later",
        booking=booking,
        summary=summary,
        before=before,
        after=ledger.booking_money_state(booking),
        batch_id=batch_id,
    )
    return MoneyChange(booking=booking, action=action, audit=audit)


def _audit(
    *,
    user: Any,
    action: str,
    booking: Booking,
    summary: str,
    before: dict[str, Any],
    after: dict[str, Any],
    batch_id: str,
) -> AuditEntry:
    # A batch's entries name the batch; a single action's entry gets the action's pk once saved.
    if batch_id:
        after = {**after, "batch": batch_id}
    return audit_entry(
        user=user, action=action, obj_type="booking", obj_id=booking.pk, summary=summary, before=before, after=after
    )


def change_write(change: MoneyChange) -> DeskAction:
    """Write one change: the plan balance, the booking (pending sync), the action, its audit entry."""
    booking = change.booking
    if change.balance is not None and not change.balance.unlimited:
        change.balance.save(update_fields=["remaining_credits"])
    booking.pending_sync = True
    booking.save(update_fields=["payment_status", "selected_payment_option", "pending_sync"])
    action = ledger.save_action(change.action)
    change.audit.after = {**change.audit.after, "action": action.pk}
    change.audit.save(force_insert=True)
    return action


def _due_or_already_paid(booking: Booking) -> Decimal:
    due = money.amount_due(booking)
    if due <= 0:
        raise BookingError(ledger.already_paid_message(booking), code="already_paid")
    return due


def _money(amount: Decimal, booking: Booking) -> str:
    return money.format_money(amount, booking.service.currency)
