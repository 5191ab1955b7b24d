"""Payments: Order Transactions JSON -> ``Payment`` rows, and the money the desk records on an order."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from bookings_app.models import Order, Payment
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, money, text
from bookings_app.wix.dates import wix_timestamp_parse


def payment_method(payment: Json) -> str:
    """Which ``Payment.Method`` an order-transactions payment is.

    Membership payments are plan charges; offline regular payments say their method in
    ``paymentMethodName`` (predefined CASH / CHECK, or a custom name such as "Card"); a regular
    payment that is not offline went through a payment provider: online.
    """
    if payment.get("membershipPaymentDetails"):
        return Payment.Method.PLAN
    if payment.get("giftcardPaymentDetails"):
        return Payment.Method.OTHER
    regular = payment.get("regularPaymentDetails") or {}
    if not regular.get("offlinePayment"):
        return Payment.Method.ONLINE
    name = regular.get("paymentMethodName") or {}
    user_defined = name.get("userDefinedName") or {}
    predefined = str(user_defined.get("predefined") or name.get("predefined") or "").upper()
    custom = str(user_defined.get("custom") or name.get("custom") or "").strip().casefold()
    if predefined == "CASH" or custom == "cash":
        return Payment.Method.CASH
    if predefined == "CHECK" or custom in ("check", "cheque"):
        return Payment.Method.CHECK
    if "card" in custom:
        return Payment.Method.CARD
    return Payment.Method.OTHER


def payment_values(payment: Json, *, order_pk: int, currency: str | None) -> Json:
    """The ``Payment`` fields of one order-transactions payment of the order ``order_pk``."""
    membership = payment.get("membershipPaymentDetails") or {}
    return {
        "order_id": order_pk,
        "amount": money((payment.get("amount") or {}).get("amount")) or Decimal("0"),
        "currency": text(currency, 3),
        "method": payment_method(payment),
        "status": text(payment.get("status") or Payment.Status.APPROVED, 24),
        "line_item_id": text(membership.get("lineItemId"), 250),
        "membership_id": text(membership.get("membershipId"), 250),
        "wix_created_at": wix_timestamp_parse(payment.get("createdDate")),
        "raw": payment,
    }


def payments_write(run: MirrorRun, orders: list[Json], payments: dict[str, list[Json]], held: dict[str, Order]) -> None:
    rows = []
    for order in orders:
        stored = held.get(order["id"])
        if stored is None:
            continue
        for payment in payments.get(order["id"], []):
            rows.append(
                Row(
                    payment["id"],
                    payment.get("revision"),
                    wix_timestamp_parse(payment.get("updatedDate")),
                    payment_values(payment, order_pk=stored.pk, currency=order.get("currency")),
                )
            )
    upsert(run, Payment, rows)


# --- money the desk recorded, until the sync reads it back ------------------------------------------


def membership_payments_record(*, order_id: str, payments: list[Json]) -> None:
    """Plan charges the desk made on the order ``order_id`` (Charge Memberships' answer, or found in
    the order's transactions): each one created once, and the order's money moved by it; nothing
    when the order is not mirrored.

    Unlike the sync's rows they carry no Wix version and no creation time, and they are plan
    charges whatever the payload says: the sync's next read of the order replaces them.
    """
    order = Order.objects.filter(wix_id=order_id).first()
    if order is None:
        return
    with transaction.atomic():
        for p in payments:
            if not p.get("id"):
                continue
            values = payment_values(p, order_pk=order.pk, currency=order.currency)
            del values["wix_created_at"]
            values["method"] = Payment.Method.PLAN
            _, created = Payment.objects.get_or_create(wix_id=p["id"], defaults=values)
            if created:
                order_paid(order, values["amount"])


def offline_payments_record(*, order: Order, payment_ids: list[str], amount: Decimal, method: str) -> None:
    """Cash, card or check the desk added to ``order`` (Wix answered only the payment ids): what the
    desk knows of them, and the order's money moved by ``amount``."""
    with transaction.atomic():
        for payment_id in payment_ids:
            Payment.objects.get_or_create(
                wix_id=payment_id,
                defaults={
                    "order": order,
                    "amount": amount,
                    "currency": order.currency,
                    "method": method if method in Payment.Method.values else Payment.Method.OTHER,
                    "status": Payment.Status.APPROVED,
                },
            )
        order_paid(order, amount)


def order_paid(order: Order, amount: Decimal) -> None:
    """Money we recorded on an order, reflected in its mirror until the sync reads it back."""
    order.paid = (order.paid or Decimal("0")) + amount
    order.balance = max((order.balance or Decimal("0")) - amount, Decimal("0"))
    order.payment_status = "PAID" if order.balance <= 0 else "PARTIALLY_PAID"
    order.save(update_fields=["paid", "balance", "payment_status"])
