"""Validating a Calendar V3 event as a caller sends it, and building the stored event from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.common import local_str, parse_local
from wix_sandbox.errors import ValidationFailed, not_found, violation
from wix_sandbox.handlers.calendar.recurrence import rule_problems
from wix_sandbox.handlers.calendar.schedules import schedule_owner, service_location
from wix_sandbox.handlers.calendar.times import local_in, local_problem, zone

SESSION_TYPES = ("CLASS", "COURSE")
PERMISSION_ROLES = ("WRITER", "COMMENTER")


def build_event(sb: Sandbox, raw: dict[str, Any], *, check_past: bool = True) -> dict[str, Any]:
    """Validate a Calendar V3 event as sent by a caller and return it in the stored shape (not saved).

    Raises 400 validationError for malformed fields, 404 SCHEDULE_NOT_FOUND / RESOURCE_NOT_FOUND.
    """
    problems: list[dict[str, Any]] = []
    schedule_id = raw.get("scheduleId")
    event_type = raw.get("type")
    if not schedule_id:
        problems.append(violation("event.scheduleId", "event.scheduleId is required", "REQUIRED_FIELD"))
    if not event_type or not isinstance(event_type, str):
        problems.append(violation("event.type", "event.type is required", "REQUIRED_FIELD"))
    start_raw = (raw.get("start") or {}).get("localDate")
    end_raw = (raw.get("end") or {}).get("localDate")
    start = _collect_local(problems, "event.start.localDate", start_raw)
    end = _collect_local(problems, "event.end.localDate", end_raw)
    tz_name = raw.get("timeZone") or (raw.get("start") or {}).get("timeZone") or sb.business_timezone
    try:
        tz: ZoneInfo | None = zone(tz_name, "event.timeZone")
    except ValidationFailed as exc:
        problems.extend(exc.violations)
        tz = None
    if start is not None and end is not None and end <= start:
        problems.append(violation("event.end.localDate", "event.end must be after event.start", "VALIDATION"))
    if check_past and start is not None and tz is not None and start.date() < local_in(sb.state.now(), tz).date():
        problems.append(violation("event.start.localDate", "event.start must be today or later", "VALIDATION"))

    is_session = event_type in SESSION_TYPES
    resources = raw.get("resources") or []
    if not isinstance(resources, list):
        problems.append(violation("event.resources", "event.resources must be a list", "VALIDATION"))
        resources = []
    if is_session and not resources:
        problems.append(
            violation("event.resources", f"{event_type} events need at least one resource", "REQUIRED_FIELD")
        )
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or not res.get("id"):
            problems.append(violation(f"event.resources[{i}].id", "resource id is required", "REQUIRED_FIELD"))
            continue
        role = res.get("permissionRole") or "UNKNOWN_ROLE"
        if role == "UNKNOWN_ROLE":
            problems.append(
                violation(
                    f"event.resources[{i}].permissionRole",
                    "resources.permissionRole must not be UNKNOWN_ROLE",
                    "VALIDATION",
                )
            )
        elif role not in PERMISSION_ROLES:
            problems.append(
                violation(
                    f"event.resources[{i}].permissionRole", f"unknown permissionRole {role!r}", "INVALID_ENUM_VALUE"
                )
            )
    if is_session and not raw.get("externalScheduleId"):
        problems.append(
            violation(
                "event.externalScheduleId",
                f"{event_type} events need externalScheduleId (the service id)",
                "REQUIRED_FIELD",
            )
        )
    capacity = raw.get("totalCapacity")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0):
        problems.append(violation("event.totalCapacity", "event.totalCapacity must be a whole number ≥ 0", "MIN"))
    rule = raw.get("recurrenceRule")
    if rule:
        problems.extend(rule_problems(rule, start))
    if problems:
        raise ValidationFailed(problems)
    assert start is not None and end is not None

    service, owner_resource = schedule_owner(sb, schedule_id)
    if service is None and owner_resource is None:
        raise not_found("SCHEDULE_NOT_FOUND", "Schedule", schedule_id)
    if is_session and service is not None and service.get("type") in SESSION_TYPES and service["type"] != event_type:
        # UNCONFIRMED: Calendar refuses a session whose type is not its service's (a CLASS event
        # on a course's schedule); the recipe only ever pairs COURSE events with course schedules.
        raise ValidationFailed(
            [
                violation(
                    "event.type",
                    f"this schedule is a {service['type']} service's: its sessions are {service['type']} events",
                    "VALIDATION",
                )
            ]
        )
    if is_session and service is not None and raw["externalScheduleId"] != service["id"]:
        raise ValidationFailed(
            [
                violation(
                    "event.externalScheduleId",
                    "externalScheduleId must be the id of the service that owns the schedule",
                    "VALIDATION",
                )
            ]
        )
    stored_resources = []
    for res in resources:
        entity = sb.state.get("resources", res["id"])
        if entity is None:
            # UNCONFIRMED: Calendar rejects an event naming a resource the site doesn't have.
            raise not_found("RESOURCE_NOT_FOUND", "Resource", res["id"])
        stored_resources.append({"id": res["id"], "name": entity.get("name"), "permissionRole": res["permissionRole"]})

    # Seconds are ignored by Calendar, so sessions always sit on whole minutes.
    start = start.replace(second=0, microsecond=0)
    end = end.replace(second=0, microsecond=0)
    event: dict[str, Any] = {
        "scheduleId": schedule_id,
        "type": event_type,
        "status": "CONFIRMED",
        "title": raw.get("title")
        or (service or {}).get("name")
        or ("Working hours" if event_type == "WORKING_HOURS" else event_type.title()),
        "start": {"localDate": local_str(start), "timeZone": tz_name},
        "end": {"localDate": local_str(end), "timeZone": tz_name},
        "timeZone": tz_name,
        "allDay": bool(raw.get("allDay", False)),
        "transparency": raw.get("transparency") or "BUSY",
        "resources": stored_resources,
        "recurrenceType": "MASTER" if rule else "NONE",
        "appId": BOOKINGS_APP_ID,
    }
    if raw.get("externalScheduleId"):
        event["externalScheduleId"] = raw["externalScheduleId"]
    elif service is not None:
        event["externalScheduleId"] = service["id"]
    location = raw.get("location") or (service_location(service) if service is not None else None)
    if location:
        event["location"] = location
    if is_session or capacity is not None:
        event["totalCapacity"] = capacity if capacity is not None else int((service or {}).get("defaultCapacity") or 0)
    if rule:
        event["recurrenceRule"] = {
            "frequency": "WEEKLY",
            "interval": int(rule.get("interval") or 1),
            "days": list(rule["days"]),
            **(
                {"until": {"localDate": rule["until"]["localDate"]}}
                if (rule.get("until") or {}).get("localDate")
                else {}
            ),
        }
    return event


def check_not_past(sb: Sandbox, event: dict[str, Any]) -> None:
    tz = ZoneInfo(event["timeZone"])
    if parse_local(event["start"]["localDate"]).date() < local_in(sb.state.now(), tz).date():
        raise ValidationFailed([violation("event.start.localDate", "event.start must be today or later", "VALIDATION")])


def _collect_local(problems: list[dict[str, Any]], field: str, value: Any) -> datetime | None:
    if value in (None, ""):
        problems.append(violation(field, f"{field} is required", "REQUIRED_FIELD"))
        return None
    problem = local_problem(field, value)
    if problem:
        problems.append(problem)
        return None
    return datetime.fromisoformat(value)
