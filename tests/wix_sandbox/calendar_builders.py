"""Builders for Calendar V3 requests and checks of their answers, shared by the Calendar tests."""

from __future__ import annotations

from typing import Any

from tests.wix_sandbox.builders import call
from wix_sandbox import Sandbox

BULK = "/calendar/v3/bulk/events/create"


def session(
    setup: dict[str, Any], start: str = "2026-11-23T09:00:00", end: str = "2026-11-23T10:00:00", **extra: Any
) -> dict:
    event = {
        "scheduleId": setup["service"]["schedule"]["id"],
        "externalScheduleId": setup["service"]["id"],
        "type": "CLASS",
        "start": {"localDate": start},
        "end": {"localDate": end},
        "resources": [{"id": setup["staff"]["resourceId"], "permissionRole": "WRITER"}],
    }
    event.update(extra)
    return event


def weekly(day: str = "MONDAY", until: str | None = "2026-12-21T00:00:00", interval: int = 1) -> dict:
    rule: dict[str, Any] = {"frequency": "WEEKLY", "interval": interval, "days": [day]}
    if until:
        rule["until"] = {"localDate": until}
    return rule


def error_code(body: dict) -> str:
    return body["details"]["applicationError"]["code"]


def violations(body: dict) -> list[dict]:
    return body["details"]["validationError"]["fieldViolations"]


def item_error(result: dict) -> dict:
    assert result["itemMetadata"]["success"] is False
    return result["itemMetadata"]["error"]


def series_of(sandbox: Sandbox, master_id: str) -> list[dict]:
    found = sandbox.state.find("events", lambda e: e.get("recurringEventId") == master_id)
    return sorted(found, key=lambda e: e["start"]["localDate"])


def create_event(sandbox: Sandbox, setup: dict, *dates: str, **extra: Any) -> dict:
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, *dates, **extra)})
    assert status == 200, body
    return body["event"]
