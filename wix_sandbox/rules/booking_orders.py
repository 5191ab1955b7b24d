"""Bookings ↔ eCommerce: a booking is sold as a cart or checkout line item and paid through its order (CONTRACT.md §14).

The booking id is the ``catalogItemId`` of a Bookings line item. Who calls what:

- eCommerce Cart V2 (``handlers/ecom_cart.py``) and Checkout V1 (``handlers/ecom_checkout.py``)
  price a line from :func:`booking_line_item` and :func:`line_payment_option`, refuse a booking
  that can't be sold (:func:`unsellable_reason`) and, on place-order / create-order, tell each
  booking :func:`order_created_for_booking`.
- eCommerce Orders (``handlers/ecom_orders.py``) calls :func:`order_created_for_booking` for a
  directly created order and, whenever an order's ``paymentStatus`` changes,
  :func:`order_payment_changed`: a booking's ``paymentStatus`` follows its order.
- Bookings (confirm or decline) and the Bookings Reader (extended bookings) look up a booking's
  order with :func:`order_of_booking` / :func:`orders_by_booking`.
"""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.common import dec, money_str, touch
from wix_sandbox.errors import not_found
from wix_sandbox.rules.capacity import participants_of, service_id_of

Json = dict[str, Any]


# -- which order holds a booking, and which bookings an order holds --------------------------------


def order_of_booking(sb: Sandbox, booking_id: str) -> Json | None:
    """The booking's eCommerce order (a live order beats a canceled one), via an index."""
    orders = sb.state.lookup("orders", "booking", _order_booking_ids, booking_id)
    return max(orders, key=_order_rank) if orders else None


def orders_by_booking(sb: Sandbox, booking_ids: list[str] | None = None) -> dict[str, Json]:
    """Booking id → its eCommerce order, for ``booking_ids`` (default: every booking)."""
    ids = booking_ids if booking_ids is not None else [b["id"] for b in sb.state.all("bookings")]
    found: dict[str, Json] = {}
    for booking_id in ids:
        order = order_of_booking(sb, booking_id)
        if order is not None:
            found[booking_id] = order
    return found


def _order_booking_ids(order: Json) -> list[str]:
    """Index keys of an order: its Bookings line items' booking ids (a line without ``appId`` counts)."""
    return [
        ref["catalogItemId"]
        for item in order.get("lineItems") or []
        if (ref := item.get("catalogReference") or {}).get("catalogItemId")
        and ref.get("appId", BOOKINGS_APP_ID) == BOOKINGS_APP_ID
    ]


def _order_rank(order: Json) -> tuple[bool, str]:
    return (order.get("status") != "CANCELED", order.get("createdDate") or "")


def booking_ids_of(order: Json) -> list[str]:
    """Booking ids of the order's Bookings line items (``catalogItemId`` of the Bookings app)."""
    return [
        ref["catalogItemId"]
        for line in order.get("lineItems", [])
        if (ref := line.get("catalogReference") or {}).get("appId") == BOOKINGS_APP_ID and ref.get("catalogItemId")
    ]


# -- what a checkout line item learns from its booking ---------------------------------------------


def _unit_price(service: Json | None) -> str:
    payment = (service or {}).get("payment") or {}
    rate = payment.get("rateType", "FIXED")
    if rate == "FIXED":
        return str(((payment.get("fixed") or {}).get("price") or {}).get("value") or "0")
    if rate == "VARIED":
        return str(((payment.get("varied") or {}).get("defaultPrice") or {}).get("value") or "0")
    return "0"


def booking_line_item(sb: Sandbox, *, booking_id: str) -> Json:
    """What a checkout line item learns from a booking put in it as ``catalogItemId``.

    ``{bookingId, serviceId, contactId, productName, unitPrice (Decimal string, fixed price ×
    participants), scheduledDate (ISO UTC), numberOfParticipants, selectedPaymentOption}``.
    Raises 404 ``BOOKING_NOT_FOUND`` (as a checkout line item availability error in the caller).
    """
    booking = sb.state.get("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    service = sb.state.get("services", service_id_of(booking))
    n = participants_of(booking)
    return {
        "bookingId": booking["id"],
        "serviceId": service_id_of(booking),
        "contactId": (booking.get("contactDetails") or {}).get("contactId"),
        "productName": (booking.get("bookedEntity") or {}).get("title") or (service or {}).get("name", ""),
        "unitPrice": money_str(dec(_unit_price(service)) * n),
        "scheduledDate": booking.get("startDate"),
        "numberOfParticipants": n,
        "selectedPaymentOption": booking.get("selectedPaymentOption", "UNDEFINED"),
    }


# Line item ``paymentOption`` from the booking's ``selectedPaymentOption``; anything else (OFFLINE,
# UNDEFINED) is paid at the desk.
PAYMENT_OPTION_BY_SELECTION = {
    "ONLINE": "FULL_PAYMENT_ONLINE",
    "MEMBERSHIP": "MEMBERSHIP",
    "MEMBERSHIP_OFFLINE": "MEMBERSHIP_OFFLINE",
}
# Line payment options a membership may pay (Order Billing Charge Memberships).
MEMBERSHIP_OPTIONS = ("MEMBERSHIP", "MEMBERSHIP_OFFLINE", "MEMBERSHIP_ONLINE_WITH_OFFLINE_REMAINDER")


def line_payment_option(info: Json) -> str:
    """The ``paymentOption`` of a line selling the booking ``info`` (from :func:`booking_line_item`)."""
    return PAYMENT_OPTION_BY_SELECTION.get(info.get("selectedPaymentOption") or "", "FULL_PAYMENT_OFFLINE")


def line_unit_price(info: Json) -> str:
    """The unit price of that line: a MEMBERSHIP_OFFLINE line is priced 0 (redeemed in the dashboard);
    a MEMBERSHIP line keeps its full price until a membership is charged for it."""
    return "0" if line_payment_option(info) == "MEMBERSHIP_OFFLINE" else info["unitPrice"]


def unsellable_reason(sb: Sandbox, booking_id: str) -> str | None:
    """Why the Bookings catalog won't sell this (existing) booking now, or None.

    UNCONFIRMED: a booking already sold in an order that still stands, or no longer standing
    (CANCELED / DECLINED), has no "stock" left; Wix's Bookings catalog behaviour is not documented,
    so the sandbox takes the strict reading.
    """
    order = order_of_booking(sb, booking_id)
    if order is not None and order.get("status") != "CANCELED":
        return f"Booking {booking_id} already has order {order['id']}"
    status = (sb.state.get("bookings", booking_id) or {}).get("status")
    if status in ("CANCELED", "DECLINED"):
        return f"Booking {booking_id} is {status}"
    return None


# -- a booking follows its order -------------------------------------------------------------------


ORDER_TO_BOOKING_PAYMENT = {
    "NOT_PAID": "NOT_PAID",
    "PAID": "PAID",
    "PARTIALLY_PAID": "PARTIALLY_PAID",
    "FULLY_REFUNDED": "REFUNDED",
    # UNCONFIRMED: Booking PaymentStatus has no partial-refund value; money is still held, so PARTIALLY_PAID.
    "PARTIALLY_REFUNDED": "PARTIALLY_PAID",
}


def order_created_for_booking(sb: Sandbox, *, booking_id: str, order: Json) -> None:
    """A checkout with this booking became an order: CREATED → CONFIRMED, payment status synced."""
    _follow_order(sb, booking_id, order, confirm=True)


def order_payment_changed(sb: Sandbox, *, booking_id: str, order: Json) -> None:
    """The order's ``paymentStatus`` changed: the booking's ``paymentStatus`` follows it."""
    # A canceled order leaves the booking's status alone; only its payment status follows.
    _follow_order(sb, booking_id, order, confirm=False)


def _follow_order(sb: Sandbox, booking_id: str, order: Json, *, confirm: bool) -> None:
    booking = sb.state.edit("bookings", booking_id)
    if booking is None:
        raise not_found("BOOKING_NOT_FOUND", "Booking", booking_id)
    before = (booking["status"], booking.get("paymentStatus"))
    if confirm and booking["status"] == "CREATED":
        booking["status"] = "CONFIRMED"
    mapped = ORDER_TO_BOOKING_PAYMENT.get(order.get("paymentStatus", ""))
    if mapped:
        booking["paymentStatus"] = mapped
    if (booking["status"], booking.get("paymentStatus")) != before:
        touch(sb, booking)
        sb.state.put("bookings", booking)
