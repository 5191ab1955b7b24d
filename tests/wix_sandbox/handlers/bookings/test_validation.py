"""What a booking request may not hold (``handlers/bookings/validation.py``): read-only fields."""

from __future__ import annotations

from typing import Any

import pytest

from tests.wix_sandbox.booking_builders import (
    BOOKINGS,
    appointment_request,
    class_request,
    course_request,
    violated_fields,
)
from tests.wix_sandbox.builders import call
from wix_sandbox import Sandbox

BULK_CREATE = "/bookings/v2/bulk/bookings/create"


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target = body["booking"]
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return body


# (request builder, read-only path, a value a caller might copy from a booking it read)
READ_ONLY_CASES = [
    ("class", "id", "b-1"),
    ("class", "createdDate", "2026-11-21T09:00:00.000Z"),
    ("class", "updatedDate", "2026-11-21T09:00:00.000Z"),
    ("class", "createdBy", {"appId": "a"}),
    ("class", "startDate", "2026-11-22T07:00:00.000Z"),
    ("class", "endDate", "2026-11-22T08:00:00.000Z"),
    ("class", "doubleBooked", False),
    ("class", "formId", "f-1"),
    ("class", "appId", "a-1"),
    ("class", "createdByAppId", "a-1"),
    ("class", "bookedEntity.title", "Open Water Swim"),
    ("class", "bookedEntity.tags", ["GROUP"]),
    ("appointment", "bookedEntity.slot.durationUnitType", "MINUTES"),
    ("appointment", "bookedEntity.slot.durationUnitCount", 60),
    ("appointment", "bookedEntity.slot.resource.type", "staff"),
    ("course", "bookedEntity.schedule.location", {"locationType": "OWNER_BUSINESS"}),
    ("course", "bookedEntity.schedule.firstSessionStart", "2026-12-01T18:00:00"),
    ("course", "bookedEntity.schedule.lastSessionEnd", "2026-12-15T19:00:00"),
    ("class", "bookedAddOns", [{"id": "x", "name": "Towel"}]),
    ("class", "additionalFields", [{"id": "x", "label": "Allergies"}]),
]


def _request(kind: str, swim: dict, massage: dict, course: dict) -> dict[str, Any]:
    if kind == "class":
        return class_request(swim["service"], swim["event"])
    if kind == "appointment":
        return appointment_request(massage["service"], massage["staff"])
    return course_request(course["service"])


def _named(path: str) -> str:
    return {"bookedAddOns": "bookedAddOns[0].name", "additionalFields": "additionalFields[0].label"}.get(path, path)


@pytest.mark.parametrize(("kind", "path", "value"), READ_ONLY_CASES)
def test_create_booking_refuses_a_read_only_field_and_names_it(
    sandbox: Sandbox, swim: dict, massage: dict, course: dict, kind: str, path: str, value: Any
) -> None:
    body = _set(_request(kind, swim, massage, course), path, value)

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 400, answer
    assert violated_fields(answer) == [f"booking.{_named(path)}"]
    assert sandbox.state.count("bookings") == 0


def test_bulk_create_with_a_read_only_field_fails_the_whole_call(sandbox: Sandbox, course: dict, swim: dict) -> None:
    stale = _set(course_request(course["service"]), "bookedEntity.schedule.location", {"locationType": "CUSTOM"})
    infos = [class_request(swim["service"], swim["event"]), stale]

    status, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status == 400
    assert violated_fields(answer) == ["createBookingsInfo[1].booking.bookedEntity.schedule.location"]
    assert sandbox.state.count("bookings") == 0


def test_the_writable_fields_a_booking_request_may_carry_are_accepted(sandbox: Sandbox, swim: dict) -> None:
    body = class_request(
        swim["service"],
        swim["event"],
        status="CONFIRMED",
        selectedPaymentOption="OFFLINE",
        externalUserId="u-1",
        revision="1",
    )

    status, answer = call(sandbox, "POST", BOOKINGS, body)

    assert status == 200, answer


def test_bulk_create_with_an_additional_field_missing_its_id_fails_the_whole_call(sandbox: Sandbox, swim: dict) -> None:
    # bulkCreateBooking: @requiredField createBookingsInfo.booking.additionalFields._id; "If any
    # of the specified bookings is missing a required field the entire call fails."
    broken = class_request(swim["service"], swim["event"], additionalFields=[{"value": "none"}])
    infos = [class_request(swim["service"], swim["event"]), broken]

    status, answer = call(sandbox, "POST", BULK_CREATE, {"createBookingsInfo": infos})

    assert status == 400
    assert violated_fields(answer) == ["createBookingsInfo[1].booking.additionalFields[0].id"]
    assert sandbox.state.count("bookings") == 0
