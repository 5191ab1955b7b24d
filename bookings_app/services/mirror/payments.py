"""Payments: Order Transactions JSON -> ``Payment`` rows."""

from __future__ import annotations

from decimal import Decimal

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
