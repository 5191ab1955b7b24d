"""Builders for eCommerce flows and checks of their answers: a booked class, its cart (or Checkout V1
checkout) and order, payments, a member with a plan.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from tests.wix_sandbox.builders import call, make_contact, make_event, make_member, make_service
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox
from wix_sandbox.state import COLLECTIONS

CHECKOUTS = "/ecom/v1/checkouts"
CARTS = "/ecom/v2/carts"
ORDERS = "/ecom/v1/orders"
CHARGE_MEMBERSHIPS = "/ecom/v1/order-billing/charge-memberships"
REFUND_PAYMENTS = "/ecom/v1/order-billing/refund-payments"
# What Checkout V1's create-order needs when the total is above 0.
BILLING = {"address": {"country": "GB", "city": "Windermere", "postalCode": "LA23 1AA", "addressLine1": "1 Lake Road"}}
BOOKINGS = "/_api/bookings-service/v2/bookings"
SESSION_START = datetime(2026, 11, 25, 7, 0)


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


def create_checkout(
    sb: Sandbox, *booking_ids: str, channel: str = "BACKOFFICE_MERCHANT", billing: bool = True, **extra: Any
) -> dict:
    """A Checkout V1 checkout of the bookings; ``billing`` gives it the billing address create-order needs."""
    if billing:
        extra["checkoutInfo"] = {"billingInfo": BILLING, **extra.get("checkoutInfo", {})}
    status, body = call(
        sb, "POST", CHECKOUTS, {"channelType": channel, "lineItems": [booking_line(b) for b in booking_ids], **extra}
    )
    assert status == 200, body
    return body["checkout"]


def place_order(sb: Sandbox, checkout_id: str) -> dict[str, Any]:
    """Checkout V1 create-order; returns the order."""
    status, body = call(sb, "POST", f"{CHECKOUTS}/{checkout_id}/create-order", {})
    assert status == 200, body
    return get_order(sb, body["orderId"])


def cart_body(
    *booking_ids: str, channel: str = "BACKOFFICE_MERCHANT", customer: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A CreateCartRequest for the bookings, the way the app sends it."""
    cart: dict[str, Any] = {"source": {"channelType": channel}}
    if customer is None:
        customer = {"firstName": "Jo", "lastName": "Swimmer", "email": "jo.swimmer@example.com"}
    if customer:
        cart["customerInfo"] = customer
    return {"cart": cart, "catalogItems": [booking_line(b) for b in booking_ids]}


def create_cart(sb: Sandbox, *booking_ids: str, **kwargs: Any) -> dict[str, Any]:
    status, body = call(sb, "POST", CARTS, cart_body(*booking_ids, **kwargs))
    assert status == 200, body
    return body["cart"]


def place_cart(sb: Sandbox, cart_id: str) -> dict[str, Any]:
    """Cart V2 place-order; returns the order."""
    status, body = call(sb, "POST", f"{CARTS}/{cart_id}/place-order", {})
    assert status == 200, body
    return get_order(sb, body["orderId"])


def cart_order(sb: Sandbox, *booking_ids: str, **kwargs: Any) -> dict[str, Any]:
    """The bookings sold through a Cart V2 cart: the placed order."""
    return place_cart(sb, create_cart(sb, *booking_ids, **kwargs)["id"])


def get_order(sb: Sandbox, order_id: str) -> dict[str, Any]:
    status, body = call(sb, "GET", f"{ORDERS}/{order_id}")
    assert status == 200, body
    return body["order"]


def booked_order(sb: Sandbox, *, price: str = "12", option: str = "OFFLINE") -> tuple[dict, dict]:
    """A class booking sold through a back-office cart: (booking, order)."""
    booking = book_class(sb, price=price, option=option)
    return booking, cart_order(sb, booking["id"])


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


def membership_order(
    sb: Sandbox, *, credits: int | None = 5, price: str = "12"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A member with a plan, their class booking paid by membership, its back-office order (not yet
    charged): (booking, order, member, sold plan)."""
    service = make_service(sb, price=price)
    contact, member, sold = member_with_plan(sb, service, credits_left=credits)
    booking = book_class(sb, option="MEMBERSHIP", service=service, contact=contact)
    return booking, cart_order(sb, booking["id"]), member, sold


def charge(sb: Sandbox, order: dict[str, Any], member_id: str, pool_id: str) -> tuple[int, dict]:
    return call(sb, "POST", CHARGE_MEMBERSHIPS, charge_body(order, member_id, pool_id))


def refund(sb: Sandbox, order_id: str, *payment_refunds: dict[str, Any], **extra: Any) -> tuple[int, dict]:
    return call(sb, "POST", REFUND_PAYMENTS, {"orderId": order_id, "paymentRefunds": list(payment_refunds), **extra})


def charge_body(order: dict[str, Any], member_id: str, pool_id: str) -> dict[str, Any]:
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
