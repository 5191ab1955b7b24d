"""Calendar V3 events: create in bulk, get, list, update, cancel (``handlers/calendar/events.py``)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.wix_sandbox.builders import call, make_event, make_service
from tests.wix_sandbox.calendar_builders import (
    BULK,
    create_event,
    error_code,
    item_error,
    series_of,
    session,
    violations,
    weekly,
)
from wix_sandbox import Sandbox

# -- bulk create --------------------------------------------------------------------------------


def test_bulk_create_wrapped_events_creates_sessions_and_reports_ids_only(sandbox: Sandbox, setup: dict) -> None:
    status, body = call(
        sandbox,
        "POST",
        BULK,
        {
            "events": [
                {"event": session(setup)},
                {"event": session(setup, "2026-11-24T09:00:00", "2026-11-24T10:00:00")},
            ]
        },
    )
    assert status == 200
    assert body["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 0, "undetailedFailures": 0}
    ids = [r["itemMetadata"]["id"] for r in body["results"]]
    assert [r["itemMetadata"]["originalIndex"] for r in body["results"]] == [0, 1]
    assert all("item" not in r for r in body["results"])
    stored = sandbox.state.get("events", ids[0])
    assert stored["status"] == "CONFIRMED" and stored["recurrenceType"] == "NONE"
    assert stored["start"] == {"localDate": "2026-11-23T09:00:00", "timeZone": "Europe/London"}
    assert stored["resources"][0]["name"] == "Alex Coach"


def test_bulk_create_returns_the_events_when_return_entity_is_set(sandbox: Sandbox, setup: dict) -> None:
    _, body = call(sandbox, "POST", BULK, {"events": [{"event": session(setup)}], "returnEntity": True})
    item = body["results"][0]["item"]
    assert item["id"] == body["results"][0]["itemMetadata"]["id"]
    assert item["type"] == "CLASS" and item["revision"] == "1"


def test_bulk_create_with_an_unwrapped_event_fails_whole_call_and_creates_nothing(
    sandbox: Sandbox, setup: dict
) -> None:
    status, body = call(sandbox, "POST", BULK, {"events": [{"event": session(setup)}, session(setup)]})
    assert status == 400
    assert violations(body)[0]["field"] == "events[1].event"
    assert sandbox.state.count("events") == 0


def test_bulk_create_needs_one_to_fifty_items(sandbox: Sandbox, setup: dict) -> None:
    assert call(sandbox, "POST", BULK, {"events": []})[0] == 400
    status, _ = call(sandbox, "POST", BULK, {"events": [{"event": session(setup)}] * 51})
    assert status == 400
    assert sandbox.state.count("events") == 0
    assert call(sandbox, "POST", BULK, {"events": [{"event": session(setup)}] * 50})[0] == 200


def _course_setup(sandbox: Sandbox, setup: dict) -> dict:
    return {**setup, "service": make_service(sandbox, type="COURSE", name="Learn to Swim")}


def _cases(sandbox: Sandbox, setup: dict) -> dict[str, tuple[dict, str, str]]:
    """The recipe's documented 400s: (event, the field named, its message or rule)."""
    return {
        "class without resources": (session(setup, resources=[]), "event.resources", "REQUIRED_FIELD"),
        "course without resources": (
            session(_course_setup(sandbox, setup), type="COURSE", resources=[]),
            "event.resources",
            "REQUIRED_FIELD",
        ),
        "resource without permissionRole": (
            session(setup, resources=[{"id": setup["staff"]["resourceId"]}]),
            "event.resources[0].permissionRole",
            "resources.permissionRole must not be UNKNOWN_ROLE",
        ),
        "two weekdays in one rule": (
            session(setup, recurrenceRule={"frequency": "WEEKLY", "interval": 1, "days": ["MONDAY", "FRIDAY"]}),
            "event.recurrenceRule.days",
            "EXACT_SIZE",
        ),
        "start in UTC": (
            session(setup, start={"localDate": "2026-11-23T09:00:00Z"}),
            "event.start.localDate",
            "FORMAT",
        ),
        "end with an offset": (
            session(setup, end={"localDate": "2026-11-23T10:00:00+00:00"}),
            "event.end.localDate",
            "FORMAT",
        ),
        "missing scheduleId": (session(setup, scheduleId=None), "event.scheduleId", "REQUIRED_FIELD"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "class without resources",
        "course without resources",
        "resource without permissionRole",
        "two weekdays in one rule",
        "start in UTC",
        "end with an offset",
        "missing scheduleId",
    ],
)
def test_bulk_create_with_an_invalid_event_fails_the_whole_call_and_creates_nothing(
    sandbox: Sandbox, setup: dict, case: str
) -> None:
    bad, field, says = _cases(sandbox, setup)[case]
    body = {"events": [{"event": session(setup)}, {"event": bad}], "returnEntity": True}

    status, answer = call(sandbox, "POST", BULK, body)

    assert status == 400, answer
    (problem,) = violations(answer)
    assert problem["field"] == f"events[1].{field}"
    assert says in (problem["violatedRule"], problem["description"])
    assert sandbox.state.count("events") == 0


def test_bulk_create_reports_an_unknown_schedule_or_resource_per_item(sandbox: Sandbox, setup: dict) -> None:
    ghost = session(setup, resources=[{"id": "ghost", "permissionRole": "WRITER"}])
    _, body = call(sandbox, "POST", BULK, {"events": [{"event": ghost}, {"event": session(setup)}]})
    assert body["bulkActionMetadata"]["totalSuccesses"] == 1 and body["bulkActionMetadata"]["totalFailures"] == 1
    assert item_error(body["results"][0])["code"] == "RESOURCE_NOT_FOUND"
    assert sandbox.state.count("events") == 1


# -- get / list / update / cancel -----------------------------------------------------------------


def test_get_event_and_404_for_unknown(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, body = call(sandbox, "GET", f"/calendar/v3/events/{event['id']}")
    assert status == 200 and body["event"]["id"] == event["id"]
    status, body = call(sandbox, "GET", "/calendar/v3/events/nope")
    assert status == 404 and error_code(body) == "EVENT_NOT_FOUND"


def test_list_events_by_ids_skips_unknown_ones(sandbox: Sandbox, setup: dict) -> None:
    a, b = create_event(sandbox, setup), create_event(sandbox, setup, title="Late swim")
    status, body = call(sandbox, "GET", "/calendar/v3/events", eventIds=[b["id"], "nope", a["id"]])
    assert status == 200 and [e["id"] for e in body["events"]] == [b["id"], a["id"]]
    assert call(sandbox, "GET", "/calendar/v3/events")[0] == 400


def test_update_changes_fields_and_bumps_revision(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, body = call(
        sandbox,
        "PATCH",
        f"/calendar/v3/events/{event['id']}",
        {"event": {"title": "Sunrise swim", "totalCapacity": 12, "revision": "1"}},
    )
    assert status == 200
    assert body["event"]["title"] == "Sunrise swim" and body["event"]["totalCapacity"] == 12
    assert body["event"]["revision"] == "2"


def test_update_with_a_stale_revision_is_409_and_changes_nothing(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, body = call(
        sandbox, "PATCH", f"/calendar/v3/events/{event['id']}", {"event": {"title": "x"}, "revision": "7"}
    )
    assert status == 409 and error_code(body) == "INVALID_REVISION"
    assert sandbox.state.get("events", event["id"])["title"] == event["title"]


def test_update_can_not_move_a_session_into_the_past(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, _ = call(
        sandbox,
        "PATCH",
        f"/calendar/v3/events/{event['id']}",
        {"event": {"start": {"localDate": "2026-11-19T09:00:00"}, "end": {"localDate": "2026-11-19T10:00:00"}}},
    )
    assert status == 400
    assert sandbox.state.get("events", event["id"])["start"]["localDate"] == "2026-11-23T09:00:00"


def test_updating_a_past_session_without_moving_it_is_allowed(sandbox: Sandbox, setup: dict) -> None:
    past = make_event(sandbox, setup["service"], datetime(2026, 11, 10, 9, 0), staff=setup["staff"])
    status, body = call(sandbox, "PATCH", f"/calendar/v3/events/{past['id']}", {"event": {"title": "Renamed"}})
    assert status == 200 and body["event"]["title"] == "Renamed"


def test_editing_an_instance_makes_it_an_exception(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    instance = series_of(sandbox, master["id"])[1]
    _, body = call(
        sandbox,
        "PATCH",
        f"/calendar/v3/events/{instance['id']}",
        {"event": {"start": {"localDate": "2026-11-30T11:00:00"}, "end": {"localDate": "2026-11-30T12:00:00"}}},
    )
    assert body["event"]["recurrenceType"] == "EXCEPTION"
    assert body["event"]["recurringEventId"] == master["id"]
    status, _ = call(sandbox, "PATCH", f"/calendar/v3/events/{instance['id']}", {"event": {"recurrenceRule": weekly()}})
    assert status == 400


def test_editing_a_master_title_updates_future_instances_in_place(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    before = [i["id"] for i in series_of(sandbox, master["id"])]
    call(sandbox, "PATCH", f"/calendar/v3/events/{master['id']}", {"event": {"title": "Winter swim"}})
    after = series_of(sandbox, master["id"])
    assert [i["id"] for i in after] == before
    assert {i["title"] for i in after} == {"Winter swim"}


def test_moving_a_master_regenerates_future_instances(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    call(
        sandbox,
        "PATCH",
        f"/calendar/v3/events/{master['id']}",
        {"event": {"start": {"localDate": "2026-11-23T18:00:00"}, "end": {"localDate": "2026-11-23T19:00:00"}}},
    )
    starts = [i["start"]["localDate"] for i in series_of(sandbox, master["id"])]
    assert len(starts) == 5 and all(s.endswith("T18:00:00") for s in starts)


def test_cancel_event_and_cancel_is_idempotent(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, body = call(sandbox, "POST", f"/calendar/v3/events/{event['id']}/cancel", {})
    assert status == 200 and body["event"]["status"] == "CANCELLED"
    status, body = call(sandbox, "POST", f"/calendar/v3/events/{event['id']}/cancel", {})
    assert status == 200 and body["event"]["revision"] == "2"
    status, body = call(sandbox, "PATCH", f"/calendar/v3/events/{event['id']}", {"event": {"title": "x"}})
    assert status == 428
    assert call(sandbox, "POST", "/calendar/v3/events/nope/cancel", {})[0] == 404


def test_cancelling_a_master_cancels_its_future_sessions(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    call(sandbox, "POST", f"/calendar/v3/events/{master['id']}/cancel", {})
    assert {i["status"] for i in series_of(sandbox, master["id"])} == {"CANCELLED"}


def test_bulk_cancel_reports_unknown_ids_per_item(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, body = call(sandbox, "POST", "/calendar/v3/bulk/events/cancel", {"eventIds": [event["id"], "nope"]})
    assert status == 200
    assert body["results"][0]["itemMetadata"] == {"id": event["id"], "originalIndex": 0, "success": True}
    assert item_error(body["results"][1])["code"] == "EVENT_NOT_FOUND"
    assert sandbox.state.get("events", event["id"])["status"] == "CANCELLED"
    assert call(sandbox, "POST", "/calendar/v3/bulk/events/cancel", {"eventIds": []})[0] == 400


def test_bulk_update_edits_each_wrapped_event(sandbox: Sandbox, setup: dict) -> None:
    event = create_event(sandbox, setup)
    status, body = call(
        sandbox,
        "POST",
        "/calendar/v3/bulk/events/update",
        {
            "events": [{"event": {"id": event["id"], "title": "Moved"}}, {"event": {"id": "nope", "title": "x"}}],
            "returnEntity": True,
        },
    )
    assert status == 200
    assert body["results"][0]["item"]["title"] == "Moved"
    assert item_error(body["results"][1])["code"] == "EVENT_NOT_FOUND"
    assert call(sandbox, "POST", "/calendar/v3/bulk/events/update", {"events": [{"title": "unwrapped"}]})[0] == 400
