"""Availability time slots: appointments carved from working hours (``handlers/availability/appointments.py``
and ``staffing.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.availability_builders import MONDAY, WEEK, appointment_booking, at, error_code, starts
from tests.wix_sandbox.builders import STAFF_RESOURCE_TYPE_ID, call, make_event, make_service, make_working_hours
from wix_sandbox import Sandbox

SLOTS = "/_api/service-availability/v2/time-slots"
GET_SLOT = "/_api/service-availability/v2/time-slots/get"


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
    _, body = call(sandbox, "POST", SLOTS, {**monday(massage["service"]), **WEEK, "bookable": True})
    # Now is Saturday 09:00: 07:00 and 08:00 are gone, 09:00 is too late to book.
    assert starts(body)[:3] == ["2026-11-21T10:00:00", "2026-11-23T09:00:00", "2026-11-23T10:00:00"]
    _, body = call(sandbox, "POST", SLOTS, {**monday(massage["service"]), **WEEK, "bookable": False})
    assert starts(body) == ["2026-11-21T09:00:00"]


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
