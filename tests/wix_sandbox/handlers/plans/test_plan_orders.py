"""Plan orders: offline orders, list, get, mark as paid (``handlers/plans/plan_orders.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from tests.wix_sandbox.builders import call, make_contact, make_member
from tests.wix_sandbox.plan_builders import NS, OFFLINE, ORDERS, code, count, make_plan, sell_plan, violations
from wix_sandbox import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.handlers import plans


def test_offline_order_is_active_unpaid_and_provisions_program_pool_and_balance(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    member, plan = desk["member"], desk["plan"]

    status, body = call(sandbox, "POST", OFFLINE, {"planId": plan["id"], "memberId": member["id"]})

    assert status == 200
    order = body["order"]
    assert order["type"] == "OFFLINE"
    assert order["status"] == "ACTIVE"
    assert order["lastPaymentStatus"] == "UNPAID"
    assert order["buyer"] == {"memberId": member["id"], "contactId": member["contactId"]}
    assert order["startDate"] == "2026-11-21T09:00:00.000Z"
    assert order["endDate"] == "2027-02-21T09:00:00.000Z"
    assert order["currentCycle"] == {"index": 1, "startedDate": order["startDate"], "endedDate": order["endDate"]}
    assert order["planName"] == "10 Swim Pass" and order["planPrice"] == "90"
    assert order["pricing"]["prices"][0]["price"]["total"] == "90"

    _, programs = call(
        sandbox, "POST", "/benefit-programs/v1/programs/query", {"query": {"filter": {"externalId": order["id"]}}}
    )
    (program,) = programs["programs"]
    assert program["beneficiary"] == {"memberId": member["id"]}
    assert program["namespace"] == NS and program["status"] == "ACTIVE"
    _, pools = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"filter": {"programId": program["id"]}}}
    )
    (pool,) = pools["pools"]
    assert pool["status"] == "ACTIVE"
    assert pool["program"] == {"id": program["id"], "externalId": order["id"]}
    assert pool["programDefinition"]["externalId"] == plan["id"]
    assert pool["details"]["creditConfiguration"]["amount"] == "10"
    (benefit,) = pool["details"]["benefits"]
    assert benefit["providerAppId"] == BOOKINGS_APP_ID and benefit["price"] == "1"
    _, balance = call(sandbox, "GET", f"/benefit-programs/v1/balances/{pool['id']}")
    assert balance["balance"]["amount"] == {"available": "10", "reserved": "0"}
    assert balance["balance"]["poolInfo"]["creditAmount"] == "10"
    assert balance["balance"]["beneficiary"] == {"memberId": member["id"]}


def test_offline_order_sent_as_paid_is_paid(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    _, body = call(
        sandbox, "POST", OFFLINE, {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "paid": True}
    )

    assert body["order"]["lastPaymentStatus"] == "PAID"


def test_offline_order_of_a_free_plan_needs_no_payment(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    free = make_plan(sandbox, "Taster", 1, [desk["service"]["id"]], "0")

    _, body = call(sandbox, "POST", OFFLINE, {"planId": free["id"], "memberId": desk["member"]["id"]})

    assert body["order"]["lastPaymentStatus"] == "NOT_APPLICABLE"
    assert "wixPayOrderId" not in body["order"]


def test_offline_order_requires_plan_and_member(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", OFFLINE, {})

    assert status == 400
    assert violations(body) == ["planId", "memberId"]
    assert count(sandbox, "plan_orders") == 0


def test_offline_order_for_an_unknown_member_changes_nothing(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", OFFLINE, {"planId": desk["plan"]["id"], "memberId": str(uuid.uuid4())})

    assert status == 400
    (problem,) = body["details"]["validationError"]["fieldViolations"]
    assert (problem["field"], problem["violatedRule"], problem["ruleName"]) == (
        "memberId",
        "OTHER",
        "MEMBER_DOESNT_EXIST",
    )
    assert count(sandbox, "plan_orders") == count(sandbox, "programs") == count(sandbox, "pools") == 0


def test_offline_order_for_an_unknown_plan_is_plan_not_found(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", OFFLINE, {"planId": str(uuid.uuid4()), "memberId": desk["member"]["id"]})

    assert (status, code(body)) == (404, "plan_not_found")


def test_offline_order_ids_must_be_guids(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    """planId, memberId and submissionId are ``@format GUID``: anything else is invalid input,
    told apart from an unknown plan or member, and nothing is sold."""
    status, body = call(
        sandbox, "POST", OFFLINE, {"planId": "10-swim-pass", "memberId": "jo@example.com", "submissionId": "form-1"}
    )

    assert status == 400
    assert violations(body) == ["planId", "memberId", "submissionId"]
    assert {v["violatedRule"] for v in body["details"]["validationError"]["fieldViolations"]} == {"FORMAT"}
    assert count(sandbox, "plan_orders") == count(sandbox, "programs") == 0


def test_offline_order_paid_must_be_a_boolean_and_a_coupon_code_at_most_20_characters(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    ids = {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"]}

    paid_status, paid = call(sandbox, "POST", OFFLINE, {**ids, "paid": "yes"})
    coupon_status, coupon = call(sandbox, "POST", OFFLINE, {**ids, "couponCode": "X" * 21})

    assert (paid_status, violations(paid)) == (400, ["paid"])
    assert (coupon_status, violations(coupon)) == (400, ["couponCode"])
    assert count(sandbox, "plan_orders") == 0


def test_an_archived_plan_cannot_be_sold(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    old = make_plan(sandbox, "Old Pass", 5, [desk["service"]["id"]], "40", archived=True)

    status, body = call(sandbox, "POST", OFFLINE, {"planId": old["id"], "memberId": desk["member"]["id"]})

    assert (status, code(body)) == (428, "PLAN_ARCHIVED")
    assert count(sandbox, "plan_orders") == 0


def test_offline_order_with_a_coupon_is_rejected_because_no_coupon_exists(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    status, body = call(
        sandbox,
        "POST",
        OFFLINE,
        {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "couponCode": "SUMMER"},
    )

    assert (status, code(body)) == (400, "ERROR_COUPON_DOES_NOT_EXIST")
    assert count(sandbox, "plan_orders") == 0


def test_offline_order_with_a_malformed_start_date_is_rejected(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(
        sandbox, "POST", OFFLINE, {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "startDate": "soon"}
    )

    assert status == 400
    assert violations(body) == ["startDate"]


def test_get_order_and_unknown_order(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    status, body = call(sandbox, "GET", f"{ORDERS}/{sold['order']['id']}")
    missing_status, missing = call(sandbox, "GET", f"{ORDERS}/nope")

    assert status == 200 and body["order"]["id"] == sold["order"]["id"]
    assert (missing_status, code(missing)) == (404, "order_not_found")


def test_list_orders_filters_by_buyer_plan_status_and_payment(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    unlimited = make_plan(sandbox, "Unlimited", None, [desk["service"]["id"]], "120")
    mine = sell_plan(sandbox, desk["member"], desk["plan"], paid=False)["order"]
    sandbox_clock[0] += timedelta(hours=1)
    theirs = sell_plan(sandbox, other, unlimited)["order"]

    def ids(**query: Any) -> list[str]:
        status, body = call(sandbox, "GET", ORDERS, **query)
        assert status == 200
        return [o["id"] for o in body["orders"]]

    assert ids() == [theirs["id"], mine["id"]]  # newest first
    assert ids(buyerIds=[desk["member"]["id"]]) == [mine["id"]]
    assert ids(buyerIds=[desk["member"]["id"], other["id"]], planIds=[unlimited["id"]]) == [theirs["id"]]
    assert ids(paymentStatuses=["UNPAID"]) == [mine["id"]]
    assert ids(orderStatuses=["ACTIVE"]) == [theirs["id"], mine["id"]]
    assert ids(orderStatuses=["ENDED"]) == []
    assert ids(**{"sorting.fieldName": "createdDate", "sorting.order": "ASC"}) == [mine["id"], theirs["id"]]


def test_list_orders_pages_with_limit_and_offset(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    for _ in range(3):
        sell_plan(sandbox, desk["member"], desk["plan"])

    status, body = call(sandbox, "GET", ORDERS, limit=2, offset=2)

    assert status == 200
    assert body["pagingMetadata"] == {"count": 1, "offset": 2, "total": 3, "tooManyToCount": False}


def test_list_orders_rejects_a_limit_over_50(sandbox: Sandbox) -> None:
    ok_status, _ = call(sandbox, "GET", ORDERS, limit=50)
    status, body = call(sandbox, "GET", ORDERS, limit=51)

    assert ok_status == 200
    assert status == 400
    assert violations(body) == ["limit"]


def test_list_orders_rejects_a_limit_under_1_ids_that_are_not_guids_and_other_sort_fields(sandbox: Sandbox) -> None:
    zero_status, zero = call(sandbox, "GET", ORDERS, limit=0)
    ids_status, ids = call(sandbox, "GET", ORDERS, buyerIds=["jo"], planIds=[str(uuid.uuid4())])
    sort_status, sort = call(sandbox, "GET", ORDERS, **{"sorting.fieldName": "planName"})
    end_status, _ = call(sandbox, "GET", ORDERS, **{"sorting.fieldName": "endDate"})

    assert (zero_status, violations(zero)) == (400, ["limit"])
    assert (ids_status, violations(ids)) == (400, ["buyerIds"])
    assert (sort_status, violations(sort)) == (400, ["sorting.fieldName"])
    assert sort["details"]["validationError"]["fieldViolations"][0]["ruleName"] == "invalid_sort_field"
    assert end_status == 200


def test_list_orders_rejects_an_unknown_status(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", ORDERS, orderStatuses=["LAPSED"])

    assert status == 400
    assert violations(body) == ["orderStatuses"]


def test_member_orders_are_not_for_an_api_key(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/pricing-plans/v2/member/orders")

    assert (status, code(body)) == (403, "PERMISSION_DENIED")


def test_mark_as_paid_marks_an_unpaid_offline_order_once(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    order = sell_plan(sandbox, desk["member"], desk["plan"], paid=False)["order"]

    status, body = call(sandbox, "POST", f"{ORDERS}/{order['id']}/mark-as-paid", {})
    _, after = call(sandbox, "GET", f"{ORDERS}/{order['id']}")
    again_status, again = call(sandbox, "POST", f"{ORDERS}/{order['id']}/mark-as-paid", {})

    assert (status, body) == (200, {})
    assert after["order"]["lastPaymentStatus"] == "PAID"
    assert (again_status, code(again)) == (428, "ORDER_ALREADY_PAID")


def test_mark_as_paid_refuses_online_orders_and_unknown_orders(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    with sandbox.state.transaction():
        online = plans.order_create(
            sandbox, plan_id=desk["plan"]["id"], member_id=desk["member"]["id"], order_type="ONLINE"
        )

    status, body = call(sandbox, "POST", f"{ORDERS}/{online['id']}/mark-as-paid", {})
    missing_status, missing = call(sandbox, "POST", f"{ORDERS}/nope/mark-as-paid", {})

    assert (status, code(body)) == (428, "ONLINE_ORDER")
    assert sandbox.state.get("plan_orders", online["id"])["lastPaymentStatus"] == "UNPAID"
    assert (missing_status, code(missing)) == (404, "order_not_found")
