"""One booking's change page (``views/booking_change.py``): reschedule, cancel with the policy and
its permissions, move off the waiting list (there and from the roster's waiting list) — each twice
in a row, a form sent twice acting once, bad ids 404, bad input 422, refusals 409 / 403, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings_app.models import AuditEntry, Booking, DeskAction, Service, Session
from tests import factories
from tests.views.desk_helpers import HTMX, NOW, key, person, reload, roster, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]

Kind = DeskAction.Kind
POLICY = {
    "cancellationPolicy": {"enabled": True, "limitLatestCancellation": True, "latestCancellationInMinutes": 120},
    "reschedulePolicy": {"enabled": True, "limitLatestReschedule": True, "latestRescheduleInMinutes": 1440},
    "customPolicyDescription": {"enabled": True, "description": "Give us two hours' notice, please."},
}


@pytest.fixture
def later(session: Session) -> Session:
    """Tomorrow's session of the same class, two places."""
    return factories.SessionFactory(
        service=session.service, start=session.start + timedelta(days=1), title=session.title, capacity=2
    )


@pytest.fixture
def full(session: Session) -> Session:
    """The day after's session, its one place taken."""
    full = factories.SessionFactory(
        service=session.service, start=session.start + timedelta(days=2), title=session.title, capacity=1
    )
    person(full, "Fay", "Full")
    return full


def change(session: Session, booking: Booking, name: str = "booking_change") -> str:
    return reverse(name, args=[session.ref, booking.pk])


def walk_in_today(session: Session, first: str, last: str, **fields) -> Booking:
    """A walk-in the desk booked a moment ago, in Wix already, nothing paid."""
    booking = person(session, first, last, payment_status="UNDEFINED", **fields)
    factories.DeskActionFactory(booking=booking, kind=Kind.WALK_IN, status=DeskAction.Status.SYNCED, params={})
    return booking


# --- the page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_booking_the_policy_and_where_it_can_move(manager_client, session, later, full):
    Service.objects.filter(pk=session.service_id).update(raw={"bookingPolicy": POLICY})
    booking = person(session, "Jo", "Jones")

    response = manager_client.get(change(session, booking))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Jo Jones" in page
    assert "Give us two hours&#x27; notice, please." in page
    assert "Customers may cancel online until 2 hours before the start." in page
    assert "It is past that time for this booking" in page  # the session starts in an hour
    assert "Customers may move a booking online until 24 hours before the start." in page
    assert f'value="{later.pk}"' in page and "2 places left" in page
    assert f'value="{full.pk}" disabled' in page and "Full" in page
    assert f'value="{session.pk}"' not in page
    assert "Nothing has been paid: there is nothing to refund." in page
    assert ">Cancel the booking</button>" in page
    assert "Cancel and refund" not in page  # nothing the desk took to refund


def test_the_page_says_plainly_that_cancelling_does_not_refund(manager_client, session):
    booking = person(session, "Pat", "Paid", payment_status="PAID")
    factories.DeskActionFactory(
        booking=booking, kind=Kind.PAYMENT, status=DeskAction.Status.SYNCED, params={"method": "CASH", "amount": "12"}
    )

    as_manager = manager_client.get(change(session, booking)).content.decode()

    assert "Cancelling does not refund:</strong> the money stays taken." in as_manager
    assert "£12.00 cash" in as_manager
    assert "Cancel and refund" in as_manager


def test_front_desk_is_told_why_it_may_not_cancel_and_offered_no_button(desk_client, session):
    online = person(session, "Ona", "Line")

    page = desk_client.get(change(session, online)).content.decode()

    assert "Only a manager can cancel this booking" in page and "booked online" in page
    assert ">Cancel the booking</button>" not in page


def test_a_course_booking_page_says_it_cannot_move(desk_client):
    course = factories.ServiceFactory(type=Service.Type.COURSE, name="Learn to Swim")
    session = factories.SessionFactory(service=course, start=NOW + timedelta(days=1))
    booking = factories.BookingFactory(session=None, service=course)

    response = desk_client.get(change(session, booking))

    assert response.status_code == 200
    assert "A course booking is for the whole course" in response.content.decode()


def test_an_appointment_whose_times_wix_cannot_give_says_so(desk_client):
    massage = factories.ServiceFactory(type=Service.Type.APPOINTMENT, name="Massage", wix_id="not-in-the-sandbox")
    session = factories.SessionFactory(service=massage, start=NOW + timedelta(days=1), capacity=1)
    booking = person(session, "Kim", "Knead")

    response = desk_client.get(change(session, booking) + "?day=2026-11-23")

    assert response.status_code == 200
    assert "Wix can&#x27;t be reached to list free slots" in response.content.decode()
    assert desk_client.get(change(session, booking) + "?day=23-11-2026").status_code == 422


def test_a_booking_in_a_package_points_to_the_package_and_offers_no_move_or_cancel(manager_client):
    item = factories.PackageItemFactory(position=2, service__name="Facial", booking__wix_id="wix-facial")
    factories.PackageItemFactory(package=item.package, position=1, service__name="Massage")
    session = factories.SessionFactory(service=item.service, start=NOW + timedelta(days=1))
    item.booking.session = session
    item.booking.save()

    content = manager_client.get(change(session, item.booking)).content.decode()

    package = reverse("package", args=[item.package.pk])
    assert "This booking is 2 of 2 in a package (Massage → Facial)" in content
    assert f'cancel the whole package from <a href="{package}">its page</a>' in content
    assert "Cancel the booking</button>" not in content and "Wix can&#x27;t be reached" not in content


@pytest.mark.parametrize("name", ["booking_change", "booking_reschedule", "booking_cancel", "booking_promote"])
def test_bad_ids_are_404(manager_client, session, later, name):
    booking = person(session, "Jo", "Jones")
    other = person(later, "Al", "Other")
    method = manager_client.get if name == "booking_change" else manager_client.post
    data = {} if name == "booking_change" else {"idempotency_key": key(), "session": later.pk}

    assert method(reverse(name, args=["no-such-session", booking.pk]), data).status_code == 404
    assert method(reverse(name, args=[session.ref, 999999]), data).status_code == 404
    huge = reverse(name, args=[session.ref, 1]).replace("/bookings/1/", f"/bookings/{2**70}/")  # reverse() refuses it
    assert method(huge, data).status_code == 404
    assert method(reverse(name, args=[session.ref, other.pk]), data).status_code == 404
    assert not DeskAction.objects.exists()


@pytest.mark.parametrize("name", ["booking_change", "booking_reschedule", "booking_cancel", "booking_promote"])
def test_login_and_the_front_desk_role_are_required(client, no_role_user, session, name):
    booking = person(session, "Jo", "Jones")
    target = change(session, booking, name)
    method = client.get if name == "booking_change" else client.post

    assert method(target).status_code == 302  # to the sign-in page
    client.force_login(no_role_user)
    assert method(target).status_code == 403


# --- reschedule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This form is out of date"),
        ({"idempotency_key": "short"}, "This form is out of date"),
        ({"idempotency_key": key()}, "Choose where to move the booking."),
        ({"idempotency_key": key(), "session": "tomorrow"}, "Choose a session from the list."),
        ({"idempotency_key": key(), "session": "999999"}, "not on offer any more"),
        ({"idempotency_key": key(), "slot": "forged"}, "no longer on offer"),
    ],
)
def test_reschedule_bad_input_is_422_and_changes_nothing(desk_client, session, later, data, message):
    booking = person(session, "Jo", "Jones")

    response = desk_client.post(change(session, booking, "booking_reschedule"), data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert reload(booking).session_id == session.pk and not DeskAction.objects.exists()


def test_reschedule_into_a_full_session_is_409_with_the_reason(desk_client, session, full):
    booking = person(session, "Jo", "Jones")

    response = desk_client.post(
        change(session, booking, "booking_reschedule"), {"idempotency_key": key(), "session": full.pk}
    )

    assert response.status_code == 409
    assert "is full: 1 of 1 places are taken, 0 left." in response.content.decode()
    assert reload(booking).session_id == session.pk and not DeskAction.objects.exists()


def test_reschedule_two_bookings_in_a_row_each_lands_on_the_new_roster(desk_client, session, later):
    jo, al = person(session, "Jo", "Jones"), person(session, "Al", "Abel")

    for booking in (jo, al):
        response = desk_client.post(
            change(session, booking, "booking_reschedule"), {"idempotency_key": key(), "session": later.pk}
        )
        assert response.status_code == 302
        assert response["Location"] == f"{url('roster', later)}#booking-{booking.pk}"

    new_roster, old_roster = roster(desk_client, later), roster(desk_client, session)
    assert "Jo Jones" in new_roster and "Al Abel" in new_roster
    assert "Jo Jones" not in old_roster and "Al Abel" not in old_roster
    assert "Undo reschedule" in new_roster
    assert DeskAction.objects.filter(kind=Kind.RESCHEDULE).count() == 2
    assert AuditEntry.objects.filter(action="booking.reschedule").count() == 2


def test_the_same_reschedule_form_sent_twice_moves_once(desk_client, session, later):
    booking = person(session, "Jo", "Jones")
    form = {"idempotency_key": key(), "session": later.pk}

    first = desk_client.post(change(session, booking, "booking_reschedule"), form)
    again = desk_client.post(change(session, booking, "booking_reschedule"), form, headers=HTMX)

    assert first.status_code == 302
    assert again.status_code == 200 and again["HX-Redirect"] == f"{url('roster', later)}#booking-{booking.pk}"
    assert DeskAction.objects.filter(kind=Kind.RESCHEDULE).count() == 1


def test_a_course_booking_reschedule_post_is_refused(desk_client, later):
    course = factories.ServiceFactory(type=Service.Type.COURSE)
    session = factories.SessionFactory(service=course, start=NOW + timedelta(days=1))
    other = factories.SessionFactory(service=course, start=NOW + timedelta(days=8))
    booking = factories.BookingFactory(session=None, service=course)

    response = desk_client.post(
        change(session, booking, "booking_reschedule"), {"idempotency_key": key(), "session": other.pk}
    )

    assert response.status_code == 409
    assert "is for the whole course, so it can&#x27;t move to another session" in response.content.decode()
    assert reload(booking).session_id is None and not DeskAction.objects.exists()


# --- cancel ---------------------------------------------------------------------------------------------


def test_front_desk_cancels_two_walk_ins_in_a_row_and_sees_undo(desk_client, session):
    first, second = walk_in_today(session, "Wal", "One"), walk_in_today(session, "Wal", "Two")
    booked = lambda: Session.objects.get(pk=session.pk).bookings.filter(status="CONFIRMED").count()  # noqa: E731
    assert booked() == 2

    for booking in (first, second):
        response = desk_client.post(change(session, booking, "booking_cancel"), {"idempotency_key": key()})
        assert response.status_code == 302 and response["Location"] == change(session, booking)
        page = desk_client.get(response["Location"]).content.decode()
        assert "Undo cancel booking" in page and "This booking is cancelled." in page

    assert booked() == 0
    assert {reload(b).status for b in (first, second)} == {Booking.Status.CANCELED}
    assert DeskAction.objects.filter(kind=Kind.CANCEL_BOOKING).count() == 2


def test_front_desk_may_not_cancel_an_online_booking_403(desk_client, session):
    online = person(session, "Ona", "Line")

    response = desk_client.post(change(session, online, "booking_cancel"), {"idempotency_key": key()})

    assert response.status_code == 403
    assert "Only a manager can cancel this booking" in response.content.decode()
    assert reload(online).status == Booking.Status.CONFIRMED
    assert not DeskAction.objects.filter(kind=Kind.CANCEL_BOOKING).exists()


def test_a_manager_cancels_any_booking_and_a_form_sent_twice_cancels_once(manager_client, session):
    online = person(session, "Ona", "Line")
    form = {"idempotency_key": key()}

    first = manager_client.post(change(session, online, "booking_cancel"), form)
    again = manager_client.post(change(session, online, "booking_cancel"), form, headers=HTMX)
    other_form = manager_client.post(change(session, online, "booking_cancel"), {"idempotency_key": key()})

    assert first.status_code == 302
    assert again.status_code == 200 and again["HX-Redirect"] == change(session, online)
    assert other_form.status_code == 409 and "booking is cancelled" in other_form.content.decode()
    assert DeskAction.objects.filter(kind=Kind.CANCEL_BOOKING).count() == 1


def test_cancel_bad_input_is_422(manager_client, session):
    booking = person(session, "Jo", "Jones")

    response = manager_client.post(change(session, booking, "booking_cancel"), {"idempotency_key": "x"})

    assert response.status_code == 422
    assert reload(booking).status == Booking.Status.CONFIRMED


# --- the waiting list ------------------------------------------------------------------------------------


def test_the_roster_lists_the_waiting_list_in_order_with_move_into_place(desk_client, later):
    second = person(later, "Sue", "Second", status="WAITING_LIST", wix_created_at=NOW - timedelta(hours=1))
    first = person(later, "Fred", "First", status="WAITING_LIST", wix_created_at=NOW - timedelta(hours=2))
    person(later, "Gus", "Group", status="WAITING_LIST", total_participants=3)

    page = roster(desk_client, later)

    section = page[page.index('id="waiting-list"') : page.index("</section>", page.index('id="waiting-list"'))]
    assert section.index("Fred First") < section.index("Sue Second") < section.index("Gus Group")
    assert "2 places free now" in section
    assert 'aria-label="Move Fred First into a place"' in section
    assert 'disabled title="No free place for Gus Group"' in section
    assert change(later, first) in section and change(later, second) in section


def test_no_waiting_list_no_section(desk_client, session):
    person(session, "Jo", "Jones")

    assert 'id="waiting-list"' not in roster(desk_client, session)


def test_promote_two_in_a_row_then_the_full_session_refuses_the_third(desk_client, later):
    waiting = [person(later, name, "Wait", status="WAITING_LIST") for name in ("Ann", "Ben", "Cat")]

    for booking in waiting[:2]:
        response = desk_client.post(
            change(later, booking, "booking_promote"), {"idempotency_key": key(), "from": "waiting-list"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"{url('roster', later)}#booking-{booking.pk}"
    refused = desk_client.post(
        change(later, waiting[2], "booking_promote"), {"idempotency_key": key(), "from": "waiting-list"}, headers=HTMX
    )

    assert [reload(b).status for b in waiting] == ["CONFIRMED", "CONFIRMED", "WAITING_LIST"]
    assert refused.status_code == 409
    body = refused.content.decode()
    assert body.lstrip().startswith('<section id="waiting-list"')
    assert "No free place for Cat Wait: 2 of 2 places are taken, 0 left." in body
    assert DeskAction.objects.filter(kind=Kind.WAITLIST_PROMOTE).count() == 2


def test_promote_sent_twice_moves_once_and_bad_input_is_422(desk_client, later):
    booking = person(later, "Wes", "Wait", status="WAITING_LIST")
    form = {"idempotency_key": key()}

    first = desk_client.post(change(later, booking, "booking_promote"), form, headers=HTMX)
    again = desk_client.post(change(later, booking, "booking_promote"), form)
    bad = desk_client.post(change(later, booking, "booking_promote"), {"idempotency_key": ""})

    assert first.status_code == 200 and first["HX-Redirect"] == f"{url('roster', later)}#booking-{booking.pk}"
    assert again.status_code == 302
    assert bad.status_code == 422
    assert DeskAction.objects.filter(kind=Kind.WAITLIST_PROMOTE).count() == 1


def test_promote_of_someone_not_waiting_is_409_on_the_change_page(desk_client, later):
    booking = person(later, "Con", "Firmed")

    response = desk_client.post(change(later, booking, "booking_promote"), {"idempotency_key": key()})

    assert response.status_code == 409
    assert "Con Firmed is not on the waiting list" in response.content.decode()


def test_the_customer_card_links_each_booking_to_its_change_page(desk_client, session):
    booking = person(session, "Jo", "Jones")
    cancelled = factories.BookingFactory(session=session, contact=booking.contact, status="CANCELED")

    page = desk_client.get(reverse("customer_card", args=[booking.contact.pk])).content.decode()

    assert f'href="{change(session, booking)}"' in page
    assert change(session, cancelled) not in page


def test_an_appointment_is_offered_only_times_free_in_wix_and_on_the_desk(manager_client, time_machine):
    from bookings_app.services import desk
    from tests.services.conftest import add_appointments, build_world, tomorrow_at
    from tests.services.conftest import key as service_key

    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    world = build_world()
    massage = add_appointments(world)
    kim, lee = world.customer("Kim"), world.customer("Lee")
    world.mirror(kim, lee)
    service = Service.objects.get(wix_id=massage["id"])
    day = tomorrow_at(9).date()
    slots = desk.appointment_slots(wix=world.wix, service=service, day=day)
    user = factories.UserFactory(username="maker")
    booking = desk.walk_in_create(
        user=user, contact=world.contact(kim), service=service, slot=slots[0], idempotency_key=service_key()
    )
    world.push()
    # Another desk books Lee at the fourth time: not in Wix yet.
    desk.walk_in_create(
        user=user, contact=world.contact(lee), service=service, slot=slots[3], idempotency_key=service_key()
    )
    booking.refresh_from_db()

    page = manager_client.get(change(booking.session, booking) + f"?day={day:%Y-%m-%d}").content.decode()

    assert "Free times" in page
    assert f"<strong>{slots[2]['start'][11:16]}</strong>" in page
    assert f"<strong>{slots[3]['start'][11:16]}</strong>" not in page
    world.wix.close()
