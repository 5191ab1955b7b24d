"""Plan credits for eCommerce (``rules/plan_credits.py``): offered, charged and voided, called directly
and through Order Billing (Charge Memberships, Refund Payments) on a Cart V2 order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_member, make_service
from tests.wix_sandbox.ecom_builders import (
    booking_state,
    charge,
    code,
    credits_left,
    get_order,
    membership_order,
    refund,
    snapshot,
    transactions,
)
from tests.wix_sandbox.plan_builders import available, count, make_plan, sell_plan
from wix_sandbox import PRICING_PLANS_APP_ID, Sandbox, SandboxError
from wix_sandbox.handlers.ecom_orders import settle_membership_payments
from wix_sandbox.rules import plan_credits

# -- called directly -----------------------------------------------------------------------------------


def test_eligible_memberships_are_checkout_membership_objects(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=4)

    memberships = plan_credits.eligible_memberships(
        sandbox, member_id=desk["member"]["id"], service_id=desk["service"]["id"], line_item_ids=["li-1"]
    )

    assert memberships == [
        {
            "id": sold["pool"]["id"],
            "appId": PRICING_PLANS_APP_ID,
            "name": {"original": "10 Swim Pass"},
            "lineItemIds": ["li-1"],
            "credits": {"total": 10, "remaining": 4},
            "expirationDate": "2027-02-21T09:00:00.000Z",
        }
    ]


def test_eligible_memberships_of_an_unlimited_plan_have_no_credits(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    unlimited = make_plan(sandbox, "Unlimited Swims", None, [desk["service"]["id"]], "120")
    sell_plan(sandbox, desk["member"], unlimited)

    (membership,) = plan_credits.eligible_memberships(
        sandbox, member_id=desk["member"]["id"], service_id=desk["service"]["id"], line_item_ids=["li-1"]
    )

    assert "credits" not in membership


def test_eligible_memberships_leave_out_empty_uncovered_and_other_members_pools(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)
    sell_plan(sandbox, other, desk["plan"])

    def memberships(member_id: str, service_id: str) -> list[dict[str, Any]]:
        return plan_credits.eligible_memberships(sandbox, member_id=member_id, service_id=service_id, line_item_ids=[])

    assert memberships(desk["member"]["id"], desk["service"]["id"]) == []
    assert memberships(other["id"], massage["id"]) == []
    assert len(memberships(other["id"], desk["service"]["id"])) == 1


def test_a_member_whose_plan_order_ended_has_no_eligible_memberships(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])
    sandbox_clock[0] = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

    memberships = plan_credits.eligible_memberships(
        sandbox, member_id=desk["member"]["id"], service_id=desk["service"]["id"], line_item_ids=["li-1"]
    )

    assert memberships == []
    assert sandbox.state.get("plan_orders", sold["order"]["id"])["status"] == "ENDED"


def test_charge_membership_takes_one_credit_once_per_reference(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    args = {"member_id": desk["member"]["id"], "membership_id": pool["id"], "service_id": desk["service"]["id"]}

    with sandbox.state.transaction():
        first = plan_credits.charge_membership(sandbox, reference="line-1", **args)
        again = plan_credits.charge_membership(sandbox, reference="line-1", **args)
        other = plan_credits.charge_membership(sandbox, reference="line-2", **args)

    assert first == again != other
    assert available(sandbox, pool["id"]) == "8"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("empty", (428, "NOT_ENOUGH_BALANCE")),
        ("unknown", (404, "POOL_NOT_FOUND")),
        ("uncovered", (428, "POLICY_EXPRESSION_EVALUATED_TO_FALSE")),
        ("other_member", (428, "POLICY_EXPRESSION_EVALUATED_TO_FALSE")),
        ("not_started", (428, "POOL_NOT_ACTIVE")),
    ],
)
def test_charge_membership_refusals_change_nothing(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any], case: str, expected: tuple[int, str]
) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    start = sandbox_clock[0] + timedelta(days=2) if case == "not_started" else None
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0 if case == "empty" else None, start=start)[
        "pool"
    ]
    before = available(sandbox, pool["id"])
    args = {
        "member_id": other["id"] if case == "other_member" else desk["member"]["id"],
        "membership_id": "nope" if case == "unknown" else pool["id"],
        "service_id": massage["id"] if case == "uncovered" else desk["service"]["id"],
        "reference": "line-1",
    }

    with pytest.raises(SandboxError) as excinfo, sandbox.state.transaction():
        plan_credits.charge_membership(sandbox, **args)

    assert (excinfo.value.status, excinfo.value.code) == expected
    assert available(sandbox, pool["id"]) == before
    assert count(sandbox, "benefit_transactions") == 0


def test_void_membership_charge_gives_the_credit_back_once(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    args = {"member_id": desk["member"]["id"], "membership_id": pool["id"], "service_id": desk["service"]["id"]}
    with sandbox.state.transaction():
        charge = plan_credits.charge_membership(sandbox, reference="line-1", **args)

    with sandbox.state.transaction():
        plan_credits.void_membership_charge(sandbox, transaction_id=charge)
        plan_credits.void_membership_charge(sandbox, transaction_id=charge)

    assert available(sandbox, pool["id"]) == "10"
    with sandbox.state.transaction():
        recharge = plan_credits.charge_membership(sandbox, reference="line-1", **args)
    assert recharge != charge
    assert available(sandbox, pool["id"]) == "9"


def test_void_of_an_unknown_charge_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError) as excinfo:
        plan_credits.void_membership_charge(sandbox, transaction_id="nope")

    assert (excinfo.value.status, excinfo.value.code) == (404, "TRANSACTION_NOT_FOUND")


# -- through eCommerce: a placed order charged to a plan, and the charge refunded ------------------------


def test_plan_member_pays_a_class_with_a_credit_charged_to_the_placed_order(sandbox: Sandbox) -> None:
    booking, order, member, sold = membership_order(sandbox, credits=5)
    pool_id = sold["pool"]["id"]
    line = order["lineItems"][0]
    # A MEMBERSHIP line keeps its full price until a membership pays it.
    assert (line["paymentOption"], line["price"]["amount"]) == ("MEMBERSHIP", "12")
    assert (order["status"], order["paymentStatus"]) == ("APPROVED", "NOT_PAID")

    status, body = charge(sandbox, order, member["id"], pool_id)
    assert status == 200
    [pending] = body["payments"]
    assert pending["status"] == "PENDING"
    assert credits_left(sandbox, pool_id) == 5  # nothing moves until the charge settles

    [payment] = transactions(sandbox, order["id"])["payments"]  # the next call on the order settles it
    assert (payment["id"], payment["status"]) == (pending["id"], "APPROVED")
    assert payment["membershipPaymentDetails"]["membershipId"] == pool_id
    assert payment["membershipPaymentDetails"]["externalTransactionId"]
    assert credits_left(sandbox, pool_id) == 4
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["balance"]["amount"]) == ("PAID", "0")
    stored = booking_state(sandbox, booking["id"])
    assert (stored["status"], stored["paymentStatus"]) == ("CONFIRMED", "PAID")


def test_a_charge_that_the_plan_can_no_longer_cover_is_declined_when_it_settles(sandbox: Sandbox) -> None:
    sandbox.faults.membership_settlement = "manual"
    first, order, member, sold = membership_order(sandbox, credits=1)
    pool_id = sold["pool"]["id"]
    assert charge(sandbox, order, member["id"], pool_id)[0] == 200
    # The last credit goes elsewhere before the charge settles (redeemed directly).
    with sandbox.state.transaction():
        plan_credits.charge_membership(
            sandbox,
            member_id=member["id"],
            membership_id=pool_id,
            service_id=order["lineItems"][0]["rootCatalogItemId"],
            reference="elsewhere",
        )

    assert settle_membership_payments(sandbox) == 1

    [payment] = transactions(sandbox, order["id"])["payments"]
    assert payment["status"] == "DECLINED"
    assert payment["membershipPaymentDetails"]["status"] == "CHARGE_FAILED"
    assert credits_left(sandbox, pool_id) == 0
    assert get_order(sandbox, order["id"])["paymentStatus"] == "NOT_PAID"
    assert booking_state(sandbox, first["id"])["paymentStatus"] == "NOT_PAID"


def test_refunding_a_membership_payment_gives_the_credit_back_and_the_line_is_owed_again(sandbox: Sandbox) -> None:
    booking, order, member, sold = membership_order(sandbox, credits=3)
    pool_id = sold["pool"]["id"]
    payment_id = charge(sandbox, order, member["id"], pool_id)[1]["payments"][0]["id"]
    assert credits_left(sandbox, pool_id) == 3  # reading the plan's balance doesn't settle the charge …
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"  # … the next call on the order does
    assert credits_left(sandbox, pool_id) == 2

    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})

    assert status == 200
    assert credits_left(sandbox, pool_id) == 3
    assert body["refund"]["transactions"] == [
        {
            "paymentId": payment_id,
            "amount": {
                "amount": "12",
                "convertedAmount": "12",
                "formattedAmount": "£12.00",
                "formattedConvertedAmount": "£12.00",
            },
            "refundStatus": "SUCCEEDED",
            "externalRefund": False,
        }
    ]
    [payment] = body["orderTransactions"]["payments"]
    assert (payment["status"], payment["membershipPaymentDetails"]["voided"]) == ("VOIDED", True)
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["balance"]["amount"]) == ("NOT_PAID", "12")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "NOT_PAID"

    before = snapshot(sandbox)
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})
    assert (status, code(body)) == (428, "PAYMENT_NOT_REFUNDABLE")
    assert body["details"]["applicationError"]["data"]["nonRefundableReason"] == "ALREADY_REFUNDED"
    assert snapshot(sandbox) == before

    # The line can be charged again, and takes a fresh credit.
    assert charge(sandbox, order, member["id"], pool_id)[0] == 200
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert credits_left(sandbox, pool_id) == 2


def test_charge_memberships_on_an_empty_plan_is_not_eligible_and_changes_nothing(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox, credits=0)
    before = snapshot(sandbox)
    status, body = charge(sandbox, order, member["id"], sold["pool"]["id"])
    assert (status, code(body)) == (428, "MEMBERSHIP_NOT_ELIGIBLE")
    assert body["details"]["applicationError"]["data"]["reason"] == "INSUFFICIENT_FUNDS"
    assert snapshot(sandbox) == before


def test_removed_hidden_membership_routes_answer_404(sandbox: Sandbox) -> None:
    """Void Memberships and the Payments Collector's Charge Memberships have no public SDK function."""
    _, order, member, sold = membership_order(sandbox, credits=3)
    status, body = call(
        sandbox, "POST", "/ecom/v1/order-billing/void-memberships", {"orderId": order["id"], "paymentIds": ["p"]}
    )
    assert (status, code(body)) == (404, "NOT_FOUND")
    status, body = call(
        sandbox,
        "POST",
        f"/ecom/v1/payments-collector/orders/{order['id']}/charge-membership",
        {
            "memberId": member["id"],
            "membershipCharges": [
                {
                    "membershipId": sold["pool"]["id"],
                    "appId": PRICING_PLANS_APP_ID,
                    "lineItemId": order["lineItems"][0]["id"],
                }
            ],
        },
    )
    assert (status, code(body)) == (404, "NOT_FOUND")
    assert credits_left(sandbox, sold["pool"]["id"]) == 3
