"""Query Events (``handlers/calendar/query.py``)."""

from __future__ import annotations

from tests.wix_sandbox.builders import call, make_staff
from tests.wix_sandbox.calendar_builders import create_event, weekly
from wix_sandbox import Sandbox


def test_query_returns_sessions_not_masters_by_default_sorted_by_start(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    single = create_event(sandbox, setup, "2026-11-23T07:00:00", "2026-11-23T08:00:00")
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
    create_event(sandbox, setup)
    mine = create_event(sandbox, setup, resources=[{"id": other["resourceId"], "permissionRole": "WRITER"}])
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
    create_event(sandbox, setup, recurrenceRule=weekly())
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
