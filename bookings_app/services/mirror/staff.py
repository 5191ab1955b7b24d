"""Staff members: Wix JSON -> ``StaffMember`` rows."""

from __future__ import annotations

from bookings_app.models import StaffMember
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, text
from bookings_app.wix.dates import wix_timestamp_parse


def staff_write(run: MirrorRun, staff: list[Json]) -> None:
    rows = []
    for s in staff:
        rows.append(
            Row(
                s["id"],
                s.get("revision"),
                wix_timestamp_parse(s.get("updatedDate")),
                {
                    "name": text(s.get("name"), 400),
                    "email": text(s.get("email"), 254),
                    "phone": text(s.get("phone"), 50),
                    "resource_id": text(s.get("resourceId"), 250),
                    "raw": s,
                },
            )
        )
    upsert(run, StaffMember, rows)
