"""Bookings ↔ eCommerce (``rules/booking_orders.py``): line items learn from bookings, bookings follow their orders."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.booking_builders import class_request, create, stored
from tests.wix_sandbox.builders import make_contact
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
