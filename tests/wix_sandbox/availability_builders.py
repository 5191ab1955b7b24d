"""Builders for Time Slots requests and checks of their answers, shared by the Time Slots tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wix_sandbox import Sandbox

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
