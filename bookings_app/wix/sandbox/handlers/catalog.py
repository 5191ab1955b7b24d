"""Bookings services (CONTRACT.md §6)."""

from __future__ import annotations

from typing import Any

from ..app import Sandbox, SandboxRequest, route
from ..errors import not_found
from ..query import run_query


@route("POST /_api/bookings/v2/services/query")
def query_services(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    services, meta = run_query(sb.state.all("services"), req.body.get("query"), default_limit=100)
    return {"services": services, "pagingMetadata": meta}


@route("GET /_api/bookings/v2/services/{serviceId}")
def get_service(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    service = sb.state.get("services", req.path_params["serviceId"])
    if service is None:
        raise not_found("SERVICE_NOT_FOUND", "Service", req.path_params["serviceId"])
    return {"service": service}
