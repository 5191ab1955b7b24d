"""Selling a pricing plan at the desk, paid there in cash, by card or by cheque
(:func:`plan_sale`), and using it at once for today's visit.

Wix sells plans to site *members* only (CONTRACT.md §10, §13.1); a customer who is only a contact
is told so. The sale is a ``PLAN_SALE`` desk action: the worker sends Create Offline Order
(``paid: true``) after the undo window and reads the pool Wix provisions into the mirror. Until
then the plan is on the desk already — a local plan order and a balance "waiting for Wix"
(``PROVISIONING``, no Wix id) with its credits — and a visit it pays for is a ``PLAN_CHARGE``
that waits on the sale (``depends_on``): undoing the sale drops the charge too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app import money, selectors
from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, PlanOrder, Session
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.desk.payments import METHOD_LABELS, METHODS, change_write, plan_charge_change
from bookings_app.services.errors import BookingError
from bookings_app.services.plans import PlanOffer

Kind = DeskAction.Kind

# What a sold plan's balance says until Wix has provisioned its pool (a Benefit Programs pool
# status): no desk screen offers it for a charge of its own, only the sale's visit.
WAITING_FOR_WIX = "PROVISIONING"
VISIT_KEY_SUFFIX = ":visit"


def plan_sale(
    *,
    user: Any,
    contact: Contact,
    offer: PlanOffer,
    method: str,
    idempotency_key: str,
    session: Session | None = None,
    visit: Booking | None = None,
) -> DeskAction:
    """Sell ``offer`` to ``contact``, paid at the desk by ``method`` (cash, card, cheque). With
    ``visit`` (their booking on today's session) the new plan pays for it at once: a plan charge
    that waits for the sale to reach Wix. Returns the sale.

    Raises ``BookingError`` ``method_invalid``, ``not_a_member`` (a contact only: Wix sells plans
    to members), ``plan_invalid`` (no flat price), ``plan_not_eligible`` (the visit is someone
    else's, or the plan doesn't cover it), ``no_credits`` (fewer credits than participants),
    ``already_paid`` (nothing due on the visit), ``booking_cancelled``, ``duplicate_request``.
    """
    ledger.require_key(idempotency_key)
    method = (method or "").upper()
    if method not in METHODS:
        raise BookingError("Choose cash, card or cheque.", code="method_invalid")
    if offer.price is None:
        raise BookingError(f"{offer.name} has no fixed price: sell it from the Wix dashboard.", code="plan_invalid")
    with transaction.atomic():
        done = ledger.existing(idempotency_key, Kind.PLAN_SALE)
        if done is not None:
            return done
        member = selectors.member_of(contact_id=contact.pk)
        if member is None:
            raise BookingError(
                f"{contact} is not a member of the website, and Wix sells plans to members only. "
                "Ask them to sign up on the website (or invite them from the Wix dashboard), then search again.",
                code="not_a_member",
            )
        due = Decimal("0")
        if visit is not None:
            visit = ledger.lock_booking(visit)
            due = _visit_due(visit, contact=contact, offer=offer)
            session = session or visit.session
        now = timezone.now()
        plan_order = PlanOrder.objects.create(
            member=member,
            plan_id=offer.plan_id,
            plan_name=offer.name[:400],
            status=PlanOrder.Status.PENDING,
            last_payment_status="PAID",
            start=now,
        )
        balance = BenefitBalance.objects.create(
            member=member,
            plan_order=plan_order,
            name=offer.name[:400],
            status=WAITING_FOR_WIX,
            total_credits=offer.credits,
            remaining_credits=offer.credits,
            unlimited=offer.unlimited is True,
            covered_service_ids=list(offer.covered_service_ids),
        )
        price = money.format_money(offer.price, offer.currency)
        sale = ledger.save_action(
            ledger.build_action(
                user=user,
                kind=Kind.PLAN_SALE,
                key=idempotency_key,
                now=now,
                session=session,
                contact=contact,
                depends_on=ledger.money_dependency(visit) if visit is not None else None,
                params={
                    "plan_id": offer.plan_id,
                    "plan_name": offer.name,
                    "price": str(offer.price),
                    "currency": offer.currency,
                    "method": method,
                    "member_id": member.wix_id,
                    "credits": ledger.str_or_none(offer.credits),
                    "unlimited": offer.unlimited,
                    "plan_order_pk": plan_order.pk,
                    "balance_pk": balance.pk,
                },
                before={"plan_order": plan_order.pk, "balance": balance.pk},
            )
        )
        audit_record(
            user=user,
            action="plan.sale",
            obj_type="contact",
            obj_id=contact.pk,
            summary=f"Sold {offer.name} to {contact}: took {price} {METHOD_LABELS[method]}",
            after={"plan_id": offer.plan_id, "price": str(offer.price), "method": method, "action": sale.pk},
        )
        if visit is not None:
            change = plan_charge_change(
                user=user,
                booking=visit,
                balance=balance,
                due=due,
                key=f"{idempotency_key}{VISIT_KEY_SUFFIX}",
                session=visit.session,
                depends_on=sale,
                now=now,
            )
            if offer.credits is None and offer.unlimited is not True:
                # Not known until Wix provisions the pool.
                balance.remaining_credits = None
                change.audit.summary = f"Charged {contact}'s new {offer.name} (its credits come from Wix)"
                change.audit.after = {**change.audit.after, "credits": None}
            # The pool id comes with the sale's push, which writes it here.
            change.action.params.update({"pool_id": "", "sale_id": sale.pk})
            change_write(change)
    return sale


def _visit_due(visit: Booking, *, contact: Contact, offer: PlanOffer) -> Decimal:
    """What the new plan is to pay on ``visit``, or why it can't."""
    if visit.contact_id != contact.pk:
        raise BookingError(f"That booking is {visit.contact}'s, not {contact}'s.", code="plan_not_eligible")
    if offer.covers(visit.service.wix_id) is False:
        raise BookingError(f"{offer.name} doesn't cover {visit.service.name}.", code="plan_not_eligible")
    needed = money.credits_needed(visit)
    if offer.unlimited is not True and offer.credits is not None and offer.credits < needed:
        raise BookingError(
            f"{offer.name} gives {offer.credits:g} credits; {needed} are needed for this booking.", code="no_credits"
        )
    due = money.amount_due(visit)
    if due <= 0:
        raise BookingError(ledger.already_paid_message(visit), code="already_paid")
    return due
