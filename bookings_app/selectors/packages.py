"""Multi-service packages, read: which bookings belong to one (the roster's "Package 2/3" badge,
Today's marker), a package's page, and the start times the desk offers less those it booked
meanwhile. Each a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.urls import reverse

from bookings_app.models import Booking, DeskAction, Package, PackageItem, Service, StaffMember

Status = DeskAction.Status


@dataclass(frozen=True)
class PackageInfo:
    """What a booking's row says about its package: "Package 2/3", linking to the package."""

    pk: int
    url: str
    position: int  # 1-based, the order the services are given in
    count: int
    names: tuple[str, ...]  # the services, in order
    cancelled: bool = False
    needs_attention: bool = False  # Wix refused it: the package's page says why and what to do

    @property
    def label(self) -> str:
        return f"Package {self.position}/{self.count}"

    @property
    def title(self) -> str:
        return " → ".join(self.names)


def package_url(pk: int) -> str:
    return reverse("package", args=[pk])


def booking_packages(*, booking_ids: list[int]) -> dict[int, PackageInfo]:
    """Booking pk → its package (only bookings in one). One query: every item of the packages
    those bookings belong to, with their services' names."""
    if not booking_ids:
        return {}
    items = (
        PackageItem.objects.filter(
            package_id__in=PackageItem.objects.filter(booking_id__in=list(booking_ids)).values("package_id")
        )
        .select_related("service", "package", "package__action")
        .order_by("package_id", "position")
    )
    by_package: dict[int, list[PackageItem]] = defaultdict(list)
    for item in items:
        by_package[item.package_id].append(item)
    wanted = set(booking_ids)
    out: dict[int, PackageInfo] = {}
    for package_id, members in by_package.items():
        names = tuple(m.service.name for m in members)
        package = members[0].package
        cancelled = package.cancelled_at is not None
        attention = not cancelled and package.action is not None and package.action.status == Status.NEEDS_ATTENTION
        for index, member in enumerate(members, start=1):
            if member.booking_id in wanted:
                out[member.booking_id] = PackageInfo(
                    pk=package_id,
                    url=package_url(package_id),
                    position=index,
                    count=len(members),
                    names=names,
                    cancelled=cancelled,
                    needs_attention=attention,
                )
    return out


def package_session_ids(*, session_ids: list[int]) -> set[int]:
    """Which of these sessions hold a booking of a package that is not cancelled (Today's
    "Package" marker). One query."""
    if not session_ids:
        return set()
    return set(
        PackageItem.objects.filter(booking__session_id__in=list(session_ids), package__cancelled_at__isnull=True)
        .values_list("booking__session_id", flat=True)
        .distinct()
    )


# --- a package's page ---------------------------------------------------------------------------


@dataclass
class PackageRead:
    package: Package
    items: list[PackageItem]
    action: DeskAction | None
    cancel_action: DeskAction | None

    @property
    def state(self) -> str:
        """Cancelled · Needs attention · Waiting for Wix · In Wix."""
        if self.package.is_cancelled:
            if self.cancel_action is not None and self.cancel_action.status in DeskAction.LIVE_STATUSES:
                return "Cancelled — waiting for Wix"
            return "Cancelled"
        if self.action is None:
            return "In Wix"
        if self.action.status == Status.NEEDS_ATTENTION:
            return "Needs attention"
        if self.action.status in (Status.QUEUED, Status.RUNNING):
            return "Waiting for Wix"
        return "In Wix"

    @property
    def state_class(self) -> str:
        return {
            "Needs attention": "is-bad",
            "Waiting for Wix": "is-pending",
            "Cancelled — waiting for Wix": "is-pending",
            "Cancelled": "is-muted",
        }.get(self.state, "is-ok")

    @property
    def needs_attention(self) -> bool:
        return (
            not self.package.is_cancelled and self.action is not None and self.action.status == Status.NEEDS_ATTENTION
        )

    @property
    def message(self) -> str:
        for action in (self.cancel_action, self.action):
            if action is not None and action.status == Status.NEEDS_ATTENTION and action.message:
                return action.message
        return ""


def package_read(*, pk: int) -> PackageRead | None:
    """A package with its bookings (their sessions, services, staff) and its two actions. Two queries."""
    package = (
        Package.objects.select_related("contact", "action", "cancel_action", "balance", "created_by")
        .filter(pk=pk)
        .first()
    )
    if package is None:
        return None
    items = list(
        package.items.select_related("service", "booking", "booking__session", "booking__session__staff").order_by(
            "position"
        )
    )
    return PackageRead(package=package, items=items, action=package.action, cancel_action=package.cancel_action)


def packages_recent(*, limit: int = 8) -> list[Package]:
    """The latest packages booked at the desk, newest first (the "Book a package" page lists them)."""
    return list(Package.objects.select_related("contact").order_by("-created_at", "-pk")[:limit])


# --- the start times the desk offers --------------------------------------------------------------


def _local(value: str, zone: ZoneInfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value)[:19])
    except ValueError:
        return None
    return moment.replace(tzinfo=zone)


def package_chains_untaken(*, chains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``chains`` (``services.package_slots``: what Wix offers) without those the desk knows are
    taken: an active appointment of the same staff member (or, staff not on this desk, the same
    service) overlapping one of a chain's times — a booking made here that Wix doesn't have yet.
    Two queries."""
    if not chains:
        return chains
    spans: list[tuple[dict[str, Any], str, int, datetime, datetime]] = []
    for chain in chains:
        zone = ZoneInfo(chain.get("timezone") or "UTC")
        for item in chain.get("items") or []:
            start, end = _local(item.get("start"), zone), _local(item.get("end"), zone)
            if start is not None and end is not None:
                spans.append((chain, item.get("resource_id") or "", item.get("service"), start, end))
    if not spans:
        return chains
    first, last = min(s[3] for s in spans), max(s[4] for s in spans)
    resource_ids = {s[1] for s in spans if s[1]}
    service_pks = {s[2] for s in spans}
    taken = list(
        Booking.objects.filter(
            Q(session__staff__resource_id__in=resource_ids) | Q(session__service_id__in=service_pks),
            status__in=Booking.ACTIVE_STATUSES,
            session__service__type=Service.Type.APPOINTMENT,
            session__start__lt=last,
            session__end__gt=first,
        ).values_list("session__staff__resource_id", "session__service_id", "session__start", "session__end")
    )
    if not taken:
        return chains
    known = set(StaffMember.objects.filter(resource_id__in=resource_ids).values_list("resource_id", flat=True))
    blocked: set[int] = set()
    for chain, resource_id, service_pk, start, end in spans:
        for staff_resource, taken_service, t_start, t_end in taken:
            mine = staff_resource == resource_id if resource_id in known else taken_service == service_pk
            if mine and t_start < end and start < t_end:
                blocked.add(id(chain))
                break
    return [chain for chain in chains if id(chain) not in blocked]
