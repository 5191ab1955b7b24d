"""Packages, read (``selectors.packages``): a booking's package for the roster's badge, Today's
marker, a package's page, and the offered start times less the desk's own bookings."""

from __future__ import annotations

import pytest

from bookings_app import selectors
from bookings_app.models import Booking
from bookings_app.services import desk
from tests import factories
from tests.services.package_world import Spa, build_spa, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def spa(db: None) -> Spa:
    world = build_spa()
    yield world
    world.wix.close()


def test_each_booking_of_a_package_knows_its_place_in_one_query(spa: Spa, desk_user, django_assert_num_queries) -> None:
    package = spa.book(desk_user, spa.customer(), chain=spa.chain(0))
    other = spa.book(desk_user, spa.customer("Bo"), chain=spa.chain(1))
    loose = factories.BookingFactory()
    ids = [*package.items.values_list("booking_id", flat=True), other.items.get(position=3).booking_id, loose.pk]

    with django_assert_num_queries(1):
        found = selectors.booking_packages(booking_ids=ids)

    first, second, third = (found[pk] for pk in ids[:3])
    assert [(i.pk, i.position, i.count) for i in (first, second, third)] == [
        (package.pk, 1, 3),
        (package.pk, 2, 3),
        (package.pk, 3, 3),
    ]
    assert second.label == "Package 2/3"
    assert second.names == ("Sports Massage", "Express Facial", "Classic Manicure")
    assert second.title == "Sports Massage → Express Facial → Classic Manicure"
    assert second.url == f"/packages/{package.pk}/"
    assert found[ids[3]].pk == other.pk and found[ids[3]].position == 3
    assert loose.pk not in found
    assert selectors.booking_packages(booking_ids=[]) == {}


def test_a_cancelled_package_says_so_on_its_bookings(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="LATER")
    desk.package_cancel(user=manager_user, package=package, idempotency_key=key())
    booking_id = package.items.get(position=1).booking_id

    assert selectors.booking_packages(booking_ids=[booking_id])[booking_id].cancelled is True


def test_todays_package_marker_is_one_query_for_the_day(spa: Spa, desk_user, django_assert_num_queries) -> None:
    package = spa.book(desk_user, spa.customer())
    sessions = [b.session_id for b in Booking.objects.filter(package_item__package=package)]
    plain = factories.SessionFactory()

    with django_assert_num_queries(1):
        marked = selectors.package_session_ids(session_ids=[*sessions, plain.pk])

    assert marked == set(sessions)


def test_a_cancelled_package_leaves_no_marker(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="LATER")
    sessions = [b.session_id for b in Booking.objects.filter(package_item__package=package)]
    desk.package_cancel(user=manager_user, package=package, idempotency_key=key())

    assert selectors.package_session_ids(session_ids=sessions) == set()


def test_a_package_page_reads_its_bookings_in_order_in_two_queries(
    spa: Spa, desk_user, django_assert_num_queries
) -> None:
    package = spa.book(desk_user, spa.customer())

    with django_assert_num_queries(2):
        read = selectors.package_read(pk=package.pk)
        names = [i.service.name for i in read.items]
        staff = [i.booking.session.staff.name for i in read.items]

    assert names == ["Sports Massage", "Express Facial", "Classic Manicure"]
    assert set(staff) <= {"Maya Thompson", "Ravi Patel"}
    assert read.state == "Waiting for Wix" and read.state_class == "is-pending"
    assert selectors.package_read(pk=package.pk + 1000) is None


def test_a_package_page_says_what_wix_refused(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer())
    package.action.mark_needs_attention(code="SLOT_NOT_AVAILABLE", message="Taken in Wix — cancel the package.")

    read = selectors.package_read(pk=package.pk)

    assert read.state == "Needs attention" and read.needs_attention
    assert read.message == "Taken in Wix — cancel the package."
    booking_id = package.items.get(position=2).booking_id
    assert selectors.booking_packages(booking_ids=[booking_id])[booking_id].needs_attention is True


def test_offered_times_the_desk_booked_are_dropped(spa: Spa, desk_user, django_assert_num_queries) -> None:
    chains = spa.chains()
    taken = chains[0]
    spa.book(desk_user, spa.customer(), chain=taken)

    with django_assert_num_queries(2):
        left = selectors.package_chains_untaken(chains=chains)

    assert taken not in left
    assert chains[3] in left  # an hour later, nobody's
