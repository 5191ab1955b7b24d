"""Taking money for orders: Payments Collector and Order Transactions (``handlers/ecom_payments.py``)."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.ecom_builders import (
    ORDERS,
    add_payments,
    booked_order,
    booking_state,
    code,
    direct_order,
    get_order,
    offline_payment,
    snapshot,
    transactions,
    violations,
)
from wix_sandbox import PRICING_PLANS_APP_ID, Sandbox

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
