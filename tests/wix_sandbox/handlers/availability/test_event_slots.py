"""Event time slots: class and course sessions (``handlers/availability/event_slots.py``)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.wix_sandbox.availability_builders import MONDAY, WEEK, at, put_booking, starts
from tests.wix_sandbox.builders import (
    STAFF_RESOURCE_TYPE_ID,
    call,
    make_event,
    make_service,
    make_staff,
    make_working_hours,
)
from wix_sandbox import Sandbox

EVENTS = "/_api/service-availability/v2/time-slots/event"


def test_class_session_becomes_one_slot_with_capacity_location_and_resources(sandbox: Sandbox, swim: dict) -> None:
    event = make_event(sandbox, swim["service"], at(MONDAY, 9), staff=swim["staff"])
    status, body = call(sandbox, "POST", EVENTS, WEEK)
    assert status == 200
    assert body["timeZone"] == "Europe/London"
    assert body["pagingMetadata"]["hasNext"] is False
    (slot,) = body["timeSlots"]
    assert slot["serviceId"] == swim["service"]["id"]
    assert slot["localStartDate"] == "2026-11-23T09:00:00" and slot["localEndDate"] == "2026-11-23T10:00:00"
    assert slot["bookable"] is True and slot["allDay"] is False
    assert slot["scheduleId"] == swim["service"]["schedule"]["id"]
    assert slot["eventInfo"] == {"eventId": event["id"], "eventTitle": "Open Water Swim"}
    assert slot["location"]["locationType"] == "BUSINESS" and slot["location"]["name"] == "Lakeside Centre"
    assert (slot["totalCapacity"], slot["remainingCapacity"], slot["bookableCapacity"]) == (10, 10, 10)
    assert slot["bookingPolicyViolations"] == {
        "tooEarlyToBook": False,
        "tooLateToBook": False,
        "bookOnlineDisabled": False,
    }
    assert slot["availableResources"] == [
        {
            "resourceTypeId": STAFF_RESOURCE_TYPE_ID,
            "resources": [{"id": swim["staff"]["resourceId"], "name": "Alex Coach"}],
        }
    ]


def test_confirmed_and_pending_bookings_take_places_but_created_ones_do_not(sandbox: Sandbox, swim: dict) -> None:
    event = make_event(sandbox, swim["service"], at(MONDAY, 9), capacity=5)
    slot = {"serviceId": swim["service"]["id"], "eventId": event["id"]}
    put_booking(sandbox, "CONFIRMED", slot, participants=2)
    put_booking(sandbox, "PENDING", slot, participants=1)
    put_booking(sandbox, "CREATED", slot, participants=1)
    put_booking(sandbox, "CANCELED", slot, participants=1)
    _, body = call(sandbox, "POST", EVENTS, WEEK)
    assert (body["timeSlots"][0]["remainingCapacity"], body["timeSlots"][0]["bookable"]) == (2, True)
    put_booking(sandbox, "CONFIRMED", slot, participants=2)
    _, body = call(sandbox, "POST", EVENTS, WEEK)
    full = body["timeSlots"][0]
    assert (full["remainingCapacity"], full["bookableCapacity"], full["bookable"]) == (0, 0, False)


def test_only_confirmed_class_and_course_sessions_are_slots(sandbox: Sandbox, swim: dict) -> None:
    course = make_service(sandbox, type="COURSE", name="Learn to Swim")
    class_event = make_event(sandbox, swim["service"], at(MONDAY, 9))
    course_event = make_event(sandbox, course, at(MONDAY, 11))
    make_working_hours(sandbox, swim["staff"], at(MONDAY, 8))
    cancelled = make_event(sandbox, swim["service"], at(MONDAY, 12))
    with sandbox.state.transaction():
        row = sandbox.state.edit("events", cancelled["id"])
        row["status"] = "CANCELLED"
        sandbox.state.put("events", row)
        master = sandbox.state.edit("events", class_event["id"])
        master.update(id="master-1", recurrenceType="MASTER")
        sandbox.state.put("events", master)
    _, body = call(sandbox, "POST", EVENTS, WEEK)
    assert [s["eventInfo"]["eventId"] for s in body["timeSlots"]] == [class_event["id"], course_event["id"]]


def test_event_slots_need_dates_unless_a_cursor_is_given(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "POST", EVENTS, {"toLocalDate": "2026-11-28T00:00:00"})
    assert status == 400
    assert body["details"]["validationError"]["fieldViolations"][0]["field"] == "fromLocalDate"


@pytest.mark.parametrize(
    "dates",
    [
        {"fromLocalDate": "2026-11-21", "toLocalDate": "2026-11-28T00:00:00"},
        {"fromLocalDate": "2026-11-21T00:00:00Z", "toLocalDate": "2026-11-28T00:00:00"},
        {"fromLocalDate": "2026-11-28T00:00:00", "toLocalDate": "2026-11-21T00:00:00"},
    ],
)
def test_event_slots_reject_plain_utc_or_reversed_dates(sandbox: Sandbox, dates: dict) -> None:
    assert call(sandbox, "POST", EVENTS, dates)[0] == 400


def test_event_slots_page_with_a_cursor_that_carries_the_request(sandbox: Sandbox, swim: dict) -> None:
    for hour in (7, 9, 11):
        make_event(sandbox, swim["service"], at(MONDAY, hour))
    _, first = call(sandbox, "POST", EVENTS, {**WEEK, "cursorPaging": {"limit": 2}})
    assert starts(first) == ["2026-11-23T07:00:00", "2026-11-23T09:00:00"]
    assert first["pagingMetadata"]["hasNext"] is True
    cursor = first["pagingMetadata"]["cursors"]["next"]
    status, second = call(sandbox, "POST", EVENTS, {"cursorPaging": {"limit": 2, "cursor": cursor}})
    assert status == 200 and starts(second) == ["2026-11-23T11:00:00"]
    assert second["pagingMetadata"]["hasNext"] is False


def test_event_slots_filter_by_service_and_limit_service_ids(sandbox: Sandbox, swim: dict) -> None:
    other = make_service(sandbox, name="Sauna Social")
    make_event(sandbox, swim["service"], at(MONDAY, 9))
    make_event(sandbox, other, at(MONDAY, 10))
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "serviceIds": [other["id"]]})
    assert [s["serviceId"] for s in body["timeSlots"]] == [other["id"]]
    assert call(sandbox, "POST", EVENTS, {**WEEK, "serviceIds": ["x"] * 101})[0] == 400


def test_past_session_is_too_late_to_book(sandbox: Sandbox, swim: dict) -> None:
    make_event(sandbox, swim["service"], at(datetime(2026, 11, 21), 7))
    make_event(sandbox, swim["service"], at(MONDAY, 9))
    _, body = call(sandbox, "POST", EVENTS, WEEK)
    past = body["timeSlots"][0]
    assert past["bookable"] is False and past["bookingPolicyViolations"]["tooLateToBook"] is True
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "includeNonBookable": False})
    assert starts(body) == ["2026-11-23T09:00:00"]
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "bookingPolicyViolations": {"tooLateToBook": True}})
    assert starts(body) == ["2026-11-21T07:00:00"]


def test_min_bookable_capacity_hides_nearly_full_sessions(sandbox: Sandbox, swim: dict) -> None:
    small = make_event(sandbox, swim["service"], at(MONDAY, 9), capacity=3)
    make_event(sandbox, swim["service"], at(MONDAY, 11), capacity=10)
    put_booking(sandbox, "CONFIRMED", {"serviceId": swim["service"]["id"], "eventId": small["id"]}, participants=2)
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "minBookableCapacity": 2})
    assert starts(body) == ["2026-11-23T11:00:00"]


def test_max_slots_per_day_needs_a_range_of_at_most_a_month(sandbox: Sandbox, swim: dict) -> None:
    for hour in (7, 9, 11):
        make_event(sandbox, swim["service"], at(MONDAY, hour))
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "maxSlotsPerDay": 2})
    assert starts(body) == ["2026-11-23T07:00:00", "2026-11-23T09:00:00"]
    status, _ = call(
        sandbox,
        "POST",
        EVENTS,
        {"fromLocalDate": "2026-11-21T00:00:00", "toLocalDate": "2027-01-21T00:00:00", "maxSlotsPerDay": 2},
    )
    assert status == 400


def test_event_slots_are_shown_in_the_requested_time_zone(sandbox: Sandbox, swim: dict) -> None:
    make_event(sandbox, swim["service"], at(MONDAY, 9))
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "timeZone": "America/New_York"})
    assert body["timeZone"] == "America/New_York" and starts(body) == ["2026-11-23T04:00:00"]
    assert call(sandbox, "POST", EVENTS, {**WEEK, "timeZone": "Mars/Olympus"})[0] == 400


def test_event_filter_selects_sessions_by_resource(sandbox: Sandbox, swim: dict) -> None:
    other = make_staff(sandbox, "Sam Lifeguard")
    make_event(sandbox, swim["service"], at(MONDAY, 9), staff=swim["staff"])
    make_event(sandbox, swim["service"], at(MONDAY, 11), staff=other)
    _, body = call(sandbox, "POST", EVENTS, {**WEEK, "eventFilter": {"resources.id": {"$in": [other["resourceId"]]}}})
    assert starts(body) == ["2026-11-23T11:00:00"]


def test_online_booking_disabled_and_early_booking_policy_show_as_violations(sandbox: Sandbox, swim: dict) -> None:
    service = make_service(sandbox, name="Members Night")
    with sandbox.state.transaction():
        row = sandbox.state.edit("services", service["id"])
        row["onlineBooking"]["enabled"] = False
        row["bookingPolicy"] = {"limitEarlyBookingPolicy": {"enabled": True, "earliestBookingInMinutes": 60 * 24}}
        sandbox.state.put("services", row)
    make_event(sandbox, service, at(MONDAY, 9))
    _, body = call(sandbox, "POST", EVENTS, WEEK)
    violations = body["timeSlots"][0]["bookingPolicyViolations"]
    assert violations["bookOnlineDisabled"] is True and violations["tooEarlyToBook"] is True
    assert violations["earliestBookingDate"] == "2026-11-22T09:00:00.000Z"
    assert body["timeSlots"][0]["bookable"] is False


def test_waitlist_spots_are_reported_and_held_back(sandbox: Sandbox, swim: dict) -> None:
    with sandbox.state.transaction():
        row = sandbox.state.edit("services", swim["service"]["id"])
        row["bookingPolicy"] = {"waitlistPolicy": {"enabled": True, "capacity": 5}}
        sandbox.state.put("services", row)
    event = make_event(sandbox, swim["service"], at(MONDAY, 9), capacity=4)
    slot = {"serviceId": swim["service"]["id"], "eventId": event["id"]}
    put_booking(sandbox, "CONFIRMED", slot, participants=2)
    put_booking(sandbox, "WAITING_LIST", slot, participants=1)
    _, body = call(sandbox, "POST", EVENTS, WEEK)
    found = body["timeSlots"][0]
    assert found["eventInfo"]["waitingList"] == {"totalCapacity": 5, "remainingCapacity": 4}
    assert (found["remainingCapacity"], found["bookableCapacity"]) == (2, 1)


def test_get_event_time_slot(sandbox: Sandbox, swim: dict) -> None:
    event = make_event(sandbox, swim["service"], at(MONDAY, 9))
    hours = make_working_hours(sandbox, swim["staff"], at(MONDAY, 8))
    status, body = call(sandbox, "GET", f"{EVENTS}/{event['id']}", timeZone="UTC")
    assert status == 200 and body["timeZone"] == "UTC"
    assert body["timeSlot"]["eventInfo"]["eventId"] == event["id"]
    assert call(sandbox, "GET", f"{EVENTS}/nope")[0] == 404
    assert call(sandbox, "GET", f"{EVENTS}/{hours['id']}")[0] == 404


def test_event_slots_alias_path(sandbox: Sandbox, swim: dict) -> None:
    make_event(sandbox, swim["service"], at(MONDAY, 9))
    status, body = call(sandbox, "POST", "/service-availability/v2/time-slots/event", WEEK)
    assert status == 200 and len(body["timeSlots"]) == 1
