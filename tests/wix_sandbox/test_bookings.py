"""The sandbox's Bookings Writer V2 (CONTRACT.md §3): every documented rule, accepted and rejected."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_event, make_location, make_service, make_staff
from wix_sandbox import BOOKINGS_APP_ID, Sandbox, SandboxError
from wix_sandbox.rules import booking_orders, capacity

BOOKINGS = "/_api/bookings-service/v2/bookings"
BULK_CREATE = "/bookings/v2/bulk/bookings/create"
BULK_CONFIRM_OR_DECLINE = "/bookings/v2/bulk/bookings/confirmOrDecline"
BULK_CANCEL = "/bookings/v2/bulk/bookings/cancel"
MULTI = "/_api/bookings-service/v2/multi_service_bookings"
SESSION_START = datetime(2026, 11, 22, 7, 0)


# -- helpers ------------------------------------------------------------------------------------------


def code(body: dict[str, Any]) -> str:
    return body["details"]["applicationError"]["code"]


def violated_fields(body: dict[str, Any]) -> list[str]:
    return [v["field"] for v in body["details"]["validationError"]["fieldViolations"]]


def class_request(service: dict, event: dict, participants: int = 1, **booking: Any) -> dict[str, Any]:
    return {
        "booking": {
            "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
            "contactDetails": {"firstName": "Jo"},
            "totalParticipants": participants,
            **booking,
        }
    }


def appointment_request(
    service: dict,
    staff: dict,
    start: str = "2026-12-01T10:00:00",
    end: str = "2026-12-01T11:00:00",
    **slot: Any,
) -> dict[str, Any]:
    return {
        "booking": {
            "bookedEntity": {
                "slot": {
                    "serviceId": service["id"],
                    "scheduleId": service["schedule"]["id"],
                    "startDate": start,
                    "endDate": end,
                    "timezone": "Europe/London",
                    "resource": {"id": staff["resourceId"]},
                    "location": {"locationType": "OWNER_BUSINESS"},
                    **slot,
                }
            },
            "contactDetails": {"firstName": "Sam"},
            "totalParticipants": 1,
        }
    }


def create(sb: Sandbox, body: dict[str, Any], path: str = BOOKINGS) -> dict[str, Any]:
    status, answer = call(sb, "POST", path, body)
    assert status == 200, answer
    return answer["booking"]


def stored(sb: Sandbox, booking_id: str) -> dict[str, Any]:
    booking = sb.state.get("bookings", booking_id)
    assert booking is not None
    return booking


@pytest.fixture
def swim(sandbox: Sandbox) -> dict[str, Any]:
    """A class with one session for 3, taught by a staff member."""
    staff = make_staff(sandbox)
    service = make_service(sandbox, capacity=3, staff=[staff])
    event = make_event(sandbox, service, SESSION_START, staff=staff)
    return {"service": service, "event": event, "staff": staff}


@pytest.fixture
def massage(sandbox: Sandbox) -> dict[str, Any]:
    staff = make_staff(sandbox, "Morgan Therapist")
    service = make_service(sandbox, type="APPOINTMENT", name="Sports Massage", capacity=1, staff=[staff])
    return {"service": service, "staff": staff}


# -- create: class sessions ---------------------------------------------------------------------------


def test_create_class_booking_takes_time_place_and_staff_from_the_event(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    slot = booking["bookedEntity"]["slot"]
    assert slot["eventId"] == swim["event"]["id"]
    assert slot["scheduleId"] == swim["service"]["schedule"]["id"]
    assert slot["startDate"] == "2026-11-22T07:00:00.000+00:00"
    assert slot["endDate"] == "2026-11-22T08:00:00.000+00:00"
    assert slot["timezone"] == "Europe/London"
    assert slot["resource"]["id"] == swim["staff"]["resourceId"]
    assert slot["location"]["locationType"] == "OWNER_BUSINESS"
    assert slot["location"]["id"] == swim["service"]["locations"][0]["id"]
    assert booking["startDate"] == "2026-11-22T07:00:00.000Z"
    assert booking["endDate"] == "2026-11-22T08:00:00.000Z"
    assert booking["bookedEntity"]["title"] == "Open Water Swim"
    assert booking["bookedEntity"]["tags"] == ["GROUP"]
    assert booking["status"] == "CREATED"
    assert booking["paymentStatus"] == "UNDEFINED"
    assert booking["selectedPaymentOption"] == "UNDEFINED"
    assert booking["appId"] == BOOKINGS_APP_ID
    assert booking["revision"] == "1"
    assert booking["doubleBooked"] is False
    assert booking["createdDate"] == booking["updatedDate"] == "2026-11-21T09:00:00.000Z"
    assert stored(sandbox, booking["id"]) == booking


def test_create_class_booking_overrides_times_the_caller_sent(sandbox: Sandbox, swim: dict) -> None:
    body = class_request(swim["service"], swim["event"])
    body["booking"]["bookedEntity"]["slot"].update(
        startDate="2030-01-01T00:00:00", endDate="2030-01-01T01:00:00", timezone="Asia/Tokyo"
    )

    booking = create(sandbox, body)

    assert booking["bookedEntity"]["slot"]["startDate"] == "2026-11-22T07:00:00.000+00:00"
    assert booking["bookedEntity"]["slot"]["timezone"] == "Europe/London"


def test_create_booking_ignores_the_payment_status_sent(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], paymentStatus="PAID"))

    assert booking["paymentStatus"] == "UNDEFINED"


def test_create_booking_answers_the_same_on_both_paths(sandbox: Sandbox, swim: dict) -> None:
    primary = create(sandbox, class_request(swim["service"], swim["event"]))
    alias = create(sandbox, class_request(swim["service"], swim["event"]), path="/bookings/v2/bookings")

    ignore = {"id", "createdDate", "updatedDate"}
    assert {k: v for k, v in primary.items() if k not in ignore} == {k: v for k, v in alias.items() if k not in ignore}


def test_create_class_booking_for_unknown_session_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    body = class_request(swim["service"], {"id": "no-such-event"})

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 404
    assert code(answer) == "SESSION_NOT_FOUND"
    assert sandbox.state.count("bookings") == 0


def test_create_class_booking_for_cancelled_session_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    event = sandbox.state.edit("events", swim["event"]["id"])
    event["status"] = "CANCELLED"
    sandbox.state.put("events", event)

    status, answer = call(sandbox, "POST", BOOKINGS, class_request(swim["service"], swim["event"]))

    assert status == 404
    assert code(answer) == "SESSION_NOT_FOUND"
    assert sandbox.state.count("bookings") == 0


def test_create_class_booking_needs_the_service_id(sandbox: Sandbox, swim: dict) -> None:
    body = class_request(swim["service"], swim["event"])
    del body["booking"]["bookedEntity"]["slot"]["serviceId"]

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert violated_fields(answer) == ["booking.bookedEntity.slot.serviceId"]


def test_create_booking_for_unknown_service_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    body = class_request({"id": "no-such-service"}, swim["event"])

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == 0


def test_create_booking_without_booked_entity_is_rejected(sandbox: Sandbox) -> None:
    status, answer = call(sandbox, "POST", BOOKINGS, {"booking": {"totalParticipants": 1}})

    assert status == 400
    assert "booking.bookedEntity" in violated_fields(answer)


@pytest.mark.parametrize("status", ["CONFIRMED", "PENDING"])
def test_create_booking_accepts_a_confirmed_or_pending_status(sandbox: Sandbox, swim: dict, status: str) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status=status))

    assert booking["status"] == status


@pytest.mark.parametrize("status", ["CANCELED", "DECLINED", "BOOKED"])
def test_create_booking_with_another_status_is_rejected(sandbox: Sandbox, swim: dict, status: str) -> None:
    status_code, answer = call(sandbox, "POST", BOOKINGS, class_request(swim["service"], swim["event"], status=status))

    assert status_code == 400
    assert violated_fields(answer) == ["booking.status"]
    assert sandbox.state.count("bookings") == 0


def test_skip_business_confirmation_confirms_a_booking_needing_approval(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    body = class_request(service, event, status="PENDING")

    plain = create(sandbox, body)
    skipped = create(sandbox, {**body, "flowControlSettings": {"skipBusinessConfirmation": True}})

    assert plain["status"] == "PENDING"
    assert skipped["status"] == "CONFIRMED"
    assert skipped["flowControlSettings"]["skipBusinessConfirmation"] is True


def test_create_booking_echoes_its_flow_control_settings(sandbox: Sandbox, swim: dict) -> None:
    body = {
        **class_request(swim["service"], swim["event"]),
        "flowControlSettings": {"skipAvailabilityValidation": True},
    }

    booking = create(sandbox, body)

    assert booking["flowControlSettings"] == {
        "skipAvailabilityValidation": True,
        "skipBusinessConfirmation": False,
        "skipSelectedPaymentOptionValidation": False,
    }


@pytest.mark.parametrize("option", ["OFFLINE", "ONLINE", "MEMBERSHIP", "MEMBERSHIP_OFFLINE"])
def test_create_booking_keeps_the_selected_payment_option(sandbox: Sandbox, swim: dict, option: str) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], selectedPaymentOption=option))

    assert booking["selectedPaymentOption"] == option


def test_create_booking_with_unknown_payment_option_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    body = class_request(swim["service"], swim["event"], selectedPaymentOption="CASH")

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert violated_fields(answer) == ["booking.selectedPaymentOption"]


def test_create_booking_needs_exactly_one_way_of_counting_participants(sandbox: Sandbox, swim: dict) -> None:
    choices = {"serviceChoices": [{"numberOfParticipants": 2, "choices": []}]}
    neither = class_request(swim["service"], swim["event"])
    del neither["booking"]["totalParticipants"]
    both = class_request(swim["service"], swim["event"], participantsChoices=choices)

    assert call(sandbox, "POST", BOOKINGS, neither)[0] == 400
    assert call(sandbox, "POST", BOOKINGS, both)[0] == 400
    assert sandbox.state.count("bookings") == 0

    neither["booking"]["participantsChoices"] = choices
    booking = create(sandbox, neither)
    assert booking["participantsChoices"] == choices
    assert "totalParticipants" not in booking


def test_create_booking_with_zero_participants_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    status, answer = call(sandbox, "POST", BOOKINGS, class_request(swim["service"], swim["event"], participants=0))

    assert status == 400
    assert violated_fields(answer) == ["booking.totalParticipants"]


def test_create_booking_fills_missing_contact_details_from_the_contact(sandbox: Sandbox, swim: dict) -> None:
    contact = make_contact(sandbox, "Rae", "Diver", phone="+44 7700 900123")
    body = class_request(
        swim["service"], swim["event"], contactDetails={"contactId": contact["id"], "firstName": "Ray"}
    )

    booking = create(sandbox, body)

    assert booking["contactDetails"] == {
        "contactId": contact["id"],
        "firstName": "Ray",
        "lastName": "Diver",
        "email": "rae.diver@example.com",
        "phone": "+44 7700 900123",
    }


def test_create_class_booking_fills_the_session_to_capacity(sandbox: Sandbox, swim: dict) -> None:
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    last = create(sandbox, class_request(swim["service"], swim["event"], participants=1, status="CONFIRMED"))

    assert last["status"] == "CONFIRMED"
    assert capacity.booked_participants(sandbox, event_id=swim["event"]["id"]) == 3


def test_create_class_booking_over_capacity_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))
    create(sandbox, class_request(swim["service"], swim["event"], participants=1, status="PENDING"))

    status, answer = call(sandbox, "POST", BOOKINGS, class_request(swim["service"], swim["event"]))

    assert status == 428
    assert code(answer) == "SESSION_CAPACITY_EXCEEDED"
    assert sandbox.state.count("bookings") == 2


def test_created_and_canceled_bookings_hold_no_place(sandbox: Sandbox, swim: dict) -> None:
    create(sandbox, class_request(swim["service"], swim["event"], participants=3))
    confirmed = create(sandbox, class_request(swim["service"], swim["event"], participants=3, status="CONFIRMED"))
    call(sandbox, "POST", f"{BOOKINGS}/{confirmed['id']}/cancel", {"revision": confirmed["revision"]})

    booking = create(sandbox, class_request(swim["service"], swim["event"], participants=3, status="CONFIRMED"))

    assert booking["status"] == "CONFIRMED"


def test_skip_availability_validation_books_a_full_session(sandbox: Sandbox, swim: dict) -> None:
    create(sandbox, class_request(swim["service"], swim["event"], participants=3, status="CONFIRMED"))
    body = {
        **class_request(swim["service"], swim["event"], status="CONFIRMED"),
        "flowControlSettings": {"skipAvailabilityValidation": True},
    }

    booking = create(sandbox, body)

    assert booking["status"] == "CONFIRMED"
    assert capacity.booked_participants(sandbox, event_id=swim["event"]["id"]) == 4


# -- create: appointments -----------------------------------------------------------------------------


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


def test_create_booking_with_multi_service_info_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"])
    body["booking"]["multiServiceBookingInfo"] = {"id": "x", "type": "SEQUENTIAL_BOOKINGS"}

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "CAN_NOT_CREATE_BOOKING_WITH_MULTI_SERVICE_BOOKING_INFO"


# -- create: courses ----------------------------------------------------------------------------------


@pytest.fixture
def course(sandbox: Sandbox) -> dict[str, Any]:
    service = make_service(sandbox, type="COURSE", name="Learn to Swim", capacity=2)
    events = [make_event(sandbox, service, datetime(2026, 12, day, 18, 0)) for day in (8, 1, 15)]
    return {"service": service, "events": events}


def course_request(service: dict, participants: int = 1, **booking: Any) -> dict[str, Any]:
    return {
        "booking": {
            "bookedEntity": {"schedule": {"scheduleId": service["schedule"]["id"]}},
            "contactDetails": {"firstName": "Kit"},
            "totalParticipants": participants,
            **booking,
        }
    }


def test_create_course_booking_spans_first_to_last_session(sandbox: Sandbox, course: dict) -> None:
    booking = create(sandbox, course_request(course["service"]))

    schedule = booking["bookedEntity"]["schedule"]
    assert schedule["scheduleId"] == course["service"]["schedule"]["id"]
    assert schedule["serviceId"] == course["service"]["id"]
    assert schedule["firstSessionStart"] == "2026-12-01T18:00:00.000+00:00"
    assert schedule["lastSessionEnd"] == "2026-12-15T19:00:00.000+00:00"
    assert booking["startDate"] == "2026-12-01T18:00:00.000Z"
    assert booking["endDate"] == "2026-12-15T19:00:00.000Z"
    assert booking["bookedEntity"]["tags"] == ["COURSE"]
    assert booking["bookedEntity"]["title"] == "Learn to Swim"


def test_create_course_booking_for_unknown_schedule_is_rejected(sandbox: Sandbox, course: dict) -> None:
    status, answer = call(sandbox, "POST", BOOKINGS, course_request({"schedule": {"id": "no-such-schedule"}}))

    assert status == 404
    assert code(answer) == "SCHEDULE_NOT_FOUND"
    assert sandbox.state.count("bookings") == 0


def test_create_course_booking_over_capacity_is_rejected(sandbox: Sandbox, course: dict) -> None:
    create(sandbox, course_request(course["service"], participants=2, status="CONFIRMED"))

    status, answer = call(sandbox, "POST", BOOKINGS, course_request(course["service"]))

    assert status == 428
    assert code(answer) == "SCHEDULE_CAPACITY_EXCEEDED"
    assert sandbox.state.count("bookings") == 1


def test_course_bookings_take_a_place_in_every_session(sandbox: Sandbox, course: dict) -> None:
    create(sandbox, course_request(course["service"], participants=2, status="CONFIRMED"))

    assert [capacity.booked_participants(sandbox, event_id=e["id"]) for e in course["events"]] == [2, 2, 2]


# -- bulk create --------------------------------------------------------------------------------------


def test_bulk_create_returns_each_booking_only_when_asked(sandbox: Sandbox, swim: dict) -> None:
    infos = [class_request(swim["service"], swim["event"]) for _ in range(2)]

    status, lean = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})
    status_full, full = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos, "returnFullEntity": True})

    assert status == status_full == 200
    assert [r["itemMetadata"]["originalIndex"] for r in lean["results"]] == [0, 1]
    assert all(r["itemMetadata"]["success"] and "item" not in r for r in lean["results"])
    assert [r["item"]["id"] for r in full["results"]] == [r["itemMetadata"]["id"] for r in full["results"]]
    assert full["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 0, "undetailedFailures": 0}
    assert sandbox.state.count("bookings") == 4


def test_bulk_create_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    status, answer = call(
        sandbox,
        "POST",
        "/bookings/bookings/v2/bulk/bookings/create",
        {"createBookingsInfo": [class_request(swim["service"], swim["event"])]},
    )

    assert status == 200
    assert answer["bulkActionMetadata"]["totalSuccesses"] == 1


@pytest.mark.parametrize("size", [0, 41])
def test_bulk_create_takes_1_to_40_bookings(sandbox: Sandbox, swim: dict, size: int) -> None:
    infos = [
        {**class_request(swim["service"], swim["event"]), "flowControlSettings": {"skipAvailabilityValidation": True}}
        for _ in range(size)
    ]

    status, _ = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status == 400
    assert sandbox.state.count("bookings") == 0


def test_bulk_create_of_40_bookings_is_accepted(sandbox: Sandbox, swim: dict) -> None:
    infos = [
        {**class_request(swim["service"], swim["event"]), "flowControlSettings": {"skipAvailabilityValidation": True}}
        for _ in range(40)
    ]

    status, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status == 200
    assert answer["bulkActionMetadata"]["totalSuccesses"] == 40


def test_bulk_create_with_a_missing_field_fails_the_whole_call(sandbox: Sandbox, swim: dict) -> None:
    broken = class_request(swim["service"], swim["event"])
    del broken["booking"]["totalParticipants"]
    infos = [class_request(swim["service"], swim["event"]), broken]

    status, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status == 400
    assert violated_fields(answer) == ["createBookingsInfo[1].booking.totalParticipants"]
    assert sandbox.state.count("bookings") == 0


def test_bulk_create_counts_capacity_across_the_batch(sandbox: Sandbox, swim: dict) -> None:
    infos = [class_request(swim["service"], swim["event"], participants=2) for _ in range(2)]
    infos.append(class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status == 200
    outcomes = [r["itemMetadata"]["success"] for r in answer["results"]]
    assert outcomes == [True, False, True]
    failure = answer["results"][1]["itemMetadata"]
    assert failure["originalIndex"] == 1
    assert failure["error"]["code"] == "SESSION_CAPACITY_EXCEEDED"
    assert answer["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 1, "undetailedFailures": 0}
    assert sandbox.state.count("bookings") == 2


def test_bulk_create_reports_an_unknown_session_per_item(sandbox: Sandbox, swim: dict) -> None:
    infos = [class_request(swim["service"], {"id": "gone"}), class_request(swim["service"], swim["event"])]

    _, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert answer["results"][0]["itemMetadata"]["error"]["code"] == "SESSION_NOT_FOUND"
    assert answer["results"][1]["itemMetadata"]["success"] is True


# -- confirm or decline -------------------------------------------------------------------------------


def confirm_or_decline(sb: Sandbox, booking_id: str, **body: Any) -> tuple[int, dict]:
    return call(sb, "POST", f"/bookings/v2/confirmation/{booking_id}:confirmOrDecline", body)


def put_order(sb: Sandbox, booking_id: str, payment_status: str = "NOT_PAID") -> dict[str, Any]:
    order = {
        "id": sb.state.new_id(),
        "status": "APPROVED",
        "paymentStatus": payment_status,
        "createdDate": "2026-11-21T09:00:00.000Z",
        "lineItems": [{"catalogReference": {"catalogItemId": booking_id, "appId": BOOKINGS_APP_ID}}],
    }
    with sb.state.transaction():
        sb.state.put("orders", order)
    return order


def test_confirm_or_decline_confirms_and_records_the_payment(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="NOT_PAID")

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["paymentStatus"] == "NOT_PAID"
    assert answer["booking"]["revision"] == "2"
    assert answer["booking"]["updatedDate"] == "2026-11-21T09:00:00.000Z"


def test_confirm_or_decline_leaves_a_booking_needing_approval_pending(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    booking = create(sandbox, class_request(service, event))

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert answer["booking"]["status"] == "PENDING"
    assert answer["booking"]["paymentStatus"] == "PAID"


def test_confirm_or_decline_declines_an_unpaid_booking_that_no_longer_fits(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="NOT_PAID")

    assert answer["booking"]["status"] == "DECLINED"


def test_confirm_or_decline_keeps_a_paid_booking_that_no_longer_fits(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["doubleBooked"] is True


def test_confirm_or_decline_never_declines_a_booking_created_without_availability_check(
    sandbox: Sandbox, swim: dict
) -> None:
    body = {
        **class_request(swim["service"], swim["event"], participants=2),
        "flowControlSettings": {"skipAvailabilityValidation": True},
    }
    booking = create(sandbox, body)
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    _, answer = confirm_or_decline(sandbox, booking["id"])

    assert answer["booking"]["status"] == "CONFIRMED"


def test_confirm_or_decline_leaves_payment_to_the_ecom_order(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    put_order(sandbox, booking["id"])

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["paymentStatus"] == "UNDEFINED"


def test_confirm_or_decline_of_unknown_booking_is_not_found(sandbox: Sandbox) -> None:
    status, answer = confirm_or_decline(sandbox, "no-such-booking")

    assert status == 404
    assert code(answer) == "BOOKING_NOT_FOUND"


def test_confirm_or_decline_of_a_canceled_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    _, canceled = call(sandbox, "POST", f"{BOOKINGS}/{booking['id']}/cancel", {"revision": "1"})

    status, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"]) == canceled["booking"]


def test_confirm_or_decline_with_unknown_payment_status_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, _ = confirm_or_decline(sandbox, booking["id"], paymentStatus="SORTED")

    assert status == 400
    assert stored(sandbox, booking["id"])["revision"] == "1"


def test_bulk_confirm_or_decline_reports_each_booking(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    details = [{"bookingId": booking["id"], "paymentStatus": "PAID"}, {"bookingId": "missing"}]

    status, answer = call(sandbox, "POST", BULK_CONFIRM_OR_DECLINE, {"details": details, "returnEntity": True})

    assert status == 200
    first, second = answer["results"]
    assert first["item"]["status"] == "CONFIRMED"
    assert first["item"]["paymentStatus"] == "PAID"
    assert second["itemMetadata"]["success"] is False
    assert second["itemMetadata"]["error"]["code"] == "BOOKING_NOT_FOUND"
    assert answer["bulkActionMetadata"] == {"totalSuccesses": 1, "totalFailures": 1, "undetailedFailures": 0}


def test_bulk_confirm_or_decline_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(
        sandbox,
        "POST",
        "/_api/bookings-confirmator/v2/bulk/bookings/confirmOrDecline",
        {"details": [{"bookingId": booking["id"]}]},
    )

    assert status == 200
    assert "item" not in answer["results"][0]


def test_bulk_confirm_or_decline_with_a_repeated_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    details = [{"bookingId": booking["id"]}, {"bookingId": booking["id"], "paymentStatus": "PAID"}]

    status, answer = call(sandbox, "POST", BULK_CONFIRM_OR_DECLINE, {"details": details})

    assert status == 400
    assert code(answer) == "DUPLICATED_BOOKINGS"
    assert stored(sandbox, booking["id"])["status"] == "CREATED"


def test_bulk_confirm_or_decline_takes_at_most_300_bookings(sandbox: Sandbox) -> None:
    details = [{"bookingId": f"b{i}"} for i in range(301)]

    status, _ = call(sandbox, "POST", BULK_CONFIRM_OR_DECLINE, {"details": details})

    assert status == 400


# -- confirm, decline, cancel, mark as pending ----------------------------------------------------------


def act(sb: Sandbox, booking_id: str, action: str, **body: Any) -> tuple[int, dict]:
    return call(sb, "POST", f"{BOOKINGS}/{booking_id}/{action}", body)


def test_confirm_booking_confirms_and_sets_the_payment_status(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], "confirm", revision="1", paymentStatus="EXEMPT")

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["paymentStatus"] == "EXEMPT"
    assert answer["booking"]["revision"] == "2"


def test_confirm_booking_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", f"/bookings/v2/bookings/{booking['id']}/confirm", {"revision": "1"})

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"


@pytest.mark.parametrize("action", ["confirm", "decline", "cancel", "mark_booking_as_pending"])
def test_status_change_without_revision_is_rejected(sandbox: Sandbox, swim: dict, action: str) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], action)

    assert status == 400
    assert violated_fields(answer) == ["revision"]
    assert stored(sandbox, booking["id"]) == booking


@pytest.mark.parametrize("action", ["confirm", "decline", "cancel", "mark_booking_as_pending"])
def test_status_change_at_a_stale_revision_is_a_conflict(sandbox: Sandbox, swim: dict, action: str) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], action, revision="7")

    assert status == 409
    assert code(answer) == "INVALID_REVISION"
    assert stored(sandbox, booking["id"]) == booking


@pytest.mark.parametrize("action", ["confirm", "decline", "cancel", "mark_booking_as_pending"])
def test_status_change_of_unknown_booking_is_not_found(sandbox: Sandbox, action: str) -> None:
    status, answer = act(sandbox, "no-such-booking", action, revision="1")

    assert status == 404
    assert code(answer) == "BOOKING_NOT_FOUND"


def test_confirm_booking_that_is_already_confirmed_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "confirm", revision="1")

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"


def test_confirm_booking_ignores_capacity_unless_asked(sandbox: Sandbox, swim: dict) -> None:
    waiting = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    other = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    checked, answer = act(
        sandbox, waiting["id"], "confirm", revision="1", flowControlSettings={"checkAvailabilityValidation": True}
    )
    forced, _ = act(sandbox, other["id"], "confirm", revision="1")

    assert checked == 428
    assert code(answer) == "NO_OPEN_SPOTS"
    assert stored(sandbox, waiting["id"])["status"] == "CREATED"
    assert forced == 200


def test_decline_booking_declines_a_pending_booking(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="PENDING"))

    status, answer = act(sandbox, booking["id"], "decline", revision="1")

    assert status == 200
    assert answer["booking"]["status"] == "DECLINED"
    assert answer["booking"]["revision"] == "2"


def test_decline_booking_that_is_confirmed_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "decline", revision="1")

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"])["status"] == "CONFIRMED"


def test_cancel_booking_cancels_it_once(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "cancel", revision="1")
    again, repeat = act(sandbox, booking["id"], "cancel", revision="2")

    assert status == 200
    assert answer["booking"]["status"] == "CANCELED"
    assert answer["booking"]["revision"] == "2"
    assert again == 428
    assert code(repeat) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"])["revision"] == "2"


def test_cancel_booking_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", f"/bookings/v2/bookings/{booking['id']}/cancel", {"revision": "1"})

    assert status == 200
    assert answer["booking"]["status"] == "CANCELED"


def test_bulk_cancel_reports_each_booking(sandbox: Sandbox, swim: dict) -> None:
    live = create(sandbox, class_request(swim["service"], swim["event"]))
    stale = create(sandbox, class_request(swim["service"], swim["event"]))
    items = [{"bookingId": live["id"], "revision": "1"}, {"bookingId": stale["id"], "revision": "5"}]

    status, answer = call(sandbox, "POST", BULK_CANCEL, {"bookings": items, "returnFullEntity": True})

    assert status == 200
    first, second = answer["results"]
    assert first["item"]["status"] == "CANCELED"
    assert second["itemMetadata"]["error"]["code"] == "INVALID_REVISION"
    assert stored(sandbox, stale["id"])["status"] == "CREATED"


def test_bulk_cancel_with_a_repeated_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    items = [{"bookingId": booking["id"], "revision": "1"}] * 2

    status, answer = call(sandbox, "POST", BULK_CANCEL, {"bookings": items})

    assert status == 400
    assert code(answer) == "DUPLICATE_BOOKING_IDS"
    assert stored(sandbox, booking["id"])["status"] == "CREATED"


def test_mark_booking_as_pending_on_a_service_needing_approval(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    booking = create(sandbox, class_request(service, event))

    status, answer = act(sandbox, booking["id"], "mark_booking_as_pending", revision="1", paymentStatus="NOT_PAID")

    assert status == 200
    assert answer["booking"]["status"] == "PENDING"
    assert answer["booking"]["paymentStatus"] == "NOT_PAID"


def test_mark_booking_as_pending_on_a_service_without_approval_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], "mark_booking_as_pending", revision="1")
    skipped, _ = act(
        sandbox,
        booking["id"],
        "mark_booking_as_pending",
        revision="1",
        flowControlSettings={"skipPendingApprovalServiceValidation": True},
    )

    assert status == 428
    assert code(answer) == "NOT_PENDING_APPROVAL_SERVICE"
    assert skipped == 200


def test_mark_booking_as_pending_only_from_created(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    booking = create(sandbox, class_request(service, event, status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "mark_booking_as_pending", revision="1")

    assert status == 428
    assert code(answer) == "BOOKING_MARK_BOOKING_AS_PENDING"


# -- update number of participants --------------------------------------------------------------------


def test_update_number_of_participants_of_a_class_booking(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "update_number_of_participants", revision="1", totalParticipants=3)

    assert status == 200
    assert answer["booking"]["totalParticipants"] == 3
    assert answer["booking"]["revision"] == "2"
    assert capacity.booked_participants(sandbox, event_id=swim["event"]["id"]) == 3


def test_update_number_of_participants_switches_to_choices(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    choices = {"serviceChoices": [{"numberOfParticipants": 2, "choices": []}]}

    _, answer = act(sandbox, booking["id"], "update_number_of_participants", revision="1", participantsChoices=choices)

    assert answer["booking"]["participantsChoices"] == choices
    assert "totalParticipants" not in answer["booking"]


def test_update_number_of_participants_over_capacity_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))
    create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "update_number_of_participants", revision="1", totalParticipants=3)

    assert status == 428
    assert code(answer) == "SESSION_CAPACITY_EXCEEDED"
    assert stored(sandbox, booking["id"]) == booking


def test_update_number_of_participants_of_an_appointment_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    booking = create(sandbox, appointment_request(massage["service"], massage["staff"]))

    status, answer = act(sandbox, booking["id"], "update_number_of_participants", revision="1", totalParticipants=2)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"


def test_update_number_of_participants_needs_exactly_one_count(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    choices = {"serviceChoices": [{"numberOfParticipants": 2}]}

    neither, _ = act(sandbox, booking["id"], "update_number_of_participants", revision="1")
    both, _ = act(
        sandbox,
        booking["id"],
        "update_number_of_participants",
        revision="1",
        totalParticipants=2,
        participantsChoices=choices,
    )

    assert neither == both == 400
    assert stored(sandbox, booking["id"]) == booking


# -- multi-service bookings ---------------------------------------------------------------------------


@pytest.fixture
def spa(sandbox: Sandbox) -> dict[str, Any]:
    location = make_location(sandbox, "Spa")
    staff = make_staff(sandbox, "Lee Therapist")
    services = [
        make_service(sandbox, type="APPOINTMENT", name=name, location=location, staff=[staff])
        for name in ("Sauna", "Massage")
    ]
    return {"location": location, "staff": staff, "services": services}


def spa_booking(spa: dict, index: int, start: str, end: str, **slot: Any) -> dict[str, Any]:
    service = spa["services"][index]
    return {
        "bookedEntity": {
            "slot": {
                "serviceId": service["id"],
                "scheduleId": service["schedule"]["id"],
                "startDate": start,
                "endDate": end,
                "timezone": "Europe/London",
                "resource": {"id": spa["staff"]["resourceId"]},
                "location": {"id": spa["location"]["id"], "locationType": "OWNER_BUSINESS"},
                **slot,
            }
        },
        "contactDetails": {"firstName": "Ash"},
        "totalParticipants": 1,
    }


def spa_request(spa: dict, **body: Any) -> dict[str, Any]:
    return {
        "bookings": [
            spa_booking(spa, 0, "2026-12-02T10:00:00", "2026-12-02T11:00:00"),
            spa_booking(spa, 1, "2026-12-02T11:00:00", "2026-12-02T12:00:00"),
        ],
        "multiServiceBookingType": "SEQUENTIAL_BOOKINGS",
        **body,
    }


def test_create_multi_service_booking_books_each_service_back_to_back(sandbox: Sandbox, spa: dict) -> None:
    status, answer = call(sandbox, "POST", MULTI, spa_request(spa, returnFullEntity=True))

    assert status == 200
    msb = answer["multiServiceBooking"]
    assert [entry["booking"]["bookedEntity"]["title"] for entry in msb["bookings"]] == ["Sauna", "Massage"]
    for entry in msb["bookings"]:
        assert entry["booking"]["multiServiceBookingInfo"] == {"id": msb["id"], "type": "SEQUENTIAL_BOOKINGS"}
        assert entry["bookingId"] == entry["booking"]["id"]
        assert entry["booking"]["status"] == "CREATED"
    assert sandbox.state.count("bookings") == 2


def test_create_multi_service_booking_returns_ids_only_by_default(sandbox: Sandbox, spa: dict) -> None:
    status, answer = call(sandbox, "POST", "/bookings/multiServiceBookings/v2/multi_service_bookings", spa_request(spa))

    assert status == 200
    assert all(set(entry) == {"bookingId"} for entry in answer["multiServiceBooking"]["bookings"])


def test_create_multi_service_booking_with_a_gap_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    body["bookings"][1] = spa_booking(spa, 1, "2026-12-02T11:15:00", "2026-12-02T12:15:00")

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == sandbox.state.count("multi_service_bookings") == 0


def test_create_multi_service_booking_at_two_locations_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    body["bookings"][1]["bookedEntity"]["slot"]["location"] = {"locationType": "CUSTOM"}

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_needs_two_to_eight_bookings(sandbox: Sandbox, spa: dict) -> None:
    one = spa_request(spa)
    one["bookings"] = one["bookings"][:1]
    nine = spa_request(spa)
    nine["bookings"] = [
        spa_booking(spa, i % 2, f"2026-12-02T{8 + i:02d}:00:00", f"2026-12-02T{9 + i:02d}:00:00") for i in range(9)
    ]

    assert call(sandbox, "POST", MULTI, one)[0] == 400
    assert call(sandbox, "POST", MULTI, nine)[0] == 400
    assert sandbox.state.count("bookings") == 0


@pytest.mark.parametrize("kind", ["SEPARATE_BOOKINGS", "PARALLEL_BOOKINGS"])
def test_create_multi_service_booking_supports_only_sequential_bookings(sandbox: Sandbox, spa: dict, kind: str) -> None:
    status, answer = call(sandbox, "POST", MULTI, spa_request(spa, multiServiceBookingType=kind))

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"


def test_create_multi_service_booking_lists_missing_slot_fields(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    del body["bookings"][1]["bookedEntity"]["slot"]["scheduleId"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert violated_fields(answer) == ["bookings[1].bookedEntity.slot.scheduleId"]


def test_get_multi_service_booking_returns_its_bookings(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb_id = created["multiServiceBooking"]["id"]

    status, answer = call(sandbox, "GET", f"{MULTI}/{msb_id}")
    missing, not_found = call(sandbox, "GET", f"{MULTI}/nope")

    assert status == 200
    assert [e["booking"]["id"] for e in answer["multiServiceBooking"]["bookings"]] == [
        e["bookingId"] for e in created["multiServiceBooking"]["bookings"]
    ]
    assert missing == 404
    assert code(not_found) == "MULTI_SERVICE_BOOKING_NOT_FOUND"


def test_confirm_multi_service_booking_confirms_every_booking(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    infos = [{"bookingId": e["bookingId"], "revision": "1", "paymentStatus": "PAID"} for e in msb["bookings"]]

    status, answer = call(
        sandbox, "POST", f"{MULTI}/{msb['id']}/confirm", {"confirmBookingsInfo": infos, "returnFullEntity": True}
    )

    assert status == 200
    assert [
        (e["booking"]["status"], e["booking"]["paymentStatus"]) for e in answer["multiServiceBooking"]["bookings"]
    ] == [("CONFIRMED", "PAID")] * 2


def test_confirm_multi_service_booking_needs_every_current_revision(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    first, second = (e["bookingId"] for e in msb["bookings"])
    path = f"{MULTI}/{msb['id']}/confirm"

    partial, partial_answer = call(
        sandbox, "POST", path, {"confirmBookingsInfo": [{"bookingId": first, "revision": "1"}]}
    )
    stale, stale_answer = call(
        sandbox,
        "POST",
        path,
        {"confirmBookingsInfo": [{"bookingId": first, "revision": "1"}, {"bookingId": second, "revision": "3"}]},
    )

    assert (partial, code(partial_answer)) == (400, "NOT_ALL_BOOKINGS_WERE_SENT")
    assert (stale, code(stale_answer)) == (409, "BOOKING_REVISION_MISMATCH")
    assert {stored(sandbox, b)["status"] for b in (first, second)} == {"CREATED"}


def test_cancel_multi_service_booking_cancels_every_booking_once(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb_id = created["multiServiceBooking"]["id"]

    status, _ = call(sandbox, "POST", f"{MULTI}/{msb_id}/cancel", {})
    again, answer = call(sandbox, "POST", f"{MULTI}/{msb_id}/cancel", {})

    assert status == 200
    assert {stored(sandbox, e["bookingId"])["status"] for e in created["multiServiceBooking"]["bookings"]} == {
        "CANCELED"
    }
    assert again == 428
    assert code(answer) == "ALL_BOOKINGS_ARE_ALREADY_CANCELED"


def test_cancel_one_booking_of_a_multi_service_booking_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    booking_id = created["multiServiceBooking"]["bookings"][0]["bookingId"]

    status, answer = act(sandbox, booking_id, "cancel", revision="1")

    assert status == 428
    assert code(answer) == "NOT_ALLOWED_TO_UPDATE_BOOKING_IN_MULTI_SERVICE_BOOKING"


# -- links.py: what eCommerce and time slots ask of bookings ---------------------------------------------


def test_booked_participants_counts_confirmed_and_pending_bookings(sandbox: Sandbox, swim: dict) -> None:
    for status, n in (("CONFIRMED", 1), ("PENDING", 1), ("CREATED", 1)):
        create(sandbox, class_request(swim["service"], swim["event"], participants=n, status=status))

    assert capacity.booked_participants(sandbox, event_id=swim["event"]["id"]) == 2
    assert capacity.booked_participants(sandbox, event_id="another-event") == 0


def test_booking_line_item_prices_every_participant(sandbox: Sandbox, swim: dict) -> None:
    contact = make_contact(sandbox)
    booking = create(
        sandbox,
        class_request(
            swim["service"],
            swim["event"],
            participants=2,
            contactDetails={"contactId": contact["id"]},
            selectedPaymentOption="OFFLINE",
        ),
    )

    item = booking_orders.booking_line_item(sandbox, booking_id=booking["id"])

    assert item == {
        "bookingId": booking["id"],
        "serviceId": swim["service"]["id"],
        "contactId": contact["id"],
        "productName": "Open Water Swim",
        "unitPrice": "24",
        "scheduledDate": "2026-11-22T07:00:00.000Z",
        "numberOfParticipants": 2,
        "selectedPaymentOption": "OFFLINE",
    }


def test_booking_line_item_of_unknown_booking_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError) as excinfo:
        booking_orders.booking_line_item(sandbox, booking_id="nope")

    assert (excinfo.value.status, excinfo.value.code) == (404, "BOOKING_NOT_FOUND")


def test_an_order_for_a_booking_confirms_it_and_syncs_payment(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    with sandbox.state.transaction():
        booking_orders.order_created_for_booking(sandbox, booking_id=booking["id"], order={"paymentStatus": "NOT_PAID"})

    after = stored(sandbox, booking["id"])
    assert (after["status"], after["paymentStatus"], after["revision"]) == ("CONFIRMED", "NOT_PAID", "2")


@pytest.mark.parametrize(
    ("order_status", "booking_status"),
    [
        ("NOT_PAID", "NOT_PAID"),
        ("PAID", "PAID"),
        ("PARTIALLY_PAID", "PARTIALLY_PAID"),
        ("FULLY_REFUNDED", "REFUNDED"),
        ("PARTIALLY_REFUNDED", "PARTIALLY_PAID"),
    ],
)
def test_booking_payment_status_follows_its_order(
    sandbox: Sandbox, swim: dict, order_status: str, booking_status: str
) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    with sandbox.state.transaction():
        booking_orders.order_payment_changed(sandbox, booking_id=booking["id"], order={"paymentStatus": order_status})

    assert stored(sandbox, booking["id"])["paymentStatus"] == booking_status


def test_a_canceled_order_leaves_the_booking_status_alone(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    with sandbox.state.transaction():
        booking_orders.order_payment_changed(
            sandbox, booking_id=booking["id"], order={"status": "CANCELED", "paymentStatus": "NOT_PAID"}
        )

    after = stored(sandbox, booking["id"])
    assert (after["status"], after["paymentStatus"]) == ("CONFIRMED", "NOT_PAID")


def test_multi_service_booking_cannot_skip_availability_without_resources(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa, flowControlSettings={"skipAvailabilityValidation": True})
    del body["bookings"][0]["bookedEntity"]["slot"]["resource"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert code(answer) == "CAN_NOT_SKIP_AVAILABILITY_VALIDATION_IF_RESOURCE_NOT_PROVIDED"
    assert sandbox.state.count("bookings") == 0


def test_confirm_multi_service_booking_twice_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    path = f"{MULTI}/{msb['id']}/confirm"
    call(
        sandbox,
        "POST",
        path,
        {"confirmBookingsInfo": [{"bookingId": e["bookingId"], "revision": "1"} for e in msb["bookings"]]},
    )

    status, answer = call(
        sandbox,
        "POST",
        path,
        {"confirmBookingsInfo": [{"bookingId": e["bookingId"], "revision": "2"} for e in msb["bookings"]]},
    )

    assert status == 428
    assert code(answer) == "ALL_BOOKINGS_ARE_ALREADY_CONFIRMED"


def test_create_class_booking_on_a_recurring_master_event_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    master = sandbox.state.edit("events", swim["event"]["id"])
    master["recurrenceType"] = "MASTER"
    sandbox.state.put("events", master)

    status, answer = call(sandbox, "POST", BOOKINGS, class_request(swim["service"], swim["event"]))

    assert status == 404
    assert code(answer) == "SESSION_NOT_FOUND"


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


# -- reschedule ---------------------------------------------------------------------------------------


def test_reschedule_class_booking_moves_it_to_another_session(sandbox: Sandbox, swim: dict) -> None:
    later = make_event(sandbox, swim["service"], datetime(2026, 11, 23, 7, 0), staff=swim["staff"])
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "reschedule", revision="1", slot={"eventId": later["id"]})

    assert status == 200
    moved = answer["booking"]
    assert moved["bookedEntity"]["slot"]["eventId"] == later["id"]
    assert moved["startDate"] == "2026-11-23T07:00:00.000Z"
    assert (moved["status"], moved["revision"]) == ("CONFIRMED", "2")
    assert capacity.booked_participants(sandbox, event_id=swim["event"]["id"]) == 0


def test_reschedule_into_a_full_session_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    full = make_event(sandbox, swim["service"], datetime(2026, 11, 23, 7, 0), capacity=1)
    create(sandbox, class_request(swim["service"], full, status="CONFIRMED"))
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "reschedule", revision="1", slot={"eventId": full["id"]})

    assert status == 428
    assert code(answer) == "SESSION_CAPACITY_EXCEEDED"
    assert stored(sandbox, booking["id"]) == booking


def test_reschedule_appointment_within_its_own_time_is_accepted(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], "2026-12-01T10:00:00", "2026-12-01T11:00:00")
    body["booking"]["status"] = "CONFIRMED"
    booking = create(sandbox, body)

    status, answer = act(
        sandbox,
        booking["id"],
        "reschedule",
        revision="1",
        slot={"startDate": "2026-12-01T10:30:00", "endDate": "2026-12-01T11:30:00"},
    )

    assert status == 200
    assert answer["booking"]["bookedEntity"]["slot"]["startDate"] == "2026-12-01T10:30:00.000+00:00"
    assert answer["booking"]["bookedEntity"]["slot"]["resource"]["id"] == massage["staff"]["resourceId"]


def test_reschedule_course_booking_is_rejected(sandbox: Sandbox, course: dict) -> None:
    booking = create(sandbox, course_request(course["service"]))

    status, answer = act(
        sandbox, booking["id"], "reschedule", revision="1", slot={"eventId": course["events"][0]["id"]}
    )

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"


def test_reschedule_without_slot_and_revision_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], "reschedule")

    assert status == 400
    assert violated_fields(answer) == ["slot", "revision"]
