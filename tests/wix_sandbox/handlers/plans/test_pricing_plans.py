"""Pricing Plans: plans in the V2 shape and the V3 query (``handlers/plans/pricing_plans.py``)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.plan_builders import code, make_plan, violations
from wix_sandbox import Sandbox


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
