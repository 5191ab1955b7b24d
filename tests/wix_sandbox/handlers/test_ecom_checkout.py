"""eCommerce Checkout V1 and create-order from it (``handlers/ecom_checkout.py``): kept for the app's
off-by-default setting, and as strict as the SDK documents it."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_service
from tests.wix_sandbox.ecom_builders import (
    BILLING,
    BOOKINGS,
    CHECKOUTS,
    ORDERS,
    book_class,
    booked_order,
    booking_line,
    booking_state,
    code,
    create_checkout,
    get_order,
    member_with_plan,
    place_order,
    snapshot,
    violations,
)
from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox

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
    # The buyer is not inferred from the booking's contact (API key): buyerInfo stays empty.
    assert checkout["buyerInfo"] == {}
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


def test_a_line_item_id_sent_by_the_caller_is_ignored(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    checkout = create_checkout(sandbox, booking["id"], lineItems=[booking_line(booking["id"], id="line-1")])
    assert checkout["lineItems"][0]["id"] != "line-1"


def test_selected_membership_naming_a_line_the_checkout_does_not_have_is_rejected(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    before = snapshot(sandbox)
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
    assert (status, violations(body)) == (
        400,
        {"checkoutInfo.membershipOptions.selectedMemberships.memberships[0].lineItemIds[0]": "VALIDATION"},
    )
    assert snapshot(sandbox) == before
    checkout = create_checkout(sandbox, booking["id"])
    selection = {"memberships": [{"id": "pool-x", "appId": PRICING_PLANS_APP_ID, "lineItemIds": ["line-1"]}]}
    status, body = call(
        sandbox,
        "PATCH",
        f"{CHECKOUTS}/{checkout['id']}",
        {"checkout": {"membershipOptions": {"selectedMemberships": selection}}},
    )
    assert (status, violations(body)) == (
        400,
        {"checkout.membershipOptions.selectedMemberships.memberships[0].lineItemIds[0]": "VALIDATION"},
    )


def test_a_plan_member_gets_no_eligible_memberships_and_a_selected_one_blocks_the_order(sandbox: Sandbox) -> None:
    # eligibleMemberships is internal and the buyer isn't inferred with an API key: even a member
    # holding a plan that covers the class is offered nothing, and choosing the plan anyway fails.
    service = make_service(sandbox, price="12")
    contact, _, sold = member_with_plan(sandbox, service, credits_left=5)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    checkout = create_checkout(sandbox, booking["id"])
    assert checkout["buyerInfo"] == {}
    assert checkout["membershipOptions"]["eligibleMemberships"] == []
    line_id = checkout["lineItems"][0]["id"]
    selection = {"memberships": [{"id": sold["pool"]["id"], "appId": PRICING_PLANS_APP_ID, "lineItemIds": [line_id]}]}
    status, body = call(
        sandbox,
        "PATCH",
        f"{CHECKOUTS}/{checkout['id']}",
        {"checkout": {"membershipOptions": {"selectedMemberships": selection}}},
    )
    assert status == 200
    options = body["checkout"]["membershipOptions"]
    assert options["invalidMemberships"][0]["membership"]["id"] == sold["pool"]["id"]
    assert body["checkout"]["lineItems"][0]["paymentOption"] == "MEMBERSHIP"
    assert body["checkout"]["lineItems"][0]["price"]["amount"] == "12"
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, code(body)) == (428, "VIOLATIONS_WITH_ERROR_SEVERITY")
    assert snapshot(sandbox) == before


# -- checkout: get, update, url, completed ---------------------------------------------------


def test_get_checkout_returns_it_and_unknown_is_404(sandbox: Sandbox) -> None:
    checkout = create_checkout(sandbox, book_class(sandbox)["id"])
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/{checkout['id']}")
    assert (status, body["checkout"]) == (200, checkout)
    status, body = call(sandbox, "GET", f"{CHECKOUTS}/nope")
    assert (status, code(body)) == (404, "CHECKOUT_NOT_FOUND")


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
    assert (status, code(body)) == (409, "CHECKOUT_ALREADY_PAID")
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
    assert (status, code(body)) == (409, "CHECKOUT_ALREADY_PAID")
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
    assert order["buyerInfo"] == {}
    assert order["billingInfo"] == BILLING
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
    assert (status, code(body)) == (409, "CHECKOUT_ALREADY_PAID")
    assert body["details"]["applicationError"]["data"] == {"checkoutId": checkout["id"]}
    assert snapshot(sandbox) == before


@pytest.mark.parametrize(
    "billing", [None, {}, {"address": {}}, {"address": {"city": "Windermere"}}, {"contactDetails": {"firstName": "Jo"}}]
)
def test_create_order_of_a_checkout_to_pay_needs_a_billing_country(sandbox: Sandbox, billing: dict | None) -> None:
    info = {} if billing is None else {"billingInfo": billing}
    checkout = create_checkout(sandbox, book_class(sandbox)["id"], billing=False, checkoutInfo=info)
    before = snapshot(sandbox)
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert (status, violations(body)) == (400, {"billingInfo.address.country": "REQUIRED_FIELD"})
    assert snapshot(sandbox) == before


def test_create_order_of_a_free_checkout_needs_no_billing_address(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="MEMBERSHIP_OFFLINE")
    checkout = create_checkout(sandbox, booking["id"], billing=False)
    status, body = call(sandbox, "POST", f"{CHECKOUTS}/{checkout['id']}/create-order", {})
    assert status == 200, body


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
