"""Plan credits for eCommerce (``rules/plan_credits.py``): offered, charged and voided, called directly
and through checkout and payments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_member, make_service
from tests.wix_sandbox.ecom_builders import (
    CHECKOUTS,
    add_payments,
    book_class,
    booking_line,
    booking_state,
    charge_body,
    code,
    create_checkout,
    credits_left,
    direct_order,
    get_order,
    member_with_plan,
    offline_payment,
    place_order,
    snapshot,
    transactions,
    violations,
)
from tests.wix_sandbox.plan_builders import available, count, make_plan, sell_plan
from wix_sandbox import PRICING_PLANS_APP_ID, Sandbox, SandboxError
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


# -- through eCommerce checkout and payments -----------------------------------------------------------


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
        charge_body(order, member["id"], sold["pool"]["id"]),
    )
    assert (status, code(body)) == (428, "NOT_ENOUGH_BALANCE")
    assert snapshot(sandbox) == before


def test_charge_memberships_of_a_line_already_paid_is_rejected(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=5)
    booking = book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)
    order = place_order(sandbox, create_checkout(sandbox, booking["id"])["id"])
    body = charge_body(order, member["id"], sold["pool"]["id"])
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
        sandbox, "POST", "/ecom/v1/order-billing/charge-memberships", charge_body(order, member["id"], pool_id)
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
