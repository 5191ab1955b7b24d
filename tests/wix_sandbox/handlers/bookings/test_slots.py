"""What an appointment booking books (``handlers/bookings/slots.py``, through Create Booking): times, zones, staff."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.wix_sandbox.booking_builders import BOOKINGS, appointment_request, code, create, violated_fields
from tests.wix_sandbox.builders import call, make_event, make_service, make_staff, make_working_hours
from wix_sandbox import Sandbox


def test_create_appointment_booking_stores_local_and_utc_times(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(
        massage["service"], massage["staff"], "2026-12-01T10:00:00", "2026-12-01T11:00:00", timezone="America/New_York"
    )

    booking = create(sandbox, body)

    slot = booking["bookedEntity"]["slot"]
    assert slot["startDate"] == "2026-12-01T10:00:00.000-05:00"
    assert slot["endDate"] == "2026-12-01T11:00:00.000-05:00"
    assert slot["timezone"] == "America/New_York"
    assert booking["startDate"] == "2026-12-01T15:00:00.000Z"
    assert booking["endDate"] == "2026-12-01T16:00:00.000Z"
    assert slot["resource"]["name"] == "Morgan Therapist"
    assert slot["resource"]["scheduleId"] == massage["staff"]["resource"]["eventsSchedule"]["id"]
    assert booking["bookedEntity"]["tags"] == ["INDIVIDUAL"]
    assert booking["bookedEntity"]["title"] == "Sports Massage"


def test_create_appointment_booking_converts_utc_dates_to_the_slot_time_zone(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], "2026-07-01T09:00:00.000Z", "2026-07-01T10:00:00Z")

    booking = create(sandbox, body)

    assert booking["bookedEntity"]["slot"]["startDate"] == "2026-07-01T10:00:00.000+01:00"
    assert booking["startDate"] == "2026-07-01T09:00:00.000Z"


def test_create_appointment_booking_lists_every_missing_slot_field(sandbox: Sandbox, massage: dict) -> None:
    body = {"booking": {"bookedEntity": {"slot": {"location": {}}}, "totalParticipants": 1}}

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    prefix = "booking.bookedEntity.slot."
    assert violated_fields(answer) == [
        prefix + name
        for name in (
            "serviceId",
            "scheduleId",
            "startDate",
            "endDate",
            "timezone",
            "resource.id",
            "location.locationType",
        )
    ]
    assert sandbox.state.count("bookings") == 0


@pytest.mark.parametrize("location_type", ["OWNER_BUSINESS", "OWNER_CUSTOM", "CUSTOM"])
def test_create_appointment_booking_accepts_booking_location_types(
    sandbox: Sandbox, massage: dict, location_type: str
) -> None:
    body = appointment_request(massage["service"], massage["staff"], location={"locationType": location_type})

    booking = create(sandbox, body)

    assert booking["bookedEntity"]["slot"]["location"]["locationType"] == location_type


def test_create_appointment_booking_rejects_the_time_slots_business_location_type(
    sandbox: Sandbox, massage: dict
) -> None:
    body = appointment_request(massage["service"], massage["staff"], location={"locationType": "BUSINESS"})

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert violated_fields(answer) == ["booking.bookedEntity.slot.location.locationType"]
    assert sandbox.state.count("bookings") == 0


def test_create_appointment_booking_with_busy_staff_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    first = appointment_request(massage["service"], massage["staff"], "2026-12-01T10:00:00", "2026-12-01T11:00:00")
    first["booking"]["status"] = "CONFIRMED"
    create(sandbox, first)
    overlapping = appointment_request(
        massage["service"], massage["staff"], "2026-12-01T10:30:00", "2026-12-01T11:30:00"
    )

    status, answer = call(sandbox, "POST", BOOKINGS, overlapping)

    assert status == 428
    assert code(answer) == "SLOT_NOT_AVAILABLE"
    assert sandbox.state.count("bookings") == 1


def test_create_appointment_booking_right_after_another_is_accepted(sandbox: Sandbox, massage: dict) -> None:
    first = appointment_request(massage["service"], massage["staff"], "2026-12-01T10:00:00", "2026-12-01T11:00:00")
    first["booking"]["status"] = "CONFIRMED"
    create(sandbox, first)

    booking = create(
        sandbox, appointment_request(massage["service"], massage["staff"], "2026-12-01T11:00:00", "2026-12-01T12:00:00")
    )

    assert booking["startDate"] == "2026-12-01T11:00:00.000Z"


def test_created_appointment_does_not_block_the_staff_member(sandbox: Sandbox, massage: dict) -> None:
    create(sandbox, appointment_request(massage["service"], massage["staff"]))

    booking = create(sandbox, appointment_request(massage["service"], massage["staff"]))

    assert booking["status"] == "CREATED"


def test_skip_availability_validation_double_books_a_staff_member(sandbox: Sandbox, massage: dict) -> None:
    first = appointment_request(massage["service"], massage["staff"])
    first["booking"]["status"] = "CONFIRMED"
    create(sandbox, first)

    booking = create(
        sandbox,
        {
            **appointment_request(massage["service"], massage["staff"]),
            "flowControlSettings": {"skipAvailabilityValidation": True},
        },
    )

    assert booking["id"]


def test_create_appointment_with_staff_not_offering_the_service_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    stranger = make_staff(sandbox, "Pat Lifeguard")

    status, answer = call(sandbox, "POST", BOOKINGS, appointment_request(massage["service"], stranger))

    assert status == 428
    assert code(answer) == "SLOT_NOT_AVAILABLE"


def test_create_appointment_with_unknown_resource_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    status, answer = call(sandbox, "POST", BOOKINGS, appointment_request(massage["service"], {"resourceId": "nobody"}))

    assert status == 404
    assert code(answer) == "RESOURCE_NOT_FOUND"


def test_create_appointment_with_malformed_date_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], start="1st of December, 10am")

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "INVALID_DATE_FORMAT"
    assert sandbox.state.count("bookings") == 0


def test_create_appointment_with_unknown_time_zone_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], timezone="Europe/Atlantis")

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "INVALID_TIME_ZONE"


def test_create_appointment_ending_before_it_starts_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], "2026-12-01T11:00:00", "2026-12-01T10:00:00")

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"


def test_create_appointment_with_unknown_schedule_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], scheduleId="no-such-schedule")

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 404
    assert code(answer) == "SCHEDULE_NOT_FOUND"


@pytest.mark.parametrize("owner", ["staff", "other service"])
def test_create_appointment_with_a_schedule_that_is_not_the_slots_is_rejected(
    sandbox: Sandbox, massage: dict, owner: str
) -> None:
    # The slot's scheduleId is the time slot's (TimeSlot.scheduleId, "same as the service's
    # schedule ID"). UNCONFIRMED what Wix does with another: the sandbox answers 400.
    other = (
        massage["staff"]["resource"]["eventsSchedule"]["id"]
        if owner == "staff"
        else make_service(sandbox, type="APPOINTMENT", name="Physio", capacity=1)["schedule"]["id"]
    )
    body = appointment_request(massage["service"], massage["staff"], scheduleId=other)

    status, answer = call(sandbox, "POST", BOOKINGS, body)
    _, bulk = call(sandbox, "POST", "/bookings/v2/bulk/bookings/create", {"createBookingsInfo": [body]})

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert answer["details"]["applicationError"]["data"]["field"] == "bookedEntity.slot.scheduleId"
    # In bulk it is that item's failure (a value Wix checks, not a missing field).
    assert bulk["results"][0]["itemMetadata"]["error"]["code"] == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == 0


def test_an_appointment_booked_with_its_time_slots_schedule_id_is_accepted(sandbox: Sandbox, massage: dict) -> None:
    make_working_hours(sandbox, massage["staff"], datetime(2026, 12, 1, 9, 0))
    status, slots = call(
        sandbox,
        "POST",
        "/_api/service-availability/v2/time-slots",
        {
            "serviceId": massage["service"]["id"],
            "fromLocalDate": "2026-12-01T00:00:00",
            "toLocalDate": "2026-12-02T00:00:00",
            "timeZone": "Europe/London",
        },
    )
    assert status == 200
    slot = slots["timeSlots"][0]
    assert slot["scheduleId"] == massage["service"]["schedule"]["id"]

    booking = create(
        sandbox,
        appointment_request(
            massage["service"],
            massage["staff"],
            slot["localStartDate"],
            slot["localEndDate"],
            scheduleId=slot["scheduleId"],
        ),
    )

    assert booking["bookedEntity"]["slot"]["scheduleId"] == slot["scheduleId"]


def test_create_booking_with_multi_service_info_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"])
    body["booking"]["multiServiceBookingInfo"] = {"id": "x", "type": "SEQUENTIAL_BOOKINGS"}

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "CAN_NOT_CREATE_BOOKING_WITH_MULTI_SERVICE_BOOKING_INFO"


def test_create_appointment_while_the_staff_member_teaches_a_class_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    swim = make_service(sandbox, staff=[massage["staff"]])
    make_event(sandbox, swim, datetime(2026, 12, 1, 10, 30), staff=massage["staff"])

    status, answer = call(sandbox, "POST", BOOKINGS, appointment_request(massage["service"], massage["staff"]))
    later = create(
        sandbox, appointment_request(massage["service"], massage["staff"], "2026-12-01T11:30:00", "2026-12-01T12:30:00")
    )

    assert status == 428
    assert code(answer) == "SLOT_NOT_AVAILABLE"
    assert later["status"] == "CREATED"
