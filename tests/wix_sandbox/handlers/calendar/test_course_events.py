"""Course sessions as the recipe creates them (seed 000 step 4, CONTRACT.md §9): Bulk Create Event
with COURSE events, each wrapped as ``{"event": …}``, with resources — and the whole-call 400s
when an element is not wrapped or an event has no resources (``handlers/calendar/build.py``,
``events.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_service, make_staff
from tests.wix_sandbox.calendar_builders import BULK, series_of, violations
from wix_sandbox import Sandbox


@pytest.fixture
def course(sandbox: Sandbox) -> dict[str, Any]:
    teacher = make_staff(sandbox, "Lena Fischer")
    return {"staff": teacher, "service": make_service(sandbox, type="COURSE", name="Learn to Swim", staff=[teacher])}


def course_event(
    course: dict, day: str = "2026-11-24", until: str | None = "2026-12-15T23:59:59", **extra: Any
) -> dict:
    """The recipe's COURSE event (with the permission role CONTRACT.md §9 requires)."""
    event: dict[str, Any] = {
        "type": "COURSE",
        "scheduleId": course["service"]["schedule"]["id"],
        "externalScheduleId": course["service"]["id"],
        "start": {"localDate": f"{day}T17:00:00"},
        "end": {"localDate": f"{day}T17:45:00"},
        "resources": [{"id": course["staff"]["resourceId"], "permissionRole": "WRITER"}],
    }
    if until:
        event["recurrenceRule"] = {
            "frequency": "WEEKLY",
            "interval": 1,
            "days": ["TUESDAY"],
            "until": {"localDate": until},
        }
    event.update(extra)
    return event


def sessions_of(sandbox: Sandbox, course: dict) -> list[dict]:
    return [
        e
        for e in sandbox.state.all("events")
        if e["scheduleId"] == course["service"]["schedule"]["id"] and e["recurrenceType"] != "MASTER"
    ]


def test_the_recipes_course_series_makes_one_session_a_week_through_until(sandbox: Sandbox, course: dict) -> None:
    status, body = call(sandbox, "POST", BULK, {"events": [{"event": course_event(course)}]})

    assert status == 200, body
    master_id = body["results"][0]["itemMetadata"]["id"]
    days = [e["start"]["localDate"] for e in series_of(sandbox, master_id)]
    assert days == ["2026-11-24T17:00:00", "2026-12-01T17:00:00", "2026-12-08T17:00:00", "2026-12-15T17:00:00"]
    assert all(e["type"] == "COURSE" for e in series_of(sandbox, master_id))


@pytest.mark.parametrize("how", ["resources absent", "resources empty", "resources null"])
def test_a_bulk_request_with_a_course_event_lacking_resources_is_a_400_and_creates_nothing(
    sandbox: Sandbox, course: dict, how: str
) -> None:
    bad = course_event(
        course, "2026-11-26", recurrenceRule={"frequency": "WEEKLY", "interval": 1, "days": ["THURSDAY"]}
    )
    if how == "resources absent":
        del bad["resources"]
    else:
        bad["resources"] = [] if how == "resources empty" else None

    status, body = call(sandbox, "POST", BULK, {"events": [{"event": course_event(course)}, {"event": bad}]})

    assert status == 400, body
    assert [v["field"] for v in violations(body)] == ["events[1].event.resources"]
    assert sandbox.state.count("events") == 0


@pytest.mark.parametrize("element", ["bare event", "wrapped in another key", "a list"])
def test_a_bulk_request_with_an_element_not_wrapped_in_event_is_a_400_and_creates_nothing(
    sandbox: Sandbox, course: dict, element: str
) -> None:
    inner = course_event(course, "2026-11-26", until=None)
    item = {"bare event": inner, "wrapped in another key": {"session": inner}, "a list": [inner]}[element]

    status, body = call(sandbox, "POST", BULK, {"events": [{"event": course_event(course)}, item]})

    assert status == 400, body
    assert [v["field"] for v in violations(body)] == ["events[1].event"]
    assert sandbox.state.count("events") == 0


def test_a_class_event_on_a_courses_schedule_is_a_400(sandbox: Sandbox, course: dict) -> None:
    status, body = call(sandbox, "POST", BULK, {"events": [{"event": course_event(course, type="CLASS")}]})

    assert status == 400, body
    assert [v["field"] for v in violations(body)] == ["events[0].event.type"]
    assert sandbox.state.count("events") == 0


def test_a_course_series_keeps_its_local_time_across_the_clocks_going_back(
    sandbox: Sandbox, sandbox_clock: list[datetime], course: dict
) -> None:
    # A Tuesday term through the end of British Summer Time (31 October 2027).
    sandbox_clock[0] = datetime(2027, 10, 1, tzinfo=UTC)
    event = course_event(course, "2027-10-19", "2027-11-02T23:59:59")

    status, body = call(sandbox, "POST", BULK, {"events": [{"event": event}]})

    assert status == 200, body
    got = [e["start"]["localDate"] for e in sessions_of(sandbox, course)]
    assert sorted(got) == ["2027-10-19T17:00:00", "2027-10-26T17:00:00", "2027-11-02T17:00:00"]
