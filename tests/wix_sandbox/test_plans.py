"""Sandbox: Pricing Plans (plans, plan orders) and Benefit Programs (pools, balances, redemptions)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_member, make_service
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, Sandbox, SandboxError
from wix_sandbox.handlers import plans
from wix_sandbox.rules import plan_credits

NS = "@wix/pricing-plans"
ORDERS = "/pricing-plans/v2/orders"
OFFLINE = "/pricing-plans/v2/checkout/orders/offline"
REDEEM = "/benefit-programs/v1/benefits/redeem"
CANCEL = "/benefit-programs/v1/benefits/cancel-redemption"
ELIGIBLE = "/benefit-programs/v1/pools/eligible-pools"
CHECK = "/benefit-programs/v1/pools/check-eligibility"


def code(body: dict[str, Any]) -> str:
    return body["details"]["applicationError"]["code"]


def violations(body: dict[str, Any]) -> list[str]:
    return [v["field"] for v in body["details"]["validationError"]["fieldViolations"]]


def available(sb: Sandbox, pool_id: str) -> str:
    status, body = call(sb, "GET", f"/benefit-programs/v1/balances/{pool_id}")
    assert status == 200
    return body["balance"]["amount"]["available"]


def item(service_id: str) -> dict[str, str]:
    return {"externalId": service_id, "providerAppId": BOOKINGS_APP_ID, "category": ""}


def redeem_body(pool: dict[str, Any], service_id: str, key: str = "k-1", **extra: Any) -> dict[str, Any]:
    return {
        "poolId": pool["id"],
        "itemReference": item(service_id),
        "benefitKey": pool["details"]["benefits"][0]["benefitKey"],
        "idempotencyKey": key,
        "beneficiary": pool["beneficiary"],
        "namespace": NS,
        **extra,
    }


@pytest.fixture
def desk(sandbox: Sandbox) -> dict[str, Any]:
    """A swim service, a member, a 10-session pass covering the service."""
    service = make_service(sandbox)
    member = make_member(sandbox, make_contact(sandbox))
    plan = make_plan(sandbox, "10 Swim Pass", 10, [service["id"]], "90")
    return {"service": service, "member": member, "plan": plan}


def count(sb: Sandbox, coll: str) -> int:
    return sb.state.count(coll)


# -- plans ----------------------------------------------------------------------------------------


def test_get_plan_returns_the_v2_shape_without_sandbox_internals(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "GET", f"/pricing-plans/v2/plans/{desk['plan']['id']}")

    assert status == 200
    plan = body["plan"]
    assert plan["name"] == "10 Swim Pass"
    assert plan["pricing"] == {
        "singlePaymentForDuration": {"count": 3, "unit": "MONTH"},
        "price": {"value": "90", "currency": "GBP"},
    }
    assert plan["perks"] == {"values": []}
    assert "programDefinition" not in plan


def test_get_unknown_plan_is_plan_not_found(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/pricing-plans/v2/plans/nope")

    assert status == 404
    assert code(body) == "plan_not_found"


def test_list_plans_hides_archived_plans_unless_asked(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    old = make_plan(sandbox, "Old Pass", 5, [desk["service"]["id"]], "40", archived=True)

    _, default = call(sandbox, "GET", "/pricing-plans/v2/plans")
    _, both = call(sandbox, "GET", "/pricing-plans/v2/plans", archived="ARCHIVED_AND_ACTIVE")
    _, archived = call(sandbox, "GET", "/pricing-plans/v2/plans", archived="ARCHIVED")

    assert [p["id"] for p in default["plans"]] == [desk["plan"]["id"]]
    assert {p["id"] for p in both["plans"]} == {desk["plan"]["id"], old["id"]}
    assert [p["id"] for p in archived["plans"]] == [old["id"]]
    assert default["pagingMetadata"] == {"count": 1, "offset": 0, "total": 1, "tooManyToCount": False}


def test_list_plans_filters_by_visibility_and_ids(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    hidden = make_plan(sandbox, "Staff Pass", None, [desk["service"]["id"]], "0", public=False)

    _, public = call(sandbox, "GET", "/pricing-plans/v2/plans", public="PUBLIC")
    _, hidden_only = call(sandbox, "GET", "/pricing-plans/v2/plans", public="HIDDEN")
    _, by_id = call(sandbox, "GET", "/pricing-plans/v2/plans", planIds=[hidden["id"]])

    assert [p["id"] for p in public["plans"]] == [desk["plan"]["id"]]
    assert [p["id"] for p in hidden_only["plans"]] == [hidden["id"]]
    assert [p["id"] for p in by_id["plans"]] == [hidden["id"]]


def test_list_plans_rejects_an_unknown_filter_value(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/pricing-plans/v2/plans", archived="SOMETIMES")

    assert status == 400
    assert violations(body) == ["archived"]


def test_query_plans_v3_answers_the_v3_shape(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "GET", "/pricing-plans/v3/plans/query")

    assert status == 200
    (plan,) = body["plans"]
    assert plan["id"] == desk["plan"]["id"]
    assert plan["visibility"] == "PUBLIC"
    assert plan["status"] == "ACTIVE"
    assert plan["currency"] == "GBP"
    (variant,) = plan["pricingVariants"]
    assert variant["pricingStrategies"] == [{"flatRate": {"amount": "90"}}]
    assert variant["billingTerms"]["billingCycle"] == {"period": "MONTH", "count": 3}
    assert variant["billingTerms"]["endType"] == "CYCLES_COMPLETED"
    assert body["pagingMetadata"]["hasNext"] is False


def test_query_plans_v3_filters_from_dotted_params_and_from_dot_r(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    hidden = make_plan(sandbox, "Staff Pass", None, [], "0", public=False)
    encoded = base64.urlsafe_b64encode(json.dumps({"query": {"filter": {"visibility": "PRIVATE"}}}).encode()).decode()

    _, dotted = call(
        sandbox, "GET", "/pricing-plans/v3/plans/query", **{"query.filter": json.dumps({"visibility": "PUBLIC"})}
    )
    _, packed = call(sandbox, "GET", "/pricing-plans/v3/plans/query", **{".r": encoded.rstrip("=")})
    _, paged = call(sandbox, "GET", "/pricing-plans/v3/plans/query", **{"query.cursorPaging.limit": "1"})

    assert [p["id"] for p in dotted["plans"]] == [desk["plan"]["id"]]
    assert [p["id"] for p in packed["plans"]] == [hidden["id"]]
    assert len(paged["plans"]) == 1 and paged["pagingMetadata"]["hasNext"] is True


def test_query_plans_v3_rejects_a_filter_that_is_not_json(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/pricing-plans/v3/plans/query", **{"query.filter": "{visibility"})

    assert status == 400
    assert violations(body) == ["query.filter"]


def test_a_plan_covering_a_service_is_listed_on_the_service(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    _, body = call(sandbox, "GET", f"/_api/bookings/v2/services/{desk['service']['id']}")

    assert body["service"]["payment"]["pricingPlanIds"] == [desk["plan"]["id"]]
    assert body["service"]["payment"]["options"]["pricingPlan"] is True


# -- plan orders ------------------------------------------------------------------------------------


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


def test_offline_order_starting_later_is_pending_until_its_start(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    start = "2026-12-01T00:00:00.000Z"
    _, body = call(
        sandbox, "POST", OFFLINE, {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "startDate": start}
    )
    order = body["order"]
    _, pools = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"filter": {"program.externalId": order["id"]}}}
    )
    pool = pools["pools"][0]

    assert order["status"] == "PENDING" and "currentCycle" not in order
    assert pool["status"] == "PENDING"
    status, rejected = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    assert (status, code(rejected)) == (428, "POOL_NOT_ACTIVE")

    sandbox_clock[0] = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    _, later = call(sandbox, "GET", f"{ORDERS}/{order['id']}")
    assert later["order"]["status"] == "ACTIVE"
    assert later["order"]["currentCycle"]["index"] == 1
    status, _ = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    assert status == 200


def test_offline_order_requires_plan_and_member(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", OFFLINE, {})

    assert status == 400
    assert violations(body) == ["planId", "memberId"]
    assert count(sandbox, "plan_orders") == 0


def test_offline_order_for_an_unknown_member_changes_nothing(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", OFFLINE, {"planId": desk["plan"]["id"], "memberId": "ghost"})

    assert status == 400
    (problem,) = body["details"]["validationError"]["fieldViolations"]
    assert (problem["field"], problem["violatedRule"], problem["ruleName"]) == (
        "memberId",
        "OTHER",
        "MEMBER_DOESNT_EXIST",
    )
    assert count(sandbox, "plan_orders") == count(sandbox, "programs") == count(sandbox, "pools") == 0


def test_offline_order_for_an_unknown_plan_is_plan_not_found(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", OFFLINE, {"planId": "nope", "memberId": desk["member"]["id"]})

    assert (status, code(body)) == (404, "plan_not_found")


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


def test_an_order_ends_at_its_end_date_and_its_pool_with_it(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    sandbox_clock[0] = datetime(2027, 2, 21, 9, 0, tzinfo=UTC)
    _, order = call(sandbox, "GET", f"{ORDERS}/{sold['order']['id']}")
    _, pools = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"filter": {"id": sold["pool"]["id"]}}}
    )

    assert order["order"]["status"] == "ENDED"
    assert "currentCycle" not in order["order"]
    assert pools["pools"][0]["status"] == "ENDED"
    status, body = call(sandbox, "POST", REDEEM, redeem_body(sold["pool"], desk["service"]["id"]))
    assert (status, code(body)) == (428, "POOL_NOT_ACTIVE")


def test_an_order_started_long_ago_is_already_ended(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    _, body = call(
        sandbox,
        "POST",
        OFFLINE,
        {"planId": desk["plan"]["id"], "memberId": desk["member"]["id"], "startDate": "2026-01-10T10:00:00Z"},
    )

    assert body["order"]["status"] == "ENDED"
    assert body["order"]["endDate"] == "2026-04-10T10:00:00.000Z"


def test_a_plan_valid_until_canceled_has_no_end_date(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    forever = make_plan(
        sandbox, "Lifetime", 20, [desk["service"]["id"]], "500", pricing_model={"singlePaymentUnlimited": True}
    )

    order = sell_plan(sandbox, desk["member"], forever)["order"]

    assert "endDate" not in order
    assert order["currentCycle"] == {"index": 1, "startedDate": order["startDate"]}


def test_a_monthly_subscription_refills_its_credits_each_cycle(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    monthly = make_plan(
        sandbox,
        "4 Swims a Month",
        4,
        [desk["service"]["id"]],
        "30",
        pricing_model={"subscription": {"cycleDuration": {"count": 1, "unit": "MONTH"}, "cycleCount": 3}},
    )
    sold = sell_plan(sandbox, desk["member"], monthly, credits_left=1)
    assert sold["order"]["autoRenewCanceled"] is False
    assert sold["order"]["endDate"] == "2027-02-21T09:00:00.000Z"

    sandbox_clock[0] = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    _, order = call(sandbox, "GET", f"{ORDERS}/{sold['order']['id']}")

    assert order["order"]["currentCycle"] == {
        "index": 2,
        "startedDate": "2026-12-21T09:00:00.000Z",
        "endedDate": "2027-01-21T09:00:00.000Z",
    }
    assert available(sandbox, sold["pool"]["id"]) == "4"
    _, pools = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"filter": {"id": sold["pool"]["id"]}}}
    )
    assert pools["pools"][0]["renewalCount"] == 1


# -- benefit programs ------------------------------------------------------------------------------


def test_query_pools_finds_a_members_active_pools(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    mine = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    sell_plan(sandbox, other, desk["plan"])
    query = {
        "filter": {"beneficiary.memberId": desk["member"]["id"], "status": "ACTIVE", "namespace": NS},
        "cursorPaging": {"limit": 10},
    }

    status, body = call(sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": query})

    assert status == 200
    assert [p["id"] for p in body["pools"]] == [mine["id"]]
    assert body["metadata"]["count"] == 1 and body["metadata"]["hasNext"] is False


def test_query_pools_pages_with_cursors(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    first = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    second = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    _, page1 = call(sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"cursorPaging": {"limit": 1}}})
    cursor = page1["metadata"]["cursors"]["next"]
    _, page2 = call(
        sandbox, "POST", "/benefit-programs/v1/pools/query", {"query": {"cursorPaging": {"limit": 1, "cursor": cursor}}}
    )

    assert {page1["pools"][0]["id"], page2["pools"][0]["id"]} == {first["id"], second["id"]}
    assert page1["metadata"]["hasNext"] is True and page2["metadata"]["hasNext"] is False


def test_eligible_pools_lists_the_pool_that_covers_the_service(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    body = {
        "itemReference": item(desk["service"]["id"]),
        "beneficiary": {"memberId": desk["member"]["id"]},
        "namespace": NS,
    }

    status, result = call(sandbox, "POST", ELIGIBLE, body)

    assert status == 200
    assert result["eligibleBenefits"] == [
        {
            "poolId": pool["id"],
            "benefitKey": pool["details"]["benefits"][0]["benefitKey"],
            "itemReference": item(desk["service"]["id"]),
            "price": "1",
        }
    ]


def test_eligible_pools_leaves_out_other_services_other_members_and_empty_pools(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)
    sell_plan(sandbox, other, desk["plan"])

    def eligible(service_id: str, member_id: str, **extra: Any) -> list[dict[str, Any]]:
        body = {"itemReference": item(service_id), "beneficiary": {"memberId": member_id}, "namespace": NS, **extra}
        return call(sandbox, "POST", ELIGIBLE, body)[1]["eligibleBenefits"]

    assert eligible(desk["service"]["id"], desk["member"]["id"]) == []  # the member's pool is empty
    assert eligible(massage["id"], other["id"]) == []  # not covered
    assert len(eligible(desk["service"]["id"], other["id"])) == 1
    assert eligible(desk["service"]["id"], other["id"], count=11) == []  # more than is left


def test_eligible_pools_without_an_item_reference_is_invalid(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    status, body = call(sandbox, "POST", ELIGIBLE, {"beneficiary": {"memberId": desk["member"]["id"]}, "namespace": NS})

    assert (status, code(body)) == (400, "INVALID_ITEM_REFERENCE")


def test_check_eligibility_answers_each_result_type(
    sandbox: Sandbox, sandbox_clock: list[datetime], desk: dict[str, Any]
) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    full = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    empty = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)["pool"]
    later = sell_plan(sandbox, desk["member"], desk["plan"], start=sandbox_clock[0] + timedelta(days=3))["pool"]
    swim = desk["service"]["id"]

    def check(pool_id: str, service_id: str, **extra: Any) -> dict[str, Any]:
        status, body = call(
            sandbox, "POST", CHECK, {"poolId": pool_id, "itemReference": item(service_id), "namespace": NS, **extra}
        )
        assert status == 200
        return body["result"]

    assert check(full["id"], swim)["type"] == "ELIGIBLE"
    assert check(full["id"], swim)["eligibleOptions"]["eligibleBenefits"][0]["poolId"] == full["id"]
    assert check(empty["id"], swim)["notEnoughBalanceOptions"] == {
        "poolId": empty["id"],
        "itemReference": item(swim),
        "availableBalance": "0",
        "requestedBalance": "1",
    }
    assert check(full["id"], massage["id"])["type"] == "POLICY_EXPRESSION_EVALUATED_TO_FALSE"
    assert check(later["id"], swim)["poolNotActiveOptions"] == {"poolId": later["id"], "poolStatus": "PENDING"}
    assert check(full["id"], swim, benefitKey="nope")["benefitNotFoundOptions"] == {
        "poolId": full["id"],
        "benefitKey": "nope",
    }
    assert check("nope", swim)["poolNotFoundOptions"] == {"poolId": "nope"}


def test_check_eligibility_requires_pool_and_item(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CHECK, {"itemReference": item("s")})
    item_status, item_body = call(sandbox, "POST", CHECK, {"poolId": "p"})

    assert (status, violations(body)) == (400, ["poolId"])
    assert (item_status, violations(item_body)) == (400, ["itemReference"])


def test_redeem_takes_one_credit_and_records_the_transaction(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))

    assert status == 200
    assert available(sandbox, pool["id"]) == "9"
    _, balance = call(sandbox, "GET", f"/benefit-programs/v1/balances/{pool['id']}")
    assert balance["balance"]["lastTransactionId"] == body["transactionId"]
    _, txs = call(
        sandbox, "POST", "/benefit-programs/v1/transactions/query", {"query": {"filter": {"pool.id": pool["id"]}}}
    )
    (tx,) = txs["transactions"]
    assert tx["id"] == body["transactionId"]
    assert (tx["amount"], tx["source"], tx["target"], tx["status"]) == ("1", "AVAILABLE", "EXTERNAL", "COMPLETED")
    assert tx["idempotencyKey"] == "k-1"
    assert tx["details"]["item"]["externalId"] == desk["service"]["id"]
    assert tx["details"]["itemCount"] == 1


def test_redeem_several_items_takes_that_many_credits(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, _ = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], count=3))

    assert status == 200
    assert available(sandbox, pool["id"]) == "7"


def test_redeem_again_with_the_same_idempotency_key_charges_nothing(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key="booking-42"))

    assert (status, code(body)) == (409, "BENEFIT_ALREADY_REDEEMED")
    assert body["details"]["applicationError"]["data"] == {"poolId": pool["id"], "idempotencyKey": "booking-42"}
    assert available(sandbox, pool["id"]) == "9"
    assert count(sandbox, "benefit_transactions") == 1


def test_redeem_from_an_empty_pool_is_not_enough_balance_and_changes_nothing(
    sandbox: Sandbox, desk: dict[str, Any]
) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=0)["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))

    assert (status, code(body)) == (428, "NOT_ENOUGH_BALANCE")
    assert body["details"]["applicationError"]["data"]["availableBalance"] == "0"
    assert available(sandbox, pool["id"]) == "0"
    assert count(sandbox, "benefit_transactions") == 0


def test_redeem_for_a_service_the_plan_does_not_cover_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage")
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(sandbox, "POST", REDEEM, redeem_body(pool, massage["id"]))

    assert (status, code(body)) == (428, "POLICY_EXPRESSION_EVALUATED_TO_FALSE")
    assert available(sandbox, pool["id"]) == "10"


def test_redeem_for_another_members_pool_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    other = make_member(sandbox, make_contact(sandbox, "Sam", "Diver"))
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(
        sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], beneficiary={"memberId": other["id"]})
    )

    assert (status, code(body)) == (428, "POLICY_EXPRESSION_EVALUATED_TO_FALSE")
    assert available(sandbox, pool["id"]) == "10"


def test_redeem_from_an_unknown_pool_or_benefit_is_not_found(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]

    status, body = call(sandbox, "POST", REDEEM, {**redeem_body(pool, desk["service"]["id"]), "poolId": "nope"})
    key_status, key_body = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], benefitKey="nope"))
    ns_status, ns_body = call(
        sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], namespace="@acme/loyalty")
    )

    assert (status, code(body)) == (404, "POOL_NOT_FOUND")
    assert (key_status, code(key_body)) == (404, "BENEFIT_NOT_FOUND")
    assert (ns_status, code(ns_body)) == (404, "POOL_NOT_FOUND")
    assert available(sandbox, pool["id"]) == "10"


def test_redeem_requires_pool_item_benefit_and_idempotency_key(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", REDEEM, {})
    count_status, count_body = call(
        sandbox,
        "POST",
        REDEEM,
        {"poolId": "p", "itemReference": item("s"), "benefitKey": "b", "idempotencyKey": "k", "count": 0},
    )

    assert status == 400
    assert violations(body) == ["poolId", "itemReference", "benefitKey", "idempotencyKey"]
    assert (count_status, violations(count_body)) == (400, ["count"])


def test_an_unlimited_plan_never_runs_out(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    unlimited = make_plan(sandbox, "Unlimited Swims", None, [desk["service"]["id"]], "120")
    sold = sell_plan(sandbox, desk["member"], unlimited)
    pool = sold["pool"]

    for n in range(25):
        status, _ = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"], key=f"swim-{n}"))
        assert status == 200

    assert "creditConfiguration" not in pool["details"]
    assert pool["details"]["benefits"][0]["price"] == "0"
    assert available(sandbox, pool["id"]) == "0"
    assert "creditAmount" not in sold["balance"]["poolInfo"]


def test_cancel_redemption_gives_the_credit_back(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _, redeemed = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))

    status, body = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"]})

    assert status == 200
    assert available(sandbox, pool["id"]) == "10"
    reverse = sandbox.state.get("benefit_transactions", body["transactionId"])
    assert (reverse["source"], reverse["target"], reverse["amount"]) == ("EXTERNAL", "AVAILABLE", "1")
    assert reverse["relatedTransactionId"] == redeemed["transactionId"]


def test_cancel_redemption_twice_or_of_a_non_redemption_is_refused(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    pool = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    _, redeemed = call(sandbox, "POST", REDEEM, redeem_body(pool, desk["service"]["id"]))
    _, canceled = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"]})

    status, body = call(sandbox, "POST", CANCEL, {"transactionId": redeemed["transactionId"]})
    rev_status, rev_body = call(sandbox, "POST", CANCEL, {"transactionId": canceled["transactionId"]})

    assert (status, code(body)) == (428, "REDEMPTION_ALREADY_CANCELED")
    assert (rev_status, code(rev_body)) == (428, "TRANSACTION_NOT_CANCELABLE")
    assert available(sandbox, pool["id"]) == "10"


def test_cancel_redemption_of_an_unknown_transaction_is_not_found(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CANCEL, {"transactionId": "nope"})
    missing_status, missing = call(sandbox, "POST", CANCEL, {})

    assert (status, code(body)) == (404, "TRANSACTION_NOT_FOUND")
    assert (missing_status, violations(missing)) == (400, ["transactionId"])


def test_balances_list_by_pool_ids_and_query(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    first = sell_plan(sandbox, desk["member"], desk["plan"])["pool"]
    second = sell_plan(sandbox, desk["member"], desk["plan"], credits_left=3)["pool"]

    _, listed = call(sandbox, "GET", "/benefit-programs/v1/balances", poolIds=[second["id"]])
    _, queried = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/balances/query",
        {"query": {"filter": {"beneficiary.memberId": desk["member"]["id"]}}},
    )

    assert [(b["id"], b["amount"]["available"]) for b in listed["balances"]] == [(second["id"], "3")]
    assert listed["metadata"] == {"count": 1, "cursors": {"next": None, "prev": None}, "hasNext": False}
    assert {b["id"] for b in queried["balances"]} == {first["id"], second["id"]}


def test_get_balance_of_an_unknown_pool_is_not_found(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/benefit-programs/v1/balances/nope")

    assert (status, code(body)) == (404, "BALANCE_NOT_FOUND")


def test_query_programs_by_beneficiary(sandbox: Sandbox, desk: dict[str, Any]) -> None:
    sold = sell_plan(sandbox, desk["member"], desk["plan"])

    _, body = call(
        sandbox,
        "POST",
        "/benefit-programs/v1/programs/query",
        {"query": {"filter": {"beneficiary.memberId": desk["member"]["id"]}}},
    )

    assert [p["id"] for p in body["programs"]] == [sold["program"]["id"]]
    assert body["programs"][0]["programDefinition"]["externalId"] == desk["plan"]["id"]


# -- eCommerce Memberships (benefits.py) --------------------------------------------------------------


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
