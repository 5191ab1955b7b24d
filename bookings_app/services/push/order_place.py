"""Phase 3, ecom mode: the eCommerce order a booking's money is recorded on, made when the booking
has none yet (a walk-in, or a booking made online with no order).

**Cart V2** (the default; ``bookings_app/wix/cart.py`` cites the SDK shapes): Create Cart on the
``cart_channel`` (``BACKOFFICE_MERCHANT`` unless ``wix_check`` found this site wants another) with
the booking as its one catalog item and the customer by name and email only (``customerInfo``'s
ids are read-only) → Place Order. Two calls. The cart id is saved before Place Order, and a
"sent" marker, so a lost answer is recovered from the cart (``GET`` → ``orderId``) or from
CART_ALREADY_ORDERED (``data.orderId``) — never by placing a second order. An unplaced cart left
by a lost Create Cart answer is harmless (it is not an order) and is not looked for.

**Checkout V1** only when ``WIX_ECOM_CHECKOUT_V1`` is set (off by default; Wix removes Checkout V1
on 2027-02-01): Create Checkout without line ids (``LineItem.id`` is read-only) and without a
membership (``eligibleMemberships`` is internal; a plan is charged after the order exists, as in
Cart V2), with ``billingInfo`` (required by Create Order when the total is above zero) → Create
Order; CHECKOUT_ALREADY_PAID, whatever its HTTP status, means our earlier order exists.

No line ids come back from Place Order: the order's own line id, which Charge Memberships needs,
is read from the order when a plan charge needs it (``order_line``).
"""

from __future__ import annotations

import logging

from django.conf import settings

from bookings_app.checks import CHECKOUT_V1_REMOVAL
from bookings_app.models import Contact, DeskAction, OrderLineItem
from bookings_app.selectors.site_facts import site_fact
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.worker import Attention, Later, Push
from bookings_app.wix import WixError, WixUnavailable, cart, checkout, orders
from bookings_app.wix.ids import BOOKINGS_APP_ID

logger = logging.getLogger("bookings_app.services.push")

CART_CHANNEL = "BACKOFFICE_MERCHANT"


def order_of(push: Push, action: DeskAction) -> str | None:
    """The Wix order of the action's booking: saved in its steps, else the mirror's latest live one."""
    if action.steps.get("order_id"):
        return action.steps["order_id"]
    line = (
        OrderLineItem.objects.filter(booking_id=action.booking_id)
        .exclude(order__status="CANCELED")
        .select_related("order")
        .order_by("-order__wix_created_at", "-pk")
        .first()
    )
    if line is None or not line.order.wix_id:
        return None
    steps: dict[str, str] = {"order_id": line.order.wix_id}
    if line.line_item_id:
        steps["line_item_id"] = line.line_item_id
    push.save_steps(action, **steps)
    return line.order.wix_id


def order_place(push: Push, action: DeskAction) -> str:
    """Make the booking's order (Cart V2, or Checkout V1 behind its setting); its id is saved."""
    booking = action.booking
    assert booking is not None
    order_id = order_place_for(push, action, booking_ids=[booking.wix_id or ""], contact=booking.contact)
    mirror.orders.order_placed(
        booking=booking,
        order_id=order_id,
        line_item_id="",  # the order's line id is read from the order when it is needed
        checkout_total=action.steps.get("cart_total"),
        checkout_line=action.steps.get("cart_line") or {},
    )
    return order_id


def order_place_for(push: Push, action: DeskAction, *, booking_ids: list[str], contact: Contact) -> str:
    """One order of ``booking_ids`` (each a line, quantity 1) for ``contact``: Cart V2, or Checkout
    V1 behind its setting. The steps (cart or checkout id, "sent" markers, the order id) are saved
    on ``action`` as they happen, so a lost answer is recovered, never placed twice. A package's
    bookings share one order this way (``services.push.packages``)."""
    if getattr(settings.WIX, "checkout_v1", False):
        order_id = _checkout_v1_order(push, action, booking_ids=booking_ids, contact=contact)
    else:
        order_id = _cart_order(push, action, booking_ids=booking_ids, contact=contact)
    push.save_steps(action, order_id=order_id)
    return order_id


def order_line(push: Push, action: DeskAction, order_id: str) -> str:
    """The id of the booking's line on its order (what Charge Memberships names): saved, else read."""
    if action.steps.get("line_item_id"):
        return action.steps["line_item_id"]
    booking = action.booking
    assert booking is not None
    found = push.call(orders.get_order, order_id=order_id)["order"]
    mirror.orders.order_absorb(found)
    line_id = next(
        (
            li.get("id")
            for li in found.get("lineItems") or []
            if (li.get("catalogReference") or {}).get("catalogItemId") == booking.wix_id
        ),
        None,
    )
    if not line_id:
        raise Attention("line_missing", "The booking isn't on its Wix order — check the order in Wix.")
    push.save_steps(action, line_item_id=line_id)
    return line_id


# --- Cart V2 ------------------------------------------------------------------------------------


def _cart_order(push: Push, action: DeskAction, *, booking_ids: list[str], contact: Contact) -> str:
    if not action.steps.get("cart_id"):
        answer = push.call(
            cart.create_cart,
            channel_type=site_fact("cart_channel", CART_CHANNEL),
            catalog_items=[_catalog_item(booking_id) for booking_id in booking_ids],
            customer_info=_customer(contact),
        )
        made = answer["cart"]
        lines = made.get("lineItems") or [{}]
        push.save_steps(
            action,
            cart_id=made["id"],
            cart_total=(made.get("subtotal") or {}).get("amount"),
            cart_line=_line_summary(lines[0]),
        )
    cart_id = action.steps["cart_id"]
    if action.steps.get("place_sent"):
        # Our Place Order may have gone through without its answer reaching us: ask the cart.
        placed = push.call(cart.get_cart, cart_id=cart_id)["cart"].get("orderId")
        if placed:
            return placed
    push.save_steps(action, place_sent=True)
    try:
        return push.call(cart.place_order, cart_id=cart_id)["orderId"]
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, place_sent=False)
        raise
    except WixError as err:
        if err.code == "CART_ALREADY_ORDERED":
            # HTTP status undocumented: the code decides. The error data names the order.
            placed = (err.data or {}).get("orderId") or push.call(cart.get_cart, cart_id=cart_id)["cart"].get("orderId")
            if placed:
                return placed
            raise Later(f"Cart {cart_id} was ordered but its order is not readable yet") from err
        raise


def _catalog_item(booking_id: str) -> Json:
    # CatalogItemInput{catalogReference{catalogItemId: <booking id>, appId: <Bookings app id>}, quantity}
    return {"catalogReference": {"catalogItemId": booking_id, "appId": BOOKINGS_APP_ID}, "quantity": 1}


def _customer(contact: Contact) -> Json:
    # CustomerInfo's writable fields only: memberId / contactId / visitorId are @readonly.
    return {
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
    }


def _line_summary(line: Json) -> Json:
    name = line.get("name") or line.get("productName")
    pricing = line.get("pricing") or {}
    return {
        "name": name.get("original") if isinstance(name, dict) else (name or ""),
        "quantity": (line.get("quantityInfo") or {}).get("requestedQuantity") or line.get("quantity") or 1,
        "price": ((pricing.get("unitPrice") or line.get("price") or {}).get("amount")),
        "paymentOption": (line.get("paymentConfig") or {}).get("paymentOption") or line.get("paymentOption") or "",
    }


# --- Checkout V1 (deprecated; behind WIX_ECOM_CHECKOUT_V1) ---------------------------------------


def _checkout_v1_order(push: Push, action: DeskAction, *, booking_ids: list[str], contact: Contact) -> str:
    logger.warning(
        "Checkout V1 is in use (WIX_ECOM_CHECKOUT_V1): Wix removes it on %s — switch it off to use Cart V2",
        CHECKOUT_V1_REMOVAL,
    )
    if not action.steps.get("checkout_id"):
        info: Json = {
            # Create Order refuses a checkout whose total is above zero without a billing address.
            "billingInfo": {
                "address": {"country": getattr(settings.WIX, "business_country", "") or "GB"},
                "contactDetails": {
                    k: v
                    for k, v in (
                        ("firstName", contact.first_name),
                        ("lastName", contact.last_name),
                        ("phone", contact.phone),
                    )
                    if v
                },
            }
        }
        if contact.email:
            info["buyerInfo"] = {"email": contact.email}
        found = push.call(
            checkout.create_checkout,
            channel_type=CART_CHANNEL,
            line_items=[_catalog_item(booking_id) for booking_id in booking_ids],
            checkout_info=info,
        )["checkout"]
        line = (found.get("lineItems") or [{}])[0]
        push.save_steps(
            action,
            checkout_id=found["id"],
            cart_total=((found.get("priceSummary") or {}).get("total") or {}).get("amount"),
            cart_line=_line_summary(line),
        )
    checkout_id = action.steps["checkout_id"]
    try:
        return push.call(checkout.create_order_from_checkout, checkout_id=checkout_id)["orderId"]
    except WixError as err:
        if err.code != "CHECKOUT_ALREADY_PAID":
            raise
        # The reference lists it under 409; older answers used 400/428: the code decides.
        answer = push.call(
            orders.search_orders, search={"filter": {"checkoutId": checkout_id}, "cursorPaging": {"limit": 10}}
        )
        found_orders = answer.get("orders") or []
        if not found_orders:
            raise Later(f"The order of checkout {checkout_id} is not searchable yet") from err
        return found_orders[0]["id"]
