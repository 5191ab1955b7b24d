"""Query Schedules (``handlers/calendar/schedules.py``)."""

from __future__ import annotations

from tests.wix_sandbox.builders import call
from wix_sandbox import Sandbox


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
