"""Update Number Of Participants and Reschedule Booking (``handlers/bookings/changes.py``)."""

from __future__ import annotations

from datetime import datetime

from tests.wix_sandbox.booking_builders import (
    act,
    appointment_request,
    class_request,
    code,
    course_request,
    create,
    stored,
    violated_fields,
)
from tests.wix_sandbox.builders import make_event
from wix_sandbox import Sandbox
from wix_sandbox.rules import capacity

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


def test_reschedule_at_a_stale_revision_is_a_conflict(sandbox: Sandbox, swim: dict) -> None:
    later = make_event(sandbox, swim["service"], datetime(2026, 11, 23, 7, 0), staff=swim["staff"])
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "reschedule", revision="7", slot={"eventId": later["id"]})

    assert status == 409
    assert code(answer) == "INVALID_REVISION"
    assert stored(sandbox, booking["id"]) == booking


def test_reschedule_of_a_class_booking_takes_the_event_id_only(sandbox: Sandbox, swim: dict) -> None:
    # "For classes send only slot.eventId" (CONTRACT.md §3.9): the sandbox refuses the rest.
    later = make_event(sandbox, swim["service"], datetime(2026, 11, 23, 7, 0), staff=swim["staff"])
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))
    slot = {"eventId": later["id"], "serviceId": swim["service"]["id"], "startDate": "2026-11-23T07:00:00"}

    status, answer = act(sandbox, booking["id"], "reschedule", revision="1", slot=slot)

    assert status == 400
    assert violated_fields(answer) == ["slot.serviceId", "slot.startDate"]
    assert stored(sandbox, booking["id"]) == booking


def test_reschedule_refuses_read_only_slot_and_add_on_fields(sandbox: Sandbox, massage: dict) -> None:
    body = appointment_request(massage["service"], massage["staff"], "2026-12-01T10:00:00", "2026-12-01T11:00:00")
    booking = create(sandbox, body)
    slot = {
        "startDate": "2026-12-01T12:00:00",
        "endDate": "2026-12-01T13:00:00",
        "durationUnitType": "MINUTES",
        "resource": {"id": massage["staff"]["resourceId"], "type": "STAFF"},
    }

    status, answer = act(
        sandbox, booking["id"], "reschedule", revision="1", slot=slot, bookedAddOns=[{"id": "a", "name": "Oil"}]
    )

    assert status == 400
    assert violated_fields(answer) == ["slot.durationUnitType", "slot.resource.type", "bookedAddOns[0].name"]
    assert stored(sandbox, booking["id"]) == booking


def test_reschedule_of_an_appointment_needs_the_new_times_and_no_event(sandbox: Sandbox, massage: dict) -> None:
    booking = create(sandbox, appointment_request(massage["service"], massage["staff"]))

    no_end, answer = act(sandbox, booking["id"], "reschedule", revision="1", slot={"startDate": "2026-12-01T12:00:00"})
    by_event, answer_event = act(sandbox, booking["id"], "reschedule", revision="1", slot={"eventId": "e" * 36})

    assert (no_end, violated_fields(answer)) == (400, ["slot.endDate"])
    assert (by_event, violated_fields(answer_event)) == (400, ["slot.eventId"])
    assert stored(sandbox, booking["id"]) == booking


def test_reschedule_appointment_onto_a_busy_staff_member_is_rejected(sandbox: Sandbox, massage: dict) -> None:
    first = appointment_request(massage["service"], massage["staff"], "2026-12-01T10:00:00", "2026-12-01T11:00:00")
    first["booking"]["status"] = "CONFIRMED"
    create(sandbox, first)
    second = appointment_request(massage["service"], massage["staff"], "2026-12-01T12:00:00", "2026-12-01T13:00:00")
    second["booking"]["status"] = "CONFIRMED"
    booking = create(sandbox, second)

    status, answer = act(
        sandbox,
        booking["id"],
        "reschedule",
        revision="1",
        slot={"startDate": "2026-12-01T10:30:00", "endDate": "2026-12-01T11:30:00"},
    )

    assert status == 428
    assert code(answer) == "SLOT_NOT_AVAILABLE"
    assert stored(sandbox, booking["id"]) == booking


def test_reschedule_of_a_cancelled_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    later = make_event(sandbox, swim["service"], datetime(2026, 11, 23, 7, 0), staff=swim["staff"])
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))
    act(sandbox, booking["id"], "cancel", revision="1")

    status, answer = act(sandbox, booking["id"], "reschedule", revision="2", slot={"eventId": later["id"]})

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"])["bookedEntity"]["slot"]["eventId"] == swim["event"]["id"]
