"""Bookings services: Wix JSON -> ``Service`` rows."""

from __future__ import annotations

from django.db import transaction

from bookings_app.models import Service
from bookings_app.services.mirror.run import PAGE, MirrorRun, batches
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, integer, money, text
from bookings_app.wix import WixClient
from bookings_app.wix import services as wix_services
from bookings_app.wix.dates import wix_timestamp_parse


def services_write(run: MirrorRun, services: list[Json]) -> dict[str, Service]:
    rows = []
    for s in services:
        payment = s.get("payment") or {}
        price = ((payment.get("fixed") or {}).get("price")) or {}
        rows.append(
            Row(
                s["id"],
                s.get("revision"),
                wix_timestamp_parse(s.get("updatedDate")),
                {
                    "type": s.get("type") or Service.Type.CLASS,
                    "name": text(s.get("name"), 400),
                    "price": money(price.get("value")),
                    "currency": text(price.get("currency"), 3),
                    "default_capacity": integer(s.get("defaultCapacity")),
                    "schedule_id": text((s.get("schedule") or {}).get("id"), 250),
                    "pricing_plan_enabled": bool((payment.get("options") or {}).get("pricingPlan")),
                    "hidden": bool(s.get("hidden")),
                    "raw": s,
                },
            )
        )
    return upsert(run, Service, rows).objects


def services_fetch_missing(run: MirrorRun, ids: set[str]) -> list[Json]:
    """The services named here that the mirror lacks (a booking of a service added since the last sync)."""
    missing = (ids - {""}) - set(Service.objects.filter(wix_id__in=ids).values_list("wix_id", flat=True))
    found: list[Json] = []
    for batch in batches(missing):
        answer = run.call(
            wix_services.query_services, query={"filter": {"id": {"$in": batch}}, "paging": {"limit": PAGE}}
        )
        found.extend(answer.get("services") or [])
    return found


def mirror_services(*, wix: WixClient, services: list[Json], actor: str = "webhook") -> None:
    run = MirrorRun(wix=wix, actor=actor)
    with transaction.atomic():
        services_write(run, services)
