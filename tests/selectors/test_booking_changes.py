"""The booking change page's reads and the waiting list (``selectors/booking_changes.py``): the
service's policy as Wix sends it, where a booking can move with the places left, its money — a
fixed number of queries whatever the number of sessions or people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import Booking, DeskAction, Service
from tests import factories

pytestmark = pytest.mark.django_db

Kind = DeskAction.Kind


def test_the_policy_is_read_from_the_mirrored_service() -> None:
    service = factories.ServiceFactory(
        raw={
            "bookingPolicy": {
                "cancellationPolicy": {
                    "enabled": True,
                    "limitLatestCancellation": True,
                    "latestCancellationInMinutes": 1440,
                },
                "reschedulePolicy": {"enabled": False},
                "cancellationFeePolicy": {"enabled": True},
                "customPolicyDescription": {"enabled": True, "description": " Call us. "},
            }
        }
    )
    start = timezone.now() + timedelta(hours=30)

    policy = selectors.service_policy(service)

    assert policy.cancel_rule() == "Customers may cancel online until 24 hours before the start."
    assert policy.reschedule_rule() == "Customers can't move this booking online: only the business does."
    assert (policy.description, policy.cancellation_fee) == ("Call us.", True)
    assert not policy.cancel_late(start, timezone.now())
    assert policy.cancel_late(start, start - timedelta(hours=23))


@pytest.mark.parametrize(
    "raw",
    [{}, {"bookingPolicy": "odd"}, {"bookingPolicy": {"cancellationPolicy": {"latestCancellationInMinutes": "x"}}}],
)
def test_a_missing_or_odd_policy_is_said_so_never_guessed(raw) -> None:
    policy = selectors.service_policy(factories.ServiceFactory(raw=raw))

    assert policy.cancel_rule() == "No cancellation policy is set for this service in Wix."
    assert not policy.cancel_late(timezone.now(), timezone.now())


def test_the_change_read_costs_the_same_however_many_sessions(django_assert_num_queries) -> None:
    now = timezone.now()
    session = factories.SessionFactory(start=now + timedelta(hours=1), capacity=3)
    booking = factories.BookingFactory(session=session, payment_status="PAID")
    for day in range(1, 25):
        other = factories.SessionFactory(service=session.service, start=now + timedelta(days=day), capacity=2)
        factories.BookingFactory(session=other)
    factories.SessionFactory(service=session.service, start=now + timedelta(days=3), status="CANCELLED")
    factories.SessionFactory(service=session.service, start=now - timedelta(days=1))
    factories.DeskActionFactory(booking=booking, status=DeskAction.Status.SYNCED)
    booking = Booking.objects.select_related("contact", "service", "session").get(pk=booking.pk)

    # sessions, attendance, live changes, desk money, order payments, the walk-in
    with django_assert_num_queries(6):
        read = selectors.booking_change_read(booking=booking, now=now)

    assert len(read.sessions) == selectors.booking_changes.RESCHEDULE_CHOICES
    assert all(s.free == 1 for s in read.sessions)
    assert [s.start for s in read.sessions] == sorted(s.start for s in read.sessions)
    assert [a.kind for a in read.money.reversible] == [Kind.PAYMENT]
    assert read.walk_in is None and not read.checked_in


def test_the_waiting_list_in_joining_order_in_one_query(django_assert_num_queries) -> None:
    now = timezone.now()
    session = factories.SessionFactory(start=now + timedelta(hours=1), capacity=3)
    factories.BookingFactory(session=session, total_participants=2)
    late = factories.BookingFactory(session=session, status="WAITING_LIST", wix_created_at=now)
    early = factories.BookingFactory(session=session, status="WAITING_LIST", wix_created_at=now - timedelta(hours=1))
    group = factories.BookingFactory(session=session, status="WAITING_LIST", total_participants=2, wix_created_at=None)
    factories.BookingFactory(session=session, status="CANCELED")
    session = selectors.session_get(ref=session.ref)

    with django_assert_num_queries(1):
        waiting = selectors.waitlist_read(session=session)

    assert [(e.booking.pk, e.position, e.fits) for e in waiting.entries] == [
        (early.pk, 1, True),
        (late.pk, 2, True),
        (group.pk, 3, False),
    ]
    assert waiting.free == 1


def test_a_course_waiting_list_counts_the_course_places() -> None:
    course = factories.ServiceFactory(type=Service.Type.COURSE, default_capacity=1)
    session = factories.SessionFactory(service=course, capacity=None)
    factories.BookingFactory(session=None, service=course, status="WAITING_LIST")

    waiting = selectors.waitlist_read(session=selectors.session_get(ref=session.ref))

    assert len(waiting.entries) == 1 and waiting.free == 1 and waiting.entries[0].fits
