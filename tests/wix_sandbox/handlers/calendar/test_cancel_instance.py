"""Cancel Event on one INSTANCE of a weekly series: what the course page relies on.

UNCONFIRMED: Wix's documents do not say how a cancelled instance looks afterwards (an EXCEPTION?).
The sandbox keeps it as that INSTANCE, CANCELLED, and leaves the master and the other sessions as
they were — also through a later edit of the master.
"""

from __future__ import annotations

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.calendar_builders import create_event, series_of, weekly
from wix_sandbox import Sandbox


def test_cancelling_one_instance_cancels_that_session_only(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    first, second, *rest = series_of(sandbox, master["id"])

    for _ in (1, 2):  # twice: the second answers with the event as it is
        status, body = call(sandbox, "POST", f"/calendar/v3/events/{second['id']}/cancel", {})
        assert status == 200 and body["event"]["id"] == second["id"] and body["event"]["status"] == "CANCELLED"

    assert sandbox.state.get("events", master["id"])["status"] == "CONFIRMED"
    after = {e["id"]: e for e in series_of(sandbox, master["id"])}
    assert after[second["id"]]["status"] == "CANCELLED"
    assert after[second["id"]]["recurrenceType"] == "INSTANCE"
    assert {after[e["id"]]["status"] for e in (first, *rest)} == {"CONFIRMED"}
    status, found = call(sandbox, "GET", f"/calendar/v3/events/{second['id']}")
    assert status == 200 and found["event"]["status"] == "CANCELLED"  # what the worker reads back


def test_an_edit_of_the_master_does_not_bring_a_cancelled_session_back(sandbox: Sandbox, setup: dict) -> None:
    master = create_event(sandbox, setup, recurrenceRule=weekly())
    cancelled = series_of(sandbox, master["id"])[2]
    call(sandbox, "POST", f"/calendar/v3/events/{cancelled['id']}/cancel", {})

    call(sandbox, "PATCH", f"/calendar/v3/events/{master['id']}", {"event": {"totalCapacity": 8}})
    call(
        sandbox,
        "PATCH",
        f"/calendar/v3/events/{master['id']}",
        {"event": {"start": {"localDate": "2026-11-23T18:00:00"}, "end": {"localDate": "2026-11-23T19:00:00"}}},
    )

    day = cancelled["start"]["localDate"][:10]
    on_that_day = [e for e in series_of(sandbox, master["id"]) if e["start"]["localDate"].startswith(day)]
    assert [e["status"] for e in on_that_day] == ["CANCELLED"]
