"""The appointment week grid and "next available" (``views.appointment_week``), and the book
step's refusal of a time another desk holds (``views.appointment``, 409 with the week again)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from bookings_app import forms, selectors
from bookings_app.models import Booking, DeskAction, Service
from tests import factories
from tests.selectors.appointment_world import (
    NEXT_MONDAY,
    THIS_MONDAY,
    Spa,
    build_spa,
    free_at,
    local,
    spy_on_time_slots,
)
from tests.views.desk_helpers import HTMX

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]
WEEK = reverse("desk_appointment_week")
NEXT = reverse("desk_appointment_next")
BOOK = reverse("desk_appointment")
GRID = {**HTMX, "HX-Target": "appt-week-grid"}


@pytest.fixture(autouse=True)
def fresh_availability():
    selectors.appointment_availability_forget()
    yield
    selectors.appointment_availability_forget()


@pytest.fixture
def spa(desk_clock) -> Spa:
    return build_spa()


def week_page(client, spa: Spa, week=NEXT_MONDAY, **params) -> str:
    response = client.get(WEEK, {"service": spa.massage.pk, "week": week.isoformat(), **params})
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def book_link(content: str, name: str) -> str:
    """The href of the free slot whose accessible name is ``name``."""
    found = re.search(
        r'<a id="slot-[0-9a-f]+" class="button appt-free" href="([^"]+)" aria-label="' + re.escape(name), content
    )
    assert found, f"no free slot {name!r}"
    return found.group(1).replace("&amp;", "&")


def refresh_url(content: str) -> str:
    return re.search(r'<section id="appt-week-grid"[^>]*hx-get="([^"]+)"', content).group(1).replace("&amp;", "&")


# --- access -------------------------------------------------------------------------------------


def test_the_grid_needs_a_signed_in_desk_role(client, no_role_user, spa: Spa) -> None:
    assert client.get(WEEK).status_code == 302
    client.force_login(no_role_user)
    assert client.get(WEEK, {"service": spa.massage.pk}).status_code == 403
    assert client.get(NEXT, {"service": spa.massage.pk}).status_code == 403


def test_today_links_to_the_week_grid(desk_client) -> None:
    content = desk_client.get(reverse("today")).content.decode()

    assert f'href="{WEEK}?week=2026-11-21"' in content and "Appointments week" in content


# --- the grid -------------------------------------------------------------------------------------


def test_without_a_service_the_page_offers_the_appointment_services(desk_client, spa: Spa) -> None:
    factories.ServiceFactory(type=Service.Type.CLASS, name="Dawn swim")

    content = desk_client.get(WEEK, {"week": "2026-11-23"}).content.decode()

    assert f'href="{WEEK}?service={spa.massage.pk}&amp;week=2026-11-23"' in content
    assert "Dawn swim" not in content and "appt-week-grid" not in content


def test_the_week_shows_each_staff_members_free_times_as_buttons_to_book(desk_client, spa: Spa) -> None:
    content = week_page(desk_client, spa)

    assert "Monday 23 November – Sunday 29 November 2026" in content
    assert content.count('class="appt-person"') == 2 and "Maya Thompson" in content and "Ravi Patel" in content
    assert content.count('class="button appt-free"') == 22
    href = book_link(content, "Book Sports Massage with Ravi Patel on Monday 23 November at 14:00")
    query = parse_qs(urlparse(href).query)
    assert urlparse(href).path == BOOK and query["service"] == [str(spa.massage.pk)] and query["day"] == ["2026-11-23"]
    slot = forms.slot_unsign(query["slot"][0])
    assert slot["resource_id"] == spa.ravi.resource_id and slot["start"] == "2026-11-23T14:00:00"
    assert 'aria-label="Next available with Maya Thompson"' in content
    assert f'rel="prev" href="{WEEK}?service={spa.massage.pk}&amp;week=2026-11-16"' in content


def test_a_free_slot_opens_the_customer_and_pay_step_with_that_time(desk_client, spa: Spa) -> None:
    content = week_page(desk_client, spa)
    href = book_link(content, "Book Sports Massage with Maya Thompson on Monday 23 November at 10:00")

    step = desk_client.get(href)

    page = step.content.decode()
    assert step.status_code == 200 and "Customer and payment" in page
    assert "Mon 23 Nov, 10:00–11:00" in page and "with Maya Thompson" in page
    assert f"{WEEK}?service={spa.massage.pk}&amp;week=2026-11-23" in page  # back to the week


def test_the_staff_filter_shows_one_person(desk_client, spa: Spa) -> None:
    content = week_page(desk_client, spa, staff=spa.ravi.pk)

    assert content.count('class="button appt-free"') == 4
    assert "Book Sports Massage with Maya Thompson" not in content
    assert f'href="{NEXT}?service={spa.massage.pk}&amp;staff={spa.ravi.pk}">Next available with Ravi Patel<' in content


def test_booked_appointments_are_shown_taken_with_who_and_not_offered(desk_client, spa: Spa) -> None:
    booking = spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 10), who="Olive Online")

    content = week_page(desk_client, spa)

    assert "Book Sports Massage with Maya Thompson on Monday 23 November at 10:00" not in content
    assert (
        'aria-label="Booked: Olive Online, Sports Massage with Maya Thompson on Monday 23 November at 10:00"' in content
    )
    assert f'href="{reverse("roster", args=[booking.session.ref])}"' in content
    assert "21 free times · 1 booked" in content


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        ({"week": "2026-13-01"}, "Enter a date as YYYY-MM-DD."),
        ({"week": "next week"}, "Enter a date as YYYY-MM-DD."),
        ({"week": "9999-12-31"}, "Choose a day between 2 January 0001 and 30 December 9999."),
        ({"week": "9999-12-28"}, "Choose a week between 8 January 0001 and 20 December 9999."),
        ({"week": "0001-01-02"}, "Choose a week between 8 January 0001 and 20 December 9999."),
        ({"service": "abc"}, "That service is not an appointment."),
        ({"service": "999999"}, "That service is not an appointment."),
        ({"staff": "x"}, "That staff member is not on this desk."),
        ({"staff": "999999"}, "That staff member is not on this desk."),
    ],
)
def test_bad_week_service_or_staff_is_422_with_a_message_and_asks_wix_nothing(
    desk_client, spa: Spa, monkeypatch, params: dict, message: str
) -> None:
    sent = spy_on_time_slots(monkeypatch)

    for url in (WEEK, NEXT):
        response = desk_client.get(url, {"service": spa.massage.pk, **params})
        assert response.status_code == 422, (url, params)
        assert message in response.content.decode()
    assert sent == []


def test_a_class_service_or_someone_who_does_not_give_it_is_422(desk_client, spa: Spa) -> None:
    swim = factories.ServiceFactory(type=Service.Type.CLASS, name="Dawn swim")
    coach = factories.StaffMemberFactory(name="Cora Coach")

    assert desk_client.get(WEEK, {"service": swim.pk}).status_code == 422
    response = desk_client.get(WEEK, {"service": spa.massage.pk, "staff": coach.pk})
    assert response.status_code == 422 and "Cora Coach does not give Sports Massage." in response.content.decode()


@pytest.mark.parametrize("week, says", [("2029-06-04", "up to 2 years ahead"), ("9999-12-20", "up to 2 years ahead")])
def test_a_week_far_ahead_is_shown_without_asking_wix(desk_client, spa: Spa, monkeypatch, week, says) -> None:
    sent = spy_on_time_slots(monkeypatch)

    response = desk_client.get(WEEK, {"service": spa.massage.pk, "week": week})

    assert response.status_code == 200 and says in response.content.decode() and sent == []


def test_a_week_long_past_shows_what_was_booked_then(desk_client, spa: Spa) -> None:
    spa.mirrored_appointment(spa.maya, local(THIS_MONDAY - timedelta(weeks=3), 11), who="Pat Past")

    content = desk_client.get(WEEK, {"service": spa.massage.pk, "week": "2026-10-26"}).content.decode()

    assert "This week is over" in content and "Booked: Pat Past" in content
    assert desk_client.get(WEEK, {"service": spa.massage.pk, "week": "0001-01-08"}).status_code == 200


def test_when_wix_is_down_the_grid_says_so_plainly_and_shows_the_mirrors_bookings(desk_client, spa: Spa) -> None:
    spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 10), who="Olive Online")
    spa.sb.faults.error_5xx_rate = 1.0

    content = week_page(desk_client, spa)

    assert "Wix can&#x27;t be reached to list free times right now" in content
    assert "The grid shows the appointments this desk already knows about" in content and "Try again" in content
    assert "Booked: Olive Online" in content and 'class="button appt-free"' not in content


# --- the refresh (what another desk did, within one refresh) --------------------------------------


def test_the_refresh_is_204_while_nothing_changed_and_the_grid_once_another_desk_booked(
    desk_client, client, desk_user, spa: Spa, monkeypatch
) -> None:
    content = week_page(desk_client, spa)
    poll = refresh_url(content)
    assert "every 4s [" in content
    sent = spy_on_time_slots(monkeypatch)

    assert desk_client.get(poll, headers=GRID).status_code == 204
    assert sent == []  # Wix's answer is kept: a refresh costs a database read

    # Another desk books Monday 10:00 with Maya (local first: not in Wix yet).
    other = factories.UserFactory(username="desk-two", roles=["Front desk"])
    client.force_login(other)
    href = book_link(content, "Book Sports Massage with Maya Thompson on Monday 23 November at 10:00")
    contact = factories.ContactFactory(first_name="Ann", last_name="Archer")
    slot = parse_qs(urlparse(href).query)["slot"][0]
    made = client.post(
        BOOK,
        {
            "service": spa.massage.pk,
            "slot": slot,
            "contact": contact.pk,
            "pay": "CASH",
            "idempotency_key": str(uuid.uuid4()),
        },
    )
    assert made.status_code == 302

    refreshed = desk_client.get(poll, headers=GRID)
    grid = refreshed.content.decode()
    assert refreshed.status_code == 200 and grid.lstrip().startswith('<section id="appt-week-grid"')
    assert "<html" not in grid
    assert "Book Sports Massage with Maya Thompson on Monday 23 November at 10:00" not in grid
    assert (
        "Booked: Ann Archer, Sports Massage with Maya Thompson on Monday 23 November at 10:00 (waiting for Wix)" in grid
    )
    assert desk_client.get(refresh_url(grid), headers=GRID).status_code == 204


# --- the book step refuses a time another desk holds ------------------------------------------------


def _post_book(client, spa: Spa, slot_token: str, **extra) -> object:
    data = {"service": spa.massage.pk, "slot": slot_token, "pay": "", "idempotency_key": str(uuid.uuid4())}
    return client.post(BOOK, {**data, **extra})


def test_booking_a_time_another_desk_just_took_is_409_with_the_week_again_twice_in_a_row(
    desk_client, desk_user, spa: Spa
) -> None:
    grid = spa.grid(NEXT_MONDAY)
    for hour in (10, 11):  # twice in a row: the second refusal works as the first
        free = free_at(grid, spa.maya, local(NEXT_MONDAY, hour))
        token = forms.slot_sign(free.slot)  # desk B's page, rendered before desk A booked
        spa.desk_books(desk_user, free, who=f"First {hour}")
        late = factories.ContactFactory(first_name="Late", last_name=f"Comer{hour}")
        actions = DeskAction.objects.count()

        response = _post_book(desk_client, spa, token, contact=late.pk)

        content = response.content.decode()
        assert response.status_code == 409
        assert "Just booked at another desk — pick another time." in content
        assert f"Maya Thompson is already booked at {hour}:00." in content
        assert '<section id="appt-week-grid"' in content and "Monday 23 November – Sunday 29 November 2026" in content
        assert f"Booked: First {hour}" in content
        assert not Booking.objects.filter(contact=late).exists() and DeskAction.objects.count() == actions

    # The new-customer form is refused the same way, and makes no customer either.
    token = forms.slot_sign(free_at(grid, spa.maya, local(NEXT_MONDAY, 10)).slot)
    response = _post_book(
        desk_client, spa, token, first_name="New", last_name="Person", email="new@example.com", phone=""
    )
    assert response.status_code == 409 and "Just booked at another desk" in response.content.decode()
    assert not DeskAction.objects.filter(kind="CONTACT_CREATE").exists()


def test_booking_a_time_the_mirror_holds_is_409(desk_client, spa: Spa) -> None:
    free = free_at(spa.grid(NEXT_MONDAY), spa.maya, local(NEXT_MONDAY, 9))
    spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 9))

    response = _post_book(desk_client, spa, forms.slot_sign(free.slot), contact=factories.ContactFactory().pk)

    assert response.status_code == 409 and "Maya Thompson is already booked at 09:00." in response.content.decode()


# --- next available ---------------------------------------------------------------------------------


def test_next_available_opens_the_book_step_with_the_earliest_free_time(desk_client, desk_user, spa: Spa) -> None:
    response = desk_client.get(NEXT, {"service": spa.massage.pk})

    assert response.status_code == 302
    query = parse_qs(urlparse(response.url).query)
    assert query["day"] == ["2026-11-21"] and forms.slot_unsign(query["slot"][0])["start"] == "2026-11-21T10:00:00"
    assert "Sat 21 Nov, 10:00–11:00" in desk_client.get(response.url).content.decode()

    # Booked at the desk: the next one is the one after it (twice in a row).
    spa.desk_books(desk_user, free_at(spa.grid(THIS_MONDAY), spa.maya, local(NEXT_MONDAY - timedelta(days=2), 10)))
    again = desk_client.get(NEXT, {"service": spa.massage.pk})
    assert forms.slot_unsign(parse_qs(urlparse(again.url).query)["slot"][0])["start"] == "2026-11-21T11:00:00"

    ravi = desk_client.get(NEXT, {"service": spa.massage.pk, "staff": spa.ravi.pk})
    slot = forms.slot_unsign(parse_qs(urlparse(ravi.url).query)["slot"][0])
    assert slot["start"] == "2026-11-23T14:00:00" and slot["resource_id"] == spa.ravi.resource_id


def test_next_available_says_when_there_is_none_in_the_weeks_ahead(desk_client, spa: Spa) -> None:
    for week in range(3):
        for day in (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=2)):
            for hour in (14, 15):
                spa.mirrored_appointment(spa.ravi, local(day + timedelta(weeks=week), hour))

    response = desk_client.get(NEXT, {"service": spa.massage.pk, "staff": spa.ravi.pk})

    content = response.content.decode()
    assert response.status_code == 200 and "No free time with Ravi Patel in the next 8 weeks." in content
    assert '<section id="appt-week-grid"' in content


def test_next_available_when_wix_is_down_says_so(desk_client, spa: Spa) -> None:
    spa.sb.faults.error_5xx_rate = 1.0

    response = desk_client.get(NEXT, {"service": spa.massage.pk})

    assert response.status_code == 200 and "Wix can&#x27;t be reached" in response.content.decode()


def test_next_available_needs_a_service(desk_client, spa: Spa) -> None:
    response = desk_client.get(NEXT)

    assert response.status_code == 422 and "Choose a service." in response.content.decode()


def test_the_grid_costs_the_same_queries_however_many_are_booked(
    desk_client, spa: Spa, django_assert_max_num_queries
) -> None:
    week_page(desk_client, spa)  # Wix's answer is kept from here on
    spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 9))
    with django_assert_max_num_queries(12) as few:
        week_page(desk_client, spa)
    for day in range(1, 6):
        for hour in (9, 10, 11):
            spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY + timedelta(days=day), hour))
    with django_assert_max_num_queries(len(few.captured_queries)):
        content = week_page(desk_client, spa)
    assert "16 booked" in content
