"""Calendar V3 events and schedules (CONTRACT.md §9): class and course sessions, staff working hours.

Calendar V3 is in no npm SDK package; its paths and rules come from Wix's docs and official skills.
An event carrying a ``recurrenceRule`` is a ``MASTER``; the sandbox stores its ``INSTANCE`` events
expanded (``recurringEventId`` = the master's id), so everything that reads sessions (time slots,
bookings, queries) sees plain events. Editing an instance turns it into an ``EXCEPTION``.

Schedules are not stored: a service's ``schedule.id`` and a resource's ``eventsSchedule.id`` are
the schedules, and :func:`schedule_owner` finds which one an id belongs to.

The time helpers at the top are shared with ``availability.py``.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import local_str, parse_local, stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, not_found, precondition, violation
from wix_sandbox.query import encode_cursor, match_filter, resume_or_start, run_query
from wix_sandbox.routing import route

# ``YYYY-MM-DDThh:mm[:ss[.fff]]`` with no ``Z`` and no offset: Wix's LOCAL_DATE_TIME.
LOCAL_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
SESSION_TYPES = ("CLASS", "COURSE")
PERMISSION_ROLES = ("WRITER", "COMMENTER")
RECURRENCE_TYPES = ("NONE", "MASTER", "INSTANCE", "EXCEPTION")
# UNCONFIRMED: Query Events returns single events, instances and exceptions unless recurrenceType
# asks for masters too (a master only describes the pattern; its instances are the sessions).
DEFAULT_QUERY_RECURRENCE = ("NONE", "INSTANCE", "EXCEPTION")
BULK_LIMIT = 50
QUERY_DEFAULT_LIMIT = 50
QUERY_MAX_LIMIT = 1000
# Fields a caller may change with Update Event; everything else is owned by Wix.
UPDATABLE_FIELDS = (
    "title",
    "start",
    "end",
    "timeZone",
    "resources",
    "totalCapacity",
    "location",
    "recurrenceRule",
    "allDay",
    "transparency",
)
# What a master's edits hand down to its future instances when the timing stays the same.
INHERITED_FIELDS = ("title", "resources", "totalCapacity", "location", "allDay", "transparency")


# -- time helpers (shared with availability.py) ----------------------------------------------


def zone(name: Any, field: str) -> ZoneInfo:
    """The IANA zone ``name``, or a 400 validationError on ``field``."""
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed([violation(field, f"{name!r} is not an IANA time zone", "FORMAT")]) from exc


def local_datetime(field: str, value: Any) -> datetime:
    """A required LOCAL_DATE_TIME request field, naive; plain dates and ``Z``/offsets are 400."""
    if value in (None, ""):
        raise ValidationFailed([violation(field, f"{field} is required", "REQUIRED_FIELD")])
    problem = _local_problem(field, value)
    if problem:
        raise ValidationFailed([problem])
    return datetime.fromisoformat(value)


def _local_problem(field: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str) or not LOCAL_DATE_TIME.match(value):
        return violation(field, f"{field} must be a local date-time YYYY-MM-DDThh:mm:ss without Z or offset", "FORMAT")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return violation(field, f"{field} is not a valid date-time", "FORMAT")
    return None


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in ``tz`` as an aware UTC datetime (aware input is just converted)."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=tz).astimezone(UTC)


def local_in(moment: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime as naive wall-clock time in ``tz``."""
    return moment.astimezone(tz).replace(tzinfo=None)


def event_zone(sb: Sandbox, event: dict[str, Any]) -> str:
    return event.get("timeZone") or (event.get("start") or {}).get("timeZone") or sb.business_timezone


def event_span(sb: Sandbox, event: dict[str, Any]) -> tuple[datetime, datetime]:
    """The event's start and end as aware UTC datetimes."""
    tz = ZoneInfo(event_zone(sb, event))
    return (
        to_utc(parse_local(event["start"]["localDate"]), tz),
        to_utc(parse_local(event["end"]["localDate"]), tz),
    )


def schedule_owner(sb: Sandbox, schedule_id: str | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``(service, None)`` for a service's schedule, ``(None, resource)`` for a resource's events schedule."""
    if not schedule_id:
        return None, None
    for service in sb.state.all("services"):
        if (service.get("schedule") or {}).get("id") == schedule_id:
            return service, None
    for resource in sb.state.all("resources"):
        if (resource.get("eventsSchedule") or {}).get("id") == schedule_id:
            return None, resource
    return None, None


def service_location(service: dict[str, Any]) -> dict[str, Any] | None:
    """The service's first location in the Calendar event shape ``{id, name, formattedAddress, type}``."""
    for loc in service.get("locations") or []:
        business = loc.get("business") or {}
        return {
            "id": loc.get("id") or business.get("id"),
            "name": business.get("name") or (loc.get("custom") or {}).get("name"),
            "formattedAddress": (business.get("address") or loc.get("calculatedAddress") or {}).get("formattedAddress"),
            "type": loc.get("type") or "BUSINESS",
        }
    return None


def filter_view(event: dict[str, Any]) -> dict[str, Any]:
    """The event as filters see it: ``resources.id`` / ``resources.name`` become lists.

    Wix filters such as ``{"resources.id": {"$in": [...]}}`` reach into the resources array; the
    shared filter engine walks dicts only, so the array is turned into a dict of lists.
    """
    resources = event.get("resources") or []
    view = dict(event)
    view["resources"] = {
        "id": [r.get("id") for r in resources],
        "name": [r.get("name") for r in resources],
    }
    return view


# -- building and validating events -----------------------------------------------------------


def _build_event(sb: Sandbox, raw: dict[str, Any], *, check_past: bool = True) -> dict[str, Any]:
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
        problems.extend(_rule_problems(rule, start))
    if problems:
        raise ValidationFailed(problems)
    assert start is not None and end is not None

    service, owner_resource = schedule_owner(sb, schedule_id)
    if service is None and owner_resource is None:
        raise not_found("SCHEDULE_NOT_FOUND", "Schedule", schedule_id)
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


def _check_not_past(sb: Sandbox, event: dict[str, Any]) -> None:
    tz = ZoneInfo(event["timeZone"])
    if parse_local(event["start"]["localDate"]).date() < local_in(sb.state.now(), tz).date():
        raise ValidationFailed([violation("event.start.localDate", "event.start must be today or later", "VALIDATION")])


def _collect_local(problems: list[dict[str, Any]], field: str, value: Any) -> datetime | None:
    if value in (None, ""):
        problems.append(violation(field, f"{field} is required", "REQUIRED_FIELD"))
        return None
    problem = _local_problem(field, value)
    if problem:
        problems.append(problem)
        return None
    return datetime.fromisoformat(value)


def _rule_problems(rule: Any, start: datetime | None) -> list[dict[str, Any]]:
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
        problem = _local_problem("event.recurrenceRule.until.localDate", until)
        if problem:
            problems.append(problem)
        elif start is not None and datetime.fromisoformat(until).date() < start.date():
            problems.append(
                violation("event.recurrenceRule.until.localDate", "until must not be before the start", "VALIDATION")
            )
    return problems


def _instances(sb: Sandbox, master: dict[str, Any], *, not_before: datetime | None = None) -> list[dict[str, Any]]:
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


def _series(sb: Sandbox, master_id: str) -> list[dict[str, Any]]:
    return sb.state.find("events", lambda e: e.get("recurringEventId") == master_id)


def _create(sb: Sandbox, raw: dict[str, Any]) -> dict[str, Any]:
    event = stamp_new(sb, _build_event(sb, raw))
    sb.state.put("events", event)
    if event["recurrenceType"] == "MASTER":
        for instance in _instances(sb, event):
            sb.state.put("events", instance)
    return event


def get_event(sb: Sandbox, event_id: str) -> dict[str, Any]:
    """The live event, or 404 ``EVENT_NOT_FOUND``."""
    event = sb.state.get("events", event_id)
    if event is None:
        raise not_found("EVENT_NOT_FOUND", "Event", event_id)
    return event


def _update(sb: Sandbox, event_id: str, patch: dict[str, Any], revision: Any) -> dict[str, Any]:
    current = get_event(sb, event_id)
    if revision not in (None, "") and str(revision) != str(current.get("revision")):
        raise SandboxError(409, "INVALID_REVISION", f"Event {event_id} has revision {current.get('revision')}")
    if current.get("status") == "CANCELLED":
        # UNCONFIRMED: a cancelled event can't be edited (code name is ours).
        raise precondition("EVENT_CANCELLED", f"Event {event_id} is cancelled")
    kind = current.get("recurrenceType", "NONE")
    if kind in ("INSTANCE", "EXCEPTION") and patch.get("recurrenceRule"):
        raise ValidationFailed(
            [violation("event.recurrenceRule", "only a single event or a MASTER can carry a rule", "FIELD_NOT_ALLOWED")]
        )
    if kind == "MASTER" and "recurrenceRule" in patch and not patch["recurrenceRule"]:
        raise ValidationFailed(
            [violation("event.recurrenceRule", "a MASTER's rule can be changed but not removed", "REQUIRED_FIELD")]
        )
    merged = copy.deepcopy(current)
    for field in UPDATABLE_FIELDS:
        if field in patch:
            merged[field] = patch[field]
    if "timeZone" in patch:
        merged["start"] = {**merged["start"], "timeZone": patch["timeZone"]}
    built = _build_event(sb, merged, check_past=False)
    moved = any(
        built[edge]["localDate"] != current[edge]["localDate"] or built["timeZone"] != event_zone(sb, current)
        for edge in ("start", "end")
    )
    if moved:
        _check_not_past(sb, built)
    timing_changed = moved or built.get("recurrenceRule") != current.get("recurrenceRule")

    updated = sb.state.edit("events", event_id)
    assert updated is not None
    for field in ("title", "start", "end", "timeZone", "allDay", "transparency", "resources", "location"):
        if field in built:
            updated[field] = built[field]
    if "totalCapacity" in built:
        updated["totalCapacity"] = built["totalCapacity"]
    if "recurrenceRule" in built:
        updated["recurrenceRule"] = built["recurrenceRule"]
        updated["recurrenceType"] = "MASTER"
    if kind == "INSTANCE":
        updated["recurrenceType"] = "EXCEPTION"
    sb.state.put("events", touch(sb, updated))

    if updated["recurrenceType"] == "MASTER":
        _refresh_series(sb, updated, regenerate=timing_changed or kind == "NONE")
    return updated


def _refresh_series(sb: Sandbox, master: dict[str, Any], *, regenerate: bool) -> None:
    """Hand a master's change down to its future, unedited instances (past ones stay as they were).

    A timing or rule change replaces those instances with new ones (their ids change, as in Wix);
    any other change is copied onto them in place, so bookings keep pointing at the same events.
    """
    now = sb.state.now()
    future = [
        e
        for e in _series(sb, master["id"])
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
    kept_days = {parse_local(e["start"]["localDate"]).date() for e in _series(sb, master["id"])}
    for instance in _instances(sb, master, not_before=now):
        if parse_local(instance["start"]["localDate"]).date() not in kept_days:
            sb.state.put("events", instance)


def _cancel(sb: Sandbox, event_id: str) -> dict[str, Any]:
    """CANCELLED; cancelling a MASTER also cancels its future sessions. Cancelling twice is a no-op."""
    current = get_event(sb, event_id)
    if current.get("status") == "CANCELLED":
        return current
    event = sb.state.edit("events", event_id)
    assert event is not None
    event["status"] = "CANCELLED"
    sb.state.put("events", touch(sb, event))
    if event.get("recurrenceType") == "MASTER":
        now = sb.state.now()
        for instance in _series(sb, event_id):
            if instance.get("status") != "CANCELLED" and event_span(sb, instance)[0] >= now:
                edited = sb.state.edit("events", instance["id"])
                assert edited is not None
                edited["status"] = "CANCELLED"
                sb.state.put("events", touch(sb, edited))
    return event


# -- bulk plumbing ------------------------------------------------------------------------------


def _wrapped_items(body: dict[str, Any], key: str = "events") -> list[dict[str, Any]]:
    """The ``[{"event": {...}}]`` items of a bulk call; a malformed list fails the whole call."""
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise ValidationFailed([violation(key, f"{key} must list 1 to {BULK_LIMIT} items", "MIN_SIZE")])
    if len(items) > BULK_LIMIT:
        raise ValidationFailed([violation(key, f"at most {BULK_LIMIT} items per call", "MAX_SIZE")])
    problems = [
        violation(f"{key}[{i}].event", 'each item must be wrapped as {"event": {...}}', "REQUIRED_FIELD")
        for i, item in enumerate(items)
        if not isinstance(item, dict) or not isinstance(item.get("event"), dict)
    ]
    if problems:
        raise ValidationFailed(problems)
    return items


def _item_error(exc: SandboxError) -> dict[str, Any]:
    data = dict(exc.data)
    if isinstance(exc, ValidationFailed):
        data["fieldViolations"] = exc.violations
    return {"code": exc.code, "description": exc.description, "data": data}


def _bulk_response(results: list[dict[str, Any]]) -> dict[str, Any]:
    successes = sum(1 for r in results if r["itemMetadata"]["success"])
    return {
        "results": results,
        "bulkActionMetadata": {
            "totalSuccesses": successes,
            "totalFailures": len(results) - successes,
            "undetailedFailures": 0,
        },
    }


def _run_bulk(items: list[Any], action: Any, return_entity: bool) -> dict[str, Any]:
    """Apply ``action`` per item; a rejected item becomes a per-item error and changes nothing."""
    results = []
    for index, item in enumerate(items):
        try:
            entity = action(item)
        except SandboxError as exc:
            results.append({"itemMetadata": {"originalIndex": index, "success": False, "error": _item_error(exc)}})
            continue
        result: dict[str, Any] = {"itemMetadata": {"id": entity["id"], "originalIndex": index, "success": True}}
        if return_entity:
            result["item"] = entity
        results.append(result)
    return _bulk_response(results)


# -- routes ------------------------------------------------------------------------------------


@route("POST /calendar/v3/events")
def create_event(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    raw = req.body.get("event")
    if not isinstance(raw, dict):
        raise ValidationFailed([violation("event", "event is required", "REQUIRED_FIELD")])
    return {"event": _create(sb, raw)}


@route("POST /calendar/v3/bulk/events/create")
def bulk_create_events(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    items = _wrapped_items(req.body)
    # UNCONFIRMED: an item that fails validation is a per-item error; the others are created.
    return _run_bulk(items, lambda item: _create(sb, item["event"]), bool(req.body.get("returnEntity")))


@route("GET /calendar/v3/events/{eventId}")
def get_event_route(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    return {"event": get_event(sb, req.path_params["eventId"])}


@route("GET /calendar/v3/events")
def list_events_by_id(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    ids = req.params("eventIds")
    if not ids:
        raise ValidationFailed([violation("eventIds", "eventIds is required", "REQUIRED_FIELD")])
    if len(ids) > 100:
        raise ValidationFailed([violation("eventIds", "at most 100 eventIds", "MAX_SIZE")])
    found = (sb.state.get("events", event_id) for event_id in ids)
    return {"events": [event for event in found if event is not None]}


@route("PATCH /calendar/v3/events/{eventId}")
def update_event(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    patch = req.body.get("event")
    if not isinstance(patch, dict):
        raise ValidationFailed([violation("event", "event is required", "REQUIRED_FIELD")])
    revision = patch.get("revision", req.body.get("revision"))
    return {"event": _update(sb, req.path_params["eventId"], patch, revision)}


@route("POST /calendar/v3/bulk/events/update")
def bulk_update_events(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    items = _wrapped_items(req.body)
    missing = [
        violation(f"events[{i}].event.id", "event.id is required", "REQUIRED_FIELD")
        for i, item in enumerate(items)
        if not item["event"].get("id")
    ]
    if missing:
        raise ValidationFailed(missing)

    def update(item: dict[str, Any]) -> dict[str, Any]:
        patch = item["event"]
        return _update(sb, patch["id"], patch, patch.get("revision"))

    return _run_bulk(items, update, bool(req.body.get("returnEntity")))


@route("POST /calendar/v3/events/{eventId}/cancel")
def cancel_event(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    return {"event": _cancel(sb, req.path_params["eventId"])}


@route("POST /calendar/v3/bulk/events/cancel")
def bulk_cancel_events(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    # UNCONFIRMED: the request lists ids as ``eventIds``; ``events[{id}]`` is accepted too.
    ids = req.body.get("eventIds")
    if ids is None:
        ids = [(e or {}).get("id") or (e or {}).get("eventId") for e in req.body.get("events") or []]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ValidationFailed([violation("eventIds", f"eventIds must list 1 to {BULK_LIMIT} ids", "MIN_SIZE")])
    if len(ids) > BULK_LIMIT:
        raise ValidationFailed([violation("eventIds", f"at most {BULK_LIMIT} ids per call", "MAX_SIZE")])
    return _run_bulk(ids, lambda event_id: _cancel(sb, event_id), bool(req.body.get("returnEntity")))


@route("POST /calendar/v3/events/query")
def query_events(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    query = body.get("query") or {}
    paging = query.get("cursorPaging") or {}
    limit = paging.get("limit") or QUERY_DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= QUERY_MAX_LIMIT:
        raise ValidationFailed([violation("query.cursorPaging.limit", f"limit must be 1..{QUERY_MAX_LIMIT}", "MAX")])
    params, offset = resume_or_start(paging, lambda: _query_params(sb, body, query))

    tz = ZoneInfo(params["tz"])
    lower = to_utc(datetime.fromisoformat(params["from"]), tz) if params["from"] else None
    upper = to_utc(datetime.fromisoformat(params["to"]), tz) if params["to"] else None
    kinds = set(params["rt"])
    matched = []
    for event in sb.state.all("events"):
        if event.get("recurrenceType", "NONE") not in kinds:
            continue
        if params["filter"] and not match_filter(filter_view(event), params["filter"]):
            continue
        start, end = event_span(sb, event)
        if (lower is not None and end <= lower) or (upper is not None and start >= upper):
            continue
        matched.append((start, event["id"], event))
    matched.sort(key=lambda m: (m[0], m[1]))
    page = [m[2] for m in matched[offset : offset + limit]]
    has_next = offset + limit < len(matched)
    return {
        "events": page,
        "pagingMetadata": {
            "count": len(page),
            "cursors": {
                "next": encode_cursor(offset + limit, {"p": params}) if has_next else None,
                "prev": encode_cursor(max(offset - limit, 0), {"p": params}) if offset else None,
            },
            "hasNext": has_next,
        },
    }


def _query_params(sb: Sandbox, body: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
    tz_name = body.get("timeZone") or sb.business_timezone
    zone(tz_name, "timeZone")
    for field in ("fromLocalDate", "toLocalDate"):
        if body.get(field) not in (None, ""):
            local_datetime(field, body[field])
    kinds = body.get("recurrenceType") or list(DEFAULT_QUERY_RECURRENCE)
    if isinstance(kinds, str):
        kinds = [kinds]
    bad = [k for k in kinds if k not in RECURRENCE_TYPES]
    if bad:
        raise ValidationFailed(
            [violation("recurrenceType", f"unknown recurrenceType {bad[0]!r}", "INVALID_ENUM_VALUE")]
        )
    return {
        "filter": query.get("filter"),
        "from": body.get("fromLocalDate") or None,
        "to": body.get("toLocalDate") or None,
        "rt": list(kinds),
        "tz": tz_name,
    }


def all_schedules(sb: Sandbox) -> list[dict[str, Any]]:
    """Every schedule the site has: one per service, one per resource's events schedule."""
    schedules = []
    for service in sb.state.all("services"):
        schedule = service.get("schedule") or {}
        if not schedule.get("id"):
            continue
        schedules.append(
            {
                "id": schedule["id"],
                "externalId": service["id"],
                "name": service.get("name"),
                "timeZone": sb.business_timezone,
                "status": "ACTIVE",
                "defaultCapacity": service.get("defaultCapacity"),
                **({"defaultLocation": service_location(service)} if service_location(service) else {}),
                "appId": BOOKINGS_APP_ID,
                "revision": "1",
                "createdDate": service.get("createdDate"),
                "updatedDate": service.get("updatedDate"),
            }
        )
    for resource in sb.state.all("resources"):
        schedule_id = (resource.get("eventsSchedule") or {}).get("id")
        if not schedule_id:
            continue
        schedules.append(
            {
                "id": schedule_id,
                "externalId": resource["id"],
                "name": resource.get("name"),
                "timeZone": sb.business_timezone,
                "status": "ACTIVE",
                "appId": BOOKINGS_APP_ID,
                "revision": "1",
                "createdDate": resource.get("createdDate"),
                "updatedDate": resource.get("updatedDate"),
            }
        )
    return schedules


@route("POST /calendar/v3/schedules/query")
def query_schedules(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    schedules, meta = run_query(
        all_schedules(sb), req.body.get("query"), default_limit=QUERY_DEFAULT_LIMIT, max_limit=QUERY_MAX_LIMIT
    )
    return {"schedules": schedules, "pagingMetadata": meta}
