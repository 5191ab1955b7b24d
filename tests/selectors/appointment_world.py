"""A spa in the in-process sandbox, mirrored by the real sync, for the appointment grid's tests
(selectors, views, browser): a 60-minute Sports Massage given by Maya (09:00–12:00, Monday to
Saturday) and Ravi (14:00–16:00, Monday and Wednesday), for ``weeks`` weeks from ``first_monday``.

Times are the business's (Europe/London) wall clock. The desk tests' clock stands at Saturday
21 November 2026, 09:00 (``tests.views.desk_helpers.NOW``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookings_app import selectors, wix
from bookings_app.models import Booking, Service, StaffMember
from bookings_app.services import desk, sync
from bookings_app.wix import time_slots
from tests import factories
from tests.wix_sandbox.builders import make_service, make_staff, make_working_hours
from wix_sandbox import Sandbox

LONDON = ZoneInfo("Europe/London")
THIS_MONDAY = date(2026, 11, 16)  # the week of the desk tests' NOW (Saturday 21 November 2026)
NEXT_MONDAY = date(2026, 11, 23)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@dataclass
class Spa:
    sb: Sandbox
    wix_maya: dict[str, Any]
    wix_ravi: dict[str, Any]
    wix_massage: dict[str, Any]

    @property
    def massage(self) -> Service:
        return Service.objects.get(wix_id=self.wix_massage["id"])

    @property
    def maya(self) -> StaffMember:
        return StaffMember.objects.get(wix_id=self.wix_maya["id"])

    @property
    def ravi(self) -> StaffMember:
        return StaffMember.objects.get(wix_id=self.wix_ravi["id"])

    def mirrored_appointment(self, staff: StaffMember, start: datetime, *, who: str = "Olive Online") -> Booking:
        """An appointment the mirror holds as Wix's (booked online; the sync made its session)."""
        first, _, last = who.partition(" ")
        session = factories.SessionFactory(
            service=self.massage, staff=staff, start=start, end=start + timedelta(hours=1), capacity=1
        )
        contact = factories.ContactFactory(first_name=first, last_name=last)
        return factories.BookingFactory(session=session, contact=contact, status="CONFIRMED", pending_sync=False)

    def grid(self, week: date, staff: StaffMember | None = None) -> selectors.AppointmentWeek:
        with wix.get_wix_client(interactive=True) as client:
            return selectors.appointment_week_read(
                wix=client, service=self.massage, week=selectors.Week.of(week), staff=staff
            )

    def desk_books(self, user: Any, free: selectors.FreeSlot, *, who: str = "Walk In") -> Booking:
        """The desk's walk-in into ``free`` (local first: pending, not in Wix yet)."""
        first, _, last = who.partition(" ")
        contact = factories.ContactFactory(first_name=first, last_name=last)
        return desk.walk_in_book(
            user=user,
            contact=contact,
            service=self.massage,
            slot=free.slot,
            pay="CASH",
            idempotency_key=str(uuid.uuid4()),
        )


def free_at(grid: selectors.AppointmentWeek, staff: StaffMember, start: datetime) -> selectors.FreeSlot | None:
    return next((f for f in grid.free if f.key == staff.resource_id and f.start == start), None)


def free_times(grid: selectors.AppointmentWeek, staff: StaffMember, day: date) -> list[str]:
    return [f.label for f in grid.free if f.key == staff.resource_id and f.start.date() == day]


def build_spa(*, first_monday: date = THIS_MONDAY, weeks: int = 3) -> Spa:
    sb = wix.get_sandbox()
    maya, ravi = make_staff(sb, "Maya Thompson"), make_staff(sb, "Ravi Patel")
    massage = make_service(
        sb, type="APPOINTMENT", name="Sports Massage", price="40", capacity=1, staff=[maya, ravi], duration_minutes=60
    )
    for n in range(weeks * 7):
        day = first_monday + timedelta(days=n)
        if day.weekday() < 6:
            make_working_hours(sb, maya, datetime.combine(day, time(9)), hours=3)
        if day.weekday() in (0, 2):
            make_working_hours(sb, ravi, datetime.combine(day, time(14)), hours=2)
    with wix.get_wix_client() as client:
        report = sync.sync_full(wix=client)
    assert not report.error, report.error
    assert Service.objects.filter(wix_id=massage["id"]).exists()
    return Spa(sb=sb, wix_maya=maya, wix_ravi=ravi, wix_massage=massage)


def spy_on_time_slots(monkeypatch: Any) -> list[dict[str, Any]]:
    """Record every List Availability Time Slots request (its keyword arguments) the app sends."""
    sent: list[dict[str, Any]] = []
    original: Callable[..., dict[str, Any]] = time_slots.list_availability_time_slots

    def spy(client: Any, **kwargs: Any) -> dict[str, Any]:
        sent.append(kwargs)
        return original(client, **kwargs)

    monkeypatch.setattr(time_slots, "list_availability_time_slots", spy)
    return sent
