"""The two flows the backbone exists for, through the real client and the in-process sandbox.

1. Drop-in class booking → Cart V2 (BACKOFFICE_MERCHANT) → place order → Add Payments (cash) → the
   booking reads back PAID (booking status and payment status are separate and sync from the order).
2. A plan member's booking, ordered through a cart, charged to their membership on the placed order
   (Charge Memberships answers PENDING; Wix settles it) → credits down by one.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bookings_app.wix import (
    WixClient,
    WixError,
    WixPreconditionFailed,
    bookings,
    cart,
    extended_bookings,
    order_transactions,
    orders,
    time_slots,
)
from bookings_app.wix import benefit_programs as benefits
from bookings_app.wix.client import ApiKeyAuth
from bookings_app.wix.ratelimit import NoopRateLimiter
from tests.wix_sandbox.builders import make_contact, make_event, make_member, make_service, make_staff
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox
from wix_sandbox.transport import SandboxTransport


@pytest.fixture
def wix(sandbox: Sandbox) -> WixClient:
    return WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(sandbox.api_key, sandbox.site_id),
        transport=SandboxTransport(sandbox),
        rate_limiter=NoopRateLimiter(),
        sleep=lambda _s: None,
    )


@pytest.fixture
def swim_class(sandbox: Sandbox) -> tuple[dict, dict]:
    coach = make_staff(sandbox)
    service = make_service(sandbox, type="CLASS", name="Open Water Swim", price="12", capacity=100, staff=[coach])
    event = make_event(sandbox, service, datetime(2026, 11, 21, 18, 0), staff=coach)
    return service, event


def _book(wix: WixClient, service: dict, event_id: str, contact: dict, option: str) -> dict:
    return bookings.create_booking(
        wix,
        booking={
            "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event_id}},
            "contactDetails": {"contactId": contact["id"]},
            "totalParticipants": 1,
            "selectedPaymentOption": option,
            "paymentStatus": "PAID",  # ignored by Wix: payment status always starts UNDEFINED
        },
    )["booking"]


def _read_back(wix: WixClient, booking_id: str) -> dict:
    page = extended_bookings.query_extended_bookings(
        wix, query={"filter": {"id": booking_id}}, with_ecom_order=True, with_ecom_transactions=True
    )
    (item,) = page["extendedBookings"]
    return item


def test_class_booking_paid_at_the_desk_reads_back_paid(wix: WixClient, sandbox: Sandbox, swim_class) -> None:
    service, event = swim_class
    contact = make_contact(sandbox, "Ada", "Walk-in")

    slots = time_slots.list_event_time_slots(
        wix, from_local_date="2026-11-21T00:00:00", to_local_date="2026-11-21T23:59:59", service_ids=[service["id"]]
    )["timeSlots"]
    event_id = slots[0]["eventInfo"]["eventId"]
    assert event_id == event["id"] and slots[0]["remainingCapacity"] == 100

    booking = _book(wix, service, event_id, contact, "OFFLINE")
    assert booking["status"] == "CREATED" and booking["paymentStatus"] == "UNDEFINED"

    made = cart.create_cart(wix, channel_type="BACKOFFICE_MERCHANT", catalog_items=[_item(booking)])["cart"]
    (line,) = made["lineItems"]
    assert line["pricing"]["unitPrice"]["amount"] == "12"
    assert line["paymentConfig"]["paymentOption"] == "FULL_PAYMENT_OFFLINE"

    order_id = cart.place_order(wix, cart_id=made["id"])["orderId"]
    order = orders.get_order(wix, order_id=order_id)["order"]
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "NOT_PAID")
    assert order["channelInfo"]["type"] == "BACKOFFICE_MERCHANT"
    assert order["balanceSummary"]["balance"]["amount"] == "12"
    after_order = _read_back(wix, booking["id"])
    assert after_order["booking"]["status"] == "CONFIRMED"
    assert after_order["booking"]["paymentStatus"] == "NOT_PAID"

    order_transactions.add_payments(wix, order_id=order_id, payments=[_cash("12")])
    read_back = _read_back(wix, booking["id"])
    assert read_back["booking"]["status"] == "CONFIRMED"
    assert read_back["booking"]["paymentStatus"] == "PAID"
    assert read_back["order"]["paymentStatus"] == "PAID"
    assert read_back["order"]["balance"]["amount"] == "0"

    # The cart became that order: placing it again is refused and names the order.
    with pytest.raises(WixError) as excinfo:
        cart.place_order(wix, cart_id=made["id"])
    assert excinfo.value.code == "CART_ALREADY_ORDERED"
    assert excinfo.value.data["orderId"] == order_id
    assert cart.get_cart(wix, cart_id=made["id"])["cart"]["orderId"] == order_id


def _item(booking: dict) -> dict:
    return {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}


def _cash(amount: str) -> dict:
    return {
        "amount": {"amount": amount},
        "regularPaymentDetails": {
            "offlinePayment": True,
            "paymentMethodName": {"userDefinedName": {"predefined": "CASH"}},
        },
        "status": "APPROVED",
    }


def _charge(wix: WixClient, order_id: str, member_id: str, pool_id: str) -> dict:
    line_id = orders.get_order(wix, order_id=order_id)["order"]["lineItems"][0]["id"]
    return orders.charge_memberships(
        wix,
        order_id=order_id,
        member_id=member_id,
        memberships=[
            {
                "lineItemId": line_id,
                "membershipIdentifier": {
                    "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": pool_id}
                },
            }
        ],
    )


def test_plan_members_booking_charged_to_membership_takes_one_credit(
    wix: WixClient, sandbox: Sandbox, swim_class
) -> None:
    service, event = swim_class
    contact = make_contact(sandbox, "Pat", "Member")
    member = make_member(sandbox, contact)
    plan = make_plan(sandbox, "10-Swim Pass", credits=10, service_ids=[service["id"]])
    sold = sell_plan(sandbox, member, plan, credits_left=4)
    pool_id = sold["pool"]["id"]
    assert benefits.get_balance(wix, pool_id=pool_id)["balance"]["amount"]["available"] == "4"

    booking = _book(wix, service, event["id"], contact, "MEMBERSHIP")
    made = cart.create_cart(wix, channel_type="BACKOFFICE_MERCHANT", catalog_items=[_item(booking)])["cart"]
    assert made["lineItems"][0]["paymentConfig"]["paymentOption"] == "MEMBERSHIP"
    order_id = cart.place_order(wix, cart_id=made["id"])["orderId"]

    (payment,) = _charge(wix, order_id, member["id"], pool_id)["payments"]
    assert payment["status"] == "PENDING"  # Wix charges the plan asynchronously

    order = orders.get_order(wix, order_id=order_id)["order"]  # the sandbox settles on the next call
    assert order["lineItems"][0]["paymentOption"] == "MEMBERSHIP"
    assert order["paymentStatus"] == "PAID"
    assert benefits.get_balance(wix, pool_id=pool_id)["balance"]["amount"]["available"] == "3"
    settled = order_transactions.list_transactions_for_single_order(wix, order_id=order_id)["orderTransactions"]
    assert [p["status"] for p in settled["payments"]] == ["APPROVED"]
    read_back = _read_back(wix, booking["id"])
    assert read_back["booking"]["paymentStatus"] == "PAID"


def test_charging_an_existing_order_to_an_empty_plan_is_refused_and_changes_nothing(
    wix: WixClient, sandbox: Sandbox, swim_class
) -> None:
    service, event = swim_class
    contact = make_contact(sandbox, "Sam", "Empty")
    member = make_member(sandbox, contact)
    plan = make_plan(sandbox, "10-Swim Pass", credits=10, service_ids=[service["id"]])
    pool_id = sell_plan(sandbox, member, plan, credits_left=0)["pool"]["id"]
    booking = _book(wix, service, event["id"], contact, "MEMBERSHIP")
    made = cart.create_cart(wix, channel_type="BACKOFFICE_MERCHANT", catalog_items=[_item(booking)])["cart"]
    order_id = cart.place_order(wix, cart_id=made["id"])["orderId"]

    with pytest.raises(WixPreconditionFailed) as excinfo:
        _charge(wix, order_id, member["id"], pool_id)
    assert excinfo.value.code == "MEMBERSHIP_NOT_ELIGIBLE"
    assert benefits.get_balance(wix, pool_id=pool_id)["balance"]["amount"]["available"] == "0"
    assert orders.get_order(wix, order_id=order_id)["order"]["paymentStatus"] == "NOT_PAID"
