"""A spa in the in-process sandbox for the package tests (desk, push, selectors, views): a 60-minute
Sports Massage (£55), a 45-minute Express Facial (£40) and a 30-minute Classic Manicure (£30) at
the Boathouse Spa, given by Maya and Ravi, who work tomorrow 09:00–17:00 — mirrored with the real
sync. ``chain()`` is the first start time the desk offers for the three, in that order."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from bookings_app.models import BenefitBalance, Contact, Package, Service
from bookings_app.services import desk, mirror, sync
from bookings_app.services.push import PushReport, push_desk_actions_now
from bookings_app.wix import WixClient, get_sandbox, get_wix_client
from tests.services.conftest import tomorrow_at
from tests.wix_sandbox.builders import (
    make_contact,
    make_location,
    make_member,
    make_service,
    make_staff,
    make_working_hours,
)
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import Sandbox


def key() -> str:
    return str(uuid.uuid4())


@dataclasses.dataclass
class Spa:
    sb: Sandbox
    wix: WixClient
    spa: dict[str, Any]
    maya: dict[str, Any]
    ravi: dict[str, Any]
    wix_services: list[dict[str, Any]]

    @property
    def day(self) -> date:
        return tomorrow_at(9).date()

    @property
    def services(self) -> list[Service]:
        found = {s.wix_id: s for s in Service.objects.filter(wix_id__in=[w["id"] for w in self.wix_services])}
        return [found[w["id"]] for w in self.wix_services]

    def chains(self, services: list[Service] | None = None) -> list[dict[str, Any]]:
        return desk.package_chains(wix=self.wix, services=services or self.services, day=self.day)

    def chain(self, index: int = 0) -> dict[str, Any]:
        return self.chains()[index]

    def customer(self, first: str = "Ash", last: str = "Spa", *, credits: int | None = None) -> Contact:
        """A Wix contact mirrored as a desk search finds them (and a plan covering the three
        services with ``credits`` left, if asked)."""
        contact = make_contact(self.sb, first, last, email=f"{first}.{last}.{uuid.uuid4().hex[:6]}@example.com".lower())
        people: dict[str, Any] = {"contact": contact}
        mirror.mirror_contacts(wix=self.wix, contacts=[contact], actor="test")
        if credits is not None:
            member = make_member(self.sb, contact)
            plan = make_plan(self.sb, "Spa Pass", 10, [s["id"] for s in self.wix_services], "200")
            people["sold"] = sell_plan(self.sb, member, plan, credits_left=credits)
            mirror.member_plans_refresh(wix=self.wix, member_ids=[member["id"]], actor="test")
        return Contact.objects.get(wix_id=contact["id"])

    def balance(self, contact: Contact) -> BenefitBalance:
        return BenefitBalance.objects.get(member__contact=contact)

    def book(self, user: Any, contact: Contact, *, pay: str = "CASH", chain: dict | None = None, **kw: Any) -> Package:
        return desk.package_book(
            user=user, contact=contact, chain=chain or self.chain(), pay=pay, idempotency_key=key(), **kw
        )

    def push(self, **kwargs: Any) -> PushReport:
        kwargs.setdefault("ignore_undo_window", True)
        return push_desk_actions_now(wix=self.wix, **kwargs)

    def wix_msbs(self) -> list[dict[str, Any]]:
        return self.sb.state.all("multi_service_bookings")


def build_spa(*, with_hours: bool = True) -> Spa:
    sb = get_sandbox()
    wix = get_wix_client()
    spa = make_location(sb, "The Boathouse Spa")
    maya, ravi = make_staff(sb, "Maya Thompson"), make_staff(sb, "Ravi Patel")
    services = [
        make_service(
            sb,
            type="APPOINTMENT",
            name=name,
            price=price,
            capacity=1,
            location=spa,
            staff=[maya, ravi],
            duration_minutes=minutes,
        )
        for name, price, minutes in (
            ("Sports Massage", "55", 60),
            ("Express Facial", "40", 45),
            ("Classic Manicure", "30", 30),
        )
    ]
    if with_hours:
        for person in (maya, ravi):
            make_working_hours(sb, person, tomorrow_at(9), hours=8)
    report = sync.sync_full(wix=wix)
    assert not report.error, report.error
    return Spa(sb=sb, wix=wix, spa=spa, maya=maya, ravi=ravi, wix_services=services)


def at(spa: Spa, hour: int, minute: int = 0) -> str:
    """Tomorrow at ``hour``:``minute`` as a chain writes it."""
    return f"{spa.day.isoformat()}T{hour:02d}:{minute:02d}:00"


def shifted(chain: dict[str, Any], index: int, minutes: int) -> dict[str, Any]:
    """``chain`` with item ``index`` (and those after it) moved by ``minutes``: a gap or an overlap."""
    from datetime import datetime

    out = {**chain, "items": [dict(item) for item in chain["items"]]}
    for item in out["items"][index:]:
        for name in ("start", "end"):
            moved = datetime.fromisoformat(item[name]) + timedelta(minutes=minutes)
            item[name] = moved.isoformat(timespec="seconds")
    return out


def today() -> date:
    return timezone.localdate()
