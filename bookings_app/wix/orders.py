"""eCommerce orders, the payments collector and order billing (CONTRACT.md §12.1–12.3, §20).

Marking paid, recording cash and charging memberships move money records: a repeat would fail
(ORDER_ALREADY_PAID) or double-count, so none of them is retried blindly.

Not here on purpose: Bulk Mark Orders As Paid (its protoPath ``/v1/bulk/payments-collector/
mark-as-paid`` has no ``www.wixapis.com`` mapping in the SDK's ``meta.js``) and Void Memberships
(``/ecom/v1/order-billing/void-memberships``: no public SDK function). A plan charge is given back
with :func:`refund_payments` (public), which returns a membership payment's credit.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param, require_batch

ORDERS = "/ecom/v1/orders"
COLLECTOR = "/ecom/v1/payments-collector/orders"
ORDER_BILLING = "/ecom/v1/order-billing"

CHARGE_MEMBERSHIPS_LIMIT = 100
REFUND_PAYMENTS_LIMIT = 50


# -- orders ------------------------------------------------------------------------------------


def get_order(wix: WixClient, *, order_id: str) -> dict[str, Any]:
    """Returns ``{order{id, number, status, paymentStatus, lineItems[], priceSummary, balanceSummary,
    buyerInfo}}``. Raises ``WixNotFound`` (ORDER_NOT_FOUND).
    """
    return wix.get(f"{ORDERS}/{path_param(order_id, 'order_id')}")


def search_orders(wix: WixClient, *, search: dict[str, Any] | None = None) -> dict[str, Any]:
    """``search{filter, sort, cursorPaging}`` → ``{orders[], metadata{cursors, hasNext}}``."""
    return wix.post(f"{ORDERS}/search", {"search": search or {}}, idempotent=True)


def create_order(wix: WixClient, *, order: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create an order directly, without a checkout. Returns ``{order}``."""
    return wix.post(ORDERS, compact({"order": order, "settings": settings}), idempotent=False)


def cancel_order(
    wix: WixClient,
    *,
    order_id: str,
    send_order_canceled_email: bool | None = None,
    custom_message: str | None = None,
    restock_all_items: bool | None = None,
) -> dict[str, Any]:
    """Returns ``{order}`` with status CANCELED. Raises ``WixPreconditionFailed``
    (ORDER_HAS_AUTHORIZED_TRANSACTION, ORDER_IS_PENDING …), ``WixNotFound``.
    """
    body = compact(
        {
            "sendOrderCanceledEmail": send_order_canceled_email,
            "customMessage": custom_message,
            "restockAllItems": restock_all_items,
        }
    )
    return wix.post(f"{ORDERS}/{path_param(order_id, 'order_id')}/cancel", body, idempotent=False)


# -- payments collector --------------------------------------------------------------------------


def mark_order_as_paid(wix: WixClient, *, order_id: str) -> dict[str, Any]:
    """Record an offline order as fully paid. Returns ``{order}``.

    Raises ``WixPreconditionFailed`` (ORDER_ALREADY_PAID, ORDER_HAS_CHARGEBACKS), ``WixNotFound``.
    """
    return wix.post(f"{COLLECTOR}/{path_param(order_id, 'order_id')}/mark-as-paid", {}, idempotent=False)


def record_manually_collected_payment(wix: WixClient, *, order_id: str, amount: str) -> dict[str, Any]:
    """Record cash (or another offline payment) of ``amount`` (decimal string) against an order.

    Returns ``{}``. Raises ``WixPreconditionFailed`` (ORDER_ALREADY_PAID, ORDER_CANCELED),
    ``WixBadRequest`` (INVALID_AMOUNT).
    """
    path = f"{COLLECTOR}/{path_param(order_id, 'order_id')}/manual-payment"
    return wix.post(path, {"amount": {"amount": amount}}, idempotent=False)


def get_payment_collectability_status(wix: WixClient, *, order_id: str) -> dict[str, Any]:
    """Returns ``{status (COLLECTABLE|NONCOLLECTABLE_ORDER_IS_PAID|…), amount}``."""
    return wix.get(f"{COLLECTOR}/{path_param(order_id, 'order_id')}/payment-collectability-status")


# -- order billing -------------------------------------------------------------------------------


def charge_memberships(
    wix: WixClient,
    *,
    order_id: str,
    member_id: str,
    memberships: list[dict[str, Any]],
) -> dict[str, Any]:
    """Pay an order's line items with a member's plan credits (``@wix/auto_sdk_ecom_order-billing``
    ``chargeMemberships``, public preview, ``POST /ecom/v1/order-billing/charge-memberships``).

    Body ``ChargeMembershipsRequest{orderId, memberId, memberships: MembershipCharge[] (1..100)}``,
    each ``{lineItemId (the placed order's line), membershipIdentifier{existingMembership{appId,
    membershipId}}}``. Returns ``{payments[]}`` — membership payments whose status Wix updates
    **asynchronously** (PENDING first; follow them in the order's transactions). Errors
    (``ChargeMembershipsApplicationErrors``): ORDER_NOT_FOUND, MEMBERSHIP_NOT_ELIGIBLE. Raises
    ``ValueError`` locally for 0 or more than 100 items.
    """
    items = require_batch(memberships, limit=CHARGE_MEMBERSHIPS_LIMIT, what="Charge Memberships")
    body = {"orderId": order_id, "memberId": member_id, "memberships": items}
    return wix.post(f"{ORDER_BILLING}/charge-memberships", body, idempotent=False)


def refund_payments(
    wix: WixClient,
    *,
    order_id: str,
    payment_refunds: list[dict[str, Any]],
    customer_reason: str | None = None,
) -> dict[str, Any]:
    """Refund payments of an order (``@wix/auto_sdk_ecom_order-billing`` ``refundPayments``, public,
    ``POST /ecom/v1/order-billing/refund-payments``, permission ECOM.ORDER_BILLING_REFUND_PAYMENTS).

    ``payment_refunds`` items ``PaymentRefund{paymentId (required), amount?{amount}, externalRefund?}``
    (1..50): a membership payment is refunded whole ("amount not applicable ... the full credit is
    refunded"); ``externalRefund: true`` records money given back outside Wix (cash). Returns
    ``{refund{id, transactions[]}, orderTransactions}``. Errors (``RefundPaymentsApplicationErrors``):
    PAYMENT_NOT_FOUND, PAYMENT_NOT_REFUNDABLE, INVALID_PAYMENT_REFUND_AMOUNT, EXTERNAL_REFUND_EXPECTED …
    """
    items = require_batch(payment_refunds, limit=REFUND_PAYMENTS_LIMIT, what="Refund Payments")
    body = compact({"orderId": order_id, "paymentRefunds": items, "customerReason": customer_reason})
    return wix.post(f"{ORDER_BILLING}/refund-payments", body, idempotent=False)
