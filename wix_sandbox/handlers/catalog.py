"""Bookings services (CONTRACT.md §6): query, get and search."""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.errors import ValidationFailed, not_found, violation
from wix_sandbox.query import decode_cursor, encode_cursor, run_query
from wix_sandbox.routing import route

SERVICES_MAX_LIMIT = 100
CONDITIONAL_FIELDS = (
    "STAFF_MEMBER_DETAILS",
    "STAFF_WORKING_HOURS_LOCATIONS",
    "RESOURCE_TYPE_DETAILS",
    "DISCOUNT_INFO_DETAILS",
    "RESOURCE_DETAILS",
)
# bookings_services ServiceQuerySpec (SDK ``_id`` is REST ``id``): the filterable fields and
# their operators; everything else (updatedDate, createdDate, revision …) is not filterable.
_ARRAY_FIELDS = (
    "locations.business.id",
    "serviceResources.resourceIds.values",
    "staffMemberIds",
    "supportedSlugs.name",
)
_ALL_OPS = (  # the spec's operators "*": every one the sandbox knows
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$startsWith",
    "$isEmpty",
    "$hasSome",
    "$hasAll",
)
_SCALAR_FIELDS = (
    "id",
    "appId",
    "category.id",
    "category.name",
    "description",
    "form.id",
    "hidden",
    "mainSlug.name",
    "name",
    "onlineBooking.enabled",
    "payment.options.inPerson",
    "payment.options.online",
    "payment.options.pricingPlan",
    "schedule.firstSessionStart",
    "schedule.lastSessionEnd",
    "tagLine",
    "type",
)
QUERY_FILTERS = {
    **{name: ("$hasAll", "$hasSome") for name in _ARRAY_FIELDS},
    **{name: _ALL_OPS for name in _SCALAR_FIELDS},
}
# UNCONFIRMED: the fields a free-text service search looks at.
SEARCHABLE_FIELDS = ("name", "description", "tagLine")


def _conditional_fields(values: Any) -> set[str]:
    values = values or []
    if isinstance(values, str):
        values = [values]
    unknown = [v for v in values if v not in CONDITIONAL_FIELDS]
    if unknown:
        raise ValidationFailed(
            [violation("conditionalFields", f"unknown conditional field {unknown[0]!r}", "INVALID_ENUM_VALUE")]
        )
    return set(values)


def _with_conditional(sb: Sandbox, service: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """The service plus the extra blocks only returned on request (a copy; the stored row stays)."""
    if "STAFF_MEMBER_DETAILS" not in fields:
        return service
    staff = []
    for ref in service.get("staffMemberIds") or []:
        member = sb.state.get("staff_members", ref) or next(
            iter(sb.state.find("staff_members", lambda s, ref=ref: s.get("resourceId") == ref)), None
        )
        if member is not None:
            entry = {"staffMemberId": member["id"], "name": member.get("name")}
            if member.get("mainMedia"):
                entry["mainMedia"] = member["mainMedia"]
            staff.append(entry)
    return {**service, "staffMemberDetails": {"staffMembers": staff}}


@route("POST /_api/bookings/v2/services/query")
def query_services(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    fields = _conditional_fields(req.body.get("conditionalFields"))
    services, meta = run_query(
        sb.state.all("services"),
        req.body.get("query"),
        default_limit=100,
        max_limit=SERVICES_MAX_LIMIT,
        # queryServices: "Sorted by createdDate in ascending order" by default.
        default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
        filterable=QUERY_FILTERS,
        api="Query Services",
    )
    return {"services": [_with_conditional(sb, s, fields) for s in services], "pagingMetadata": meta}


@route("GET /_api/bookings/v2/services/{serviceId}")
def get_service(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    fields = _conditional_fields(req.params("conditionalFields"))
    service = sb.state.get("services", req.path_params["serviceId"])
    if service is None:
        raise not_found("SERVICE_NOT_FOUND", "Service", req.path_params["serviceId"])
    return {"service": _with_conditional(sb, service, fields)}


@route("POST /_api/bookings/v2/services/search")
def search_services(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """``{search{filter, sort, paging|cursorPaging, search{expression}}}``; default createdDate ASC, limit 100."""
    search = dict(req.body.get("search") or {})
    fields = _conditional_fields(req.body.get("conditionalFields"))
    items = sb.state.all("services")
    cursor = (search.get("cursorPaging") or {}).get("cursor")
    # The cursor carries the free-text part too, so a next page needs only the cursor.
    text = decode_cursor(cursor).get("t", "") if cursor else ""
    text = text or ((search.get("search") or {}).get("expression") or "").strip().lower()
    if text:
        items = [s for s in items if any(text in str(s.get(f) or "").lower() for f in SEARCHABLE_FIELDS)]
    if search.get("paging") is None and search.get("cursorPaging") is None:
        search["cursorPaging"] = {"limit": 100}
    services, meta = run_query(
        items,
        search,
        default_limit=100,
        max_limit=SERVICES_MAX_LIMIT,
        default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    )
    if text and "cursors" in meta:
        for key, value in meta["cursors"].items():
            if value:
                state = decode_cursor(value)
                meta["cursors"][key] = encode_cursor(state.pop("o"), {**state, "t": text})
    return {"services": [_with_conditional(sb, s, fields) for s in services], "pagingMetadata": meta}
