"""Weekly recurrence (CONTRACT.md §9): a MASTER's rule, its INSTANCE events, and what its edits hand down.

An event carrying a ``recurrenceRule`` is a ``MASTER``; the sandbox stores its ``INSTANCE`` events
expanded (``recurringEventId`` = the master's id), so everything that reads sessions (time slots,
bookings, queries) sees plain events.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox
from wix_sandbox.common import local_str, parse_local, stamp_new, touch
from wix_sandbox.errors import violation
from wix_sandbox.handlers.calendar.times import event_span, event_zone, local_problem, to_utc

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# What a master's edits hand down to its future instances when the timing stays the same.
INHERITED_FIELDS = ("title", "resources", "totalCapacity", "location", "allDay", "transparency")


def rule_problems(rule: Any, start: datetime | None) -> list[dict[str, Any]]:
    """Calendar supports WEEKLY rules on exactly one weekday (CONTRACT.md §9)."""
    if not isinstance(rule, dict):
        return [violation("event.recurrenceRule", "recurrenceRule must be an object", "VALIDATION")]
    problems = []
    if rule.get("frequency") != "WEEKLY":
        problems.append(
            violation("event.recurrenceRule.frequency", "only WEEKLY frequency is supported", "INVALID_ENUM_VALUE")
        )
    interval = rule.get("interval", 1)
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        problems.append(violation("event.recurrenceRule.interval", "interval must be a whole number ≥ 1", "MIN"))
    days = rule.get("days")
    if not isinstance(days, list) or len(days) != 1:
        problems.append(
            violation("event.recurrenceRule.days", "exactly one day per recurrence rule is supported", "EXACT_SIZE")
        )
    elif days[0] not in WEEKDAYS:
        problems.append(violation("event.recurrenceRule.days", f"{days[0]!r} is not a weekday", "INVALID_ENUM_VALUE"))
    until = (rule.get("until") or {}).get("localDate")
    if until is not None:
        problem = local_problem("event.recurrenceRule.until.localDate", until)
        if problem:
            problems.append(problem)
        elif start is not None and datetime.fromisoformat(until).date() < start.date():
            problems.append(
                violation("event.recurrenceRule.until.localDate", "until must not be before the start", "VALIDATION")
            )
    return problems


def instances(sb: Sandbox, master: dict[str, Any], *, not_before: datetime | None = None) -> list[dict[str, Any]]:
    """The INSTANCE events of a MASTER, first matching weekday on/after its start through ``until``.

    ``until`` is inclusive by date. Naive wall-clock arithmetic keeps sessions at the same local
    time across daylight-saving changes, as a weekly class does.
    """
    rule = master["recurrenceRule"]
    tz = ZoneInfo(event_zone(sb, master))
    start = parse_local(master["start"]["localDate"])
    duration = parse_local(master["end"]["localDate"]) - start
    weekday = WEEKDAYS.index(rule["days"][0])
    current = start + timedelta(days=(weekday - start.weekday()) % 7)
    until = (rule.get("until") or {}).get("localDate")
    # UNCONFIRMED: a rule without ``until`` is expanded one year ahead (Wix keeps generating).
    last_day: date = parse_local(until).date() if until else (start + timedelta(days=365)).date()
    step = timedelta(weeks=int(rule.get("interval") or 1))
    skip = {"id", "recurrenceRule", "createdDate", "updatedDate", "revision"}
    out = []
    while current.date() <= last_day:
        if not_before is None or to_utc(current, tz) >= not_before:
            instance = {k: copy.deepcopy(v) for k, v in master.items() if k not in skip}
            instance["recurrenceType"] = "INSTANCE"
            instance["recurringEventId"] = master["id"]
            instance["start"] = {**master["start"], "localDate": local_str(current)}
            instance["end"] = {**master["end"], "localDate": local_str(current + duration)}
            out.append(stamp_new(sb, instance))
        current += step
    return out


def series(sb: Sandbox, master_id: str) -> list[dict[str, Any]]:
    return sb.state.find("events", lambda e: e.get("recurringEventId") == master_id)


def refresh_series(sb: Sandbox, master: dict[str, Any], *, regenerate: bool) -> None:
    """Hand a master's change down to its future, unedited instances (past ones stay as they were).

    A timing or rule change replaces those instances with new ones (their ids change, as in Wix);
    any other change is copied onto them in place, so bookings keep pointing at the same events.
    """
    now = sb.state.now()
    future = [
        e
        for e in series(sb, master["id"])
        if e.get("recurrenceType") == "INSTANCE" and e.get("status") != "CANCELLED" and event_span(sb, e)[0] >= now
    ]
    if not regenerate:
        for instance in future:
            edited = sb.state.edit("events", instance["id"])
            assert edited is not None
            for field in INHERITED_FIELDS:
                if field in master:
                    edited[field] = copy.deepcopy(master[field])
            sb.state.put("events", touch(sb, edited))
        return
    for instance in future:
        sb.state.delete("events", instance["id"])
    kept_days = {parse_local(e["start"]["localDate"]).date() for e in series(sb, master["id"])}
    for instance in instances(sb, master, not_before=now):
        if parse_local(instance["start"]["localDate"]).date() not in kept_days:
            sb.state.put("events", instance)
