"""Site members: pricing plans and membership charges are keyed by member id (CONTRACT.md §10)."""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

MEMBERS = "/members/v1/members"


def query_members(
    wix: WixClient,
    *,
    query: dict[str, Any] | None = None,
    fieldsets: list[str] | None = None,
) -> dict[str, Any]:
    """``query{filter e.g. {"contactId": …}, paging}`` →
    ``{members[{id, contactId, loginEmail, profile}], metadata}``.
    """
    return wix.post(f"{MEMBERS}/query", compact({"query": query or {}, "fieldsets": fieldsets}), idempotent=True)


def get_member(wix: WixClient, *, member_id: str, fieldsets: list[str] | None = None) -> dict[str, Any]:
    """Returns ``{member}``. Raises ``WixNotFound``."""
    return wix.get(f"{MEMBERS}/{path_param(member_id, 'member_id')}", params={"fieldsets": fieldsets})
