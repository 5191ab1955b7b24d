"""Taking money for orders: Payments Collector, Order Billing (Charge Memberships, Refund Payments) and
Order Transactions (``handlers/ecom_payments.py``)."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_member, make_service
from tests.wix_sandbox.ecom_builders import (
    CHARGE_MEMBERSHIPS,
    ORDERS,
    REFUND_PAYMENTS,
    add_payments,
    book_class,
    booked_order,
    booking_state,
    cart_order,
    charge,
    charge_body,
    code,
    credits_left,
    direct_order,
    get_order,
    member_with_plan,
    membership_order,
    offline_payment,
    refund,
    snapshot,
    transactions,
    violations,
)
from wix_sandbox import PRICING_PLANS_APP_ID, Sandbox
from wix_sandbox.handlers.ecom_orders import settle_membership_payments

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
def test_bulk_mark_as_paid_has_no_public_route(sandbox: Sandbox, path: str) -> None:
    """Its protoPath has no www.wixapis.com mapping in the SDK: Wix answers no such path."""
    order = direct_order(sandbox, "10")
    status, body = call(sandbox, "POST", path, {"ecomOrderIds": [order["id"]]})
    assert (status, code(body)) == (404, "NOT_FOUND")
    assert get_order(sandbox, order["id"])["paymentStatus"] == "NOT_PAID"


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


def test_add_payment_refuses_read_only_payment_fields(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    before = snapshot(sandbox)
    status, body = add_payments(
        sandbox, order["id"], {**offline_payment("5"), "id": "my-id", "updatedDate": "2026-11-21T09:00:00Z"}
    )
    assert (status, violations(body)) == (
        400,
        {"payments[0].id": "FIELD_NOT_ALLOWED", "payments[0].updatedDate": "FIELD_NOT_ALLOWED"},
    )
    assert snapshot(sandbox) == before


def test_add_partial_offline_payment_makes_order_and_booking_partially_paid(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox, price="12")
    assert add_payments(sandbox, order["id"], offline_payment("5"))[0] == 200
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["balance"]["amount"]) == ("PARTIALLY_PAID", "7")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PARTIALLY_PAID"


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


def test_charged_membership_payment_cannot_change_status_by_hand(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox)
    sandbox.faults.membership_settlement = "manual"
    payment_id = charge(sandbox, order, member["id"], sold["pool"]["id"])[1]["payments"][0]["id"]
    path = f"/ecom/v1/payments/{payment_id}/orders/{order['id']}/update-payment-transaction-status"
    before = snapshot(sandbox)
    for status_wanted in ("APPROVED", "VOIDED"):
        status, body = call(sandbox, "POST", path, {"status": status_wanted})
        assert (status, code(body)) == (428, "STATUS_NOT_ALLOWED")
    assert snapshot(sandbox) == before
    settle_membership_payments(sandbox)
    status, body = call(sandbox, "POST", path, {"status": "VOIDED"})
    assert (status, code(body)) == (428, "STATUS_NOT_ALLOWED")
    assert credits_left(sandbox, sold["pool"]["id"]) == 4


# -- order billing: charge memberships ------------------------------------------------------------


def test_charge_memberships_answers_pending_membership_payments(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox, credits=5)
    status, body = charge(sandbox, order, member["id"], sold["pool"]["id"])
    assert status == 200
    assert list(body) == ["payments"]
    [payment] = body["payments"]
    assert payment["status"] == "PENDING"
    assert payment["amount"]["amount"] == "12"
    assert payment["membershipPaymentDetails"] == {
        "membershipId": sold["pool"]["id"],
        "lineItemId": order["lineItems"][0]["id"],
        "status": "CHARGE_PENDING",
        "name": {"original": "10 Swim Pass"},
        "voided": False,
        "providerAppId": PRICING_PLANS_APP_ID,
    }
    assert payment["refundDisabled"] is False
    assert payment["id"] and payment["createdDate"]


def test_charge_memberships_settles_manually_when_asked_and_shows_pending_until_then(sandbox: Sandbox) -> None:
    sandbox.faults.membership_settlement = "manual"
    booking, order, member, sold = membership_order(sandbox, credits=5)
    charge(sandbox, order, member["id"], sold["pool"]["id"])
    seen = get_order(sandbox, order["id"])
    assert (seen["paymentStatus"], seen["balanceSummary"]["pending"]["amount"]) == ("PENDING", "12")
    assert transactions(sandbox, order["id"])["payments"][0]["status"] == "PENDING"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "NOT_PAID"
    assert credits_left(sandbox, sold["pool"]["id"]) == 5

    assert settle_membership_payments(sandbox, order["id"]) == 1
    assert settle_membership_payments(sandbox) == 0
    assert transactions(sandbox, order["id"])["payments"][0]["status"] == "APPROVED"
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PAID"
    assert credits_left(sandbox, sold["pool"]["id"]) == 4


def test_charge_memberships_declines_on_purpose_when_the_switch_says_so(sandbox: Sandbox) -> None:
    sandbox.faults.membership_decline_rate = 1.0
    booking, order, member, sold = membership_order(sandbox, credits=5)
    assert charge(sandbox, order, member["id"], sold["pool"]["id"])[0] == 200
    [payment] = transactions(sandbox, order["id"])["payments"]
    assert (payment["status"], payment["membershipPaymentDetails"]["status"]) == ("DECLINED", "CHARGE_FAILED")
    assert "externalTransactionId" not in payment["membershipPaymentDetails"]
    assert credits_left(sandbox, sold["pool"]["id"]) == 5
    assert get_order(sandbox, order["id"])["paymentStatus"] == "NOT_PAID"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "NOT_PAID"
    # A declined charge leaves the line unpaid: it may be charged again.
    sandbox.faults.membership_decline_rate = 0.0
    assert charge(sandbox, order, member["id"], sold["pool"]["id"])[0] == 200
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("empty", "INSUFFICIENT_FUNDS"),
        ("unknown", "MEMBERSHIP_NOT_FOUND"),
        ("other_member", "NOT_MEMBERS_MEMBERSHIP"),
        ("uncovered", "NOT_APPLICABLE_TO_LINE_ITEMS"),
        ("other_app", "MEMBERSHIP_NOT_FOUND"),
        ("offline_line", "PAYMENT_OPTION_NOT_MEMBERSHIP"),
        ("paid_line", "LINE_ITEM_ALREADY_PAID"),
        ("canceled", "ORDER_CANCELED"),
    ],
)
def test_charge_memberships_refuses_a_membership_that_cannot_pay_and_changes_nothing(
    sandbox: Sandbox, case: str, reason: str
) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=0 if case == "empty" else 5)
    pool_id = sold["pool"]["id"]
    if case == "uncovered":
        massage = make_service(sandbox, type="CLASS", name="Aqua Aerobics")
        booking = book_class(sandbox, option="MEMBERSHIP", service=massage, contact=contact)
    else:
        option = "OFFLINE" if case == "offline_line" else "MEMBERSHIP"
        booking = book_class(sandbox, option=option, service=service, contact=contact)
    order = cart_order(sandbox, booking["id"])
    body = charge_body(order, member["id"], "nope" if case == "unknown" else pool_id)
    if case == "other_member":
        body["memberId"] = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))["id"]
    if case == "other_app":
        body["memberships"][0]["membershipIdentifier"]["existingMembership"]["appId"] = (
            "00000000-0000-4000-8000-000000000001"
        )
    if case == "paid_line":
        add_payments(sandbox, order["id"], offline_payment("12"))
    if case == "canceled":
        call(sandbox, "POST", f"{ORDERS}/{order['id']}/cancel", {})
    before = snapshot(sandbox)

    status, answer = call(sandbox, "POST", CHARGE_MEMBERSHIPS, body)

    assert (status, code(answer)) == (428, "MEMBERSHIP_NOT_ELIGIBLE")
    assert answer["details"]["applicationError"]["data"]["reason"] == reason
    assert snapshot(sandbox) == before


def test_charge_memberships_counts_credits_the_same_request_and_pending_charges_take(sandbox: Sandbox) -> None:
    sandbox.faults.membership_settlement = "manual"
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=1)
    first = cart_order(sandbox, book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)["id"])
    second = cart_order(sandbox, book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact)["id"])
    assert charge(sandbox, first, member["id"], sold["pool"]["id"])[0] == 200
    status, body = charge(sandbox, second, member["id"], sold["pool"]["id"])
    assert (status, code(body)) == (428, "MEMBERSHIP_NOT_ELIGIBLE")
    assert body["details"]["applicationError"]["data"]["reason"] == "INSUFFICIENT_FUNDS"


def test_charge_memberships_of_a_line_already_charged_is_not_eligible(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox, credits=5)
    assert charge(sandbox, order, member["id"], sold["pool"]["id"])[0] == 200
    status, body = charge(sandbox, order, member["id"], sold["pool"]["id"])
    assert (status, code(body)) == (428, "MEMBERSHIP_NOT_ELIGIBLE")
    assert body["details"]["applicationError"]["data"]["reason"] == "LINE_ITEM_ALREADY_PAID"
    assert len(transactions(sandbox, order["id"])["payments"]) == 1
    assert credits_left(sandbox, sold["pool"]["id"]) == 4


def test_charge_memberships_never_answers_not_enough_balance(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox, credits=0)
    status, body = charge(sandbox, order, member["id"], sold["pool"]["id"])
    assert code(body) != "NOT_ENOUGH_BALANCE"
    assert (status, code(body)) == (428, "MEMBERSHIP_NOT_ELIGIBLE")


def test_charge_memberships_validates_its_request(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    item = {"lineItemId": "l", "membershipIdentifier": {"existingMembership": {"appId": "a", "membershipId": "p"}}}
    status, body = call(sandbox, "POST", CHARGE_MEMBERSHIPS, {"memberships": [item]})
    assert (status, violations(body)) == (400, {"orderId": "REQUIRED_FIELD", "memberId": "REQUIRED_FIELD"})
    status, body = call(
        sandbox, "POST", CHARGE_MEMBERSHIPS, {"orderId": order["id"], "memberId": "m", "memberships": []}
    )
    assert (status, violations(body)) == (400, {"memberships": "REQUIRED_FIELD"})
    status, body = call(
        sandbox, "POST", CHARGE_MEMBERSHIPS, {"orderId": order["id"], "memberId": "m", "memberships": [item] * 101}
    )
    assert (status, violations(body)) == (400, {"memberships": "MAX_SIZE"})
    status, body = call(
        sandbox,
        "POST",
        CHARGE_MEMBERSHIPS,
        {"orderId": order["id"], "memberId": "m", "memberships": [{"lineItemId": "l"}]},
    )
    assert (status, set(violations(body))) == (
        400,
        {
            "memberships[0].membershipIdentifier.existingMembership.appId",
            "memberships[0].membershipIdentifier.existingMembership.membershipId",
        },
    )
    future = {"lineItemId": "l", "membershipIdentifier": {"futureMembership": {"lineItemId": "x", "benefitId": "b"}}}
    status, body = call(
        sandbox, "POST", CHARGE_MEMBERSHIPS, {"orderId": order["id"], "memberId": "m", "memberships": [future]}
    )
    assert (status, violations(body)) == (
        400,
        {"memberships[0].membershipIdentifier.futureMembership": "FIELD_NOT_ALLOWED"},
    )
    status, body = call(
        sandbox, "POST", CHARGE_MEMBERSHIPS, {"orderId": order["id"], "memberId": "m", "memberships": [item]}
    )
    assert (status, violations(body)) == (400, {"memberships[0].lineItemId": "VALIDATION"})
    status, body = call(
        sandbox, "POST", CHARGE_MEMBERSHIPS, {"orderId": "nope", "memberId": "m", "memberships": [item]}
    )
    assert (status, code(body)) == (404, "ORDER_NOT_FOUND")


def test_one_request_can_charge_two_lines_to_one_plan(sandbox: Sandbox) -> None:
    service = make_service(sandbox, price="12")
    contact, member, sold = member_with_plan(sandbox, service, credits_left=2)
    bookings = [book_class(sandbox, option="MEMBERSHIP", service=service, contact=contact) for _ in range(2)]
    order = cart_order(sandbox, *(b["id"] for b in bookings))
    body = charge_body(order, member["id"], sold["pool"]["id"])
    body["memberships"].append({**body["memberships"][0], "lineItemId": order["lineItems"][1]["id"]})
    status, answer = call(sandbox, "POST", CHARGE_MEMBERSHIPS, body)
    assert status == 200
    assert [p["status"] for p in answer["payments"]] == ["PENDING", "PENDING"]
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PAID"
    assert credits_left(sandbox, sold["pool"]["id"]) == 0
    assert [booking_state(sandbox, b["id"])["paymentStatus"] for b in bookings] == ["PAID", "PAID"]


# -- order billing: refund payments ---------------------------------------------------------------


def test_refund_of_an_offline_payment_needs_an_external_refund(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox, price="12")
    payment_id = add_payments(sandbox, order["id"], offline_payment("12"))[1]["paymentsIds"][0]
    before = snapshot(sandbox)
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})
    assert (status, code(body)) == (400, "EXTERNAL_REFUND_EXPECTED")
    assert body["details"]["applicationError"]["data"] == {"paymentId": payment_id}
    assert snapshot(sandbox) == before

    status, body = refund(sandbox, order["id"], {"paymentId": payment_id, "externalRefund": True}, customerReason="Ill")

    assert status == 200
    assert set(body) == {"refund", "orderTransactions"}
    [transaction] = body["refund"]["transactions"]
    assert transaction["paymentId"] == payment_id
    assert (transaction["amount"]["amount"], transaction["refundStatus"], transaction["externalRefund"]) == (
        "12",
        "SUCCEEDED",
        True,
    )
    assert body["refund"]["id"] and body["refund"]["createdDate"]
    assert body["refund"]["details"]["reason"] == "Ill"
    assert body["refund"]["summary"]["refunded"]["amount"] == "12"
    assert body["orderTransactions"]["payments"][0]["status"] == "REFUNDED"
    assert body["orderTransactions"]["refunds"] == [body["refund"]]
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["refunded"]["amount"]) == ("FULLY_REFUNDED", "12")
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "REFUNDED"


def test_part_refunds_of_an_offline_payment_add_up(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox, price="12")
    payment_id = add_payments(sandbox, order["id"], offline_payment("12"))[1]["paymentsIds"][0]
    part = {"paymentId": payment_id, "externalRefund": True, "amount": {"amount": "5"}}
    assert refund(sandbox, order["id"], part)[0] == 200
    assert transactions(sandbox, order["id"])["payments"][0]["status"] == "PARTIALLY_REFUNDED"
    assert get_order(sandbox, order["id"])["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert booking_state(sandbox, booking["id"])["paymentStatus"] == "PARTIALLY_PAID"
    status, body = refund(sandbox, order["id"], {**part, "amount": {"amount": "7.01"}})
    assert (status, code(body)) == (400, "INVALID_PAYMENT_REFUND_AMOUNT")
    assert refund(sandbox, order["id"], {"paymentId": payment_id, "externalRefund": True})[0] == 200  # the rest: 7
    order = get_order(sandbox, order["id"])
    assert (order["paymentStatus"], order["balanceSummary"]["refunded"]["amount"]) == ("FULLY_REFUNDED", "12")
    status, body = refund(sandbox, order["id"], part)
    assert (status, code(body)) == (428, "PAYMENT_NOT_REFUNDABLE")
    assert body["details"]["applicationError"]["data"]["nonRefundableReason"] == "ALREADY_REFUNDED"


@pytest.mark.parametrize("amount", ["0", "-1", "12.01"])
def test_refund_of_a_wrong_amount_is_rejected(sandbox: Sandbox, amount: str) -> None:
    order = direct_order(sandbox, "12")
    payment_id = add_payments(sandbox, order["id"], offline_payment("12"))[1]["paymentsIds"][0]
    before = snapshot(sandbox)
    status, body = refund(
        sandbox, order["id"], {"paymentId": payment_id, "externalRefund": True, "amount": {"amount": amount}}
    )
    assert (status, code(body)) == (400, "INVALID_PAYMENT_REFUND_AMOUNT")
    assert snapshot(sandbox) == before


def test_refund_of_a_membership_payment_takes_no_amount_and_is_not_external(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox)
    payment_id = charge(sandbox, order, member["id"], sold["pool"]["id"])[1]["payments"][0]["id"]
    get_order(sandbox, order["id"])  # settles the charge
    before_credits = credits_left(sandbox, sold["pool"]["id"])
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id, "amount": {"amount": "12"}})
    assert (status, code(body)) == (400, "INVALID_PAYMENT_REFUND_AMOUNT")
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id, "externalRefund": True})
    assert (status, violations(body)) == (400, {"paymentRefunds[0].externalRefund": "FIELD_NOT_ALLOWED"})
    assert credits_left(sandbox, sold["pool"]["id"]) == before_credits == 4


def test_refund_of_a_pending_or_declined_membership_payment_is_not_refundable(sandbox: Sandbox) -> None:
    sandbox.faults.membership_settlement = "manual"
    _, order, member, sold = membership_order(sandbox)
    payment_id = charge(sandbox, order, member["id"], sold["pool"]["id"])[1]["payments"][0]["id"]
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})
    assert (status, code(body)) == (428, "PAYMENT_NOT_REFUNDABLE")
    assert body["details"]["applicationError"]["data"] == {"paymentId": payment_id, "nonRefundableReason": "NOT_PAID"}
    sandbox.faults.membership_decline_rate = 1.0
    settle_membership_payments(sandbox)
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})
    assert (status, code(body)) == (428, "PAYMENT_NOT_REFUNDABLE")


def test_refund_of_an_online_payment_without_a_gateway_transaction_is_not_refundable(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "12")
    online = {"amount": {"amount": "12"}, "status": "APPROVED", "regularPaymentDetails": {"offlinePayment": False}}
    payment_id = add_payments(sandbox, order["id"], online)[1]["paymentsIds"][0]
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})
    assert (status, code(body)) == (428, "PAYMENT_NOT_REFUNDABLE")
    assert body["details"]["applicationError"]["data"]["nonRefundableReason"] == "TRANSACTION_NOT_FOUND"
    # Refunded by hand on the provider's side, it is recorded as an external refund.
    assert refund(sandbox, order["id"], {"paymentId": payment_id, "externalRefund": True})[0] == 200


def test_refund_of_an_online_gateway_payment_goes_through_the_provider(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "12")
    online = {
        "amount": {"amount": "12"},
        "status": "APPROVED",
        "regularPaymentDetails": {"offlinePayment": False, "gatewayTransactionId": "gw-1"},
    }
    payment_id = add_payments(sandbox, order["id"], online)[1]["paymentsIds"][0]
    status, body = refund(sandbox, order["id"], {"paymentId": payment_id})
    assert status == 200
    [transaction] = body["refund"]["transactions"]
    assert (transaction["externalRefund"], bool(transaction["gatewayRefundId"])) == (False, True)


def test_refund_is_all_or_nothing(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    ids = add_payments(sandbox, order["id"], offline_payment("10"), offline_payment("10"))[1]["paymentsIds"]
    before = snapshot(sandbox)
    status, body = refund(sandbox, order["id"], {"paymentId": ids[0], "externalRefund": True}, {"paymentId": ids[1]})
    assert (status, code(body)) == (400, "EXTERNAL_REFUND_EXPECTED")
    assert snapshot(sandbox) == before
    status, body = refund(
        sandbox,
        order["id"],
        {"paymentId": ids[0], "externalRefund": True},
        {"paymentId": ids[1], "externalRefund": True},
    )
    assert status == 200
    assert len(body["refund"]["transactions"]) == 2
    assert get_order(sandbox, order["id"])["paymentStatus"] == "FULLY_REFUNDED"


def test_refund_of_unknown_payment_or_order_is_payment_not_found(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = refund(sandbox, order["id"], {"paymentId": "nope", "externalRefund": True})
    assert (status, code(body)) == (404, "PAYMENT_NOT_FOUND")
    assert body["details"]["applicationError"]["data"] == {"paymentId": "nope", "externalRefund": True}
    status, body = refund(sandbox, "no-order", {"paymentId": "nope"})
    assert (status, code(body)) == (404, "PAYMENT_NOT_FOUND")


def test_refund_of_an_unpaid_or_disabled_payment_is_not_refundable(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    pending = add_payments(sandbox, order["id"], offline_payment("5", "PENDING"))[1]["paymentsIds"][0]
    disabled = add_payments(sandbox, order["id"], {**offline_payment("5"), "refundDisabled": True})[1]["paymentsIds"][0]
    for payment_id, reason in ((pending, "NOT_PAID"), (disabled, "DISABLED_BY_PROVIDER")):
        status, body = refund(sandbox, order["id"], {"paymentId": payment_id, "externalRefund": True})
        assert (status, code(body)) == (428, "PAYMENT_NOT_REFUNDABLE")
        assert body["details"]["applicationError"]["data"]["nonRefundableReason"] == reason


def test_refund_payments_validates_its_request(sandbox: Sandbox) -> None:
    order = direct_order(sandbox, "20")
    status, body = call(sandbox, "POST", REFUND_PAYMENTS, {"paymentRefunds": [{"paymentId": "p"}]})
    assert (status, violations(body)) == (400, {"orderId": "REQUIRED_FIELD"})
    status, body = refund(sandbox, order["id"])
    assert (status, violations(body)) == (400, {"paymentRefunds": "REQUIRED_FIELD"})
    status, body = refund(sandbox, order["id"], *[{"paymentId": f"p{i}"} for i in range(51)])
    assert (status, violations(body)) == (400, {"paymentRefunds": "MAX_SIZE"})
    status, body = refund(sandbox, order["id"], {"externalRefund": True}, {"paymentId": "p", "amount": {"amount": "x"}})
    assert (status, violations(body)) == (
        400,
        {"paymentRefunds[0].paymentId": "REQUIRED_FIELD", "paymentRefunds[1].amount.amount": "FORMAT"},
    )
    status, body = refund(sandbox, order["id"], {"paymentId": "p"}, {"paymentId": "p"})
    assert (status, violations(body)) == (400, {"paymentRefunds[1].paymentId": "VALIDATION"})
    status, body = refund(sandbox, order["id"], {"paymentId": "p"}, customerReason="x" * 201)
    assert (status, violations(body)) == (400, {"customerReason": "MAX_LENGTH"})


def test_refund_items_must_name_the_orders_lines(sandbox: Sandbox) -> None:
    booking, order = booked_order(sandbox, price="12")
    payment_id = add_payments(sandbox, order["id"], offline_payment("12"))[1]["paymentsIds"][0]
    asked = {"paymentId": payment_id, "externalRefund": True}
    status, body = refund(
        sandbox, order["id"], asked, refundItems={"lineItems": [{"lineItemId": "nope", "quantity": 1}]}
    )
    assert (status, code(body)) == (404, "LINE_ITEM_NOT_FOUND")
    line_id = order["lineItems"][0]["id"]
    status, body = refund(
        sandbox, order["id"], asked, refundItems={"lineItems": [{"lineItemId": line_id, "quantity": 2}]}
    )
    assert (status, code(body)) == (400, "INVALID_LINE_ITEM_REFUND_QUANTITY")
    status, body = refund(
        sandbox, order["id"], asked, refundItems={"lineItems": [{"lineItemId": line_id, "quantity": 1}]}
    )
    assert status == 200
    assert body["refund"]["details"]["lineItems"] == [{"lineItemId": line_id, "quantity": 1}]
