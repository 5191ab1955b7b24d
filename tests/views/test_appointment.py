"""The Book appointment screen: service → day → a free time → customer → pay."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings_app import forms
from bookings_app.models import (
    Booking,
    Service,
)
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from tests import factories
from tests.views.desk_helpers import (
    NOW,
    key,
    roster,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]


@pytest.fixture
def massage() -> Service:
    return factories.ServiceFactory(type=Service.Type.APPOINTMENT, name="Massage", price=Decimal("40.00"))


SLOT = {
    "start": "2026-11-21T14:00:00",
    "end": "2026-11-21T15:00:00",
    "resource_id": "res-1",
    "staff_name": "Sam Staff",
    "location_id": "loc-1",
    "location_name": "Spa",
    "location_type": "BUSINESS",
    "timezone": "Europe/London",
    "schedule_id": "sch-of-the-slot",  # TimeSlot.scheduleId, carried to Create Booking
}


def test_today_links_to_book_appointment(desk_client):
    assert f'href="{reverse("desk_appointment")}' in desk_client.get(reverse("today")).content.decode()


def test_book_appointment_starts_with_the_services(desk_client, massage):
    content = desk_client.get(reverse("desk_appointment")).content.decode()

    assert "Massage" in content and f"?service={massage.pk}&amp;day=2026-11-21" in content


def test_book_appointment_lists_the_free_slots_of_the_day(desk_client, massage, monkeypatch):
    asked = []
    monkeypatch.setattr(desk, "appointment_slots", lambda **kw: asked.append(kw) or [SLOT])

    content = desk_client.get(
        reverse("desk_appointment"), {"service": massage.pk, "day": "2026-11-21"}
    ).content.decode()

    assert asked[0]["service"] == massage and str(asked[0]["day"]) == "2026-11-21"
    assert ">14:00<" in content and "Sam Staff" in content and "&amp;slot=" in content


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_day_at_the_end_of_the_calendar_is_refused_with_a_message_not_a_500(desk_client, massage, monkeypatch, day):
    asked = []
    monkeypatch.setattr(desk, "appointment_slots", lambda **kw: asked.append(kw) or [])

    response = desk_client.get(reverse("desk_appointment"), {"service": massage.pk, "day": day})

    assert response.status_code == 422
    assert "Choose a day between 2 January 0001 and 30 December 9999." in response.content.decode()
    assert not asked  # Wix is not asked about a day that is refused


def test_book_appointment_says_when_wix_cannot_list_slots(desk_client, massage, monkeypatch):
    def unreachable(**kw):
        raise BookingError("Wix can't be reached to list free slots right now.", code="wix_unreachable")

    monkeypatch.setattr(desk, "appointment_slots", unreachable)

    content = desk_client.get(reverse("desk_appointment"), {"service": massage.pk}).content.decode()

    assert "Wix can&#x27;t be reached to list free slots right now." in content and "Try again" in content


def test_book_appointment_for_a_known_customer_and_pay_cash(desk_client, massage):
    contact = factories.ContactFactory(first_name="Ann", last_name="Archer")
    token = forms.slot_sign(SLOT)
    page = desk_client.get(
        reverse("desk_appointment"), {"service": massage.pk, "day": "2026-11-21", "slot": token, "q": "archer"}
    ).content.decode()
    assert "Ann Archer" in page and "Book · Cash £40.00" in page

    response = desk_client.post(
        reverse("desk_appointment"),
        {
            "service": massage.pk,
            "day": "2026-11-21",
            "slot": token,
            "contact": contact.pk,
            "pay": "CASH",
            "idempotency_key": key(),
        },
    )

    booking = Booking.objects.get(contact=contact)
    assert booking.session.start == datetime(2026, 11, 21, 14, 0, tzinfo=UTC) and booking.payment_status == "PAID"
    walk_in = booking.desk_actions.get(kind="WALK_IN")
    assert walk_in.params["slot"]["schedule_id"] == "sch-of-the-slot" == booking.session.schedule_id
    assert response.status_code == 302 and response.url == f"{url('roster', booking.session)}#booking-{booking.pk}"
    assert "Added Ann Archer — paid cash — Massage, 14:00." in desk_client.get(response.url).content.decode()


def test_book_appointment_for_a_new_customer_with_errors_next_to_the_fields(desk_client, massage):
    data = {
        "service": massage.pk,
        "slot": forms.slot_sign(SLOT),
        "first_name": "",
        "email": "x",
        "idempotency_key": key(),
    }

    response = desk_client.post(reverse("desk_appointment"), data)

    assert response.status_code == 422
    content = response.content.decode()
    assert "Enter a first name." in content and "Enter an email like name@example.com." in content
    assert '<details class="new-customer" open>' in content
    assert not Booking.objects.exists()


def test_a_tampered_slot_is_422(desk_client, massage):
    response = desk_client.get(reverse("desk_appointment"), {"service": massage.pk, "slot": "forged"})

    assert response.status_code == 422
    assert "That time is no longer on offer: pick a time again." in response.content.decode()


def test_a_taken_slot_is_409(desk_client, massage):
    token = forms.slot_sign(SLOT)
    first, second = factories.ContactFactory(), factories.ContactFactory()
    base = {"service": massage.pk, "slot": token, "pay": ""}
    desk_client.post(reverse("desk_appointment"), {**base, "contact": first.pk, "idempotency_key": key()})

    response = desk_client.post(reverse("desk_appointment"), {**base, "contact": second.pk, "idempotency_key": key()})

    assert response.status_code == 409 and "already booked at 14:00" in response.content.decode()
    assert not Booking.objects.filter(contact=second).exists()


def test_an_appointment_roster_links_to_booking_another(desk_client, massage):
    appointment = factories.SessionFactory(service=massage, start=NOW)

    content = roster(desk_client, appointment)

    assert "Book another appointment" in content and "walk-in-panel" not in content


def test_the_day_view_does_not_offer_a_time_another_desk_just_booked(desk_client, desk_user, monkeypatch):
    from bookings_app import selectors
    from tests.selectors.appointment_world import NEXT_MONDAY, build_spa, free_at, local

    selectors.appointment_availability_forget()
    spa = build_spa()
    day = {"service": spa.massage.pk, "day": NEXT_MONDAY.isoformat()}
    before = desk_client.get(reverse("desk_appointment"), day).content.decode()
    assert before.count('class="button slot"') == 5  # Maya 09–11, Ravi 14–15

    spa.desk_books(desk_user, free_at(spa.grid(NEXT_MONDAY), spa.maya, local(NEXT_MONDAY, 10)))
    after = desk_client.get(reverse("desk_appointment"), day).content.decode()

    assert after.count('class="button slot"') == 4
    assert "<strong>10:00</strong>" not in after and "<strong>09:00</strong>" in after
    selectors.appointment_availability_forget()
