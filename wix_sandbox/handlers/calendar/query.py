"""Query Events (CONTRACT.md §9): sessions in a date window, filtered, paged by cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import ValidationFailed, violation
from wix_sandbox.handlers.calendar.times import event_span, local_datetime, to_utc, zone
from wix_sandbox.query import encode_cursor, match_filter, resume_or_start
from wix_sandbox.routing import route

RECURRENCE_TYPES = ("NONE", "MASTER", "INSTANCE", "EXCEPTION")
# UNCONFIRMED: Query Events returns single events, instances and exceptions unless recurrenceType
# asks for masters too (a master only describes the pattern; its instances are the sessions).
DEFAULT_QUERY_RECURRENCE = ("NONE", "INSTANCE", "EXCEPTION")
QUERY_DEFAULT_LIMIT = 50
QUERY_MAX_LIMIT = 1000


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
