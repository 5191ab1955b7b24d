"""Calendar V3 events: class and course sessions on a schedule (CONTRACT.md §9).

Not in any SDK package, so these follow Wix's REST docs and recipes: each bulk item is wrapped
as ``{"event": …}``, local dates are ``YYYY-MM-DDThh:mm:ss``, recurrence is WEEKLY with one day
per rule.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param, require_batch

EVENTS = "/calendar/v3/events"
BULK_CREATE_LIMIT = 50


def query_events(
    wix: WixClient,
    *,
    query: dict[str, Any] | None = None,
    from_local_date: str | None = None,
    to_local_date: str | None = None,
    recurrence_type: list[str] | None = None,
    time_zone: str | None = None,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """``query{filter{scheduleId, type …}, cursorPaging}`` in a local window → ``{events[], pagingMetadata}``."""
    body = compact(
        {
            "query": query or {},
            "fromLocalDate": from_local_date,
            "toLocalDate": to_local_date,
            "recurrenceType": recurrence_type,
            "timeZone": time_zone,
            "fields": fields,
        }
    )
    return wix.post(f"{EVENTS}/query", body, idempotent=True)


def list_events(wix: WixClient, *, event_ids: list[str], fields: list[str] | None = None) -> dict[str, Any]:
    """Returns ``{events[]}`` for the given ids."""
    if not event_ids:
        raise ValueError("event_ids is required")
    return wix.get(EVENTS, params={"eventIds": event_ids, "fields": fields})


def create_event(
    wix: WixClient,
    *,
    event: dict[str, Any],
    participant_notification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create one event (``scheduleId, type, start{localDate}, end{localDate}, resources[{id,
    permissionRole}], recurrenceRule?``). Returns ``{event}``. Raises ``WixValidationError``.
    """
    body = compact({"event": event, "participantNotification": participant_notification})
    return wix.post(EVENTS, body, idempotent=False)


def bulk_create_events(
    wix: WixClient,
    *,
    events: list[dict[str, Any]],
    return_entity: bool | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    """Create up to 50 events; pass bare event objects, each is wrapped as ``{"event": …}`` here.

    Returns ``{results[{itemMetadata{id, originalIndex, success, error?}, item?}],
    bulkActionMetadata}`` (items only with ``return_entity``). Raises ``ValueError`` locally for
    0 or more than 50 events.
    """
    items = require_batch(events, limit=BULK_CREATE_LIMIT, what="Bulk Create Event")
    body = compact({"events": [{"event": e} for e in items], "returnEntity": return_entity, "timeZone": time_zone})
    return wix.post("/calendar/v3/bulk/events/create", body, idempotent=False)


def get_event(wix: WixClient, *, event_id: str, fields: list[str] | None = None) -> dict[str, Any]:
    """Returns ``{event}``. Raises ``WixNotFound``."""
    return wix.get(f"{EVENTS}/{path_param(event_id, 'event_id')}", params={"fields": fields})


def cancel_event(
    wix: WixClient,
    *,
    event_id: str,
    participant_notification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Cancel one event (a MASTER cancels its whole series). Returns ``{event}``."""
    body = compact({"participantNotification": participant_notification})
    return wix.post(f"{EVENTS}/{path_param(event_id, 'event_id')}/cancel", body, idempotent=False)


def bulk_cancel_events(
    wix: WixClient,
    *,
    event_ids: list[str],
    participant_notification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Cancel several events. Returns ``{results, bulkActionMetadata}``."""
    if not event_ids:
        raise ValueError("Bulk Cancel Event: send at least one event id")
    body = compact({"eventIds": list(event_ids), "participantNotification": participant_notification})
    return wix.post("/calendar/v3/bulk/events/cancel", body, idempotent=False)
