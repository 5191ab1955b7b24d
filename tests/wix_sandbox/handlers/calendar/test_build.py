"""What a Calendar V3 event must hold, and what the sandbox stores (``handlers/calendar/build.py``, through create)."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.calendar_builders import BULK, error_code, session, violations
from wix_sandbox import Sandbox

NOW = "2026-11-21"  # the fixture clock: Saturday 21 Nov 2026, 09:00 UTC (= London time)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-23T09:00:00Z", "2026-11-23T10:00:00"),  # a Z is not a local date
        ("2026-11-23T09:00:00+01:00", "2026-11-23T10:00:00"),
        ("2026-11-23", "2026-11-23T10:00:00"),  # plain date
        ("2026-11-23T10:00:00", "2026-11-23T09:00:00"),  # end before start
        ("2026-11-23T09:00:00", "2026-11-23T09:00:00"),  # zero length
        ("2026-11-20T09:00:00", "2026-11-20T10:00:00"),  # yesterday
    ],
)
def test_create_rejects_bad_local_dates(sandbox: Sandbox, setup: dict, start: str, end: str) -> None:
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, start, end)})
    assert status == 400
    assert violations(body)
    assert sandbox.state.count("events") == 0


def test_create_accepts_a_session_earlier_today(sandbox: Sandbox, setup: dict) -> None:
    status, body = call(
        sandbox, "POST", "/calendar/v3/events", {"event": session(setup, f"{NOW}T07:00:00", f"{NOW}T08:00:00")}
    )
    assert status == 200 and body["event"]["start"]["localDate"] == f"{NOW}T07:00:00"


def test_class_event_needs_a_resource(sandbox: Sandbox, setup: dict) -> None:
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, resources=[])})
    assert status == 400 and violations(body)[0]["field"] == "event.resources"


def test_resource_without_permission_role_is_rejected_as_unknown_role(sandbox: Sandbox, setup: dict) -> None:
    event = session(setup, resources=[{"id": setup["staff"]["resourceId"]}])
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": event})
    assert status == 400
    assert violations(body)[0]["description"] == "resources.permissionRole must not be UNKNOWN_ROLE"


def test_commenter_role_is_accepted_and_unknown_roles_are_not(sandbox: Sandbox, setup: dict) -> None:
    rid = setup["staff"]["resourceId"]
    assert (
        call(
            sandbox,
            "POST",
            "/calendar/v3/events",
            {"event": session(setup, resources=[{"id": rid, "permissionRole": "COMMENTER"}])},
        )[0]
        == 200
    )
    status, body = call(
        sandbox,
        "POST",
        "/calendar/v3/events",
        {"event": session(setup, resources=[{"id": rid, "permissionRole": "OWNER"}])},
    )
    assert status == 400 and violations(body)[0]["violatedRule"] == "INVALID_ENUM_VALUE"


def test_class_event_needs_the_service_id_as_external_schedule_id(sandbox: Sandbox, setup: dict) -> None:
    event = session(setup)
    del event["externalScheduleId"]
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": event})
    assert status == 400 and violations(body)[0]["field"] == "event.externalScheduleId"
    status, _ = call(
        sandbox, "POST", "/calendar/v3/events", {"event": session(setup, externalScheduleId="someone-else")}
    )
    assert status == 400
    assert sandbox.state.count("events") == 0


def test_unknown_schedule_or_resource_is_404(sandbox: Sandbox, setup: dict) -> None:
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, scheduleId="nope")})
    assert status == 404 and error_code(body) == "SCHEDULE_NOT_FOUND"
    status, body = call(
        sandbox,
        "POST",
        "/calendar/v3/events",
        {"event": session(setup, resources=[{"id": "ghost", "permissionRole": "WRITER"}])},
    )
    assert status == 404 and error_code(body) == "RESOURCE_NOT_FOUND"


def test_capacity_defaults_to_the_service_default_capacity(sandbox: Sandbox, setup: dict) -> None:
    _, body = call(
        sandbox,
        "POST",
        BULK,
        {"events": [{"event": session(setup)}, {"event": session(setup, totalCapacity=8)}], "returnEntity": True},
    )
    assert [r["item"]["totalCapacity"] for r in body["results"]] == [20, 8]
    assert body["results"][0]["item"]["location"]["type"] == "BUSINESS"


def test_working_hours_go_on_the_staff_events_schedule_without_capacity(sandbox: Sandbox, setup: dict) -> None:
    staff = setup["staff"]
    event = {
        "scheduleId": staff["resource"]["eventsSchedule"]["id"],
        "type": "WORKING_HOURS",
        "start": {"localDate": "2026-11-23T08:00:00"},
        "end": {"localDate": "2026-11-23T16:00:00"},
        "resources": [{"id": staff["resourceId"], "permissionRole": "WRITER"}],
    }
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": event})
    assert status == 200
    assert "totalCapacity" not in body["event"] and body["event"]["type"] == "WORKING_HOURS"
