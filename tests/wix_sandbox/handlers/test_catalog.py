"""Bookings services in the sandbox: query, get and search (CONTRACT.md §6)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.wix_sandbox.builders import call, make_service, make_staff
from wix_sandbox import Sandbox

QUERY = "/_api/bookings/v2/services/query"
SEARCH = "/_api/bookings/v2/services/search"


def names(body: dict) -> list[str]:
    return [s["name"] for s in body["services"]]


def test_query_filters_by_type_and_pages_by_offset(sandbox: Sandbox) -> None:
    make_service(sandbox, name="Open Water Swim")
    make_service(sandbox, type="APPOINTMENT", name="Massage", capacity=1)
    make_service(sandbox, type="APPOINTMENT", name="Facial", capacity=1)
    status, body = call(sandbox, "POST", QUERY, {"query": {"filter": {"type": "APPOINTMENT"}, "paging": {"limit": 1}}})
    assert status == 200
    assert names(body) == ["Massage"]
    assert body["pagingMetadata"] == {"count": 1, "offset": 0, "total": 2, "tooManyToCount": False}
    _, body = call(
        sandbox, "POST", QUERY, {"query": {"filter": {"type": "APPOINTMENT"}, "paging": {"limit": 1, "offset": 1}}}
    )
    assert names(body) == ["Facial"]


def test_query_is_also_served_on_the_public_alias(sandbox: Sandbox) -> None:
    make_service(sandbox)
    status, body = call(sandbox, "POST", "/bookings/v2/services/query", {"query": {}})
    assert status == 200 and len(body["services"]) == 1


@pytest.mark.parametrize(
    ("flt", "error"),
    [
        ({"updatedDate": {"$gte": "2026-11-21T00:00:00.000Z"}}, "UNSUPPORTED_FILTER_FIELD"),
        ({"createdDate": {"$gt": "2026-11-21T00:00:00.000Z"}}, "UNSUPPORTED_FILTER_FIELD"),
        ({"$or": [{"type": "CLASS"}, {"revision": "2"}]}, "UNSUPPORTED_FILTER_FIELD"),
        ({"staffMemberIds": "s-1"}, "UNSUPPORTED_FILTER_OPERATOR"),  # $hasSome / $hasAll only
    ],
)
def test_query_refuses_what_the_service_query_spec_does_not_list(sandbox: Sandbox, flt: dict, error: str) -> None:
    make_service(sandbox)
    status, body = call(sandbox, "POST", QUERY, {"query": {"filter": flt}})
    assert status == 400 and body["details"]["applicationError"]["code"] == error


def test_query_filters_on_listed_fields(sandbox: Sandbox) -> None:
    staff = make_staff(sandbox, "Alex Therapist")
    massage = make_service(sandbox, type="APPOINTMENT", name="Massage", capacity=1, staff=[staff])
    make_service(sandbox, name="Swim")
    flt = {"id": {"$in": [massage["id"]]}, "staffMemberIds": {"$hasSome": [staff["id"]]}, "hidden": False}
    status, body = call(sandbox, "POST", QUERY, {"query": {"filter": flt}})
    assert status == 200 and names(body) == ["Massage"]


def test_query_limit_over_100_is_rejected(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", QUERY, {"query": {"paging": {"limit": 101}}})
    assert status == 400 and body["details"]["applicationError"]["code"] == "ILLEGAL_LIMIT"


def test_get_service_and_404_for_an_unknown_one(sandbox: Sandbox) -> None:
    service = make_service(sandbox)
    status, body = call(sandbox, "GET", f"/_api/bookings/v2/services/{service['id']}")
    assert status == 200 and body["service"]["id"] == service["id"]
    assert "staffMemberDetails" not in body["service"]
    status, body = call(sandbox, "GET", "/bookings/v2/services/nope")
    assert status == 404 and body["details"]["applicationError"]["code"] == "SERVICE_NOT_FOUND"


def test_staff_member_details_come_only_when_asked_for(sandbox: Sandbox) -> None:
    staff = make_staff(sandbox, "Alex Therapist")
    service = make_service(sandbox, type="APPOINTMENT", name="Massage", staff=[staff])
    path = f"/_api/bookings/v2/services/{service['id']}"
    status, body = call(sandbox, "GET", path, conditionalFields=["STAFF_MEMBER_DETAILS"])
    assert status == 200
    assert body["service"]["staffMemberDetails"] == {
        "staffMembers": [{"staffMemberId": staff["id"], "name": "Alex Therapist"}]
    }
    _, body = call(sandbox, "POST", QUERY, {"query": {}, "conditionalFields": ["STAFF_MEMBER_DETAILS"]})
    assert body["services"][0]["staffMemberDetails"]["staffMembers"][0]["staffMemberId"] == staff["id"]
    # The stored service is untouched by the extra block.
    assert "staffMemberDetails" not in sandbox.state.get("services", service["id"])
    assert call(sandbox, "GET", path, conditionalFields=["EVERYTHING"])[0] == 400


def test_search_defaults_to_oldest_first_with_cursor_paging(sandbox: Sandbox, sandbox_clock: list) -> None:
    for name in ("Swim", "Sauna", "Massage"):
        make_service(sandbox, name=name)
        sandbox_clock[0] += timedelta(minutes=1)
    status, body = call(sandbox, "POST", SEARCH, {"search": {}})
    assert status == 200
    assert names(body) == ["Swim", "Sauna", "Massage"]
    assert body["pagingMetadata"]["hasNext"] is False
    assert "cursors" in body["pagingMetadata"]


def test_search_filters_sorts_and_pages(sandbox: Sandbox, sandbox_clock: list) -> None:
    for name, kind in (
        ("Swim", "CLASS"),
        ("Massage", "APPOINTMENT"),
        ("Facial", "APPOINTMENT"),
        ("Reiki", "APPOINTMENT"),
    ):
        make_service(sandbox, name=name, type=kind)
        sandbox_clock[0] += timedelta(minutes=1)
    search = {
        "filter": {"type": "APPOINTMENT"},
        "sort": [{"fieldName": "name", "order": "DESC"}],
        "cursorPaging": {"limit": 2},
    }
    _, first = call(sandbox, "POST", SEARCH, {"search": search})
    assert names(first) == ["Reiki", "Massage"] and first["pagingMetadata"]["hasNext"] is True
    cursor = first["pagingMetadata"]["cursors"]["next"]
    _, second = call(sandbox, "POST", SEARCH, {"search": {"cursorPaging": {"cursor": cursor, "limit": 2}}})
    assert names(second) == ["Facial"]
    _, offset = call(sandbox, "POST", SEARCH, {"search": {"paging": {"limit": 1, "offset": 1}}})
    assert names(offset) == ["Massage"] and offset["pagingMetadata"]["total"] == 4


def test_search_free_text_matches_name_and_description_and_survives_paging(sandbox: Sandbox) -> None:
    make_service(sandbox, name="Deep Tissue Massage", type="APPOINTMENT")
    make_service(sandbox, name="Hot Stone Massage", type="APPOINTMENT")
    make_service(sandbox, name="Open Water Swim")
    body = {"search": {"search": {"expression": "massage"}, "cursorPaging": {"limit": 1}}}
    _, first = call(sandbox, "POST", SEARCH, body)
    assert names(first) == ["Deep Tissue Massage"]
    cursor = first["pagingMetadata"]["cursors"]["next"]
    _, second = call(sandbox, "POST", SEARCH, {"search": {"cursorPaging": {"cursor": cursor, "limit": 1}}})
    assert names(second) == ["Hot Stone Massage"] and second["pagingMetadata"]["hasNext"] is False
    _, lake = call(sandbox, "POST", SEARCH, {"search": {"search": {"expression": "LAKE"}}})
    assert len(lake["services"]) == 3  # every builder description mentions the lake


def test_search_limit_over_100_is_rejected(sandbox: Sandbox) -> None:
    assert call(sandbox, "POST", SEARCH, {"search": {"cursorPaging": {"limit": 101}}})[0] == 400
    assert call(sandbox, "POST", "/bookings/v2/services/search", {"search": {}})[0] == 200
