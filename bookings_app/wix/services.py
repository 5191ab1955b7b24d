"""Bookings services: what can be booked (CONTRACT.md §6)."""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

SERVICES = "/_api/bookings/v2/services"


def query_services(
    wix: WixClient,
    *,
    query: dict[str, Any] | None = None,
    conditional_fields: list[str] | None = None,
) -> dict[str, Any]:
    """``query{filter, sort, paging{limit, offset}}`` → ``{services[], pagingMetadata}``."""
    body = compact({"query": query or {}, "conditionalFields": conditional_fields})
    return wix.post(f"{SERVICES}/query", body, idempotent=True)


def get_service(wix: WixClient, *, service_id: str, conditional_fields: list[str] | None = None) -> dict[str, Any]:
    """Returns ``{service}``. Raises ``WixNotFound`` (SERVICE_NOT_FOUND)."""
    return wix.get(
        f"{SERVICES}/{path_param(service_id, 'service_id')}", params={"conditionalFields": conditional_fields}
    )


def search_services(
    wix: WixClient,
    *,
    search: dict[str, Any] | None = None,
    conditional_fields: list[str] | None = None,
) -> dict[str, Any]:
    """``search{filter, search{expression, fields}, sort, cursorPaging}`` → ``{services[], pagingMetadata}``."""
    body = compact({"search": search or {}, "conditionalFields": conditional_fields})
    return wix.post(f"{SERVICES}/search", body, idempotent=True)
