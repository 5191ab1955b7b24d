"""Staff members, resources, contacts and members in the sandbox (CONTRACT.md §8, §10)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_member, make_staff
from wix_sandbox import Sandbox

CONTACTS = "/contacts/v4/contacts"


def error_code(body: dict) -> str:
    return body["details"]["applicationError"]["code"]


# -- staff members and resources ----------------------------------------------------------------


def test_staff_query_hides_the_resource_unless_resource_details_are_asked_for(sandbox: Sandbox) -> None:
    staff = make_staff(sandbox, "Alex Coach")
    status, body = call(sandbox, "POST", "/bookings/v1/staff-members/query", {"query": {}})
    assert status == 200
    (member,) = body["staffMembers"]
    assert member["resourceId"] == staff["resourceId"] and "resource" not in member
    assert body["pagingMetadata"]["hasNext"] is False and "cursors" in body["pagingMetadata"]
    _, body = call(sandbox, "POST", "/bookings/v1/staff-members/query", {"query": {}, "fields": ["RESOURCE_DETAILS"]})
    resource = body["staffMembers"][0]["resource"]
    assert resource["id"] == staff["resourceId"]
    assert resource["eventsSchedule"]["id"] == staff["resource"]["eventsSchedule"]["id"]
    assert call(sandbox, "POST", "/bookings/v1/staff-members/query", {"query": {}, "fields": ["EVERYTHING"]})[0] == 400


def test_staff_query_filters_and_pages_by_cursor_on_both_paths(sandbox: Sandbox) -> None:
    for name in ("Alex Coach", "Sam Lifeguard", "Jo Therapist"):
        make_staff(sandbox, name)
    _, body = call(
        sandbox, "POST", "/bookings/staff/v1/staff-members/query", {"query": {"filter": {"name": "Sam Lifeguard"}}}
    )
    assert [s["name"] for s in body["staffMembers"]] == ["Sam Lifeguard"]
    _, first = call(sandbox, "POST", "/bookings/v1/staff-members/query", {"query": {"cursorPaging": {"limit": 2}}})
    assert len(first["staffMembers"]) == 2 and first["pagingMetadata"]["hasNext"] is True
    cursor = first["pagingMetadata"]["cursors"]["next"]
    _, second = call(
        sandbox, "POST", "/bookings/v1/staff-members/query", {"query": {"cursorPaging": {"cursor": cursor}}}
    )
    assert [s["name"] for s in second["staffMembers"]] == ["Jo Therapist"]


def test_get_staff_member_and_404(sandbox: Sandbox) -> None:
    staff = make_staff(sandbox)
    status, body = call(sandbox, "GET", f"/bookings/v1/staff-members/{staff['id']}", fields=["RESOURCE_DETAILS"])
    assert status == 200 and body["staffMember"]["resource"]["id"] == staff["resourceId"]
    status, body = call(sandbox, "GET", "/bookings/staff/v1/staff-members/nope")
    assert status == 404 and error_code(body) == "STAFF_MEMBER_NOT_FOUND"


def test_resources_query_and_get(sandbox: Sandbox) -> None:
    staff = make_staff(sandbox)
    status, body = call(
        sandbox, "POST", "/bookings/v2/resources/query", {"query": {"filter": {"id": staff["resourceId"]}}}
    )
    assert status == 200 and [r["name"] for r in body["resources"]] == ["Alex Coach"]
    status, body = call(sandbox, "GET", f"/bookings/v2/resources/{staff['resourceId']}")
    assert status == 200 and body["resource"]["typeId"]
    status, body = call(sandbox, "GET", "/bookings/v2/resources/nope")
    assert status == 404 and error_code(body) == "RESOURCE_NOT_FOUND"


# -- contacts: create -----------------------------------------------------------------------------


def contact_info(first: str = "Jo", email: str | None = "jo@example.com", phone: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"name": {"first": first, "last": "Swimmer"}}
    if email:
        info["emails"] = {"items": [{"tag": "MAIN", "email": email, "primary": True}]}
    if phone:
        info["phones"] = {"items": [{"tag": "MOBILE", "countryCode": "GB", "phone": phone, "primary": True}]}
    return info


def test_create_contact_returns_the_wix_contact_shape(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CONTACTS, {"info": contact_info(phone="+44 7700 900123")})
    assert status == 200
    contact = body["contact"]
    assert contact["revision"] == 1  # an integer for contacts
    assert contact["primaryInfo"] == {"email": "jo@example.com", "phone": "+44 7700 900123"}
    assert contact["info"]["name"] == {"first": "Jo", "last": "Swimmer"}
    email = contact["info"]["emails"]["items"][0]
    assert email["id"] and email["tag"] == "MAIN" and email["primary"] is True
    assert contact["createdDate"] == "2026-11-21T09:00:00.000Z"
    assert sandbox.state.get("contacts", contact["id"]) == contact


@pytest.mark.parametrize(
    "info",
    [
        {"name": {"first": "Jo"}},
        {"emails": {"items": [{"email": "only@example.com"}]}},
        {"phones": {"items": [{"phone": "07700 900123"}]}},
    ],
)
def test_a_name_an_email_or_a_phone_is_enough(sandbox: Sandbox, info: dict) -> None:
    status, body = call(sandbox, "POST", CONTACTS, {"info": info})
    assert status == 200
    for key in ("emails", "phones"):
        if key in body["contact"]["info"]:
            assert body["contact"]["info"][key]["items"][0]["primary"] is True  # the only item becomes primary


def test_contact_without_name_email_or_phone_is_insufficient(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CONTACTS, {"info": {"company": "Lake Ltd"}})
    assert status == 400 and error_code(body) == "INSUFFICIENT_CONTACT_DATA"
    assert call(sandbox, "POST", CONTACTS, {})[0] == 400
    assert sandbox.state.count("contacts") == 0


def test_malformed_email_or_tag_is_a_validation_error(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", CONTACTS, {"info": contact_info(email="not-an-email")})
    assert status == 400
    assert body["details"]["validationError"]["fieldViolations"][0]["field"] == "info.emails.items[0].email"
    info = contact_info()
    info["emails"]["items"][0]["tag"] = "PERSONAL"
    assert call(sandbox, "POST", CONTACTS, {"info": info})[0] == 400
    assert sandbox.state.count("contacts") == 0


def test_two_primary_emails_are_rejected(sandbox: Sandbox) -> None:
    info = {
        "emails": {"items": [{"email": "a@example.com", "primary": True}, {"email": "b@example.com", "primary": True}]}
    }
    status, body = call(sandbox, "POST", CONTACTS, {"info": info})
    assert status == 400 and error_code(body) == "CANNOT_HAVE_MULTIPLE_PRIMARY_INFO"


def test_duplicate_email_is_409_with_the_existing_contact_unless_duplicates_are_allowed(sandbox: Sandbox) -> None:
    existing = make_contact(sandbox, email="jo@example.com")
    status, body = call(sandbox, "POST", CONTACTS, {"info": contact_info(email="JO@Example.com")})
    assert status == 409 and error_code(body) == "DUPLICATE_CONTACT_EXISTS"
    assert body["details"]["applicationError"]["data"] == {"duplicateContactId": existing["id"]}
    assert sandbox.state.count("contacts") == 1
    status, body = call(
        sandbox, "POST", CONTACTS, {"info": contact_info(email="jo@example.com"), "allowDuplicates": True}
    )
    assert status == 200 and body["contact"]["id"] != existing["id"]


# -- contacts: query and get -----------------------------------------------------------------------


@pytest.fixture
def people(sandbox: Sandbox, sandbox_clock: list) -> dict[str, dict]:
    out = {}
    for first, last, email, phone in (
        ("Ann", "Lake", "ann@example.com", "07700 900001"),
        ("Bob", "River", "Bob.River@Example.com", None),
        ("Cat", "Lake", "cat@swim.example", "07700 900003"),
    ):
        out[first] = make_contact(sandbox, first, last, email=email, phone=phone)
        sandbox_clock[0] += timedelta(minutes=1)
    return out


def query(sandbox: Sandbox, q: dict, **extra: Any) -> tuple[int, dict]:
    return call(sandbox, "POST", f"{CONTACTS}/query", {"query": q, **extra})


def firsts(body: dict) -> list[str]:
    return [c["info"]["name"]["first"] for c in body["contacts"]]


def test_query_by_email_is_case_insensitive(sandbox: Sandbox, people: dict) -> None:
    _, body = query(sandbox, {"filter": {"info.emails.email": "bob.river@example.com"}})
    assert firsts(body) == ["Bob"]
    _, body = query(sandbox, {"filter": {"info.emails.email": {"$in": ["ANN@example.com", "x@y.z"]}}})
    assert firsts(body) == ["Ann"]


def test_query_by_primary_email_prefix_name_and_or(sandbox: Sandbox, people: dict) -> None:
    _, body = query(sandbox, {"filter": {"primaryInfo.email": {"$startsWith": "CAT@"}}})
    assert firsts(body) == ["Cat"]
    _, body = query(
        sandbox, {"filter": {"info.name.last": "Lake"}, "sort": [{"fieldName": "info.name.first", "order": "ASC"}]}
    )
    assert firsts(body) == ["Ann", "Cat"]
    _, body = query(sandbox, {"filter": {"$or": [{"info.name.first": "Bob"}, {"info.phones.phone": "07700 900003"}]}})
    assert sorted(firsts(body)) == ["Bob", "Cat"]


def test_query_defaults_to_newest_first_with_offset_paging(sandbox: Sandbox, people: dict) -> None:
    status, body = query(sandbox, {"paging": {"limit": 2}})
    assert status == 200
    assert firsts(body) == ["Cat", "Bob"]
    assert body["pagingMetadata"] == {"count": 2, "offset": 0, "total": 3, "tooManyToCount": False}


def test_query_limit_and_sort_rules(sandbox: Sandbox, people: dict) -> None:
    status, body = query(sandbox, {"paging": {"limit": 1001}})
    assert status == 400 and error_code(body) == "ILLEGAL_LIMIT"
    assert query(sandbox, {"paging": {"limit": 1000}})[0] == 200
    two_sorts = [{"fieldName": "createdDate"}, {"fieldName": "info.name.first"}]
    status, body = query(sandbox, {"sort": two_sorts})
    assert status == 400 and error_code(body) == "UNSUPPORTED_SORT_FIELD"
    assert query(sandbox, {"sort": [{"fieldName": "info.emails"}]})[0] == 400


def test_free_text_search_matches_names_emails_and_phones(sandbox: Sandbox, people: dict) -> None:
    assert firsts(query(sandbox, {}, search="lake")[1]) == ["Cat", "Ann"]
    assert firsts(query(sandbox, {}, search="SWIM.EXAMPLE")[1]) == ["Cat"]
    assert firsts(query(sandbox, {}, search="900001")[1]) == ["Ann"]
    assert query(sandbox, {}, search="x" * 101)[0] == 400


def test_fieldsets_and_fields_project_the_contact(sandbox: Sandbox, people: dict) -> None:
    _, body = query(sandbox, {"filter": {"info.name.first": "Ann"}, "fieldsets": ["BASIC"]})
    assert body["contacts"][0] == {
        "id": people["Ann"]["id"],
        "revision": 1,
        "primaryInfo": people["Ann"]["primaryInfo"],
        "info": {"name": {"first": "Ann", "last": "Lake"}},
    }
    _, body = query(sandbox, {"filter": {"info.name.first": "Ann"}, "fields": ["info.phones"]})
    assert set(body["contacts"][0]) == {"id", "revision", "info"}
    assert set(body["contacts"][0]["info"]) == {"phones"}
    assert query(sandbox, {"fieldsets": ["SOME"]})[0] == 400


def test_get_contact_and_404(sandbox: Sandbox, people: dict) -> None:
    status, body = call(sandbox, "GET", f"{CONTACTS}/{people['Bob']['id']}")
    assert status == 200 and body["contact"] == people["Bob"]
    status, body = call(sandbox, "GET", f"{CONTACTS}/{people['Bob']['id']}", fieldsets=["BASIC"])
    assert "emails" not in body["contact"]["info"]
    status, body = call(sandbox, "GET", f"{CONTACTS}/nope")
    assert status == 404 and error_code(body) == "CONTACT_NOT_FOUND"


# -- members ------------------------------------------------------------------------------------


def test_member_query_by_contact_returns_public_fields_by_default(sandbox: Sandbox) -> None:
    contact = make_contact(sandbox, "Ann", "Lake")
    member = make_member(sandbox, contact)
    make_member(sandbox, make_contact(sandbox, "Bob", "River"))
    status, body = call(
        sandbox, "POST", "/members/v1/members/query", {"query": {"filter": {"contactId": contact["id"]}}}
    )
    assert status == 200
    assert body["members"] == [
        {
            "id": member["id"],
            "profile": member["profile"],
            "status": "UNKNOWN",
            "privacyStatus": "UNKNOWN",
            "activityStatus": "UNKNOWN",
        }
    ]
    assert body["metadata"] == {"count": 1, "offset": 0, "total": 1, "tooManyToCount": False}


def test_member_query_full_fieldset_and_login_email_filter(sandbox: Sandbox) -> None:
    contact = make_contact(sandbox, "Ann", "Lake")
    member = make_member(sandbox, contact)
    body = {"query": {"filter": {"loginEmail": "ann.lake@example.com"}}, "fieldsets": ["FULL"]}
    _, result = call(sandbox, "POST", "/members/v1/members/query", body)
    assert result["members"] == [member]
    assert result["members"][0]["contactId"] == contact["id"]
    assert call(sandbox, "POST", "/members/v1/members/query", {"query": {}, "fieldsets": ["ALL"]})[0] == 400


def test_member_query_paging_and_search(sandbox: Sandbox) -> None:
    for first in ("Ann", "Bob", "Cat"):
        make_member(sandbox, make_contact(sandbox, first, "Lake"))
    _, body = call(sandbox, "POST", "/members/v1/members/query", {"query": {"paging": {"limit": 2, "offset": 2}}})
    assert body["metadata"] == {"count": 1, "offset": 2, "total": 3, "tooManyToCount": False}
    _, body = call(
        sandbox,
        "POST",
        "/members/v1/members/query",
        {"query": {}, "search": {"expression": "bob"}, "fieldsets": ["FULL"]},
    )
    assert [m["profile"]["nickname"] for m in body["members"]] == ["Bob"]


def test_get_member_and_404(sandbox: Sandbox) -> None:
    member = make_member(sandbox, make_contact(sandbox))
    status, body = call(sandbox, "GET", f"/members/v1/members/{member['id']}", fieldsets=["FULL"])
    assert status == 200 and body["member"]["loginEmail"] == member["loginEmail"]
    _, body = call(sandbox, "GET", f"/members/v1/members/{member['id']}")
    assert "loginEmail" not in body["member"]
    status, body = call(sandbox, "GET", "/members/v1/members/nope")
    assert status == 404 and error_code(body) == "MEMBER_NOT_FOUND"
