"""eCommerce orders: get, search, create, update, cancel, and the settling of asynchronous membership
charges (``handlers/ecom_orders.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.ecom_builders import (
    CARTS,
    ORDERS,
    add_payments,
    charge,
    code,
    credits_left,
    direct_order,
    membership_order,
    offline_payment,
    snapshot,
    transactions,
    violations,
)
from wix_sandbox import Sandbox
from wix_sandbox.handlers.ecom_orders import settle_membership_payments


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


# -- asynchronous membership charges settle -------------------------------------------------------------


def test_search_orders_settles_pending_membership_charges_first(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox)
    charge(sandbox, order, member["id"], sold["pool"]["id"])
    status, body = call(sandbox, "POST", f"{ORDERS}/search", {"search": {"filter": {"paymentStatus": "PAID"}}})
    assert status == 200
    assert [o["id"] for o in body["orders"]] == [order["id"]]
    assert credits_left(sandbox, sold["pool"]["id"]) == 4


def test_get_cart_settles_the_charge_of_its_order(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox)
    charge(sandbox, order, member["id"], sold["pool"]["id"])
    assert call(sandbox, "GET", f"{CARTS}/{order['checkoutId']}")[0] == 200
    assert credits_left(sandbox, sold["pool"]["id"]) == 4


def test_a_rejected_call_keeps_nothing_not_even_its_settling(sandbox: Sandbox) -> None:
    _, order, member, sold = membership_order(sandbox)
    charge(sandbox, order, member["id"], sold["pool"]["id"])
    status, _ = call(sandbox, "PATCH", f"{ORDERS}/{order['id']}", {"order": {"buyerNote": "x" * 5}})
    assert status == 200  # an accepted call settles …
    assert credits_left(sandbox, sold["pool"]["id"]) == 4

    _, other, member2, sold2 = membership_order(sandbox)
    charge(sandbox, other, member2["id"], sold2["pool"]["id"])
    status, _ = call(
        sandbox,
        "POST",
        "/ecom/v1/order-billing/refund-payments",
        {"orderId": other["id"], "paymentRefunds": [{"paymentId": "nope"}]},
    )
    assert status == 404  # … a rejected one changes nothing
    assert credits_left(sandbox, sold2["pool"]["id"]) == 5
    assert transactions(sandbox, other["id"])["payments"][0]["status"] == "APPROVED"


def test_settle_membership_payments_settles_every_order_once(sandbox: Sandbox) -> None:
    sandbox.faults.membership_settlement = "manual"
    orders = [membership_order(sandbox) for _ in range(2)]
    for _, order, member, sold in orders:
        charge(sandbox, order, member["id"], sold["pool"]["id"])
    assert settle_membership_payments(sandbox, "no-such-order") == 0
    assert settle_membership_payments(sandbox) == 2
    assert settle_membership_payments(sandbox) == 0
    assert [credits_left(sandbox, sold["pool"]["id"]) for *_, sold in orders] == [4, 4]
