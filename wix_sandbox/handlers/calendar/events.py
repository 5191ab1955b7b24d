"""Calendar V3 events (CONTRACT.md §9): create, get, list, update and cancel, one at a time and in bulk.

Editing an instance of a recurring series turns it into an ``EXCEPTION``; editing or cancelling a
MASTER reaches its future instances (``recurrence.py``).
"""

from __future__ import annotations

import copy
from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, not_found, precondition, violation
from wix_sandbox.handlers.calendar.build import build_event, check_not_past
from wix_sandbox.handlers.calendar.recurrence import instances, refresh_series, series
from wix_sandbox.handlers.calendar.times import event_span, event_zone
from wix_sandbox.routing import route

BULK_LIMIT = 50
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


def _create(sb: Sandbox, raw: dict[str, Any]) -> dict[str, Any]:
    event = stamp_new(sb, build_event(sb, raw))
    sb.state.put("events", event)
    if event["recurrenceType"] == "MASTER":
        for instance in instances(sb, event):
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
    built = build_event(sb, merged, check_past=False)
    moved = any(
        built[edge]["localDate"] != current[edge]["localDate"] or built["timeZone"] != event_zone(sb, current)
        for edge in ("start", "end")
    )
    if moved:
        check_not_past(sb, built)
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
        refresh_series(sb, updated, regenerate=timing_changed or kind == "NONE")
    return updated


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
        for instance in series(sb, event_id):
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


def _invalid_items(sb: Sandbox, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every validation failure of a bulk create's events, named ``events[i].event.…``.

    The official recipe (SKILL setup-bookings.md, CONTRACT.md §9) documents these as 400s of
    the call: items wrapped in ``{"event": …}``, ≤50 a call, CLASS/COURSE events with non-empty
    ``resources``, ``resources.permissionRole must not be UNKNOWN_ROLE``, one weekday per rule,
    local ``start``/``end`` dates without ``Z``. UNCONFIRMED: whether Wix reports some of them
    per item instead; the sandbox fails the whole call on any (nothing is created), as Bulk Create
    Booking does for a missing field. An unknown schedule or resource stays that item's failure.
    """
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            build_event(sb, item["event"])
        except ValidationFailed as exc:
            problems += [{**v, "field": f"events[{index}].{v['field']}"} for v in exc.violations]
        except SandboxError:
            continue
    return problems


@route("POST /calendar/v3/bulk/events/create")
def bulk_create_events(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    items = _wrapped_items(req.body)
    problems = _invalid_items(sb, items)
    if problems:
        raise ValidationFailed(problems)
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
