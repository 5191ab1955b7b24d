"""The sandbox's eCommerce: checkouts, orders, payment collection, order billing, order transactions.

Every rule is tested accepted and rejected, through the HTTP surface; a rejected call must leave
the sandbox's state exactly as it was.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_event, make_member, make_service
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox
from wix_sandbox.state import COLLECTIONS

CHECKOUTS = "/ecom/v1/checkouts"
ORDERS = "/ecom/v1/orders"
BOOKINGS = "/_api/bookings-service/v2/bookings"
EXTENDED_QUERY = "/_api/bookings-reader/v2/extended-bookings/query"
SESSION_START = datetime(2026, 11, 25, 7, 0)


# -- helpers ---------------------------------------------------------------------------------


def code(body: dict[str, Any]) -> str:
    return body["details"]["applicationError"]["code"]


def violations(body: dict[str, Any]) -> dict[str, str]:
    return {v["field"]: v["violatedRule"] for v in body["details"]["validationError"]["fieldViolations"]}


def snapshot(sb: Sandbox) -> dict[str, Any]:
    return {c: copy.deepcopy(sorted(sb.state.all(c), key=lambda e: e["id"])) for c in COLLECTIONS}


def book_class(
    sb: Sandbox,
    *,
    option: str = "OFFLINE",
    participants: int = 1,
    price: str = "12",
    service: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A class booking made through Create Booking (by eventId), status CREATED."""
    service = service or make_service(sb, price=price)
    event = make_event(sb, service, SESSION_START)
    contact = contact or make_contact(sb)
    status, body = call(
        sb,
        "POST",
        BOOKINGS,
        {
            "booking": {
                "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
                "contactDetails": {"contactId": contact["id"]},
                "totalParticipants": participants,
                "selectedPaymentOption": option,
            }
        },
    )
    assert status == 200, body
    return body["booking"]


def booking_line(booking_id: str, **extra: Any) -> dict[str, Any]:
    return {"quantity": 1, "catalogReference": {"catalogItemId": booking_id, "appId": BOOKINGS_APP_ID}, **extra}


def create_checkout(sb: Sandbox, *booking_ids: str, channel: str = "BACKOFFICE_MERCHANT", **extra: Any) -> dict:
    status, body = call(
        sb, "POST", CHECKOUTS, {"channelType": channel, "lineItems": [booking_line(b) for b in booking_ids], **extra}
    )
    assert status == 200, body
    return body["checkout"]


def place_order(sb: Sandbox, checkout_id: str) -> dict[str, Any]:
    status, body = call(sb, "POST", f"{CHECKOUTS}/{checkout_id}/create-order", {})
    assert status == 200, body
    return get_order(sb, body["orderId"])


def get_order(sb: Sandbox, order_id: str) -> dict[str, Any]:
    status, body = call(sb, "GET", f"{ORDERS}/{order_id}")
    assert status == 200, body
    return body["order"]


def booked_order(sb: Sandbox, *, price: str = "12", option: str = "OFFLINE") -> tuple[dict, dict]:
    """A class booking sold through a back-office checkout: (booking, order)."""
    booking = book_class(sb, price=price, option=option)
    checkout = create_checkout(sb, booking["id"])
    return booking, place_order(sb, checkout["id"])


def direct_order(sb: Sandbox, amount: str = "20", **order: Any) -> dict[str, Any]:
    status, body = call(
        sb,
        "POST",
        ORDERS,
        {
            "order": {
                "channelInfo": {"type": "BACKOFFICE_MERCHANT"},
                "lineItems": [
                    {
                        "productName": {"original": "Towel hire"},
                        "itemType": {"preset": "PHYSICAL"},
                        "quantity": 1,
                        "price": {"amount": amount},
                    }
                ],
                **order,
            }
        },
    )
    assert status == 200, body
    return body["order"]


def booking_state(sb: Sandbox, booking_id: str) -> dict[str, Any]:
    booking = sb.state.get("bookings", booking_id)
    assert booking is not None
    return booking


def transactions(sb: Sandbox, order_id: str) -> dict[str, Any]:
    status, body = call(sb, "GET", f"/ecom/v1/payments/orders/{order_id}")
    assert status == 200, body
    return body["orderTransactions"]


def offline_payment(amount: str, status: str | None = "APPROVED") -> dict[str, Any]:
    payment: dict[str, Any] = {"amount": {"amount": amount}, "regularPaymentDetails": {"offlinePayment": True}}
    if status:
        payment["status"] = status
    return payment


def add_payments(sb: Sandbox, order_id: str, *payments: dict[str, Any]) -> tuple[int, dict]:
    return call(sb, "POST", f"/ecom/v1/payments/orders/{order_id}/add-payment", {"payments": list(payments)})


def member_with_plan(sb: Sandbox, service: dict[str, Any], credits_left: int | None = 5) -> tuple[dict, dict, dict]:
    """(contact, member, sold plan) for a member holding a 10-class pass covering ``service``."""
    contact = make_contact(sb, "Pat", "Member")
    member = make_member(sb, contact)
    plan = make_plan(sb, "10 Swim Pass", 10, [service["id"]], "90")
    return contact, member, sell_plan(sb, member, plan, credits_left=credits_left)


def credits_left(sb: Sandbox, pool_id: str) -> int:
    status, body = call(sb, "GET", f"/benefit-programs/v1/balances/{pool_id}")
    assert status == 200, body
    return int(float(body["balance"]["amount"]["available"]))


# -- end-to-end flows ------------------------------------------------------------------------


def test_class_booking_paid_at_the_desk_end_to_end(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="OFFLINE", price="12")
    checkout = create_checkout(sandbox, booking["id"], channel="BACKOFFICE_MERCHANT")
    line = checkout["lineItems"][0]
    assert line["price"]["amount"] == "12"
    assert line["serviceProperties"]["numberOfParticipants"] == 1
    assert line["serviceProperties"]["scheduledDate"] == booking["startDate"]
    assert line["rootCatalogItemId"] == booking["bookedEntity"]["slot"]["serviceId"]

    status, created = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
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


# -- checkout: create ------------------------------------------------------------------------


def test_checkout_line_item_is_priced_from_the_booked_service(sandbox: Sandbox) -> None:
    contact = make_contact(sandbox, "Jo", "Swimmer")
    booking = book_class(sandbox, price="12.50", contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    line = checkout["lineItems"][0]
    assert line["productName"] == {"original": "Open Water Swim", "translated": "Open Water Swim"}
    for key in ("price", "fullPrice", "lineItemPrice", "totalPriceAfterTax"):
        assert line[key]["amount"] == "12.5"
    assert line["price"]["formattedAmount"] == "£12.50"
    assert line["paymentOption"] == "FULL_PAYMENT_OFFLINE"
    assert line["itemType"] == {"preset": "SERVICE"}
    assert line["availability"] == {"status": "AVAILABLE", "quantityAvailable": 1}
    assert line["catalogReference"] == {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}
    assert checkout["buyerInfo"] == {"contactId": contact["id"], "email": "jo.swimmer@example.com"}
    assert checkout["priceSummary"]["subtotal"]["amount"] == "12.5"
    assert checkout["priceSummary"]["total"]["amount"] == "12.5"
    assert checkout["payLater"]["total"]["amount"] == "12.5"
    assert checkout["payNow"]["total"]["amount"] == "0"
    assert checkout["channelType"] == "BACKOFFICE_MERCHANT"
    assert checkout["completed"] is False
    assert checkout["currency"] == "GBP"
    assert checkout["violations"] == []
    assert checkout["membershipOptions"] == {
        "eligibleMemberships": [],
        "invalidMemberships": [],
        "selectedMemberships": {"memberships": []},
    }
    assert checkout["createdDate"] == "2026-11-21T09:00:00.000Z"
    assert "_id" not in checkout


def test_checkout_price_is_service_price_times_participants(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, price="12", participants=3)
    line = create_checkout(sandbox, booking["id"])["lineItems"][0]
    assert line["price"]["amount"] == "36"
    assert line["serviceProperties"]["numberOfParticipants"] == 3


@pytest.mark.parametrize(
    ("selected", "payment_option", "amount", "pay_now"),
    [
        ("OFFLINE", "FULL_PAYMENT_OFFLINE", "12", "0"),
        ("UNDEFINED", "FULL_PAYMENT_OFFLINE", "12", "0"),
        ("ONLINE", "FULL_PAYMENT_ONLINE", "12", "12"),
        ("MEMBERSHIP", "MEMBERSHIP", "12", "12"),
        ("MEMBERSHIP_OFFLINE", "MEMBERSHIP_OFFLINE", "0", "0"),
    ],
)
def test_line_payment_option_follows_the_bookings_selected_payment_option(
    sandbox: Sandbox, selected: str, payment_option: str, amount: str, pay_now: str
) -> None:
    booking = book_class(sandbox, option=selected)
    checkout = create_checkout(sandbox, booking["id"])
    line = checkout["lineItems"][0]
    assert (line["paymentOption"], line["price"]["amount"]) == (payment_option, amount)
    assert line["fullPrice"]["amount"] == "12"
    assert checkout["payNow"]["total"]["amount"] == pay_now


def test_checkout_without_channel_type_is_rejected(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", CHECKOUTS, {"lineItems": [booking_line(booking["id"])]})
    assert status == 400
    assert violations(body) == {"channelType": "REQUIRED_FIELD"}
    assert snapshot(sandbox) == before


def test_checkout_with_unknown_channel_type_is_rejected(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CHECKOUTS, {"channelType": "FRONT_DESK", "lineItems": []})
    assert status == 400
    assert violations(body) == {"channelType": "INVALID_ENUM_VALUE"}
    status, _ = call(sandbox, "POST", CHECKOUTS, {"channelType": "POS", "lineItems": []})
    assert status == 200


def test_checkout_takes_at_most_300_line_items(sandbox: Sandbox) -> None:
    lines = [booking_line(f"missing-{i}") for i in range(301)]
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", CHECKOUTS, {"channelType": "BACKOFFICE_MERCHANT", "lineItems": lines})
    assert status == 400
    assert violations(body) == {"lineItems": "MAX_SIZE"}
    assert snapshot(sandbox) == before
    status, body = call(sandbox, "POST", CHECKOUTS, {"channelType": "BACKOFFICE_MERCHANT", "lineItems": lines[:300]})
    assert status == 200
    assert len(body["checkout"]["lineItems"]) == 300


def test_checkout_line_item_needs_a_catalog_reference(sandbox: Sandbox) -> None:
    status, body = call(
        sandbox,
        "POST",
        CHECKOUTS,
        {"channelType": "WEB", "lineItems": [{"quantity": 1, "catalogReference": {"catalogItemId": "x"}}]},
    )
    assert status == 400
    assert violations(body) == {"lineItems[0].catalogReference.appId": "REQUIRED_FIELD"}


def test_unknown_booking_becomes_a_not_found_line_that_cannot_be_ordered(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, "00000000-0000-4000-8000-000000000000")
    line = checkout["lineItems"][0]
    assert line["availability"]["status"] == "NOT_FOUND"
    assert checkout["violations"][0]["severity"] == "ERROR"
    assert checkout["violations"][0]["target"]["lineItem"]["id"] == line["id"]
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "FULL_OUT_OF_STOCK")
    assert snapshot(sandbox) == before


def test_item_of_another_catalog_is_not_found(sandbox: Sandbox) -> None:
    status, body = call(
        sandbox,
        "POST",
        CHECKOUTS,
        {
            "channelType": "WEB",
            "lineItems": [{"quantity": 1, "catalogReference": {"catalogItemId": "p1", "appId": "stores"}}],
        },
    )
    assert status == 200
    assert body["checkout"]["lineItems"][0]["availability"]["status"] == "NOT_FOUND"


def test_booking_already_in_an_order_is_not_available_again(sandbox: Sandbox) -> None:
    booking, _ = booked_order(sandbox)
    checkout = create_checkout(sandbox, booking["id"])
    assert checkout["lineItems"][0]["availability"]["status"] == "NOT_AVAILABLE"
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "FULL_OUT_OF_STOCK")


def test_canceled_booking_is_not_available(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    status, _ = call(sandbox, "POST", f"{BOOKINGS}/{booking['id']}/cancel", {"revision": booking["revision"]})
    assert status == 200
    checkout = create_checkout(sandbox, booking["id"])
    assert checkout["lineItems"][0]["availability"]["status"] == "NOT_AVAILABLE"


def test_one_unavailable_line_of_two_is_a_partial_out_of_stock(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    checkout = create_checkout(sandbox, booking["id"], "00000000-0000-4000-8000-000000000000")
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "PARTIAL_OUT_OF_STOCK")
    assert body["details"]["applicationError"]["data"]["lineItemIds"] == [checkout["lineItems"][1]["id"]]


def test_selected_membership_needs_id_app_id_and_line_item_ids(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    before = snapshot(sandbox)
    status, body = call(
        sandbox,
        "POST",
        CHECKOUTS,
        {
            "channelType": "BACKOFFICE_MERCHANT",
            "lineItems": [booking_line(booking["id"])],
            "checkoutInfo": {"membershipOptions": {"selectedMemberships": {"memberships": [{"id": "pool-1"}]}}},
        },
    )
    assert status == 400
    assert violations(body) == {
        "checkoutInfo.membershipOptions.selectedMemberships.memberships[0].appId": "REQUIRED_FIELD",
        "checkoutInfo.membershipOptions.selectedMemberships.memberships[0].lineItemIds": "REQUIRED_FIELD",
    }
    assert snapshot(sandbox) == before


def test_selected_membership_that_is_not_eligible_is_listed_invalid_and_blocks_the_order(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    status, body = call(
        sandbox,
        "POST",
        CHECKOUTS,
        {
            "channelType": "BACKOFFICE_MERCHANT",
            "lineItems": [booking_line(booking["id"], id="line-1")],
            "checkoutInfo": {
                "membershipOptions": {
                    "selectedMemberships": {
                        "memberships": [{"id": "pool-x", "appId": PRICING_PLANS_APP_ID, "lineItemIds": ["line-1"]}]
                    }
                }
            },
        },
    )
    assert status == 200
    checkout = body["checkout"]
    assert checkout["membershipOptions"]["invalidMemberships"][0]["membership"]["id"] == "pool-x"
    assert checkout["lineItems"][0]["paymentOption"] == "FULL_PAYMENT_OFFLINE"
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "VIOLATIONS_WITH_ERROR_SEVERITY")


# -- checkout: get, update, url, completed ---------------------------------------------------


def test_get_checkout_returns_it_and_unknown_is_404(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/{checkout['id']}")
    assert (status, body["checkout"]) == (200, checkout)
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/nope")
    assert (status, code(body)) == (404, "CHECKOUT_NOT_FOUND")


def test_get_checkout_shows_current_plan_credits(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=5)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    second = book_class(sandbox, service=service, contact=contact)
    other = place_order(sandbox, create_checkout(sandbox, second["id"])["id"])
    call(
        sandbox,
        "POST",
        "/ecom/v1/order-billing/charge-memberships",
        _charge_body(other, member["id"], sold["pool"]["id"]),
    )
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/{checkout['id']}")
    assert body["checkout"]["membershipOptions"]["eligibleMemberships"][0]["credits"]["remaining"] == 4


def test_update_checkout_changes_the_buyer_email(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    status, body = call(
        sandbox, "PATCH", f"{CHECKOUTS}/{checkout['id']}", {"checkout": {"buyerInfo": {"email": "desk@club.example"}}}
    )
    assert status == 200
    assert body["checkout"]["buyerInfo"]["email"] == "desk@club.example"
    assert body["checkout"]["updatedDate"] == "2026-11-21T09:00:00.000Z"


def test_update_checkout_adds_line_items(sandbox: Sandbox) -> None:
    first, second = book_class(sandbox), book_class(sandbox)
    checkout = create_checkout(sandbox, first["id"])
    status, body = call(
        sandbox, "PATCH", f"{CHECKOUTS}/{checkout['id']}", {"checkout": {}, "lineItems": [booking_line(second["id"])]}
    )
    assert status == 200
    assert body["checkout"]["priceSummary"]["total"]["amount"] == "24"


def test_update_unknown_checkout_is_404(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "PATCH", f"{CHECKOUTS}/nope", {"checkout": {"buyerNote": "x"}})
    assert (status, code(body)) == (404, "CHECKOUT_NOT_FOUND")


def test_update_of_completed_checkout_is_rejected(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    place_order(sandbox, checkout["id"])
    before = snapshot(sandbox)
    status, body = call(sandbox, "PATCH", f"{CHECKOUTS}/{checkout['id']}", {"checkout": {"buyerNote": "late"}})
    assert (status, code(body)) == (428, "CHECKOUT_ALREADY_PAID")
    assert snapshot(sandbox) == before


def test_update_with_incomplete_selected_membership_is_rejected(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    before = snapshot(sandbox)
    status, body = call(
        sandbox,
        "PATCH",
        f"{CHECKOUTS}/{checkout['id']}",
        {"checkout": {"membershipOptions": {"selectedMemberships": {"memberships": [{"id": "p", "appId": "a"}]}}}},
    )
    assert status == 400
    assert violations(body) == {
        "checkout.membershipOptions.selectedMemberships.memberships[0].lineItemIds": "REQUIRED_FIELD"
    }
    assert snapshot(sandbox) == before


def test_checkout_url_names_the_checkout(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/{checkout['id']}/checkout-url")
    assert status == 200
    assert checkout["id"] in body["checkoutUrl"]
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/nope/checkout-url")
    assert (status, code(body)) == (404, "CHECKOUT_NOT_FOUND")


def test_completed_checkout_cannot_become_an_order(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/mark-as-completed", {})
    assert (status, body) == (200, {})
    assert call(sandbox, "GET", f"{CHECKOUTS}/{checkout['id']}")[1]["checkout"]["completed"] is True
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "CHECKOUT_ALREADY_PAID")
    assert sandbox.state.count("orders") == 0


# -- checkout: create order ------------------------------------------------------------------


def test_back_office_order_is_approved_unpaid_and_confirms_the_booking(sandbox: Sandbox) -> None:
    contact = make_contact(sandbox, "Sam", "Lane")
    booking = book_class(sandbox, contact=contact, price="15")
    checkout = create_checkout(sandbox, booking["id"])
    order = place_order(sandbox, checkout["id"])
    assert order["status"] == "APPROVED"
    assert order["paymentStatus"] == "NOT_PAID"
    assert order["number"] == "10001"
    assert order["checkoutId"] == checkout["id"]
    assert order["channelInfo"] == {"type": "BACKOFFICE_MERCHANT"}
    assert order["currency"] == "GBP"
    assert order["buyerInfo"] == {"contactId": contact["id"], "email": "sam.lane@example.com"}
    line = order["lineItems"][0]
    assert line["id"] == checkout["lineItems"][0]["id"]
    assert line["catalogReference"] == {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}
    assert line["productName"]["original"] == "Open Water Swim"
    assert (line["price"]["amount"], line["totalPriceAfterTax"]["amount"]) == ("15", "15")
    assert (line["quantity"], line["paymentOption"], line["itemType"]) == (
        1,
        "FULL_PAYMENT_OFFLINE",
        {"preset": "SERVICE"},
    )
    assert order["priceSummary"]["total"]["amount"] == "15"
    assert order["balanceSummary"]["balance"] == {"amount": "15", "formattedAmount": "£15.00"}
    assert order["balanceSummary"]["paid"]["amount"] == "0"
    assert call(sandbox, "GET", f"{CHECKOUTS}/{checkout['id']}")[1]["checkout"]["completed"] is True
    stored = booking_state(sandbox, booking["id"])
    assert (stored["status"], stored["paymentStatus"]) == ("CONFIRMED", "NOT_PAID")


def test_second_create_order_of_a_checkout_is_rejected(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    place_order(sandbox, checkout["id"])
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "CHECKOUT_ALREADY_PAID")
    assert snapshot(sandbox) == before


def test_create_order_of_an_empty_checkout_is_rejected(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CHECKOUTS, {"channelType": "BACKOFFICE_MERCHANT"})
    checkout = body["checkout"]
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "EMPTY_CHECKOUT")
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/nope/create-order", {})
    assert (status, code(body)) == (404, "CHECKOUT_NOT_FOUND")


def test_online_web_checkout_waits_for_payment_and_is_hidden_from_search(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="ONLINE")
    checkout = create_checkout(sandbox, booking["id"], channel="WEB")
    status, created = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert status == 200
    assert created["paymentGatewayOrderId"]
    order = get_order(sandbox, created["orderId"])
    assert (order["status"], order["paymentStatus"]) == ("INITIALIZED", "NOT_PAID")
    status, found = call(sandbox, "POST", f"{ORDERS}/search", {"search": {}})
    assert found["orders"] == []


def test_online_booking_through_the_back_office_gets_no_payment_gateway_order(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="ONLINE")
    checkout = create_checkout(sandbox, booking["id"], channel="BACKOFFICE_MERCHANT")
    status, created = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert status == 200
    assert "paymentGatewayOrderId" not in created
    assert get_order(sandbox, created["orderId"])["status"] == "APPROVED"


def test_zero_total_order_is_paid_at_once(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="MEMBERSHIP_OFFLINE")
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "PAID")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PAID"


def test_order_numbers_count_up(sandbox: Sandbox) -> None:
    _, first = booked_order(sandbox)
    _, second = booked_order(sandbox)
    assert (first["number"], second["number"]) == ("10001", "10002")


# -- orders ----------------------------------------------------------------------------------


def test_get_unknown_order_is_404(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", f"{ORDERS}/nope")
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")
    status, body = call(sandbox, "GET", "/ecom/v1/ep-orders/nope")
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


def test_search_orders_newest_first_with_cursor_paging(sandbox: Sandbox, sandbox_clock: list[datetime]) -> None:
    first = direct_order(sandbox, "10")
    sandbox_clock[0] += timedelta(minutes=5)
    second = direct_order(sandbox, "20")
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {"cursorPaging": {"limit": 1}}})
    assert status == 200
    assert [o["id"] for o in body["orders"]] == [second["id"]]
    assert body["metadata"]["hasNext"] is True
    cursor = body["metadata"]["cursors"]["next"]
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {"cursorPaging": {"cursor": cursor}}})
    assert [o["id"] for o in body["orders"]] == [first["id"]]
    assert body["metadata"]["hasNext"] is False


def test_search_orders_filters_by_payment_status(sandbox: Sandbox) -> None:
    unpaid = direct_order(sandbox, "10")
    paid = direct_order(sandbox, "20")
    call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{paid['id']}/mark-as-paid", {})
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {"filter": {"paymentStatus": "NOT_PAID"}}})
    assert [o["id"] for o in body["orders"]] == [unpaid["id"]]


def test_search_orders_hides_pending_unless_filtered_by_status(sandbox: Sandbox) -> None:
    pending = direct_order(sandbox, "10", status="PENDING")
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {}})
    assert body["orders"] == []
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {"filter": {"status": "PENDING"}}})
    assert [o["id"] for o in body["orders"]] == [pending["id"]]


def test_search_orders_limit_above_100_is_rejected(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {"cursorPaging": {"limit": 101}}})
    assert status == 400


def test_create_order_directly(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20", buyerInfo={"email": "walk.in@example.com"})
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "NOT_PAID")
    assert order["priceSummary"]["total"]["amount"] == "20"
    assert order["balanceSummary"]["balance"]["amount"] == "20"
    assert order["buyerInfo"] == {"email": "walk.in@example.com"}
    assert order["lineItems"][0]["id"]
    assert transactions(sandbox, order["id"]) == {"orderId": order["id"], "payments": [], "refunds": []}


def test_create_free_order_directly_is_paid(sandbox: Sandbox) -> None:
    assert direct_order(sandbox, "0")["paymentStatus"] == "PAID"


def test_create_order_directly_needs_channel_line_items_and_names(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", ORDERS, {"order": {}})
    assert status == 400
    assert violations(body) == {"order.channelInfo.type": "REQUIRED_FIELD", "order.lineItems": "REQUIRED_FIELD"}
    status, body = call(
        sandbox,
        "POST",
        ORDERS,
        {
            "order": {
                "channelInfo": {"type": "BACKOFFICE_MERCHANT"},
                "lineItems": [{"itemType": {"preset": "SERVICE"}, "quantity": 0, "price": {"amount": "-1"}}],
            }
        },
    )
    assert status == 400
    assert set(violations(body)) == {
        "order.lineItems[0].productName.original",
        "order.lineItems[0].quantity",
        "order.lineItems[0].price.amount",
    }
    assert sandbox.state.count("orders") == 0


def test_create_order_with_purchase_date_in_the_future_is_rejected(sandbox: Sandbox) -> None:
    before = snapshot(sandbox)
    status, body = call(
        sandbox,
        "POST",
        ORDERS,
        {
            "order": {
                "channelInfo": {"type": "BACKOFFICE_MERCHANT"},
                "purchasedDate": "2026-11-22T09:00:00Z",
                "lineItems": [
                    {
                        "productName": {"original": "Cap"},
                        "itemType": {"preset": "PHYSICAL"},
                        "quantity": 1,
                        "price": {"amount": "5"},
                    }
                ],
            }
        },
    )
    assert (status, code(body)) == (400, "PURCHASED_DATE_CANNOT_BE_IN_FUTURE")
    assert snapshot(sandbox) == before
    assert direct_order(sandbox, "5", purchasedDate="2026-11-20T09:00:00Z")["purchasedDate"] == "2026-11-20T09:00:00Z"


def test_update_order_changes_merchant_fields_only(sandbox: Sandbox) -> None:
    order = direct_order(sandbox)
    status, body = call(
        sandbox,
        "PATCH",
        f"{ORDERS}/{order['id']}",
        {"order": {"buyerNote": "Pays Friday", "paymentStatus": "PAID", "buyerInfo": {"email": "new@example.com"}}},
    )
    assert status == 200
    assert body["order"]["buyerNote"] == "Pays Friday"
    assert body["order"]["buyerInfo"]["email"] == "new@example.com"
    assert body["order"]["paymentStatus"] == "NOT_PAID"


def test_update_unknown_or_pending_order_is_rejected(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "PATCH", f"{ORDERS}/nope", {"order": {"buyerNote": "x"}})
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")
    pending = direct_order(sandbox, status="PENDING")
    status, body = call(sandbox, "PATCH", f"{ORDERS}/{pending['id']}", {"order": {"buyerNote": "x"}})
    assert (status, code(body)) == (428, "ORDER_IS_PENDING")


def test_cancel_order(sandbox: Sandbox) -> None:
    order = direct_order(sandbox)
    status, body = call(sandbox, "POST", f"{ORDERS}/{order['id']}/cancel", {})
    assert status == 200
    assert body["order"]["status"] == "CANCELED"
    assert body["order"]["activities"][-1]["type"] == "ORDER_CANCELED"
    status, again = call(sandbox, "POST", f"{ORDERS}/{order['id']}/cancel", {})
    assert (status, again["order"]) == (200, body["order"])


def test_cancel_pending_or_unknown_order_is_rejected(sandbox: Sandbox) -> None:
    pending = direct_order(sandbox, status="PENDING")
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"{ORDERS}/{pending['id']}/cancel", {})
    assert (status, code(body)) == (428, "ORDER_IS_PENDING")
    assert snapshot(sandbox) == before
    status, body = call(sandbox, "POST", f"{ORDERS}/nope/cancel", {})
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


def test_cancel_order_with_authorized_payment_is_rejected(sandbox: Sandbox) -> None:
    order = direct_order(sandbox)
    add_payments(sandbox, order["id"], offline_payment("20", "AUTHORIZED"))
    status, body = call(sandbox, "POST", f"{ORDERS}/{order['id']}/cancel", {})
    assert (status, code(body)) == (428, "ORDER_HAS_AUTHORIZED_TRANSACTION")


# -- payments collector ----------------------------------------------------------------------


def test_mark_as_paid_records_an_offline_payment_for_the_balance(sandbox: Sandbox) -> None:
    _, order = booked_order(sandbox, price="12")
    status, body = call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{order['id']}/mark-as-paid", {})
    assert status == 200
    assert body["order"]["balanceSummary"]["balance"]["amount"] == "0"
    assert body["order"]["balanceSummary"]["paid"]["amount"] == "12"
    [payment] = transactions(sandbox, order["id"])["payments"]
    assert payment["amount"]["amount"] == "12"
    assert payment["status"] == "APPROVED"
    assert payment["regularPaymentDetails"]["offlinePayment"] is True


def test_mark_as_paid_of_canceled_or_unknown_order_is_rejected(sandbox: Sandbox) -> None:
    order = direct_order(sandbox)
    call(sandbox, "POST", f"{ORDERS}/{order['id']}/cancel", {})
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{order['id']}/mark-as-paid", {})
    assert (status, code(body)) == (428, "ORDER_CANCELED")
    assert snapshot(sandbox) == before
    status, body = call(sandbox, "POST", "/ecom/v1/payments-collector/orders/nope/mark-as-paid", {})
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize(
    "path", ["/v1/bulk/payments-collector/mark-as-paid", "/ecom/v1/bulk/payments-collector/mark-as-paid"]
)
def test_bulk_mark_as_paid_reports_each_order(sandbox: Sandbox, path: str) -> None:
    unpaid = direct_order(sandbox, "10")
    paid = direct_order(sandbox, "20")
    call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{paid['id']}/mark-as-paid", {})
    status, body = call(sandbox, "POST", path, {"ecomOrderIds": [unpaid["id"], paid["id"], "nope"]})
    assert status == 200
    results = body["results"]
    assert [r["itemMetadata"]["success"] for r in results] == [True, False, False]
    assert results[0]["item"]["paymentStatus"] == "PAID"
    assert results[1]["itemMetadata"]["error"]["code"] == "ORDER_ALREADY_PAID"
    assert results[2]["itemMetadata"]["error"]["code"] == "ORDER_NOT_FOUND"
    assert [r["itemMetadata"]["originalIndex"] for r in results] == [0, 1, 2]
    assert body["bulkActionMetadata"] == {"totalSuccesses": 1, "totalFailures": 2, "undetailedFailures": 0}
    assert len(transactions(sandbox, paid["id"])["payments"]) == 1


def test_bulk_mark_as_paid_takes_1_to_100_orders(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", "/v1/bulk/payments-collector/mark-as-paid", {"ecomOrderIds": []})
    assert (status, violations(body)) == (400, {"ecomOrderIds": "REQUIRED_FIELD"})
    status, body = call(sandbox, "POST", "/v1/bulk/payments-collector/mark-as-paid", {"ecomOrderIds": ["x"] * 101})
    assert (status, violations(body)) == (400, {"ecomOrderIds": "MAX_SIZE"})
    status, body = call(sandbox, "POST", "/v1/bulk/payments-collector/mark-as-paid", {"ecomOrderIds": ["x"] * 100})
    assert status == 200
    assert body["bulkActionMetadata"]["totalFailures"] == 100


@pytest.mark.parametrize("amount", ["0", "-5", "20.01"])
def test_manual_payment_of_a_wrong_amount_is_rejected(sandbox: Sandbox, amount: str) -> None:
    order = direct_order(sandbox, "20")
    before = snapshot(sandbox)
    status, body = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments-collector/orders/{order['id']}/manual-payment",
        {"amount": {"amount": amount}},
    )
    assert (status, code(body)) == (400, "INVALID_AMOUNT")
    assert snapshot(sandbox) == before


def test_manual_payment_of_exactly_the_balance_pays_the_order(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, _ = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments-collector/orders/{order['id']}/manual-payment",
        {"amount": {"amount": "20.00"}},
    )
    assert status == 200
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"


def test_manual_payment_needs_an_amount(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{order['id']}/manual-payment", {})
    assert (status, violations(body)) == (400, {"amount.amount": "REQUIRED_FIELD"})


def test_manual_payment_of_paid_or_canceled_order_is_rejected(sandbox: Sandbox) -> None:
    paid = direct_order(sandbox, "20")
    call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{paid['id']}/mark-as-paid", {})
    canceled = direct_order(sandbox, "20")
    call(sandbox, "POST", f"{ORDERS}/{canceled['id']}/cancel", {})
    before = snapshot(sandbox)
    for order_id, expected in ((paid["id"], "ORDER_ALREADY_PAID"), (canceled["id"], "ORDER_CANCELED")):
        status, body = call(
            sandbox,
            "POST",
            f"/ecom/v1/payments-collector/orders/{order_id}/manual-payment",
            {"amount": {"amount": "5"}},
        )
        assert (status, code(body)) == (428, expected)
    assert snapshot(sandbox) == before


def test_payment_collectability_status(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    path = f"/ecom/v1/payments-collector/orders/{order['id']}/payment-collectability-status"
    status, body = call(sandbox, "GET", path)
    assert (status, body["status"], body["amount"]["amount"]) == (200, "COLLECTABLE", "20")
    call(sandbox, "POST", f"/ecom/v1/payments-collector/orders/{order['id']}/mark-as-paid", {})
    assert call(sandbox, "GET", path)[1]["status"] == "NONCOLLECTABLE_ORDER_IS_PAID"
    canceled = direct_order(sandbox, "20")
    call(sandbox, "POST", f"{ORDERS}/{canceled['id']}/cancel", {})
    path = f"/ecom/v1/payments-collector/orders/{canceled['id']}/payment-collectability-status"
    assert call(sandbox, "GET", path)[1]["status"] == "NONCOLLECTABLE_ORDER_IS_CANCELLED"
    status, body = call(sandbox, "GET", "/ecom/v1/payments-collector/orders/nope/payment-collectability-status")
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


# -- order transactions ----------------------------------------------------------------------


def test_add_payment_records_an_approved_payment_and_pays_the_order(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox, price="12")
    status, body = add_payments(
        sandbox,
        order["id"],
        {
            "amount": {"amount": "12"},
            "status": "APPROVED",
            "regularPaymentDetails": {
                "offlinePayment": True,
                "paymentMethodName": {"userDefinedPaymentMethodName": {"predefined": "CASH"}},
            },
        },
    )
    assert status == 200
    [payment] = body["orderTransactions"]["payments"]
    assert body["paymentsIds"] == [payment["id"]]
    assert body["orderTransactions"]["orderId"] == order["id"]
    assert payment["regularPaymentDetails"]["paymentMethodName"]["userDefinedPaymentMethodName"]["predefined"] == "CASH"
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PAID"


def test_add_payment_without_status_counts_as_approved(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    add_payments(sandbox, order["id"], offline_payment("5", status=None))
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PARTIALLY_PAID"


def test_pending_payment_leaves_order_pending_until_approved(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = add_payments(sandbox, order["id"], offline_payment("20", "PENDING"))
    payment_id = body["paymentsIds"][0]
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["pending"]["amount"]) == ("PENDING", "20")
    status, body = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments/{payment_id}/orders/{order['id']}/update-payment-transaction-status",
        {"status": "APPROVED"},
    )
    assert status == 200
    assert body["orderTransactions"]["payments"][0]["status"] == "APPROVED"
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"


def test_add_payment_takes_1_to_50_payments(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = add_payments(sandbox, order["id"])
    assert (status, violations(body)) == (400, {"payments": "REQUIRED_FIELD"})
    status, body = add_payments(sandbox, order["id"], *[offline_payment("0.1")] * 51)
    assert (status, violations(body)) == (400, {"payments": "MAX_SIZE"})
    status, body = add_payments(sandbox, order["id"], *[offline_payment("0.1")] * 50)
    assert status == 200
    assert get_order(sandbox, order["id"])["balanceSummary"]["paid"]["amount"] == "5"


def test_add_payment_needs_exactly_one_kind_of_details_and_an_amount(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    before = snapshot(sandbox)
    status, body = add_payments(
        sandbox,
        order["id"],
        {"amount": {"amount": "5"}, "regularPaymentDetails": {}, "giftcardPaymentDetails": {}},
        {"regularPaymentDetails": {"offlinePayment": True}},
        {"amount": {"amount": "5"}, "membershipPaymentDetails": {"membershipId": "m"}},
    )
    assert status == 400
    assert violations(body) == {
        "payments[0]": "ONE_OF_ALIGNMENT",
        "payments[1].amount.amount": "REQUIRED_FIELD",
        "payments[2].membershipPaymentDetails.lineItemId": "REQUIRED_FIELD",
        "payments[2].membershipPaymentDetails.name.original": "REQUIRED_FIELD",
        "payments[2].membershipPaymentDetails.providerAppId": "REQUIRED_FIELD",
    }
    assert snapshot(sandbox) == before


def test_add_payment_to_unknown_order_is_404(sandbox: Sandbox) -> None:
    status, body = add_payments(sandbox, "nope", offline_payment("5"))
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


def test_recorded_membership_payment_is_not_a_charge(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = add_payments(
        sandbox,
        order["id"],
        {
            "amount": {"amount": "20"},
            "membershipPaymentDetails": {
                "membershipId": "pool-1",
                "lineItemId": order["lineItems"][0]["id"],
                "name": {"original": "10 Swim Pass"},
                "providerAppId": PRICING_PLANS_APP_ID,
            },
        },
    )
    assert status == 200
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert sandbox.state.count("benefit_transactions") == 0


def test_refunded_payment_makes_the_order_fully_refunded(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox)
    _, body = add_payments(sandbox, order["id"], offline_payment("12"))
    payment_id = body["paymentsIds"][0]
    status, _ = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments/{payment_id}/orders/{order['id']}/update-payment-transaction-status",
        {"status": "REFUNDED"},
    )
    assert status == 200
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["refunded"]["amount"]) == ("FULLY_REFUNDED", "12")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "REFUNDED"


@pytest.mark.parametrize(("first", "then"), [("CANCELED", "APPROVED"), ("VOIDED", "APPROVED"), ("REFUNDED", "PENDING")])
def test_payment_status_cannot_leave_a_final_status(sandbox: Sandbox, first: str, then: str) -> None:
    order = direct_order(sandbox, "20")
    _, body = add_payments(sandbox, order["id"], offline_payment("20", first))
    path = f"/ecom/v1/payments/{body['paymentsIds'][0]}/orders/{order['id']}/update-payment-transaction-status"
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", path, {"status": then})
    assert (status, code(body)) == (428, "STATUS_NOT_ALLOWED")
    assert snapshot(sandbox) == before


def test_membership_payment_cannot_be_refunded_by_status(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    _, body = add_payments(
        sandbox,
        order["id"],
        {
            "amount": {"amount": "20"},
            "membershipPaymentDetails": {
                "lineItemId": order["lineItems"][0]["id"],
                "name": {"original": "Pass"},
                "providerAppId": PRICING_PLANS_APP_ID,
            },
        },
    )
    path = f"/ecom/v1/payments/{body['paymentsIds'][0]}/orders/{order['id']}/update-payment-transaction-status"
    status, body = call(sandbox, "POST", path, {"status": "REFUNDED"})
    assert (status, code(body)) == (428, "STATUS_NOT_ALLOWED")
    status, body = call(sandbox, "POST", path, {"status": "VOIDED"})
    assert status == 200


def test_update_payment_status_of_unknown_payment_or_order_or_status_is_rejected(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments/nope/orders/{order['id']}/update-payment-transaction-status",
        {"status": "APPROVED"},
    )
    assert (status, code(body)) == (404, "PAYMENT_NOT_FOUND")
    status, body = call(
        sandbox, "POST", "/ecom/v1/payments/p/orders/nope/update-payment-transaction-status", {"status": "APPROVED"}
    )
    assert (status, code(body)) == (404, "ORDER_TRANSACTIONS_NOT_FOUND")
    status, body = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments/p/orders/{order['id']}/update-payment-transaction-status",
        {"status": "PAID"},
    )
    assert (status, violations(body)) == (400, {"status": "INVALID_ENUM_VALUE"})


def test_bulk_update_payment_statuses_reports_each_payment(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    _, body = add_payments(sandbox, order["id"], offline_payment("10", "PENDING"), offline_payment("10", "PENDING"))
    first, second = body["paymentsIds"]
    status, body = call(
        sandbox,
        "POST",
        "/ecom/v1/bulk/payments/update-payment-transaction-status",
        {
            "paymentAndOrderIds": [
                {"orderId": order["id"], "paymentId": first},
                {"orderId": order["id"], "paymentId": "nope"},
                {"orderId": order["id"], "paymentId": second},
            ],
            "status": "APPROVED",
            "returnFullEntity": True,
        },
    )
    assert status == 200
    assert [r["itemMetadata"]["success"] for r in body["results"]] == [True, False, True]
    assert body["results"][1]["itemMetadata"]["error"]["code"] == "PAYMENT_NOT_FOUND"
    assert body["results"][2]["item"]["orderId"] == order["id"]
    assert body["bulkActionMetadata"]["totalSuccesses"] == 2
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"


def test_bulk_update_payment_statuses_takes_1_to_300_items(sandbox: Sandbox) -> None:
    path = "/ecom/v1/bulk/payments/update-payment-transaction-status"
    status, body = call(sandbox, "POST", path, {"paymentAndOrderIds": [], "status": "APPROVED"})
    assert (status, violations(body)) == (400, {"paymentAndOrderIds": "REQUIRED_FIELD"})
    pairs = [{"orderId": "o", "paymentId": "p"}] * 301
    status, body = call(sandbox, "POST", path, {"paymentAndOrderIds": pairs, "status": "APPROVED"})
    assert (status, violations(body)) == (400, {"paymentAndOrderIds": "MAX_SIZE"})


def test_list_transactions_for_one_and_many_orders(sandbox: Sandbox) -> None:
    first, second = direct_order(sandbox, "10"), direct_order(sandbox, "20")
    add_payments(sandbox, first["id"], offline_payment("10"))
    status, body = call(sandbox, "GET", f"/ecom/v1/ep-payments/orders/{first['id']}")
    assert status == 200
    assert len(body["orderTransactions"]["payments"]) == 1
    status, body = call(sandbox, "GET", "/ecom/v1/payments/orders/nope")
    assert (status, code(body)) == (404, "ORDER_TRANSACTIONS_NOT_FOUND")
    status, body = call(
        sandbox, "POST", "/ecom/v1/payments/list-by-ids", {"orderIds": [first["id"], "nope", second["id"]]}
    )
    assert status == 200
    assert [t["orderId"] for t in body["orderTransactions"]] == [first["id"], second["id"]]
    status, body = call(sandbox, "POST", "/ecom/v1/payments/list-by-ids", {"orderIds": []})
    assert (status, violations(body)) == (400, {"orderIds": "REQUIRED_FIELD"})
    status, body = call(sandbox, "POST", "/ecom/v1/payments/list-by-ids", {"orderIds": ["x"] * 101})
    assert (status, violations(body)) == (400, {"orderIds": "MAX_SIZE"})


# -- memberships (pricing plans) -------------------------------------------------------------


def test_plan_member_pays_a_class_with_a_credit_through_the_checkout(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=5)
    pool_id = sold["pool"]["id"]
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    assert checkout["buyerInfo"]["memberId"] == member["id"]
    line_id = checkout["lineItems"][0]["id"]
    [offered] = checkout["membershipOptions"]["eligibleMemberships"]
    assert (offered["id"], offered["appId"], offered["lineItemIds"]) == (pool_id, PRICING_PLANS_APP_ID, [line_id])
    assert offered["credits"] == {"total": 10, "remaining": 5}
    assert offered["name"]["original"]

    selection = {"memberships": [{"id": pool_id, "appId": PRICING_PLANS_APP_ID, "lineItemIds": [line_id]}]}
    status, body = call(
        sandbox,
        "PATCH",
        f"{CHECKOUTS}/{checkout['id']}",
        {"checkout": {"membershipOptions": {"selectedMemberships": selection}}},
    )
    assert status == 200
    line = body["checkout"]["lineItems"][0]
    assert (line["paymentOption"], line["price"]["amount"]) == ("MEMBERSHIP", "0")
    assert body["checkout"]["priceSummary"]["total"]["amount"] == "0"

    order = place_order(sandbox, checkout["id"])
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "PAID")
    assert order["lineItems"][0]["paymentOption"] == "MEMBERSHIP"
    [payment] = transactions(sandbox, order["id"])["payments"]
    assert payment["status"] == "APPROVED"
    assert payment["membershipPaymentDetails"]["membershipId"] == pool_id
    assert payment["membershipPaymentDetails"]["lineItemId"] == line_id
    assert credits_left(sandbox, pool_id) == 4
    stored = booking_state(sandbox, booking["id"])
    assert (stored["status"], stored["paymentStatus"]) == ("CONFIRMED", "PAID")


def test_membership_selected_at_create_checkout_is_charged(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, _, sold = member_with_plan(sandbox, service, credits_left=2)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    pool_id = sold["pool"]["id"]
    status, body = call(
        sandbox,
        "POST",
        CHECKOUTS,
        {
            "channelType": "BACKOFFICE_MERCHANT",
            "lineItems": [booking_line(booking["id"], id="line-1")],
            "checkoutInfo": {
                "membershipOptions": {
                    "selectedMemberships": {
                        "memberships": [{"id": pool_id, "appId": PRICING_PLANS_APP_ID, "lineItemIds": ["line-1"]}]
                    }
                }
            },
        },
    )
    assert status == 200
    assert body["checkout"]["membershipOptions"]["invalidMemberships"] == []
    place_order(sandbox, body["checkout"]["id"])
    assert credits_left(sandbox, pool_id) == 1


def test_one_line_cannot_be_paid_by_two_memberships(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, _, sold = member_with_plan(sandbox, service, credits_left=5)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    line_id = checkout["lineItems"][0]["id"]
    pick = {"id": sold["pool"]["id"], "appId": PRICING_PLANS_APP_ID, "lineItemIds": [line_id]}
    status, body = call(
        sandbox,
        "PATCH",
        f"{CHECKOUTS}/{checkout['id']}",
        {"checkout": {"membershipOptions": {"selectedMemberships": {"memberships": [pick, pick]}}}},
    )
    assert status == 200
    assert len(body["checkout"]["membershipOptions"]["invalidMemberships"]) == 1
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "VIOLATIONS_WITH_ERROR_SEVERITY")
    assert snapshot(sandbox) == before


def test_empty_plan_is_not_offered_at_checkout(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, _, _ = member_with_plan(sandbox, service, credits_left=0)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    assert checkout["membershipOptions"]["eligibleMemberships"] == []


def test_charge_memberships_pays_an_existing_order_with_a_credit(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=3)
    pool_id = sold["pool"]["id"]
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    assert order["paymentStatus"] == "NOT_PAID"
    status, body = call(
        sandbox,
        "POST",
        "/ecom/v1/order-billing/charge-memberships",
        {
            "orderId": order["id"],
            "memberId": member["id"],
            "memberships": [
                {
                    "lineItemId": order["lineItems"][0]["id"],
                    "membershipIdentifier": {
                        "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": pool_id}
                    },
                }
            ],
        },
    )
    assert status == 200
    [payment] = body["payments"]
    assert payment["status"] == "APPROVED"
    assert payment["amount"]["amount"] == "12"
    assert payment["membershipPaymentDetails"]["membershipId"] == pool_id
    assert credits_left(sandbox, pool_id) == 2
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["balance"]["amount"]) == ("PAID", "0")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PAID"


def _charge_body(order: dict[str, Any], member_id: str, pool_id: str) -> dict[str, Any]:
    return {
        "orderId": order["id"],
        "memberId": member_id,
        "memberships": [
            {
                "lineItemId": order["lineItems"][0]["id"],
                "membershipIdentifier": {
                    "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": pool_id}
                },
            }
        ],
    }


def test_charge_memberships_on_an_empty_plan_changes_nothing(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=0)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    before = snapshot(sandbox)
    status, body = call(
        sandbox,
        "POST",
        "/ecom/v1/order-billing/charge-memberships",
        _charge_body(order, member["id"], sold["pool"]["id"]),
    )
    assert (status, code(body)) == (428, "NOT_ENOUGH_BALANCE")
    assert snapshot(sandbox) == before


def test_charge_memberships_of_a_line_already_paid_is_rejected(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=5)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    body = _charge_body(order, member["id"], sold["pool"]["id"])
    assert call(sandbox, "POST", "/ecom/v1/order-billing/charge-memberships", body)[0] == 200
    before = snapshot(sandbox)
    status, again = call(sandbox, "POST", "/ecom/v1/order-billing/charge-memberships", body)
    assert (status, code(again)) == (428, "ORDER_ALREADY_PAID")
    assert snapshot(sandbox) == before
    assert credits_left(sandbox, sold["pool"]["id"]) == 4


def test_charge_memberships_validates_its_request(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    path = "/ecom/v1/order-billing/charge-memberships"
    status, body = call(sandbox, "POST", path, {"memberId": "m", "memberships": [{}]})
    assert (status, violations(body)) == (400, {"orderId": "REQUIRED_FIELD"})
    status, body = call(sandbox, "POST", path, {"orderId": order["id"], "memberId": "m", "memberships": []})
    assert (status, violations(body)) == (400, {"memberships": "REQUIRED_FIELD"})
    item = {"lineItemId": "l", "membershipIdentifier": {"existingMembership": {"appId": "a", "membershipId": "p"}}}
    status, body = call(sandbox, "POST", path, {"orderId": order["id"], "memberId": "m", "memberships": [item] * 101})
    assert (status, violations(body)) == (400, {"memberships": "MAX_SIZE"})
    status, body = call(
        sandbox, "POST", path, {"orderId": order["id"], "memberId": "m", "memberships": [{"lineItemId": "l"}]}
    )
    assert status == 400
    assert set(violations(body)) == {
        "memberships[0].membershipIdentifier.existingMembership.appId",
        "memberships[0].membershipIdentifier.existingMembership.membershipId",
    }
    status, body = call(sandbox, "POST", path, {"orderId": order["id"], "memberId": "m", "memberships": [item]})
    assert (status, violations(body)) == (400, {"memberships[0].lineItemId": "VALIDATION"})
    status, body = call(sandbox, "POST", path, {"orderId": "nope", "memberId": "m", "memberships": [item]})
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


def test_void_memberships_gives_the_credit_back(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=3)
    pool_id = sold["pool"]["id"]
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    _, charged = call(
        sandbox, "POST", "/ecom/v1/order-billing/charge-memberships", _charge_body(order, member["id"], pool_id)
    )
    assert credits_left(sandbox, pool_id) == 2
    payment_id = charged["payments"][0]["id"]

    status, body = call(
        sandbox, "POST", "/ecom/v1/order-billing/void-memberships", {"orderId": order["id"], "paymentIds": [payment_id]}
    )
    assert (status, body) == (200, {})
    assert credits_left(sandbox, pool_id) == 3
    [payment] = transactions(sandbox, order["id"])["payments"]
    assert payment["status"] == "VOIDED"
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["balance"]["amount"]) == ("NOT_PAID", "12")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "NOT_PAID"

    before = snapshot(sandbox)
    status, body = call(
        sandbox, "POST", "/ecom/v1/order-billing/void-memberships", {"orderId": order["id"], "paymentIds": [payment_id]}
    )
    assert (status, code(body)) == (428, "STATUS_NOT_ALLOWED")
    assert snapshot(sandbox) == before


def test_voiding_a_plan_paid_checkout_line_makes_it_owed_again(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, _, sold = member_with_plan(sandbox, service, credits_left=3)
    pool_id = sold["pool"]["id"]
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    line_id = checkout["lineItems"][0]["id"]
    selection = {"memberships": [{"id": pool_id, "appId": PRICING_PLANS_APP_ID, "lineItemIds": [line_id]}]}
    call(
        sandbox,
        "PATCH",
        f"{CHECKOUTS}/{checkout['id']}",
        {"checkout": {"membershipOptions": {"selectedMemberships": selection}}},
    )
    order = place_order(sandbox, checkout["id"])
    [payment] = transactions(sandbox, order["id"])["payments"]
    call(
        sandbox,
        "POST",
        "/ecom/v1/order-billing/void-memberships",
        {"orderId": order["id"], "paymentIds": [payment["id"]]},
    )
    order = get_order(sandbox, order["id"])
    assert credits_left(sandbox, pool_id) == 3
    assert (order["paymentStatus"], order["priceSummary"]["total"]["amount"]) == ("NOT_PAID", "12")
    assert order["lineItems"][0]["paymentOption"] == "FULL_PAYMENT_OFFLINE"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "NOT_PAID"


def test_void_memberships_of_unknown_or_regular_payment_is_rejected(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    _, body = add_payments(sandbox, order["id"], offline_payment("5"))
    path = "/ecom/v1/order-billing/void-memberships"
    status, resp = call(sandbox, "POST", path, {"orderId": order["id"], "paymentIds": ["nope"]})
    assert (status, code(resp)) == (404, "PAYMENT_NOT_FOUND")
    status, resp = call(sandbox, "POST", path, {"orderId": order["id"], "paymentIds": body["paymentsIds"]})
    assert status == 400
    status, resp = call(sandbox, "POST", path, {"orderId": order["id"], "paymentIds": []})
    assert (status, violations(resp)) == (400, {"paymentIds": "REQUIRED_FIELD"})


def test_collector_charge_membership_pays_the_line(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=3)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    path = f"/ecom/v1/payments-collector/orders/{order['id']}/charge-membership"
    charge = {
        "membershipId": sold["pool"]["id"],
        "appId": PRICING_PLANS_APP_ID,
        "lineItemId": order["lineItems"][0]["id"],
        "membershipName": {"original": "10 Swim Pass"},
        "rootCatalogItemId": service["id"],
    }
    status, body = call(sandbox, "POST", path, {"memberId": member["id"], "membershipCharges": [charge]})
    assert (status, body) == (200, {})
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert credits_left(sandbox, sold["pool"]["id"]) == 2
    status, body = call(sandbox, "POST", path, {"memberId": member["id"], "membershipCharges": [{"appId": "a"}]})
    assert status == 400
    assert set(violations(body)) == {"membershipCharges[0].membershipId", "membershipCharges[0].lineItemId"}
