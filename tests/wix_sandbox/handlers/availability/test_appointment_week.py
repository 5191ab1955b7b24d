"""List Availability Time Slots over a week, as the desk's week grid asks it: one call for the
week (paged with the cursor alone), narrowed to one staff member with ``resourceTypes``, across a
clock change; and the request fields the contract does not have, refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.wix_sandbox.availability_builders import appointment_booking, at, error_code, starts
from tests.wix_sandbox.builders import STAFF_RESOURCE_TYPE_ID, call, make_service, make_staff, make_working_hours
from wix_sandbox import Sandbox

SLOTS = "/_api/service-availability/v2/time-slots"
WEEK_OF_23_NOV = {"fromLocalDate": "2026-11-23T00:00:00", "toLocalDate": "2026-11-30T00:00:00"}


@pytest.fixture
def spa(sandbox: Sandbox) -> dict[str, Any]:
    """Two therapists on one massage (60 min): Maya 09:00–12:00 Monday to Saturday, Ravi
    14:00–16:00 Monday and Wednesday."""
    maya, ravi = make_staff(sandbox, "Maya Thompson"), make_staff(sandbox, "Ravi Patel")
    service = make_service(sandbox, type="APPOINTMENT", name="Sports Massage", capacity=1, staff=[maya, ravi])
    for offset in range(6):
        make_working_hours(sandbox, maya, at(datetime(2026, 11, 23) + timedelta(days=offset), 9), hours=3)
    for day in (23, 25):
        make_working_hours(sandbox, ravi, at(datetime(2026, 11, day), 14), hours=2)
    return {"maya": maya, "ravi": ravi, "service": service}


def week(service: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "serviceId": service["id"],
        **WEEK_OF_23_NOV,
        "timeZone": "Europe/London",
        "includeResourceTypeIds": [STAFF_RESOURCE_TYPE_ID],
        "bookable": True,
        **extra,
    }


def only(staff: dict[str, Any]) -> dict[str, Any]:
    return {"resourceTypes": [{"resourceTypeId": STAFF_RESOURCE_TYPE_ID, "resourceIds": [staff["resourceId"]]}]}


def test_one_call_lists_the_whole_week_in_time_order_with_who_is_free(sandbox: Sandbox, spa: dict) -> None:
    status, body = call(sandbox, "POST", SLOTS, week(spa["service"]))

    assert status == 200
    listed = starts(body)
    assert len(listed) == 6 * 3 + 2 * 2 and listed == sorted(listed)
    assert listed[:5] == [
        "2026-11-23T09:00:00",
        "2026-11-23T10:00:00",
        "2026-11-23T11:00:00",
        "2026-11-23T14:00:00",
        "2026-11-23T15:00:00",
    ]
    assert listed[-1] == "2026-11-28T11:00:00"
    names = {s["localStartDate"]: s["availableResources"][0]["resources"][0]["name"] for s in body["timeSlots"]}
    assert names["2026-11-25T14:00:00"] == "Ravi Patel" and names["2026-11-28T09:00:00"] == "Maya Thompson"
    assert body["cursorPagingMetadata"]["hasNext"] is False


def test_resource_types_narrow_the_week_to_one_staff_member(sandbox: Sandbox, spa: dict) -> None:
    _, body = call(sandbox, "POST", SLOTS, week(spa["service"], **only(spa["ravi"])))

    assert starts(body) == [
        "2026-11-23T14:00:00",
        "2026-11-23T15:00:00",
        "2026-11-25T14:00:00",
        "2026-11-25T15:00:00",
    ]
    assert {r["id"] for s in body["timeSlots"] for r in s["availableResources"][0]["resources"]} == {
        spa["ravi"]["resourceId"]
    }


def test_the_week_pages_with_the_cursor_alone_and_the_pages_add_up_to_the_week(sandbox: Sandbox, spa: dict) -> None:
    _, whole = call(sandbox, "POST", SLOTS, week(spa["service"]))
    pages: list[str] = []
    status, body = call(sandbox, "POST", SLOTS, week(spa["service"], cursorPaging={"limit": 5}))
    while True:
        assert status == 200 and len(body["timeSlots"]) <= 5
        pages.extend(starts(body))
        if not body["cursorPagingMetadata"]["hasNext"]:
            break
        cursor = body["cursorPagingMetadata"]["cursors"]["next"]
        status, body = call(sandbox, "POST", SLOTS, {"cursorPaging": {"limit": 5, "cursor": cursor}})

    assert pages == starts(whole) and len(pages) == 22


def test_a_cursor_sent_with_filters_is_refused(sandbox: Sandbox, spa: dict) -> None:
    _, first = call(sandbox, "POST", SLOTS, week(spa["service"], cursorPaging={"limit": 5}))
    cursor = first["cursorPagingMetadata"]["cursors"]["next"]

    status, body = call(sandbox, "POST", SLOTS, week(spa["service"], cursorPaging={"limit": 5, "cursor": cursor}))

    assert status == 400 and error_code(body) == "CURSOR_WITH_FILTERS"
    assert "serviceId" in body["details"]["applicationError"]["data"]["fields"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("resourceIds", ["r-1"]),  # Get Availability Time Slot's field, not List's
        ("staffMemberIds", ["s-1"]),
        ("filter", {"resourceId": "r-1"}),
        ("serviceIds", ["svc"]),  # List Event Time Slots' field
    ],
)
def test_a_field_the_request_does_not_have_is_refused_not_ignored(
    sandbox: Sandbox, spa: dict, field: str, value: Any
) -> None:
    status, body = call(sandbox, "POST", SLOTS, week(spa["service"], **{field: value}))

    assert status == 400 and error_code(body) == "UNSUPPORTED_FILTER_FIELD"
    assert body["details"]["applicationError"]["data"]["fields"] == [field]


@pytest.mark.parametrize(
    "extra",
    [
        {"resourceTypes": [{"resourceIds": ["r-1"]}]},
        {"resourceTypes": ["r-1"]},
        {"resourceTypes": [{"resourceTypeId": STAFF_RESOURCE_TYPE_ID, "resourceIds": "r-1"}]},
        {"resourceTypes": [{"resourceTypeId": STAFF_RESOURCE_TYPE_ID, "staffIds": ["r-1"]}]},
        {"includeResourceTypeIds": STAFF_RESOURCE_TYPE_ID},
        {"bookable": "yes"},
        {"locations": ["loc-1"]},
        {"customerChoices": "60"},
    ],
)
def test_malformed_filters_are_a_400_not_a_crash_or_a_silent_skip(sandbox: Sandbox, spa: dict, extra: dict) -> None:
    status, body = call(sandbox, "POST", SLOTS, week(spa["service"], **extra))

    assert status == 400 and body["details"]["validationError"]["fieldViolations"]


def test_without_the_bookable_filter_bookable_slots_come_first(sandbox: Sandbox, spa: dict) -> None:
    with sandbox.state.transaction():
        row = sandbox.state.edit("services", spa["service"]["id"])
        # Booking closes 49 h before the start: now is Sat 21 Nov 09:00, so Monday 09:00 is too late.
        row["bookingPolicy"] = {"limitLateBookingPolicy": {"enabled": True, "latestBookingInMinutes": 49 * 60}}
        sandbox.state.put("services", row)
    body = week(spa["service"])
    del body["bookable"]

    _, answer = call(sandbox, "POST", SLOTS, body)

    flags = [s["bookable"] for s in answer["timeSlots"]]
    assert flags == sorted(flags, reverse=True) and flags[-1] is False
    assert answer["timeSlots"][-1]["localStartDate"] == "2026-11-23T09:00:00"


def test_a_week_across_the_clock_change_keeps_wall_clock_times_and_blocks_the_right_hour(
    sandbox: Sandbox, spa: dict
) -> None:
    # Clocks go forward in London on Sunday 28 March 2027 (01:00 GMT → 02:00 BST).
    maya = spa["maya"]
    make_working_hours(sandbox, maya, datetime(2027, 3, 26, 9), hours=2)  # Friday, GMT
    make_working_hours(sandbox, maya, datetime(2027, 3, 29, 9), hours=2)  # Monday, BST
    appointment_booking(sandbox, spa["service"], maya, "2027-03-29T10:00:00", "2027-03-29T11:00:00")
    request = week(spa["service"], fromLocalDate="2027-03-22T00:00:00", toLocalDate="2027-03-30T00:00:00")

    _, body = call(sandbox, "POST", SLOTS, request)

    assert starts(body) == ["2027-03-26T09:00:00", "2027-03-26T10:00:00", "2027-03-29T09:00:00"]
    assert body["timeSlots"][-1]["localEndDate"] == "2027-03-29T10:00:00"


def test_more_than_ten_free_staff_are_cut_at_ten_and_say_so(sandbox: Sandbox) -> None:
    team = [make_staff(sandbox, f"Therapist {n:02d}") for n in range(11)]
    service = make_service(sandbox, type="APPOINTMENT", name="Facial", capacity=1, staff=team)
    for person in team:
        make_working_hours(sandbox, person, datetime(2026, 11, 23, 9), hours=1)

    _, body = call(sandbox, "POST", SLOTS, week(service))

    (slot,) = body["timeSlots"]
    (group,) = slot["availableResources"]
    assert len(group["resources"]) == 10 and group["hasMoreAvailableResources"] is True
