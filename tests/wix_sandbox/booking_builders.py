"""Builders for Bookings requests and checks of their answers, shared by the Bookings and rules tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.wix_sandbox.builders import call
from wix_sandbox import Sandbox

BOOKINGS = "/_api/bookings-service/v2/bookings"
SESSION_START = datetime(2026, 11, 22, 7, 0)


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


def course_request(service: dict, participants: int = 1, **booking: Any) -> dict[str, Any]:
    return {
        "booking": {
            "bookedEntity": {"schedule": {"scheduleId": service["schedule"]["id"]}},
            "contactDetails": {"firstName": "Kit"},
            "totalParticipants": participants,
            **booking,
        }
    }


def act(sb: Sandbox, booking_id: str, action: str, **body: Any) -> tuple[int, dict]:
    return call(sb, "POST", f"{BOOKINGS}/{booking_id}/{action}", body)
