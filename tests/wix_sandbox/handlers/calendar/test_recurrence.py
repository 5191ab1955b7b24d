"""Weekly recurrence: a MASTER and its INSTANCE sessions (``handlers/calendar/recurrence.py``)."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.builders import call
from tests.wix_sandbox.calendar_builders import BULK, series_of, session, violations, weekly
from wix_sandbox import Sandbox


def test_weekly_rule_makes_a_master_and_one_instance_per_week_through_until(sandbox: Sandbox, setup: dict) -> None:
    _, body = call(
        sandbox, "POST", BULK, {"events": [{"event": session(setup, recurrenceRule=weekly())}], "returnEntity": True}
    )
    master = body["results"][0]["item"]
    assert master["recurrenceType"] == "MASTER"
    assert master["recurrenceRule"]["days"] == ["MONDAY"]
    instances = series_of(sandbox, master["id"])
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
    starts = [i["start"]["localDate"] for i in series_of(sandbox, body["event"]["id"])]
    assert starts == ["2026-11-30T18:30:00", "2026-12-14T18:30:00", "2026-12-28T18:30:00"]


def test_weekly_rule_keeps_local_time_across_daylight_saving(sandbox: Sandbox, setup: dict) -> None:
    event = session(
        setup, "2027-03-22T09:00:00", "2027-03-22T10:00:00", recurrenceRule=weekly(until="2027-04-05T00:00:00")
    )
    _, body = call(sandbox, "POST", "/calendar/v3/events", {"event": event})
    assert {i["start"]["localDate"][11:] for i in series_of(sandbox, body["event"]["id"])} == {"09:00:00"}


def test_weekly_rule_without_until_is_expanded_a_year_ahead(sandbox: Sandbox, setup: dict) -> None:
    _, body = call(sandbox, "POST", "/calendar/v3/events", {"event": session(setup, recurrenceRule=weekly(until=None))})
    instances = series_of(sandbox, body["event"]["id"])
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


def test_two_day_rule_in_bulk_fails_the_whole_call(sandbox: Sandbox, setup: dict) -> None:
    rule = {"frequency": "WEEKLY", "interval": 1, "days": ["MONDAY", "FRIDAY"]}
    status, body = call(sandbox, "POST", BULK, {"events": [{"event": session(setup, recurrenceRule=rule)}]})
    assert status == 400
    assert violations(body)[0]["field"] == "events[0].event.recurrenceRule.days"
    assert sandbox.state.count("events") == 0
