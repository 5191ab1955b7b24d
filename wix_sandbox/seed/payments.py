"""How past bookings were paid: online, cash, card or check at the desk, a plan credit, or never.

Orders are made the supported way (Cart V2: create a cart for the booking, place its order); a plan
credit is taken with Order Billing Charge Memberships on the placed order, and the pending charge
settles on the next read of the order (``Faults.membership_settlement``'s default).
"""

from __future__ import annotations

import random
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID
from wix_sandbox.seed.demo import Api


def pay_past_booking(
    api: Api,
    rng: random.Random,
    booking: dict[str, Any],
    contact: dict[str, Any],
    plan_holders: dict[str, str],
    counts: dict[str, int],
) -> None:
    """Pay a past booking the way it happened: online, cash at the desk, a plan, or never."""
    member_id = plan_holders.get(contact["id"])
    channel = "BACKOFFICE_MERCHANT" if member_id or booking["selectedPaymentOption"] == "OFFLINE" else "WEB"
    order_id = order_for(api, booking, channel, pay=False, contact=contact)
    if member_id and charge_plan(api, order_id, member_id, booking):
        counts["plan"] += 1
        return
    roll = rng.random()
    if roll < 0.85:
        method = (
            rng.choice(["CASH", "CASH", "CASH", "CARD", "CHECK"])
            if booking["selectedPaymentOption"] == "OFFLINE"
            else None
        )
        if method:
            order = api("GET", f"/ecom/v1/orders/{order_id}")["order"]
            amount = order["balanceSummary"]["balance"]["amount"]
            api(
                "POST",
                f"/ecom/v1/payments/orders/{order_id}/add-payment",
                {
                    "payments": [
                        {
                            "amount": {"amount": amount},
                            "status": "APPROVED",
                            "regularPaymentDetails": {
                                "offlinePayment": True,
                                "paymentMethodName": {
                                    "userDefinedName": {"custom": "Card"}
                                    if method == "CARD"
                                    else {"predefined": method}
                                },
                            },
                        }
                    ]
                },
            )
        else:
            pay_online(api, order_id)
        counts["paid"] += 1
    else:
        counts["unpaid"] += 1


def charge_plan(api: Api, order_id: str, member_id: str, booking: dict[str, Any]) -> bool:
    """Pay the order's booking line with one of the member's plan credits; True when the charge went through."""
    entity = booking.get("bookedEntity") or {}
    service_id = (entity.get("slot") or entity.get("schedule") or {})["serviceId"]
    eligible = api(
        "POST",
        "/benefit-programs/v1/pools/eligible-pools",
        {
            "itemReference": {"externalId": service_id, "providerAppId": BOOKINGS_APP_ID, "category": ""},
            "beneficiary": {"memberId": member_id},
            "namespace": "@wix/pricing-plans",
        },
    )["eligibleBenefits"]
    if not eligible:
        return False
    order = api("GET", f"/ecom/v1/orders/{order_id}")["order"]
    api(
        "POST",
        "/ecom/v1/order-billing/charge-memberships",
        {
            "orderId": order_id,
            "memberId": member_id,
            "memberships": [
                {
                    "lineItemId": order["lineItems"][0]["id"],
                    "membershipIdentifier": {
                        "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": eligible[0]["poolId"]}
                    },
                }
            ],
        },
    )
    # Reading the order settles the pending membership payment.
    return api("GET", f"/ecom/v1/orders/{order_id}")["order"]["paymentStatus"] == "PAID"


def order_for(
    api: Api, booking: dict[str, Any], channel: str, *, pay: bool = True, contact: dict[str, Any] | None = None
) -> str:
    """Put a booking in a cart and place its order; ``pay`` settles it (online)."""
    details = booking.get("contactDetails") or {}
    customer = {
        "firstName": details.get("firstName"),
        "lastName": details.get("lastName"),
        "email": details.get("email") or ((contact or {}).get("primaryInfo") or {}).get("email"),
    }
    cart = api(
        "POST",
        "/ecom/v2/carts",
        {
            "cart": {
                "source": {"channelType": channel},
                "customerInfo": {k: v for k, v in customer.items() if v},
            },
            "catalogItems": [
                {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
            ],
        },
    )["cart"]
    order_id = api("POST", f"/ecom/v2/carts/{cart['id']}/place-order", {})["orderId"]
    if pay:
        pay_online(api, order_id)
    return order_id


def pay_online(api: Api, order_id: str) -> None:
    """The customer paid by card on the website: a regular, not offline, payment."""
    order = api("GET", f"/ecom/v1/orders/{order_id}")["order"]
    api(
        "POST",
        f"/ecom/v1/payments/orders/{order_id}/add-payment",
        {
            "payments": [
                {
                    "amount": {"amount": order["balanceSummary"]["balance"]["amount"]},
                    "status": "APPROVED",
                    "regularPaymentDetails": {
                        "offlinePayment": False,
                        "paymentOrderId": order_id,
                        "paymentMethodName": {"buyerLanguageName": "Credit / Debit Card"},
                    },
                }
            ]
        },
    )
