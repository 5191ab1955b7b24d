"""Calendar V3 in the sandbox: bulk/single create, weekly rules, update, cancel, query (CONTRACT.md §9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_event, make_service, make_staff
from wix_sandbox import Sandbox

BULK = "/calendar/v3/bulk/events/create"
NOW = "2026-11-21"  # the fixture clock: Saturday 21 Nov 2026, 09:00 UTC (= London time)


@pytest.fixture
def setup(sandbox: Sandbox) -> dict[str, Any]:
    staff = make_staff(sandbox)
    return {"staff": staff, "service": make_service(sandbox, staff=[staff], capacity=20)}


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


def test_bulk_create_reports_an_invalid_item_per_item_and_creates_the_rest(sandbox: Sandbox, setup: dict) -> None:
    bad = session(setup)
    del bad["scheduleId"]
    _, body = call(sandbox, "POST", BULK, {"events": [{"event": bad}, {"event": session(setup)}]})
    assert body["bulkActionMetadata"]["totalSuccesses"] == 1 and body["bulkActionMetadata"]["totalFailures"] == 1
    error = item_error(body["results"][0])
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["data"]["fieldViolations"][0]["field"] == "event.scheduleId"
    assert sandbox.state.count("events") == 1


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


# -- recurrence ---------------------------------------------------------------------------------


def _series(sandbox: Sandbox, master_id: str) -> list[dict]:
    found = sandbox.state.find("events", lambda e: e.get("recurringEventId") == master_id)
    return sorted(found, key=lambda e: e["start"]["localDate"])


def test_weekly_rule_makes_a_master_and_one_instance_per_week_through_until(sandbox: Sandbox, setup: dict) -> None:
    _, body = call(
        sandbox, "POST", BULK, {"events": [{"event": session(setup, recurrenceRule=weekly())}], "returnEntity": True}
    )
    master = body["results"][0]["item"]
    assert master["recurrenceType"] == "MASTER"
    assert master["recurrenceRule"]["days"] == ["MONDAY"]
    instances = _series(sandbox, master["id"])
    assert [i["start"]["localDate"] for i in instances] == [
        "2026-11-23T09:00:00",
        "2026-11-30T09:00:00",
        "2026-12-07T09:00:00",
        "2026-12-14T09:00:00",
        "2026-12-21T09:00:00",  # until is inclusive by date
    ]
    assert all(i["recurrenceType"] == "INSTANCE" and "recurrenceRule" not in i for i in instances)
    assert all(i["end"]["localDate"].endswith("T10:00:00") and i["totalCapacity"] == 20 for i in instances)


def test_weekly_rule_every_two_weeks_starting_on_another_day(sandbox: Sandbox, setup: dict) -> None:
    # Starts on a Tuesday; the rule is for Mondays, so the first session is the next Monday.
    event = session(
        setup,
        "2026-11-24T18:30:00",
        "2026-11-24T19:15:00",
        recurrenceRule=weekly(interval=2, until="2027-01-04T00:00:00"),
    )
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": event})
    assert status == 200
    starts = [i["start"]["localDate"] for i in _series(sandbox, body["event"]["id"])]
    assert starts == ["2026-11-30T18:30:00", "2026-12-14T18:30:00", "2026-12-28T18:30:00"]


def test_weekly_rule_keeps_local_time_across_daylight_saving(sandbox: Sandbox, setup: dict) -> None:
    event = session(
        setup, "2027-03-22T09:00:00", "2027-03-22T10:00:00", recurrenceRule=weekly(until="2027-04-05T00:00:00")
    )
    _, body = call(sandbox, "POST", "/calendar/v3/events", {"event": event})
    assert {i["start"]["localDate"][11:] for i in _series(sandbox, body["event"]["id"])} == {"09:00:00"}


def test_weekly_rule_without_until_is_expanded_a_year_ahead(sandbox: Sandbox, setup: dict) -> None:
    _, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, recurrenceRule=weekly(until=None))})
    instances = _series(sandbox, body["event"]["id"])
    assert len(instances) == 53
    assert instances[-1]["start"]["localDate"] == "2027-11-22T09:00:00"


@pytest.mark.parametrize(
    "rule",
    [
        {"frequency": "WEEKLY", "interval": 1, "days": ["MONDAY", "WEDNESDAY"]},  # one day per rule only
        {"frequency": "WEEKLY", "interval": 1, "days": []},
        {"frequency": "WEEKLY", "interval": 1, "days": ["MON"]},
        {"frequency": "DAILY", "interval": 1, "days": ["MONDAY"]},
        {"frequency": "WEEKLY", "interval": 0, "days": ["MONDAY"]},
        {"frequency": "WEEKLY", "interval": 1, "days": ["MONDAY"], "until": {"localDate": "2026-11-01T00:00:00"}},
        {"frequency": "WEEKLY", "interval": 1, "days": ["MONDAY"], "until": {"localDate": "2026-12-21"}},
    ],
)
def test_invalid_recurrence_rules_are_rejected_and_create_nothing(sandbox: Sandbox, setup: dict, rule: dict) -> None:
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, recurrenceRule=rule)})
    assert status == 400
    assert violations(body)[0]["field"].startswith("event.recurrenceRule")
    assert sandbox.state.count("events") == 0


def test_two_day_rule_in_bulk_is_a_per_item_400(sandbox: Sandbox, setup: dict) -> None:
    rule = {"frequency": "WEEKLY", "interval": 1, "days": ["MONDAY", "FRIDAY"]}
    _, body = call(sandbox, "POST", BULK, {"events": [{"event": session(setup, recurrenceRule=rule)}]})
    assert item_error(body["results"][0])["data"]["fieldViolations"][0]["field"] == "event.recurrenceRule.days"
    assert sandbox.state.count("events") == 0


# -- get / list / update / cancel -----------------------------------------------------------------


def _create(sandbox: Sandbox, setup: dict, *dates: str, **extra: Any) -> dict:
    status, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, *dates, **extra)})
    assert status == 200, body
    return body["event"]


def test_get_event_and_404_for_unknown(sandbox: Sandbox, setup: dict) -> None:
    event = _create(sandbox, setup)
    status, body = call(sandbox, "GET", f"/calendar/v3/events/{event['id']}")
    assert status == 200 and body["event"]["id"] == event["id"]
    status, body = call(sandbox, "GET", "/calendar/v3/events/nope")
    assert status == 404 and error_code(body) == "EVENT_NOT_FOUND"


def test_list_events_by_ids_skips_unknown_ones(sandbox: Sandbox, setup: dict) -> None:
    a, b = _create(sandbox, setup), _create(sandbox, setup, title="Late swim")
    status, body = call(sandbox, "GET", "/calendar/v3/events", eventIds=[b["id"], "nope", a["id"]])
    assert status == 200 and [e["id"] for e in body["events"]] == [b["id"], a["id"]]
    assert call(sandbox, "GET", "/calendar/v3/events")[0] == 400


def test_update_changes_fields_and_bumps_revision(sandbox: Sandbox, setup: dict) -> None:
    event = _create(sandbox, setup)
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
    event = _create(sandbox, setup)
    status, body = call(
        sandbox, "PATCH", f"/calendar/v3/events/{event['id']}", {"event": {"title": "x"}, "revision": "7"}
    )
    assert status == 409 and error_code(body) == "INVALID_REVISION"
    assert sandbox.state.get("events", event["id"])["title"] == event["title"]


def test_update_can_not_move_a_session_into_the_past(sandbox: Sandbox, setup: dict) -> None:
    event = _create(sandbox, setup)
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
    master = _create(sandbox, setup, recurrenceRule=weekly())
    instance = _series(sandbox, master["id"])[1]
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
    master = _create(sandbox, setup, recurrenceRule=weekly())
    before = [i["id"] for i in _series(sandbox, master["id"])]
    call(sandbox, "PATCH", f"/calendar/v3/events/{master['id']}", {"event": {"title": "Winter swim"}})
    after = _series(sandbox, master["id"])
    assert [i["id"] for i in after] == before
    assert {i["title"] for i in after} == {"Winter swim"}


def test_moving_a_master_regenerates_future_instances(sandbox: Sandbox, setup: dict) -> None:
    master = _create(sandbox, setup, recurrenceRule=weekly())
    call(
        sandbox,
        "PATCH",
        f"/calendar/v3/events/{master['id']}",
        {"event": {"start": {"localDate": "2026-11-23T18:00:00"}, "end": {"localDate": "2026-11-23T19:00:00"}}},
    )
    starts = [i["start"]["localDate"] for i in _series(sandbox, master["id"])]
    assert len(starts) == 5 and all(s.endswith("T18:00:00") for s in starts)


def test_cancel_event_and_cancel_is_idempotent(sandbox: Sandbox, setup: dict) -> None:
    event = _create(sandbox, setup)
    status, body = call(sandbox, "POST", f"/calendar/v3/events/{event['id']}/cancel", {})
    assert status == 200 and body["event"]["status"] == "CANCELLED"
    status, body = call(sandbox, "POST", f"/calendar/v3/events/{event['id']}/cancel", {})
    assert status == 200 and body["event"]["revision"] == "2"
    status, body = call(sandbox, "PATCH", f"/calendar/v3/events/{event['id']}", {"event": {"title": "x"}})
    assert status == 428
    assert call(sandbox, "POST", "/calendar/v3/events/nope/cancel", {})[0] == 404


def test_cancelling_a_master_cancels_its_future_sessions(sandbox: Sandbox, setup: dict) -> None:
    master = _create(sandbox, setup, recurrenceRule=weekly())
    call(sandbox, "POST", f"/calendar/v3/events/{master['id']}/cancel", {})
    assert {i["status"] for i in _series(sandbox, master["id"])} == {"CANCELLED"}


def test_bulk_cancel_reports_unknown_ids_per_item(sandbox: Sandbox, setup: dict) -> None:
    event = _create(sandbox, setup)
    status, body = call(sandbox, "POST", "/calendar/v3/bulk/events/cancel", {"eventIds": [event["id"], "nope"]})
    assert status == 200
    assert body["results"][0]["itemMetadata"] == {"id": event["id"], "originalIndex": 0, "success": True}
    assert item_error(body["results"][1])["code"] == "EVENT_NOT_FOUND"
    assert sandbox.state.get("events", event["id"])["status"] == "CANCELLED"
    assert call(sandbox, "POST", "/calendar/v3/bulk/events/cancel", {"eventIds": []})[0] == 400


def test_bulk_update_edits_each_wrapped_event(sandbox: Sandbox, setup: dict) -> None:
    event = _create(sandbox, setup)
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


# -- query ----------------------------------------------------------------------------------------


def test_query_returns_sessions_not_masters_by_default_sorted_by_start(sandbox: Sandbox, setup: dict) -> None:
    master = _create(sandbox, setup, recurrenceRule=weekly())
    single = _create(sandbox, setup, "2026-11-23T07:00:00", "2026-11-23T08:00:00")
    query = {
        "query": {"filter": {"scheduleId": setup["service"]["schedule"]["id"]}},
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-12-01T00:00:00",
    }
    status, body = call(sandbox, "POST", "/calendar/v3/events/query", query)
    assert status == 200
    assert [e["id"] for e in body["events"]][0] == single["id"]
    assert [e["recurrenceType"] for e in body["events"]] == ["NONE", "INSTANCE", "INSTANCE"]
    _, body = call(sandbox, "POST", "/calendar/v3/events/query", {**query, "recurrenceType": ["MASTER"]})
    assert [e["id"] for e in body["events"]] == [master["id"]]


def test_query_filters_by_type_and_resource(sandbox: Sandbox, setup: dict) -> None:
    other = make_staff(sandbox, "Sam Lifeguard")
    _create(sandbox, setup)
    mine = _create(sandbox, setup, resources=[{"id": other["resourceId"], "permissionRole": "WRITER"}])
    _, body = call(
        sandbox,
        "POST",
        "/calendar/v3/events/query",
        {"query": {"filter": {"type": "CLASS", "resources.id": other["resourceId"]}}},
    )
    assert [e["id"] for e in body["events"]] == [mine["id"]]
    _, body = call(sandbox, "POST", "/calendar/v3/events/query", {"query": {"filter": {"type": "WORKING_HOURS"}}})
    assert body["events"] == []


def test_query_pages_with_a_cursor(sandbox: Sandbox, setup: dict) -> None:
    _create(sandbox, setup, recurrenceRule=weekly())
    _, first = call(sandbox, "POST", "/calendar/v3/events/query", {"query": {"cursorPaging": {"limit": 3}}})
    assert len(first["events"]) == 3 and first["pagingMetadata"]["hasNext"] is True
    cursor = first["pagingMetadata"]["cursors"]["next"]
    _, second = call(
        sandbox, "POST", "/calendar/v3/events/query", {"query": {"cursorPaging": {"limit": 3, "cursor": cursor}}}
    )
    assert len(second["events"]) == 2 and second["pagingMetadata"]["hasNext"] is False
    assert not {e["id"] for e in first["events"]} & {e["id"] for e in second["events"]}


def test_query_rejects_bad_dates_and_recurrence_types(sandbox: Sandbox) -> None:
    assert call(sandbox, "POST", "/calendar/v3/events/query", {"query": {}, "fromLocalDate": "2026-11-23"})[0] == 400
    assert call(sandbox, "POST", "/calendar/v3/events/query", {"query": {}, "recurrenceType": ["SOMETIMES"]})[0] == 400
    assert call(sandbox, "POST", "/calendar/v3/events/query", {"query": {"cursorPaging": {"limit": 5000}}})[0] == 400


def test_schedules_query_lists_service_and_staff_schedules(sandbox: Sandbox, setup: dict) -> None:
    service = setup["service"]
    status, body = call(
        sandbox, "POST", "/calendar/v3/schedules/query", {"query": {"filter": {"externalId": service["id"]}}}
    )
    assert status == 200
    assert [s["id"] for s in body["schedules"]] == [service["schedule"]["id"]]
    assert body["schedules"][0]["defaultCapacity"] == 20
    _, body = call(sandbox, "POST", "/calendar/v3/schedules/query", {"query": {}})
    assert setup["staff"]["resource"]["eventsSchedule"]["id"] in {s["id"] for s in body["schedules"]}
