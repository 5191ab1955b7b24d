"""The course builder's reads: the courses, instructors and places to choose from, the sessions a
new term could clash with, and the terms built so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from bookings_app.models import CourseBuild, CourseBuildEvent, Service, Session, StaffMember

State = CourseBuildEvent.State


@dataclass(frozen=True)
class Place:
    """A business location some service is offered at (from the services' Wix payloads)."""

    id: str
    name: str
    address: str

    def as_event_location(self) -> dict[str, Any]:
        """The Calendar event's ``location`` (the shape Calendar returns; UNCONFIRMED which of
        its fields Wix takes on create beyond ``id`` and ``type``)."""
        out: dict[str, Any] = {"id": self.id, "type": "BUSINESS"}
        if self.name:
            out["name"] = self.name
        if self.address:
            out["formattedAddress"] = self.address
        return out


def course_services() -> list[Service]:
    """The COURSE services that have a calendar (a schedule) in Wix."""
    return list(Service.objects.filter(type=Service.Type.COURSE).exclude(schedule_id=""))


def course_instructors() -> list[StaffMember]:
    return list(StaffMember.objects.all())


def course_places() -> list[Place]:
    """Every business location the services name, once each, by name (one query)."""
    found: dict[str, Place] = {}
    for raw in Service.objects.values_list("raw", flat=True):
        for loc in (raw or {}).get("locations") or []:
            business = loc.get("business") or {}
            loc_id = loc.get("id") or business.get("id")
            if not loc_id or loc.get("type", "BUSINESS") != "BUSINESS" or loc_id in found:
                continue
            found[loc_id] = Place(
                id=loc_id,
                name=business.get("name") or "",
                address=(business.get("address") or {}).get("formattedAddress") or "",
            )
    return sorted(found.values(), key=lambda p: (p.name, p.id))


def service_place_id(service: Service) -> str:
    """The id of the service's first business location ("" when it has none)."""
    for loc in (service.raw or {}).get("locations") or []:
        loc_id = loc.get("id") or (loc.get("business") or {}).get("id")
        if loc_id:
            return str(loc_id)
    return ""


def course_clash_sessions(*, service: Service, staff: StaffMember, start: datetime, end: datetime) -> list[Session]:
    """Live sessions between ``start`` and ``end`` of this course or taught by this instructor."""
    return list(
        Session.objects.filter(Q(service=service) | Q(staff=staff), start__lt=end, end__gt=start)
        .exclude(status__in=("CANCELLED", "CANCELED"))
        .select_related("service", "staff")
        .order_by("start", "pk")
    )


def _with_counts(builds: QuerySet[CourseBuild]) -> QuerySet[CourseBuild]:
    return builds.select_related("service", "instructor", "action", "created_by").annotate(
        events_total=Count("events"),
        # A refused event whose sessions a later build made counts as in Wix, not as refused.
        events_created=Count(
            "events",
            filter=Q(events__state=State.CREATED)
            | Q(events__state=State.FAILED, events__error_code=CourseBuildEvent.MADE_ELSEWHERE),
        ),
        events_failed=Count(
            "events",
            filter=Q(events__state=State.FAILED) & ~Q(events__error_code=CourseBuildEvent.MADE_ELSEWHERE),
        ),
    )


def course_builds_recent(*, limit: int = 20) -> list[CourseBuild]:
    return list(_with_counts(CourseBuild.objects.all())[:limit])


def course_build_get(*, build_id: int) -> CourseBuild | None:
    build = _with_counts(CourseBuild.objects.filter(pk=build_id)).first()
    if build is not None:
        build.event_list = list(build.events.order_by("position"))  # type: ignore[attr-defined]
    return build


def course_build_by_key(*, key: str) -> CourseBuild | None:
    return CourseBuild.objects.filter(idempotency_key=key).first()


def course_build_sessions(*, build: CourseBuild) -> list[Session]:
    """The mirror's sessions this build made in Wix (read back by the worker, or synced since)."""
    ids = [i for e in build.events.exclude(session_wix_ids=None) for i in (e.session_wix_ids or [])]
    return list(Session.objects.filter(wix_id__in=ids).order_by("start", "pk"))
