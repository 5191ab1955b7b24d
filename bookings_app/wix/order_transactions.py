"""eCommerce order transactions: the payments recorded on an order (CONTRACT.md §12.4)."""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param, require_batch

PAYMENTS = "/ecom/v1/payments"

ADD_PAYMENTS_LIMIT = 50
BULK_UPDATE_STATUS_LIMIT = 300


def add_payments(wix: WixClient, *, order_id: str, payments: list[dict[str, Any]]) -> dict[str, Any]:
    """Record (not charge) payments, e.g. ``{amount{amount}, regularPaymentDetails{offlinePayment:
    true, paymentMethodName}, status: "APPROVED"}``.

    Returns ``{orderTransactions{orderId, payments[], refunds[]}, paymentsIds[]}``. Never retried:
    a repeat would record the money twice. Raises ``ValueError`` locally for 0 or more than 50.
    """
    items = require_batch(payments, limit=ADD_PAYMENTS_LIMIT, what="Add Payments")
    path = f"{PAYMENTS}/orders/{path_param(order_id, 'order_id')}/add-payment"
    return wix.post(path, {"payments": items}, idempotent=False)


def update_payment_status(wix: WixClient, *, order_id: str, payment_id: str, status: str) -> dict[str, Any]:
    """Set one payment's status (e.g. a pending offline payment to APPROVED).

    Returns ``{orderTransactions}``. Raises ``WixBadRequest``/``WixPreconditionFailed``
    (STATUS_NOT_ALLOWED), ``WixNotFound`` (PAYMENT_NOT_FOUND).
    """
    path = (
        f"{PAYMENTS}/{path_param(payment_id, 'payment_id')}/orders/{path_param(order_id, 'order_id')}"
        "/update-payment-transaction-status"
    )
    return wix.post(path, {"status": status}, idempotent=False)


def bulk_update_payment_statuses(
    wix: WixClient,
    *,
    payment_and_order_ids: list[dict[str, str]],
    status: str,
    return_full_entity: bool | None = None,
) -> dict[str, Any]:
    """Set the status of up to 300 payments (items ``{orderId, paymentId}``).

    Returns ``{results, bulkActionMetadata}``. Raises ``ValueError`` locally for 0 or more than 300.
    """
    items = require_batch(payment_and_order_ids, limit=BULK_UPDATE_STATUS_LIMIT, what="Bulk Update Payment Statuses")
    body = compact({"paymentAndOrderIds": items, "status": status, "returnFullEntity": return_full_entity})
    return wix.post("/ecom/v1/bulk/payments/update-payment-transaction-status", body, idempotent=False)


def list_transactions_for_single_order(wix: WixClient, *, order_id: str) -> dict[str, Any]:
    """Returns ``{orderTransactions{orderId, payments[], refunds[]}}``."""
    return wix.get(f"{PAYMENTS}/orders/{path_param(order_id, 'order_id')}")


def list_transactions_for_multiple_orders(wix: WixClient, *, order_ids: list[str]) -> dict[str, Any]:
    """Returns ``{orderTransactions[]}`` for the given orders."""
    if not order_ids:
        raise ValueError("order_ids is required")
    return wix.post(f"{PAYMENTS}/list-by-ids", {"orderIds": list(order_ids)}, idempotent=True)
