"""Phase 3, ecom mode: money recorded on the booking's eCommerce order (what the Wix dashboard shows).

Per participant, the fewest calls the documented API allows (CONTRACT.md §20):

* cash / card / cheque, full or part: Create Cart + Place Order (``order_place``; only when the
  booking has no order yet) + **Add Payments** (``order_transactions.add_payments``, public: an
  APPROVED offline payment of the amount taken) — 3 calls, 1 for a booking that has an order;
* plan: Create Cart + Place Order + Get Order (the order's line id, which Charge Memberships names
  and Place Order does not return) + **Charge Memberships** (``orders.charge_memberships``; no
  membership is chosen in the cart) + its asynchronous status, read for up to 100 orders at once
  with List Transactions For Multiple Orders — 4 calls and a hundredth;
* pay later: Create Cart + Place Order — 2 calls (0 with an order), so Wix shows what is owed.

Why no fewer: Wix has no bulk cart or bulk order creation (one cart is one order for one buyer),
Add Payments records payments on one order, and Bulk Mark Orders As Paid has no public
``www.wixapis.com`` route. Each id is saved before the next call, and a "sent" marker before a
call that moves money, so a lost answer is looked up in the order (its paid amount, its
transactions) rather than paid twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from bookings_app.models import BenefitBalance, DeskAction, Order, OrderLineItem
from bookings_app.selectors.site_facts import site_fact
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json, decimal_or_zero
from bookings_app.services.push.messages import message
from bookings_app.services.push.money_booking_only import benefit_keys, redeem
from bookings_app.services.push.order_place import order_line, order_of, order_place
from bookings_app.services.push.worker import Attention, Push, chunks
from bookings_app.wix import WixError, WixUnavailable, order_transactions, orders
from bookings_app.wix.dates import wix_timestamp
from bookings_app.wix.ids import PRICING_PLANS_APP_ID

Kind = DeskAction.Kind

LIST_BY_IDS = 100  # List Transactions For Multiple Orders: orderIds 1..100
SETTLED = "APPROVED"
REFUSED = frozenset({"DECLINED", "CANCELED", "VOIDED"})


def ecom_money(push: Push, action: DeskAction, charging: list[DeskAction]) -> None:
    """One money action: its order (placed now if the booking has none), then the payment. A plan
    charge whose payment Wix is still processing waits in ``charging`` for ``follow_charges``."""
    order_id = order_of(push, action) or order_place(push, action)
    if action.kind == Kind.PAY_LATER:
        push.synced(action)
    elif action.kind == Kind.PLAN_CHARGE:
        _charge_memberships(push, action, order_id, charging)
    else:
        _add_payment(push, action, order_id)


# --- offline money: Add Payments ---------------------------------------------------------------


def offline_payment_add(
    push: Push, action: DeskAction, *, order: Order | None, order_id: str, amount: Decimal, method: str
) -> list[str]:
    """Add Payments: ``amount`` taken at the desk in ``method`` (CASH, CARD, CHECK) as one APPROVED
    offline payment on the order; the new payment ids. Saves ``add_sent`` (with the order's paid
    amount before) first, so a lost answer is looked for in the order's paid amount, not sent
    again; a call that surely did not land clears it."""
    paid_before = order.paid if order is not None else Decimal("0")
    push.save_steps(action, add_sent=True, paid_before=str(paid_before))
    name = {"custom": "Card"} if method == "CARD" else {"predefined": method}
    try:
        answer = push.call(
            order_transactions.add_payments,
            order_id=order_id,
            payments=[
                {
                    "amount": {"amount": str(amount)},
                    "regularPaymentDetails": {"offlinePayment": True, "paymentMethodName": {"userDefinedName": name}},
                    "status": "APPROVED",
                }
            ],
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, add_sent=False)
        raise
    return answer.get("paymentsIds") or []


def _add_payment(push: Push, action: DeskAction, order_id: str) -> None:
    """Record the amount taken at the desk (the whole amount due, or a part) as an APPROVED offline
    payment: ``AddPaymentsRequest{payments[{amount{amount}, regularPaymentDetails{offlinePayment:
    true, paymentMethodName{userDefinedName{predefined: CASH|CHECK | custom}}}, status}]}``."""
    amount = decimal_or_zero(action.params.get("amount"))
    order = Order.objects.filter(wix_id=order_id).first()
    if action.steps.get("add_sent"):
        # Our Add Payments may have landed without its answer: the order's paid amount tells.
        found = push.call(orders.get_order, order_id=order_id)["order"]
        paid = decimal_or_zero(((found.get("balanceSummary") or {}).get("paid") or {}).get("amount"))
        if paid >= decimal_or_zero(action.steps.get("paid_before")) + amount:
            mirror.orders.order_absorb(found)
            push.synced(action)
            return
    method = action.params.get("method") or "CASH"
    ids = offline_payment_add(push, action, order=order, order_id=order_id, amount=amount, method=method)
    if order is None:
        order = Order.objects.filter(wix_id=order_id).first()
    if order is not None:
        mirror.payments.offline_payments_record(order=order, payment_ids=ids, amount=amount, method=method)
    push.synced(action, payment_ids=ids)


# --- plan charges: Charge Memberships, then its asynchronous status -------------------------------


def _charge_memberships(push: Push, action: DeskAction, order_id: str, charging: list[DeskAction]) -> None:
    if action.steps.get("charge_payment_ids"):
        charging.append(action)  # charged before: only its status is still to learn
        return
    if action.steps.get("redemption_id") or not _sold_for_a_plan(action, order_id):
        _plan_recorded(push, action, order_id)
        return
    line_id = order_line(push, action, order_id)
    if action.steps.get("charge_sent"):
        mine = [p for p in membership_payments(push, order_id, line_id) if p.get("status") not in REFUSED]
        if mine:
            push.save_steps(action, charge_payment_ids=[p["id"] for p in mine])
            charging.append(action)
            return
    push.save_steps(action, charge_sent=True, charge_sent_at=wix_timestamp(timezone.now()))
    try:
        answer = push.call(
            orders.charge_memberships,
            order_id=order_id,
            member_id=action.params.get("member_id") or "",
            memberships=[
                {
                    "lineItemId": line_id,
                    "membershipIdentifier": {
                        "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": membership_id(action)}
                    },
                }
            ],
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, charge_sent=False)
        raise
    except WixError as err:
        if err.code == "MEMBERSHIP_NOT_ELIGIBLE":
            push.save_steps(action, charge_sent=False)
            if err.data.get("reason") == "PAYMENT_OPTION_NOT_MEMBERSHIP":
                # UNCONFIRMED (CONTRACT.md §20): the line was sold to be paid offline, and Wix
                # charges only lines sold for a plan: the credit is redeemed and recorded instead.
                _plan_recorded(push, action, order_id)
                return
            # data.reason INSUFFICIENT_FUNDS (UNCONFIRMED) is the plan's credits running out.
            code = "NOT_ENOUGH_BALANCE" if err.data.get("reason") == "INSUFFICIENT_FUNDS" else err.code
            raise Attention(code, message(code, action, err)) from err
        raise
    payments = answer.get("payments") or []
    push.save_steps(action, charge_payment_ids=[p.get("id") for p in payments if p.get("id")])
    charging.append(action)


def _sold_for_a_plan(action: DeskAction, order_id: str) -> bool:
    """Whether Charge Memberships can pay the booking's order line: a line sold to be paid by a plan
    (``paymentOption`` MEMBERSHIP…) as the mirror knows it, unknown counting as yes (Wix then says);
    any line where ``wix_check`` found this site's Charge Memberships charges offline lines too."""
    if site_fact("charge_offline_line", False) is True:
        return True
    line = OrderLineItem.objects.filter(order__wix_id=order_id, booking_id=action.booking_id).first()
    return line is None or not line.payment_option or line.payment_option.startswith("MEMBERSHIP")


def _plan_recorded(push: Push, action: DeskAction, order_id: str) -> None:
    """A plan paying for a line sold to be paid offline (a booking made online, "pay in person"):
    Charge Memberships charges only lines sold for a plan, so the credits are taken with Redeem
    Benefit (``count`` = participants; a lost answer found in Query Transactions) and the plan
    payment recorded on the order with Add Payments — ``Payment{amount, membershipPaymentDetails
    {membershipId, lineItemId, name{original}, providerAppId, externalTransactionId}, status}``
    (all public, ``@wix/auto_sdk_ecom_order-transactions``). Three calls plus the benefit key."""
    if not action.steps.get("redemption_id"):
        push.save_steps(action, redemption_id=redeem(push, action, benefit_keys(push, [action])))
    redemption_id = action.steps["redemption_id"]
    line_id = order_line(push, action, order_id)
    if action.steps.get("plan_payment_sent"):
        mine = [
            p
            for p in membership_payments(push, order_id, line_id)
            if (p.get("membershipPaymentDetails") or {}).get("externalTransactionId") == redemption_id
        ]
        if mine:
            mirror.payments.membership_payments_record(order_id=order_id, payments=mine)
            push.synced(action, payment_ids=[p["id"] for p in mine])
            return
    line = OrderLineItem.objects.filter(order__wix_id=order_id, line_item_id=line_id).select_related("order").first()
    amount = line.price * line.quantity if line is not None else decimal_or_zero(action.params.get("due"))
    if line is not None and 0 < line.order.balance < amount:
        amount = line.order.balance  # part paid already: the plan pays what is left, never more
    details = {
        "membershipId": membership_id(action),
        "lineItemId": line_id,
        "name": {"original": (action.params.get("plan_name") or "Plan")[:100]},
        "providerAppId": PRICING_PLANS_APP_ID,
        "externalTransactionId": redemption_id,
    }
    push.save_steps(action, plan_payment_sent=True)
    try:
        answer = push.call(
            order_transactions.add_payments,
            order_id=order_id,
            payments=[{"amount": {"amount": str(amount)}, "membershipPaymentDetails": details, "status": "APPROVED"}],
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, plan_payment_sent=False)
        raise
    ids = answer.get("paymentsIds") or []
    recorded = [
        {"id": i, "amount": {"amount": str(amount)}, "status": "APPROVED", "membershipPaymentDetails": details}
        for i in ids
    ]
    mirror.payments.membership_payments_record(order_id=order_id, payments=recorded)
    push.synced(action, payment_ids=ids)


def membership_id(action: DeskAction) -> str:
    """The membership Charge Memberships is given: the plan's Benefit Programs pool (the best
    reading of the documents), or its pricing-plan order where ``wix_check`` found the site wants that."""
    pool_id = action.params.get("pool_id") or ""
    if site_fact("membership_id_kind", "pool") == "plan_order":
        balance = BenefitBalance.objects.filter(wix_id=pool_id).select_related("plan_order").first()
        if balance is not None and balance.plan_order is not None and balance.plan_order.wix_id:
            return balance.plan_order.wix_id
    return pool_id


def follow_charges(push: Push, actions: list[DeskAction]) -> None:
    """Charge Memberships answers before Wix has charged: learn each payment's final status, one
    List Transactions For Multiple Orders call for up to 100 orders."""
    for chunk in chunks(actions, LIST_BY_IDS):
        push.extend_lease(chunk)
        order_ids = sorted({a.steps["order_id"] for a in chunk})
        try:
            answer = push.call(order_transactions.list_transactions_for_multiple_orders, order_ids=order_ids)
        except Exception as err:  # noqa: BLE001 - sorted by fail()
            for action in chunk:
                push.fail(action, err)
            continue
        payments_of: dict[str, list[Json]] = {
            record.get("orderId"): (record.get("payments") or []) for record in answer.get("orderTransactions") or []
        }
        for action in chunk:
            push.guarded(action, lambda action=action, found=payments_of: _charge_outcome(push, action, found))


def _charge_outcome(push: Push, action: DeskAction, payments_of: dict[str, list[Json]]) -> None:
    order_id = action.steps["order_id"]
    wanted = set(action.steps.get("charge_payment_ids") or [])
    mine = [p for p in payments_of.get(order_id, []) if p.get("id") in wanted]
    statuses = {str(p.get("status") or "") for p in mine}
    if mine and statuses <= {SETTLED}:
        mirror.payments.membership_payments_record(order_id=order_id, payments=mine)
        push.synced(action)
    elif statuses & REFUSED:
        # Declined by the plan (no credit left, plan ended …): staff decide; a retry charges afresh.
        push.save_steps(action, charge_payment_ids=None, charge_sent=False)
        push.attention(action, "NOT_ENOUGH_BALANCE", message("NOT_ENOUGH_BALANCE", action, None), ", ".join(statuses))
    else:
        push.later(action, "Wix is still processing the plan charge", count=True)


def membership_payments(push: Push, order_id: str, line_id: str) -> list[Json]:
    """The plan charges of this order line, whatever their status, from the order's transactions."""
    record = push.call(order_transactions.list_transactions_for_single_order, order_id=order_id)
    return [
        p
        for p in (record.get("orderTransactions") or {}).get("payments") or []
        if (p.get("membershipPaymentDetails") or {}).get("lineItemId") == line_id
    ]


def order_refresh(push: Push, order_id: str) -> None:
    """Read the order back from Wix into the mirror."""
    order = push.call(orders.get_order, order_id=order_id)["order"]
    mirror.orders.order_absorb(order)
