"""Staff members and resources (CONTRACT.md §8). Use a staff member's ``resourceId`` in slots and events."""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

STAFF_MEMBERS = "/bookings/v1/staff-members"
RESOURCES = "/bookings/v2/resources"


def query_staff_members(
    wix: WixClient,
    *,
    query: dict[str, Any] | None = None,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """``query{filter, sort, cursorPaging}`` → ``{staffMembers[{id, name, email, resourceId}], pagingMetadata}``."""
    body = compact({"query": query or {}, "fields": fields})
    return wix.post(f"{STAFF_MEMBERS}/query", body, idempotent=True)


def get_staff_member(wix: WixClient, *, staff_member_id: str, fields: list[str] | None = None) -> dict[str, Any]:
    """Returns ``{staffMember}``. Raises ``WixNotFound``."""
    return wix.get(f"{STAFF_MEMBERS}/{path_param(staff_member_id, 'staff_member_id')}", params={"fields": fields})


def query_resources(wix: WixClient, *, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query{filter, sort, cursorPaging}`` → ``{resources[{id, name, typeId}], pagingMetadata}``."""
    return wix.post(f"{RESOURCES}/query", {"query": query or {}}, idempotent=True)


def get_resource(wix: WixClient, *, resource_id: str) -> dict[str, Any]:
    """Returns ``{resource}``. Raises ``WixNotFound``."""
    return wix.get(f"{RESOURCES}/{path_param(resource_id, 'resource_id')}")
