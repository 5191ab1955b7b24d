"""The owes list's three outputs pinned on a small mixed fixture: the CSV export byte for byte, the
printed reminders and the screen's rows exactly as drawn. The list is read from plain values and
drawn without model instances for speed (``selectors.owes``); this holds it to what it said
before that was so: the same people in the same order, the same amounts, links and cells.

The fixture, this week (``NOW`` is Saturday 21 Nov 2026, 09:00 UTC): Ann owes for two people on
Monday's swim and for Thursday's lane swim (a no-show, marked "pays later"); Bob for Monday's swim
too (the same oldest start as Ann: the lower contact first); Cy (a name that would be a formula)
part paid Tuesday's yoga (an order's balance; the session has no title of its own); Dee and Eve
share one order for Thursday (owed once, by Dee's booking, the older); Finn is on a course whose
first session is Wednesday (a course booking, no session of its own, no email or phone); Hal's
payment at the desk is on its way to Wix. Gus paid, and Sunday's class has not begun."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bookings_app.models import Attendance, Booking, DeskAction, Service
from tests import factories
from tests.views.desk_helpers import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]

MONDAY = NOW.replace(hour=0) - timedelta(days=5)


def _at(day: int, hour: int, minute: int = 0):
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def _who(first: str, last: str, email: str | None = None, phone: str = "") -> factories.ContactFactory:
    email = f"{first}.{last}@example.com".lower() if email is None else email
    return factories.ContactFactory(first_name=first, last_name=last, email=email, phone=phone)


@pytest.fixture
def mixed() -> dict[str, object]:
    swim = factories.ServiceFactory(name="Open water", price=Decimal("12.00"))
    yoga = factories.ServiceFactory(name="Yoga", price=Decimal("8.50"))
    course = factories.ServiceFactory(name="Learn to swim", price=Decimal("60.00"), type=Service.Type.COURSE)
    monday = factories.SessionFactory(service=swim, start=_at(0, 7), title="Open water")
    tuesday = factories.SessionFactory(service=yoga, start=_at(1, 18, 30), title="")
    thursday = factories.SessionFactory(service=swim, start=_at(3, 7), title="Lane swim")
    factories.SessionFactory(service=course, start=_at(2, 10), title="Learn to swim")
    factories.SessionFactory(service=course, start=_at(9, 10), title="Learn to swim")
    sunday = factories.SessionFactory(service=swim, start=_at(6, 18), title="Open water")

    ann = _who("Ann", "Archer", phone="+44 7700 100001")
    bob = _who("Bob", "Baker", phone="+44 7700 100002")
    cy = _who("=cmd", "Hacker", email="cy@example.com")
    dee, eve = _who("Dee", "Dent"), _who("Eve", "Dent")
    finn = _who("Finn", "Fisher", email="")
    hal = _who("Hal", "Hale", phone="+44 7700 100008")

    booked = {
        "ann_mon": factories.BookingFactory(session=monday, contact=ann, total_participants=2),
        "bob_mon": factories.BookingFactory(session=monday, contact=bob),
        "ann_thu": factories.BookingFactory(session=thursday, contact=ann),
        "cy_tue": factories.BookingFactory(session=tuesday, contact=cy, payment_status="PARTIALLY_PAID"),
        "dee_thu": factories.BookingFactory(session=thursday, contact=dee),
        "eve_thu": factories.BookingFactory(session=thursday, contact=eve),
        "finn_course": factories.BookingFactory(session=None, service=course, contact=finn),
        "hal_tue": factories.BookingFactory(session=tuesday, contact=hal),
    }
    factories.BookingFactory(session=monday, contact=_who("Gus", "Grey"), payment_status="PAID")
    factories.BookingFactory(session=sunday, contact=bob)
    factories.OrderLineItemFactory(booking=booked["cy_tue"], order__balance=Decimal("3.25"))
    family = factories.OrderFactory(balance=Decimal("19.75"), contact=dee)
    factories.OrderLineItemFactory(booking=booked["dee_thu"], order=family)
    factories.OrderLineItemFactory(booking=booked["eve_thu"], order=family)
    factories.AttendanceFactory(booking=booked["ann_thu"], session=thursday, status=Attendance.Status.NOT_ATTENDED)
    factories.DeskActionFactory(
        booking=booked["ann_thu"], kind=DeskAction.Kind.PAY_LATER, status=DeskAction.Status.SYNCED, params={}
    )
    factories.DeskActionFactory(
        booking=booked["hal_tue"],
        status=DeskAction.Status.QUEUED,
        params={"method": "CASH", "amount": "3.00", "full": False, "due": "8.50"},
    )
    return booked


def _placeholders(text: str, booked: dict[str, Booking]) -> str:
    """The fixture's ids (which differ from run to run) as ``{name}``, ``{name.contact}``, ``{name.session}``."""
    for name, booking in booked.items():
        contact = f"{{{name}.contact}}"
        where = rf'(debtor-|data-person="|data-of="|/customers/){booking.contact_id}(?=["/])'
        text = re.sub(where, rf"\g<1>{contact}", text)
        if booking.session_id:
            text = text.replace(f"/{booking.session.ref}/", f"/{{{name}.session}}/")
    for name, booking in booked.items():
        text = re.sub(rf"((?<=[-:,=])|(?<=value=\")){booking.pk}(?=[\",&])", f"{{{name}}}", text)
    return text


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start)) + len(end)]


DATA = Path(__file__).resolve().parent.parent / "data" / "owes_output"


def _outputs(client, booked) -> dict[str, bytes]:
    week = {"range": "this_week"}
    exported = client.get(reverse("owes_export"), {**week, "format": "csv"})
    workbook = load_workbook(io.BytesIO(b"".join(client.get(reverse("owes_export"), {**week, "format": "xlsx"}))))
    cells = "\n".join(repr([cell.value for cell in row]) for row in workbook.active.iter_rows())
    printed = client.get(reverse("owes_print"), week).content.decode()
    screen = client.get(reverse("owes"), week).content.decode()
    return {
        "export.csv": b"".join(exported.streaming_content),
        "export.xlsx.txt": cells.encode(),
        "print.html": _placeholders(_between(printed, '<table class="reminders">', "</table>"), booked).encode(),
        "screen.html": _placeholders(
            _between(screen, '<tbody class="debtor"', "</tbody>\n  </table>"), booked
        ).encode(),
        "summary.html": _between(screen, '<p class="owes-summary">', "</p>").encode(),
    }


@pytest.mark.parametrize("name", ["export.csv", "export.xlsx.txt", "print.html", "screen.html", "summary.html"])
def test_the_owes_outputs_are_what_they_were(manager_client, mixed, name) -> None:
    got = _outputs(manager_client, mixed)[name]
    if os.environ.get("OWES_OUTPUT_WRITE"):  # to record them again, on purpose
        (DATA / name).write_bytes(got)
    assert got == (DATA / name).read_bytes()
