"""How past bookings were paid: online, cash, card or check at the desk, a plan credit, or never."""

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
    checkout = api(
        "POST",
        "/ecom/v1/checkouts",
        {
            "channelType": "BACKOFFICE_MERCHANT"
            if member_id or booking["selectedPaymentOption"] == "OFFLINE"
            else "WEB",
            "lineItems": [
                {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
            ],
        },
    )["checkout"]
    line_id = checkout["lineItems"][0]["id"]
    eligible = (checkout.get("membershipOptions") or {}).get("eligibleMemberships") or []
    if member_id and eligible:
        api(
            "PATCH",
            f"/ecom/v1/checkouts/{checkout['id']}",
            {
                "checkout": {
                    "id": checkout["id"],
                    "membershipOptions": {
                        "selectedMemberships": {
                            "memberships": [
                                {"id": eligible[0]["id"], "appId": PRICING_PLANS_APP_ID, "lineItemIds": [line_id]}
                            ]
                        }
                    },
                }
            },
        )
        api("POST", f"/ecom/v1/checkouts/{checkout['id']}/create-order", {})
        counts["plan"] += 1
        return
    order_id = api("POST", f"/ecom/v1/checkouts/{checkout['id']}/create-order", {})["orderId"]
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


def order_for(api: Api, booking: dict[str, Any], channel: str, *, pay: bool = True) -> str:
    """Check a booking out into an eCommerce order; ``pay`` settles it (online)."""
    checkout = api(
        "POST",
        "/ecom/v1/checkouts",
        {
            "channelType": channel,
            "lineItems": [
                {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
            ],
        },
    )["checkout"]
    order_id = api("POST", f"/ecom/v1/checkouts/{checkout['id']}/create-order", {})["orderId"]
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
