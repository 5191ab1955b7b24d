"""Cart V2 for the ``--write`` round trip: a booking becomes an order (CONTRACT.md §11.3, §20).

The first time, each sales channel is tried in turn (BACKOFFICE_MERCHANT first) until Wix
takes a cart *and* places its order: that settles ``cart_channel``. The same cart is then placed
a second time (CART_ALREADY_ORDERED's status) and read back (does Get Cart name the order?).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bookings_app.wix import WixError, WixUnavailable, cart, orders
from bookings_app.wix.ids import BOOKINGS_APP_ID

from .outcome import Answer, describe, error_data

if TYPE_CHECKING:
    from .write import RoundTrip

CHANNELS = ("BACKOFFICE_MERCHANT", "POS", "WEB")


def booking_order(trip: RoundTrip, booking: dict[str, Any], person: dict[str, Any], *, settle: bool) -> dict[str, Any]:
    """The booking's order through Cart V2 (on the first sales channel Wix takes, when ``settle``)."""
    customer = {k: person[k] for k in ("firstName", "lastName", "email") if person.get(k)}
    item = {"catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}, "quantity": 1}
    refusals: list[str] = []
    for channel in CHANNELS if settle else (trip.channel,):
        try:
            answer = cart.create_cart(trip.wix, channel_type=channel, catalog_items=[item], customer_info=customer)
            made_cart = answer["cart"]
        except WixError as err:
            if not _refusal(err) or not settle:
                raise trip.fail("Cart V2 order", err) from err
            refusals.append(f"{channel}: Create Cart {describe(err)}")
            continue
        try:
            order_id = _place(trip, made_cart["id"])
        except WixError as err:
            if not _refusal(err) or not settle:
                raise trip.fail("Cart V2 order", err) from err
            refusals.append(f"{channel}: Place Order {describe(err)} (cart {made_cart['id']} left unplaced)")
            continue
        trip.channel = channel
        trip.made.orders[booking["id"]] = order_id
        if settle:
            _settle_channel(trip, channel, refusals)
            _place_twice(trip, made_cart["id"], order_id)
            _cart_shows_order(trip, made_cart["id"], order_id)
        found = orders.get_order(trip.wix, order_id=order_id)["order"]
        trip.ok(
            "Cart V2 order",
            f"order {found.get('number') or order_id} on {channel}: {_money(found)}, "
            f"{found.get('status')} / {found.get('paymentStatus')}.",
        )
        return found
    raise trip.fail("Cart V2 order", "Wix refused every sales channel: " + "; ".join(refusals))


def _place(trip: RoundTrip, cart_id: str) -> str:
    try:
        return cart.place_order(trip.wix, cart_id=cart_id)["orderId"]
    except WixUnavailable as err:
        if not err.maybe_applied:
            raise
        placed = cart.get_cart(trip.wix, cart_id=cart_id)["cart"].get("orderId")
        if not placed:
            raise
        return placed


def _settle_channel(trip: RoundTrip, channel: str, refusals: list[str]) -> None:
    first = channel == CHANNELS[0]
    trip.report.answer(
        Answer(
            f"Does Cart V2 take an order on {CHANNELS[0]} from these credentials?",
            "yes" if first else f"no ({'; '.join(refusals)}); {channel} was taken, the app will use it",
            key="cart_channel",
            value=channel,
            detail="; ".join(refusals) or f"Create Cart and Place Order on {channel} answered 200",
        )
    )


def _place_twice(trip: RoundTrip, cart_id: str, order_id: str) -> None:
    question = "What does placing the same cart twice answer?"
    try:
        again = cart.place_order(trip.wix, cart_id=cart_id).get("orderId")
    except WixError as err:
        named = error_data(err).get("orderId")
        carries = f"; it names the order ({'the same one' if named == order_id else named})" if named else ""
        trip.report.answer(
            Answer(
                question,
                describe(err) + carries,
                key=f"status.{err.code}" if err.code == "CART_ALREADY_ORDERED" else "status.cart_placed_twice",
                value=err.status,
                detail=f"second Place Order of cart {cart_id}",
            )
        )
        return
    if again and again != order_id:
        trip.made.extra_orders.append(again)
    same = "the same order" if again == order_id else f"a second order {again}"
    trip.report.answer(
        Answer(
            question,
            f"HTTP 200 with {same}",
            key="status.CART_ALREADY_ORDERED",
            value=200,
            detail=f"second Place Order of cart {cart_id} answered order {again}",
        )
    )


def _cart_shows_order(trip: RoundTrip, cart_id: str, order_id: str) -> None:
    try:
        placed = cart.get_cart(trip.wix, cart_id=cart_id)["cart"].get("orderId")
    except WixError as err:
        trip.report.unsettled.append(f"Does Get Cart show the order a cart became? — {describe(err)}.")
        return
    trip.report.answer(
        Answer(
            "Does Get Cart show the order a placed cart became (how a lost Place Order answer is found)?",
            "yes" if placed == order_id else f"no (orderId {placed!r})",
            key="cart_get_shows_order",
            value=placed == order_id,
        )
    )


def _refusal(err: WixError) -> bool:
    """Wix said no to this request (not to the key, not an outage): worth trying another channel."""
    return err.status in (400, 403, 409, 412, 428) and not isinstance(err, WixUnavailable)


def _money(order: dict[str, Any]) -> str:
    total = (order.get("priceSummary") or {}).get("total") or {}
    return f"{total.get('amount', '?')} {order.get('currency', '')}".strip()
