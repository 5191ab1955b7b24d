"""Time Slots V2 in the sandbox: class sessions, appointment slots, multi-service sequences (§7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

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
SLOTS = "/_api/service-availability/v2/time-slots"
GET_SLOT = "/_api/service-availability/v2/time-slots/get"
MULTI = "/_api/service-availability/v2/multi-service-time-slots"
MONDAY = datetime(2026, 11, 23)  # the fixture clock is Saturday 21 Nov 2026, 09:00 London
WEEK = {"fromLocalDate": "2026-11-21T00:00:00", "toLocalDate": "2026-11-28T00:00:00"}


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def put_booking(sb: Sandbox, status: str, slot: dict[str, Any], participants: int = 1) -> dict[str, Any]:
    """A booking in the Wix REST shape, straight into state (the booking API isn't under test here)."""
    booking = {
        "id": sb.state.new_id(),
        "status": status,
        "totalParticipants": participants,
        "bookedEntity": {"slot": slot},
        "revision": "1",
    }
    with sb.state.transaction():
        sb.state.put("bookings", booking)
    return booking


def appointment_booking(
    sb: Sandbox, service: dict, staff: dict, start: str, end: str, status: str = "CONFIRMED"
) -> dict:
    slot = {
        "serviceId": service["id"],
        "scheduleId": service["schedule"]["id"],
        "startDate": start,
        "endDate": end,
        "timezone": "Europe/London",
        "resource": {"id": staff["resourceId"], "name": staff["name"]},
    }
    return put_booking(sb, status, slot)


def error_code(body: dict) -> str:
    return body["details"]["applicationError"]["code"]


def starts(body: dict) -> list[str]:
    return [slot["localStartDate"] for slot in body["timeSlots"]]


# -- event time slots ---------------------------------------------------------------------------


@pytest.fixture
def swim(sandbox: Sandbox) -> dict[str, Any]:
    staff = make_staff(sandbox)
    service = make_service(sandbox, staff=[staff], capacity=10)
    return {"staff": staff, "service": service}


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


# -- appointment availability -------------------------------------------------------------------


@pytest.fixture
def massage(sandbox: Sandbox) -> dict[str, Any]:
    alex, sam = make_staff(sandbox, "Alex Therapist"), make_staff(sandbox, "Sam Therapist")
    service = make_service(sandbox, type="APPOINTMENT", name="Massage", capacity=1, staff=[alex], duration_minutes=60)
    make_working_hours(sandbox, alex, at(MONDAY, 9), hours=4)  # 09:00–13:00
    return {"alex": alex, "sam": sam, "service": service}


def monday(service: dict, **extra: Any) -> dict:
    return {
        "serviceId": service["id"],
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-11-24T00:00:00",
        **extra,
    }


def test_appointment_slots_are_carved_from_working_hours_by_session_length(sandbox: Sandbox, massage: dict) -> None:
    status, body = call(sandbox, "POST", SLOTS, monday(massage["service"]))
    assert status == 200
    assert starts(body) == ["2026-11-23T09:00:00", "2026-11-23T10:00:00", "2026-11-23T11:00:00", "2026-11-23T12:00:00"]
    slot = body["timeSlots"][0]
    assert slot["localEndDate"] == "2026-11-23T10:00:00"
    assert slot["scheduleId"] == massage["service"]["schedule"]["id"]
    assert slot["location"]["locationType"] == "BUSINESS"
    assert (slot["totalCapacity"], slot["remainingCapacity"], slot["bookable"]) == (1, 1, True)
    # Resources are listed only when asked for, as on Wix.
    assert slot["availableResources"] == []
    assert "cursorPagingMetadata" in body and "pagingMetadata" not in body


def test_include_resource_type_ids_lists_the_free_staff(sandbox: Sandbox, massage: dict) -> None:
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"], includeResourceTypeIds=[STAFF_RESOURCE_TYPE_ID]))
    assert body["timeSlots"][0]["availableResources"] == [
        {
            "resourceTypeId": STAFF_RESOURCE_TYPE_ID,
            "resources": [{"id": massage["alex"]["resourceId"], "name": "Alex Therapist"}],
            "hasMoreAvailableResources": False,
        }
    ]


@pytest.mark.parametrize("status", ["CONFIRMED", "PENDING"])
def test_a_held_appointment_removes_the_slot_for_that_staff_member(
    sandbox: Sandbox, massage: dict, status: str
) -> None:
    appointment_booking(
        sandbox, massage["service"], massage["alex"], "2026-11-23T10:00:00", "2026-11-23T11:00:00", status
    )
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"]))
    assert starts(body) == ["2026-11-23T09:00:00", "2026-11-23T11:00:00", "2026-11-23T12:00:00"]


@pytest.mark.parametrize("status", ["CREATED", "CANCELED", "DECLINED"])
def test_appointments_not_holding_the_slot_leave_it_free(sandbox: Sandbox, massage: dict, status: str) -> None:
    appointment_booking(
        sandbox, massage["service"], massage["alex"], "2026-11-23T10:00:00", "2026-11-23T11:00:00", status
    )
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"]))
    assert "2026-11-23T10:00:00" in starts(body)


def test_booking_with_utc_offset_dates_blocks_the_same_hour(sandbox: Sandbox, massage: dict) -> None:
    appointment_booking(
        sandbox, massage["service"], massage["alex"], "2026-11-23T10:00:00.000+00:00", "2026-11-23T11:00:00.000+00:00"
    )
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"]))
    assert "2026-11-23T10:00:00" not in starts(body)


def test_a_second_free_staff_member_keeps_the_slot(sandbox: Sandbox, massage: dict) -> None:
    alex, sam = massage["alex"], massage["sam"]
    service = make_service(sandbox, type="APPOINTMENT", name="Sports Massage", capacity=1, staff=[alex, sam])
    make_working_hours(sandbox, sam, at(MONDAY, 10), hours=1)
    appointment_booking(sandbox, service, alex, "2026-11-23T10:00:00", "2026-11-23T11:00:00")
    _, body = call(sandbox, "POST", SLOTS, monday(service, includeResourceTypeIds=[STAFF_RESOURCE_TYPE_ID]))
    ten = next(s for s in body["timeSlots"] if s["localStartDate"] == "2026-11-23T10:00:00")
    assert [r["name"] for r in ten["availableResources"][0]["resources"]] == ["Sam Therapist"]


def test_resource_types_restrict_which_staff_are_considered(sandbox: Sandbox, massage: dict) -> None:
    alex, sam = massage["alex"], massage["sam"]
    service = make_service(sandbox, type="APPOINTMENT", name="Sports Massage", capacity=1, staff=[alex, sam])
    make_working_hours(sandbox, sam, at(MONDAY, 14), hours=1)
    wanted = {"resourceTypes": [{"resourceTypeId": STAFF_RESOURCE_TYPE_ID, "resourceIds": [sam["resourceId"]]}]}
    _, body = call(sandbox, "POST", SLOTS, monday(service, **wanted))
    assert starts(body) == ["2026-11-23T14:00:00"]
    assert body["timeSlots"][0]["availableResources"][0]["resources"][0]["id"] == sam["resourceId"]


def test_a_class_the_staff_member_teaches_blocks_appointments(sandbox: Sandbox, massage: dict) -> None:
    make_event(sandbox, make_service(sandbox, name="Aqua Fit"), at(MONDAY, 11), staff=massage["alex"])
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"]))
    assert "2026-11-23T11:00:00" not in starts(body)


def test_past_appointment_slots_are_not_offered(sandbox: Sandbox, massage: dict) -> None:
    make_working_hours(sandbox, massage["alex"], at(datetime(2026, 11, 21), 7), hours=4)
    _, body = call(sandbox, "POST", SLOTS, {**monday(massage["service"]), **WEEK})
    assert starts(body)[:3] == ["2026-11-21T09:00:00", "2026-11-21T10:00:00", "2026-11-23T09:00:00"]


def test_time_between_sessions_spaces_the_slots(sandbox: Sandbox, massage: dict) -> None:
    with sandbox.state.transaction():
        row = sandbox.state.edit("services", massage["service"]["id"])
        row["schedule"]["availabilityConstraints"] = {"sessionDurations": [45], "timeBetweenSessions": 15}
        sandbox.state.put("services", row)
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"]))
    assert starts(body) == ["2026-11-23T09:00:00", "2026-11-23T10:00:00", "2026-11-23T11:00:00", "2026-11-23T12:00:00"]
    assert body["timeSlots"][0]["localEndDate"] == "2026-11-23T09:45:00"


def test_staff_member_ids_may_hold_resource_ids(sandbox: Sandbox, massage: dict) -> None:
    service = make_service(sandbox, type="APPOINTMENT", name="Reflexology", capacity=1)
    with sandbox.state.transaction():
        row = sandbox.state.edit("services", service["id"])
        row["staffMemberIds"] = [massage["alex"]["resourceId"]]
        sandbox.state.put("services", row)
    _, body = call(sandbox, "POST", SLOTS, monday(service))
    assert len(body["timeSlots"]) == 4


def test_appointment_slots_reject_bad_requests(sandbox: Sandbox, massage: dict) -> None:
    service = massage["service"]
    status, body = call(
        sandbox, "POST", SLOTS, {"fromLocalDate": "2026-11-23T00:00:00", "toLocalDate": "2026-11-24T00:00:00"}
    )
    assert status == 400
    status, body = call(sandbox, "POST", SLOTS, monday({"id": "nope"}))
    assert status == 404 and error_code(body) == "SERVICE_NOT_FOUND"
    status, body = call(sandbox, "POST", SLOTS, {"serviceId": service["id"], "toLocalDate": "2026-11-24T00:00:00"})
    assert status == 400 and error_code(body) == "MISSING_ARGUMENTS"
    assert call(sandbox, "POST", SLOTS, monday(service, fromLocalDate="2026-11-23"))[0] == 400
    assert call(sandbox, "POST", SLOTS, monday(service, locations=[{"id": str(i)} for i in range(6)]))[0] == 400
    too_many_types = [{"resourceTypeId": str(i)} for i in range(9)]
    assert call(sandbox, "POST", SLOTS, monday(service, resourceTypes=too_many_types))[0] == 400


def test_class_service_has_no_appointment_slots(sandbox: Sandbox, swim: dict) -> None:
    make_event(sandbox, swim["service"], at(MONDAY, 9))
    status, body = call(sandbox, "POST", SLOTS, monday(swim["service"]))
    assert status == 200 and body["timeSlots"] == []


def test_time_slots_per_day_and_location_filter(sandbox: Sandbox, massage: dict) -> None:
    service = massage["service"]
    _, body = call(sandbox, "POST", SLOTS, monday(service, timeSlotsPerDay=2))
    assert len(body["timeSlots"]) == 2
    _, body = call(sandbox, "POST", SLOTS, monday(service, locations=[{"id": "elsewhere"}]))
    assert body["timeSlots"] == []
    location_id = service["locations"][0]["id"]
    _, body = call(sandbox, "POST", SLOTS, monday(service, locations=[{"id": location_id}]))
    assert len(body["timeSlots"]) == 4


def test_bookable_filter_and_late_booking_policy(sandbox: Sandbox, massage: dict) -> None:
    with sandbox.state.transaction():
        row = sandbox.state.edit("services", massage["service"]["id"])
        row["bookingPolicy"] = {"limitLateBookingPolicy": {"enabled": True, "latestBookingInMinutes": 60 * 49}}
        sandbox.state.put("services", row)
    # Now is Sat 09:00; booking closes 49 h before the start, so Mon 09:00 is too late, 10:00 is not.
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"], bookable=True))
    assert starts(body)[0] == "2026-11-23T10:00:00"
    _, body = call(sandbox, "POST", SLOTS, monday(massage["service"], bookable=False))
    assert starts(body) == ["2026-11-23T09:00:00"]
    assert body["timeSlots"][0]["bookingPolicyViolations"]["tooLateToBook"] is True


def test_appointment_slots_page_with_cursor_paging_metadata(sandbox: Sandbox, massage: dict) -> None:
    _, first = call(sandbox, "POST", SLOTS, monday(massage["service"], cursorPaging={"limit": 3}))
    assert len(first["timeSlots"]) == 3 and first["cursorPagingMetadata"]["hasNext"] is True
    cursor = first["cursorPagingMetadata"]["cursors"]["next"]
    _, second = call(sandbox, "POST", SLOTS, {"cursorPaging": {"limit": 3, "cursor": cursor}})
    assert starts(second) == ["2026-11-23T12:00:00"]
    assert call(sandbox, "POST", SLOTS, monday(massage["service"], cursorPaging={"limit": 1001}))[0] == 400


def test_get_availability_time_slot_finds_a_free_slot_with_all_its_staff(sandbox: Sandbox, massage: dict) -> None:
    service = massage["service"]
    request = {
        "serviceId": service["id"],
        "localStartDate": "2026-11-23T10:00:00",
        "localEndDate": "2026-11-23T11:00:00",
        "timeZone": "Europe/London",
        "location": {"id": service["locations"][0]["id"], "locationType": "BUSINESS"},
    }
    status, body = call(sandbox, "POST", GET_SLOT, request)
    assert status == 200 and body["timeZone"] == "Europe/London"
    assert body["timeSlot"]["availableResources"][0]["resources"][0]["id"] == massage["alex"]["resourceId"]
    appointment_booking(sandbox, service, massage["alex"], "2026-11-23T10:00:00", "2026-11-23T11:00:00")
    status, body = call(sandbox, "POST", GET_SLOT, request)
    assert status == 404 and error_code(body) == "SLOT_NOT_FOUND"
    status, body = call(
        sandbox,
        "POST",
        GET_SLOT,
        {**request, "localStartDate": "2026-11-23T11:00:00", "localEndDate": "2026-11-23T11:30:00"},
    )
    assert status == 404
    missing_location = {k: v for k, v in request.items() if k != "location"}
    status, body = call(sandbox, "POST", GET_SLOT, missing_location)
    assert status == 400 and body["details"]["validationError"]["fieldViolations"][0]["field"] == "location"


def test_multi_service_slots_are_back_to_back_sequences(sandbox: Sandbox, massage: dict) -> None:
    alex, sam = massage["alex"], massage["sam"]
    spa = sandbox.state.get("locations", massage["service"]["locations"][0]["id"])
    facial = make_service(
        sandbox, type="APPOINTMENT", name="Facial", capacity=1, staff=[sam], duration_minutes=30, location=spa
    )
    make_working_hours(sandbox, sam, at(MONDAY, 10), hours=3)  # 10:00–13:00
    appointment_booking(sandbox, facial, sam, "2026-11-23T11:00:00", "2026-11-23T11:30:00")
    body = {
        "services": [{"serviceId": massage["service"]["id"]}, {"serviceId": facial["id"]}],
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-11-24T00:00:00",
        "timeZone": "Europe/London",
    }
    status, result = call(sandbox, "POST", MULTI, body)
    assert status == 200
    # 09:00 massage → 10:00 facial; 10:00 → 11:00 facial is taken; 11:00 → 12:00 facial.
    assert [(s["localStartDate"], s["localEndDate"]) for s in result["timeSlots"]] == [
        ("2026-11-23T09:00:00", "2026-11-23T10:30:00"),
        ("2026-11-23T11:00:00", "2026-11-23T12:30:00"),
    ]
    nested = result["timeSlots"][0]["nestedTimeSlots"]
    assert [n["serviceId"] for n in nested] == [massage["service"]["id"], facial["id"]]
    assert nested[1]["localStartDate"] == "2026-11-23T10:00:00"
    assert nested[1]["availableResources"][0]["resources"][0]["id"] == sam["resourceId"]
    assert nested[0]["availableResources"][0]["resources"][0]["id"] == alex["resourceId"]


def test_multi_service_sequence_needs_one_location(sandbox: Sandbox, massage: dict) -> None:
    sam = massage["sam"]
    elsewhere = make_service(sandbox, type="APPOINTMENT", name="Facial", capacity=1, staff=[sam], duration_minutes=30)
    make_working_hours(sandbox, sam, at(MONDAY, 10), hours=3)
    body = {
        "services": [{"serviceId": massage["service"]["id"]}, {"serviceId": elsewhere["id"]}],
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-11-24T00:00:00",
    }
    assert call(sandbox, "POST", MULTI, body)[1]["timeSlots"] == []


def test_multi_service_slots_validate_the_request(sandbox: Sandbox, massage: dict) -> None:
    dates = {"fromLocalDate": "2026-11-23T00:00:00", "toLocalDate": "2026-11-24T00:00:00"}
    assert call(sandbox, "POST", MULTI, {"services": [], **dates})[0] == 400
    assert call(sandbox, "POST", MULTI, {"services": [{"serviceId": "nope"}], **dates})[0] == 404
    status, body = call(sandbox, "POST", MULTI, {"services": [{"serviceId": massage["service"]["id"]}]})
    assert status == 400 and error_code(body) == "MISSING_ARGUMENTS"
