"""Create Booking and Bulk Create Booking (``handlers/bookings/create.py``): class sessions, courses, bulk."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.booking_builders import (
    BOOKINGS,
    SESSION_START,
    class_request,
    code,
    course_request,
    create,
    stored,
    violated_fields,
)
from tests.wix_sandbox.builders import call, make_contact, make_event, make_service
from wix_sandbox import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.rules import capacity

BULK_CREATE = "/bookings/v2/bulk/bookings/create"


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


@pytest.mark.parametrize("path", [BOOKINGS, BULK_CREATE])
def test_a_class_booking_naming_only_the_service_and_event_is_accepted(sandbox: Sandbox, swim: dict, path: str) -> None:
    # createBooking doc: a class session needs slot.serviceId + slot.eventId; Wix derives the
    # dates, timezone, resource and location from the event.
    booking = {
        "bookedEntity": {"slot": {"serviceId": swim["service"]["id"], "eventId": swim["event"]["id"]}},
        "totalParticipants": 1,
    }
    body = {"booking": booking} if path == BOOKINGS else {"createBookingsInfo": [{"booking": booking}]}
    body["returnFullEntity"] = True

    status, answer = call(sandbox, "POST", path, body)

    assert status == 200, answer
    made = answer["booking"] if path == BOOKINGS else answer["results"][0]["item"]
    slot = made["bookedEntity"]["slot"]
    assert slot["startDate"] == "2026-11-22T07:00:00.000+00:00" and slot["timezone"] == "Europe/London"
    assert slot["resource"]["id"] == swim["staff"]["resourceId"]
    assert slot["location"]["locationType"] == "OWNER_BUSINESS"


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


@pytest.mark.parametrize("path", [BOOKINGS, BULK_CREATE])
def test_a_class_booking_naming_only_the_event_is_accepted_with_the_rest_from_the_event(
    sandbox: Sandbox, swim: dict, path: str
) -> None:
    # Create Booking reference (seed 002): "Specifying an event ID leads to automatic calculations
    # of slot.startDate, slot.endDate, slot.timezone, slot.resource, and slot.location."
    booking = {"bookedEntity": {"slot": {"eventId": swim["event"]["id"]}}, "totalParticipants": 1}
    body = {"booking": booking} if path == BOOKINGS else {"createBookingsInfo": [{"booking": booking}]}
    body["returnFullEntity"] = True

    status, answer = call(sandbox, "POST", path, body)

    assert status == 200, answer
    made = answer["booking"] if path == BOOKINGS else answer["results"][0]["item"]
    slot = made["bookedEntity"]["slot"]
    assert slot["serviceId"] == swim["service"]["id"]
    assert slot["scheduleId"] == swim["service"]["schedule"]["id"]
    assert slot["eventId"] == swim["event"]["id"]
    assert slot["startDate"] == "2026-11-22T07:00:00.000+00:00" and slot["timezone"] == "Europe/London"
    assert slot["resource"]["id"] == swim["staff"]["resourceId"]
    assert slot["location"]["locationType"] == "OWNER_BUSINESS"
    assert made["bookedEntity"]["title"] == "Open Water Swim"
    assert sandbox.state.count("bookings") == 1


def test_a_class_booking_naming_the_event_of_another_service_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    other = make_service(sandbox, name="Sunset Swim")
    body = class_request(other, swim["event"])

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == 0


def test_a_booking_naming_only_an_unknown_event_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    body = {"booking": {"bookedEntity": {"slot": {"eventId": "no-such-event"}}, "totalParticipants": 1}}

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 404
    assert code(answer) == "SESSION_NOT_FOUND"
    assert sandbox.state.count("bookings") == 0


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


def test_create_class_booking_on_a_recurring_master_event_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    master = sandbox.state.edit("events", swim["event"]["id"])
    master["recurrenceType"] = "MASTER"
    sandbox.state.put("events", master)

    status, answer = call(sandbox, "POST", BOOKINGS, class_request(swim["service"], swim["event"]))

    assert status == 404
    assert code(answer) == "SESSION_NOT_FOUND"


# -- create: courses ----------------------------------------------------------------------------------


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


@pytest.mark.parametrize("status", ["CONFIRMED", "PENDING", "CREATED"])
def test_bulk_create_counts_each_item_once_against_capacity(sandbox: Sandbox, status: str) -> None:
    # Items of 40, 30 and 10 people in an empty 120-place class: all three fit (80 places). A
    # confirmed item used to be counted twice (stored, and held for the rest of the call), so the
    # third was refused as full with 70 places taken.
    service = make_service(sandbox, capacity=120)
    event = make_event(sandbox, service, SESSION_START)
    infos = [class_request(service, event, participants=n, status=status) for n in (40, 30, 10)]

    status_code, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status_code == 200
    assert [r["itemMetadata"]["success"] for r in answer["results"]] == [True, True, True]
    expected = 0 if status == "CREATED" else 80
    assert capacity.booked_participants(sandbox, event_id=event["id"]) == expected


def test_bulk_create_refuses_only_the_item_past_capacity(sandbox: Sandbox) -> None:
    service = make_service(sandbox, capacity=120)
    event = make_event(sandbox, service, SESSION_START)
    infos = [class_request(service, event, participants=n, status="CONFIRMED") for n in (40, 70, 20, 10)]

    _, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert [r["itemMetadata"]["success"] for r in answer["results"]] == [True, True, False, True]
    refused = answer["results"][2]["itemMetadata"]["error"]
    assert refused["code"] == "SESSION_CAPACITY_EXCEEDED"
    assert capacity.booked_participants(sandbox, event_id=event["id"]) == 120


def test_bulk_create_reports_an_unknown_session_per_item(sandbox: Sandbox, swim: dict) -> None:
    infos = [class_request(swim["service"], {"id": "gone"}), class_request(swim["service"], swim["event"])]

    _, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert answer["results"][0]["itemMetadata"]["error"]["code"] == "SESSION_NOT_FOUND"
    assert answer["results"][1]["itemMetadata"]["success"] is True
