"""eCommerce orders, the payments collector and order billing (CONTRACT.md §12.1–12.3).

Marking paid, recording cash and charging memberships move money records: a repeat would fail
(ORDER_ALREADY_PAID) or double-count, so none of them is retried blindly.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param, require_batch

ORDERS = "/ecom/v1/orders"
COLLECTOR = "/ecom/v1/payments-collector/orders"
ORDER_BILLING = "/ecom/v1/order-billing"

BULK_MARK_AS_PAID_LIMIT = 100
CHARGE_MEMBERSHIPS_LIMIT = 100


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


def bulk_mark_orders_as_paid(wix: WixClient, *, order_ids: list[str]) -> dict[str, Any]:
    """Mark up to 100 orders paid. Returns ``{results[{itemMetadata, item?}], bulkActionMetadata}``.

    Raises ``ValueError`` locally for 0 or more than 100 ids.
    """
    # UNCONFIRMED public URL: this is the path the SDK itself calls (CONTRACT.md §12.2).
    ids = require_batch(order_ids, limit=BULK_MARK_AS_PAID_LIMIT, what="Bulk Mark Orders As Paid")
    return wix.post("/v1/bulk/payments-collector/mark-as-paid", {"ecomOrderIds": ids}, idempotent=False)


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


def collector_charge_membership(
    wix: WixClient,
    *,
    order_id: str,
    member_id: str,
    membership_charges: list[dict[str, Any]],
) -> dict[str, Any]:
    """The older payments-collector way to charge an order's items to a member's memberships.

    ``membership_charges`` items: ``{membershipId, appId, membershipName?, catalogReference?,
    rootCatalogItemId?, lineItemId}``. Returns ``{}``. Prefer :func:`charge_memberships`.
    """
    path = f"{COLLECTOR}/{path_param(order_id, 'order_id')}/charge-membership"
    body = {"memberId": member_id, "membershipCharges": membership_charges}
    return wix.post(path, body, idempotent=False)


# -- order billing -------------------------------------------------------------------------------


def charge_memberships(
    wix: WixClient,
    *,
    order_id: str,
    member_id: str,
    memberships: list[dict[str, Any]],
) -> dict[str, Any]:
    """Pay an order's line items with a member's plan credits.

    ``memberships`` items: ``{lineItemId, membershipIdentifier{existingMembership{appId,
    membershipId}}}`` (1..100). Returns ``{payments[]}``. Raises ``WixPreconditionFailed``
    (NOT_ENOUGH_BALANCE …), ``ValueError`` locally for 0 or more than 100 items.
    """
    items = require_batch(memberships, limit=CHARGE_MEMBERSHIPS_LIMIT, what="Charge Memberships")
    body = {"orderId": order_id, "memberId": member_id, "memberships": items}
    return wix.post(f"{ORDER_BILLING}/charge-memberships", body, idempotent=False)


def void_memberships(wix: WixClient, *, order_id: str, payment_ids: list[str]) -> dict[str, Any]:
    """Give back the credits of membership payments on an order. Returns ``{payments[]}``."""
    if not payment_ids:
        raise ValueError("Void Memberships: send at least one payment id")
    body = {"orderId": order_id, "paymentIds": list(payment_ids)}
    return wix.post(f"{ORDER_BILLING}/void-memberships", body, idempotent=False)
