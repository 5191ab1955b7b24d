"""Bookings ↔ eCommerce (``rules/booking_orders.py``): line items learn from bookings, bookings follow their orders."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.booking_builders import class_request, create, stored
from tests.wix_sandbox.builders import call, make_contact
from tests.wix_sandbox.ecom_builders import (
    CARTS,
    book_class,
    booked_order,
    booking_state,
    code,
    create_cart,
    get_order,
    snapshot,
)
from wix_sandbox import Sandbox, SandboxError
from wix_sandbox.rules import booking_orders


def test_booking_line_item_prices_every_participant(sandbox: Sandbox, swim: dict) -> None:
    contact = make_contact(sandbox)
    booking = create(
        sandbox,
        class_request(
            swim["service"],
            swim["event"],
            participants=2,
            contactDetails={"contactId": contact["id"]},
            selectedPaymentOption="OFFLINE",
        ),
    )

    item = booking_orders.booking_line_item(sandbox, booking_id=booking["id"])

    assert item == {
        "bookingId": booking["id"],
        "serviceId": swim["service"]["id"],
        "contactId": contact["id"],
        "productName": "Open Water Swim",
        "unitPrice": "24",
        "scheduledDate": "2026-11-22T07:00:00.000Z",
        "numberOfParticipants": 2,
        "selectedPaymentOption": "OFFLINE",
    }


def test_booking_line_item_of_unknown_booking_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError) as excinfo:
        booking_orders.booking_line_item(sandbox, booking_id="nope")

    assert (excinfo.value.status, excinfo.value.code) == (404, "BOOKING_NOT_FOUND")


def test_an_order_for_a_booking_confirms_it_and_syncs_payment(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    with sandbox.state.transaction():
        booking_orders.order_created_for_booking(sandbox, booking_id=booking["id"], order={"paymentStatus": "NOT_PAID"})

    after = stored(sandbox, booking["id"])
    assert (after["status"], after["paymentStatus"], after["revision"]) == ("CONFIRMED", "NOT_PAID", "2")


@pytest.mark.parametrize(
    ("order_status", "booking_status"),
    [
        ("NOT_PAID", "NOT_PAID"),
        ("PAID", "PAID"),
        ("PARTIALLY_PAID", "PARTIALLY_PAID"),
        ("FULLY_REFUNDED", "REFUNDED"),
        ("PARTIALLY_REFUNDED", "PARTIALLY_PAID"),
    ],
)
def test_booking_payment_status_follows_its_order(
    sandbox: Sandbox, swim: dict, order_status: str, booking_status: str
) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    with sandbox.state.transaction():
        booking_orders.order_payment_changed(sandbox, booking_id=booking["id"], order={"paymentStatus": order_status})

    assert stored(sandbox, booking["id"])["paymentStatus"] == booking_status


def test_a_canceled_order_leaves_the_booking_status_alone(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    with sandbox.state.transaction():
        booking_orders.order_payment_changed(
            sandbox, booking_id=booking["id"], order={"status": "CANCELED", "paymentStatus": "NOT_PAID"}
        )

    after = stored(sandbox, booking["id"])
    assert (after["status"], after["paymentStatus"]) == ("CONFIRMED", "NOT_PAID")


EXTENDED_QUERY = "/_api/bookings-reader/v2/extended-bookings/query"


# -- end to end: cart, order, payment, and the booking follows --------------------------------------


def test_class_booking_paid_at_the_desk_end_to_end(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="OFFLINE", price="12")
    cart = create_cart(sandbox, booking["id"], channel="BACKOFFICE_MERCHANT")
    line = cart["lineItems"][0]
    assert line["pricing"]["unitPrice"]["amount"] == "12"
    assert line["attributes"]["serviceProperties"]["numberOfParticipants"] == 1
    assert line["attributes"]["serviceProperties"]["scheduledDate"] == booking["startDate"]
    assert line["source"]["rootCatalogItemId"] == booking["bookedEntity"]["slot"]["serviceId"]

    status, created = call(sandbox, "POST", f"{CARTS}/{cart['id']}/place-order", {})
    assert status == 200
    assert "paymentGatewayOrderId" not in created
    order = get_order(sandbox, created["orderId"])
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "NOT_PAID")
    assert (
        booking_state(sandbox, booking["id"])["status"],
        booking_state(sandbox, booking["id"])["paymentStatus"],
    ) == (
        "CONFIRMED",
        "NOT_PAID",
    )

    status, paid = call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{order['id']}/mark-as-paid", {})
    assert status == 200
    assert paid["order"]["paymentStatus"] == "PAID"
    status, found = call(
        sandbox, "POST", EXTENDED_QUERY, {"query": {"filter": {"id": booking["id"]}}, "withEcomOrder": True}
    )
    assert status == 200
    extended = found["extendedBookings"][0]
    assert extended["booking"]["paymentStatus"] == "PAID"
    assert extended["order"]["paymentStatus"] == "PAID"

    before = snapshot(sandbox)
    status, again = call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{order['id']}/mark-as-paid", {})
    assert (status, code(again)) == (428, "ORDER_ALREADY_PAID")
    assert snapshot(sandbox) == before


def test_part_payment_leaves_order_partially_paid_with_balance_shown(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox, price="30")
    status, body = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments-collector/orders/{order['id']}/manual-payment",
        {"amount": {"amount": "10"}},
    )
    assert (status, body) == (200, {})
    order = get_order(sandbox, order["id"])
    assert order["paymentStatus"] == "PARTIALLY_PAID"
    assert order["balanceSummary"]["balance"] == {"amount": "20", "formattedAmount": "£20.00"}
    assert order["balanceSummary"]["paid"]["amount"] == "10"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PARTIALLY_PAID"

    status, _ = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments-collector/orders/{order['id']}/manual-payment",
        {"amount": {"amount": "20"}},
    )
    assert status == 200
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PAID"
