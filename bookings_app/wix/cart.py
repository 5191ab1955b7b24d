"""eCommerce Cart V2: how a booking gets an order now that Checkout V1 is going (CONTRACT.md §11.3, §20).

Every request shape here is from the SDK package ``@wix/auto_sdk_ecom_cart-v-2`` (``meta.js`` for
method and URL, ``index.typings.d.ts`` for fields):

* Create Cart — ``POST /ecom/v2/carts`` (``wix.ecom.cart.v2.CartService.CreateCart``), body
  ``CreateCartRequest{cart: Cart, catalogItems: CatalogItemInput[] (≤300)}``. Writable here:
  ``cart.source.channelType`` (``CartSource``), ``cart.customerInfo.{firstName, lastName, email,
  phone}`` (``CustomerInfo``; its ``memberId``/``contactId``/``visitorId`` are ``@readonly``, so the
  buyer is never named by id), ``catalogItems[].catalogReference{catalogItemId, appId}`` and
  ``quantity`` (both ``@requiredField``), ``catalogItems[].membershipPayment`` (not used: a plan is
  charged on the placed order, see ``orders.charge_memberships``). ``lineItems[].id`` is
  ``@readonly``: Wix names the lines. Answer ``{cart}``; errors ITEM_NOT_FOUND_IN_CATALOG …
* Get Cart — ``GET /ecom/v2/carts/{cartId}`` (``GetCart``) → ``{cart}``, whose ``orderId`` and
  ``orderPlaced`` (both ``@readonly``) say whether the cart became an order: how a lost Place
  Order answer is recovered.
* Place Order — ``POST /ecom/v2/carts/{cartId}/place-order`` (``PlaceOrder``), body
  ``{priceVerificationToken?, savePaymentMethod?, delayCapture?}`` → ``{orderId, completed,
  paymentGatewayOrderId?}``; errors CART_ALREADY_ORDERED (data ``{cartId, orderId}``),
  SITE_NOT_ACCEPTING_PAYMENTS, EMPTY_CART, CALCULATION_ERROR, INVALID_MEMBERSHIP …
  (``PlaceOrderApplicationErrors``). Their HTTP statuses are not documented: callers match the
  code, never the status.

There is no bulk cart or bulk order creation: one cart becomes one order for one buyer.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

CARTS = "/ecom/v2/carts"
MAX_CATALOG_ITEMS = 300


def create_cart(
    wix: WixClient,
    *,
    channel_type: str,
    catalog_items: list[dict[str, Any]],
    customer_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cart of ``catalog_items`` (``{catalogReference{catalogItemId, appId}, quantity}``) sold on
    ``channel_type`` to ``customer_info`` (``{firstName?, lastName?, email?, phone?}``).

    Returns ``{cart{id, lineItems[{id, source{catalogReference}, pricing, paymentConfig{paymentOption}}],
    subtotal, customerInfo, orderId}}``. Not retried: a repeat makes a second (harmless, unplaced) cart.
    Raises ``ValueError`` locally for 0 or more than 300 items.
    """
    if not catalog_items or len(catalog_items) > MAX_CATALOG_ITEMS:
        raise ValueError(f"Create Cart takes 1 to {MAX_CATALOG_ITEMS} catalog items")
    for item in catalog_items:
        if "id" in item:
            raise ValueError("Create Cart: a catalog item's line id is read-only; Wix names the lines")
    customer = {k: v for k, v in (customer_info or {}).items() if v}
    cart = compact({"source": {"channelType": channel_type}, "customerInfo": customer or None})
    return wix.post(CARTS, {"cart": cart, "catalogItems": list(catalog_items)}, idempotent=False)


def get_cart(wix: WixClient, *, cart_id: str) -> dict[str, Any]:
    """Returns ``{cart}``; ``cart.orderId`` is set once the cart was placed. Raises ``WixNotFound``."""
    return wix.get(f"{CARTS}/{path_param(cart_id, 'cart_id')}")


def place_order(
    wix: WixClient,
    *,
    cart_id: str,
    price_verification_token: str | None = None,
    save_payment_method: bool | None = None,
    delay_capture: bool | None = None,
) -> dict[str, Any]:
    """Turn the cart into an order. Returns ``{orderId, completed, paymentGatewayOrderId?}``.

    Not retried: after a lost answer, :func:`get_cart` (``orderId``) or the CART_ALREADY_ORDERED
    error (``data.orderId``) tells whether the order exists.
    """
    body = compact(
        {
            "priceVerificationToken": price_verification_token,
            "savePaymentMethod": save_payment_method,
            "delayCapture": delay_capture,
        }
    )
    return wix.post(f"{CARTS}/{path_param(cart_id, 'cart_id')}/place-order", body, idempotent=False)
