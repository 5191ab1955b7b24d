"""eCommerce Checkout V1: how a booking gets an order (CONTRACT.md §11).

A booking enters a checkout as a line item ``catalogReference{catalogItemId: <bookingId>, appId:
<Bookings app id>}``; staff flows use ``channelType: BACKOFFICE_MERCHANT``. Checkout V1 is
deprecated by Wix (removal target 2027-02-01) but is what the dashboard's flows still use.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

CHECKOUTS = "/ecom/v1/checkouts"


def create_checkout(
    wix: WixClient,
    *,
    channel_type: str,
    line_items: list[dict[str, Any]] | None = None,
    custom_line_items: list[dict[str, Any]] | None = None,
    checkout_info: dict[str, Any] | None = None,
    coupon_code: str | None = None,
    gift_card_code: str | None = None,
    gift_card_redeem_amount: str | None = None,
    override_checkout_url: str | None = None,
) -> dict[str, Any]:
    """Returns ``{checkout{id, lineItems[{id, catalogReference, price, paymentOption}], priceSummary,
    membershipOptions{eligibleMemberships[]}, buyerInfo}}``. Raises ``WixValidationError``,
    ``WixBadRequest`` (SITE_MUST_ACCEPT_PAYMENTS …).
    """
    body = compact(
        {
            "channelType": channel_type,
            "lineItems": line_items,
            "customLineItems": custom_line_items,
            "checkoutInfo": checkout_info,
            "couponCode": coupon_code,
            "giftCardCode": gift_card_code,
            "giftCardRedeemAmount": gift_card_redeem_amount,
            "overrideCheckoutUrl": override_checkout_url,
        }
    )
    return wix.post(CHECKOUTS, body, idempotent=False)


def get_checkout(wix: WixClient, *, checkout_id: str) -> dict[str, Any]:
    """Returns ``{checkout}``. Raises ``WixNotFound``."""
    return wix.get(f"{CHECKOUTS}/{path_param(checkout_id, 'checkout_id')}")


def update_checkout(
    wix: WixClient,
    *,
    checkout: dict[str, Any],
    coupon_code: str | None = None,
    gift_card_code: str | None = None,
    override_checkout_url: str | None = None,
) -> dict[str, Any]:
    """Change a checkout (``checkout.id`` required), e.g. select the memberships that pay its items.

    Returns ``{checkout}``. Repeating the same update leaves the same checkout, so it is retried.
    """
    checkout_id = path_param(checkout.get("id", ""), "checkout.id")
    body = compact(
        {
            "checkout": checkout,
            "couponCode": coupon_code,
            "giftCardCode": gift_card_code,
            "overrideCheckoutUrl": override_checkout_url,
        }
    )
    return wix.patch(f"{CHECKOUTS}/{checkout_id}", body, idempotent=True)


def create_order_from_checkout(
    wix: WixClient,
    *,
    checkout_id: str,
    save_payment_method: bool | None = None,
    delay_capture: bool | None = None,
) -> dict[str, Any]:
    """Turn a checkout into an order. Returns ``{orderId | subscriptionId, paymentGatewayOrderId?}``.

    Raises ``WixPreconditionFailed``/``WixBadRequest`` (CHECKOUT_ALREADY_PAID, EMPTY_CHECKOUT,
    CALCULATION_ERROR …).
    """
    body = compact({"savePaymentMethod": save_payment_method, "delayCapture": delay_capture})
    return wix.post(f"{CHECKOUTS}/{path_param(checkout_id, 'checkout_id')}/create-order", body, idempotent=False)


def get_checkout_url(wix: WixClient, *, checkout_id: str) -> dict[str, Any]:
    """Returns ``{checkoutUrl}`` where a customer can pay online."""
    return wix.get(f"{CHECKOUTS}/{path_param(checkout_id, 'checkout_id')}/checkout-url")
