"""eCommerce Cart V2: create a cart, read it, place its order (``handlers/ecom_cart.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_member, make_service
from tests.wix_sandbox.ecom_builders import (
    BOOKINGS,
    CARTS,
    book_class,
    booking_line,
    booking_state,
    cart_body,
    cart_order,
    code,
    create_cart,
    get_order,
    place_cart,
    snapshot,
    violations,
)
from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox


def post_cart(sb: Sandbox, body: dict[str, Any]) -> tuple[int, dict]:
    return call(sb, "POST", CARTS, body)


def place(sb: Sandbox, cart_id: str, body: dict[str, Any] | None = None) -> tuple[int, dict]:
    return call(sb, "POST", f"{CARTS}/{cart_id}/place-order", body or {})


# -- create cart ---------------------------------------------------------------------------------------


def test_create_cart_sells_the_booking_at_its_price(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, price="12.50", participants=2)
    status, body = post_cart(
        sandbox,
        cart_body(booking["id"], customer={"firstName": "Jo", "lastName": "Swimmer", "email": "jo@example.com"}),
    )
    assert status == 200
    cart = body["cart"]
    [line] = cart["lineItems"]
    assert line["source"] == {
        "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID},
        "rootCatalogItemId": booking["bookedEntity"]["slot"]["serviceId"],
    }
    assert line["name"] == {"original": "Open Water Swim", "translated": "Open Water Swim"}
    assert line["pricing"]["unitPrice"] == {"amount": "25", "convertedAmount": "25"}
    assert line["pricing"]["totalPrice"]["amount"] == "25"
    assert line["quantityInfo"]["confirmedQuantity"] == 1
    assert line["paymentConfig"]["paymentOption"] == "FULL_PAYMENT_OFFLINE"
    assert line["attributes"]["itemType"] == {"preset": "SERVICE"}
    assert line["attributes"]["serviceProperties"] == {
        "scheduledDate": booking["startDate"],
        "numberOfParticipants": 2,
    }
    assert line["status"] == "IN_STOCK"
    assert cart["subtotal"] == {"amount": "25", "convertedAmount": "25"}
    assert cart["source"]["channelType"] == "BACKOFFICE_MERCHANT"
    assert cart["customerInfo"] == {
        "firstName": "Jo",
        "lastName": "Swimmer",
        "email": "jo@example.com",
        "openAccess": True,
        "languageCode": "en",
        "currencyCode": "GBP",
    }
    assert (cart["orderPlaced"], cart["orderId"], cart["revision"]) == (False, None, "1")
    assert cart["id"] and cart["purchaseFlowId"] and cart["createdDate"] == "2026-11-21T09:00:00.000Z"
    assert booking_state(sandbox, booking["id"])["status"] == "CREATED"  # nothing happens until the order


@pytest.mark.parametrize(
    ("selected", "option", "unit"),
    [
        ("OFFLINE", "FULL_PAYMENT_OFFLINE", "12"),
        ("ONLINE", "FULL_PAYMENT_ONLINE", "12"),
        ("MEMBERSHIP", "MEMBERSHIP", "12"),  # full price until a membership is charged
        ("MEMBERSHIP_OFFLINE", "MEMBERSHIP_OFFLINE", "0"),
    ],
)
def test_line_payment_option_follows_the_bookings_selected_payment_option(
    sandbox: Sandbox, selected: str, option: str, unit: str
) -> None:
    cart = create_cart(sandbox, book_class(sandbox, option=selected)["id"])
    line = cart["lineItems"][0]
    assert (line["paymentConfig"]["paymentOption"], line["pricing"]["unitPrice"]["amount"]) == (option, unit)


@pytest.mark.parametrize(
    "path",
    [
        "id",
        "revision",
        "lineItems",
        "orderId",
        "orderPlaced",
        "purchaseFlowId",
        "subtotal",
        "customerInfo.memberId",
        "customerInfo.contactId",
        "customerInfo.visitorId",
        "customerInfo.userId",
        "source.createdBy",
        "businessInfo.currencyCode",
    ],
)
def test_create_cart_refuses_read_only_fields_naming_them(sandbox: Sandbox, path: str) -> None:
    body = cart_body(book_class(sandbox)["id"])
    node = body["cart"]
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = "00000000-0000-4000-8000-000000000001"
    before = snapshot(sandbox)
    status, answer = post_cart(sandbox, body)
    assert (status, violations(answer)) == (400, {f"cart.{path}": "FIELD_NOT_ALLOWED"})
    assert snapshot(sandbox) == before


def test_create_cart_refuses_a_line_item_id(sandbox: Sandbox) -> None:
    body = cart_body(book_class(sandbox)["id"])
    body["catalogItems"][0]["id"] = "line-1"
    status, answer = post_cart(sandbox, body)
    assert (status, violations(answer)) == (400, {"catalogItems[0].id": "FIELD_NOT_ALLOWED"})


def test_create_cart_validates_catalog_items(sandbox: Sandbox) -> None:
    booking_id = book_class(sandbox)["id"]
    cart = {"source": {"channelType": "BACKOFFICE_MERCHANT"}}
    status, body = post_cart(sandbox, {"cart": cart})
    assert (status, violations(body)) == (400, {"catalogItems": "REQUIRED_FIELD"})
    status, body = post_cart(sandbox, {"cart": cart, "catalogItems": []})
    assert (status, violations(body)) == (400, {"catalogItems": "REQUIRED_FIELD"})
    status, body = post_cart(sandbox, {"cart": cart, "catalogItems": [booking_line(booking_id)] * 301})
    assert (status, violations(body)) == (400, {"catalogItems": "MAX_SIZE"})
    status, body = post_cart(
        sandbox,
        {
            "cart": cart,
            "catalogItems": [
                {"quantity": 1},
                {"catalogReference": {"catalogItemId": booking_id, "appId": BOOKINGS_APP_ID}},
                {"catalogReference": {"catalogItemId": booking_id}, "quantity": 0},
            ],
        },
    )
    assert (status, violations(body)) == (
        400,
        {
            "catalogItems[0].catalogReference": "REQUIRED_FIELD",
            "catalogItems[1].quantity": "REQUIRED_FIELD",
            "catalogItems[2].catalogReference.appId": "REQUIRED_FIELD",
            "catalogItems[2].quantity": "MIN",
        },
    )


@pytest.mark.parametrize(
    ("channel", "rule"),
    [(None, "REQUIRED_FIELD"), ("UNSPECIFIED", "INVALID_ENUM_VALUE"), ("SHOP", "INVALID_ENUM_VALUE")],
)
def test_create_cart_needs_a_supported_channel(sandbox: Sandbox, channel: str | None, rule: str) -> None:
    body = cart_body(book_class(sandbox)["id"])
    body["cart"]["source"] = {"channelType": channel} if channel else {}
    status, answer = post_cart(sandbox, body)
    assert (status, violations(answer)) == (400, {"cart.source.channelType": rule})


def test_create_cart_checks_the_customers_email_and_phone(sandbox: Sandbox) -> None:
    body = cart_body(
        book_class(sandbox)["id"], customer={"email": "not-an-email", "phone": "call me", "firstName": "J" * 101}
    )
    status, answer = post_cart(sandbox, body)
    assert (status, violations(answer)) == (
        400,
        {
            "cart.customerInfo.email": "FORMAT",
            "cart.customerInfo.phone": "FORMAT",
            "cart.customerInfo.firstName": "MAX_LENGTH",
        },
    )


def test_unknown_booking_or_other_catalog_is_item_not_found_in_catalog(sandbox: Sandbox) -> None:
    booking_id = book_class(sandbox)["id"]
    body = cart_body(booking_id, "00000000-0000-4000-8000-000000000000")
    body["catalogItems"].append(
        {"quantity": 1, "catalogReference": {"catalogItemId": "p1", "appId": "215238eb-22a5-4c36-9e7b-e7c08025e04e"}}
    )
    before = snapshot(sandbox)
    status, answer = post_cart(sandbox, body)
    assert (status, code(answer)) == (404, "ITEM_NOT_FOUND_IN_CATALOG")
    assert answer["details"]["applicationError"]["data"]["invalidItems"] == [
        {"catalogReference": {"catalogItemId": "00000000-0000-4000-8000-000000000000", "appId": BOOKINGS_APP_ID}},
        {"catalogReference": {"catalogItemId": "p1", "appId": "215238eb-22a5-4c36-9e7b-e7c08025e04e"}},
    ]
    assert snapshot(sandbox) == before


def test_a_booking_is_sold_one_at_a_time(sandbox: Sandbox) -> None:
    body = cart_body(book_class(sandbox)["id"])
    body["catalogItems"][0]["quantity"] = 2
    status, answer = post_cart(sandbox, body)
    assert (status, code(answer)) == (400, "FIXED_QUANTITY_ITEM")


def test_a_booking_that_already_has_an_order_cannot_be_put_in_a_cart(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    order = cart_order(sandbox, booking["id"])
    before = snapshot(sandbox)
    status, answer = post_cart(sandbox, cart_body(booking["id"]))
    assert (status, code(answer)) == (428, "INSUFFICIENT_INVENTORY")
    [item] = answer["details"]["applicationError"]["data"]["invalidItems"]
    assert item["id"]["catalogReference"]["catalogItemId"] == booking["id"]
    assert (item["requestedQuantity"], item["availableQuantity"]) == (1, 0)
    assert snapshot(sandbox) == before
    # Once that order is canceled, the booking can be sold again.
    assert call(sandbox, "POST", f"/ecom/v1/orders/{order['id']}/cancel", {})[0] == 200
    assert post_cart(sandbox, cart_body(booking["id"]))[0] == 200


def test_a_canceled_booking_or_one_named_twice_cannot_be_put_in_a_cart(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    status, answer = post_cart(sandbox, cart_body(booking["id"], booking["id"]))
    assert (status, code(answer)) == (428, "INSUFFICIENT_INVENTORY")
    assert call(sandbox, "POST", f"{BOOKINGS}/{booking['id']}/cancel", {"revision": booking["revision"]})[0] == 200
    status, answer = post_cart(sandbox, cart_body(booking["id"]))
    assert (status, code(answer)) == (428, "INSUFFICIENT_INVENTORY")


@pytest.mark.parametrize("key", ["membershipPayment", "selectedMembership"])
def test_a_cart_cannot_be_paid_with_a_membership(sandbox: Sandbox, key: str) -> None:
    body = cart_body(book_class(sandbox, option="MEMBERSHIP")["id"])
    body["catalogItems"][0][key] = (
        {"existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": "pool-1"}}
        if key == "membershipPayment"
        else {"id": "pool-1", "appId": PRICING_PLANS_APP_ID}
    )
    status, answer = post_cart(sandbox, body)
    assert (status, code(answer)) == (400, "INVALID_MEMBERSHIP_PAYMENT_OPTION")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"coupons": [{"code": "SUMMER"}]}, (400, "INVALID_COUPON_CODE")),
        ({"giftCards": [{"code": "GIFT-12345678"}]}, (400, "INVALID_GIFT_CARD_CODE")),
        ({"deliveryMethod": {"code": "post"}}, (404, "DELIVERY_METHOD_NOT_FOUND")),
        ({"customItems": [{"name": {"original": "Towel"}}]}, (400, "INVALID_ARGUMENT")),
    ],
)
def test_create_cart_refuses_what_the_sandbox_does_not_sell(
    sandbox: Sandbox, extra: dict[str, Any], expected: tuple[int, str]
) -> None:
    body = {**cart_body(book_class(sandbox)["id"]), **extra}
    status, answer = post_cart(sandbox, body)
    assert (status, code(answer) if "applicationError" in answer["details"] else "INVALID_ARGUMENT") == expected


def test_get_cart_returns_it_and_unknown_is_404(sandbox: Sandbox) -> None:
    cart = create_cart(sandbox, book_class(sandbox)["id"])
    status, body = call(sandbox, "GET", f"{CARTS}/{cart['id']}")
    assert (status, body) == (200, {"cart": cart})
    status, body = call(sandbox, "GET", f"{CARTS}/00000000-0000-4000-8000-000000000000")
    assert (status, code(body)) == (404, "NOT_FOUND")


# -- place order ------------------------------------------------------------------------------------------


def test_back_office_cart_becomes_an_approved_unpaid_order_and_confirms_the_booking(sandbox: Sandbox) -> None:
    contact = make_contact(sandbox, "Sam", "Lane")
    make_member(sandbox, contact)
    booking = book_class(sandbox, contact=contact, price="15")
    cart = create_cart(
        sandbox, booking["id"], customer={"firstName": "Sam", "lastName": "Lane", "email": "SAM.LANE@example.com"}
    )

    status, placed = place(sandbox, cart["id"])

    assert status == 200
    # UNCONFIRMED `completed`: an offline order with nothing paid yet is not "completed".
    assert placed == {"orderId": placed["orderId"], "completed": False}
    order = get_order(sandbox, placed["orderId"])
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "NOT_PAID")
    assert order["channelInfo"] == {"type": "BACKOFFICE_MERCHANT"}
    # The buyer is the contact found by the cart's email — never a member inferred from it.
    assert order["buyerInfo"] == {"contactId": contact["id"], "email": "SAM.LANE@example.com"}
    assert (order["checkoutId"], order["purchaseFlowId"]) == (cart["id"], cart["purchaseFlowId"])
    [line] = order["lineItems"]
    assert line["id"] != cart["lineItems"][0]["id"]
    assert line["catalogReference"] == {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}
    assert (line["price"]["amount"], line["totalPriceAfterTax"]["amount"], line["quantity"]) == ("15", "15", 1)
    assert (line["paymentOption"], line["itemType"]) == ("FULL_PAYMENT_OFFLINE", {"preset": "SERVICE"})
    assert line["rootCatalogItemId"] == booking["bookedEntity"]["slot"]["serviceId"]
    assert order["balanceSummary"]["balance"]["amount"] == "15"
    stored = booking_state(sandbox, booking["id"])
    assert (stored["status"], stored["paymentStatus"]) == ("CONFIRMED", "NOT_PAID")
    status, body = call(sandbox, "GET", f"{CARTS}/{cart['id']}")
    assert (body["cart"]["orderPlaced"], body["cart"]["orderId"]) == (True, order["id"])
    assert body["cart"]["customerInfo"]["contactId"] == contact["id"]
    assert body["cart"]["revision"] == "2"


def test_placing_a_cart_twice_is_cart_already_ordered_with_the_order_id(sandbox: Sandbox) -> None:
    cart = create_cart(sandbox, book_class(sandbox)["id"])
    order = place_cart(sandbox, cart["id"])
    before = snapshot(sandbox)
    status, body = place(sandbox, cart["id"])
    assert (status, code(body)) == (409, "CART_ALREADY_ORDERED")
    assert body["details"]["applicationError"]["data"] == {"cartId": cart["id"], "orderId": order["id"]}
    assert snapshot(sandbox) == before


def test_a_customer_the_site_does_not_know_becomes_a_new_contact(sandbox: Sandbox) -> None:
    booking = book_class(sandbox)
    contacts = sandbox.state.count("contacts")
    order = cart_order(
        sandbox,
        booking["id"],
        customer={"firstName": "New", "lastName": "Swimmer", "email": "new@example.com", "phone": "+44 7700 900123"},
    )
    assert sandbox.state.count("contacts") == contacts + 1
    contact = sandbox.state.get("contacts", order["buyerInfo"]["contactId"])
    assert contact["info"]["name"] == {"first": "New", "last": "Swimmer"}
    assert (contact["primaryInfo"]["email"], contact["primaryInfo"]["phone"]) == ("new@example.com", "+44 7700 900123")
    # The same phone, without an email, finds that contact again.
    again = cart_order(sandbox, book_class(sandbox)["id"], customer={"phone": "+447700900123"})
    assert again["buyerInfo"]["contactId"] == contact["id"]


def test_a_cart_naming_no_customer_gives_an_order_without_a_buyer(sandbox: Sandbox) -> None:
    order = cart_order(sandbox, book_class(sandbox)["id"], customer={})
    assert order["buyerInfo"] == {}


def test_web_cart_with_money_due_online_waits_for_payment(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="ONLINE")
    cart = create_cart(sandbox, booking["id"], channel="WEB")
    status, placed = place(sandbox, cart["id"])
    assert status == 200
    assert placed["completed"] is False and placed["paymentGatewayOrderId"]
    order = get_order(sandbox, placed["orderId"])
    assert (order["status"], order["paymentStatus"]) == ("INITIALIZED", "NOT_PAID")


def test_web_cart_paid_in_person_is_approved_at_once(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="OFFLINE")
    status, placed = place(sandbox, create_cart(sandbox, booking["id"], channel="WEB")["id"])
    assert "paymentGatewayOrderId" not in placed
    assert get_order(sandbox, placed["orderId"])["status"] == "APPROVED"
    assert booking_state(sandbox, booking["id"])["status"] == "CONFIRMED"


def test_online_booking_through_the_back_office_gets_no_payment_gateway_order(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="ONLINE")
    status, placed = place(sandbox, create_cart(sandbox, booking["id"])["id"])
    assert "paymentGatewayOrderId" not in placed
    assert get_order(sandbox, placed["orderId"])["status"] == "APPROVED"


def test_a_membership_line_stays_unpaid_at_full_price_until_charged(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="MEMBERSHIP")
    order = cart_order(sandbox, booking["id"])
    assert (order["lineItems"][0]["paymentOption"], order["priceSummary"]["total"]["amount"]) == ("MEMBERSHIP", "12")
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "NOT_PAID")


def test_zero_total_cart_is_paid_and_completed_at_once(sandbox: Sandbox) -> None:
    booking = book_class(sandbox, option="MEMBERSHIP_OFFLINE")
    status, placed = place(sandbox, create_cart(sandbox, booking["id"])["id"])
    assert placed["completed"] is True
    assert get_order(sandbox, placed["orderId"])["paymentStatus"] == "PAID"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PAID"


def test_a_booking_sold_or_canceled_since_the_cart_was_made_is_out_of_stock(sandbox: Sandbox) -> None:
    sold, canceled = book_class(sandbox), book_class(sandbox)
    cart = create_cart(sandbox, sold["id"], canceled["id"])
    cart_order(sandbox, sold["id"])  # another cart got there first
    assert call(sandbox, "POST", f"{BOOKINGS}/{canceled['id']}/cancel", {"revision": canceled["revision"]})[0] == 200
    before = snapshot(sandbox)
    status, body = place(sandbox, cart["id"])
    assert (status, code(body)) == (428, "LINE_ITEMS_OUT_OF_STOCK")
    assert body["details"]["applicationError"]["data"] == {
        "lineItemIds": [line["id"] for line in cart["lineItems"]],
        "allLineItemsOutOfStock": True,
    }
    assert snapshot(sandbox) == before


def test_a_price_changed_since_the_cart_was_made_is_out_of_sync(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    cart = create_cart(sandbox, book_class(sandbox, service=service)["id"])
    with sandbox.state.transaction():
        changed = sandbox.state.edit("services", service["id"])
        changed["payment"]["fixed"]["price"]["value"] = "14"
        sandbox.state.put("services", changed)
    status, body = place(sandbox, cart["id"])
    assert (status, code(body)) == (428, "CART_PRICES_OUT_OF_SYNC")


def test_place_order_refusals(sandbox: Sandbox) -> None:
    cart = create_cart(sandbox, book_class(sandbox)["id"])
    status, body = place(sandbox, cart["id"], {"priceVerificationToken": "made-up"})
    assert (status, code(body)) == (400, "INVALID_PRICE_VERIFICATION_TOKEN")
    status, body = place(sandbox, cart["id"], {"savePaymentMethod": "yes"})
    assert (status, violations(body)) == (400, {"savePaymentMethod": "VALIDATION"})
    status, body = place(sandbox, "00000000-0000-4000-8000-000000000000")
    assert (status, code(body)) == (404, "NOT_FOUND")
    demo = cart_body(book_class(sandbox)["id"])
    demo["cart"]["demo"] = True
    status, body = place(sandbox, post_cart(sandbox, demo)[1]["cart"]["id"])
    assert (status, code(body)) == (428, "PLACE_ORDER_NOT_ALLOWED_FOR_DEMO_CART")
    assert sandbox.state.count("orders") == 0


def test_placing_an_empty_cart_is_empty_cart(sandbox: Sandbox) -> None:
    # Create Cart refuses a cart of no items, so the sandbox can only hold one written directly.
    cart = create_cart(sandbox, book_class(sandbox)["id"])
    with sandbox.state.transaction():
        empty = sandbox.state.edit("carts", cart["id"])
        empty["lineItems"] = []
        sandbox.state.put("carts", empty)
    status, body = place(sandbox, cart["id"])
    assert (status, code(body)) == (428, "EMPTY_CART")


def test_order_numbers_count_up(sandbox: Sandbox) -> None:
    first = cart_order(sandbox, book_class(sandbox)["id"])
    second = cart_order(sandbox, book_class(sandbox)["id"])
    assert (first["number"], second["number"]) == ("10001", "10002")


def test_a_cart_id_that_is_not_a_guid_is_invalid_input_not_an_unknown_cart(sandbox: Sandbox) -> None:
    # GetCartRequest.cartId and PlaceOrderRequest.cartId are @format GUID: a malformed id is a 400,
    # which tells it apart from an unknown cart (404) and from a path Wix does not route (404).
    for method, path in (("GET", "/ecom/v2/carts/not-a-guid"), ("POST", "/ecom/v2/carts/not-a-guid/place-order")):
        status, body = call(sandbox, method, path, {} if method == "POST" else None)
        assert status == 400, body
        assert body["details"]["validationError"]["fieldViolations"][0]["field"] == "cartId"
